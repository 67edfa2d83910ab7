// A CPU tensor allocator that keeps freed memory, installed as libtorch's CPU allocator. glibc maps every tensor
// above 32 MiB fresh and unmaps it on free, so each step page-faults its large activations again (~10 us per 4 KiB
// page here: most of a BN-Inception step at 227 px); a retaining allocator hands the same pages back on the next
// step (engine-facts.md).
//
// Backends, through their explicit APIs only (the process's global malloc is untouched: the library is opened
// with dlopen(RTLD_LOCAL), never preloaded):
// - tcmalloc (Debian libtcmalloc-minimal4): tc_memalign / tc_free with its release rate set to 0 (freed pages
//   stay mapped) and sbrk off (glibc owns the program break).
// - jemalloc (Debian libjemalloc2): mallocx / dallocx on a private arena with page decay off. Its 2.6 KiB of
//   initial-exec TLS does not fit glibc's default static-TLS surplus for dlopen ("cannot allocate memory in static
//   TLS block"), so it loads only when the process was started with GLIBC_TUNABLES=glibc.rtld.optional_static_tls=
//   4096 (or with jemalloc preloaded).
// CCP_DML_ALLOCATOR=auto (default: tcmalloc, else jemalloc, else system) | tcmalloc | jemalloc | system.
//
// Raw deallocation: oneDNN (ideep) allocates and frees scratch buffers through the CPU allocator's raw_allocate /
// raw_deallocate, which calls the deleter of whatever allocator is installed *at free time*, possibly with a
// pointer the previous allocator made (before the swap) or with nullptr (dallocx(nullptr) crashes, unlike
// free(nullptr)). Every block this allocator hands out is recorded; the raw deleter frees recorded blocks with the
// backend and passes any other pointer to libtorch's default deleter. Storage deleters are bound per allocation.
//
// Memory comes back with releaseCachedMemory(), or is bounded by a cache limit (setAllocatorCacheLimit,
// CCP_DML_ALLOCATOR_CACHE_MB): after a large free, cached bytes above the limit are returned to the OS.
#include "common.h"

#include <c10/core/CPUAllocator.h>
#include <dlfcn.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ccp {

