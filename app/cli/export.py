"""``llamalens export``: a figure (or a map's numbers) rendered offscreen, no window."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

FIGURE_SUFFIXES = (".png", ".svg", ".pdf")
DATA_SUFFIXES = (".csv", ".npy")


def figure_spec(args: argparse.Namespace, model_name: str = "LlamaLens", variant: str = ""):
    """The FigureSpec the arguments describe (validated before any model is loaded)."""
    from llamalens.app.figures import STAGE_ALIASES, FigureSpec

    return FigureSpec(
        what=args.what,
        layer=args.layer,
        head=args.head,
        stage=STAGE_ALIASES[args.stage],
        query=args.query,
        key=args.key,
        theme=args.theme,
        colormap=args.cmap,
        scale=args.scale,
        gamma=args.gamma,
        model_name=model_name,
        prompt=args.prompt,
        variant=variant,
    )


def check_export_args(args: argparse.Namespace) -> None:
    """Validate what can be checked before loading the model."""
    from llamalens.app.cli.commands import check_variant_args

    check_variant_args(args)
    suffix = Path(args.out).suffix.lower()
    if suffix not in FIGURE_SUFFIXES + DATA_SUFFIXES:
        raise ValueError(f"--out {args.out!r}: expected a .png, .svg, .pdf, .csv or .npy file")
    if suffix in DATA_SUFFIXES and args.what != "map":
        raise ValueError(f"--out {suffix} saves the numbers of one map: use --what map")
    if args.width is not None and not 16 <= args.width <= 20000:
        raise ValueError(f"--width is {args.width}, expected 16..20000 pixels")
    if args.dpi is not None and not 10 <= args.dpi <= 2400:
        raise ValueError(f"--dpi is {args.dpi}, expected 10..2400")
    figure_spec(args)


def cmd_export(args: argparse.Namespace) -> int:
    """Run the prompt, render one figure offscreen and write it."""
    from llamalens.app.cli.commands import load, prompt_ids

    check_export_args(args)
    engine = load(args)
    trace = engine.trace(prompt_ids(engine, args))
    spec = figure_spec(args, engine.name, engine.variant.label())
    out = Path(args.out)
    if out.suffix.lower() in DATA_SUFFIXES:
        from llamalens.viz.export import save_matrix

        labels = trace.token_strs
        values = trace.attention_map(spec.layer, spec.head, spec.stage)
        save_matrix(values, out, row_labels=labels, col_labels=labels)
    else:
        _render(spec, trace, engine.tokenizer, out, args)
    print(f"wrote {out}", file=sys.stderr)
    return 0


def _render(spec, trace, vocab, out: Path, args: argparse.Namespace) -> None:
    from llamalens.app.appearance import THEMES
    from llamalens.app.figures import build_figure
    from llamalens.app.offscreen import offscreen_app
    from llamalens.viz.export import export_figure

    app = offscreen_app()  # never open a window for this
    widget = build_figure(spec, trace, vocab)
    app.processEvents()
    try:
        export_figure(
            widget,
            out,
            title=spec.title(),
            width=args.width,
            dpi=args.dpi,
            background=THEMES[spec.theme][0],
        )
    finally:
        widget.close()
