"""One Llama, in Meta's naming: RMSNorm, RoPE, GQA attention, SwiGLU, KV cache.

Tensor names match Meta's checkpoints (``tok_embeddings``,
``layers.N.attention.wq`` ...), so a loaded :class:`~model.checkpoint.Checkpoint`
drops straight in. Identity :class:`Tap` modules mark every point of the math a
viewer may want to see; forward hooks on them capture values, and while any tap
is hooked attention takes the explicit scores → mask → softmax path.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from llamalens.model.attention import (
    attention_probs,
    attention_scores,
    causal_mask,
    masked_scores,
)
from llamalens.model.config import LlamaConfig
from llamalens.model.rope import apply_rotary_emb, precompute_freqs_cis, rope_frequencies
from llamalens.model.rope_scaling import attention_factor


class Tap(nn.Identity):
    """A named point in the computation; hooks on it see the value flowing through."""


UPCAST_ROWS_BYTES = 64 * 2**20  # a weight upcast for a product, at most this much at a time


class Linear(nn.Linear):
    """A linear layer whose weights stay as stored and meet the input in its dtype.

    With bf16 weights and float32 activations, the weight is upcast for this one
    product, a block of rows at a time: the transient cost is a few tens of MB, never a
    float32 copy of the model (nor of its 128k-row output projection).
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bias = None if self.bias is None else self.bias.to(x.dtype)
        w = self.weight
        if w.dtype == x.dtype:
            return F.linear(x, w, bias)
        rows = max(1, UPCAST_ROWS_BYTES // (w.shape[1] * x.element_size()))
        if rows >= w.shape[0]:
            return F.linear(x, w.to(x.dtype), bias)
        parts = [F.linear(x, w[i : i + rows].to(x.dtype)) for i in range(0, w.shape[0], rows)]
        out = torch.cat(parts, dim=-1)  # (..., out_features)
        return out if bias is None else out + bias


class RMSNorm(nn.Module):
    """x / sqrt(mean(x²) + eps) · g, the normalisation in float32."""

    def __init__(self, dim: int, eps: float) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xf = x.float()
        normed = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight.to(x.dtype) * normed.type_as(x)


def repeat_kv(x: torch.Tensor, n_rep: int) -> torch.Tensor:
    """(B, T, KV, hd) → (B, T, KV·n_rep, hd): each KV head serves n_rep query heads."""
    if n_rep == 1:
        return x
    b, t, kv, hd = x.shape
    return x[:, :, :, None, :].expand(b, t, kv, n_rep, hd).reshape(b, t, kv * n_rep, hd)


class Attention(nn.Module):
    """Causal multi-head attention with grouped key/value heads and a KV cache."""

    def __init__(self, cfg: LlamaConfig) -> None:
        super().__init__()
        self.n_heads, self.n_kv_heads, self.head_dim = cfg.n_heads, cfg.n_kv_heads, cfg.head_dim
        self.n_rep = cfg.n_rep
        hd = cfg.head_dim
        self.wq = Linear(cfg.dim, cfg.n_heads * hd, bias=cfg.qkv_bias)
        self.wk = Linear(cfg.dim, cfg.n_kv_heads * hd, bias=cfg.qkv_bias)
        self.wv = Linear(cfg.dim, cfg.n_kv_heads * hd, bias=cfg.qkv_bias)
        self.wo = Linear(cfg.n_heads * hd, cfg.dim, bias=False)
        for name in ("q", "k", "v", "q_rot", "k_rot", "scores", "masked", "probs", "out"):
            self.add_module(name, Tap())
        self.cache_k: torch.Tensor | None = None  # (B, S, KV, hd)
        self.cache_v: torch.Tensor | None = None
        self.explicit = False  # set by capture(): materialise the attention matrix

    def forward(
        self,
        x: torch.Tensor,
        freqs_cis: torch.Tensor,
        visible: torch.Tensor,
        start_pos: int,
        use_cache: bool,
    ) -> torch.Tensor:
        """Attention of T new positions over every cached and new key.

        Args:
            x: (B, T, d) normalised residual stream.
            freqs_cis: (T, hd/2) rotations of positions start_pos..start_pos+T-1.
            visible: (T, S) bool causal mask of this forward pass (built once, shared).
            start_pos: position of x[:, 0].
            use_cache: append keys/values to the cache and attend over all of it.
        """
        b, t, _ = x.shape
        q = self.q(self.wq(x).view(b, t, self.n_heads, self.head_dim))  # (B, T, H, hd)
        k = self.k(self.wk(x).view(b, t, self.n_kv_heads, self.head_dim))  # (B, T, KV, hd)
        v = self.v(self.wv(x).view(b, t, self.n_kv_heads, self.head_dim))  # (B, T, KV, hd)
        q = self.q_rot(apply_rotary_emb(q, freqs_cis))
        k = self.k_rot(apply_rotary_emb(k, freqs_cis))
        if use_cache:
            k, v = self._extend_cache(k, v, start_pos)  # (B, S, KV, hd), S = start_pos + T
        keys = repeat_kv(k, self.n_rep).transpose(1, 2)  # (B, H, S, hd)
        values = repeat_kv(v, self.n_rep).transpose(1, 2)  # (B, H, S, hd)
        queries = q.transpose(1, 2)  # (B, H, T, hd)
        if self.explicit:
            out = self._explicit(queries, keys, values, visible)
        else:
            out = _fused(queries, keys, values, visible, start_pos)
        out = self.out(out.transpose(1, 2).reshape(b, t, -1))  # (B, T, H·hd)
        return self.wo(out)

    def _explicit(
        self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, visible: torch.Tensor
    ) -> torch.Tensor:
        """scores = QKᵀ/√hd → masked → softmax → ·V, each stage through its tap (float32)."""
        scores = self.scores(attention_scores(q, k))  # (B, H, T, S)
        masked = self.masked(masked_scores(scores, visible))
        probs = self.probs(attention_probs(masked))  # (B, H, T, S)
        return (probs @ v.float()).type_as(v)  # (B, H, T, hd)

    def _extend_cache(self, k: torch.Tensor, v: torch.Tensor, start_pos: int):
        """Write this call's keys/values at start_pos and return all of them so far."""
        end = start_pos + k.shape[1]
        if start_pos == 0 or self.cache_k is None:
            self.cache_k, self.cache_v = k.clone(), v.clone()  # (B, T, KV, hd)
        else:
            if start_pos > self.cache_k.shape[1]:
                raise ValueError(
                    f"start_pos {start_pos} is past the cached {self.cache_k.shape[1]} positions"
                )
            # a new token appended (or an edit from start_pos on): keep the prefix
            self.cache_k = torch.cat([self.cache_k[:, :start_pos], k], dim=1)  # (B, S, KV, hd)
            self.cache_v = torch.cat([self.cache_v[:, :start_pos], v], dim=1)
        return self.cache_k[:, :end], self.cache_v[:, :end]


def _fused(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, visible: torch.Tensor, start_pos: int
) -> torch.Tensor:
    """SDPA in float32: ``is_causal`` for a fresh prompt, no mask for one new token, else
    the mask. Float32 whatever the compute dtype, like the explicit path, so the maps a
    trace rebuilds are the probabilities V was multiplied by.

    (B, H, T, hd) queries over (B, H, S, hd) keys and values → (B, H, T, hd).
    """
    dtype = v.dtype
    q, k, v = q.float(), k.float(), v.float()
    if start_pos == 0:  # keys are exactly the queries' positions: the kernel's own mask
        out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    elif q.shape[2] == 1:  # one new token sees every key
        out = F.scaled_dot_product_attention(q, k, v)
    else:
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=visible)
    return out.to(dtype)


