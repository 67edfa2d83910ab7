// Mixed precision and memory layout of parameters: autocast state (thread-local in libtorch, and every op of
// ours runs on the JS thread) and replacing a parameter's storage in place so optimizers keep their handle.
#include "common.h"

#include <ATen/autocast_mode.h>

namespace ccp {

static at::ScalarType AutocastDtype(const std::string& name) {
  if (name == "bfloat16") return at::kBFloat16;
  if (name == "float16") return at::kHalf;
  throw ArgError("autocast dtype must be 'bfloat16' or 'float16', got '" + name + "'");
}

// libtorch 2.4 replaced the per-device autocast calls (set_cpu_enabled, set_autocast_gpu_dtype, ...) by calls
// that take the device type; the old names remain for a while but print a deprecation warning on every call.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
static void SetAutocastEnabled(at::DeviceType d, bool on) { at::autocast::set_autocast_enabled(d, on); }
static bool IsAutocastEnabled(at::DeviceType d) { return at::autocast::is_autocast_enabled(d); }
static void SetAutocastDtype(at::DeviceType d, at::ScalarType t) { at::autocast::set_autocast_dtype(d, t); }
#else
static void SetAutocastEnabled(at::DeviceType d, bool on) {
  if (d == at::kCPU) at::autocast::set_cpu_enabled(on); else at::autocast::set_enabled(on);
}
static bool IsAutocastEnabled(at::DeviceType d) { return d == at::kCPU ? at::autocast::is_cpu_enabled() : at::autocast::is_enabled(); }
static void SetAutocastDtype(at::DeviceType d, at::ScalarType t) {
  if (d == at::kCPU) at::autocast::set_autocast_cpu_dtype(t); else at::autocast::set_autocast_gpu_dtype(t);
}
#endif

static at::DeviceType AutocastDevice(const std::string& name) {
  if (name == "cpu") return at::kCPU;
  if (name == "cuda") return at::kCUDA;
  throw ArgError("autocast device must be 'cpu' or 'cuda', got '" + name + "'");
}

void InitPrecision(Napi::Env env, Napi::Object exports) {
  // setAutocast(device, enabled, dtype): device 'cpu' or 'cuda'. Leaving autocast clears its cast cache (the
  // bf16 copies of the weights made for this forward), as torch.autocast's __exit__ does.
  DEF("setAutocast", auto device = AutocastDevice(ArgString(info, 0, "device")); bool enabled = ArgBool(info, 1, "enabled", false);
      if (enabled) {
        SetAutocastDtype(device, AutocastDtype(ArgString(info, 2, "dtype")));
        SetAutocastEnabled(device, true);
        at::autocast::increment_nesting();
      } else {
        bool was = IsAutocastEnabled(device);
        SetAutocastEnabled(device, false);
        if (was && at::autocast::decrement_nesting() <= 0) at::autocast::clear_cache();
      }
      return info.Env().Undefined(););
  DEF("isAutocastEnabled", return Napi::Boolean::New(info.Env(), IsAutocastEnabled(AutocastDevice(ArgString(info, 0, "device")))););
  // setData(param, source): param now holds source's storage, shape and strides (e.g. channels_last), keeping
  // its identity, requires_grad and the optimizer's reference. Shapes must match.
  DEF("setData", auto& p = ArgTensor(info, 0, "param"); auto& s = ArgTensor(info, 1, "source");
      if (!p.sizes().equals(s.sizes())) throw ArgError("setData: shape " + c10::str(s.sizes()) + " does not match the parameter's " + c10::str(p.sizes()));
      if (p.scalar_type() != s.scalar_type()) throw ArgError("setData: dtype of the source differs from the parameter's");
      p.set_data(s.detach()); return info.Env().Undefined(););
}

}  // namespace ccp
