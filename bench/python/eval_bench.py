#!/usr/bin/python3
"""PyTorch side of bench/eval.bench.ts: MAP@R and P@1 of self-retrieval on the same embeddings, with the
same algorithm as src/evaluation (N(v) normalisation, chunked addmm scores ||r||^2 - 2<q, r>, self excluded
by index, topk of k = max R_q, MAP@R / P@1 over queries with R_q > 0). Plain topk: no tie re-ordering.

Usage: /usr/bin/python3 bench/python/eval_bench.py <dir with emb.f32 and labels.i32> <n> <dim> <threads> <chunk>
Prints one JSON line: {"ms", "mapAtR", "precisionAt1", "k", "hwmKB", "baseKB", ...}.
"""
import json
import sys
import time

import numpy as np
import torch


def status_kb(field):
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    return -1


def evaluate(emb_np, labels_np, chunk):
    x = torch.from_numpy(emb_np)
    labels = torch.from_numpy(labels_np).long()
    with torch.no_grad():
        x = x / x.norm(dim=1, keepdim=True).clamp(min=1.0)
        n = x.shape[0]
        _, inverse, counts = torch.unique(labels, return_inverse=True, return_counts=True)
        rq = counts[inverse] - 1
        k = int(rq.max())
        w = (x * -2).contiguous()
        sq = (x * x).sum(1)
        knn_labels = torch.empty((n, k), dtype=torch.long)
        for s in range(0, n, chunk):
            c = min(chunk, n - s)
            scores = torch.addmm(sq, x[s:s + c], w.t())
            scores.diagonal(s).fill_(float('inf'))
            idx = torch.topk(scores, k, dim=1, largest=False, sorted=True).indices
            knn_labels[s:s + c] = labels[idx]
            del scores, idx  # free this chunk before the next one is allocated (as ours does)
        keep = rq > 0
        rel = (knn_labels[keep] == labels[keep, None]).double()
        r = rq[keep]
        ranks = torch.arange(1, k + 1, dtype=torch.float64)
        within = ranks[None, :] <= r[:, None]
        rel = rel * within
        prec = torch.cumsum(rel, 1) / ranks[None, :]
        map_r = ((prec * rel).sum(1) / r).mean().item()
        p1 = rel[:, 0].mean().item()
    return map_r, p1, k


def main():
    d, n, dim, threads, chunk = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    torch.set_num_threads(threads)
    emb = np.fromfile(f'{d}/emb.f32', dtype=np.float32).reshape(n, dim)
    labels = np.fromfile(f'{d}/labels.i32', dtype=np.int32)
    # warm-up on a small slice (first-call costs of the kernels), then the timed run
    evaluate(emb[:2000].copy(), labels[:2000].copy(), chunk)
    base = status_kb('VmRSS')
    t0 = time.perf_counter()
    map_r, p1, k = evaluate(emb, labels, chunk)
    ms = (time.perf_counter() - t0) * 1000
    print(json.dumps({'ms': ms, 'mapAtR': map_r, 'precisionAt1': p1, 'k': k, 'hwmKB': status_kb('VmHWM'), 'baseKB': base,
                      'threads': torch.get_num_threads(), 'torch': torch.__version__}))


if __name__ == '__main__':
    main()
