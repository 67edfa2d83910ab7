// NativeTensor: the JS object that owns a torch::Tensor, plus the argument helpers every op uses.
#include "common.h"

#include <cmath>
#include <cstring>

namespace ccp {

namespace {
struct AddonData {
  Napi::FunctionReference ctor;
};

// Marks our tensor objects so an argument check is one tag comparison, not a prototype-chain walk (InstanceOf).
constexpr napi_type_tag kTensorTag = {0x6363702d646d6c21ULL, 0x74656e736f722121ULL};

// The tensor a Wrap() call hands to the constructor it is running: passing it through this slot instead of a
// heap-allocated holder inside a JS External saves two allocations per op result. All ops run on the JS thread.
torch::Tensor* pendingTensor = nullptr;

int64_t TensorBytes(const torch::Tensor& t) {
  if (!t.defined()) return 0;
  return static_cast<int64_t>(t.numel()) * static_cast<int64_t>(t.element_size());
}
}  // namespace

std::string CleanTorchMessage(const char* what) {
  std::string s(what);
  // libtorch appends "Exception raised from ..." and C++ frames; keep the first meaningful lines.
  auto pos = s.find("\nException raised from");
  if (pos != std::string::npos) s = s.substr(0, pos);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

Napi::Function NativeTensor::Init(Napi::Env env) {
  Napi::Function fn = DefineClass(
      env, "NativeTensor",
      {
          InstanceMethod("shape", &NativeTensor::Shape),
          InstanceMethod("dtype", &NativeTensor::DType),
          InstanceMethod("device", &NativeTensor::Device),
          InstanceMethod("numel", &NativeTensor::Numel),
          InstanceMethod("nbytes", &NativeTensor::NBytes),
          InstanceMethod("toTypedArray", &NativeTensor::ToTypedArray),
          InstanceMethod("item", &NativeTensor::Item),
          InstanceMethod("dispose", &NativeTensor::Dispose),
          InstanceMethod("accountMemory", &NativeTensor::AccountMemory),
          InstanceMethod("isDisposed", &NativeTensor::IsDisposed),
          InstanceMethod("requiresGrad", &NativeTensor::RequiresGrad),
          InstanceMethod("setRequiresGrad", &NativeTensor::SetRequiresGrad),
          InstanceMethod("grad", &NativeTensor::Grad),
          InstanceMethod("setGrad", &NativeTensor::SetGrad),
          InstanceMethod("isLeaf", &NativeTensor::IsLeaf),
          InstanceMethod("gradFnName", &NativeTensor::GradFnName),
      });
  auto* data = new AddonData();
  data->ctor = Napi::Persistent(fn);
  env.SetInstanceData<AddonData>(data);
  return fn;
}

Napi::Object NativeTensor::Wrap(Napi::Env env, torch::Tensor t) {
  pendingTensor = &t;
  struct Clear {
    ~Clear() { pendingTensor = nullptr; }
  } clear;
  return env.GetInstanceData<AddonData>()->ctor.New({});
}

bool NativeTensor::IsInstance(Napi::Value v) {
  if (!v.IsObject()) return false;
  bool tagged = false;
  return napi_check_object_type_tag(v.Env(), v, &kTensorTag, &tagged) == napi_ok && tagged;
}

NativeTensor::NativeTensor(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeTensor>(info) {
  if (!pendingTensor) throw Napi::TypeError::New(info.Env(), "NativeTensor cannot be constructed from JS; use the engine's factories");
  tensor_ = std::move(*pendingTensor);
  pendingTensor = nullptr;
  napi_type_tag_object(info.Env(), info.This(), &kTensorTag);
  // V8 is told about the memory only when the JS side asks (accountMemory): for tensors outside any tidy scope,
  // which only a GC can free. Scoped tensors are freed deterministically; reporting them made V8 run a full GC
  // for every few hundred MB of activations (16 per BN-Inception forward), which cost 10-20% of the step.
}

Napi::Value NativeTensor::AccountMemory(const Napi::CallbackInfo& info) {
  // Each storage counted once: views (reshape, transpose, detach, grad handles...) share their base's storage
  // and add nothing, so V8 does not run needless full GCs.
  if (accounted_ == 0 && tensor_.defined() && tensor_.has_storage() && tensor_.storage().use_count() == 1) {
    accounted_ = static_cast<int64_t>(tensor_.storage().nbytes());
    if (accounted_ > 0) Napi::MemoryManagement::AdjustExternalMemory(info.Env(), accounted_);
  }
  return info.Env().Undefined();
}

NativeTensor::~NativeTensor() {
  // Finalizer backstop: the tensor is freed when the JS object is collected.
  tensor_ = torch::Tensor();
  if (accounted_ > 0) Napi::MemoryManagement::AdjustExternalMemory(Env(), -accounted_);
  accounted_ = 0;
}

void NativeTensor::Release(Napi::Env env) {
  tensor_ = torch::Tensor();
  if (accounted_ > 0) Napi::MemoryManagement::AdjustExternalMemory(env, -accounted_);
  accounted_ = 0;
}

torch::Tensor& NativeTensor::tensor(Napi::Env env) {
  if (!tensor_.defined()) throw ArgError("tensor was already disposed");
  return tensor_;
}

Napi::Value NativeTensor::Shape(const Napi::CallbackInfo& info) {
  return Guard(info, "shape", [&]() -> Napi::Value {
    auto& t = tensor(info.Env());
    auto arr = Napi::Array::New(info.Env(), t.dim());
    for (int64_t i = 0; i < t.dim(); ++i) arr.Set(static_cast<uint32_t>(i), Napi::Number::New(info.Env(), static_cast<double>(t.size(i))));
    return arr;
  });
}

Napi::Value NativeTensor::DType(const Napi::CallbackInfo& info) {
  return Guard(info, "dtype", [&]() -> Napi::Value { return Napi::String::New(info.Env(), DTypeName(tensor(info.Env()).scalar_type())); });
}

Napi::Value NativeTensor::Device(const Napi::CallbackInfo& info) {
  return Guard(info, "device", [&]() -> Napi::Value { return Napi::String::New(info.Env(), tensor(info.Env()).device().str()); });
}

Napi::Value NativeTensor::Numel(const Napi::CallbackInfo& info) {
  return Guard(info, "numel", [&]() -> Napi::Value { return Napi::Number::New(info.Env(), static_cast<double>(tensor(info.Env()).numel())); });
}

Napi::Value NativeTensor::NBytes(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(TensorBytes(tensor_)));
}

// toTypedArray(targetDtype?) copies the data out (contiguous, on CPU) into a fresh typed array.
Napi::Value NativeTensor::ToTypedArray(const Napi::CallbackInfo& info) {
  return Guard(info, "toTypedArray", [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    torch::Tensor t = tensor(env).detach();
    if (info.Length() > 0 && info[0].IsString()) t = t.to(ParseDType(info[0].As<Napi::String>().Utf8Value()));
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
  });
}

Napi::Value NativeTensor::Item(const Napi::CallbackInfo& info) {
  return Guard(info, "item", [&]() -> Napi::Value {
    auto& t = tensor(info.Env());
    if (t.numel() != 1) throw ArgError("item() needs a tensor with exactly one element, got shape " + c10::str(t.sizes()));
    if (t.scalar_type() == torch::kBool) return Napi::Boolean::New(info.Env(), t.item<bool>());
    return Napi::Number::New(info.Env(), t.item<double>());
  });
}

Napi::Value NativeTensor::Dispose(const Napi::CallbackInfo& info) {
  Release(info.Env());
  return info.Env().Undefined();
}

Napi::Value NativeTensor::IsDisposed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), !tensor_.defined());
}

