// Shared helpers of the native binding: unwrapping arguments, wrapping results, and turning libtorch
// exceptions into JavaScript errors so that a bad shape never aborts the process.
#pragma once
#include <napi.h>
#include <torch/torch.h>
#include <optional>
#include <string>
#include <vector>

namespace ccp {

// Tensor handles. A tensor reaches JS as an External whose pointer value encodes a slot of a handle table and
// the slot's generation: no JS object with a finalizer per op result (Node-API tracks every such object in a
// hash set and finalizes it through a queue, which cost more than a small op itself). Handles are freed
// explicitly (dispose, tidy scopes); the ones that only a GC can free get a finalizer on request (adopt).
struct NativeTensor {
  static void Init(Napi::Env env, Napi::Object exports);
  // A new handle owning t.
  static Napi::Value Wrap(Napi::Env env, torch::Tensor t);
  // True for a handle value (live or disposed).
  static bool IsInstance(Napi::Value v);
  // The handle's tensor, or nullptr once disposed.
  static torch::Tensor* Lookup(Napi::Value v);
};

// Thrown as a JS TypeError / Error by the wrappers below.
struct ArgError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string CleanTorchMessage(const char* what);

// Argument conversion. `name` appears in error messages.
torch::Tensor& ArgTensor(const Napi::CallbackInfo& info, size_t i, const char* name);
std::optional<torch::Tensor> ArgOptTensor(const Napi::CallbackInfo& info, size_t i, const char* name);
// A tensor, or a JS number/boolean turned into a wrapped-number scalar tensor (PyTorch type promotion).
torch::Tensor ArgTensorOrScalar(const Napi::CallbackInfo& info, size_t i, const char* name);
std::vector<torch::Tensor> ArgTensorList(const Napi::CallbackInfo& info, size_t i, const char* name);
double ArgNumber(const Napi::CallbackInfo& info, size_t i, const char* name);
std::optional<double> ArgOptNumber(const Napi::CallbackInfo& info, size_t i, const char* name);
int64_t ArgInt(const Napi::CallbackInfo& info, size_t i, const char* name);
bool ArgBool(const Napi::CallbackInfo& info, size_t i, const char* name, bool dflt);
std::vector<int64_t> ArgIntList(const Napi::CallbackInfo& info, size_t i, const char* name);
std::optional<std::vector<int64_t>> ArgOptIntList(const Napi::CallbackInfo& info, size_t i, const char* name);
std::string ArgString(const Napi::CallbackInfo& info, size_t i, const char* name);
c10::ScalarType ParseDType(const std::string& s);
std::string DTypeName(c10::ScalarType t);
torch::TensorOptions ArgOptions(const Napi::CallbackInfo& info, size_t dtypeIdx, size_t deviceIdx);

Napi::Value WrapList(Napi::Env env, const std::vector<torch::Tensor>& ts);

// Runs body, converting c10 / argument errors into JS exceptions.
template <typename F>
Napi::Value Guard(const Napi::CallbackInfo& info, const char* opName, F&& body) {
  Napi::Env env = info.Env();
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (const ArgError& e) {
    throw Napi::TypeError::New(env, std::string(opName) + ": " + e.what());
  } catch (const c10::Error& e) {
    throw Napi::Error::New(env, std::string(opName) + ": " + CleanTorchMessage(e.what_without_backtrace()));
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, std::string(opName) + ": " + CleanTorchMessage(e.what()));
  }
}

using Info = const Napi::CallbackInfo&;

#define WRAP(expr) NativeTensor::Wrap(info.Env(), (expr))
#define DEF(js, ...) \
  exports.Set(js, Napi::Function::New(env, [](Info info) -> Napi::Value { return Guard(info, js, [&]() -> Napi::Value { __VA_ARGS__ }); }, js))
#define UNARY(js, expr) DEF(js, auto& x = ArgTensor(info, 0, "x"); return WRAP(expr);)
#define BINARY(js, expr) \
  DEF(js, auto a = ArgTensorOrScalar(info, 0, "a"); auto b = ArgTensorOrScalar(info, 1, "b"); return WRAP(expr);)


void InitOps(Napi::Env env, Napi::Object exports);
void InitNnOps(Napi::Env env, Napi::Object exports);
void InitAutograd(Napi::Env env, Napi::Object exports);
void InitOptim(Napi::Env env, Napi::Object exports);
void InitAllocator(Napi::Env env, Napi::Object exports);
void InitPrecision(Napi::Env env, Napi::Object exports);
void InitDistributed(Napi::Env env, Napi::Object exports);
// Installs the retaining jemalloc CPU allocator when available (allocator.cc); call before any tensor exists.
void InstallCpuAllocator();

}  // namespace ccp
