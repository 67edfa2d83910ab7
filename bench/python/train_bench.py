"""PyTorch side of bench/train.bench.ts: the same training steps as ccp-dml, written with torch.nn.

A worker answering one JSON request per stdin line (first line printed: {"ready": true, "torch": ..., "threads": n}).

Requests:
  {"cmd": "setup", "dir": D}                 load the exported weights / data of every case from D (manifest.json)
  {"cmd": "steps", "case": name, "iters": N, "warmup": W}
      -> {"times": [ms...], "faults": [minor page faults per step], "phases": {"model": [...], "loss": [...], "backward": [...], "grads": [...], "optim": [...]},
          "losses": [loss value of every warm-up and timed step]}
  {"cmd": "kcenter", "C": C, "K": K, "bPrime": b, "D": D, "iters": N, "warmup": W, "seed": s} -> {"times": [ms...]}
  {"cmd": "memory"} -> {"vmHWM_kB": .., "vmRSS_kB": ..}

The math mirrors src/losses and src/ccp exactly (same op sequence):
  N(v): v if ||v|| <= 1 else v / ||v||, custom backward (g - <N(v), g> N(v)) / ||v|| where ||v|| > 1, else g.
  Euclidean distance sqrt(relu(|a|^2 + |b|^2 - 2ab)) with zero gradient where d == 0; self matrix diagonal = 0.
  C2 contrastive: mean over active positive terms (d - m+) + mean over active negative terms (m- - d), eps 1e-16.
  CCP: 0.1 * C2(X, X) + 1.0 * C2(X vs P); proximal gradient lambda (theta - anchor) on network weights.
  ProxyAnchor: cos = <N(p), N(x)>, rows = proxies, log(1 + sum exp) as a logsumexp with an extra 0 logit.
Per step: forward, loss, backward, loss.item(), g += wd * w (non-BN weights and proxies), proximal gradient (CCP),
clip_grad_norm_(10), clip_grad_value_(10), Adam step, zero_grad(set_to_none=True).

Run with Debian's /usr/bin/python3 (python3-torch). Usage: train_bench.py <threads>
"""
import json
import os
import resource
import time

import sys

import numpy as np
import torch
import torch.nn as nn

from common import serve, set_threads

# BN-Inception as the reference fixtures build it (same module names as src/models/bninception.ts).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "fixtures"))
from models_reference import BNInceptionTrunk, Net  # noqa: E402


# ---------------------------------------------------------------- model (src/models/small-cnn.ts + head.ts)
class Head(nn.Module):
    def __init__(self, cin, dim):
        super().__init__()
        self.linear = nn.Linear(cin, dim, bias=False)

    def forward(self, x):
        return self.linear(x.mean([2, 3]))


def build_model(cfg):
    if cfg.get("model", "small_cnn") == "bninception":
        return Net(BNInceptionTrunk(1.0, 3), Head(1024, cfg["dim"]))
    return SmallCnn(1, tuple(cfg["channels"]), cfg["dim"])


