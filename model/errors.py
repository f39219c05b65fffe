"""Errors raised at the edges of the model package.

Every file LlamaLens opens can be refused with one message that names the file and the
problem: :class:`CheckpointError` for weights, configs and tokenizers, :class:`SessionError`
for session and trace files. Both are :class:`FileError`; code that reports problems to a
user catches that (and :class:`ValueError` for bad arguments) and nothing broader.
"""

from __future__ import annotations

from pathlib import Path


class FileError(Exception):
    """A file (or directory) cannot be used.

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


class CheckpointError(FileError):
    """A checkpoint (weights, config or tokenizer) cannot be used."""


class SessionError(FileError, ValueError):
    """A session (``.llamalens``) or trace (``.npz``) file cannot be opened.

    Also a :class:`ValueError`, as sessions and traces reported before this class existed.
    """


class Cancelled(Exception):
    """The user cancelled a load, run or generation (raised from a progress callback)."""
