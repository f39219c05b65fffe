"""Headless subcommands on the capture engine: ``dump``, ``sample``, ``generate``, ``bench``."""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np


def _ids(loaded, args: argparse.Namespace) -> list[int]:
    ids = loaded.encode(args.prompt, chat=args.chat)
    if not ids:
        raise ValueError("the prompt is empty: there is no token to run")
    return ids


def _params(args: argparse.Namespace):
    from llamalens.model.sampling import SamplingParams

    return SamplingParams(
        temperature=args.temperature, top_p=args.top_p, top_k=args.top_k, seed=args.seed
    )


def cmd_dump(args: argparse.Namespace, loaded) -> int:
    from llamalens.model.trace_io import dump_arrays, parse_layers
    from llamalens.model.tracing import run_trace

    layers = parse_layers(args.layers, loaded.checkpoint.config.n_layers)
    trace = run_trace(loaded.module, loaded.tokenizer, _ids(loaded, args), keep_logits=True)
    np.savez(args.out, **dump_arrays(trace, layers))
    print(
        f"wrote {args.out}: {trace.n_tokens} tokens, layers {args.layers or 'all'}", file=sys.stderr
    )
    return 0


def cmd_sample(args: argparse.Namespace, loaded) -> int:
    from llamalens.model.sampling import sample

    if args.n < 1:
        raise ValueError(f"--n is {args.n}, expected a positive number")
    params = _params(args)
    logits = loaded.logits(_ids(loaded, args))[-1]
    rng = np.random.default_rng(params.seed)
    draws = [sample(logits, params, rng) for _ in range(args.n)]
    first = draws[0]
    obj = {
        "ids": [d.token for d in draws],
        "kept": [int(i) for i in first.kept],
        "probs": {str(int(i)): float(first.final[i]) for i in first.kept},
    }
    if args.json:
        print(json.dumps(obj))
    else:
        tok = loaded.tokenizer
        print(
            f"{len(first.kept)} tokens kept; draws: "
            + " ".join(repr(tok.token(i).text) for i in obj["ids"][:50])
        )
    return 0


def cmd_generate(args: argparse.Namespace, loaded) -> int:
    ids = _ids(loaded, args)
    tok = loaded.tokenizer
    pending: list[int] = []

    def stream(token_id: int) -> None:
        if args.json:
            return
        pending.append(token_id)
        text = tok.decode(pending)
        if not text.endswith("\ufffd"):  # wait for the rest of a multi-byte character
            sys.stdout.write(text)
            sys.stdout.flush()
            pending.clear()

    new = loaded.generate(ids, args.max_new_tokens, _params(args), stream)
    if args.json:
        print(json.dumps({"ids": new, "text": tok.decode(new)}, ensure_ascii=False))
    else:
        if pending:
            sys.stdout.write(tok.decode(pending))
        sys.stdout.write("\n")
    return 0


def parse_lengths(spec: str) -> list[int]:
    """``"32,256,1024"`` → [32, 256, 1024]."""
    try:
        lengths = [int(x) for x in spec.split(",") if x.strip()]
    except ValueError as exc:
        raise ValueError(f"--tokens {spec!r}: expected numbers like 32,256,1024") from exc
    if not lengths or min(lengths) < 1:
        raise ValueError(f"--tokens {spec!r}: expected positive lengths")
    return lengths


def cmd_bench(args: argparse.Namespace, loaded) -> int:
    from llamalens.model.bench import bench_lengths

    lengths = parse_lengths(args.tokens)
    start = time.perf_counter()
    rows = bench_lengths(loaded, lengths, with_transformers=not args.no_transformers)
    if args.json:
        print(json.dumps(rows))
        return 0
    print(f"{loaded.name} on {loaded.device} ({time.perf_counter() - start:.0f} s)")
    print(
        f"{'tokens':>7} {'plain_s':>9} {'captured_s':>11} {'ratio':>6} {'trace_MB':>9} "
        f"{'transformers_s':>15}"
    )
    for r in rows:
        tf = f"{r['transformers_s']:.3f}" if r.get("transformers_s") is not None else "-"
        print(
            f"{r['tokens']:>7} {r['plain_s']:>9.3f} {r['captured_s']:>11.3f} "
            f"{r['capture_ratio']:>6.2f} {r['trace_mb']:>9.1f} {tf:>15}"
        )
    return 0


def check_export_args(args: argparse.Namespace) -> None:
    """Validate what can be checked before loading the model."""
    from pathlib import Path

    suffix = Path(args.out).suffix.lower()
    if suffix not in (".png", ".svg", ".pdf", ".csv", ".npy"):
        raise ValueError(f"--out {args.out!r}: expected a .png, .svg, .pdf, .csv or .npy file")
    if suffix in (".csv", ".npy") and args.what != "map":
        raise ValueError(f"--out {suffix} saves the numbers of one map: use --what map")
    if args.width is not None and not 16 <= args.width <= 20000:
        raise ValueError(f"--width is {args.width}, expected 16..20000 pixels")
    if args.dpi is not None and not 10 <= args.dpi <= 2400:
        raise ValueError(f"--dpi is {args.dpi}, expected 10..2400")
    if args.scale == "gamma" and not args.gamma > 0:
        raise ValueError(f"--gamma is {args.gamma}, expected a positive number")


def cmd_export(args: argparse.Namespace, loaded) -> int:
    """Render one figure offscreen and write it."""
    import os
    from pathlib import Path

    os.environ["QT_QPA_PLATFORM"] = "offscreen"  # never open a window for this
    from PySide6.QtWidgets import QApplication

    from llamalens.app.figures import STAGE_ALIASES, build_figure, figure_title
    from llamalens.model.tracing import run_trace
    from llamalens.viz.export import export_figure, save_matrix

    app = QApplication.instance() or QApplication(["llamalens"])
    trace = run_trace(loaded.module, loaded.tokenizer, _ids(loaded, args))
    stage = STAGE_ALIASES[args.stage]
    out = Path(args.out)
    if out.suffix.lower() in (".csv", ".npy"):
        labels = trace.token_strs
        save_matrix(
            trace.attention_map(args.layer, args.head, stage),
            out,
            row_labels=labels,
            col_labels=labels,
        )
    else:
        widget = build_figure(
            args.what,
            trace,
            loaded.tokenizer,
            layer=args.layer,
            head=args.head,
            stage=stage,
            query=args.query,
            key=args.key,
            theme=args.theme,
            cmap=args.cmap,
            scale=args.scale,
            gamma=args.gamma,
        )
        app.processEvents()
        title = figure_title(loaded.name, args.prompt, args.what, args.layer, args.head, stage)
        export_figure(
            widget,
            out,
            title=title,
            width=args.width,
            dpi=args.dpi,
            background="#1e1f22" if args.theme == "dark" else "white",
        )
        widget.close()
    print(f"wrote {out}", file=sys.stderr)
    return 0
