// Module entry: registers the tensor class and every op, tunes the allocator and thread count.
#include "common.h"

#include <dlfcn.h>
#include <malloc.h>

namespace ccp {

// native/grad_buckets.cc (declared here, not in common.h, so that adding it recompiles two files only).
void InitGradBuckets(Napi::Env env, Napi::Object exports);

static void TuneAllocator() {
#ifdef M_MMAP_THRESHOLD
  // glibc maps each multi-MB tensor fresh and unmaps it on free; the page faults cost more than the math
  // (engine-facts.md). Keep big blocks in the heap and trim rarely. CCP_DML_NO_MALLOPT=1 turns this off.
  if (!std::getenv("CCP_DML_NO_MALLOPT")) {
    mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
    mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024);
  }
#endif
}

// Debian's libtorch multiplies matrices with OpenBLAS (its pthreads build), whose own worker pool is sized from
// OPENBLAS_NUM_THREADS / OMP_NUM_THREADS when it loads and does not follow torch::set_num_threads. With fewer torch
// threads than cores (--threads 1, or one rank per core) its idle workers spin in sched_yield after every matmul,
// on the cores the user meant to leave free (measured: a second thread burning ~80% of the main thread's CPU
// time). Where the OpenBLAS loaded exports openblas_set_num_threads, it gets the same count; MKL builds have none.
static void* OpenBlasSymbol(const char* name) {
  void* lib = dlopen("libopenblas.so.0", RTLD_LAZY | RTLD_NOLOAD);  // a handle only if already loaded
  void* sym = dlsym(lib ? lib : RTLD_DEFAULT, name);
  if (lib) dlclose(lib);  // libtorch still holds it: the symbol stays valid
  return sym;
}

static void SetBlasThreads(int n) {
  static auto fn = reinterpret_cast<void (*)(int)>(OpenBlasSymbol("openblas_set_num_threads"));
  if (fn) fn(n);
}

/** OpenBLAS's thread count; 0 where the BLAS is not OpenBLAS (e.g. MKL, whose threads follow torch's). */
static int BlasThreads() {
  static auto fn = reinterpret_cast<int (*)()>(OpenBlasSymbol("openblas_get_num_threads"));
  return fn ? fn() : 0;
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  TuneAllocator();
  InstallCpuAllocator();
  NativeTensor::Init(env, exports);
  InitOps(env, exports);
  InitNnOps(env, exports);
  InitAutograd(env, exports);
  InitOptim(env, exports);
  InitAllocator(env, exports);
  InitPrecision(env, exports);
  InitDistributed(env, exports);
  InitGradBuckets(env, exports);
  DEF("manualSeed", torch::manual_seed(static_cast<uint64_t>(ArgNumber(info, 0, "seed"))); return info.Env().Undefined(););
  DEF("setNumThreads", int64_t n = ArgInt(info, 0, "threads"); if (n < 1) throw ArgError("threads must be >= 1, got " + std::to_string(n));
      torch::set_num_threads(static_cast<int>(n)); SetBlasThreads(static_cast<int>(n)); return info.Env().Undefined(););
  DEF("getBlasThreads", return Napi::Number::New(info.Env(), BlasThreads()););
  DEF("getNumThreads", return Napi::Number::New(info.Env(), torch::get_num_threads()););
  DEF("cudaIsAvailable", return Napi::Boolean::New(info.Env(), torch::cuda::is_available()););
  DEF("cudaDeviceCount", return Napi::Number::New(info.Env(), static_cast<double>(torch::cuda::device_count())););
  exports.Set("torchVersion", Napi::String::New(env, TORCH_VERSION));
  return exports;
}

}  // namespace ccp

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return ccp::Init(env, exports); }

NODE_API_MODULE(ccp_dml_native, InitModule)
