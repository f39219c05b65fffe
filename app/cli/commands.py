"""The headless subcommands: arguments → :class:`~llamalens.model.engine.Engine` → output."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from llamalens.app.cli.progress import TextProgress, mode_of
from llamalens.model.errors import CheckpointError


def run(args: argparse.Namespace) -> int:
    """Run one subcommand (:func:`llamalens.app.cli.main` turns failures into one line)."""
    from llamalens.app.cli.export import cmd_export

    commands = {
        "info": cmd_info,
        "tokens": cmd_tokens,
        "next": cmd_next,
        "dump": cmd_dump,
        "sample": cmd_sample,
        "generate": cmd_generate,
        "bench": cmd_bench,
        "export": cmd_export,
    }
    return commands[args.command](args)


def load(args: argparse.Namespace):
    """The engine of ``--model`` (the default model without it) on ``--device``, running
    the variant of ``--ablate``, ``--rope-theta``, ``--rope-scaling``, ``--rotary-fraction``."""
    from llamalens.model.engine import Engine

    check_variant_args(args)
    device = getattr(args, "device", None)
    with TextProgress(mode=mode_of(args)) as bar:
        engine = Engine.load(
            args.model,
            device=None if device == "auto" else device,
            dtype=getattr(args, "dtype", None),
            max_memory=getattr(args, "max_memory", None),
            offload_dir=getattr(args, "offload_dir", None),
            progress=bar,
        )
    variant = variant_of(args, engine.config)
    if not variant.is_model():
        engine.set_variant(variant)
        if mode_of(args) != "quiet":
            print(f"llamalens: variant: {variant.label()}", file=sys.stderr)
    return engine


VARIANT_OPTIONS = ("ablate", "rope_theta", "rope_scaling", "rotary_fraction")


def variant_of(args: argparse.Namespace, config):
    """The checked Variant the what-if options describe (``Variant()`` without any)."""
    from llamalens.model.variants import variant_from_options

    options = {name: getattr(args, name, None) for name in VARIANT_OPTIONS}
    return variant_from_options(config, **options)


def check_variant_args(args: argparse.Namespace) -> None:
    """Check the what-if options' spelling before a model is loaded."""
    from llamalens.model.variants import parse_ablations, parse_scaling

    if getattr(args, "ablate", None):
        parse_ablations(args.ablate)
    if getattr(args, "rope_scaling", None):
        parse_scaling(args.rope_scaling, 1)


def read_prompts(args: argparse.Namespace) -> Iterator[str]:
    """--prompt, or --input's lines (one JSON string each; blank lines skipped)."""
    if args.prompt is not None:
        yield args.prompt
        return
    path = Path(args.input)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError as exc:
        raise ValueError(f"{path}: no such input file") from exc
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: is not UTF-8 text ({exc.reason})") from exc
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            prompt = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{number}: is not a JSON string ({exc.msg})") from exc
        if not isinstance(prompt, str):
            raise ValueError(
                f"{path}:{number}: holds a {type(prompt).__name__}, expected a JSON string"
            )
        yield prompt


def sampling_params(args: argparse.Namespace):
    """--temperature, --top-p, --top-k and --seed, validated."""
    from llamalens.model.sampling import SamplingParams

    return SamplingParams(args.temperature, args.top_p, args.top_k, args.seed)


def prompt_ids(engine, args: argparse.Namespace) -> list[int]:
    """--prompt encoded by the engine's one rule (--chat, --plain)."""
    return engine.encode(args.prompt, chat=args.chat, plain=args.plain).ids


# ---- info, tokens, next ---------------------------------------------------------------------
def cmd_info(args: argparse.Namespace) -> int:
    info = load(args).info()
    if args.json:
        print(json.dumps(info.to_dict(), ensure_ascii=False))
        return 0
    cfg, tok = info.config, info.tokenizer
    stored = f"  (stored as {info.quantization})" if info.quantization else ""
    print(f"{info.name}  ({info.format}, {info.path})")
    print(f"  parameters   {info.parameters:,}{stored}")
    print(
        f"  layers {cfg['n_layers']}, dim {cfg['dim']}, heads {cfg['n_heads']} "
        f"(KV {cfg['n_kv_heads']}), head_dim {cfg['head_dim']}, ffn {cfg['hidden_dim']}"
    )
    print(
        f"  vocab {cfg['vocab_size']}, rope θ {cfg['rope_theta']:g}, context "
        f"{cfg['max_seq_len']}, tied embeddings {cfg['tie_embeddings']}"
    )
    print(
        f"  tokenizer    {tok['name']}, {tok['n_vocab']} tokens, chat template "
        f"{tok['chat_template']}"
    )
    print(f"  runs on      {info.device} as {info.dtype}; loaded in {info.load_seconds:.2f} s")
    return 0


def _tokenizer(args: argparse.Namespace):
    from llamalens.model.tokenizer import load_tokenizer

    if args.tokenizer:
        return load_tokenizer(args.tokenizer)
    if args.model:
        from llamalens.model.loaders import detect_format

        fmt, location = detect_format(args.model)
        if fmt == "gguf":
            return load_tokenizer(location)
        for name in ("tokenizer.model", "tokenizer.json"):
            if (location / name).exists():
                return load_tokenizer(location / name)
        raise CheckpointError(location, "has no tokenizer.model or tokenizer.json")
    from llamalens.model.default_model import default_model_path

    with TextProgress(mode=mode_of(args)) as bar:
        return load_tokenizer(default_model_path(bar))


