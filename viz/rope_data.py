"""The validated input of a RopePlane: one query (and key) as complex pairs, with θ."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class RopeData:
    q_before: np.ndarray
    q_after: np.ndarray
    theta: np.ndarray
    q_pos: int
    k_before: np.ndarray | None
    k_after: np.ndarray | None
    k_pos: int | None
    contributions: np.ndarray | None


def complex_vector(name: str, value: np.ndarray, n: int) -> np.ndarray:
    arr = np.asarray(value)
    if not np.iscomplexobj(arr):
        raise ValueError(f"{name} must be complex (one number per pair), got dtype {arr.dtype}")
    if arr.shape != (n,):
        raise ValueError(f"{name} has shape {arr.shape}, expected ({n},) = (hd/2,) like theta")
    return arr.astype(np.complex128)


def validated(q_before, q_after, theta, q_pos, k_before, k_after, k_pos, contributions) -> RopeData:
    theta = np.asarray(theta, dtype=np.float64)
    if theta.ndim != 1 or theta.size == 0:
        raise ValueError(f"theta has shape {theta.shape}, expected (hd/2,) with hd/2 >= 1")
    if not np.all(np.isfinite(theta) & (theta > 0)):
        raise ValueError("theta must be finite and positive (radians per position)")
    n = theta.size
    if (k_before is None) != (k_after is None) or (k_after is not None and k_pos is None):
        raise ValueError("k_before, k_after and k_pos must be given together (or all None)")
    k_b = None if k_before is None else complex_vector("k_before", k_before, n)
    k_a = None if k_after is None else complex_vector("k_after", k_after, n)
    q_a = complex_vector("q_after", q_after, n)
    if contributions is not None:
        contributions = np.asarray(contributions, dtype=np.float64)
        if contributions.shape != (n,):
            raise ValueError(f"contributions has shape {contributions.shape}, expected ({n},)")
    elif k_a is not None:  # the same per-pair terms the score is made of
        contributions = (q_a * np.conj(k_a)).real / np.sqrt(2.0 * n)
    return RopeData(
        complex_vector("q_before", q_before, n),
        q_a,
        theta,
        int(q_pos),
        k_b,
        k_a,
        None if k_pos is None else int(k_pos),
        contributions,
    )
