"""One entry point for every checkpoint format: :func:`load_checkpoint`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from llamalens.model.checkpoint import Checkpoint
from llamalens.model.errors import CheckpointError
from llamalens.model.files import open_regular

log = logging.getLogger(__name__)
Progress = Callable[[float, str], None]

FORMATS_HELP = (
    "a .gguf file, a Meta directory (params.json + consolidated.*.pth) or a "
    "Hugging Face directory (config.json + *.safetensors)"
)


def detect_format(path: str | Path) -> tuple[str, Path]:
    """Which loader a path needs.

    Args:
        path: a checkpoint file (``.gguf``, ``.pth``, ``.safetensors``, ``params.json``,
            ``config.json``) or a directory holding one.

    Returns:
        (format, location): ``"gguf"`` with the file, or ``"meta"``/``"hf"`` with the directory.
    """
    p = Path(path).expanduser()
    if not p.exists():
        raise CheckpointError(p, f"does not exist (expected {FORMATS_HELP})")
    if not p.is_dir():
        return _detect_file(p)
    ggufs = sorted(p.glob("*.gguf"))
    if (p / "params.json").exists() and any(p.glob("consolidated.*.pth")):
        return "meta", p
    if (p / "config.json").exists() and (
        any(p.glob("*.safetensors")) or (p / "model.safetensors.index.json").exists()
    ):
        return "hf", p
    if len(ggufs) == 1:
        return "gguf", ggufs[0]
    if len(ggufs) > 1:
        names = ", ".join(g.name for g in ggufs[:5])
        raise CheckpointError(p, f"holds several .gguf files ({names}); open one of them")
    if (p / "config.json").exists():
        raise CheckpointError(p, "has config.json but no *.safetensors weights")
    if (p / "params.json").exists():
        raise CheckpointError(p, "has params.json but no consolidated.*.pth weights")
    raise CheckpointError(p, f"holds no checkpoint (expected {FORMATS_HELP})")


def _detect_file(p: Path) -> tuple[str, Path]:
    with open_regular(p) as fh:  # a FIFO or device is refused here, never read
        head = fh.read(4)
    if p.suffix == ".gguf" or head == b"GGUF":
        return "gguf", p
    if p.suffix == ".pth" or p.name == "params.json":
        return "meta", p.parent
    if p.suffix == ".safetensors" or p.name in ("config.json", "model.safetensors.index.json"):
        return "hf", p.parent
    raise CheckpointError(p, f"is not a checkpoint file (expected {FORMATS_HELP})")


def load_checkpoint(path: str | Path, progress: Progress | None = None) -> Checkpoint:
    """Load any supported checkpoint into the Meta convention.

    Args:
        path: see :func:`detect_format`.
        progress: called with (fraction in [0, 1], message) while loading.

    Returns:
        The checkpoint, with tensors validated against its config and the tokenizer
        checked to fit the embedding.

    Raises:
        CheckpointError: naming the file and the problem, for anything unusable.
    """
    fmt, location = detect_format(path)
    if fmt == "gguf":
        from llamalens.model.loaders.gguf_loader import load_gguf

        ckpt = load_gguf(location, progress)
    elif fmt == "meta":
        from llamalens.model.loaders.meta import load_meta

        ckpt = load_meta(location, progress)
    else:
        from llamalens.model.loaders.hf import load_hf

        ckpt = load_hf(location, progress)
    check_tokenizer_fits(ckpt)
    if progress:
        progress(1.0, "Loaded")
    return ckpt


def check_tokenizer_fits(ckpt: Checkpoint) -> None:
    """A tokenizer may not produce ids the embedding has no row for."""
    tok = ckpt.tokenizer
    if tok is None:
        log.warning("%s ships no tokenizer", ckpt.path)
        return
    if tok.n_vocab > ckpt.config.vocab_size:
        raise CheckpointError(
            ckpt.path,
            f"tokenizer has {tok.n_vocab} tokens but the model's "
            f"embedding has only {ckpt.config.vocab_size} rows",
        )
