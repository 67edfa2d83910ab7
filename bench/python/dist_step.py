"""One rank of bench:dist's training-step comparison on the PyTorch side: DistributedDataParallel (gloo, env://
rendezvous like our ranks) around the same SmallCnn (or BN-Inception, BN frozen) as bench/python/train_bench.py, on the same fixed random global
batch (8 classes x B/8; this rank keeps rows [floor(r B / N), floor((r+1) B / N))), plain contrastive C2 (m+ 0,
m- 0.5, N(v)) over the global batch gathered with gradients (backward: all-reduce sum, own slice — as our
allGatherWithGrad), DDP's bucketed gradient average during backward + buffer broadcast, then weight decay 1e-4
added to non-BN gradients, clip_grad_norm_(10), clip_grad_value_(10), Adam. With world size 1 the model is not
wrapped (as ours, which skips the reducer). One thread (OMP_NUM_THREADS / torch.set_num_threads).
argv: <model small_cnn|bninception> <global batch> <image size> <warm-up steps> <timed steps>; rank 0 prints {"ms": [...], "losses": [...]}.
"""
import json
import os
import sys
import time

import torch
import torch.distributed as dist
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_bench import SmallCnn, Contrastive, build_model  # noqa: E402


class AllGatherWithGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        parts = [torch.empty_like(x) for _ in range(dist.get_world_size())]
        dist.all_gather(parts, x.contiguous())
        ctx.rows = x.size(0)
        ctx.offset = sum(p.size(0) for p in parts[: dist.get_rank()])
        return torch.cat(parts, 0)

    @staticmethod
    def backward(ctx, g):
        g = g.contiguous().clone()
        dist.all_reduce(g)
        return g.narrow(0, ctx.offset, ctx.rows)


def main():
    model_name, B, size, warmup, timed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    dist.init_process_group("gloo", init_method="env://")
    rank, n = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(1)
    large = model_name == "bninception"
    net = build_model({"model": "bninception", "dim": 128}) if large else SmallCnn(1, (32, 64, 128), 128)
    net.train()
    if large:
        # BN frozen as the paper (ours: freezeBatchNorm): running statistics, no affine training.
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.eval()
                for q in m.parameters():
                    q.requires_grad_(False)
    model = nn.parallel.DistributedDataParallel(net) if n > 1 else net
    bn = {m for m in net.modules() if isinstance(m, nn.BatchNorm2d)}
    decay = [m.weight for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear)) and m not in bn]
    params = [p for p in net.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=1e-4, betas=(0.9, 0.999), eps=1e-7)
    loss_fn = Contrastive(0.0, 0.5)
    start, end = (rank * B) // n, ((rank + 1) * B) // n
    x = torch.randn(B, 3 if large else 1, size, size)[start:end].contiguous()
    y = (torch.arange(B) % 8)[start:end].contiguous()

    def step():
        emb = model(x)
        if n > 1:
            emb = AllGatherWithGrad.apply(emb)
            labels = [torch.empty_like(y) for _ in range(n)]
            dist.all_gather(labels, y)
            labels = torch.cat(labels)
        else:
            labels = y
        out = loss_fn(emb, labels)
        out.backward()
        value = out.item()
        with torch.no_grad():
            for p in decay:
                p.grad.add_(p, alpha=1e-4)
        torch.nn.utils.clip_grad_norm_(params, 10.0)
        torch.nn.utils.clip_grad_value_(params, 10.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        return value

    ms, losses = [], []
    for i in range(warmup + timed):
        dist.barrier()
        t0 = time.perf_counter()
        losses.append(step())
        if i >= warmup:
            ms.append((time.perf_counter() - t0) * 1000)
    if rank == 0:
        print(json.dumps({"ms": ms, "losses": losses, "torch": torch.__version__}), flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
