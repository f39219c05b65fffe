"""A captured run's own peak memory against the Trace it produces (target <= 1.5x).

Run: python benchmarks/capture_memory.py [--tokens 1024,4096]

For each length, in a fresh process: load the default model, reset the kernel's peak-RSS
mark (``/proc/self/clear_refs``), run one captured forward pass of random token ids, and
print (peak RSS during the run - RSS before it) / the Trace's bytes. Linux only. Prints
numbers, asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = """
import json, numpy as np
from pathlib import Path
from llamalens.model.engine import Engine

def rss(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1]) * 1024

engine = Engine.load(device="cpu")
ids = np.random.default_rng(0).integers(100, engine.config.vocab_size - 100, {n}).tolist()
engine.trace(ids[:16])  # warm-up: the first run allocates torch's pools
before = rss("VmRSS:")
Path("/proc/self/clear_refs").write_text("5")  # peak RSS := current RSS
trace = engine.trace(ids)
peak = rss("VmHWM:")
print(json.dumps({{"tokens": {n}, "trace_mb": trace.nbytes / 2**20,
                   "run_mb": (peak - before) / 2**20}}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", default="1024,4096")
    args = parser.parse_args()
    for n in (int(x) for x in args.tokens.split(",")):
        out = subprocess.run(
            [sys.executable, "-c", CHILD.format(n=n)], capture_output=True, text=True, check=True
        )
        row = json.loads(out.stdout.strip().splitlines()[-1])
        ratio = row["run_mb"] / row["trace_mb"]
        print(
            f"{n:6d} tokens: trace {row['trace_mb']:8.1f} MB, the run's own peak "
            f"{row['run_mb']:8.1f} MB = {ratio:4.2f} x the trace (target <= 1.5)"
        )


if __name__ == "__main__":
    main()
