"""GGML block formats decoded to float32 with vectorized torch ops.

Every quantized type stores a tensor row as consecutive blocks of ``block_size``
weights packed into ``type_size`` bytes. Decoding is pure integer unpacking plus one
or two float32 multiplies per weight, done in the same order as the reference
``gguf.quants.dequantize`` so that both give bit-identical results.

Layouts (per block; ``f16`` is an IEEE half, little-endian):

- ``Q8_0`` (32 weights, 34 B): f16 d, 32 x int8 q; ``w = q·d``.
- ``Q4_0`` (32, 18 B): f16 d, 16 B nibbles (low nibbles are weights 0..15, high
  nibbles 16..31); ``w = d·(q - 8)``.
- ``Q4_1`` (32, 20 B): f16 d, f16 m, 16 B nibbles; ``w = d·q + m``.
- ``Q5_0`` (32, 22 B): f16 d, 4 B ``qh`` (little-endian uint32: bit j is the fifth bit of
  weight j), 16 B nibbles as in Q4_0; ``w = d·(q - 16)``.
- ``Q5_1`` (32, 24 B): f16 d, f16 m, 4 B ``qh``, 16 B nibbles; ``w = d·q + m``.
- ``Q8_1`` (32, 36 B): f16 d, f16 s (= d·Σq, only used by llama.cpp's dot products),
  32 x int8 q; ``w = q·d``. This is ggml's current layout; gguf-py's size table still lists
  the 40-byte layout of 2023 (float32 d and s), which no current GGUF writer produces.
- ``Q4_K`` (256, 144 B): f16 d, f16 dmin, 12 B of eight 6-bit (scale, min) pairs,
  128 B nibbles in four 64-weight chunks (low nibbles first); ``w = d·s_j·q - dmin·m_j``.
- ``Q5_K`` (256, 176 B): like Q4_K plus 32 B of fifth bits (bit j of byte l is
  the high bit of weight l of sub-block j).
- ``Q6_K`` (256, 210 B): 128 B low nibbles, 64 B high 2-bit pairs, 16 x int8
  scales (one per 16 weights), f16 d; ``w = (d·s_j)·(q - 32)``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import torch

# name -> (weights per block, bytes per block)
BLOCK_LAYOUT: dict[str, tuple[int, int]] = {
    "F32": (1, 4),
    "F16": (1, 2),
    "BF16": (1, 2),
    "Q8_0": (32, 34),
    "Q4_0": (32, 18),
    "Q4_1": (32, 20),
    "Q5_0": (32, 22),
    "Q5_1": (32, 24),
    "Q8_1": (32, 36),
    "Q4_K": (256, 144),
    "Q5_K": (256, 176),
    "Q6_K": (256, 210),
}
SUPPORTED_TYPES: tuple[str, ...] = tuple(BLOCK_LAYOUT)

# Weights decoded per step: keeps the temporaries small (about 1 MB) and cache-resident.
_CHUNK_WEIGHTS = 1 << 18


def nbytes_for(qtype: str, n_weights: int) -> int:
    """Bytes that ``n_weights`` weights of type ``qtype`` occupy in a GGUF file."""
    block, size = BLOCK_LAYOUT[qtype]
    return n_weights // block * size


def dequantize(raw: np.ndarray | torch.Tensor, qtype: str, shape: tuple[int, ...]) -> torch.Tensor:
    """Decode a GGUF tensor's bytes to float32.

    Args:
        raw: the tensor's bytes (any dtype, C-contiguous; viewed as uint8).
        qtype: a name from :data:`SUPPORTED_TYPES`.
        shape: logical shape in PyTorch order, e.g. ``(rows, cols)``; the last
            dimension must be a multiple of the block size.

    Returns:
        A new float32 tensor of ``shape`` that owns its memory.

    Raises:
        ValueError: unknown type, or a byte count that does not match ``shape``.
    """
    if qtype not in BLOCK_LAYOUT:
        raise ValueError(f"type {qtype} is not one of {', '.join(SUPPORTED_TYPES)}")
    data = _as_uint8(raw)
    n_weights = int(np.prod(shape, dtype=np.int64))
    block, size = BLOCK_LAYOUT[qtype]
    if (shape and shape[-1] % block) or data.numel() != nbytes_for(qtype, n_weights):
        raise ValueError(
            f"{data.numel()} bytes cannot hold a {qtype} tensor of shape "
            f"{tuple(shape)} (expected {nbytes_for(qtype, n_weights)} bytes)"
        )
    blocks = data.view(-1, size)  # (n_blocks, type_size)
    decode = _DECODERS[qtype]
    out = torch.empty((blocks.shape[0], block), dtype=torch.float32)  # (n_blocks, block)
    step = max(1, _CHUNK_WEIGHTS // block)
    with _one_thread():
        for start in range(0, blocks.shape[0], step):
            decode(blocks[start : start + step], out[start : start + step])
    return out.view(shape)


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """Run torch ops on one thread for a while.

    Decoding is memory-bound: a second thread gains nothing on an idle machine, and
    on a busy one every small parallel op waits for a descheduled worker (measured:
    2-8 s instead of 0.25 s for SmolLM2 with the other core taken).
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _as_uint8(raw: np.ndarray | torch.Tensor) -> torch.Tensor:
    if isinstance(raw, torch.Tensor):
        return raw.contiguous().view(torch.uint8).reshape(-1)
    flat = np.ascontiguousarray(raw).reshape(-1).view(np.uint8)
    # GGUF tensors are read-only memory maps; torch wants writable memory, so copy once.
    return torch.from_numpy(flat.copy() if not flat.flags.writeable else flat)