namespace {

// A backend: allocation, free, the bytes it keeps unused, and returning them to the OS.
struct Backend {
  std::string name = "system";
  void* (*alloc)(size_t) = nullptr;
  void (*free)(void*) = nullptr;
  double (*cached)() = nullptr;
  void (*release)() = nullptr;
};

Backend g_backend;
std::vector<std::string> g_notes;  // why backends were not used
std::mutex g_mu;
std::unordered_map<void*, size_t>* g_owned = nullptr;  // live blocks this allocator made -> bytes (guarded by g_mu)
std::atomic<int64_t> g_liveBytes{0};
std::atomic<int64_t> g_peakBytes{0};
std::atomic<uint64_t> g_allocs{0};
std::atomic<uint64_t> g_foreignFrees{0};
std::atomic<double> g_cacheLimit{-1};  // bytes; < 0: unbounded
c10::DeleterFnPtr g_defaultRawDeleter = nullptr;
constexpr size_t kLargeFree = 1 << 20;  // frees from this size on check the cache limit

// ---- tcmalloc ----
namespace tc {
void* (*memalign)(size_t, size_t) = nullptr;
void (*free)(void*) = nullptr;
int (*getProperty)(const char*, size_t*) = nullptr;
void (*releaseAll)() = nullptr;

void* Alloc(size_t n) { return memalign(64, n); }
void Free(void* p) { free(p); }
double Cached() {
  size_t v = 0;
  return getProperty("tcmalloc.pageheap_free_bytes", &v) ? static_cast<double>(v) : 0.0;
}
void Release() { releaseAll(); }

// Environment that gperftools reads while the library initialises (only during dlopen; restored afterwards).
class ScopedEnv {
 public:
  void Set(const char* k, const char* v) {
    const char* old = std::getenv(k);
    saved_.emplace_back(k, old ? std::optional<std::string>(old) : std::nullopt);
    setenv(k, v, 1);
  }
  ~ScopedEnv() {
    for (auto& [k, v] : saved_) v ? setenv(k.c_str(), v->c_str(), 1) : unsetenv(k.c_str());
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

bool Load(Backend& b) {
  void* lib = nullptr;
  {
    ScopedEnv env;
    env.Set("TCMALLOC_RELEASE_RATE", "0");  // keep freed pages mapped
    env.Set("TCMALLOC_SKIP_SBRK", "true");  // mmap only: glibc's heap owns the program break
    env.Set("TCMALLOC_LARGE_ALLOC_REPORT_THRESHOLD", "1099511627776");  // no "large alloc" lines on stderr
    lib = dlopen("libtcmalloc_minimal.so.4", RTLD_NOW | RTLD_LOCAL);
  }
  if (!lib) {
    const char* err = dlerror();
    g_notes.push_back(std::string("tcmalloc: ") + (err ? err : "not loadable") + " (Debian package libtcmalloc-minimal4)");
    return false;
  }
  memalign = reinterpret_cast<void* (*)(size_t, size_t)>(dlsym(lib, "tc_memalign"));
  free = reinterpret_cast<void (*)(void*)>(dlsym(lib, "tc_free"));
  getProperty = reinterpret_cast<int (*)(const char*, size_t*)>(dlsym(lib, "MallocExtension_GetNumericProperty"));
  releaseAll = reinterpret_cast<void (*)()>(dlsym(lib, "MallocExtension_ReleaseFreeMemory"));
  if (!memalign || !free || !getProperty || !releaseAll) {
    g_notes.push_back("tcmalloc: the library lacks tc_memalign / tc_free / MallocExtension_*");
    return false;
  }
  b = {"tcmalloc", &Alloc, &Free, &Cached, &Release};
  return true;
}
}  // namespace tc

// ---- jemalloc ----
namespace je {
void* (*mallocx)(size_t, int) = nullptr;
void (*dallocx)(void*, int) = nullptr;
int (*mallctl)(const char*, void*, size_t*, void*, size_t) = nullptr;
unsigned arena = 0;
int flags = 0;
// jemalloc's MALLOCX_* encoding (jemalloc/jemalloc.h, stable since 4.0).
constexpr int kAlign64 = 6;           // MALLOCX_LG_ALIGN(6)
constexpr int kTcacheNone = 1 << 8;   // MALLOCX_TCACHE_NONE
inline int ArenaFlag(unsigned a) { return static_cast<int>((a + 1) << 20); }  // MALLOCX_ARENA(a)

std::string Key(const char* what) { return "arena." + std::to_string(arena) + "." + what; }
size_t SizeStat(const std::string& name) {
  size_t v = 0;
  size_t len = sizeof(v);
  return mallctl(name.c_str(), &v, &len, nullptr, 0) == 0 ? v : 0;
}

void* Alloc(size_t n) { return mallocx(n, flags); }
void Free(void* p) { dallocx(p, kTcacheNone); }
double Cached() {
  uint64_t epoch = 1;
  size_t len = sizeof(epoch);
  mallctl("epoch", &epoch, &len, &epoch, len);  // refreshes the statistics
  const std::string s = "stats.arenas." + std::to_string(arena) + ".";
  return static_cast<double>(SizeStat(s + "pdirty") + SizeStat(s + "pmuzzy")) * static_cast<double>(SizeStat("arenas.page"));
}
void Release() { mallctl(Key("purge").c_str(), nullptr, nullptr, nullptr, 0); }

bool Load(Backend& b) {
  void* lib = dlopen("libjemalloc.so.2", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char* err = dlerror();
    g_notes.push_back(std::string("jemalloc: ") + (err ? err : "not loadable") + " (Debian package libjemalloc2; start with GLIBC_TUNABLES=glibc.rtld.optional_static_tls=4096)");
    return false;
  }
  mallocx = reinterpret_cast<void* (*)(size_t, int)>(dlsym(lib, "mallocx"));
  dallocx = reinterpret_cast<void (*)(void*, int)>(dlsym(lib, "dallocx"));
  mallctl = reinterpret_cast<int (*)(const char*, void*, size_t*, void*, size_t)>(dlsym(lib, "mallctl"));
  if (!mallocx || !dallocx || !mallctl) {
    g_notes.push_back("jemalloc: the library lacks mallocx / dallocx / mallctl");
    return false;
  }
  size_t len = sizeof(arena);
  if (mallctl("arenas.create", &arena, &len, nullptr, 0) != 0) {
    g_notes.push_back("jemalloc: could not create an arena");
    return false;
  }
  ssize_t never = -1;  // keep freed pages mapped and dirty: no purge, no page faults on reuse
  if (mallctl(Key("dirty_decay_ms").c_str(), nullptr, nullptr, &never, sizeof(never)) != 0 ||
      mallctl(Key("muzzy_decay_ms").c_str(), nullptr, nullptr, &never, sizeof(never)) != 0) {
    g_notes.push_back("jemalloc: could not turn the arena's page decay off");
    return false;
  }
  // No thread cache: blocks go straight back to this arena (thread caches belong to the automatic arenas).
  flags = kAlign64 | ArenaFlag(arena) | kTcacheNone;
  b = {"jemalloc", &Alloc, &Free, &Cached, &Release};
  return true;
}
}  // namespace je

// ---- the c10 allocator ----
void* Allocate(size_t n) {
  void* p = g_backend.alloc(n);
  if (!p) return nullptr;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    g_owned->emplace(p, n);
  }
  const int64_t live = g_liveBytes.fetch_add(static_cast<int64_t>(n), std::memory_order_relaxed) + static_cast<int64_t>(n);
  int64_t peak = g_peakBytes.load(std::memory_order_relaxed);
  while (live > peak && !g_peakBytes.compare_exchange_weak(peak, live, std::memory_order_relaxed)) {
  }
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  return p;
}

// Removes p from the live blocks; 0 when this allocator did not make it, else its size.
size_t Forget(void* p) {
  size_t n = 0;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    auto it = g_owned->find(p);
    if (it == g_owned->end()) return 0;
    n = it->second;
    g_owned->erase(it);
  }
  g_liveBytes.fetch_sub(static_cast<int64_t>(n), std::memory_order_relaxed);
  return n;
}

void FreeOwned(void* p, size_t n) {
  g_backend.free(p);
  const double limit = g_cacheLimit.load(std::memory_order_relaxed);
  if (limit >= 0 && n >= kLargeFree && g_backend.cached() > limit) g_backend.release();
}

// Storage deleter: bound to blocks this allocator made.
void DeleteTensorData(void* p) {
  if (p) FreeOwned(p, Forget(p));
}

// raw_deallocate's deleter: any pointer, including nullptr and blocks made by the allocator installed before.
void DeleteRaw(void* p) {
  if (!p) return;
  if (size_t n = Forget(p)) {
    FreeOwned(p, n);
    return;
  }
  g_foreignFrees.fetch_add(1, std::memory_order_relaxed);
  if (g_defaultRawDeleter) g_defaultRawDeleter(p);
  else std::free(p);
}

// libtorch changed c10::Allocator in 2.3: allocate() lost its const, and copy_data() became pure virtual. Both
// allocate() overloads are defined so that whichever the libtorch declares is overridden (the abstract-class
// check at g_allocator catches a mismatch); copy_data() is an extra method before 2.3.
class RetainingCpuAllocator final : public c10::Allocator {
 public:
  c10::DataPtr allocate(size_t n) const { return AllocateData(n); }
  c10::DataPtr allocate(size_t n) { return AllocateData(n); }
  c10::DeleterFnPtr raw_deleter() const override { return &DeleteRaw; }
  void copy_data(void* dest, const void* src, std::size_t count) const {
    if (count) std::memcpy(dest, src, count);
  }

