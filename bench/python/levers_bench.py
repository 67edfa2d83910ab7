"""PyTorch side of bench/train-levers.bench.ts: training steps and embedding throughput of the built-in
models, as a PyTorch user runs them by default and with ccp-dml's speed levers.

Variants (one worker process each; the allocator is chosen at process start by the TypeScript side):
  default : float32, NCHW, glibc malloc as is, threads = cores (what `import torch` gives a user)
  levers  : tcmalloc preloaded (LD_PRELOAD, the allocator ccp-dml uses), channels_last model and input, and
            bf16 autocast around the backbone when the request says so

Requests (one JSON line each, replies likewise; first line printed: {"ready": true, "torch": ..., "threads": n}):
  {"cmd": "step", "model": m, "input": [B, C, H, W], "dim": D, "classes": n, "K": k, "channelsLast": b,
   "bf16": b, "freezeBN": b, "iters": N, "warmup": W}
      -> {"times": [ms per step], "faults": [minor page faults per step]}
     One step = forward, C2-CCP loss (0.1 * contrastive on the batch + contrastive of the batch against
     classes x K proxies, N(v) normalised), backward, then the same gradient pipeline as ours (the run config of
     bench/train-levers.bench.ts: coupled weight decay 1e-4 added to the non-BN weights' and the proxies'
     gradients, clip_grad_norm_(10), clip_grad_value_(10)), Adam step, zero_grad. The network dominates the cost.
  {"cmd": "embed", ... same model keys ..., "iters": N, "warmup": W} -> {"times": [ms per batch]} (inference mode)
  {"cmd": "memory"} -> {"vmHWM_kB": .., "vmRSS_kB": ..}

Models: scripts/fixtures/models_reference.py (the trunks our reference fixtures are made with).
Run with Debian's /usr/bin/python3 (python3-torch). Usage: levers_bench.py <threads>
"""
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F

from common import serve, set_threads

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "fixtures"))
from models_reference import BNInceptionTrunk, Head, Net, ResNetTrunk, SmallResNetTrunk  # noqa: E402


# The gradient pipeline of the run config on our side (optimizer: weightDecay 1e-4, clipNorm 10, clipValue 10).
WEIGHT_DECAY = 1e-4
CLIP = 10.0


def build(name, in_channels, dim):
    if name == "bninception":
        return Net(BNInceptionTrunk(1.0, in_channels), Head(1024, dim, "avg"))
    if name == "resnet50":
        return Net(ResNetTrunk(64, (3, 4, 6, 3), in_channels), Head(2048, dim, "avg"))
    if name == "small_resnet":
        return Net(SmallResNetTrunk(in_channels, (32, 64, 128), 1), Head(128, dim, "avg"))
    raise ValueError(f"unknown model {name!r}")


def normalize(v):
    n = v.norm(dim=1, keepdim=True).clamp_min(1.0)
    return v / n


def contrastive(d, same, neg_margin=0.5):
    pos = d[same]
    neg = (neg_margin - d[~same]).relu()
    return pos.mean() + (neg[neg > 0].mean() if (neg > 0).any() else neg.sum())


def c2ccp(emb, labels, proxies, proxy_labels):
    x = normalize(emb)
    p = normalize(proxies)
    d_xx = torch.cdist(x, x)
    same = labels[:, None] == labels[None, :]
    eye = torch.eye(len(labels), dtype=torch.bool)
    batch = contrastive(d_xx[~eye].view(len(labels), -1), same[~eye].view(len(labels), -1))
    d_xp = torch.cdist(x, p)
    return 0.1 * batch + contrastive(d_xp, labels[:, None] == proxy_labels[None, :])


def minor_faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


class Setup:
    def __init__(self, req):
        torch.manual_seed(0)
        b, c, h, w = req["input"]
        self.model = build(req["model"], c, req["dim"])
        self.cl = bool(req.get("channelsLast"))
        self.bf16 = bool(req.get("bf16"))
        self.frozen_bn = []
        if req.get("freezeBN"):
            for m in self.model.modules():
                if isinstance(m, torch.nn.BatchNorm2d):
                    self.frozen_bn.append(m)
                    for p in m.parameters():
                        p.requires_grad_(False)
        self.x = torch.randn(b, c, h, w)
        if self.cl:
            self.model = self.model.to(memory_format=torch.channels_last)
            self.x = self.x.contiguous(memory_format=torch.channels_last)
        classes, k = req.get("classes", 100), req.get("K", 8)
        per = max(1, b // 8)
        self.labels = torch.arange(b) // per
        self.proxies = torch.randn(classes * k, req["dim"], requires_grad=True)
        self.proxy_labels = torch.arange(classes).repeat_interleave(k)
        params = [p for p in self.model.parameters() if p.requires_grad]
        bn = {id(p) for m in self.model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for p in m.parameters()}
        self.decay = [p for p in params if id(p) not in bn] + [self.proxies]
        self.all = params + [self.proxies]
        self.opt = torch.optim.Adam([{"params": params}, {"params": [self.proxies], "lr": 1e-2}], lr=1e-4)

    def forward(self):
        if self.bf16:
            with torch.autocast("cpu", dtype=torch.bfloat16):
                f = self.model.backbone(self.x)
            return self.model.head(f.float())
        return self.model(self.x)

    def step(self):
        self.model.train()
        # BN frozen as ours (freezeBatchNorm): running statistics, so back to eval after train() reset them.
        for m in self.frozen_bn:
            m.eval()
        loss = c2ccp(self.forward(), self.labels, self.proxies, self.proxy_labels)
        loss.backward()
        with torch.no_grad():
            for p in self.decay:
                if p.grad is not None:
                    p.grad.add_(p, alpha=WEIGHT_DECAY)
        torch.nn.utils.clip_grad_norm_(self.all, CLIP)
        torch.nn.utils.clip_grad_value_(self.all, CLIP)
        self.opt.step()
        self.opt.zero_grad(set_to_none=True)
        return loss.item()

    def embed(self):
        self.model.eval()
        with torch.inference_mode():
            return self.forward().sum().item()


def timed(fn, iters, warmup):
    for _ in range(warmup):
        fn()
    times, faults = [], []
    for _ in range(iters):
        f0 = minor_faults()
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
        faults.append(minor_faults() - f0)
    return {"times": times, "faults": faults}


def memory():
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("VmHWM", "VmRSS")):
                k, v = line.split(":")
                out[k + "_kB"] = int(v.split()[0])
    return {"vmHWM_kB": out.get("VmHWM_kB"), "vmRSS_kB": out.get("VmRSS_kB")}


def handle(req):
    cmd = req.get("cmd")
    if cmd in ("step", "embed"):
        s = Setup(req)
        return timed(s.step if cmd == "step" else s.embed, req["iters"], req["warmup"])
    if cmd == "memory":
        return memory()
    raise ValueError(f"unknown cmd {cmd!r}")


def main():
    set_threads()
    serve(handle, {"preload": os.environ.get("LD_PRELOAD", "")})


if __name__ == "__main__":
    main()
