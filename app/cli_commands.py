"""The headless subcommands behind ``llamalens info|tokens|next``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from llamalens.app import cli_engine
from llamalens.app.text_progress import TextProgress
from llamalens.model.errors import CheckpointError

EXIT_BAD_INPUT = 2
ENGINE = {
    "dump": cli_engine.cmd_dump,
    "sample": cli_engine.cmd_sample,
    "generate": cli_engine.cmd_generate,
    "bench": cli_engine.cmd_bench,
    "export": cli_engine.cmd_export,
}


def _check_engine_args(args: argparse.Namespace) -> None:
    """Validate cheap arguments before the (slow) model load."""
    from llamalens.model.sampling import SamplingParams

    if getattr(args, "temperature", None) is not None:
        SamplingParams(args.temperature, args.top_p, args.top_k, args.seed)
    if getattr(args, "max_new_tokens", 0) < 0:
        raise ValueError(f"--max-new-tokens is {args.max_new_tokens}, expected >= 0")
    if args.command == "bench":
        cli_engine.parse_lengths(args.tokens)
    if args.command == "export":
        cli_engine.check_export_args(args)
    if args.command == "dump" and not str(args.out).endswith(".npz"):
        raise ValueError(f"--out {args.out!r}: expected a .npz file name")


def run(args: argparse.Namespace) -> int:
    """Run one subcommand; bad input becomes one line on stderr and exit code 2."""
    try:
        if args.command in ENGINE:
            _check_engine_args(args)
            return ENGINE[args.command](args, load(args))
        return {"info": cmd_info, "tokens": cmd_tokens, "next": cmd_next}[args.command](args)
    except (CheckpointError, ValueError, OSError) as exc:
        print(f"llamalens: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("llamalens: cancelled", file=sys.stderr)
        return 130


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


def load(args: argparse.Namespace):
    from llamalens.model.runtime import load_model

    with TextProgress() as bar:
        return load_model(args.model, bar, getattr(args, "device", None))


def cmd_info(args: argparse.Namespace) -> int:
    loaded = load(args)
    ck, tok = loaded.checkpoint, loaded.tokenizer
    info = {
        "path": str(ck.path),
        "format": ck.format,
        "name": loaded.name,
        "config": ck.config.to_dict(),
        "parameters": ck.n_params,
        "dtype": str(loaded.dtype).removeprefix("torch."),
        "device": str(loaded.device),
        "quantization": ck.metadata.get("quantization"),
        "tokenizer": {
            "name": tok.name,
            "n_vocab": tok.n_vocab,
            "bos_id": tok.bos_id,
            "eos_id": tok.eos_id,
            "add_bos": tok.add_bos,
            "chat_template": tok.chat_template.name if tok.chat_template else None,
        },
        "load_seconds": round(loaded.load_seconds, 3),
    }
    if args.json:
        print(json.dumps(info, ensure_ascii=False))
        return 0
    cfg = info["config"]
    print(f"{info['name']}  ({info['format']}, {info['path']})")
    print(
        f"  parameters   {info['parameters']:,}"
        + (f"  (stored as {info['quantization']})" if info["quantization"] else "")
    )
    print(
        f"  layers {cfg['n_layers']}, dim {cfg['dim']}, heads {cfg['n_heads']} "
        f"(KV {cfg['n_kv_heads']}), head_dim {cfg['head_dim']}, ffn {cfg['hidden_dim']}"
    )
    print(
        f"  vocab {cfg['vocab_size']}, rope θ {cfg['rope_theta']:g}, context "
        f"{cfg['max_seq_len']}, tied embeddings {cfg['tie_embeddings']}"
    )
    t = info["tokenizer"]
    print(f"  tokenizer    {t['name']}, {t['n_vocab']} tokens, chat template {t['chat_template']}")
    print(
        f"  runs on      {info['device']} as {info['dtype']}; loaded in "
        f"{info['load_seconds']:.2f} s"
    )
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

    with TextProgress() as bar:
        return load_tokenizer(default_model_path(bar))


def cmd_tokens(args: argparse.Namespace) -> int:
    tok = _tokenizer(args)
    for prompt in read_prompts(args):
        text = tok.apply_chat(prompt) if args.chat else prompt
        enc = tok.encode_detailed(
            text, allow_special=args.chat or not args.plain, bos=False if args.chat else None
        )
        for d in enc.dropped:
            print(
                f"llamalens: warning: byte 0x{d.byte:02x} at character {d.offset} has no "
                "token in this vocabulary and was dropped",
                file=sys.stderr,
            )
        toks = tok.tokens(enc.ids)
        if args.json:
            obj = {
                "ids": enc.ids,
                "tokens": [
                    {"id": t.id, "text": t.text, "bytes": t.bytes.hex(), "special": t.special}
                    for t in toks
                ],
            }
            print(json.dumps(obj, ensure_ascii=False))
        else:
            print(
                f"{len(toks)} tokens: "
                + " ".join(f"[{t.id}:{t.text!r}{'*' if t.special else ''}]" for t in toks)
            )
    return 0


def cmd_next(args: argparse.Namespace) -> int:
    if args.top < 1:
        raise ValueError(f"--top is {args.top}, expected a positive number")
    loaded = load(args)
    for prompt in read_prompts(args):
        ids = loaded.encode(prompt, chat=args.chat)
        start = time.perf_counter()
        top = loaded.top_next(ids, min(args.top, loaded.checkpoint.config.vocab_size))
        elapsed = time.perf_counter() - start
        if args.json:
            obj = {
                "ids": ids,
                "top": [
                    {"id": t.id, "text": t.text, "logit": t.logit, "prob": t.prob} for t in top
                ],
            }
            print(json.dumps(obj, ensure_ascii=False))
            continue
        print(f"{len(ids)} tokens, forward in {elapsed * 1000:.0f} ms; next token:")
        for t in top:
            print(f"  {t.prob:7.2%}  {t.logit:8.3f}  {t.id:>7}  {t.text!r}")
    return 0