def _f16(pair: torch.Tensor) -> torch.Tensor:
    """(n, 2) uint8 little-endian halves -> (n, 1) float32."""
    return pair.contiguous().view(torch.float16).float()


def _f32(b: torch.Tensor, out: torch.Tensor) -> None:
    out.copy_(b.contiguous().view(torch.float32))


def _f16_weights(b: torch.Tensor, out: torch.Tensor) -> None:
    out.copy_(_f16(b))


def _bf16(b: torch.Tensor, out: torch.Tensor) -> None:
    # bfloat16 is the top half of a float32: shift the 16 bits into place.
    out.copy_((b.contiguous().view(torch.int16).to(torch.int32) << 16).view(torch.float32))


def _q8_0(b: torch.Tensor, out: torch.Tensor) -> None:
    out.copy_(b[:, 2:].contiguous().view(torch.int8))  # (n, 32) exact small integers
    out.mul_(_f16(b[:, :2]))  # times d (n, 1)


def _q8_1(b: torch.Tensor, out: torch.Tensor) -> None:
    out.copy_(b[:, 4:].contiguous().view(torch.int8))  # (n, 32); the sum s is not needed
    out.mul_(_f16(b[:, :2]))  # times d (n, 1)


def _unpack_nibbles(packed: torch.Tensor, out: torch.Tensor) -> None:
    """(n, 16) bytes -> out (n, 32): low nibbles are weights 0..15, high nibbles 16..31."""
    halves = out.view(-1, 2, 16)
    halves[:, 0] = packed & 0x0F
    halves[:, 1] = packed >> 4


def _q4_0(b: torch.Tensor, out: torch.Tensor) -> None:
    _unpack_nibbles(b[:, 2:], out)
    out.sub_(8.0).mul_(_f16(b[:, :2]))  # d·(q - 8); q - 8 is exact


def _q4_1(b: torch.Tensor, out: torch.Tensor) -> None:
    _unpack_nibbles(b[:, 4:], out)
    out.mul_(_f16(b[:, :2])).add_(_f16(b[:, 2:4]))  # d·q + m


_BIT_OF_BYTE = torch.arange(8, dtype=torch.uint8).view(1, 1, 8)


def _add_fifth_bits(qh: torch.Tensor, out: torch.Tensor) -> None:
    """Add 16 x bit j of the little-endian 32-bit word ``qh`` (n, 4) to weight j of out (n, 32).

    Bit i of byte k is bit 8k + i of the word, so unpacking the bytes in order lists the bits
    in weight order.
    """
    bits = (qh.reshape(-1, 4, 1) >> _BIT_OF_BYTE) & 1  # (n, 4, 8)
    out.add_(bits.reshape(-1, 32).float().mul_(16.0))


def _q5_0(b: torch.Tensor, out: torch.Tensor) -> None:
    _unpack_nibbles(b[:, 6:], out)
    _add_fifth_bits(b[:, 2:6], out)
    out.sub_(16.0).mul_(_f16(b[:, :2]))  # d·(q - 16); q - 16 is exact


