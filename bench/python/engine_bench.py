"""PyTorch side of bench/engine.bench.ts: a worker answering one JSON request per stdin line.

Request:  {"case": "ops" | "matmul" | "conv" | "resnet", "iters": K, "warmup": W}
Reply:    {"times": [ms, ...]}   (one wall time per timed iteration)
First line printed on start: {"ready": true, "torch": version, "threads": n}

Usage: engine_bench.py <threads> [levers]
  default: float32, NCHW, the allocator the process has (glibc malloc: what `import torch` gives a user)
  levers : channels_last input, weights and model for the conv and resnet cases; the TypeScript side preloads
           tcmalloc (LD_PRELOAD), the allocator ccp-dml uses
Run with Debian's /usr/bin/python3 (python3-torch).
"""
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from common import serve, set_threads


def basic_block(cin, cout, stride):
    return Block(cin, cout, stride)


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (x if self.shortcut is None else self.shortcut(x)))


# Same architecture as smallResNet() in bench/engine.bench.ts.
BLOCKS = [(32, 32, 1), (32, 64, 2), (64, 64, 1), (64, 128, 2)]


class SmallResNet(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU())
        self.blocks = nn.Sequential(*[Block(*b) for b in BLOCKS])
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(BLOCKS[-1][1], classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.blocks(self.stem(x))), 1))


class Cases:
    def __init__(self, channels_last):
        self.state = {}
        self.layout = torch.channels_last if channels_last else torch.contiguous_format

    def setup(self, name):
        if name in self.state:
            return self.state[name]
        torch.manual_seed(0)
        if name == "ops":
            sx = torch.randn(8)
            sy = torch.randn(8)

            def fn():
                with torch.no_grad():
                    v = sx
                    for _ in range(250):
                        v = (((v + sy) * 0.5).relu().sum(0, keepdim=True)) + sx
                    return v
        elif name == "matmul":
            a = torch.randn(1024, 1024)
            b = torch.randn(1024, 1024)
            fn = lambda: torch.matmul(a, b)
        elif name == "conv":
            x = torch.randn(64, 64, 32, 32).contiguous(memory_format=self.layout).requires_grad_()
            w = (torch.randn(64, 64, 3, 3) * 0.05).contiguous(memory_format=self.layout).requires_grad_()

            def fn():
                x.grad = None
                w.grad = None
                y = F.conv2d(x, w, padding=1)
                y.sum().backward()
        elif name == "resnet":
            model = SmallResNet().to(memory_format=self.layout)
            model.train()
            opt = torch.optim.Adam(model.parameters(), lr=1e-3)
            x = torch.randn(64, 3, 32, 32).contiguous(memory_format=self.layout)
            y = torch.randint(0, 10, (64,))

            def fn():
                opt.zero_grad(set_to_none=True)
                loss = F.cross_entropy(model(x), y)
                loss.backward()
                opt.step()
                return loss.item()
        else:
            raise ValueError(f"unknown case {name!r}")
        self.state[name] = fn
        return fn

    def run(self, name, iters, warmup):
        fn = self.setup(name)
        for _ in range(warmup):
            fn()
        times = []
        for _ in range(iters):
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1000.0)
        return times


def main():
    set_threads()
    cases = Cases(channels_last=len(sys.argv) > 2 and sys.argv[2] == "levers")
    serve(
        lambda req: {"times": cases.run(req["case"], int(req.get("iters", 1)), int(req.get("warmup", 0)))},
        {"preload": os.environ.get("LD_PRELOAD", "")},
    )


if __name__ == "__main__":
    main()
