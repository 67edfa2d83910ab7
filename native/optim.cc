// Fused optimiser updates and gradient transforms: one native call per parameter group instead of a dozen
// small ops per parameter, so the step costs what torch.optim's does.
#include "common.h"

#include <cmath>

namespace ccp {

void InitOptim(Napi::Env env, Napi::Object exports) {
  // adamStep(params, expAvg, expAvgSq, step, lr, beta1, beta2, eps, weightDecay, decoupled)
  // decoupled=false: coupled L2 (g += wd*p, torch.optim.Adam); true: AdamW (p *= 1 - lr*wd).
  DEF("adamStep", torch::NoGradGuard ng;
      auto ps = ArgTensorList(info, 0, "params"); auto ms = ArgTensorList(info, 1, "expAvg"); auto vs = ArgTensorList(info, 2, "expAvgSq");
      double step = ArgNumber(info, 3, "step"); double lr = ArgNumber(info, 4, "lr"); double b1 = ArgNumber(info, 5, "beta1");
      double b2 = ArgNumber(info, 6, "beta2"); double eps = ArgNumber(info, 7, "eps"); double wd = ArgNumber(info, 8, "weightDecay");
      bool decoupled = ArgBool(info, 9, "decoupled", false);
      if (ps.size() != ms.size() || ps.size() != vs.size()) throw ArgError("params, expAvg and expAvgSq must have the same length");
      const double bc1 = 1.0 - std::pow(b1, step); const double bc2 = 1.0 - std::pow(b2, step);
      const double stepSize = lr / bc1; const double bc2Sqrt = std::sqrt(bc2);
      for (size_t i = 0; i < ps.size(); ++i) {
        auto& p = ps[i];
        if (!p.grad().defined()) continue;
        torch::Tensor g = p.grad();
        if (wd != 0.0 && !decoupled) g = g.add(p, wd);
        if (wd != 0.0 && decoupled) p.mul_(1.0 - lr * wd);
        ms[i].mul_(b1).add_(g, 1.0 - b1);
        vs[i].mul_(b2).addcmul_(g, g, 1.0 - b2);
        torch::Tensor denom = (vs[i].sqrt() / bc2Sqrt).add_(eps);
        p.addcdiv_(ms[i], denom, -stepSize);
      }
      return info.Env().Undefined(););
  // sgdStep(params, momentumBuffers, lr, momentum, dampening, weightDecay, nesterov, firstStep)
  DEF("sgdStep", torch::NoGradGuard ng;
      auto ps = ArgTensorList(info, 0, "params"); auto bufs = ArgTensorList(info, 1, "momentumBuffers");
      double lr = ArgNumber(info, 2, "lr"); double mom = ArgNumber(info, 3, "momentum"); double damp = ArgNumber(info, 4, "dampening");
      double wd = ArgNumber(info, 5, "weightDecay"); bool nesterov = ArgBool(info, 6, "nesterov", false); bool first = ArgBool(info, 7, "firstStep", false);
      if (mom != 0.0 && bufs.size() != ps.size()) throw ArgError("momentumBuffers must have one buffer per parameter");
      for (size_t i = 0; i < ps.size(); ++i) {
        auto& p = ps[i];
        if (!p.grad().defined()) continue;
        torch::Tensor g = p.grad();
        if (wd != 0.0) g = g.add(p, wd);
        if (mom != 0.0) {
          if (first) bufs[i].copy_(g);
          else bufs[i].mul_(mom).add_(g, 1.0 - damp);
          g = nesterov ? g.add(bufs[i], mom) : bufs[i];
        }
        p.add_(g, -lr);
      }
      return info.Env().Undefined(););
  // clipGradNorm(params, maxNorm) -> total L2 norm before clipping (torch.nn.utils.clip_grad_norm_).
  DEF("clipGradNorm", torch::NoGradGuard ng; auto ps = ArgTensorList(info, 0, "params"); double maxNorm = ArgNumber(info, 1, "maxNorm");
      std::vector<torch::Tensor> norms;
      for (auto& p : ps) if (p.grad().defined()) norms.push_back(p.grad().detach().norm(2).to(torch::kFloat64));
      if (norms.empty()) return Napi::Number::New(info.Env(), 0.0);
      double total = torch::stack(norms).norm(2).item<double>();
      double coef = maxNorm / (total + 1e-6);
      if (coef < 1.0) for (auto& p : ps) if (p.grad().defined()) p.mutable_grad().mul_(coef);
      return Napi::Number::New(info.Env(), total););
  DEF("clipGradValue", torch::NoGradGuard ng; auto ps = ArgTensorList(info, 0, "params"); double v = ArgNumber(info, 1, "value");
      for (auto& p : ps) if (p.grad().defined()) p.mutable_grad().clamp_(-v, v);
      return info.Env().Undefined(););
  // addWeightDecayGrad(params, wd): g += wd * p (coupled L2 applied before clipping, as the spec's trainer does).
  DEF("addWeightDecayGrad", torch::NoGradGuard ng; auto ps = ArgTensorList(info, 0, "params"); double wd = ArgNumber(info, 1, "weightDecay");
      for (auto& p : ps) if (p.grad().defined()) p.mutable_grad().add_(p, wd);
      return info.Env().Undefined(););
  // addProximalGrad(params, anchors, lambda): g += lambda * (p - anchor), the gradient of (lambda/2)||p - anchor||^2.
  DEF("addProximalGrad", torch::NoGradGuard ng; auto ps = ArgTensorList(info, 0, "params"); auto as = ArgTensorList(info, 1, "anchors");
      double lam = ArgNumber(info, 2, "lambda");
      if (ps.size() != as.size()) throw ArgError("params and anchors must have the same length");
      for (size_t i = 0; i < ps.size(); ++i) {
        if (!ps[i].grad().defined()) continue;
        ps[i].mutable_grad().add_(ps[i] - as[i], lam);
      }
      return info.Env().Undefined(););
  DEF("zeroGrads", auto ps = ArgTensorList(info, 0, "params");
      for (auto& p : ps) p.mutable_grad() = torch::Tensor();
      return info.Env().Undefined(););
}

}  // namespace ccp
