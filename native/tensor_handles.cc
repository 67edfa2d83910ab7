// Tensor handles: the table behind the Externals that stand for tensors in JS, and the per-tensor functions
// (shape, dtype, dispose, grad, ...). See NativeTensor in common.h for why handles are not wrapped objects.
#include "common.h"

#include <cmath>
#include <cstring>
#include <deque>

namespace ccp {

namespace {

struct Slot {
  torch::Tensor tensor;
  uint32_t idx = 0;
  uint32_t gen = 0;
  bool live = false;
  bool adopted = false;     // a GC finalizer is attached
  int64_t accounted = 0;    // bytes reported to V8 as external memory
};

// A deque: growing it never moves existing slots, so a torch::Tensor& from ArgTensor stays valid while an op
// wraps its results. Only the JS thread touches the table.
std::deque<Slot> g_slots;
std::vector<uint32_t> g_free;

// 64-bit pointer value: generation in the high half, slot index + 1 (never 0) in the low half.
static_assert(sizeof(void*) == 8, "tensor handles pack a slot and a generation into a 64-bit pointer value");
void* Encode(uint32_t idx, uint32_t gen) { return reinterpret_cast<void*>((static_cast<uintptr_t>(gen) << 32) | (static_cast<uintptr_t>(idx) + 1)); }

Slot* Decode(void* p) {
  const auto v = reinterpret_cast<uintptr_t>(p);
  const uint64_t low = v & 0xffffffffu;
  if (low == 0 || low > g_slots.size()) return nullptr;
  Slot& s = g_slots[low - 1];
  return s.live && s.gen == static_cast<uint32_t>(v >> 32) ? &s : nullptr;
}

Slot* SlotOf(Napi::Value v) {
  if (!v.IsExternal()) return nullptr;
  return Decode(v.As<Napi::External<void>>().Data());
}

void Release(Napi::Env env, Slot& s) {
  s.tensor = torch::Tensor();
  if (s.accounted > 0) Napi::MemoryManagement::AdjustExternalMemory(env, -s.accounted);
  s.accounted = 0;
  s.live = false;
  s.adopted = false;
  ++s.gen;  // stale handles and finalizers no longer match
  g_free.push_back(s.idx);
}

// The GC backstop of an adopted handle: frees the tensor unless it was disposed (and the slot reused) before.
void Finalize(napi_env env, void* data, void* /*hint*/) {
  if (Slot* s = Decode(data)) Release(Napi::Env(env), *s);
}

Slot& Live(Info info) {
  Slot* s = SlotOf(info[0]);
  if (!s) throw ArgError(NativeTensor::IsInstance(info[0]) ? "tensor was already disposed" : "argument 'x' must be a Tensor");
  return *s;
}

int64_t TensorBytes(const torch::Tensor& t) { return t.defined() ? static_cast<int64_t>(t.numel()) * static_cast<int64_t>(t.element_size()) : 0; }

Napi::Value ToTypedArray(Info info, const torch::Tensor& src) {
  Napi::Env env = info.Env();
  torch::Tensor t = src.detach();
  if (info.Length() > 1 && info[1].IsString()) t = t.to(ParseDType(info[1].As<Napi::String>().Utf8Value()));
  t = t.to(torch::kCPU).contiguous();
  const size_t n = static_cast<size_t>(t.numel());
  const size_t bytes = n * t.element_size();
  auto buf = Napi::ArrayBuffer::New(env, bytes);
  if (bytes > 0) std::memcpy(buf.Data(), t.data_ptr(), bytes);
  switch (t.scalar_type()) {
    case torch::kFloat32: return Napi::Float32Array::New(env, n, buf, 0);
    case torch::kFloat64: return Napi::Float64Array::New(env, n, buf, 0);
    case torch::kInt64: return Napi::BigInt64Array::New(env, n, buf, 0);
    case torch::kInt32: return Napi::Int32Array::New(env, n, buf, 0);
    case torch::kInt16: return Napi::Int16Array::New(env, n, buf, 0);
    case torch::kInt8: return Napi::Int8Array::New(env, n, buf, 0);
    case torch::kUInt8:
    case torch::kBool: return Napi::Uint8Array::New(env, n, buf, 0);
    default: throw ArgError("cannot export dtype " + DTypeName(t.scalar_type()) + " to a typed array");
  }
}

Napi::Value Item(Info info, const torch::Tensor& t) {
  if (t.numel() != 1) throw ArgError("item() needs a tensor with exactly one element, got shape " + c10::str(t.sizes()));
  if (t.scalar_type() == torch::kBool) return Napi::Boolean::New(info.Env(), t.item<bool>());
  return Napi::Number::New(info.Env(), t.item<double>());
}

Napi::Value Shape(Info info, const torch::Tensor& t) {
  auto arr = Napi::Array::New(info.Env(), t.dim());
  for (int64_t i = 0; i < t.dim(); ++i) arr.Set(static_cast<uint32_t>(i), Napi::Number::New(info.Env(), static_cast<double>(t.size(i))));
  return arr;
}

// adopt: from now on only a GC frees this tensor (created outside any tidy scope, kept, or returned by the
// outermost tidy): attach the finalizer and report the storage to V8, once per storage (views add nothing).
Napi::Value Adopt(Info info, Slot& s) {
  if (s.adopted) return info.Env().Undefined();
  napi_status st = napi_add_finalizer(info.Env(), info[0], Encode(s.idx, s.gen), Finalize, nullptr, nullptr);
  if (st != napi_ok) throw ArgError("could not attach the tensor's finalizer");
  s.adopted = true;
  const auto& t = s.tensor;
  if (t.has_storage() && t.storage().use_count() == 1) {
    s.accounted = static_cast<int64_t>(t.storage().nbytes());
    if (s.accounted > 0) Napi::MemoryManagement::AdjustExternalMemory(info.Env(), s.accounted);
  }
  return info.Env().Undefined();
}

}  // namespace

Napi::Value NativeTensor::Wrap(Napi::Env env, torch::Tensor t) {
  uint32_t idx;
  if (!g_free.empty()) {
    idx = g_free.back();
    g_free.pop_back();
  } else {
    idx = static_cast<uint32_t>(g_slots.size());
    g_slots.emplace_back().idx = idx;
  }
  Slot& s = g_slots[idx];
  s.tensor = std::move(t);
  s.live = true;
  return Napi::External<void>::New(env, Encode(idx, s.gen));
}

bool NativeTensor::IsInstance(Napi::Value v) { return v.IsExternal(); }

torch::Tensor* NativeTensor::Lookup(Napi::Value v) {
  Slot* s = SlotOf(v);
  return s ? &s->tensor : nullptr;
}

// js: the export's name; label: the method name errors begin with (what the user called, e.g. "item: ...").
#define TENSOR_FN(js, label, ...)                                                                              \
  exports.Set(js, Napi::Function::New(                                                                          \
                      env,                                                                                      \
                      [](Info info) -> Napi::Value {                                                            \
                        return Guard(info, label, [&]() -> Napi::Value {                                        \
                          Slot& s = Live(info);                                                                 \
                          const torch::Tensor& t = s.tensor;                                                    \
                          (void)t;                                                                              \
                          __VA_ARGS__                                                                           \
                        });                                                                                     \
                      },                                                                                        \
                      js))

void NativeTensor::Init(Napi::Env env, Napi::Object exports) {
  // tensorDispose(h) -> true when this call freed the tensor (false: already disposed). Idempotent.
  DEF("tensorDispose", Slot* s = SlotOf(info[0]); if (s) Release(info.Env(), *s); return Napi::Boolean::New(info.Env(), s != nullptr););
  DEF("tensorIsDisposed", if (!NativeTensor::IsInstance(info[0])) throw ArgError("argument 'x' must be a Tensor");
      return Napi::Boolean::New(info.Env(), SlotOf(info[0]) == nullptr););
  TENSOR_FN("tensorAdopt", "adopt", return Adopt(info, s););
  TENSOR_FN("tensorShape", "shape", return Shape(info, t););
  TENSOR_FN("tensorDtype", "dtype", return Napi::String::New(info.Env(), DTypeName(t.scalar_type())););
  TENSOR_FN("tensorDevice", "device", return Napi::String::New(info.Env(), t.device().str()););
  TENSOR_FN("tensorNumel", "numel", return Napi::Number::New(info.Env(), static_cast<double>(t.numel())););
  TENSOR_FN("tensorNbytes", "nbytes", return Napi::Number::New(info.Env(), static_cast<double>(TensorBytes(t))););
  TENSOR_FN("tensorToTypedArray", "toTypedArray", return ToTypedArray(info, t););
  TENSOR_FN("tensorItem", "item", return Item(info, t););
  TENSOR_FN("tensorRequiresGrad", "requiresGrad", return Napi::Boolean::New(info.Env(), t.requires_grad()););
  TENSOR_FN("tensorSetRequiresGrad", "setRequiresGrad", s.tensor.requires_grad_(ArgBool(info, 1, "flag", true)); return info.Env().Undefined(););
  TENSOR_FN("tensorGrad", "grad", const auto& g = t.grad(); return g.defined() ? Wrap(info.Env(), g) : info.Env().Null(););
  TENSOR_FN("tensorSetGrad", "setGrad", auto g = ArgOptTensor(info, 1, "grad"); s.tensor.mutable_grad() = g ? *g : torch::Tensor(); return info.Env().Undefined(););
  TENSOR_FN("tensorIsLeaf", "isLeaf", return Napi::Boolean::New(info.Env(), t.is_leaf()););
  TENSOR_FN("tensorGradFnName", "gradFnName", const auto& fn = t.grad_fn(); return fn ? Napi::Value(Napi::String::New(info.Env(), fn->name())) : info.Env().Null(););
  // Handles not yet freed (disposed or finalized): what a leak test counts.
  DEF("liveTensorHandles", return Napi::Number::New(info.Env(), static_cast<double>(g_slots.size() - g_free.size())););
}

}  // namespace ccp
