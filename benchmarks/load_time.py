"""Cold and warm load times of the default model (run: python benchmarks/load_time.py).

Cold: the first load in a fresh process. Warm: the median of three more fresh
processes (the OS page cache now holds the file and the Python packages). Each load
parses the GGUF, dequantizes every tensor in torch and builds the tokenizer.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHILD = """
import json, time
t0 = time.perf_counter()
from llamalens.model.engine import Engine
t1 = time.perf_counter()
m = Engine.load({path!r}, device="cpu")
t2 = time.perf_counter()
ids = m.encode("The capital of France is").ids
top = m.top_next(ids, 1)[0]
t3 = time.perf_counter()
print(json.dumps({{"import_s": t1 - t0, "load_s": t2 - t1, "first_forward_s": t3 - t2,
                   "top": top.text}}))
"""


def measure(path: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD.format(path=path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from llamalens.model.default_model import default_model_path

    path = str(default_model_path())
    cold = measure(path)
    warm_runs = [measure(path) for _ in range(3)]
    warm = sorted(warm_runs, key=lambda r: r["load_s"])[1]
    print(f"default model: {path}")
    for name, r in (("cold", cold), ("warm", warm)):
        print(
            f"{name:5} load {r['load_s']:6.2f} s  (import {r['import_s']:.2f} s, first "
            f"forward {r['first_forward_s']:.2f} s, top {r['top']!r})"
        )
    print(f"warm/cold ratio {warm['load_s'] / cold['load_s']:.2f}")


if __name__ == "__main__":
    main()
