"""Peak memory of a big checkpoint: a random Llama-3-8B- or 1B-shaped bf16 Meta checkpoint.

Run: python benchmarks/big_checkpoint.py [--shape 8b|1b] [--keep DIR]

Writes ``params.json`` and ``consolidated.00.pth`` into a temporary directory (the
weights go through a file-backed buffer filled layer by layer, so writing needs little
memory), runs ``llamalens next`` on it in a child process for each compute dtype and
prints the child's peak RSS divided by the file size (target <= 1.2) and the forward's
time. The checkpoint is deleted afterwards unless --keep is given. Needs about twice the
file size of free disk (8B: 2 x 15 GiB). Prints numbers, asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

SHAPES = {  # Meta params.json of the real models (Llama 3 8B, Llama 3.2 1B)
    "8b": dict(dim=4096, n_layers=32, n_heads=32, n_kv_heads=8, vocab_size=128256,
               ffn_dim_multiplier=1.3, multiple_of=1024, norm_eps=1e-5, rope_theta=500000.0),
    "1b": dict(dim=2048, n_layers=16, n_heads=32, n_kv_heads=8, vocab_size=128256,
               ffn_dim_multiplier=1.5, multiple_of=256, norm_eps=1e-5, rope_theta=500000.0,
               use_scaled_rope=True),
}  # fmt: skip
PROMPT = "The capital of France is"


def hidden_dim(p: dict) -> int:
    hidden = int(p["ffn_dim_multiplier"] * int(2 * 4 * p["dim"] / 3))
    return p["multiple_of"] * ((hidden + p["multiple_of"] - 1) // p["multiple_of"])


def shapes(p: dict) -> list[tuple[str, tuple[int, ...]]]:
    d, hd, f = p["dim"], p["dim"] // p["n_heads"], hidden_dim(p)
    out = [("tok_embeddings.weight", (p["vocab_size"], d))]
    for i in range(p["n_layers"]):
        pre = f"layers.{i}."
        out += [
            (pre + "attention.wq.weight", (p["n_heads"] * hd, d)),
            (pre + "attention.wk.weight", (p["n_kv_heads"] * hd, d)),
            (pre + "attention.wv.weight", (p["n_kv_heads"] * hd, d)),
            (pre + "attention.wo.weight", (d, p["n_heads"] * hd)),
            (pre + "feed_forward.w1.weight", (f, d)),
            (pre + "feed_forward.w2.weight", (d, f)),
            (pre + "feed_forward.w3.weight", (f, d)),
            (pre + "attention_norm.weight", (d,)),
            (pre + "ffn_norm.weight", (d,)),
        ]
    return out + [("norm.weight", (d,)), ("output.weight", (p["vocab_size"], d))]


def write_checkpoint(directory: Path, p: dict) -> Path:
    """params.json + consolidated.00.pth of random bf16 weights, filled tensor by tensor."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "params.json").write_text(json.dumps(p))
    layout = shapes(p)
    total = sum(torch.Size(s).numel() for _, s in layout)
    backing = directory / "weights.bin"
    storage = torch.from_file(str(backing), shared=True, size=total, dtype=torch.bfloat16)
    gen = torch.Generator().manual_seed(0)
    state, offset = {}, 0
    for name, shape in layout:
        n = torch.Size(shape).numel()
        t = storage[offset : offset + n].view(shape)
        if name.endswith("norm.weight"):
            t.fill_(1.0)
        else:  # one row block at a time keeps the float32 temporaries small
            rows = t.view(shape[0], -1)
            for start in range(0, shape[0], 1024):
                block = torch.randn(rows[start : start + 1024].shape, generator=gen)
                rows[start : start + 1024] = block / shape[-1] ** 0.5
        state[name] = t
        offset += n
    torch.save(state, directory / "consolidated.00.pth")
    del state, storage
    backing.unlink()
    write_tokenizer(directory)
    return directory / "consolidated.00.pth"


def write_tokenizer(directory: Path) -> None:
    """Meta's Llama 3 tokenizer.model, from the llama-models package (a test dependency)."""
    import llama_models.llama3.tokenizer as meta

    source = Path(meta.__file__).with_name("tokenizer.model")
    shutil.copy(source, directory / "tokenizer.model")


def peak_of(cmd: list[str]) -> tuple[float, float, str]:
    """Run ``cmd``: its peak RSS (from /proc, polled) in bytes, wall seconds, the line that
    reports the forward pass (or the last line, e.g. an error)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    status = Path(f"/proc/{proc.pid}/status")
    while proc.poll() is None:
        try:
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) * 1024)
        except OSError:
            pass
        time.sleep(0.2)
    out, err = proc.communicate()
    lines = out.strip().splitlines() or err.strip().splitlines() or [""]
    forward = [line for line in lines if "forward in" in line]
    return peak, time.perf_counter() - start, (forward or lines)[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", choices=sorted(SHAPES), default="8b")
    parser.add_argument("--dtypes", default="auto,bf16", help="compute dtypes to run")
    parser.add_argument("--keep", metavar="DIR", help="write (or reuse) the checkpoint here")
    args = parser.parse_args()
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="llamalens-big-"))
    try:
        pth = root / "consolidated.00.pth"
        if not pth.exists():
            start = time.perf_counter()
            write_checkpoint(root, SHAPES[args.shape])
            print(f"wrote {args.shape} checkpoint in {time.perf_counter() - start:.0f} s")
        size = pth.stat().st_size
        print(f"{args.shape}: {size / 2**30:.2f} GiB file, {os.cpu_count()} cores")
        for dtype in args.dtypes.split(","):
            cmd = [sys.executable, "-m", "llamalens", "next", "--model", str(root), "--prompt",
                   PROMPT, "--top", "3", "--dtype", dtype, "--device", "cpu"]  # fmt: skip
            peak, seconds, last = peak_of(cmd)
            print(
                f"  next --dtype {dtype:4s}: peak RSS {peak / 2**30:6.2f} GiB = "
                f"{peak / size:4.2f} x the file (target <= 1.2), {seconds:6.1f} s  [{last}]"
            )
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