 private:
  static c10::DataPtr AllocateData(size_t n) {
    const c10::Device cpu(c10::DeviceType::CPU);
    if (n == 0) return {nullptr, nullptr, &DeleteTensorData, cpu};
    void* p = Allocate(n);
    if (!p) throw c10::Error({__func__, __FILE__, static_cast<uint32_t>(__LINE__)}, "CPU allocator (" + g_backend.name + "): out of memory allocating " + std::to_string(n) + " bytes");
    return {p, p, &DeleteTensorData, cpu};
  }
};

RetainingCpuAllocator g_allocator;

bool LoadBackend(const std::string& choice) {
  if (choice == "tcmalloc") return tc::Load(g_backend);
  if (choice == "jemalloc") return je::Load(g_backend);
  return tc::Load(g_backend) || je::Load(g_backend);  // auto
}

void Install() {
  const char* env = std::getenv("CCP_DML_ALLOCATOR");
  const std::string choice = env && *env ? env : "auto";
  if (choice == "system") {
    g_notes.push_back("CCP_DML_ALLOCATOR=system");
    return;
  }
  if (choice != "auto" && choice != "tcmalloc" && choice != "jemalloc") {
    g_notes.push_back("unknown CCP_DML_ALLOCATOR '" + choice + "' (expected auto, tcmalloc, jemalloc or system)");
    return;
  }
  if (!LoadBackend(choice)) {
    g_backend = Backend();
    return;
  }
  if (const char* mb = std::getenv("CCP_DML_ALLOCATOR_CACHE_MB")) g_cacheLimit = std::atof(mb) * 1048576.0;
  g_owned = new std::unordered_map<void*, size_t>();
  g_owned->reserve(1 << 14);
  g_defaultRawDeleter = c10::GetDefaultCPUAllocator()->raw_deleter();
  // Priority above the default allocator's, so that nothing registered later at priority 0 replaces it.
  c10::SetCPUAllocator(&g_allocator, 1);
}

bool Active() { return g_backend.alloc != nullptr; }

}  // namespace