class SmallCnn(nn.Module):
    """conv3x3(no bias)-BN-ReLU per width, MaxPool2d(2) between blocks, avg pool, Linear(no bias).
    Parameter names equal ours (backbone.0.weight, backbone.1.weight, ..., head.linear.weight)."""

    def __init__(self, in_channels=1, channels=(32, 64, 128), dim=128):
        super().__init__()
        layers = []
        cin = in_channels
        for i, w in enumerate(channels):
            layers += [nn.Conv2d(cin, w, 3, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU()]
            if i < len(channels) - 1:
                layers.append(nn.MaxPool2d(2))
            cin = w
        self.backbone = nn.Sequential(*layers)
        self.head = Head(cin, dim)

    def forward(self, x):
        return self.head(self.backbone(x))


# ---------------------------------------------------------------- losses (src/losses, src/ccp)
class LipschitzNormalize(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        norm = x.norm(2, -1, keepdim=True)
        nv = x / norm.clamp_min(1)
        ctx.save_for_backward(norm, nv)
        return nv.clone()

    @staticmethod
    def backward(ctx, g):
        norm, y = ctx.saved_tensors
        projected = (g - (y * g).sum(-1, keepdim=True) * y) / norm
        return torch.where(norm > 1, projected, g)


def lipschitz_normalize(v):
    if not v.requires_grad or not torch.is_grad_enabled():
        return v / v.norm(2, -1, keepdim=True).clamp_min(1)
    return LipschitzNormalize.apply(v)


def safe_sqrt(x):
    positive = x.detach() > 0
    return torch.where(positive, torch.where(positive, x, 1.0).sqrt(), 0.0)


def euclidean_distance(a, b=None):
    other = a if b is None else b
    a2 = a.square().sum(1, keepdim=True)
    b2 = other.square().sum(1, keepdim=True).t()
    sq = (a2 + b2 - (a @ other.t()) * 2).relu()
    d = safe_sqrt(sq)
    if b is not None:
        return d
    return d.masked_fill(torch.eye(a.size(0), dtype=torch.bool), 0)


def pair_masks(row_labels, col_labels=None):
    c = row_labels if col_labels is None else col_labels
    same = row_labels.unsqueeze(1) == c.unsqueeze(0)
    neg = same.logical_not()
    if col_labels is None:
        pos = same.logical_and(torch.eye(row_labels.size(0), dtype=torch.bool).logical_not())
    else:
        pos = same
    return pos, neg


def mean_of_active(terms):
    active = terms.detach() > 0
    count = active.sum(dtype=terms.dtype)
    return torch.where(active, terms, 0.0).sum() / (count + 1e-16)


class Contrastive:
    def __init__(self, pos_margin=0.0, neg_margin=0.5):
        self.pos_margin = pos_margin
        self.neg_margin = neg_margin

    def __call__(self, emb, labels, ref=None):
        x = lipschitz_normalize(emb)
        if ref is None:
            d = euclidean_distance(x)
            pos, neg = pair_masks(labels)
        else:
            r = lipschitz_normalize(ref[0])
            d = euclidean_distance(x, r)
            pos, neg = pair_masks(labels, ref[1])
        pos_terms = torch.where(pos, d - self.pos_margin, 0.0)
        neg_terms = torch.where(neg, self.neg_margin - d, 0.0)
        return mean_of_active(pos_terms) + mean_of_active(neg_terms)


class CcpLoss:
    def __init__(self, base, proxies, proxy_labels, w_batch=0.1, w_proxy=1.0):
        self.base = base
        self.proxies = proxies
        self.proxy_labels = proxy_labels
        self.w_batch = w_batch
        self.w_proxy = w_proxy

    def __call__(self, emb, labels):
        total = self.base(emb, labels) * self.w_batch
        return total + self.base(emb, labels, (self.proxies, self.proxy_labels)) * self.w_proxy


def masked_log1p_sum_exp(z, mask):
    zero = torch.zeros(z.size(0), 1, dtype=z.dtype)
    return torch.cat([zero, torch.where(mask, z, -float("inf"))], 1).logsumexp(1)


class ProxyAnchor:
    def __init__(self, proxies, proxy_labels, alpha=32.0, delta=0.1):
        self.proxies = proxies
        self.proxy_labels = proxy_labels
        self.alpha = alpha
        self.delta = delta

    def __call__(self, emb, labels):
        x = lipschitz_normalize(emb)
        p = lipschitz_normalize(self.proxies)
        s = p @ x.t()
        pos, neg = pair_masks(self.proxy_labels, labels)
        pos_term = masked_log1p_sum_exp((s - self.delta) * -self.alpha, pos)
        neg_term = masked_log1p_sum_exp((s + self.delta) * self.alpha, neg)
        num_pos = (pos.sum(1) > 0).sum(dtype=s.dtype).clamp_min(1)
        num_neg = (neg.sum(1) > 0).sum(dtype=s.dtype).clamp_min(1)
        return pos_term.sum() / num_pos + neg_term.sum() / num_neg


# ---------------------------------------------------------------- K-center (src/ccp/kcenter.ts, proxies.ts)
def sq_dist_to_centre(pool, centre):
    return (pool - centre).square().sum(-1)


def class_major_to_rows(t):
    C, K, D = t.shape
    return t.transpose(0, 1).contiguous().reshape(K * C, D)


def rows_to_class_major(p, C):
    R, D = p.shape
    return p.reshape(R // C, C, D).transpose(0, 1).contiguous()


@torch.no_grad()
def greedy_k_center(pool, prev, K):
    C, B, D = pool.shape
    m = None
    for k in range(prev.size(1)):
        d = sq_dist_to_centre(pool, prev.narrow(1, k, 1))
        m = d if m is None else torch.minimum(m, d)
    picks = []
    for _ in range(K):
        j = m.argmax(1, keepdim=True)
        chosen = pool.gather(1, j.unsqueeze(2).expand(C, 1, D))
        picks.append(chosen.squeeze(1))
        m = torch.minimum(m, sq_dist_to_centre(pool, chosen))
    return class_major_to_rows(torch.stack(picks, 1))


@torch.no_grad()
def reinitialize(proxies, best, pool, C):
    """ProxySet.reinitialize: P <- KCENTER(pool, P_best as [C, K, D], K), in place."""
    fresh = greedy_k_center(pool, rows_to_class_major(best, C), best.size(0) // C)
    proxies.copy_(fresh)


# ---------------------------------------------------------------- cases
def load_tensor(d, entry):
    dtype = {"float32": np.float32, "int64": np.int64}[entry["dtype"]]
    arr = np.fromfile(os.path.join(d, entry["file"]), dtype=dtype).reshape(entry["shape"])
    return torch.from_numpy(arr.copy())


class Case:
    def __init__(self, d, spec, batches):
        t = {name: load_tensor(d, e) for name, e in spec["tensors"].items()}
        cfg = spec["config"]
        self.batches = batches[cfg.get("model", "small_cnn")]  # the batch set of this model's input size
        self.model = build_model(cfg)
        self.model.load_state_dict({k[len("model."):]: v for k, v in t.items() if k.startswith("model.")}, strict=True)
        self.model.train()
        bn = {n for n, m in self.model.named_modules() if isinstance(m, nn.BatchNorm2d)}
        if cfg.get("model") == "bninception":
            # The paper freezes BN: running statistics (eval mode) and no affine training, as freezeBatchNorm does.
            for n, m in self.model.named_modules():
                if n in bn:
                    m.eval()
                    for q in m.parameters():
                        q.requires_grad_(False)
        named = [(n, p) for n, p in self.model.named_parameters() if p.requires_grad]
        net = [p for _, p in named]
        decay = [p for n, p in named if n.rsplit(".", 1)[0] not in bn]
        self.theta = net
        self.anchors = None
        self.lam = 0.0
        loss_params = []
        kind = cfg["loss"]
        if kind == "c2":
            self.loss = Contrastive(cfg["posMargin"], cfg["negMargin"])
        elif kind == "c2ccp":
            proxies = t["proxies"].requires_grad_(True)
            self.loss = CcpLoss(Contrastive(cfg["posMargin"], cfg["negMargin"]), proxies, t["proxy_labels"], cfg["wBatch"], cfg["wProxy"])
            loss_params = [proxies]
            self.lam = cfg["lambda"]
            self.anchors = [t["anchor." + n] for n, _ in named]
        elif kind == "proxy_anchor":
            proxies = t["proxies"].requires_grad_(True)
            self.loss = ProxyAnchor(proxies, t["proxy_labels"], cfg["alpha"], cfg["delta"])
            loss_params = [proxies]
        else:
            raise ValueError(f"unknown loss {kind!r}")
        self.decay = decay + loss_params
        self.all = net + loss_params
        self.wd = cfg["weightDecay"]
        self.clip_norm = cfg["clipNorm"]
        self.clip_value = cfg["clipValue"]
        groups = [{"params": net}]
        if loss_params:
            groups.append({"params": loss_params, "lr": cfg["lr"] * cfg["proxyLrMultiplier"]})
        self.opt = torch.optim.Adam(groups, lr=cfg["lr"], betas=(cfg["beta1"], cfg["beta2"]), eps=cfg["eps"])
        self.step_index = 0

    def step(self):
        x, y = self.batches[self.step_index % len(self.batches)]
        self.step_index += 1
        f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        t0 = time.perf_counter()
        emb = self.model(x)
        t1 = time.perf_counter()
        loss = self.loss(emb, y)
        t2 = time.perf_counter()
        loss.backward()
        value = loss.item()
        t3 = time.perf_counter()
        with torch.no_grad():
            for p in self.decay:
                if p.grad is not None:
                    p.grad.add_(p, alpha=self.wd)
            if self.anchors is not None and self.lam > 0:
                for p, a in zip(self.theta, self.anchors):
                    if p.grad is not None:
                        p.grad.add_(p - a, alpha=self.lam)
        torch.nn.utils.clip_grad_norm_(self.all, self.clip_norm)
        torch.nn.utils.clip_grad_value_(self.all, self.clip_value)
        t4 = time.perf_counter()
        self.opt.step()
        self.opt.zero_grad(set_to_none=True)
        t5 = time.perf_counter()
        ms = lambda a, b: (b - a) * 1000.0
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0
        return value, ms(t0, t5), (ms(t0, t1), ms(t1, t2), ms(t2, t3), ms(t3, t4), ms(t4, t5)), faults


PHASES = ["model", "loss", "backward", "grads", "optim"]


class Worker:
    def __init__(self):
        self.cases = {}

    def setup(self, d):
        with open(os.path.join(d, "manifest.json")) as f:
            manifest = json.load(f)
        data = {n: load_tensor(d, e) for n, e in manifest["data"].items()}
        batches = {k: [(data[x], data[y]) for x, y in names] for k, names in manifest["batches"].items()}
        self.cases = {name: Case(d, spec, batches) for name, spec in manifest["cases"].items()}
        return {"cases": sorted(self.cases)}

    def steps(self, name, iters, warmup):
        case = self.cases[name]
        losses = []
        for _ in range(warmup):
            losses.append(case.step()[0])
        times = []
        faults = []
        phases = {p: [] for p in PHASES}
        for _ in range(iters):
            value, total, parts, nf = case.step()
            losses.append(value)
            times.append(total)
            faults.append(nf)
            for p, v in zip(PHASES, parts):
                phases[p].append(v)
        return {"times": times, "phases": phases, "losses": losses, "faults": faults}

    def kcenter(self, C, K, b_prime, D, iters, warmup, seed):
        g = torch.Generator().manual_seed(seed)
        pool = torch.randn(C, b_prime, D, generator=g)
        proxies = torch.randn(K * C, D, generator=g).requires_grad_(True)
        best = torch.randn(K * C, D, generator=g)
        for _ in range(warmup):
            reinitialize(proxies, best, pool, C)
        times = []
        for _ in range(iters):
            t0 = time.perf_counter()
            reinitialize(proxies, best, pool, C)
            times.append((time.perf_counter() - t0) * 1000.0)
        return {"times": times}


def memory():
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("VmHWM:", "VmRSS:")):
                k, v = line.split(":", 1)
                out[k[:2].lower() + k[2:] + "_kB"] = int(v.split()[0])
    return out


def handle(w, req):
    cmd = req["cmd"]
    if cmd == "setup":
        return w.setup(req["dir"])
    if cmd == "steps":
        return w.steps(req["case"], int(req["iters"]), int(req.get("warmup", 0)))
    if cmd == "kcenter":
        return w.kcenter(req["C"], req["K"], req["bPrime"], req["D"], int(req["iters"]), int(req.get("warmup", 0)), int(req.get("seed", 0)))
    if cmd == "memory":
        return memory()
    raise ValueError(f"unknown cmd {cmd!r}")


def main():
    set_threads()
    w = Worker()
    serve(lambda req: handle(w, req), memory())


if __name__ == "__main__":
    main()