Napi::Value NativeTensor::RequiresGrad(const Napi::CallbackInfo& info) {
  return Guard(info, "requiresGrad", [&]() -> Napi::Value { return Napi::Boolean::New(info.Env(), tensor(info.Env()).requires_grad()); });
}

Napi::Value NativeTensor::SetRequiresGrad(const Napi::CallbackInfo& info) {
  return Guard(info, "setRequiresGrad", [&]() -> Napi::Value {
    tensor(info.Env()).requires_grad_(ArgBool(info, 0, "flag", true));
    return info.Env().Undefined();
  });
}

Napi::Value NativeTensor::Grad(const Napi::CallbackInfo& info) {
  return Guard(info, "grad", [&]() -> Napi::Value {
    const auto& g = tensor(info.Env()).grad();
    if (!g.defined()) return info.Env().Null();
    return Wrap(info.Env(), g);
  });
}

Napi::Value NativeTensor::SetGrad(const Napi::CallbackInfo& info) {
  return Guard(info, "setGrad", [&]() -> Napi::Value {
    auto& t = tensor(info.Env());
    auto g = ArgOptTensor(info, 0, "grad");
    t.mutable_grad() = g ? *g : torch::Tensor();
    return info.Env().Undefined();
  });
}

Napi::Value NativeTensor::IsLeaf(const Napi::CallbackInfo& info) {
  return Guard(info, "isLeaf", [&]() -> Napi::Value { return Napi::Boolean::New(info.Env(), tensor(info.Env()).is_leaf()); });
}

