"""The ``llamalens`` command line: the app's arguments and every subcommand's."""

from __future__ import annotations

import argparse

SUBCOMMANDS = ("info", "tokens", "next", "dump", "sample", "generate", "bench", "export")


class UsageError(ValueError):
    """The command line is wrong (reported as one line, exit code 2)."""


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors become one line ``llamalens: error: ...`` (exit code
    2, raised as :class:`UsageError`), never the usage block. Subcommand parsers are made
    of the same class."""

    def error(self, message: str):  # argparse's hook for every parsing error
        flat = " ".join(message.split())
        raise UsageError(f"{flat} (see '{self.prog} --help')")


def _add_verbosity(p: argparse.ArgumentParser) -> None:
    talk = p.add_mutually_exclusive_group()
    talk.add_argument("--quiet", "-q", action="store_true", help="no progress, also on a terminal")
    talk.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        help="progress as lines, also when stderr is not a terminal (logs, pipes)",
    )


def _add_model(p: argparse.ArgumentParser) -> None:
    _add_verbosity(p)
    p.add_argument(
        "--model",
        metavar="PATH",
        help="checkpoint: .gguf file, Meta or Hugging Face directory "
        "(default: the embedded SmolLM2-135M-Instruct)",
    )
    _add_placement(p)


def _add_placement(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", default="auto", help="auto (default), cpu, cuda or mps")
    p.add_argument(
        "--dtype",
        default="auto",
        choices=("auto", "fp32", "bf16", "fp16"),
        help="compute dtype; weights stay as stored (default auto = fp32, the exact one)",
    )
    p.add_argument(
        "--max-memory",
        metavar="BUDGET",
        help="spread the model over devices and disk with accelerate, e.g. "
        "cuda:0=20GiB,cpu=30GiB (blocks beyond the budget go to --offload-dir)",
    )
    p.add_argument("--offload-dir", metavar="DIR", help="where offloaded blocks are kept")


def _add_variant(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group(
        "what if", "run a variant of the model (labelled in the output) instead of the model"
    )
    g.add_argument(
        "--ablate",
        metavar="SPEC",
        help="ablate heads: LAYER.HEAD[,LAYER.HEAD...] zeroes them, LAYER.HEAD:mean replaces "
        "a head's output by its mean over positions (e.g. 3.1,5.0 or 3.1:mean)",
    )
    g.add_argument("--rope-theta", type=float, metavar="X", help="RoPE base θ (e.g. 500000)")
    g.add_argument(
        "--rope-scaling",
        metavar="METHOD:FACTOR",
        help="RoPE scaling: linear:4 (position interpolation), ntk:4 (NTK-aware), yarn:4, "
        "llama3:8 (Llama 3.1), or none; the model's context is the original length",
    )
    g.add_argument(
        "--rotary-fraction",
        type=float,
        metavar="F",
        help="share of each head that RoPE rotates (e.g. 0.5: the first half of the pairs)",
    )


def _add_prompts(p: argparse.ArgumentParser) -> None:
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--prompt", metavar="TEXT", help="the prompt")
    src.add_argument(
        "--input", metavar="FILE", help="a file with one JSON string (a prompt) per line"
    )
    _add_encoding(p)
    p.add_argument("--json", action="store_true", help="print one JSON object per prompt")


def _add_encoding(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--chat", action="store_true", help="wrap the prompt in the model's chat template"
    )
    p.add_argument(
        "--plain",
        action="store_true",
        help="keep special-token text (e.g. <|im_start|>) as plain text",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="llamalens",
        description="See inside a Llama-family language model. "
        "Without a subcommand, opens the app on PATH or on the embedded default model.",
        epilog="run 'llamalens SUBCOMMAND --help' for each subcommand",
    )
    sub = parser.add_subparsers(dest="command", metavar="{" + ",".join(SUBCOMMANDS) + "}")
    info = sub.add_parser(
        "info",
        help="load a checkpoint and describe it",
        description="Load the whole checkpoint and print its format, "
        "config, parameter count, dtype, device, tokenizer and load time.",
    )
    _add_model(info)
    info.add_argument("--json", action="store_true", help="print one JSON object")
    tokens = sub.add_parser(
        "tokens",
        help="tokenize prompts",
        description="Tokenize prompts with a model's tokenizer (only the tokenizer is loaded).",
    )
    _add_verbosity(tokens)
    which = tokens.add_mutually_exclusive_group()
    which.add_argument("--model", metavar="PATH", help="checkpoint whose tokenizer to use")
    which.add_argument(
        "--tokenizer", metavar="PATH", help="tokenizer.model, tokenizer.json or .gguf file"
    )
    _add_prompts(tokens)
    _next_parser(sub)
    _engine_parsers(sub)
    return parser


def _next_parser(sub) -> None:
    nxt = sub.add_parser(
        "next",
        help="the most likely next tokens",
        description="Run the model on each prompt and print the most likely "
        "tokens for the last position.",
    )
    _add_model(nxt)
    nxt.add_argument(
        "--top", type=int, default=10, metavar="N", help="how many tokens (default 10)"
    )
    _add_prompts(nxt)
    _add_variant(nxt)


def _add_prompt(p: argparse.ArgumentParser) -> None:
    _add_model(p)
    p.add_argument("--prompt", metavar="TEXT", required=True, help="the prompt")
    _add_encoding(p)


def _add_sampling(p: argparse.ArgumentParser, required: bool) -> None:
    p.add_argument(
        "--temperature",
        type=float,
        required=required,
        default=None if required else 0.0,
        metavar="X",
        help="0 = greedy" + ("" if required else " (default)"),
    )
    p.add_argument(
        "--top-p",
        type=float,
        default=1.0,
        metavar="P",
        help="keep the smallest set of tokens whose mass reaches P (default 1)",
    )
    p.add_argument(
        "--top-k",
        type=int,
        default=0,
        metavar="K",
        help="keep the K most likely tokens (default 0 = all)",
    )
    p.add_argument(
        "--seed",
        type=int,
        required=required,
        default=None if required else 0,
        metavar="S",
        help="random seed",
    )


def _engine_parsers(sub) -> None:
    dump = sub.add_parser(
        "dump",
        help="write every captured tensor of a run to .npz",
        description="Run the prompt with capture and write token ids and "
        "strings, attention scores/masked/probs, q/k/v before and after "
        "RoPE, freqs_cis, logits and the config to one .npz file.",
    )
    _add_prompt(dump)
    dump.add_argument("--out", required=True, metavar="FILE.npz", help="output file")
    dump.add_argument(
        "--layers", metavar="SPEC", help="layers to include, e.g. 0,3,10-12 (default all)"
    )
    _add_variant(dump)
    smp = sub.add_parser(
        "sample",
        help="draw next tokens from the sampling distribution",
        description="Draw N tokens from the same next-token distribution.",
    )
    _add_prompt(smp)
    _add_sampling(smp, required=True)
    smp.add_argument("--n", type=int, default=1, metavar="N", help="number of draws")
    smp.add_argument("--json", action="store_true", help="print one JSON object")
    gen = sub.add_parser(
        "generate",
        help="generate text with the KV cache",
        description="Generate up to N new tokens, streaming the text.",
    )
    _add_prompt(gen)
    gen.add_argument("--max-new-tokens", type=int, required=True, metavar="N")
    _add_sampling(gen, required=False)
    gen.add_argument("--json", action="store_true", help="print {ids, text, variant} at the end")
    _add_variant(gen)
    bench = sub.add_parser(
        "bench",
        help="time plain vs captured forward passes",
        description="For each length: plain forward seconds, forward "
        "with full capture, their ratio, the Trace's memory, and "
        "transformers eager with output_attentions when installed.",
    )
    _add_model(bench)
    bench.add_argument(
        "--tokens",
        default="32,256,1024",
        metavar="LIST",
        help="prompt lengths (default 32,256,1024)",
    )
    bench.add_argument(
        "--no-transformers", action="store_true", help="skip the transformers comparison"
    )
    bench.add_argument("--json", action="store_true", help="print a JSON list")
    _export_parser(sub)


def _export_parser(sub) -> None:
    ex = sub.add_parser(
        "export",
        help="render figures (PNG, SVG, PDF) without a window",
        description="Run the prompt once and write figures: an attention map, the heads of "
        "a layer, layers × heads, the RoPE plane or the next-token bars. Repeat --what "
        "(with --out a folder) or give --spec FILE.json for several figures from one run.",
    )
    _add_prompt(ex)
    ex.add_argument(
        "--what",
        choices=("map", "grid", "sheet", "rope", "logits"),
        action="append",
        help="the figure (default map); repeat it for several",
    )
    ex.add_argument("--layer", type=int, default=0, metavar="L")
    ex.add_argument("--head", type=int, default=0, metavar="H")
    ex.add_argument("--stage", choices=("raw", "masked", "softmax"), default="softmax")
    ex.add_argument(
        "--query", type=int, metavar="POS", help="RoPE: query position (default the last token)"
    )
    ex.add_argument("--key", type=int, default=0, metavar="POS", help="RoPE: key position")
    ex.add_argument(
        "--out",
        metavar="FILE",
        help="output .png, .svg or .pdf (.csv or .npy: the map's numbers); a folder "
        "with several --what",
    )
    ex.add_argument(
        "--format", choices=("png", "svg", "pdf"), default="png", help="files written to a folder"
    )
    ex.add_argument("--spec", metavar="FILE.json", help="a JSON list of figures, each with out")
    _figure_options(ex)


def _figure_options(ex: argparse.ArgumentParser) -> None:
    ex.add_argument("--width", type=int, metavar="PX", help="PNG width in pixels")
    ex.add_argument("--dpi", type=int, help="PNG resolution (also scales the image)")
    ex.add_argument(
        "--size",
        metavar="WxH",
        help="figure size with its title, e.g. 3.5x3.2in, 9x8cm or 1200x900 (pixels)",
    )
    ex.add_argument("--font", type=float, metavar="PT", help="font size of the labels")
    ex.add_argument("--title", metavar="TEXT", help="the figure's title (default: automatic)")
    ex.add_argument("--no-title", action="store_true", help="no title")
    ex.add_argument("--outline", action="store_true", help="map: outline query row and key")
    ex.add_argument("--layers", metavar="SPEC", help="sheet: these layers, e.g. 0-3")
    ex.add_argument("--heads", metavar="SPEC", help="grid and sheet: these heads, e.g. 0,2")
    ex.add_argument(
        "--token-labels",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="grid and sheet: label the maps with the tokens (default: grid yes, sheet no)",
    )
    ex.add_argument("--theme", choices=("light", "dark"), default="light")
    ex.add_argument(
        "--cmap", choices=("viridis", "cividis", "magma", "inferno", "gray"), default="viridis"
    )
    ex.add_argument("--scale", choices=("linear", "log", "gamma"), default="linear")
    ex.add_argument("--gamma", type=float, default=0.5, help="exponent of --scale gamma")
    _add_variant(ex)


def build_app_parser() -> argparse.ArgumentParser:
    p = OneLineParser(
        prog="llamalens",
        description="Open the LlamaLens app. Subcommands: "
        + ", ".join(SUBCOMMANDS)
        + " (see 'llamalens SUBCOMMAND --help').",
    )
    p.add_argument(
        "path",
        nargs="?",
        metavar="PATH",
        help="checkpoint to open (default: the embedded SmolLM2-135M-Instruct)",
    )
    _add_placement(p)
    p.add_argument(
        "--session",
        metavar="FILE",
        help="show a saved session (.llamalens) at start; a PATH ending in .llamalens "
        "does the same with the default model",
    )
    return p
