// The argument helpers every op uses (tensor handles themselves: tensor_handles.cc).
#include "common.h"

#include <cmath>
#include <cstring>

namespace ccp {

std::string CleanTorchMessage(const char* what) {
  std::string s(what);
  // libtorch appends "Exception raised from ..." and C++ frames; keep the first meaningful lines.
  auto pos = s.find("\nException raised from");
  if (pos != std::string::npos) s = s.substr(0, pos);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// ---- argument helpers -------------------------------------------------------------------------------

static std::string ArgLabel(size_t i, const char* name) { return std::string("argument '") + name + "'"; }

torch::Tensor& ArgTensor(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (i >= info.Length() || !NativeTensor::IsInstance(info[i])) throw ArgError(ArgLabel(i, name) + " must be a Tensor");
  torch::Tensor* t = NativeTensor::Lookup(info[i]);
  if (!t) throw ArgError(ArgLabel(i, name) + " is a disposed tensor");
  return *t;
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
    torch::Tensor* t = NativeTensor::Lookup(v);
    if (!t) throw ArgError(ArgLabel(i, name) + "[" + std::to_string(k) + "] is a disposed tensor");
    out.push_back(*t);
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
