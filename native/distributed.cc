// torch.distributed (c10d) for data-parallel training: rendezvous stores (TCPStore, FileStore), process groups
// (Gloo on CPU; NCCL where the libtorch found at build time has CUDA) and the collectives with timeouts.
// A thin binding: no protocol of our own, the DML logic (variable batch sizes, the differentiable all-gather,
// error wording) lives in src/distributed/.
//
// First version: every collective blocks the JS thread until it completes or its timeout passes
// (work->wait(timeout)). Gloo runs the transfer on its own threads; overlapping it with backward comes with the
// bucketed gradient all-reduce.
//
// Every libtorch / Gloo failure (bad address, port in use, timeout, a peer that closed its connection) is a
// c10::Error or std::exception and reaches JS as an exception through Guard, never as an abort.
#include "common.h"
#include "torch_compat.h"

// Debian's libtorch is built with Gloo but its headers only compile with USE_C10D_GLOO and the Gloo headers
// (Debian: libgloo-dev; pip / LibTorch zips bundle them). Without them the group constructor says what to install.
#if !defined(USE_C10D_GLOO) && __has_include(<gloo/algorithm.h>)
#define USE_C10D_GLOO 1
#endif

#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef USE_C10D_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
static_assert(std::is_base_of_v<ccp::CollectiveGroup, c10d::ProcessGroupGloo>, "torch_compat.h: CollectiveGroup is not Gloo's base in this libtorch");
#endif
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
static_assert(std::is_base_of_v<ccp::CollectiveGroup, c10d::ProcessGroupNCCL>, "torch_compat.h: CollectiveGroup is not NCCL's base in this libtorch");
#endif

#include <chrono>

#include "distributed_handles.h"

