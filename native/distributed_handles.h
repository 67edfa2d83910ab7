// Handles shared by the c10d binding files (distributed.cc, grad_buckets.cc): stores and process groups reach
// JS as type-tagged Externals, and the argument helpers that unwrap them.
#pragma once
#include "common.h"
#include "torch_compat.h"

#include <chrono>
#include <string>
#include <torch/csrc/distributed/c10d/Store.hpp>

namespace ccp {

struct StoreHandle {
  c10::intrusive_ptr<c10d::Store> store;
};
struct GroupHandle {
  c10::intrusive_ptr<c10d::Store> store;  // keeps the rendezvous alive as long as the group
  c10::intrusive_ptr<CollectiveGroup> group;
  std::string backend;
};

inline constexpr napi_type_tag kGroupTag = {0x3b8e2f6a91c04d7eULL, 0xa4d51e7c20b96f38ULL};

template <typename T>
Napi::Value MakeHandle(Napi::Env env, T* handle, const napi_type_tag& tag) {
  auto ext = Napi::External<T>::New(env, handle, [](Napi::Env, T* h) { delete h; });
  napi_type_tag_object(env, ext, &tag);
  return ext;
}

template <typename T>
T* ArgHandle(Info info, size_t i, const napi_type_tag& tag, const char* name) {
  bool tagged = false;
  if (i >= info.Length() || !info[i].IsExternal() || napi_check_object_type_tag(info.Env(), info[i], &tag, &tagged) != napi_ok || !tagged)
    throw ArgError(std::string(name) + " must be a handle made by this module");
  return info[i].As<Napi::External<T>>().Data();
}

inline GroupHandle& ArgGroup(Info info, size_t i) {
  auto* h = ArgHandle<GroupHandle>(info, i, kGroupTag, "group");
  if (!h->group) throw ArgError("the process group was destroyed");
  return *h;
}

inline std::chrono::milliseconds ArgTimeout(Info info, size_t i) {
  int64_t ms = ArgInt(info, i, "timeoutMs");
  if (ms < 1) throw ArgError("timeoutMs must be >= 1, got " + std::to_string(ms));
  return std::chrono::milliseconds(ms);
}

}  // namespace ccp