Napi::Value NativeTensor::GradFnName(const Napi::CallbackInfo& info) {
  return Guard(info, "gradFnName", [&]() -> Napi::Value {
    const auto& fn = tensor(info.Env()).grad_fn();
    if (!fn) return info.Env().Null();
    return Napi::String::New(info.Env(), fn->name());
  });
}

// ---- argument helpers -------------------------------------------------------------------------------

static std::string ArgLabel(size_t i, const char* name) { return std::string("argument '") + name + "'"; }

torch::Tensor& ArgTensor(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (i >= info.Length() || !NativeTensor::IsInstance(info[i])) throw ArgError(ArgLabel(i, name) + " must be a Tensor");
  auto* w = NativeTensor::Unwrap(info[i].As<Napi::Object>());
  if (w->disposed()) throw ArgError(ArgLabel(i, name) + " is a disposed tensor");
  return w->tensor(info.Env());
}

std::optional<torch::Tensor> ArgOptTensor(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (i >= info.Length() || info[i].IsNull() || info[i].IsUndefined()) return std::nullopt;
  return ArgTensor(info, i, name);
}

torch::Tensor ArgTensorOrScalar(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (i < info.Length() && info[i].IsNumber()) {
    // An integral JS number is an integer scalar (int64 tensor + 1 stays int64, as in Python); others are
    // doubles. Either way a wrapped number never promotes a float tensor's dtype.
    const double d = info[i].As<Napi::Number>().DoubleValue();
    const bool integral = std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < 9007199254740992.0;
    auto t = integral ? c10::scalar_to_tensor(at::Scalar(static_cast<int64_t>(d))) : c10::scalar_to_tensor(at::Scalar(d));
    t.unsafeGetTensorImpl()->set_wrapped_number(true);
    return t;
  }
  if (i < info.Length() && info[i].IsBoolean()) {
    auto t = c10::scalar_to_tensor(at::Scalar(info[i].As<Napi::Boolean>().Value()));
    t.unsafeGetTensorImpl()->set_wrapped_number(true);
    return t;
  }
  if (i >= info.Length() || !NativeTensor::IsInstance(info[i])) throw ArgError(ArgLabel(i, name) + " must be a Tensor or a number");
  return ArgTensor(info, i, name);
}

std::vector<torch::Tensor> ArgTensorList(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (i >= info.Length() || !info[i].IsArray()) throw ArgError(ArgLabel(i, name) + " must be an array of Tensors");
  auto arr = info[i].As<Napi::Array>();
  std::vector<torch::Tensor> out;
  out.reserve(arr.Length());
  for (uint32_t k = 0; k < arr.Length(); ++k) {
    Napi::Value v = arr.Get(k);
    if (!NativeTensor::IsInstance(v)) throw ArgError(ArgLabel(i, name) + "[" + std::to_string(k) + "] must be a Tensor");
    auto* w = NativeTensor::Unwrap(v.As<Napi::Object>());
    if (w->disposed()) throw ArgError(ArgLabel(i, name) + "[" + std::to_string(k) + "] is a disposed tensor");
    out.push_back(w->tensor(info.Env()));
  }
  return out;
}

double ArgNumber(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (i >= info.Length() || !info[i].IsNumber()) throw ArgError(ArgLabel(i, name) + " must be a number");
  return info[i].As<Napi::Number>().DoubleValue();
}

std::optional<double> ArgOptNumber(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (i >= info.Length() || info[i].IsNull() || info[i].IsUndefined()) return std::nullopt;
  return ArgNumber(info, i, name);
}

