// The CPU tensor allocator: tcmalloc (or a jemalloc arena) that keeps freed memory, so the next step's large
// tensors reuse mapped pages instead of page-faulting fresh ones (native/allocator.cc), or libtorch's default
// allocator when neither library is installed or CCP_DML_ALLOCATOR=system. The process's own malloc is never
// replaced.
import { native } from '../native/binding.js';

export interface AllocatorInfo {
  /** 'tcmalloc' or 'jemalloc' (retaining), or 'system' (libtorch's default allocator). */
  backend: 'tcmalloc' | 'jemalloc' | 'system';
  /** Why backends were not used (library missing, turned off). */
  notes: string[];
  /** Bytes of tensor memory allocated through the arena and not yet freed. */
  liveBytes: number;
  /** Most liveBytes seen at once. */
  peakBytes: number;
  /** Allocations so far. */
  allocations: number;
  /** Raw frees of blocks another allocator made (passed on to it). */
  foreignFrees: number;
  /** Freed bytes kept for reuse: what releaseCachedMemory() would return (0 with the system allocator). */
  cachedBytes: number;
  /** The cache bound (setAllocatorCacheLimit), null when unbounded. */
  cacheLimitBytes: number | null;
}

/** What the CPU tensor allocator is and holds. */
export function allocatorInfo(): AllocatorInfo {
  return native.allocatorInfo() as AllocatorInfo;
}

/**
 * Returns the freed tensor memory the allocator keeps for reuse to the OS (e.g. after training, before a
 * long-lived serving phase). Returns the bytes released (0 with the system allocator). The next large
 * allocations page-fault again.
 */
export function releaseCachedMemory(): number {
  return native.releaseCachedMemory() as number;
}

/**
 * Bounds the freed memory the allocator keeps: after a large free, when more than `bytes` are cached they all go
 * back to the OS (null: unbounded, the default). Also settable at start with CCP_DML_ALLOCATOR_CACHE_MB. Returns
 * false when the system allocator is in use (nothing to bound).
 */
export function setAllocatorCacheLimit(bytes: number | null): boolean {
  return native.setAllocatorCacheLimit(bytes) as boolean;
}
