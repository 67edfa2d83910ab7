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

void InitPrecision(Napi::Env env, Napi::Object exports) {
  // setAutocast(device, enabled, dtype): device 'cpu' or 'cuda'. Leaving autocast clears its cast cache (the
  // bf16 copies of the weights made for this forward), as torch.autocast's __exit__ does.
  DEF("setAutocast", std::string device = ArgString(info, 0, "device"); bool enabled = ArgBool(info, 1, "enabled", false);
      if (device != "cpu" && device != "cuda") throw ArgError("autocast device must be 'cpu' or 'cuda', got '" + device + "'");
      if (enabled) {
        auto dtype = AutocastDtype(ArgString(info, 2, "dtype"));
        if (device == "cpu") { at::autocast::set_autocast_cpu_dtype(dtype); at::autocast::set_cpu_enabled(true); }
        else { at::autocast::set_autocast_gpu_dtype(dtype); at::autocast::set_enabled(true); }
        at::autocast::increment_nesting();
      } else {
        bool was = device == "cpu" ? at::autocast::is_cpu_enabled() : at::autocast::is_enabled();
        if (device == "cpu") at::autocast::set_cpu_enabled(false); else at::autocast::set_enabled(false);
        if (was && at::autocast::decrement_nesting() <= 0) at::autocast::clear_cache();
      }
      return info.Env().Undefined(););
  DEF("isAutocastEnabled", std::string device = ArgString(info, 0, "device");
      return Napi::Boolean::New(info.Env(), device == "cuda" ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled()););
  // setData(param, source): param now holds source's storage, shape and strides (e.g. channels_last), keeping
  // its identity, requires_grad and the optimizer's reference. Shapes must match.
  DEF("setData", auto& p = ArgTensor(info, 0, "param"); auto& s = ArgTensor(info, 1, "source");
      if (!p.sizes().equals(s.sizes())) throw ArgError("setData: shape " + c10::str(s.sizes()) + " does not match the parameter's " + c10::str(p.sizes()));
      if (p.scalar_type() != s.scalar_type()) throw ArgError("setData: dtype of the source differs from the parameter's");
      p.set_data(s.detach()); return info.Env().Undefined(););
}

}  // namespace ccp
