import time, torch, sys, os
sys.path.insert(0, '../../scripts/fixtures')
from models_reference import BNInceptionTrunk, Net
from train_bench import Head
torch.set_num_threads(2)
m = Net(BNInceptionTrunk(1.0, 3), Head(1024, 128)); m.train()
for mod in m.modules():
    if isinstance(mod, torch.nn.BatchNorm2d):
        mod.eval(); [p.requires_grad_(False) for p in mod.parameters()]
x = torch.rand(32, 3, 227, 227)
for i in range(5):
    t0=time.perf_counter(); y=m(x); del y; print('fwd', round((time.perf_counter()-t0)*1000))