void InstallCpuAllocator() {
  try {
    Install();
  } catch (const std::exception& e) {
    g_notes.push_back(std::string("installing the allocator failed: ") + e.what());
    g_backend = Backend();
  }
}

void InitAllocator(Napi::Env env, Napi::Object exports) {
  // allocatorInfo() -> { backend, notes, liveBytes, peakBytes, allocations, foreignFrees, cachedBytes, cacheLimitBytes }
  DEF("allocatorInfo", Napi::Env e = info.Env(); Napi::Object o = Napi::Object::New(e);
      o.Set("backend", g_backend.name);
      auto notes = Napi::Array::New(e, g_notes.size());
      for (size_t i = 0; i < g_notes.size(); ++i) notes.Set(static_cast<uint32_t>(i), g_notes[i]);
      o.Set("notes", notes);
      o.Set("liveBytes", static_cast<double>(g_liveBytes.load()));
      o.Set("peakBytes", static_cast<double>(g_peakBytes.load()));
      o.Set("allocations", static_cast<double>(g_allocs.load()));
      o.Set("foreignFrees", static_cast<double>(g_foreignFrees.load()));
      o.Set("cachedBytes", Active() ? g_backend.cached() : 0.0);
      const double limit = g_cacheLimit.load();
      o.Set("cacheLimitBytes", limit < 0 ? e.Null() : Napi::Value(Napi::Number::New(e, limit)));
      return o;);
  // releaseCachedMemory() -> bytes the allocator held unused before returning them to the OS (0: system allocator).
  DEF("releaseCachedMemory", if (!Active()) return Napi::Number::New(info.Env(), 0);
      const double before = g_backend.cached();
      g_backend.release();
      return Napi::Number::New(info.Env(), before););
  // setAllocatorCacheLimit(bytes | null): freed memory kept for reuse is bounded by `bytes` (null: unbounded).
  DEF("setAllocatorCacheLimit", auto v = ArgOptNumber(info, 0, "bytes");
      if (v && !(*v >= 0)) throw ArgError("bytes must be >= 0 or null, got " + std::to_string(*v));
      g_cacheLimit = v ? *v : -1.0;
      if (v && Active() && g_backend.cached() > *v) g_backend.release();
      return Napi::Boolean::New(info.Env(), Active()););
}

}  // namespace ccp