int64_t ArgInt(const Napi::CallbackInfo& info, size_t i, const char* name) {
  double d = ArgNumber(info, i, name);
  if (d != static_cast<double>(static_cast<int64_t>(d))) throw ArgError(ArgLabel(i, name) + " must be an integer, got " + std::to_string(d));
  return static_cast<int64_t>(d);
}

bool ArgBool(const Napi::CallbackInfo& info, size_t i, const char* name, bool dflt) {
  if (i >= info.Length() || info[i].IsUndefined() || info[i].IsNull()) return dflt;
  if (!info[i].IsBoolean()) throw ArgError(ArgLabel(i, name) + " must be a boolean");
  return info[i].As<Napi::Boolean>().Value();
}

std::vector<int64_t> ArgIntList(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (i < info.Length() && info[i].IsNumber()) return {ArgInt(info, i, name)};
  if (i >= info.Length() || !info[i].IsArray()) throw ArgError(ArgLabel(i, name) + " must be an array of integers");
  auto arr = info[i].As<Napi::Array>();
  std::vector<int64_t> out;
  for (uint32_t k = 0; k < arr.Length(); ++k) {
    Napi::Value v = arr.Get(k);
    if (!v.IsNumber()) throw ArgError(ArgLabel(i, name) + "[" + std::to_string(k) + "] must be an integer");
    double d = v.As<Napi::Number>().DoubleValue();
    if (d != static_cast<double>(static_cast<int64_t>(d))) throw ArgError(ArgLabel(i, name) + "[" + std::to_string(k) + "] must be an integer");
    out.push_back(static_cast<int64_t>(d));
  }
  return out;
}

std::optional<std::vector<int64_t>> ArgOptIntList(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (i >= info.Length() || info[i].IsNull() || info[i].IsUndefined()) return std::nullopt;
  return ArgIntList(info, i, name);
}

std::string ArgString(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (i >= info.Length() || !info[i].IsString()) throw ArgError(ArgLabel(i, name) + " must be a string");
  return info[i].As<Napi::String>().Utf8Value();
}

c10::ScalarType ParseDType(const std::string& s) {
  if (s == "float32") return torch::kFloat32;
  if (s == "float64") return torch::kFloat64;
  if (s == "float16") return torch::kFloat16;
  if (s == "bfloat16") return torch::kBFloat16;
  if (s == "int64") return torch::kInt64;
  if (s == "int32") return torch::kInt32;
  if (s == "int16") return torch::kInt16;
  if (s == "int8") return torch::kInt8;
  if (s == "uint8") return torch::kUInt8;
  if (s == "bool") return torch::kBool;
  throw ArgError("unknown dtype '" + s + "' (expected float32, float64, float16, bfloat16, int64, int32, int16, int8, uint8 or bool)");
}

std::string DTypeName(c10::ScalarType t) {
  switch (t) {
    case torch::kFloat32: return "float32";
    case torch::kFloat64: return "float64";
    case torch::kFloat16: return "float16";
    case torch::kBFloat16: return "bfloat16";
    case torch::kInt64: return "int64";
    case torch::kInt32: return "int32";
    case torch::kInt16: return "int16";
    case torch::kInt8: return "int8";
    case torch::kUInt8: return "uint8";
    case torch::kBool: return "bool";
    default: return c10::toString(t);
  }
}

torch::TensorOptions ArgOptions(const Napi::CallbackInfo& info, size_t dtypeIdx, size_t deviceIdx) {
  torch::TensorOptions o;
  if (dtypeIdx < info.Length() && info[dtypeIdx].IsString()) o = o.dtype(ParseDType(info[dtypeIdx].As<Napi::String>().Utf8Value()));
  else o = o.dtype(torch::kFloat32);
  if (deviceIdx < info.Length() && info[deviceIdx].IsString()) o = o.device(torch::Device(info[deviceIdx].As<Napi::String>().Utf8Value()));
  return o;
}

Napi::Value WrapList(Napi::Env env, const std::vector<torch::Tensor>& ts) {
  auto arr = Napi::Array::New(env, ts.size());
  for (size_t i = 0; i < ts.size(); ++i) arr.Set(static_cast<uint32_t>(i), NativeTensor::Wrap(env, ts[i]));
  return arr;
}

}  // namespace ccp
