"""The line of code each step corresponds to, in Meta's naming, as the seed notebook has it.

The "Llama 3 from scratch" notebook indexes Meta's checkpoint by tensor name
(``model["layers.0.attention.wq.weight"]``) and comments each line with its shape. The
walkthrough shows the same lines for the selected layer, head and position, with this
model's shapes, under a translated comment.
"""

from __future__ import annotations

from llamalens.app.walkthrough import texts as T
from llamalens.app.walkthrough.tensors import WalkContext
from llamalens.app.walkthrough.texts import tr


def _short_list(values: list[int], limit: int = 16) -> str:
    """``[1, 2, 3]``, or the first ``limit`` values and an ellipsis."""
    if len(values) <= limit:
        return str(values)
    return "[" + ", ".join(str(v) for v in values[:limit]) + ", …]"


def _lines(ctx: WalkContext) -> dict[str, list[str]]:
    t, cfg = ctx.trace, ctx.trace.config
    n, d, hd, F, V = t.n_tokens, cfg["dim"], t.head_dim, cfg["hidden_dim"], cfg["vocab_size"]
    H, KV, L = t.n_heads, t.n_kv_heads, ctx.n_layers  # noqa: N806 (the notebook's names)
    lay, h, p = ctx.layer, ctx.head, ctx.position
    w = f'model["layers.{lay}'
    return {
        "tokens": [
            f"prompt_split_as_tokens = [tokenizer.decode([token]) for token in tokens]  # [{n}]"
        ],
        "ids": [f"tokens = tokenizer.encode(prompt)  # {_short_list(t.token_ids.tolist())}"],
        "embedding": [
            f'embedding_layer.weight.data.copy_(model["tok_embeddings.weight"])  # [{V}, {d}]',
            f"token_embeddings_unnormalized = embedding_layer(tokens)  # [{n}, {d}]",
        ],
        "attention_norm": [
            f"layer_embedding_norm = rms_norm(final_embedding, "
            f'{w}.attention_norm.weight"])  # [{n}, {d}]',
        ],
        "wq": [
            f'q_layer = {w}.attention.wq.weight"].view(n_heads, head_dim, dim)  # [{H}, {hd}, {d}]',
            f"q_per_token = torch.matmul(layer_embedding_norm, q_layer[{h}].T)  # [{n}, {hd}]",
        ],
        "wk": [
            f'k_layer = {w}.attention.wk.weight"].view(n_kv_heads, head_dim, dim)'
            f"  # [{KV}, {hd}, {d}]",
            f"k_per_token = torch.matmul(layer_embedding_norm, k_layer[{h} // {H // KV}].T)"
            f"  # [{n}, {hd}]",
        ],
        "wv": [
            f'v_layer = {w}.attention.wv.weight"].view(n_kv_heads, head_dim, dim)'
            f"  # [{KV}, {hd}, {d}]",
            f"v_per_token = torch.matmul(layer_embedding_norm, v_layer[{h} // {H // KV}].T)"
            f"  # [{n}, {hd}]",
        ],
        "rope": [
            "q_per_token_as_complex_numbers = torch.view_as_complex("
            f"q_per_token.float().view({n}, -1, 2))  # [{n}, {hd // 2}]",
            "q_per_token_rotated = torch.view_as_real(q_per_token_as_complex_numbers"
            f" * freqs_cis).view(q_per_token.shape)  # [{n}, {hd}]",
        ],
        "scores": [
            "qk_per_token = torch.matmul(q_per_token_rotated, k_per_token_rotated.T)"
            f" / (head_dim) ** 0.5  # [{n}, {n}]"
        ],
        "mask": [
            f'mask = torch.triu(torch.full(({n}, {n}), float("-inf")), diagonal=1)',
            f"qk_per_token_after_masking = qk_per_token + mask  # [{n}, {n}]",
        ],
        "softmax": [
            "qk_per_token_after_masking_after_softmax = torch.nn.functional.softmax("
            f"qk_per_token_after_masking, dim=1)  # [{n}, {n}]"
        ],
        "weighted_values": [
            "qkv_attention = torch.matmul(qk_per_token_after_masking_after_softmax, "
            f"v_per_token)  # [{n}, {hd}]"
        ],
        "concat": [
            f"stacked_qkv_attention = torch.cat(qkv_attention_store, dim=-1)  # [{n}, {H * hd}]"
        ],
        "wo": [
            "embedding_delta = torch.matmul(stacked_qkv_attention, "
            f'{w}.attention.wo.weight"].T)  # [{n}, {d}]'
        ],
        "attention_residual": [
            f"embedding_after_edit = final_embedding + embedding_delta  # [{n}, {d}]"
        ],
        "ffn_norm": [
            "embedding_after_edit_normalized = rms_norm(embedding_after_edit, "
            f'{w}.ffn_norm.weight"])  # [{n}, {d}]'
        ],
        "w1_gate": [
            f'w1 = {w}.feed_forward.w1.weight"]  # [{F}, {d}]',
            f"w1_x = torch.matmul(embedding_after_edit_normalized, w1.T)  # [{n}, {F}]",
        ],
        "w3_up": [
            f'w3 = {w}.feed_forward.w3.weight"]  # [{F}, {d}]',
            f"fc_up = torch.matmul(embedding_after_edit_normalized, w3.T)  # [{n}, {F}]",
        ],
        "silu": [f"fc_gate = torch.functional.F.silu(w1_x)  # [{n}, {F}]"],
        "product": [f"fc_gate * fc_up  # [{n}, {F}]"],
        "w2_down": [
            f'w2 = {w}.feed_forward.w2.weight"]  # [{d}, {F}]',
            f"output_after_feedforward = torch.matmul(fc_gate * fc_up, w2.T)  # [{n}, {d}]",
        ],
        "ffn_residual": [
            f"final_embedding = embedding_after_edit + output_after_feedforward  # [{n}, {d}]"
        ],
        "next_layer": [
            f"for layer in range(n_layers):  # {L} layers",
            "    final_embedding = ...  # the same computation with layer's own weights",
        ],
        "final_norm": [
            f'final_embedding = rms_norm(final_embedding, model["norm.weight"])  # [{n}, {d}]'
        ],
        "logits": [
            f'logits = torch.matmul(final_embedding[{p}], model["output.weight"].T)  # [{V}]'
        ],
        "sampling": [
            "probs = torch.softmax(logits / temperature, dim=-1)"
            f"  # temperature = {ctx.sampling.temperature:g}",
            f"next_token = sample_top_p(probs, top_p)  # top_p = {ctx.sampling.top_p:g}",
        ],
        "next_token": [
            "next_token = torch.argmax(logits, dim=-1)"
            if ctx.sampling.temperature == 0
            else "next_token = torch.multinomial(probs_sort, num_samples=1)",
            "tokenizer.decode([next_token.item()])",
        ],
    }


def step_code(step_id: str, ctx: WalkContext) -> list[str]:
    """The step's code: a translated comment line, then the notebook's line(s)."""
    return [tr(T.STEP_TEXTS[step_id].comment), *_lines(ctx)[step_id]]
