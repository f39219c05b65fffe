"""The torch block decoders agree bit for bit with gguf's numpy reference."""

from __future__ import annotations

import gguf
import numpy as np
import pytest
import torch

from llamalens.model.loaders import dequant
from llamalens.model.loaders.dequant import BLOCK_LAYOUT, SUPPORTED_TYPES, dequantize

QT = gguf.GGMLQuantizationType


def _bits(x: np.ndarray | torch.Tensor) -> np.ndarray:
    array = x.numpy() if isinstance(x, torch.Tensor) else x
    return np.ascontiguousarray(array, dtype=np.float32).view(np.uint32)


def _reference(raw: np.ndarray, qtype: str, shape: tuple[int, int]) -> np.ndarray:
    return gguf.quants.dequantize(raw, QT[qtype]).reshape(shape)


def _random_halves(rng: np.random.Generator, n: int, scale: float) -> np.ndarray:
    """n finite float16 values as (n, 2) little-endian bytes."""
    return (rng.standard_normal(n) * scale).astype("<f2").view(np.uint8).reshape(n, 2)


@pytest.mark.parametrize("qtype", ["Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "BF16"])
def test_quantized_by_gguf_decodes_like_gguf(qtype: str) -> None:
    rng = np.random.default_rng(1)
    weights = (rng.standard_normal((48, 256)) * 0.05).astype(np.float32)
    weights[3, :32] = 0.0  # an all-zero block has d = 0
    raw = gguf.quants.quantize(weights, QT[qtype])
    ours = dequantize(raw, qtype, weights.shape)
    assert ours.dtype == torch.float32 and tuple(ours.shape) == weights.shape
    np.testing.assert_array_equal(_bits(ours), _bits(_reference(raw, qtype, weights.shape)))


@pytest.mark.parametrize("qtype,d_at", [("Q4_K", (0, 2)), ("Q5_K", (0, 2)), ("Q6_K", (208,))])
def test_k_quants_decode_like_gguf(qtype: str, d_at: tuple[int, ...]) -> None:
    """Random blocks whose f16 scale fields hold finite values (other bytes are arbitrary)."""
    rng = np.random.default_rng(2)
    n_blocks = 64
    _, size = BLOCK_LAYOUT[qtype]
    raw = rng.integers(0, 256, size=(n_blocks, size), dtype=np.uint8)
    for offset in d_at:
        raw[:, offset : offset + 2] = _random_halves(rng, n_blocks, 0.01)
    shape = (8, n_blocks * 256 // 8)
    raw = raw.reshape(shape[0], -1)
    ours = dequantize(raw, qtype, shape)
    np.testing.assert_array_equal(_bits(ours), _bits(_reference(raw, qtype, shape)))


@pytest.mark.parametrize("qtype", ["Q5_0", "Q5_1"])
def test_q5_random_blocks_decode_like_gguf(qtype: str) -> None:
    """Arbitrary fifth-bit words (bit 31 included) and nibbles, finite f16 scales."""
    rng = np.random.default_rng(6)
    n_blocks = 96
    _, size = BLOCK_LAYOUT[qtype]
    raw = rng.integers(0, 256, size=(n_blocks, size), dtype=np.uint8)
    n_halves = 2 if qtype == "Q5_1" else 1
    raw[:, : 2 * n_halves] = _random_halves(rng, n_blocks * n_halves, 0.01).reshape(n_blocks, -1)
    raw[0, 2 * n_halves : 2 * n_halves + 4] = 0xFF  # every fifth bit set
    raw = raw.reshape(4, -1)
    shape = (4, n_blocks * 32 // 4)
    np.testing.assert_array_equal(
        _bits(dequantize(raw, qtype, shape)), _bits(_reference(raw, qtype, shape))
    )


def test_q5_0_block_by_hand() -> None:
    """Weight j: nibble j (low nibbles 0..15, high 16..31) plus 16·bit j of qh; w = d·(q - 16)."""
    q = np.random.default_rng(7).integers(0, 32, size=32)
    qh = sum(int(q[j] >> 4) << j for j in range(32))
    nibbles = (q[:16] & 0x0F) | ((q[16:] & 0x0F) << 4)
    block = np.concatenate(
        [
            np.array([0.5], "<f2").view(np.uint8),
            np.array([qh], "<u4").view(np.uint8),
            nibbles.astype(np.uint8),
        ]
    )
    assert dequantize(block, "Q5_0", (32,)).tolist() == [0.5 * (v - 16) for v in q]


def test_q8_1_decodes_like_gguf_q8_0() -> None:
    """gguf has no Q8_1 decoder: a Q8_1 block is a Q8_0 block with the sum s after d, so the
    reference is gguf's Q8_0 decoding of the same d and quants."""
    rng = np.random.default_rng(8)
    weights = (rng.standard_normal((6, 128)) * 0.05).astype(np.float32)
    q8_0 = gguf.quants.quantize(weights, QT.Q8_0).reshape(-1, 34)
    sums = rng.standard_normal(len(q8_0)).astype("<f2").view(np.uint8).reshape(-1, 2)
    q8_1 = np.concatenate([q8_0[:, :2], sums, q8_0[:, 2:]], axis=1).reshape(6, -1)
    assert q8_1.shape == (6, 4 * 36)
    ours = dequantize(q8_1, "Q8_1", weights.shape)
    np.testing.assert_array_equal(_bits(ours), _bits(_reference(q8_0, "Q8_0", weights.shape)))


def test_single_blocks_decode() -> None:
    """One block of each type: its fields start at odd byte offsets of a 1-row tensor."""
    for qtype, (block, size) in BLOCK_LAYOUT.items():
        raw = np.zeros(size, np.uint8)
        assert dequantize(raw, qtype, (block,)).abs().max() == 0, qtype


@pytest.mark.parametrize(
    "qtype,dtype,exponent_mask", [("F16", "<u2", 0x7C00), ("BF16", "<u2", 0x7F80)]
)
def test_half_types_decode_every_finite_bit_pattern(
    qtype: str, dtype: str, exponent_mask: int
) -> None:
    patterns = np.arange(1 << 16, dtype=np.uint32).astype(dtype)
    patterns = patterns[(patterns & exponent_mask) != exponent_mask]  # drop inf/NaN
    raw = patterns[: len(patterns) // 64 * 64].reshape(64, -1).view(np.uint8)
    shape = (64, raw.shape[1] // 2)
    ours = dequantize(raw, qtype, shape)
    np.testing.assert_array_equal(_bits(ours), _bits(_reference(raw, qtype, shape)))


def test_f32_is_copied_unchanged() -> None:
    weights = np.random.default_rng(3).standard_normal((5, 7)).astype(np.float32)
    ours = dequantize(weights.view(np.uint8), "F32", (5, 7))
    np.testing.assert_array_equal(ours.numpy(), weights)


def test_q8_0_block_by_hand() -> None:
    q = np.arange(-16, 16, dtype=np.int8)
    block = np.concatenate([np.array([0.5], "<f2").view(np.uint8), q.view(np.uint8)])
    assert dequantize(block, "Q8_0", (32,)).tolist() == (q * 0.5).tolist()


def test_q4_1_block_by_hand() -> None:
    """Low nibbles are weights 0..15, high nibbles 16..31; w = d·q + m."""
    low, high = np.arange(16, dtype=np.uint8), 15 - np.arange(16, dtype=np.uint8)
    scales = np.array([0.25, -1.0], "<f2").view(np.uint8)
    block = np.concatenate([scales, low | (high << 4)])
    expected = [0.25 * q - 1.0 for q in [*range(16), *range(15, -1, -1)]]
    assert dequantize(block, "Q4_1", (32,)).tolist() == expected


def test_q4_k_layout_by_hand() -> None:
    """d = 1, dmin = 1, scale j = j + 1 and min j = 2j: weight l of sub-block j is (j+1)·q - 2j."""
    scale, minimum = np.arange(1, 9), 2 * np.arange(8)
    packed = np.zeros(12, np.uint8)
    packed[0:4] = scale[:4] | ((scale[4:] >> 4) << 6)
    packed[4:8] = minimum[:4] | ((minimum[4:] >> 4) << 6)
    packed[8:12] = (scale[4:] & 0x0F) | ((minimum[4:] & 0x0F) << 4)
    q = np.random.default_rng(4).integers(0, 16, size=(8, 32)).astype(np.uint8)
    nibbles = (q[0::2] | (q[1::2] << 4)).reshape(-1)  # chunk c: sub-blocks 2c (low), 2c+1 (high)
    block = np.concatenate([np.array([1.0, 1.0], "<f2").view(np.uint8), packed, nibbles])
    expected = (scale[:, None] * q - minimum[:, None]).reshape(-1).astype(np.float32)
    np.testing.assert_array_equal(dequantize(block, "Q4_K", (256,)).numpy(), expected)


def test_chunked_decoding_matches_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(5)
    raw = gguf.quants.quantize(rng.standard_normal((30, 64)).astype(np.float32), QT.Q4_1)
    whole = dequantize(raw, "Q4_1", (30, 64))
    monkeypatch.setattr(dequant, "_CHUNK_WEIGHTS", 96)  # 3 blocks per step, ragged last step
    np.testing.assert_array_equal(dequantize(raw, "Q4_1", (30, 64)).numpy(), whole.numpy())


def test_torch_input_is_accepted() -> None:
    raw = gguf.quants.quantize(np.linspace(-1, 1, 64, dtype=np.float32).reshape(2, 32), QT.Q8_0)
    ours = dequantize(torch.from_numpy(raw), "Q8_0", (2, 32))
    np.testing.assert_array_equal(_bits(ours), _bits(_reference(raw, "Q8_0", (2, 32))))


def test_wrong_byte_count_is_rejected() -> None:
    with pytest.raises(ValueError, match="expected 68 bytes"):
        dequantize(np.zeros(60, np.uint8), "Q8_0", (2, 32))
    with pytest.raises(ValueError, match="cannot hold"):
        dequantize(np.zeros(34, np.uint8), "Q8_0", (2, 16))  # rows are not whole blocks


def test_unknown_type_is_rejected() -> None:
    with pytest.raises(ValueError, match="Q3_K is not one of F32"):
        dequantize(np.zeros(110, np.uint8), "Q3_K", (256,))
    assert set(SUPPORTED_TYPES) == {
        "F32",
        "F16",
        "BF16",
        "Q8_0",
        "Q4_0",
        "Q4_1",
        "Q5_0",
        "Q5_1",
        "Q8_1",
        "Q4_K",
        "Q5_K",
        "Q6_K",
    }