namespace ccp {

namespace {

// An all-reduce started and not yet waited for: the Gloo work, the tensor it writes and what to do after.
struct WorkHandle {
  c10::intrusive_ptr<c10d::Work> work;
  torch::Tensor target;  // the caller's tensor
  torch::Tensor buffer;  // what Gloo reduces: target itself, or its contiguous copy
  int64_t divisor;       // world size for 'avg', else 1
  std::chrono::milliseconds timeout;
};

const napi_type_tag kWorkTag = {0x51d0c8a2e7f34b19ULL, 0x8c26f1b0d94e7a53ULL};
const napi_type_tag kStoreTag = {0x7a1c55e0b8d04f21ULL, 0x9e3f0c2d4b6a1187ULL};

c10d::ReduceOp ParseReduceOp(const std::string& op) {
  if (op == "sum" || op == "avg") return c10d::ReduceOp::SUM;  // avg = sum, then divide (Gloo has no AVG)
  if (op == "max") return c10d::ReduceOp::MAX;
  if (op == "min") return c10d::ReduceOp::MIN;
  if (op == "product") return c10d::ReduceOp::PRODUCT;
  throw ArgError("op must be 'sum', 'avg', 'max', 'min' or 'product', got '" + op + "'");
}

// Collectives need dense contiguous tensors; a strided view is reduced through a contiguous copy.
torch::Tensor Contiguous(const torch::Tensor& t) { return t.is_contiguous() ? t : t.contiguous(); }

void Wait(const c10::intrusive_ptr<c10d::Work>& work, std::chrono::milliseconds timeout) {
  work->wait(timeout);
}

}  // namespace

void InitDistributed(Napi::Env env, Napi::Object exports) {
  // distBackends(): the process-group backends this build has.
  DEF("distBackends", auto list = Napi::Array::New(info.Env()); uint32_t n = 0;
#ifdef USE_C10D_GLOO
      list.Set(n++, "gloo");
#endif
#ifdef USE_C10D_NCCL
      list.Set(n++, "nccl");
#endif
      (void)n; return list;);

  // distTcpStore(host, port, worldSize, isServer, timeoutMs): the server (rank 0) listens on port; clients
  // retry connecting until timeoutMs. Does not wait for every worker here: the group's rendezvous does.
  DEF("distTcpStore", std::string host = ArgString(info, 0, "host"); int64_t port = ArgInt(info, 1, "port");
      int64_t world = ArgInt(info, 2, "worldSize"); bool isServer = ArgBool(info, 3, "isServer", false);
      if (port < 0 || port > 65535) throw ArgError("port must be in 0..65535, got " + std::to_string(port));
      if (world < 1) throw ArgError("worldSize must be >= 1, got " + std::to_string(world));
      c10d::TCPStoreOptions opts;
      opts.port = static_cast<std::uint16_t>(port); opts.isServer = isServer;
      opts.numWorkers = static_cast<std::size_t>(world); opts.waitWorkers = false; opts.timeout = ArgTimeout(info, 4);
      // libuv's store server where this libtorch has it (its default since 2.4) and USE_LIBUV is not 0, as
      // torch.distributed does; a libtorch built without libuv gets the classic server.
      const char* useLibUV = std::getenv("USE_LIBUV");
      const bool wantLibUV = !(useLibUV && std::string(useLibUV) == "0");
      const bool libuv = SetUseLibUV(opts, wantLibUV) && wantLibUV;
      c10::intrusive_ptr<c10d::TCPStore> store;
      try {
        store = c10::make_intrusive<c10d::TCPStore>(host, opts);
      } catch (const c10::Error& e) {
        if (!libuv || std::string(e.what()).find("libuv") == std::string::npos) throw;
        SetUseLibUV(opts, false);
        store = c10::make_intrusive<c10d::TCPStore>(host, opts);
      }
      return MakeHandle(info.Env(), new StoreHandle{store}, kStoreTag););

  // distTcpStorePort(store): the port a TCPStore listens on (asked for port 0 = any free port).
  DEF("distTcpStorePort", auto* h = ArgHandle<StoreHandle>(info, 0, kStoreTag, "store");
      auto* tcp = dynamic_cast<c10d::TCPStore*>(h->store.get());
      if (!tcp) throw ArgError("store is not a TCPStore");
      return Napi::Number::New(info.Env(), tcp->getPort()););

  // distFileStore(path, worldSize, timeoutMs): rendezvous through a file every rank can open (one machine or a
  // shared file system). The file must not hold a finished rendezvous of an earlier run.
  DEF("distFileStore", std::string path = ArgString(info, 0, "path"); int64_t world = ArgInt(info, 1, "worldSize");
      if (world < 1) throw ArgError("worldSize must be >= 1, got " + std::to_string(world));
      auto store = c10::make_intrusive<c10d::FileStore>(path, static_cast<int>(world));
      store->setTimeout(ArgTimeout(info, 2));
      return MakeHandle(info.Env(), new StoreHandle{store}, kStoreTag););

  // Key-value access (start-up checks such as the config hash; what torch.distributed's store API offers).
  DEF("distStoreSet", auto* h = ArgHandle<StoreHandle>(info, 0, kStoreTag, "store");
      std::string key = ArgString(info, 1, "key"); std::string value = ArgString(info, 2, "value");
      h->store->set(key, std::vector<uint8_t>(value.begin(), value.end())); return info.Env().Undefined(););
  DEF("distStoreGet", auto* h = ArgHandle<StoreHandle>(info, 0, kStoreTag, "store");
      auto value = h->store->get(ArgString(info, 1, "key"));  // waits up to the store's timeout for the key
      return Napi::String::New(info.Env(), std::string(value.begin(), value.end())););
  DEF("distStoreAdd", auto* h = ArgHandle<StoreHandle>(info, 0, kStoreTag, "store");
      return Napi::Number::New(info.Env(), static_cast<double>(h->store->add(ArgString(info, 1, "key"), ArgInt(info, 2, "amount")))););

  // distProcessGroup(store, backend, rank, worldSize, timeoutMs): connects every rank to every other (blocks
  // until all worldSize ranks arrived or timeoutMs passed). timeoutMs also bounds each collective inside Gloo.
  DEF("distProcessGroup", auto* s = ArgHandle<StoreHandle>(info, 0, kStoreTag, "store");
      std::string backend = ArgString(info, 1, "backend"); int64_t rank = ArgInt(info, 2, "rank");
      int64_t world = ArgInt(info, 3, "worldSize"); auto timeout = ArgTimeout(info, 4);
      if (world < 1 || rank < 0 || rank >= world)
        throw ArgError("rank must be in 0.." + std::to_string(world - 1) + ", got " + std::to_string(rank));
      c10::intrusive_ptr<CollectiveGroup> group;
      if (backend == "gloo") {
#ifdef USE_C10D_GLOO
        auto opts = c10d::ProcessGroupGloo::Options::create(timeout);
        // Loopback or the interface named by GLOO_SOCKET_IFNAME, as torch.distributed chooses.
        const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
        opts->devices.push_back(ifname && *ifname ? c10d::ProcessGroupGloo::createDeviceForInterface(ifname)
                                                  : c10d::ProcessGroupGloo::createDefaultDevice());
        s->store->setTimeout(timeout);
        group = c10::make_intrusive<c10d::ProcessGroupGloo>(s->store, static_cast<int>(rank), static_cast<int>(world), opts);
#else
        throw ArgError("this build has no Gloo: install the Gloo headers (Debian: libgloo-dev) and rebuild the addon");
#endif
      } else if (backend == "nccl") {
#ifdef USE_C10D_NCCL
        auto opts = c10d::ProcessGroupNCCL::Options::create();
        opts->timeout = timeout;
        s->store->setTimeout(timeout);
        group = c10::make_intrusive<c10d::ProcessGroupNCCL>(s->store, static_cast<int>(rank), static_cast<int>(world), opts);
#else
        throw ArgError("this build has no NCCL: build the addon against a CUDA libtorch (LIBTORCH) to use backend 'nccl'");
#endif
      } else {
        throw ArgError("backend must be 'gloo' or 'nccl', got '" + backend + "'");
      }
      return MakeHandle(info.Env(), new GroupHandle{s->store, group, backend}, kGroupTag););

  // distAllReduce(group, tensor, op, timeoutMs): in place; 'avg' = sum then divide by the world size.
  DEF("distAllReduce", auto& g = ArgGroup(info, 0); auto t = ArgTensor(info, 1, "tensor").detach();  // data only, no autograd
      std::string op = ArgString(info, 2, "op"); auto reduceOp = ParseReduceOp(op); auto timeout = ArgTimeout(info, 3);
      std::vector<torch::Tensor> ts{Contiguous(t)};
      Wait(g.group->allreduce(ts, c10d::AllreduceOptions{reduceOp, timeout}), timeout);
      if (op == "avg") ts[0].div_(g.group->getSize());
      if (!ts[0].is_same(t)) t.copy_(ts[0]);
      return info.Env().Undefined(););

  // distAllReduceStart(group, tensor, op, timeoutMs) -> work: queues the all-reduce on Gloo's threads and
  // returns at once, so the JS thread goes on (e.g. with backward) while it runs; distWorkWait finishes it.
  // The tensor must not be read or written until then.
  DEF("distAllReduceStart", auto& g = ArgGroup(info, 0); auto t = ArgTensor(info, 1, "tensor").detach();
      std::string op = ArgString(info, 2, "op"); auto reduceOp = ParseReduceOp(op); auto timeout = ArgTimeout(info, 3);
      auto* w = new WorkHandle{c10::intrusive_ptr<c10d::Work>(), t, Contiguous(t), op == "avg" ? g.group->getSize() : 1, timeout};
      std::vector<torch::Tensor> ts{w->buffer};
      try { w->work = g.group->allreduce(ts, c10d::AllreduceOptions{reduceOp, timeout}); } catch (...) { delete w; throw; }
      return MakeHandle(info.Env(), w, kWorkTag););

  // distWorkWait(work): blocks until the started collective finished (or its timeout passed), then applies
  // the avg division and the copy back into a strided target. A second wait does nothing.
  DEF("distWorkWait", auto* w = ArgHandle<WorkHandle>(info, 0, kWorkTag, "work");
      if (!w->work) return info.Env().Undefined();
      auto work = std::move(w->work); w->work.reset();
      Wait(work, w->timeout);
      if (w->divisor != 1) w->buffer.div_(w->divisor);
      if (!w->buffer.is_same(w->target)) w->target.copy_(w->buffer);
      w->buffer = torch::Tensor(); w->target = torch::Tensor();
      return info.Env().Undefined(););

  // distBroadcast(group, tensor, root, timeoutMs): in place, every rank ends with root's values.
  DEF("distBroadcast", auto& g = ArgGroup(info, 0); auto t = ArgTensor(info, 1, "tensor").detach();
      int64_t root = ArgInt(info, 2, "root"); auto timeout = ArgTimeout(info, 3);
      if (root < 0 || root >= g.group->getSize())
        throw ArgError("root must be in 0.." + std::to_string(g.group->getSize() - 1) + ", got " + std::to_string(root));
      std::vector<torch::Tensor> ts{Contiguous(t)};
      c10d::BroadcastOptions opts; opts.rootRank = root; opts.rootTensor = 0; opts.timeout = timeout;
      Wait(g.group->broadcast(ts, opts), timeout);
      if (!ts[0].is_same(t)) t.copy_(ts[0]);
      return info.Env().Undefined(););

  // distAllGather(group, tensor, timeoutMs) -> [tensor of rank 0, ..., rank N-1]; same shape on every rank.
  DEF("distAllGather", auto& g = ArgGroup(info, 0); auto& t = ArgTensor(info, 1, "tensor"); auto timeout = ArgTimeout(info, 2);
      std::vector<torch::Tensor> in{Contiguous(t)};
      std::vector<std::vector<torch::Tensor>> out(1);
      for (int r = 0; r < g.group->getSize(); r++) out[0].push_back(at::empty_like(in[0], at::MemoryFormat::Contiguous));
      Wait(g.group->allgather(out, in, c10d::AllgatherOptions{timeout}), timeout);
      return WrapList(info.Env(), out[0]););

  // distBarrier(group, timeoutMs): returns once every rank called it.
  DEF("distBarrier", auto& g = ArgGroup(info, 0); auto timeout = ArgTimeout(info, 1);
      c10d::BarrierOptions opts; opts.timeout = timeout;
      Wait(g.group->barrier(opts), timeout);
      return info.Env().Undefined(););

  // distDestroy(group): releases the group (Gloo drains its queue and joins its threads) and the store.
  DEF("distDestroy", auto* h = ArgHandle<GroupHandle>(info, 0, kGroupTag, "group");
      h->group.reset(); h->store.reset(); return info.Env().Undefined(););
}

}  // namespace ccp
