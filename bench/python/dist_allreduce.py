"""One rank of bench:dist's all-reduce throughput on the PyTorch side: torch.distributed with gloo, env://
rendezvous (MASTER_ADDR, MASTER_PORT, WORLD_SIZE, RANK, as our ranks), a float32 buffer of argv[1] bytes summed
argv[2] times after 2 warm-up rounds. Rank 0 prints {"seconds": [...]} (one per all-reduce).
"""
import json
import sys
import time

import torch
import torch.distributed as dist

nbytes, iters = int(sys.argv[1]), int(sys.argv[2])
torch.set_num_threads(1)
dist.init_process_group("gloo", init_method="env://")
buf = torch.ones(nbytes // 4, dtype=torch.float32)
for _ in range(2):
    dist.all_reduce(buf)
seconds = []
for _ in range(iters):
    dist.barrier()
    t0 = time.perf_counter()
    dist.all_reduce(buf)
    seconds.append(time.perf_counter() - t0)
if dist.get_rank() == 0:
    print(json.dumps({"seconds": seconds, "torch": torch.__version__}), flush=True)
dist.destroy_process_group()
