"""ModelInfo: what a user is told about a loaded model, the same in the app and the CLI."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class ModelInfo:
    """Plain facts about a loaded model (no torch objects: safe to hand to the GUI thread).

    Attributes:
        name: display name.
        path: the checkpoint file or directory.
        format: ``meta``, ``hf`` or ``gguf``.
        device, dtype: where and in which precision it computes (``cpu``, ``fp32``).
        weights: how the weights are stored (``Q4_1``, ``bf16``, ``Q4_K+Q6_K``).
        quantization: the stored weight type of a GGUF (``Q4_1``), else None.
        config: the model config as a plain dict.
        parameters: number of weights.
        tokenizer: name, n_vocab, bos_id, eos_id, add_bos, chat_template (name or None).
        load_seconds: wall time of the load.
    """

    name: str
    path: str
    format: str
    device: str
    dtype: str
    weights: str
    quantization: str | None
    config: dict[str, Any]
    parameters: int
    tokenizer: dict[str, Any]
    load_seconds: float

    @property
    def n_layers(self) -> int:
        return int(self.config["n_layers"])

    @property
    def n_heads(self) -> int:
        return int(self.config["n_heads"])

    @property
    def n_kv_heads(self) -> int:
        return int(self.config["n_kv_heads"])

    @property
    def has_chat(self) -> bool:
        return self.tokenizer.get("chat_template") is not None

    def summary(self) -> str:
        """One line for a status bar: name, weights, compute dtype, device, load time."""
        return (
            f"{self.name} · weights {self.weights} · compute {self.dtype} on {self.device} · "
            f"loaded in {self.load_seconds:.1f} s"
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON (``llamalens info --json``)."""
        out = asdict(self)
        out["load_seconds"] = round(self.load_seconds, 3)
        return out


def describe(engine: Any) -> ModelInfo:
    """The :class:`ModelInfo` of an :class:`~llamalens.model.engine.Engine`."""
    from llamalens.model.device import dtype_name

    ck, tok = engine.checkpoint, engine.tokenizer
    template = tok.chat_template
    return ModelInfo(
        name=engine.name,
        path=str(ck.path),
        format=ck.format,
        device=str(engine.device),
        dtype=dtype_name(engine.dtype),
        weights=engine.weights,
        quantization=ck.metadata.get("quantization"),
        config=ck.config.to_dict(),
        parameters=engine.n_params,
        tokenizer={
            "name": tok.name,
            "n_vocab": tok.n_vocab,
            "bos_id": tok.bos_id,
            "eos_id": tok.eos_id,
            "add_bos": tok.add_bos,
            "chat_template": template.name if template is not None else None,
        },
        load_seconds=engine.load_seconds,
    )
