"""Errors raised at the edges of the model package."""

from __future__ import annotations

from pathlib import Path


class CheckpointError(Exception):
    """A checkpoint (weights, config or tokenizer) cannot be used.

    The message always names the offending file and the problem, for example
    ``"/m/params.json: n_heads is 0, expected a positive integer"``.

    Attributes:
        path: the file or directory at fault.
        problem: what is wrong with it, in one sentence.
    """

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")
