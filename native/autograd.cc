// Autograd entry points: backward, functional grad, grad mode, and ops whose backward is written in JS.
#include "common.h"
#include "torch_compat.h"

#include <memory>
#include <thread>
#include <vector>
#include <c10/core/InferenceMode.h>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/functions/utils.h>

namespace ccp {

namespace {

// A graph node whose backward calls a JS function: (gradOutput) => (Tensor | null)[] (one per input).
// The CPU autograd engine runs nodes on the thread that called backward(), i.e. the JS thread.
struct JsBackward : public torch::autograd::Node {
  JsBackward(Napi::Env env, Napi::Function fn, size_t nInputs)
      : env_(env), fn_(Napi::Persistent(fn)), nInputs_(nInputs), thread_(std::this_thread::get_id()) {}

  torch::autograd::variable_list apply(torch::autograd::variable_list&& grads) override {
    if (std::this_thread::get_id() != thread_) {
      throw std::runtime_error("a custom backward written in JS can only run on the JS thread (CPU tensors)");
    }
    Napi::HandleScope scope(env_);
    Napi::Value gradOut = grads.empty() || !grads[0].defined() ? env_.Null() : Napi::Value(NativeTensor::Wrap(env_, grads[0]));
    Napi::Value r = fn_.Call({gradOut});
    if (!r.IsArray()) throw std::runtime_error("custom backward must return an array with one gradient (or null) per input");
    auto arr = r.As<Napi::Array>();
    if (arr.Length() != nInputs_) {
      throw std::runtime_error("custom backward returned " + std::to_string(arr.Length()) + " gradients for " + std::to_string(nInputs_) + " inputs");
    }
    torch::autograd::variable_list out(nInputs_);
    for (uint32_t i = 0; i < arr.Length(); ++i) {
      Napi::Value v = arr.Get(i);
      if (v.IsNull() || v.IsUndefined()) continue;
      if (!NativeTensor::IsInstance(v)) throw std::runtime_error("custom backward gradient " + std::to_string(i) + " is not a Tensor");
      torch::Tensor* t = NativeTensor::Lookup(v);
      if (!t) throw std::runtime_error("custom backward gradient " + std::to_string(i) + " was disposed before autograd used it");
      out[i] = *t;
    }
    return out;
  }
  std::string name() const override { return "JsCustomBackward"; }

 private:
  Napi::Env env_;
  Napi::FunctionReference fn_;
  size_t nInputs_;
  std::thread::id thread_;
};

// Open inference-mode guards (c10::InferenceMode), innermost last. JS opens and closes them around a synchronous
// function (engine inferenceMode), so they nest and close in LIFO order on the JS thread.
std::vector<std::unique_ptr<c10::InferenceMode>> g_inferenceGuards;

}  // namespace

void InitAutograd(Napi::Env env, Napi::Object exports) {
  DEF("backward", auto& t = ArgTensor(info, 0, "x"); auto g = ArgOptTensor(info, 1, "gradient");
      t.backward(g ? *g : torch::Tensor(), ArgBool(info, 2, "retainGraph", false)); return info.Env().Undefined(););
  // grad(outputs, inputs, gradOutputs?, retainGraph, createGraph, allowUnused) -> (Tensor|null)[]
  DEF("grad", auto outs = ArgTensorList(info, 0, "outputs"); auto ins = ArgTensorList(info, 1, "inputs");
      std::vector<torch::Tensor> gouts;
      if (info.Length() > 2 && info[2].IsArray()) gouts = ArgTensorList(info, 2, "gradOutputs");
      bool retain = ArgBool(info, 3, "retainGraph", false); bool create = ArgBool(info, 4, "createGraph", false);
      auto res = torch::autograd::grad(outs, ins, gouts, retain, create, ArgBool(info, 5, "allowUnused", true));
      auto arr = Napi::Array::New(info.Env(), res.size());
      for (size_t i = 0; i < res.size(); ++i) arr.Set(static_cast<uint32_t>(i), res[i].defined() ? Napi::Value(NativeTensor::Wrap(info.Env(), res[i])) : info.Env().Null());
      return arr;);
  DEF("setGradEnabled", bool prev = torch::GradMode::is_enabled(); torch::GradMode::set_enabled(ArgBool(info, 0, "enabled", true));
      return Napi::Boolean::New(info.Env(), prev););
  DEF("isGradEnabled", return Napi::Boolean::New(info.Env(), torch::GradMode::is_enabled()););
  DEF("enterInferenceMode", g_inferenceGuards.push_back(std::make_unique<c10::InferenceMode>(true)); return info.Env().Undefined(););
  DEF("exitInferenceMode", if (g_inferenceGuards.empty()) throw ArgError("no inference mode is open");
      g_inferenceGuards.pop_back(); return info.Env().Undefined(););
  DEF("isInferenceModeEnabled", return Napi::Boolean::New(info.Env(), c10::InferenceMode::is_enabled()););
  DEF("isInferenceTensor", return Napi::Boolean::New(info.Env(), ArgTensor(info, 0, "x").is_inference()););
  // Changes whenever the tensor's values may have: every in-place op bumps the version counter, and set_data swaps
  // the storage. Inference tensors have no version counter, so theirs always reads as changed.
  DEF("tensorStamp", auto& x = ArgTensor(info, 0, "x");
      if (x.is_inference()) return info.Env().Null();
      return Napi::String::New(info.Env(), std::to_string(x._version()) + "@" + std::to_string(reinterpret_cast<uintptr_t>(x.data_ptr()))););
  // customOp(inputs, output, backwardFn): attaches `output` (computed without grad) to the graph of `inputs`.
  DEF("customOp", auto inputs = ArgTensorList(info, 0, "inputs"); auto& output = ArgTensor(info, 1, "output");
      if (info.Length() < 3 || !info[2].IsFunction()) throw ArgError("argument 'backward' must be a function");
      torch::Tensor result = output.detach();
      bool needs = false;
      for (auto& t : inputs) needs = needs || t.requires_grad();
      if (!needs || !torch::GradMode::is_enabled()) return WRAP(result);
      auto node = MakeNode<JsBackward>(info.Env(), info[2].As<Napi::Function>(), inputs.size());
      node->set_next_edges(torch::autograd::collect_next_edges(inputs));
      torch::autograd::create_gradient_edge(result, node);
      return WRAP(result););
}

}  // namespace ccp
