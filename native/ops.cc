// Tensor creation, elementwise, reduction, shape, indexing and sorting ops. Each op is a thin call into ATen;
// autograd comes from libtorch itself.
#include "common.h"

namespace ccp {

static torch::Tensor FromTypedArray(Info info) {
  if (info.Length() < 1 || !info[0].IsTypedArray()) throw ArgError("argument 'data' must be a typed array");
  auto ta = info[0].As<Napi::TypedArray>();
  std::vector<int64_t> shape = ArgIntList(info, 1, "shape");
  int64_t numel = 1;
  for (auto s : shape) {
    if (s < 0) throw ArgError("shape " + c10::str(c10::IntArrayRef(shape)) + " has a negative size");
    numel *= s;
  }
  if (numel != static_cast<int64_t>(ta.ElementLength())) {
    throw ArgError("shape " + c10::str(c10::IntArrayRef(shape)) + " needs " + std::to_string(numel) + " elements, the data has " +
                   std::to_string(ta.ElementLength()));
  }
  c10::ScalarType src;
  switch (ta.TypedArrayType()) {
    case napi_float32_array: src = torch::kFloat32; break;
    case napi_float64_array: src = torch::kFloat64; break;
    case napi_bigint64_array: src = torch::kInt64; break;
    case napi_int32_array: src = torch::kInt32; break;
    case napi_int16_array: src = torch::kInt16; break;
    case napi_int8_array: src = torch::kInt8; break;
    case napi_uint8_array:
    case napi_uint8_clamped_array: src = torch::kUInt8; break;
    default: throw ArgError("unsupported typed array type for 'data'");
  }
  auto* ptr = static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
  // Copy: the JS array may be freed or mutated after this call.
  torch::Tensor t = torch::from_blob(ptr, shape, torch::TensorOptions().dtype(src)).clone();
  auto opts = ArgOptions(info, 2, 3);
  if (info.Length() > 2 && info[2].IsString()) t = t.to(opts.dtype().toScalarType());
  if (info.Length() > 3 && info[3].IsString()) t = t.to(opts.device());
  return t;
}

static c10::optional<at::Scalar> OptScalar(Info info, size_t i, const char* name) {
  auto v = ArgOptNumber(info, i, name);
  if (!v) return c10::nullopt;
  return at::Scalar(*v);
}

static c10::optional<c10::ScalarType> OptDType(Info info, size_t i) {
  if (i < info.Length() && info[i].IsString()) return ParseDType(info[i].As<Napi::String>().Utf8Value());
  return c10::nullopt;
}

static int64_t ReductionFromString(const std::string& r) {
  if (r == "mean") return at::Reduction::Mean;
  if (r == "sum") return at::Reduction::Sum;
  if (r == "none") return at::Reduction::None;
  throw ArgError("reduction must be 'mean', 'sum' or 'none', got '" + r + "'");
}

void InitOps(Napi::Env env, Napi::Object exports) {
  // ---- creation ----
  DEF("fromTypedArray", return WRAP(FromTypedArray(info)););
  DEF("zeros", return WRAP(torch::zeros(ArgIntList(info, 0, "shape"), ArgOptions(info, 1, 2))););
  DEF("ones", return WRAP(torch::ones(ArgIntList(info, 0, "shape"), ArgOptions(info, 1, 2))););
  DEF("full", return WRAP(torch::full(ArgIntList(info, 0, "shape"), ArgNumber(info, 1, "value"), ArgOptions(info, 2, 3))););
  DEF("arange", return WRAP(torch::arange(ArgNumber(info, 0, "start"), ArgNumber(info, 1, "end"), ArgNumber(info, 2, "step"), ArgOptions(info, 3, 4))););
  DEF("linspace", return WRAP(torch::linspace(ArgNumber(info, 0, "start"), ArgNumber(info, 1, "end"), ArgInt(info, 2, "steps"), ArgOptions(info, 3, 4))););
  DEF("eye", return WRAP(torch::eye(ArgInt(info, 0, "n"), ArgOptions(info, 1, 2))););
  DEF("rand", return WRAP(torch::rand(ArgIntList(info, 0, "shape"), ArgOptions(info, 1, 2))););
  DEF("randn", return WRAP(torch::randn(ArgIntList(info, 0, "shape"), ArgOptions(info, 1, 2))););
  DEF("randint", return WRAP(torch::randint(ArgInt(info, 0, "low"), ArgInt(info, 1, "high"), ArgIntList(info, 2, "shape"),
                                            ArgOptions(info, 3, 4).dtype(torch::kInt64))););
  DEF("randperm", return WRAP(torch::randperm(ArgInt(info, 0, "n"), ArgOptions(info, 1, 2).dtype(torch::kInt64))););
  DEF("multinomial", return WRAP(torch::multinomial(ArgTensor(info, 0, "probs"), ArgInt(info, 1, "n"), ArgBool(info, 2, "replacement", false))););

  // ---- elementwise unary ----
  UNARY("neg", torch::neg(x));
  UNARY("abs", torch::abs(x));
  UNARY("sqrt", torch::sqrt(x));
  UNARY("rsqrt", torch::rsqrt(x));
  UNARY("exp", torch::exp(x));
  UNARY("log", torch::log(x));
  UNARY("log1p", torch::log1p(x));
  UNARY("expm1", torch::expm1(x));
  UNARY("relu", torch::relu(x));
  UNARY("sigmoid", torch::sigmoid(x));
  UNARY("tanh", torch::tanh(x));
  UNARY("gelu", torch::gelu(x));
  UNARY("square", torch::square(x));
  UNARY("sign", torch::sign(x));
  UNARY("floor", torch::floor(x));
  UNARY("ceil", torch::ceil(x));
  UNARY("round", torch::round(x));
  UNARY("reciprocal", torch::reciprocal(x));
  UNARY("sin", torch::sin(x));
  UNARY("cos", torch::cos(x));
  UNARY("erf", torch::erf(x));
  UNARY("logicalNot", torch::logical_not(x));
  UNARY("isnan", torch::isnan(x));
  UNARY("isfinite", torch::isfinite(x));
  DEF("softplus", auto& x = ArgTensor(info, 0, "x");
      return WRAP(torch::softplus(x, ArgOptNumber(info, 1, "beta").value_or(1.0), ArgOptNumber(info, 2, "threshold").value_or(20.0))););
  DEF("leakyRelu", auto& x = ArgTensor(info, 0, "x"); return WRAP(torch::leaky_relu(x, ArgOptNumber(info, 1, "slope").value_or(0.01))););
  DEF("clamp", auto& x = ArgTensor(info, 0, "x"); auto lo = OptScalar(info, 1, "min"); auto hi = OptScalar(info, 2, "max");
      if (!lo && !hi) throw ArgError("clamp needs 'min', 'max' or both");
      return WRAP(torch::clamp(x, lo, hi)););

  // ---- elementwise binary (tensor or number on either side, PyTorch broadcasting and promotion) ----
  BINARY("add", torch::add(a, b));
  BINARY("sub", torch::sub(a, b));
  BINARY("mul", torch::mul(a, b));
  BINARY("div", torch::div(a, b));
  BINARY("floorDivide", torch::div(a, b, "floor"));
  BINARY("remainder", torch::remainder(a, b));
  BINARY("pow", torch::pow(a, b));
  BINARY("maximum", torch::maximum(a, b));
  BINARY("minimum", torch::minimum(a, b));
  BINARY("eq", torch::eq(a, b));
  BINARY("ne", torch::ne(a, b));
  BINARY("lt", torch::lt(a, b));
  BINARY("le", torch::le(a, b));
  BINARY("gt", torch::gt(a, b));
  BINARY("ge", torch::ge(a, b));
  BINARY("logicalAnd", torch::logical_and(a, b));
  BINARY("logicalOr", torch::logical_or(a, b));
  DEF("where", auto& c = ArgTensor(info, 0, "condition"); auto a = ArgTensorOrScalar(info, 1, "a"); auto b = ArgTensorOrScalar(info, 2, "b");
      return WRAP(torch::where(c, a, b)););

  // ---- reductions ----
  DEF("sum", auto& x = ArgTensor(info, 0, "x"); auto dims = ArgOptIntList(info, 1, "dims"); bool keep = ArgBool(info, 2, "keepdim", false);
      auto dt = OptDType(info, 3);
      return WRAP(dims ? torch::sum(x, *dims, keep, dt) : torch::sum(x, dt)););
  DEF("mean", auto& x = ArgTensor(info, 0, "x"); auto dims = ArgOptIntList(info, 1, "dims"); bool keep = ArgBool(info, 2, "keepdim", false);
      return WRAP(dims ? torch::mean(x, *dims, keep) : torch::mean(x)););
  DEF("prod", auto& x = ArgTensor(info, 0, "x"); auto dim = ArgOptNumber(info, 1, "dim");
      return WRAP(dim ? torch::prod(x, static_cast<int64_t>(*dim), ArgBool(info, 2, "keepdim", false)) : torch::prod(x)););
  DEF("maxDim", auto& x = ArgTensor(info, 0, "x"); auto r = torch::max(x, ArgInt(info, 1, "dim"), ArgBool(info, 2, "keepdim", false));
      return WrapList(info.Env(), {std::get<0>(r), std::get<1>(r)}););
  DEF("minDim", auto& x = ArgTensor(info, 0, "x"); auto r = torch::min(x, ArgInt(info, 1, "dim"), ArgBool(info, 2, "keepdim", false));
      return WrapList(info.Env(), {std::get<0>(r), std::get<1>(r)}););
  DEF("amax", auto& x = ArgTensor(info, 0, "x"); auto dims = ArgOptIntList(info, 1, "dims");
      return WRAP(dims ? torch::amax(x, *dims, ArgBool(info, 2, "keepdim", false)) : torch::max(x)););
  DEF("amin", auto& x = ArgTensor(info, 0, "x"); auto dims = ArgOptIntList(info, 1, "dims");
      return WRAP(dims ? torch::amin(x, *dims, ArgBool(info, 2, "keepdim", false)) : torch::min(x)););
  DEF("logsumexp", auto& x = ArgTensor(info, 0, "x"); return WRAP(torch::logsumexp(x, ArgIntList(info, 1, "dims"), ArgBool(info, 2, "keepdim", false))););
  DEF("norm", auto& x = ArgTensor(info, 0, "x"); double p = ArgOptNumber(info, 1, "p").value_or(2.0); auto dims = ArgOptIntList(info, 2, "dims");
      bool keep = ArgBool(info, 3, "keepdim", false);
      return WRAP(dims ? torch::norm(x, p, *dims, keep) : torch::norm(x, p)););
  DEF("variance", auto& x = ArgTensor(info, 0, "x"); auto dims = ArgOptIntList(info, 1, "dims"); bool unbiased = ArgBool(info, 2, "unbiased", true);
      bool keep = ArgBool(info, 3, "keepdim", false);
      return WRAP(dims ? torch::var(x, at::OptionalIntArrayRef(*dims), unbiased, keep) : torch::var(x, unbiased)););
  DEF("argmax", auto& x = ArgTensor(info, 0, "x"); auto dim = ArgOptNumber(info, 1, "dim");
      return WRAP(dim ? torch::argmax(x, static_cast<int64_t>(*dim), ArgBool(info, 2, "keepdim", false)) : torch::argmax(x)););
  DEF("argmin", auto& x = ArgTensor(info, 0, "x"); auto dim = ArgOptNumber(info, 1, "dim");
      return WRAP(dim ? torch::argmin(x, static_cast<int64_t>(*dim), ArgBool(info, 2, "keepdim", false)) : torch::argmin(x)););
  DEF("all", auto& x = ArgTensor(info, 0, "x"); return WRAP(torch::all(x)););
  DEF("any", auto& x = ArgTensor(info, 0, "x"); return WRAP(torch::any(x)););
  DEF("cumsum", auto& x = ArgTensor(info, 0, "x"); return WRAP(torch::cumsum(x, ArgInt(info, 1, "dim"), OptDType(info, 2))););
  DEF("countNonzero", auto& x = ArgTensor(info, 0, "x"); auto dims = ArgOptIntList(info, 1, "dims");
      return WRAP(dims ? torch::count_nonzero(x, *dims) : torch::count_nonzero(x)););

  // ---- linear algebra ----
  DEF("matmul", return WRAP(torch::matmul(ArgTensor(info, 0, "a"), ArgTensor(info, 1, "b"))););
  DEF("linear", auto b = ArgOptTensor(info, 2, "bias");
      return WRAP(torch::linear(ArgTensor(info, 0, "x"), ArgTensor(info, 1, "weight"), b ? *b : torch::Tensor())););

  // ---- shape ----
  DEF("transpose", return WRAP(ArgTensor(info, 0, "x").transpose(ArgInt(info, 1, "dim0"), ArgInt(info, 2, "dim1"))););
  DEF("permute", return WRAP(ArgTensor(info, 0, "x").permute(ArgIntList(info, 1, "dims"))););
  DEF("reshape", return WRAP(ArgTensor(info, 0, "x").reshape(ArgIntList(info, 1, "shape"))););
  DEF("expand", return WRAP(ArgTensor(info, 0, "x").expand(ArgIntList(info, 1, "shape"))););
  DEF("squeeze", auto& x = ArgTensor(info, 0, "x"); auto d = ArgOptNumber(info, 1, "dim");
      return WRAP(d ? x.squeeze(static_cast<int64_t>(*d)) : x.squeeze()););
  DEF("unsqueeze", return WRAP(ArgTensor(info, 0, "x").unsqueeze(ArgInt(info, 1, "dim"))););
  DEF("flatten", return WRAP(ArgTensor(info, 0, "x").flatten(ArgOptNumber(info, 1, "startDim").value_or(0), ArgOptNumber(info, 2, "endDim").value_or(-1))););
  DEF("cat", return WRAP(torch::cat(ArgTensorList(info, 0, "tensors"), ArgOptNumber(info, 1, "dim").value_or(0))););
  DEF("stack", return WRAP(torch::stack(ArgTensorList(info, 0, "tensors"), ArgOptNumber(info, 1, "dim").value_or(0))););
  DEF("split", auto& x = ArgTensor(info, 0, "x"); return WrapList(info.Env(), x.split(ArgInt(info, 1, "size"), ArgOptNumber(info, 2, "dim").value_or(0))););
  DEF("slice", auto& x = ArgTensor(info, 0, "x"); int64_t dim = ArgInt(info, 1, "dim");
      auto start = ArgOptNumber(info, 2, "start"); auto end = ArgOptNumber(info, 3, "end");
      c10::optional<int64_t> s = start ? c10::optional<int64_t>(static_cast<int64_t>(*start)) : c10::nullopt;
      c10::optional<int64_t> e = end ? c10::optional<int64_t>(static_cast<int64_t>(*end)) : c10::nullopt;
      return WRAP(x.slice(dim, s, e, static_cast<int64_t>(ArgOptNumber(info, 4, "step").value_or(1)))););
  DEF("select", return WRAP(ArgTensor(info, 0, "x").select(ArgInt(info, 1, "dim"), ArgInt(info, 2, "index"))););
  DEF("repeat", return WRAP(ArgTensor(info, 0, "x").repeat(ArgIntList(info, 1, "repeats"))););
  DEF("repeatInterleave", auto& x = ArgTensor(info, 0, "x");
      return WRAP(torch::repeat_interleave(x, ArgInt(info, 1, "repeats"), static_cast<int64_t>(ArgOptNumber(info, 2, "dim").value_or(0)))););
  DEF("flip", return WRAP(torch::flip(ArgTensor(info, 0, "x"), ArgIntList(info, 1, "dims"))););
  DEF("contiguous", return WRAP(ArgTensor(info, 0, "x").contiguous()););
  DEF("clone", return WRAP(ArgTensor(info, 0, "x").clone()););
  DEF("detach", return WRAP(ArgTensor(info, 0, "x").detach()););
  DEF("to", auto& x = ArgTensor(info, 0, "x"); torch::Tensor t = x;
      if (info.Length() > 1 && info[1].IsString()) t = t.to(ParseDType(info[1].As<Napi::String>().Utf8Value()));
      if (info.Length() > 2 && info[2].IsString()) t = t.to(torch::Device(info[2].As<Napi::String>().Utf8Value()));
      return WRAP(t););
  DEF("tril", return WRAP(torch::tril(ArgTensor(info, 0, "x"), ArgOptNumber(info, 1, "diagonal").value_or(0))););
  DEF("triu", return WRAP(torch::triu(ArgTensor(info, 0, "x"), ArgOptNumber(info, 1, "diagonal").value_or(0))););
  DEF("diag", return WRAP(torch::diag(ArgTensor(info, 0, "x"), ArgOptNumber(info, 1, "diagonal").value_or(0))););
  DEF("diagonal", return WRAP(torch::diagonal(ArgTensor(info, 0, "x"), ArgOptNumber(info, 1, "offset").value_or(0), ArgOptNumber(info, 2, "dim1").value_or(0),
                                              ArgOptNumber(info, 3, "dim2").value_or(1))););

  // ---- indexing ----
  DEF("indexSelect", return WRAP(torch::index_select(ArgTensor(info, 0, "x"), ArgInt(info, 1, "dim"), ArgTensor(info, 2, "index"))););
  DEF("gather", return WRAP(torch::gather(ArgTensor(info, 0, "x"), ArgInt(info, 1, "dim"), ArgTensor(info, 2, "index"))););
  DEF("scatterAdd", return WRAP(torch::scatter_add(ArgTensor(info, 0, "x"), ArgInt(info, 1, "dim"), ArgTensor(info, 2, "index"), ArgTensor(info, 3, "src"))););
  DEF("scatter", auto& x = ArgTensor(info, 0, "x"); int64_t dim = ArgInt(info, 1, "dim"); auto& idx = ArgTensor(info, 2, "index");
      if (info.Length() > 3 && info[3].IsNumber()) return WRAP(torch::scatter(x, dim, idx, at::Scalar(info[3].As<Napi::Number>().DoubleValue())));
      return WRAP(torch::scatter(x, dim, idx, ArgTensor(info, 3, "src"))););
  DEF("indexAdd", return WRAP(torch::index_add(ArgTensor(info, 0, "x"), ArgInt(info, 1, "dim"), ArgTensor(info, 2, "index"), ArgTensor(info, 3, "src"))););
  DEF("indexCopy", return WRAP(torch::index_copy(ArgTensor(info, 0, "x"), ArgInt(info, 1, "dim"), ArgTensor(info, 2, "index"), ArgTensor(info, 3, "src"))););
  DEF("oneHot", return WRAP(torch::one_hot(ArgTensor(info, 0, "index"), ArgOptNumber(info, 1, "numClasses").value_or(-1))););
  DEF("maskedFill", auto& x = ArgTensor(info, 0, "x"); auto& m = ArgTensor(info, 1, "mask");
      return WRAP(torch::masked_fill(x, m, at::Scalar(ArgNumber(info, 2, "value")))););
  DEF("maskedSelect", return WRAP(torch::masked_select(ArgTensor(info, 0, "x"), ArgTensor(info, 1, "mask"))););
  DEF("nonzero", return WRAP(torch::nonzero(ArgTensor(info, 0, "x"))););
  DEF("unique", auto& x = ArgTensor(info, 0, "x"); auto r = at::_unique2(x, true, true, true);
      return WrapList(info.Env(), {std::get<0>(r), std::get<1>(r), std::get<2>(r)}););

  // ---- sorting (no gradient through indices) ----
  DEF("topk", auto& x = ArgTensor(info, 0, "x");
      auto r = torch::topk(x, ArgInt(info, 1, "k"), ArgOptNumber(info, 2, "dim").value_or(-1), ArgBool(info, 3, "largest", true), ArgBool(info, 4, "sorted", true));
      return WrapList(info.Env(), {std::get<0>(r), std::get<1>(r)}););
  DEF("sort", auto& x = ArgTensor(info, 0, "x");
      auto r = torch::sort(x, ArgBool(info, 3, "stable", true), ArgOptNumber(info, 1, "dim").value_or(-1), ArgBool(info, 2, "descending", false));
      return WrapList(info.Env(), {std::get<0>(r), std::get<1>(r)}););

  // ---- softmax family and losses ----
  DEF("softmax", return WRAP(torch::softmax(ArgTensor(info, 0, "x"), ArgInt(info, 1, "dim"))););
  DEF("logSoftmax", return WRAP(torch::log_softmax(ArgTensor(info, 0, "x"), ArgInt(info, 1, "dim"))););
  DEF("crossEntropy", auto& logits = ArgTensor(info, 0, "logits"); auto& target = ArgTensor(info, 1, "target");
      std::string red = info.Length() > 2 && info[2].IsString() ? info[2].As<Napi::String>().Utf8Value() : "mean";
      double smoothing = ArgOptNumber(info, 3, "labelSmoothing").value_or(0.0);
      int64_t ignore = static_cast<int64_t>(ArgOptNumber(info, 4, "ignoreIndex").value_or(-100));
      return WRAP(at::cross_entropy_loss(logits, target, {}, ReductionFromString(red), ignore, smoothing)););
  DEF("mseLoss", std::string red = info.Length() > 2 && info[2].IsString() ? info[2].As<Napi::String>().Utf8Value() : "mean";
      return WRAP(torch::mse_loss(ArgTensor(info, 0, "input"), ArgTensor(info, 1, "target"), ReductionFromString(red))););

  // ---- in-place updates (optimisers, proxy re-initialisation, EMA); never on tensors needing grad ----
  DEF("copyInPlace", torch::NoGradGuard ng; ArgTensor(info, 0, "dst").copy_(ArgTensor(info, 1, "src")); return info.Env().Undefined(););
  DEF("fillInPlace", torch::NoGradGuard ng; ArgTensor(info, 0, "x").fill_(ArgNumber(info, 1, "value")); return info.Env().Undefined(););
  DEF("addInPlace", torch::NoGradGuard ng; auto& x = ArgTensor(info, 0, "x");
      x.add_(ArgTensorOrScalar(info, 1, "other"), ArgOptNumber(info, 2, "alpha").value_or(1.0)); return info.Env().Undefined(););
  DEF("mulInPlace", torch::NoGradGuard ng; ArgTensor(info, 0, "x").mul_(ArgTensorOrScalar(info, 1, "other")); return info.Env().Undefined(););
  DEF("indexCopyInPlace", torch::NoGradGuard ng;
      ArgTensor(info, 0, "x").index_copy_(ArgInt(info, 1, "dim"), ArgTensor(info, 2, "index"), ArgTensor(info, 3, "src")); return info.Env().Undefined(););

  // ---- comparisons returning JS values ----
  DEF("allclose", return Napi::Boolean::New(info.Env(), torch::allclose(ArgTensor(info, 0, "a"), ArgTensor(info, 1, "b"),
                                                                   ArgOptNumber(info, 2, "rtol").value_or(1e-5), ArgOptNumber(info, 3, "atol").value_or(1e-8))););
  DEF("equal", return Napi::Boolean::New(info.Env(), torch::equal(ArgTensor(info, 0, "a"), ArgTensor(info, 1, "b"))););
}

}  // namespace ccp