class FeedForward(nn.Module):
    """SwiGLU: w2(silu(w1 x) ⊙ w3 x), with a tap at each intermediate.

    Taps: ``gate`` (w1 x), ``up`` (w3 x), ``act`` (silu(w1 x)) and ``hidden`` (the product
    that w2 projects back), each (B, T, F).
    """

    def __init__(self, dim: int, hidden_dim: int) -> None:
        super().__init__()
        self.w1 = Linear(dim, hidden_dim, bias=False)
        self.w2 = Linear(hidden_dim, dim, bias=False)
        self.w3 = Linear(dim, hidden_dim, bias=False)
        for name in ("gate", "up", "act", "hidden"):
            self.add_module(name, Tap())
        self.w13: torch.Tensor | None = None  # (2F, d) [w1; w3], set by fuse()

    def fuse(self) -> None:
        """Compute w1 x and w3 x in one matrix product (w1, w3 become views of it)."""
        w13 = torch.cat([self.w1.weight.data, self.w3.weight.data])  # (2F, d)
        hidden = self.w1.weight.shape[0]
        self.w1.weight.data, self.w3.weight.data = w13[:hidden], w13[hidden:]
        self.w13 = w13

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.w13 is None:
            gate, up = self.w1(x), self.w3(x)  # (B, T, F) each
        else:
            gate, up = F.linear(x, self.w13.to(x.dtype)).chunk(2, dim=-1)  # (B, T, F) each
        act = self.act(F.silu(self.gate(gate)))
        return self.w2(self.hidden(act * self.up(up)))  # (B, T, d)