def cmd_tokens(args: argparse.Namespace) -> int:
    from llamalens.model.engine import encode_prompt
    from llamalens.model.tokenizer.core import character_spans

    tok = _tokenizer(args)
    for prompt in read_prompts(args):
        enc = encode_prompt(tok, prompt, chat=args.chat, plain=args.plain)
        for d in enc.dropped:
            print(
                f"llamalens: warning: byte 0x{d.byte:02x} at character {d.offset} has no "
                "token in this vocabulary and was dropped",
                file=sys.stderr,
            )
        toks = tok.tokens(enc.ids)
        spans = character_spans([(t.bytes, t.special) for t in toks])
        if args.json:
            print(json.dumps(tokens_json(enc.ids, toks, spans), ensure_ascii=False))
        else:
            print(f"{len(toks)} tokens: {tokens_text(toks, spans)}")
    return 0


def tokens_json(ids: list[int], toks, spans: list[tuple[int, int]]) -> dict:
    """``{"ids", "tokens"}``; a token that is a piece of a character says which and how many
    (``"piece": [2, 3]``: the second of three) and carries the character as its text."""
    rows = [
        {"id": t.id, "text": t.text, "bytes": t.bytes.hex(), "special": t.special} for t in toks
    ]
    for start, end in spans:
        for k in range(start, end):
            rows[k]["piece"] = [k - start + 1, end - start]
    return {"ids": ids, "tokens": rows}


def tokens_text(toks, spans: list[tuple[int, int]]) -> str:
    """``[id:'text']`` per token; the pieces of one character in one bracket with the
    character: ``[245+246+247:'猫' = 3 byte pieces]``."""
    starts = dict(spans)
    out, i = [], 0
    while i < len(toks):
        end = starts.get(i)
        if end is not None:
            joined = "+".join(str(t.id) for t in toks[i:end])
            out.append(f"[{joined}:{toks[i].text!r} = {end - i} byte pieces]")
            i = end
            continue
        t = toks[i]
        out.append(f"[{t.id}:{t.text!r}{'*' if t.special else ''}]")
        i += 1
    return " ".join(out)


def cmd_next(args: argparse.Namespace) -> int:
    if args.top < 1:
        raise ValueError(f"--top is {args.top}, expected a positive number")
    engine = load(args)
    for prompt in read_prompts(args):
        ids = engine.encode(prompt, chat=args.chat, plain=args.plain).ids
        start = time.perf_counter()
        top = engine.top_next(ids, min(args.top, engine.config.vocab_size))
        elapsed = time.perf_counter() - start
        if args.json:
            rows = [{"id": t.id, "text": t.text, "logit": t.logit, "prob": t.prob} for t in top]
            out = {"ids": ids, "top": rows, "variant": engine.variant.to_dict()}
            print(json.dumps(out, ensure_ascii=False))
            continue
        print(f"{len(ids)} tokens, forward in {elapsed * 1000:.0f} ms; next token:")
        for t in top:
            print(f"  {t.prob:7.2%}  {t.logit:8.3f}  {t.id:>7}  {t.text!r}")
    return 0


# ---- dump, sample, generate, bench ----------------------------------------------------------
def cmd_dump(args: argparse.Namespace) -> int:
    from llamalens.model.trace_io import dump_arrays, parse_layers

    if not str(args.out).endswith(".npz"):
        raise ValueError(f"--out {args.out!r}: expected a .npz file name")
    engine = load(args)
    layers = parse_layers(args.layers, engine.config.n_layers)
    trace = engine.trace(prompt_ids(engine, args), keep_logits=True, layers=layers)
    np.savez(args.out, **dump_arrays(trace, layers))
    print(
        f"wrote {args.out}: {trace.n_tokens} tokens, layers {args.layers or 'all'}",
        file=sys.stderr,
    )
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    from llamalens.model.sampling import sample

    if args.n < 1:
        raise ValueError(f"--n is {args.n}, expected a positive number")
    params = sampling_params(args)
    engine = load(args)
    logits = engine.logits(prompt_ids(engine, args))[-1]
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
        shown = " ".join(repr(engine.tokenizer.token(i).text) for i in obj["ids"][:50])
        print(f"{len(first.kept)} tokens kept; draws: {shown}")
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    if args.max_new_tokens < 0:
        raise ValueError(f"--max-new-tokens is {args.max_new_tokens}, expected >= 0")
    from llamalens.model.tokenizer.stream import TextStream

    params = sampling_params(args)
    engine = load(args)
    stream = TextStream(engine.tokenizer)

    def show(token_id: int) -> None:
        piece = stream.push(token_id)  # whole characters only; a stop token is no text
        if piece and not args.json:
            sys.stdout.write(piece)
            sys.stdout.flush()

    new = engine.generate(prompt_ids(engine, args), args.max_new_tokens, params, on_token=show)
    if args.json:
        obj = {
            "ids": new,
            "text": stream.text,
            "stopped": stream.stopped,
            "variant": engine.variant.to_dict(),
        }
        print(json.dumps(obj, ensure_ascii=False))
    else:
        sys.stdout.write("\n")
    if stream.held_back():
        print(
            f"llamalens: the run ended inside a character; its first {stream.held_back()} "
            "byte(s) are not shown",
            file=sys.stderr,
        )
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


def cmd_bench(args: argparse.Namespace) -> int:
    from llamalens.model.bench import bench_lengths

    lengths = parse_lengths(args.tokens)
    engine = load(args)
    start = time.perf_counter()
    rows = bench_lengths(engine, lengths, with_transformers=not args.no_transformers)
    if args.json:
        print(json.dumps(rows))
        return 0
    print(f"{engine.name} on {engine.device} ({time.perf_counter() - start:.0f} s)")
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
