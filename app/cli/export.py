"""``llamalens export``: figures (or a map's numbers) rendered offscreen, no window.

One model load and one run serve any number of figures: repeat ``--what`` (with
``--out`` a folder), or list them in a JSON spec file (``--spec figures.json``), each
entry an object of the same options, e.g.
``[{"what": "map", "layer": 3, "head": 2, "out": "map.svg", "size": "3.5x3.2in"}]``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FIGURE_SUFFIXES = (".png", ".svg", ".pdf")
DATA_SUFFIXES = (".csv", ".npy")
UNITS = {"in": 96.0, "cm": 96 / 2.54, "mm": 96 / 25.4, "px": 1.0}  # figure pixels per unit
SPEC_KEYS = {
    "what", "layer", "head", "stage", "query", "key", "out", "width", "dpi", "theme",
    "cmap", "scale", "gamma", "size", "font", "title", "no_title", "outline",
    "layers", "heads", "token_labels", "format",
}  # fmt: skip


@dataclass(frozen=True)
class Job:
    """One figure to write: its FigureSpec fields, where, and at what resolution."""

    fields: dict[str, Any]
    out: Path
    width: int | None
    dpi: int | None


def parse_size(text: str) -> tuple[int, int]:
    """``"3.5x3.2in"`` → (336, 307) figure pixels of 1/96 in; units in, cm, mm, px (default)."""
    match = re.fullmatch(r"\s*([\d.]+)\s*[x×]\s*([\d.]+)\s*(in|cm|mm|px)?\s*", text)
    if not match:
        raise ValueError(f"--size {text!r}: expected WIDTHxHEIGHT with a unit, e.g. 3.5x3.2in")
    per_unit = UNITS[match.group(3) or "px"]
    try:
        width, height = (round(float(match.group(i)) * per_unit) for i in (1, 2))
    except ValueError as exc:
        raise ValueError(f"--size {text!r}: {exc}") from exc
    if not (16 <= width <= 20000 and 16 <= height <= 20000):
        raise ValueError(f"--size {text!r} is {width}x{height} pixels; expected 16..20000 each")
    return width, height


def _fields(o: dict[str, Any]) -> dict[str, Any]:
    """FigureSpec fields from one figure's options (the CLI's names)."""
    from llamalens.app.figures import STAGE_ALIASES
    from llamalens.model.trace_io import parse_indices

    if o["stage"] not in STAGE_ALIASES:
        raise ValueError(f"stage is {o['stage']!r}, expected one of {', '.join(STAGE_ALIASES)}")
    title = "" if o.get("no_title") else o.get("title")
    fields = {
        "what": o["what"],
        "layer": int(o["layer"]),
        "head": int(o["head"]),
        "stage": STAGE_ALIASES[o["stage"]],
        "query": o.get("query"),
        "key": int(o["key"]),
        "theme": o["theme"],
        "colormap": o["cmap"],
        "scale": o["scale"],
        "gamma": float(o["gamma"]),
        "title_text": title,
        "size": parse_size(o["size"]) if o.get("size") else None,
        "font_points": float(o["font"]) if o.get("font") is not None else None,
        "outline": bool(o.get("outline")),
        "token_labels": o.get("token_labels"),
    }
    for name in ("layers", "heads"):
        spec = o.get(name)
        fields[name] = None if spec is None else tuple(parse_indices(str(spec), None, name))
    return fields


def _job(o: dict[str, Any], out: Path) -> Job:
    from llamalens.app.figures import FigureSpec

    suffix = out.suffix.lower()
    if suffix not in FIGURE_SUFFIXES + DATA_SUFFIXES:
        raise ValueError(f"--out {str(out)!r}: expected a .png, .svg, .pdf, .csv or .npy file")
    if suffix in DATA_SUFFIXES and o["what"] != "map":
        raise ValueError(f"--out {suffix} saves the numbers of one map: use --what map")
    width, dpi = o.get("width"), o.get("dpi")
    if width is not None and not 16 <= int(width) <= 20000:
        raise ValueError(f"--width is {width}, expected 16..20000 pixels")
    if dpi is not None and not 10 <= int(dpi) <= 2400:
        raise ValueError(f"--dpi is {dpi}, expected 10..2400")
    fields = _fields(o)
    FigureSpec(**fields)  # validates the rest before any model is loaded
    return Job(
        fields, out, None if width is None else int(width), None if dpi is None else int(dpi)
    )


def plan(args: argparse.Namespace) -> list[Job]:
    """Every figure the arguments ask for, validated before the model is loaded."""
    base = {key: getattr(args, key, None) for key in SPEC_KEYS}
    if args.spec:
        return [_job(o, Path(o["out"])) for o in _spec_entries(args.spec, base)]
    whats = args.what or ["map"]
    if args.out is None:
        raise ValueError("--out is required (a file, or a folder for several --what)")
    out = Path(args.out)
    if len(whats) == 1 and out.suffix:
        return [_job({**base, "what": whats[0]}, out)]
    if out.suffix:
        raise ValueError(f"--out {args.out!r}: several --what need a folder, not a file")
    jobs = []
    for what in whats:
        o = {**base, "what": what}
        stem = f"llamalens-{what}-L{o['layer']}-H{o['head']}-{o['stage']}"
        jobs.append(_job(o, out / f"{stem}.{args.format}"))
    return jobs


def _spec_entries(path: str, base: dict[str, Any]) -> list[dict[str, Any]]:
    """The figures of a JSON spec file, each over the command line's options."""
    try:
        entries = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ValueError(f"--spec {path}: no such file") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"--spec {path}: is not JSON ({exc})") from exc
    if not isinstance(entries, list) or not entries:
        raise ValueError(f"--spec {path}: expected a JSON list of figure objects")
    out = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or "out" not in entry:
            raise ValueError(f'--spec {path}: figure {i} is not an object with an "out"')
        unknown = sorted(set(entry) - SPEC_KEYS)
        if unknown:
            raise ValueError(f"--spec {path}: figure {i} has unknown keys {unknown}")
        out.append({**base, "what": "map", **entry})
    return out


def cmd_export(args: argparse.Namespace) -> int:
    """Run the prompt once, then write every figure asked for."""
    from llamalens.app.cli.commands import load, prompt_ids

    jobs = plan(args)
    engine = load(args)
    trace = engine.trace(prompt_ids(engine, args))
    for job in jobs:
        job.out.parent.mkdir(parents=True, exist_ok=True)
        _write(job, trace, engine, args.prompt)
        print(f"wrote {job.out}", file=sys.stderr)
    return 0


def _write(job: Job, trace, engine, prompt: str) -> None:
    from llamalens.app.figures import FigureSpec

    spec = FigureSpec(
        **job.fields, model_name=engine.name, prompt=prompt, variant=engine.variant.label()
    )
    if job.out.suffix.lower() in DATA_SUFFIXES:
        from llamalens.viz.export import save_matrix

        labels = trace.token_strs
        values = trace.attention_map(spec.layer, spec.head, spec.stage)
        save_matrix(values, job.out, row_labels=labels, col_labels=labels)
        return
    from llamalens.app.figures import export_spec
    from llamalens.app.offscreen import offscreen_app

    _app = offscreen_app()  # never opens a window
    export_spec(spec, trace, engine.tokenizer, job.out, width=job.width, dpi=job.dpi)
