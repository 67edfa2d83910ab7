// Gradient all-reduce overlapped with backward (what DDP's Reducer does with its autograd hooks): a post-hook
// on each parameter's gradient accumulator copies the gradient into its bucket's flat buffer as soon as
// backward produced it, and a bucket whose gradients are all there is all-reduced on Gloo's threads at once,
// while backward goes on with the layers below. Buckets start strictly in their planned order (collectives
// are matched by start order on every rank); a bucket waiting for a gradient holds back the later ones.
// finish() (after backward) starts what is left, with zeros for the gradients backward did not produce, waits
// for every bucket, divides by the world size and hands the flat buffers to JS.
//
// Engine-level only: the bucket plan (which parameters, in which order) and what the buffers mean (the
// per-parameter presence flags after the values, the gradients as views of the buffers) are src/distributed's.
// Layout of a bucket's buffer: the parameters' values in plan order, then one flag per parameter (1: it had a
// gradient on this rank).
#include "distributed_handles.h"

#include <memory>
#include <mutex>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/utils/lambda_post_hook.h>
#include <torch/csrc/autograd/variable.h>

namespace ccp {

namespace {

struct Bucket {
  std::vector<size_t> params;    // indices into GradBuckets::params, in layout order
  std::vector<int64_t> offsets;  // where each parameter's values start in the buffer
  int64_t numel = 0;             // values (without the flags)
  size_t pending = 0;            // parameters whose gradient has not arrived this step
  torch::Tensor buffer;          // this step's buffer (allocated on the first gradient)
  c10::intrusive_ptr<c10d::Work> work;
};

struct GradBuckets {
  c10::intrusive_ptr<CollectiveGroup> group;
  std::chrono::milliseconds timeout;
  std::vector<torch::Tensor> params;
  std::vector<std::pair<size_t, size_t>> slot;  // parameter -> (bucket, position in it)
  std::vector<bool> arrived;                    // per parameter, this step
  std::vector<Bucket> buckets;
  size_t next = 0;           // the next bucket to start
  int64_t duringBackward = 0;  // buckets started by a hook this step
  std::mutex mutex;          // hooks of CUDA parameters run on the device's autograd thread
  std::vector<std::pair<NodePtr, uintptr_t>> hooks;

