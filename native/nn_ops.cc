// Neural-network ops: convolution, normalisation, pooling, dropout.
#include "common.h"

namespace ccp {

static std::vector<int64_t> Pair(Info info, size_t i, const char* name, int64_t dflt) {
  if (i >= info.Length() || info[i].IsUndefined() || info[i].IsNull()) return {dflt, dflt};
  auto v = ArgIntList(info, i, name);
  if (v.size() == 1) return {v[0], v[0]};
  if (v.size() != 2) throw ArgError(std::string("argument '") + name + "' must be an integer or a pair of integers");
  return v;
}

void InitNnOps(Napi::Env env, Napi::Object exports) {
  // conv2d(x, weight, bias?, stride, padding, dilation, groups)
  DEF("conv2d", auto& x = ArgTensor(info, 0, "x"); auto& w = ArgTensor(info, 1, "weight"); auto b = ArgOptTensor(info, 2, "bias");
      if (x.dim() != 4) throw ArgError("conv2d expects x of shape [N, C, H, W], got " + c10::str(x.sizes()));
      return WRAP(torch::conv2d(x, w, b ? *b : torch::Tensor(), Pair(info, 3, "stride", 1), Pair(info, 4, "padding", 0), Pair(info, 5, "dilation", 1),
                                static_cast<int64_t>(ArgOptNumber(info, 6, "groups").value_or(1)))););
  // batchNorm(x, weight?, bias?, runningMean?, runningVar?, training, momentum, eps); updates running stats in place when training.
  DEF("batchNorm", auto& x = ArgTensor(info, 0, "x"); auto w = ArgOptTensor(info, 1, "weight"); auto b = ArgOptTensor(info, 2, "bias");
      auto rm = ArgOptTensor(info, 3, "runningMean"); auto rv = ArgOptTensor(info, 4, "runningVar");
      return WRAP(torch::batch_norm(x, w ? *w : torch::Tensor(), b ? *b : torch::Tensor(), rm ? *rm : torch::Tensor(), rv ? *rv : torch::Tensor(),
                                    ArgBool(info, 5, "training", false), ArgOptNumber(info, 6, "momentum").value_or(0.1), ArgOptNumber(info, 7, "eps").value_or(1e-5),
                                    true)););
  DEF("layerNorm", auto& x = ArgTensor(info, 0, "x"); auto w = ArgOptTensor(info, 2, "weight"); auto b = ArgOptTensor(info, 3, "bias");
      return WRAP(torch::layer_norm(x, ArgIntList(info, 1, "shape"), w ? *w : torch::Tensor(), b ? *b : torch::Tensor(), ArgOptNumber(info, 4, "eps").value_or(1e-5))););
  DEF("maxPool2d", auto& x = ArgTensor(info, 0, "x"); auto k = Pair(info, 1, "kernel", 1);
      auto s = info.Length() > 2 && !info[2].IsUndefined() && !info[2].IsNull() ? Pair(info, 2, "stride", 1) : k;
      return WRAP(torch::max_pool2d(x, k, s, Pair(info, 3, "padding", 0), Pair(info, 4, "dilation", 1), ArgBool(info, 5, "ceilMode", false))););
  DEF("avgPool2d", auto& x = ArgTensor(info, 0, "x"); auto k = Pair(info, 1, "kernel", 1);
      auto s = info.Length() > 2 && !info[2].IsUndefined() && !info[2].IsNull() ? Pair(info, 2, "stride", 1) : k;
      return WRAP(torch::avg_pool2d(x, k, s, Pair(info, 3, "padding", 0), ArgBool(info, 4, "ceilMode", false), ArgBool(info, 5, "countIncludePad", true))););
  DEF("adaptiveAvgPool2d", return WRAP(torch::adaptive_avg_pool2d(ArgTensor(info, 0, "x"), Pair(info, 1, "outputSize", 1))););
  DEF("adaptiveMaxPool2d", return WRAP(std::get<0>(torch::adaptive_max_pool2d(ArgTensor(info, 0, "x"), Pair(info, 1, "outputSize", 1)))););
  DEF("dropout", return WRAP(torch::dropout(ArgTensor(info, 0, "x"), ArgNumber(info, 1, "p"), ArgBool(info, 2, "training", true))););
  DEF("normalize", auto& x = ArgTensor(info, 0, "x"); double p = ArgOptNumber(info, 1, "p").value_or(2.0);
      int64_t dim = static_cast<int64_t>(ArgOptNumber(info, 2, "dim").value_or(-1)); double eps = ArgOptNumber(info, 3, "eps").value_or(1e-12);
      return WRAP(x / torch::norm(x, p, {dim}, true).clamp_min(eps)););
  // Memory format: channels_last makes oneDNN pick faster conv kernels on CPU. `to`, not `contiguous`: a tensor
  // whose memory is already valid as NHWC (C == 1, or H == W == 1) keeps its NCHW strides under contiguous(), and
  // kernels choose their layout from strides (suggest_memory_format), so a 1-channel input conv's weight stayed
  // NCHW and so did its output and the layers after it (PyTorch's Module.to(memory_format=...) uses `to` too).
  DEF("toChannelsLast", auto& x = ArgTensor(info, 0, "x");
      return WRAP(x.to(x.scalar_type(), /*non_blocking=*/false, /*copy=*/false, at::MemoryFormat::ChannelsLast)););
  DEF("isContiguous", return Napi::Boolean::New(info.Env(), ArgTensor(info, 0, "x").is_contiguous()););
  // memoryFormat(x): 'contiguous' (row-major), 'channels_last' (4-D NHWC strides) or 'strided' (anything else).
  // A tensor valid as both (C == 1, or H == W == 1) reports the layout its strides suggest to the kernels.
  DEF("memoryFormat", auto& x = ArgTensor(info, 0, "x");
      const bool nhwc = x.dim() == 4 && x.is_contiguous(at::MemoryFormat::ChannelsLast);
      const char* f = nhwc && (!x.is_contiguous() || x.suggest_memory_format() == at::MemoryFormat::ChannelsLast) ? "channels_last"
                      : x.is_contiguous()                                                                    ? "contiguous"
                                                                                                             : "strided";
      return Napi::String::New(info.Env(), f););
}

}  // namespace ccp
