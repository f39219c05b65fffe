"""What the engine derives from a trace: per-head statistics and the logit lens.

Plain numpy containers, shared by the engine (which computes them), sessions (which save
them) and the app (which shows them). The statistic names are :data:`STAT_NAMES`, the
same everywhere: in memory, in session files and as table columns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

STAT_NAMES = ("entropy", "sink", "previous", "self", "induction")
STAT_HELP = {
    "entropy": "mean row entropy of the attention probabilities (nats)",
    "sink": "mean attention to the first token",
    "previous": "mean attention to the previous token",
    "self": "mean attention of a token to itself",
    "induction": "attention from a repeated random sequence to the token after the first "
    "occurrence",
}


@dataclass(frozen=True)
class LogitLens:
    """The final norm and output projection applied after every layer.

    Attributes:
        ids: (L, P, k) int64 top-k token ids per layer and position, most likely first
            (None when read from a session file that did not keep them).
        probs: (L, P, k) float32 their probabilities.
        text: (L, P, k) str their token texts.
        positions: the P positions decoded.
    """

    ids: np.ndarray | None
    probs: np.ndarray
    text: np.ndarray
    positions: tuple[int, ...]

    def check(self, n_layers: int, n_tokens: int) -> None:
        """Raise ValueError unless the arrays fit a trace of this size."""
        probs, text = np.asarray(self.probs), np.asarray(self.text)
        ok = (
            probs.ndim == 3
            and text.shape == probs.shape
            and probs.shape[0] == n_layers
            and probs.shape[1] == len(self.positions)
            and (self.ids is None or np.asarray(self.ids).shape == probs.shape)
            and all(0 <= p < n_tokens for p in self.positions)
        )
        if not ok:
            raise ValueError(
                f"logit lens shapes disagree: text {text.shape}, probs {probs.shape}, "
                f"{len(self.positions)} positions, for {n_layers} layers and {n_tokens} tokens"
            )


@dataclass(frozen=True)
class Analysis:
    """Head statistics and the logit lens of one trace.

    Attributes:
        stats: name (one of :data:`STAT_NAMES`) → (L, H) float array; may be empty.
        lens: the logit lens, or None.
    """

    stats: Mapping[str, np.ndarray] = field(default_factory=dict)
    lens: LogitLens | None = None

    def check(self, n_layers: int, n_heads: int, n_tokens: int) -> None:
        """Raise ValueError unless every array fits a trace of this size."""
        unknown = sorted(set(self.stats) - set(STAT_NAMES))
        if unknown:
            raise ValueError(
                f"unknown head statistics {', '.join(unknown)}; expected {', '.join(STAT_NAMES)}"
            )
        for name, values in self.stats.items():
            if np.shape(values) != (n_layers, n_heads):
                raise ValueError(
                    f"statistic {name!r} has shape {np.shape(values)}, "
                    f"expected {(n_layers, n_heads)}"
                )
        if self.lens is not None:
            self.lens.check(n_layers, n_tokens)

    def fits(self, n_layers: int, n_heads: int, n_tokens: int) -> bool:
        """Whether :meth:`check` would pass."""
        try:
            self.check(n_layers, n_heads, n_tokens)
        except ValueError:
            return False
        return True
