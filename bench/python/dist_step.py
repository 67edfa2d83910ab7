"""One rank of bench:dist's training-step comparison on the PyTorch side: DistributedDataParallel (gloo, env://
rendezvous like our ranks) around the same SmallCnn (or BN-Inception, BN frozen) as bench/python/train_bench.py, on the same fixed random global
batch (8 classes x B/8; this rank keeps rows [floor(r B / N), floor((r+1) B / N))), C2 (m+ 0, m- 0.5, N(v)) over
the global batch gathered with gradients (backward: all-reduce sum, own slice — as our allGatherWithGrad), DDP's
bucketed gradient average during backward + buffer broadcast, then weight decay 1e-4 added to non-BN gradients
(and the proxies'), the proximal term (CCP), clip_grad_norm_(10), clip_grad_value_(10), Adam. With world size 1
the model is not wrapped (as ours, whose reducer does nothing then). One thread (OMP_NUM_THREADS /
torch.set_num_threads).

Losses: 'contrastive' is plain C2; 'ccp' is train_bench.CcpLoss over C2 (0.1 C2(X, X) + 1.0 C2(X vs P)) with K = 8
proxies per class for C = 100 classes. The proxies are an nn.Parameter of a small module that holds the network
too, so DDP broadcasts them from rank 0 and averages their gradient in its buckets like the network's (ours: the
proxies are among the GradientReducer's tensors). The regulariser grad += lambda (theta - theta_anchor), lambda =
2e-4, acts on the network weights from the first step, anchor = the initial weights (ours: the same, as after a
projection with decay 1).
argv: <model small_cnn|bninception> <loss contrastive|ccp> <global batch> <image size> <warm-up steps> <timed steps>;
rank 0 prints {"ms": [...], "losses": [...]}. Bad arguments are refused by name (exit 2) before joining the group.
"""
import json
import math
import os
import sys
import time

import torch
import torch.distributed as dist
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_bench import SmallCnn, Contrastive, CcpLoss, build_model  # noqa: E402

LOSSES = ("contrastive", "ccp")
# bench/ranks/step-config.ts: CCP_STEP and the C2 margins.
CCP_CLASSES, CCP_K, CCP_LAMBDA = 100, 8, 2e-4
W_BATCH, W_PROXY = 0.1, 1.0
POS_MARGIN, NEG_MARGIN = 0.0, 0.5
BATCH_CLASSES = 8


def ccp_loss(proxies, num_classes):
    """The CCP loss of the 'ccp' case: CcpLoss over C2 with proxies [K C, D], row r of class r mod C."""
    labels = torch.arange(proxies.size(0)) % num_classes
    return CcpLoss(Contrastive(POS_MARGIN, NEG_MARGIN), proxies, labels, W_BATCH, W_PROXY)


def initial_proxies(rows, dim):
    """Keras' he_normal on [rows, dim] as ours (truncated at 2 std, std sqrt(2 / rows) / 0.8796)."""
    std = math.sqrt(2.0 / rows) / 0.87962566103423978
    return nn.init.trunc_normal_(torch.empty(rows, dim), std=std, a=-2 * std, b=2 * std)


class WithProxies(nn.Module):
    """The network and the CCP proxies in one module, for DDP; forward is the network's (the loss reads the proxies)."""

    def __init__(self, net, proxies):
        super().__init__()
        self.net = net
        self.proxies = nn.Parameter(proxies)

    def forward(self, x):
        return self.net(x)


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


def parse_args(argv):
    if len(argv) != 6:
        raise ValueError(f"expected 6 arguments (model loss batch size warmup timed), got {len(argv)}")
    model_name, loss_name = argv[0], argv[1]
    if model_name not in ("small_cnn", "bninception"):
        raise ValueError(f"model: unknown model '{model_name}' (expected small_cnn or bninception)")
    if loss_name not in LOSSES:
        raise ValueError(f"loss: unknown loss '{loss_name}' (expected {' or '.join(LOSSES)})")

    def count(name, value, low):
        try:
            n = int(value)
        except ValueError:
            n = None
        if n is None or n < low:
            raise ValueError(f"{name}: expected an integer >= {low}, got '{value}'")
        return n

    return (
        model_name,
        loss_name,
        count("global batch", argv[2], 1),
        count("image size", argv[3], 1),
        count("warm-up steps", argv[4], 0),
        count("timed steps", argv[5], 1),
    )


def main():
    try:
        model_name, loss_name, B, size, warmup, timed = parse_args(sys.argv[1:])
    except ValueError as e:
        print(f"dist_step.py: {e}", file=sys.stderr)
        sys.exit(2)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    dist.init_process_group("gloo", init_method="env://")
    rank, n = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(1)
    large = model_name == "bninception"
    ccp = loss_name == "ccp"
    net = build_model({"model": "bninception", "dim": 128}) if large else SmallCnn(1, (32, 64, 128), 128)
    net.train()
    if large:
        # BN frozen as the paper (ours: freezeBatchNorm): running statistics, no affine training.
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.eval()
                for q in m.parameters():
                    q.requires_grad_(False)
    module = WithProxies(net, initial_proxies(CCP_K * CCP_CLASSES, 128)) if ccp else net
    # DDP broadcasts rank 0's parameters (the proxies too) and buffers at construction.
    model = nn.parallel.DistributedDataParallel(module) if n > 1 else module
    bn = {m for m in net.modules() if isinstance(m, nn.BatchNorm2d)}
    decay = [m.weight for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear)) and m not in bn]
    theta = [p for p in net.parameters() if p.requires_grad]
    proxies = [module.proxies] if ccp else []
    decay += proxies
    params = theta + proxies
    anchors = [p.detach().clone() for p in theta] if ccp else []
    opt = torch.optim.Adam(params, lr=1e-4, betas=(0.9, 0.999), eps=1e-7)
    loss_fn = ccp_loss(module.proxies, CCP_CLASSES) if ccp else Contrastive(POS_MARGIN, NEG_MARGIN)
    start, end = (rank * B) // n, ((rank + 1) * B) // n
    x = torch.randn(B, 3 if large else 1, size, size)[start:end].contiguous()
    y = (torch.arange(B) % BATCH_CLASSES)[start:end].contiguous()

    def step():
        emb = model(x)
        if n > 1:
            emb = AllGatherWithGrad.apply(emb)
            labels = [torch.empty_like(y) for _ in range(n)]
            dist.all_gather(labels, y)
            labels = torch.cat(labels)
        else:
            labels = y
        loss = loss_fn(emb, labels)
        loss.backward()
        value = loss.item()
        with torch.no_grad():
            for p in decay:
                p.grad.add_(p, alpha=1e-4)
            for p, a in zip(theta, anchors):
                p.grad.add_(p - a, alpha=CCP_LAMBDA)
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