class TransformerBlock(nn.Module):
    """Pre-norm block: h = x + attn(norm(x)); out = h + ffn(norm(h))."""

    def __init__(self, cfg: LlamaConfig) -> None:
        super().__init__()
        self.attention = Attention(cfg)
        self.feed_forward = FeedForward(cfg.dim, cfg.hidden_dim)
        self.attention_norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.ffn_norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.resid_pre, self.resid_mid, self.resid_post = Tap(), Tap(), Tap()
        # called between the attention and the feed-forward (a cancel takes effect there)
        self.interrupt: Callable[[], None] | None = None

    def forward(
        self,
        x: torch.Tensor,
        freqs_cis: torch.Tensor,
        visible: torch.Tensor,
        start_pos: int,
        use_cache: bool,
    ) -> torch.Tensor:
        x = self.resid_pre(x)
        attended = self.attention(self.attention_norm(x), freqs_cis, visible, start_pos, use_cache)
        h = self.resid_mid(x + attended)
        if self.interrupt is not None:
            self.interrupt()
        return self.resid_post(h + self.feed_forward(self.ffn_norm(h)))


class Llama(nn.Module):
    """The decoder: embeddings, L blocks, final RMSNorm, output projection."""

    def __init__(self, cfg: LlamaConfig, rope_divisors: torch.Tensor | None = None) -> None:
        super().__init__()
        self.config = cfg
        self.tok_embeddings = nn.Embedding(cfg.vocab_size, cfg.dim)
        self.layers = nn.ModuleList(TransformerBlock(cfg) for _ in range(cfg.n_layers))
        self.norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.output = Linear(cfg.dim, cfg.vocab_size, bias=False)
        if cfg.tie_embeddings:
            self.output.weight = self.tok_embeddings.weight
        self.final_norm, self.logits = Tap(), Tap()
        self.rope_divisors = rope_divisors
        self.compute_dtype = torch.float32  # activations; weights stay as stored
        self.main_device = torch.device("cpu")  # where tokens enter and logits leave
        self._freqs_cis: torch.Tensor | None = None  # (S, hd/2) complex64, grown on demand

    def freqs(self) -> torch.Tensor:
        """(hd/2,) float64 θ_i after any scaling."""
        cfg = self.config
        return rope_frequencies(
            cfg.head_dim, cfg.rope_theta, cfg.rope_scaling, self.rope_divisors, cfg.rotary_fraction
        )

    def freqs_cis(self, start: int, length: int) -> torch.Tensor:
        """(length, hd/2) complex64 rotations for positions start..start+length-1."""
        end = start + length
        if self._freqs_cis is None or self._freqs_cis.shape[0] < end:
            size = max(end, min(self.config.max_seq_len, 4096))
            magnitude = attention_factor(self.config.rope_scaling)
            self._freqs_cis = precompute_freqs_cis(self.freqs(), size, magnitude=magnitude).to(
                self.main_device
            )
        return self._freqs_cis[start:end]

    @torch.inference_mode()
    def forward(
        self,
        tokens: torch.Tensor,
        start_pos: int = 0,
        use_cache: bool = False,
        last_only: bool = False,
        positions: Sequence[int] | None = None,
    ) -> torch.Tensor:
        """Logits for every position.

        Args:
            tokens: (B, T) int64 ids.
            start_pos: position of tokens[:, 0]; > 0 only with ``use_cache``, after an
                earlier call filled the KV cache for positions < start_pos.
            use_cache: keep keys and values for later calls.
            last_only: project only the last position to the vocabulary (what sampling
                needs; the output projection is ~20% of a small model's work).
            positions: project only these positions (indices into tokens[0]) to the
                vocabulary, in this order; ``last_only`` is ``positions=[T - 1]``.

        Returns:
            (B, T, V) float32 logits, (B, 1, V) with ``last_only``, (B, P, V) with
            ``positions``.
        """
        _, t = tokens.shape
        if start_pos and not use_cache:
            raise ValueError(f"start_pos is {start_pos}; a non-zero start needs use_cache=True")
        if start_pos + t > self.config.max_seq_len:
            raise ValueError(
                f"sequence of {start_pos + t} tokens is longer than the model's "
                f"context of {self.config.max_seq_len}"
            )
        h = self.tok_embeddings(tokens).to(self.compute_dtype)  # (B, T, d)
        freqs_cis = self.freqs_cis(start_pos, t)  # (T, hd/2)
        visible = causal_mask(t, start_pos, tokens.device)  # (T, S), once for every layer
        try:
            for layer in self.layers:
                h = layer(h, freqs_cis, visible, start_pos, use_cache)
        except BaseException:
            if use_cache:  # stopped half-way (a cancel): some layers' caches are ahead
                self.clear_cache()
            raise
        if last_only:
            h = h[:, -1:]  # (B, 1, d)
        elif positions is not None:
            h = h[:, list(positions)]  # (B, P, d)
        h = self.final_norm(self.norm(h))
        return self.logits(self.output(h).float())  # (B, T, V) or (B, 1, V)

    def drop_rope_table(self) -> None:
        """Forget the cached rotations (after a change of ``config``'s RoPE or the divisors)."""
        self._freqs_cis = None

    def clear_cache(self) -> None:
        """Forget every layer's cached keys and values."""
        for layer in self.layers:
            layer.attention.cache_k = layer.attention.cache_v = None

    def save_cache(self) -> list[tuple[torch.Tensor | None, torch.Tensor | None]]:
        """References to every layer's cached keys and values (the cache never writes in
        place, so they stay valid) for :meth:`restore_cache`."""
        return [(layer.attention.cache_k, layer.attention.cache_v) for layer in self.layers]

    def restore_cache(self, saved: list[tuple[torch.Tensor | None, torch.Tensor | None]]) -> None:
        for layer, (k, v) in zip(self.layers, saved):
            layer.attention.cache_k, layer.attention.cache_v = k, v

    def set_explicit_attention(self, on: bool) -> None:
        """Materialise QKᵀ, mask and softmax (for capture) or use fused SDPA."""
        for layer in self.layers:
            layer.attention.explicit = on