  ~GradBuckets() {
    for (auto& [node, key] : hooks) node->del_post_hook(key);
  }
};

const napi_type_tag kBucketsTag = {0x6f2d9a417c3e8b05ULL, 0xb1e47c0a95d26f83ULL};

torch::Tensor& BufferOf(Bucket& b, const torch::Tensor& like) {
  if (!b.buffer.defined()) b.buffer = torch::zeros({b.numel + static_cast<int64_t>(b.params.size())}, like.options());
  return b.buffer;
}

// Copies parameter i's gradient (if it has one) into its bucket and sets its flag.
void Take(GradBuckets& s, size_t i) {
  auto [bi, k] = s.slot[i];
  Bucket& b = s.buckets[bi];
  const torch::Tensor& p = s.params[i];
  torch::Tensor& buf = BufferOf(b, p);
  torch::NoGradGuard noGrad;
  const torch::Tensor g = p.grad();
  if (!g.defined()) return;
  buf.narrow(0, b.offsets[k], p.numel()).copy_(g.reshape({-1}));
  buf[b.numel + static_cast<int64_t>(k)].fill_(1);
}

void Start(GradBuckets& s, Bucket& b) {
  std::vector<torch::Tensor> ts{b.buffer};
  b.work = s.group->allreduce(ts, c10d::AllreduceOptions{c10d::ReduceOp::SUM, s.timeout});
}

// Starts, in order, every bucket whose gradients have all arrived.
void StartReady(GradBuckets& s) {
  while (s.next < s.buckets.size() && s.buckets[s.next].pending == 0) {
    Start(s, s.buckets[s.next++]);
    s.duringBackward++;
  }
}

void OnGradient(GradBuckets& s, size_t i) {
  std::lock_guard<std::mutex> lock(s.mutex);
  if (s.arrived[i]) {
    throw std::runtime_error("the gradient of parameter " + std::to_string(i) +
                             " was produced twice before the gradients were reduced (two backward passes per step need "
                             "the reducer without overlap)");
  }
  s.arrived[i] = true;
  Take(s, i);
  s.buckets[s.slot[i].first].pending--;
  StartReady(s);
}

void AddHook(const std::shared_ptr<GradBuckets>& s, size_t i) {
  const torch::Tensor& p = s->params[i];
  if (!p.requires_grad() || !p.is_leaf()) throw ArgError("parameter " + std::to_string(i) + " is not a leaf that requires grad");
  auto acc = torch::autograd::impl::grad_accumulator(p);
  std::weak_ptr<GradBuckets> weak = s;
  auto hook = std::make_unique<torch::autograd::utils::LambdaPostHook>(
      [weak, i](const torch::autograd::variable_list& outputs, const torch::autograd::variable_list&) {
        if (auto live = weak.lock()) OnGradient(*live, i);
        return outputs;
      });
  s->hooks.emplace_back(acc, acc->add_post_hook(std::move(hook)));
}

// The plan: buckets[b] = the parameter indices of bucket b in layout order; every parameter in one bucket.
void ReadPlan(GradBuckets& s, Napi::Value value) {
  if (!value.IsArray()) throw ArgError("argument 'buckets' must be an array of arrays of parameter indices");
  auto plan = value.As<Napi::Array>();
  s.slot.assign(s.params.size(), {SIZE_MAX, 0});
  s.buckets.resize(plan.Length());
  for (uint32_t bi = 0; bi < plan.Length(); bi++) {
    Napi::Value list = plan.Get(bi);
    if (!list.IsArray()) throw ArgError("buckets[" + std::to_string(bi) + "] must be an array of parameter indices");
    auto idx = list.As<Napi::Array>();
    Bucket& b = s.buckets[bi];
    for (uint32_t k = 0; k < idx.Length(); k++) {
      Napi::Value v = idx.Get(k);
      int64_t i = v.IsNumber() ? v.As<Napi::Number>().Int64Value() : -1;
      if (i < 0 || i >= static_cast<int64_t>(s.params.size()) || s.slot[i].first != SIZE_MAX)
        throw ArgError("buckets[" + std::to_string(bi) + "][" + std::to_string(k) + "] is not a parameter index, or repeats one");
      if (!b.params.empty() && s.params[i].scalar_type() != s.params[b.params[0]].scalar_type())
        throw ArgError("bucket " + std::to_string(bi) + " mixes dtypes");
      s.slot[i] = {bi, b.params.size()};
      b.params.push_back(static_cast<size_t>(i));
      b.offsets.push_back(b.numel);
      b.numel += s.params[i].numel();
    }
    if (b.params.empty()) throw ArgError("bucket " + std::to_string(bi) + " is empty");
  }
  for (size_t i = 0; i < s.params.size(); i++)
    if (s.slot[i].first == SIZE_MAX) throw ArgError("parameter " + std::to_string(i) + " is in no bucket");
}

void ResetStep(GradBuckets& s) {
  s.arrived.assign(s.params.size(), false);
  for (auto& b : s.buckets) {
    b.pending = b.params.size();
    b.buffer = torch::Tensor();
    b.work.reset();
  }
  s.next = 0;
  s.duringBackward = 0;
}

// After backward: starts the buckets still waiting (their missing gradients as zeros, flag 0), waits for all,
// divides by the world size. Returns the buffers; the next step starts afresh (also after a failure).
std::vector<torch::Tensor> Finish(GradBuckets& s) {
  std::lock_guard<std::mutex> lock(s.mutex);
  std::vector<torch::Tensor> out;
  try {
    for (; s.next < s.buckets.size(); s.next++) {
      Bucket& b = s.buckets[s.next];
      for (size_t k = 0; k < b.params.size(); k++)
        if (!s.arrived[b.params[k]]) Take(s, b.params[k]);
      BufferOf(b, s.params[b.params[0]]);
      Start(s, b);
    }
    for (auto& b : s.buckets) {
      b.work->wait(s.timeout);
      b.buffer.div_(s.group->getSize());
      out.push_back(b.buffer);
    }
  } catch (...) {
    ResetStep(s);
    throw;
  }
  ResetStep(s);
  return out;
}

struct BucketsHandle {
  std::shared_ptr<GradBuckets> state;
};

BucketsHandle& ArgBuckets(Info info, size_t i) {
  auto* h = ArgHandle<BucketsHandle>(info, i, kBucketsTag, "buckets");
  if (!h->state) throw ArgError("the gradient buckets were detached");
  return *h;
}

}  // namespace

void InitGradBuckets(Napi::Env env, Napi::Object exports) {
  // distGradBucketsAttach(group, params, buckets, timeoutMs) -> handle: hooks every parameter's gradient
  // accumulator; from the next backward on, full buckets are all-reduced while backward runs.
  DEF("distGradBucketsAttach", auto s = std::make_shared<GradBuckets>(); s->group = ArgGroup(info, 0).group;
      s->params = ArgTensorList(info, 1, "params"); ReadPlan(*s, info.Length() > 2 ? info[2] : info.Env().Undefined());
      s->timeout = ArgTimeout(info, 3); ResetStep(*s);
      for (size_t i = 0; i < s->params.size(); i++) AddHook(s, i);
      return MakeHandle(info.Env(), new BucketsHandle{s}, kBucketsTag););

  // distGradBucketsFinish(handle) -> { buffers, startedDuringBackward }: the averaged buffers of this step.
  DEF("distGradBucketsFinish", auto& h = ArgBuckets(info, 0); int64_t early = h.state->duringBackward;
      auto buffers = Finish(*h.state); auto result = Napi::Object::New(info.Env());
      result.Set("buffers", WrapList(info.Env(), buffers));
      result.Set("startedDuringBackward", Napi::Number::New(info.Env(), static_cast<double>(early))); return result;);

  // distGradBucketsDetach(handle): removes the hooks (a later backward no longer starts collectives).
  DEF("distGradBucketsDetach", auto* h = ArgHandle<BucketsHandle>(info, 0, kBucketsTag, "buckets");
      h->state.reset(); return info.Env().Undefined(););
}

}  // namespace ccp