def _q5_1(b: torch.Tensor, out: torch.Tensor) -> None:
    _unpack_nibbles(b[:, 8:], out)
    _add_fifth_bits(b[:, 4:8], out)
    out.mul_(_f16(b[:, :2])).add_(_f16(b[:, 2:4]))  # d·q + m


def _k_scales(s: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Unpack 12 bytes into eight 6-bit scales and eight 6-bit mins, (n, 8) each.

    Bytes 0..3 hold scales 0..3 in their low 6 bits, bytes 4..7 mins 0..3; bytes
    8..11 hold the low 4 bits of scales 4..7 (low nibble) and of mins 4..7 (high
    nibble), whose top 2 bits sit in the spare top bits of bytes 0..3 and 4..7.
    """
    a, m, c = s[:, 0:4], s[:, 4:8], s[:, 8:12]
    scale = torch.cat([a & 0x3F, (c & 0x0F) | ((a >> 2) & 0x30)], dim=1)
    minimum = torch.cat([m & 0x3F, (c >> 4) | ((m >> 2) & 0x30)], dim=1)
    return scale, minimum


def _k_nibbles(qs: torch.Tensor, out: torch.Tensor) -> None:
    """128 B in four 32-byte chunks -> out (n, 8, 32): sub-block 2c = low nibbles of chunk c."""
    chunks = qs.reshape(-1, 4, 32)
    pairs = out.view(-1, 4, 2, 32)
    pairs[:, :, 0] = chunks & 0x0F
    pairs[:, :, 1] = chunks >> 4


def _k_affine(b: torch.Tensor, out: torch.Tensor) -> None:
    """Turn the integers q in out (n, 8, 32) into (d·s_j)·q - dmin·m_j in place."""
    d, dmin = _f16(b[:, 0:2]), _f16(b[:, 2:4])  # (n, 1)
    scale, minimum = _k_scales(b[:, 4:16])
    out.mul_((d * scale.float()).unsqueeze(-1)).sub_((dmin * minimum.float()).unsqueeze(-1))


def _q4_k(b: torch.Tensor, out: torch.Tensor) -> None:
    q = out.view(-1, 8, 32)
    _k_nibbles(b[:, 16:144], q)
    _k_affine(b, q)


_BIT_OF_SUBBLOCK = torch.arange(8, dtype=torch.uint8).view(1, 8, 1)
_PAIR_SHIFT = torch.tensor([0, 2, 4, 6], dtype=torch.uint8).view(1, 1, 4, 1)


def _q5_k(b: torch.Tensor, out: torch.Tensor) -> None:
    q = out.view(-1, 8, 32)
    _k_nibbles(b[:, 48:176], q)
    high = (b[:, 16:48].reshape(-1, 1, 32) >> _BIT_OF_SUBBLOCK) & 1  # (n, 8, 32)
    q.add_(high.float().mul_(16.0))  # q | (bit << 4), exact in float32
    _k_affine(b, q)


def _q6_k(b: torch.Tensor, out: torch.Tensor) -> None:
    n = b.shape[0]
    lo, hi = b[:, :128].reshape(n, 2, 1, 64) & 0x0F, b[:, :128].reshape(n, 2, 1, 64) >> 4
    low4 = torch.cat([lo, hi], dim=2).reshape(n, 2, 4, 32)  # per half: 4 runs of 32
    high2 = (b[:, 128:192].reshape(n, 2, 1, 32) >> _PAIR_SHIFT) & 3  # (n, 2, 4, 32)
    q = out.view(n, 16, 16)
    q.copy_((low4 | (high2 << 4)).view(n, 16, 16)).sub_(32.0)
    scale = b[:, 192:208].contiguous().view(torch.int8).float()  # (n, 16)
    q.mul_((_f16(b[:, 208:210]) * scale).unsqueeze(-1))  # (d·s_j)·(q - 32)


_DECODERS = {
    "F32": _f32,
    "F16": _f16_weights,
    "BF16": _bf16,
    "Q8_0": _q8_0,
    "Q4_0": _q4_0,
    "Q4_1": _q4_1,
    "Q5_0": _q5_0,
    "Q5_1": _q5_1,
    "Q8_1": _q8_1,
    "Q4_K": _q4_k,
    "Q5_K": _q5_k,
    "Q6_K": _q6_k,
}
