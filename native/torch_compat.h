// The libtorch API differences the binding meets between Debian's libtorch 1.13 and the 2.x releases (pip
// torch, the official LibTorch, CUDA builds): one name for each, chosen here, so the other files read the same
// for every version. Two are met beside their only user instead: c10::Allocator's interface inside the class
// that implements it (allocator.cc), and the autocast calls in the one file that includes their header
// (precision.cc). Checked by compiling against 1.13, 2.6 and 2.14 (scripts/check-torch-api.sh).
#pragma once
#include <torch/torch.h>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/variable.h>
#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>

#include <memory>
#include <type_traits>
#include <utility>

namespace ccp {

// Gloo and NCCL process groups: ProcessGroups in 1.x; since 2.0 they are Backends (a ProcessGroup now
// dispatches to one per device type). Both offer the same collectives, which is all the binding uses.
#if TORCH_VERSION_MAJOR >= 2
using CollectiveGroup = c10d::Backend;
#else
using CollectiveGroup = c10d::ProcessGroup;
#endif

// Autograd graph nodes: shared_ptr<Node> in 1.x and early 2.x, intrusive_ptr<Node> in later 2.x.
using NodePtr = decltype(torch::autograd::impl::grad_accumulator(std::declval<const torch::Tensor&>()));

template <typename P>
struct IsSharedPtr : std::false_type {};
template <typename T>
struct IsSharedPtr<std::shared_ptr<T>> : std::true_type {};

// A new node of type T, owned the way this libtorch owns nodes. With shared_ptr, libtorch's deleteNode frees a
// long chain of nodes without one level of recursion per node; the unqualified call is resolved only for
// that branch (through T's base, torch::autograd::Node), since later versions no longer declare it.
template <typename T, typename... Args>
auto MakeNode(Args&&... args) {
  if constexpr (IsSharedPtr<NodePtr>::value) {
    return std::shared_ptr<T>(new T(std::forward<Args>(args)...), [](T* node) { deleteNode(node); });
  } else {
    return c10::make_intrusive<T>(std::forward<Args>(args)...);
  }
}

// TCPStoreOptions::useLibUV (2.4 and later: true by default, yet a libtorch built without libuv, as Debian's,
// refuses it). Returns false where this libtorch has no such option.
template <typename Options>
auto SetUseLibUV(Options& options, bool on) -> decltype(options.useLibUV = on, true) {
  options.useLibUV = on;
  return true;
}
inline bool SetUseLibUV(...) { return false; }

}  // namespace ccp
