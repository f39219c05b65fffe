"""Cold and warm load times of the default model (run: python benchmarks/load_time.py).

Cold: an empty weight cache (a fresh temporary cache directory), so the GGUF is
dequantized. Warm: a second load in a fresh process that finds the cache.
Each load runs in its own subprocess so that nothing stays warm in memory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHILD = """
import json, time
t0 = time.perf_counter()
from model.runtime import load_model
t1 = time.perf_counter()
m = load_model({path!r}, device="cpu")
t2 = time.perf_counter()
ids = m.encode("The capital of France is")
top = m.top_next(ids, 1)[0]
t3 = time.perf_counter()
print(json.dumps({{"import_s": t1 - t0, "load_s": t2 - t1, "first_forward_s": t3 - t2,
                   "cache": m.checkpoint.metadata.get("cache"), "top": top.text}}))
"""


def measure(path: str, cache_dir: str) -> dict:
    env = dict(os.environ, LLAMALENS_CACHE_DIR=cache_dir)
    out = subprocess.run([sys.executable, "-c", CHILD.format(path=path)], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from model.default_model import default_model_path

    path = str(default_model_path())
    with tempfile.TemporaryDirectory() as cache:
        cold = measure(path, cache)
        warm = measure(path, cache)
        size = sum(f.stat().st_size for f in Path(cache).rglob("*") if f.is_file())
    print(f"default model: {path}")
    for name, r in (("cold", cold), ("warm", warm)):
        print(f"{name:5} load {r['load_s']:6.2f} s  (import {r['import_s']:.2f} s, first "
              f"forward {r['first_forward_s']:.2f} s, cache {r['cache']}, top {r['top']!r})")
    print(f"warm/cold ratio {warm['load_s'] / cold['load_s']:.2f}; weight cache "
          f"{size / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
