"""Shared by the PyTorch benchmark workers (engine_bench.py, train_bench.py): thread setup and the request loop.

A worker prints one line on start, {"ready": true, "torch": version, "threads": n, ...}, then answers one JSON
request per stdin line with one JSON reply per line ({"error": "..."} when the request fails).
"""
import json
import sys

import torch


def set_threads():
    """Uses the thread count given as argv[1] (default: torch's own)."""
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else torch.get_num_threads()
    torch.set_num_threads(threads)


def serve(handle, hello=None):
    """Prints the ready line (with the items of `hello` added), then replies handle(request) to every request."""
    print(json.dumps({"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads(), **(hello or {})}), flush=True)
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            reply = handle(json.loads(line))
            print(json.dumps(reply), flush=True)
        except Exception as e:  # reply with the error instead of dying
            print(json.dumps({"error": f"{type(e).__name__}: {e}"}), flush=True)
