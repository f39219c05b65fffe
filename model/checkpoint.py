"""A loaded checkpoint: config, tensors in Meta naming, tokenizer."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llamalens.model.config import LlamaConfig

if TYPE_CHECKING:
    from llamalens.model.stored import Weight
    from llamalens.model.tokenizer import Tokenizer


@dataclass
class Checkpoint:
    """What every loader returns, whatever the file format.

    Attributes:
        path: the file or directory that was opened.
        format: ``"meta"``, ``"hf"`` or ``"gguf"``.
        config: validated hyper-parameters.
        tensors: weights in the Meta/seed naming (``tok_embeddings.weight``,
            ``layers.0.attention.wq.weight`` (H·hd, d) with RoPE pairs adjacent,
            ``layers.0.feed_forward.w1.weight``, ``norm.weight``, optional
            ``output.weight`` and optional ``rope_freqs`` (hd/2,) divisors of θ_i).
            Each is a ``torch.Tensor`` (in memory or memory-mapped from the file) or a
            :class:`~llamalens.model.stored.StoredTensor` read on demand; building the
            model takes them out of this dict one at a time.
        tokenizer: the checkpoint's tokenizer, or None when it ships none.
        metadata: free-form facts for display (model name, quantization, chat template).
        mapped: the tensors are memory-mapped from the file (the model must not copy
            them to rearrange them).
    """

    path: Path
    format: str
    config: LlamaConfig
    tensors: dict[str, Weight]
    tokenizer: Tokenizer | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    mapped: bool = False

    @property
    def n_params(self) -> int:
        """Number of weights (tied embeddings counted once)."""
        return sum(t.numel() for name, t in self.tensors.items() if name != "rope_freqs")
