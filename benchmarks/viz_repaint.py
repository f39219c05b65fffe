"""Median time of AttentionMap.set_map and HeadGrid.set_maps on random causal attention.

Run: python benchmarks/viz_repaint.py [--repeats N]
"set" is the setter alone; "+paint" adds rendering the whole widget (widget.grab()), so the
colour mapping and downsampling that pyqtgraph defers to paint time are counted too.
The last lines time ContactSheet.set_maps with all 30 layers × 9 heads of 512 tokens (the
default model's shape), on a fresh sheet and on one whose grid is reused.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from llamalens.viz.attention_map import AttentionMap  # noqa: E402
from llamalens.viz.contact_sheet import ContactSheet  # noqa: E402
from llamalens.viz.head_grid import HeadGrid  # noqa: E402
from tests.viz.maps import stage_args  # noqa: E402


def causal_probs(n_tokens: int, rng: np.random.Generator) -> np.ndarray:
    """(T, T) float32 softmax of random scores under a causal mask."""
    scores = rng.normal(scale=2.0, size=(n_tokens, n_tokens)).astype(np.float32)
    scores[np.triu_indices(n_tokens, k=1)] = -np.inf
    scores -= scores.max(axis=1, keepdims=True)
    probs = np.exp(scores)
    return probs / probs.sum(axis=1, keepdims=True)


def median_ms(action, repeats: int) -> float:
    """Median wall time of ``action()`` in milliseconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    rng = np.random.default_rng(0)
    amap, grid = AttentionMap(), HeadGrid()
    for widget in (amap, grid):
        widget.resize(900, 800)
        widget.show()
    app.processEvents()
    for n in (512, 2048):
        maps = [causal_probs(n, rng) for _ in range(9)]
        labels = [f"tok{i}" for i in range(n)]
        heads = iter(range(10**9))

        def set_map(maps=maps, labels=labels, heads=heads) -> None:
            values = maps[next(heads) % 9]
            amap.set_map(values, labels, **stage_args("probs", values), title="bench")

        def set_map_paint() -> None:
            set_map()
            amap.grab()

        def set_maps(maps=maps) -> None:
            grid.set_maps(maps, n_kv_heads=3, selected=0, layer=0)

        def set_maps_paint() -> None:
            set_maps()
            grid.grab()

        for name, action in (
            ("AttentionMap.set_map", set_map),
            ("AttentionMap.set_map +paint", set_map_paint),
            ("HeadGrid.set_maps (9 heads)", set_maps),
            ("HeadGrid.set_maps +paint", set_maps_paint),
        ):
            action()  # warm-up: first-time allocations and caches
            print(f"{name:30s} T={n:5d}  median {median_ms(action, args.repeats):7.1f} ms")
    contact_sheet(rng)


def contact_sheet(rng: np.random.Generator, target_s: float = 30.0) -> None:
    """30 × 9 maps of 512 tokens: first on a fresh sheet, then with its grid reused.

    The target is the limit the test suite used to assert (a sanity bound; about 1 s is
    usual); the reused grid should take a fraction of the fresh one.
    """
    base = [causal_probs(512, rng) for _ in range(4)]
    maps = [[base[(layer + head) % 4] for head in range(9)] for layer in range(30)]
    rows, cols = [f"L{i}" for i in range(30)], [f"H{i}" for i in range(9)]
    sheet = ContactSheet()
    sheet.resize(700, 600)
    sheet.show()
    seconds = []
    for name in ("ContactSheet 30×9 T=512, fresh", "ContactSheet 30×9 T=512, reused"):
        start = time.perf_counter()
        sheet.set_maps(maps, rows, cols)
        seconds.append(time.perf_counter() - start)
        print(
            f"{name:34s} {seconds[-1]:7.2f} s  target ≤ {target_s:.0f} s"
            f"  ratio {seconds[-1] / target_s:.3f}"
        )
    print(f"{'ContactSheet reused / fresh':34s} {seconds[1] / seconds[0]:7.2f}")


if __name__ == "__main__":
    main()
