"""Every text of the walkthrough, in English, marked for Qt's translation system.

The strings are looked up at display time with :func:`tr` (context ``Walkthrough``), so
a language switch redraws the current step in the new language. Placeholders in braces
(``{token}``, ``{layer}`` ...) are filled by :mod:`llamalens.app.walkthrough.facts`;
a translation keeps the same placeholders. The Simplified Chinese translations live in
``resources/translations/llamalens_zh_CN.ts``.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

CONTEXT = "Walkthrough"


class _Known(dict):
    """Placeholder values; one the caller could not know yet (no detail) reads "…"."""

    def __missing__(self, key: str) -> str:
        return "…"


def tr(text: str, **values) -> str:
    """``text`` in the current language, with its placeholders filled from ``values``."""
    return QCoreApplication.translate(CONTEXT, text).format_map(_Known(values))


@dataclass(frozen=True)
class StepText:
    """The texts of one step (English sources).

    Attributes:
        title: the step's heading.
        formula: one line of math and a short gloss after " · ".
        explanation: two or three sentences.
        comment: the comment line above the step's code.
        note: a few words under the highlighted block of the diagram.
    """

    title: str
    formula: str
    explanation: str
    comment: str
    note: str


STEP_TEXTS: dict[str, StepText] = {
    "tokens": StepText(
        QT_TRANSLATE_NOOP("Walkthrough", "Tokens"),
        QT_TRANSLATE_NOOP(
            "Walkthrough",
            "text → tokens · the tokenizer splits the prompt into pieces of its vocabulary",
        ),
        QT_TRANSLATE_NOOP(
            "Walkthrough",
            "The tokenizer cuts the prompt into {T} tokens, pieces of text from a vocabulary "
            "of {V} entries. A leading space belongs to the token (shown as ·). From here "
            "on the model computes everything once per token.",
        ),
        QT_TRANSLATE_NOOP("Walkthrough", "# split the prompt into tokens"),
        QT_TRANSLATE_NOOP("Walkthrough", "tokenize"),
    ),
    "ids": StepText(
        QT_TRANSLATE_NOOP("Walkthrough", "Token ids"),
        QT_TRANSLATE_NOOP(
            "Walkthrough", "token → id · each token becomes its number in the vocabulary"
        ),
        QT_TRANSLATE_NOOP(
            "Walkthrough",
            "The model never sees text, only these {T} integers. Each id is the token's "
            "index in the vocabulary; the selected token {token} at position {pos} has "
            "id {id}.",
        ),
        QT_TRANSLATE_NOOP("Walkthrough", "# the ids the model reads"),
        QT_TRANSLATE_NOOP("Walkthrough", "ids"),
    ),
    "embedding": StepText(
        QT_TRANSLATE_NOOP("Walkthrough", "Embedding rows (tok_embeddings)"),
        QT_TRANSLATE_NOOP(
            "Walkthrough", "x = E[id] · row id of the embedding matrix E, [{V}, {d}]"
        ),
        QT_TRANSLATE_NOOP(
            "Walkthrough",
            "Each id picks one row of the embedding matrix: {d} numbers learned in "
            "training. Stacked, the {T} rows form a [{T}, {d}] matrix, the residual stream "
            "that every layer reads and adds to. The outlined row is the selected token.",
        ),
        QT_TRANSLATE_NOOP("Walkthrough", "# look up one row of tok_embeddings per token"),
        QT_TRANSLATE_NOOP("Walkthrough", "row lookup"),
    ),
    "attention_norm": StepText(
        QT_TRANSLATE_NOOP("Walkthrough", "RMSNorm before attention (attention_norm)"),
        QT_TRANSLATE_NOOP(
            "Walkthrough",
            "y = x / RMS(x) ⊙ g,  RMS(x) = √(mean(x²) + ε) · rescale each token's vector",
        ),
        QT_TRANSLATE_NOOP(
            "Walkthrough",
            "RMSNorm divides the vector of {token} by its root mean square, here {rms}, so "
            "that every token enters attention at the same scale, then multiplies each "
            "dimension by a learned weight g. Unlike LayerNorm it does not subtract the "
            "mean.",
        ),
        QT_TRANSLATE_NOOP("Walkthrough", "# RMSNorm: divide by the root mean square, scale by g"),
        QT_TRANSLATE_NOOP("Walkthrough", "÷ RMS, × g"),
    ),
    "wq": StepText(
        QT_TRANSLATE_NOOP("Walkthrough", "Query: wq of head {head}"),
        QT_TRANSLATE_NOOP("Walkthrough", "Q = y · W_qᵀ · W_q of head {head} is [{hd}, {d}]"),
        QT_TRANSLATE_NOOP(
            "Walkthrough",
            "The query weights of all {n_heads} heads are one matrix wq of shape "
            "[{n_heads}·{hd}, {d}]; head {head} uses rows {q0} to {q1}. Multiplied with the "
            "normalised vectors they give each token a query of {hd} numbers: what this "
            "token is looking for.",
        ),
        QT_TRANSLATE_NOOP("Walkthrough", "# the query of one head for every token"),
        QT_TRANSLATE_NOOP("Walkthrough", "wq · query"),
    ),
    "wk": StepText(
        QT_TRANSLATE_NOOP("Walkthrough", "Key: wk and the shared KV head (GQA)"),
        QT_TRANSLATE_NOOP("Walkthrough", "K = y · W_kᵀ · KV head {kv} serves heads {group}"),
        QT_TRANSLATE_NOOP(
            "Walkthrough",
            "Keys say what each token offers to the queries. With grouped-query attention "
            "this model has {n_kv} key/value heads for {n_heads} query heads: head {head} "
            "reads KV head {kv}, which serves the query heads {group}. That saves memory in "
            "the KV cache and computation.",
        ),
        QT_TRANSLATE_NOOP("Walkthrough", "# keys: one KV head serves a group of query heads"),
        QT_TRANSLATE_NOOP("Walkthrough", "wk · key"),
    ),
    "wv": StepText(
        QT_TRANSLATE_NOOP("Walkthrough", "Value: wv"),
        QT_TRANSLATE_NOOP("Walkthrough", "V = y · W_vᵀ · what each token passes on"),
        QT_TRANSLATE_NOOP(
            "Walkthrough",
            "Values carry the content a token hands to the tokens that attend to it. Like "
            "the keys they come from KV head {kv}; unlike queries and keys they are not "
            "rotated by position.",
        ),
        QT_TRANSLATE_NOOP("Walkthrough", "# values come from the same KV head"),
        QT_TRANSLATE_NOOP("Walkthrough", "wv · value"),
    ),
    "rope": StepText(
        QT_TRANSLATE_NOOP("Walkthrough", "RoPE: rotate the query and key pairs"),
        QT_TRANSLATE_NOOP(
            "Walkthrough",
            "q′ᵢ = qᵢ · e^(j·m·θᵢ),  θᵢ = base^(−2i/{hd}) · each pair of numbers is a "
            "complex number",
        ),
        QT_TRANSLATE_NOOP(
            "Walkthrough",
            "RoPE reads the {hd} numbers as {half} pairs, each a complex number, and turns "
            "pair i by the angle m·θᵢ, where m = {pos} is the position of {token}. Fast "
            "pairs encode nearby order and slow ones distant order, so a query–key score "
            "depends on how far apart the two tokens are. The RoPE panel draws the pairs in "
            "the complex plane.",
        ),
        QT_TRANSLATE_NOOP("Walkthrough", "# rotate each pair by position × frequency"),
        QT_TRANSLATE_NOOP("Walkthrough", "RoPE rotation"),
    ),
    "scores": StepText(
        QT_TRANSLATE_NOOP("Walkthrough", "Scores: QKᵀ/√d"),
        QT_TRANSLATE_NOOP("Walkthrough", "S = Q · Kᵀ / √{hd} · every query against every key"),
        QT_TRANSLATE_NOOP(
            "Walkthrough",
            "Each query meets each key in a dot product, divided by √{hd} to keep the "
            "numbers in a range softmax handles well. Row {pos} is the query of {token}; "
            "its highest raw score is for {top_key}. The future keys still have scores: "
            "the mask comes next.",
        ),
        QT_TRANSLATE_NOOP("Walkthrough", "# dot product of every query with every key"),
        QT_TRANSLATE_NOOP("Walkthrough", "QKᵀ/√d scores"),
    ),
    "mask": StepText(
        QT_TRANSLATE_NOOP("Walkthrough", "Causal mask"),
        QT_TRANSLATE_NOOP("Walkthrough", "S[i, j] = −∞ for j > i · no token may look ahead"),
        QT_TRANSLATE_NOOP(
            "Walkthrough",
            "A language model predicts the next token, so no token may see the tokens "
            "after it. The upper triangle becomes −∞ (drawn grey), which softmax turns into "
            "exactly 0. Token {pos} sees the {visible} tokens up to and including itself.",
        ),
        QT_TRANSLATE_NOOP("Walkthrough", "# hide the future: −inf above the diagonal"),
        QT_TRANSLATE_NOOP("Walkthrough", "causal mask"),
    ),
    "softmax": StepText(
        QT_TRANSLATE_NOOP("Walkthrough", "Softmax"),
        QT_TRANSLATE_NOOP(
            "Walkthrough", "P[i, :] = softmax(S[i, :]) · each row becomes probabilities"
        ),
        QT_TRANSLATE_NOOP(
            "Walkthrough",
            "Softmax exponentiates each row and divides by its sum, so each row is a "
            "probability distribution over the keys. The query of {token} gives "
            "{top_prob} of its attention to {top_key}. Many heads send much of their "
            "attention to the first token, the attention sink.",
        ),
        QT_TRANSLATE_NOOP("Walkthrough", "# each row sums to 1"),
        QT_TRANSLATE_NOOP("Walkthrough", "softmax weights"),
    ),
    "weighted_values": StepText(
        QT_TRANSLATE_NOOP("Walkthrough", "Weighted sum of the values: ·V"),
        QT_TRANSLATE_NOOP("Walkthrough", "o = P[{pos}, :] · V · the values mixed by attention"),
        QT_TRANSLATE_NOOP(
            "Walkthrough",
            "The output of head {head} for {token} is the average of the value vectors, "
            "weighted by the attention row: {hd} numbers. The more attention a token "
            "received, the more of its value is in the mix.",
        ),
        QT_TRANSLATE_NOOP("Walkthrough", "# attention-weighted average of the values"),
        QT_TRANSLATE_NOOP("Walkthrough", "weighted values"),
    ),
    "concat": StepText(
        QT_TRANSLATE_NOOP("Walkthrough", "All heads concatenated"),
        QT_TRANSLATE_NOOP(
            "Walkthrough",
            "[o₀ ‖ o₁ ‖ … ‖ o_{last}] · {n_heads} heads × {hd} = {width} numbers",
        ),
        QT_TRANSLATE_NOOP(
            "Walkthrough",
            "Every head computes its output the same way, in parallel. The outputs are put "
            "side by side; the part of head {head} is outlined. The output projection wo "
            "reads this vector.",
        ),
        QT_TRANSLATE_NOOP("Walkthrough", "# the heads side by side"),
        QT_TRANSLATE_NOOP("Walkthrough", "concatenate"),
    ),
    "wo": StepText(
        QT_TRANSLATE_NOOP("Walkthrough", "Output projection: wo"),
        QT_TRANSLATE_NOOP("Walkthrough", "Δ = o · W_oᵀ · W_o is [{d}, {width}]"),
        QT_TRANSLATE_NOOP(
            "Walkthrough",
            "wo mixes the heads back into the model width of {d} numbers. The result is "
            "what attention adds to the residual stream of {token}: a change, not a "
            "replacement.",
        ),
        QT_TRANSLATE_NOOP("Walkthrough", "# mix the heads back to the model width"),
        QT_TRANSLATE_NOOP("Walkthrough", "wo projection"),
    ),
    "attention_residual": StepText(
        QT_TRANSLATE_NOOP("Walkthrough", "Residual add after attention"),
        QT_TRANSLATE_NOOP("Walkthrough", "h = x + Δ · the input plus what attention found"),
        QT_TRANSLATE_NOOP(
            "Walkthrough",
            "The block adds attention's output to its own input, before the norm. Through "
            "this skip connection information can pass all {n_layers} layers unchanged "
            "when a layer has nothing to add, and deep models become trainable.",
        ),
        QT_TRANSLATE_NOOP("Walkthrough", "# residual connection"),
        QT_TRANSLATE_NOOP("Walkthrough", "add"),
    ),
    "ffn_norm": StepText(
        QT_TRANSLATE_NOOP("Walkthrough", "RMSNorm before the feed-forward network (ffn_norm)"),
        QT_TRANSLATE_NOOP("Walkthrough", "ĥ = h / RMS(h) ⊙ g · the same norm with its own weights"),
        QT_TRANSLATE_NOOP(
            "Walkthrough",
            "Before the feed-forward network the residual stream is normalised again, with "
            "weights of its own; here RMS = {rms}. The feed-forward network then works on "
            "each token alone, without looking at the others.",
        ),
        QT_TRANSLATE_NOOP("Walkthrough", "# normalise again before the feed-forward network"),
        QT_TRANSLATE_NOOP("Walkthrough", "÷ RMS, × g"),
    ),
    "w1_gate": StepText(
        QT_TRANSLATE_NOOP("Walkthrough", "SwiGLU: gate projection w1"),
        QT_TRANSLATE_NOOP("Walkthrough", "a = ĥ · W₁ᵀ · {d} → {F} numbers"),
        QT_TRANSLATE_NOOP(
            "Walkthrough",
            "The feed-forward network first widens each token's vector from {d} to {F} "
            "numbers, twice, with two different matrices. w1 gives the gate: after SiLU it "
            "decides how much of each hidden unit passes.",
        ),
        QT_TRANSLATE_NOOP("Walkthrough", "# the gate: widen with w1"),
        QT_TRANSLATE_NOOP("Walkthrough", "w1 gate"),
    ),
    "w3_up": StepText(
        QT_TRANSLATE_NOOP("Walkthrough", "SwiGLU: up projection w3"),
        QT_TRANSLATE_NOOP("Walkthrough", "b = ĥ · W₃ᵀ · the values the gate will scale"),
        QT_TRANSLATE_NOOP(
            "Walkthrough",
            "w3 computes a second vector of {F} numbers from the same input. It carries the "
            "content; the gate from w1 scales it unit by unit.",
        ),
        QT_TRANSLATE_NOOP("Walkthrough", "# the content: widen with w3"),
        QT_TRANSLATE_NOOP("Walkthrough", "w3 up"),
    ),
    "silu": StepText(
        QT_TRANSLATE_NOOP("Walkthrough", "SiLU"),
        QT_TRANSLATE_NOOP(
            "Walkthrough", "SiLU(a) = a · σ(a) · negative values are pushed towards 0"
        ),
        QT_TRANSLATE_NOOP(
            "Walkthrough",
            "SiLU, also called Swish, lets positive values through almost unchanged and "
            "squashes negative ones smoothly towards zero. For this token {active} of the "
            "{F} gate values are positive.",
        ),
        QT_TRANSLATE_NOOP("Walkthrough", "# SiLU (Swish) activation of the gate"),
        QT_TRANSLATE_NOOP("Walkthrough", "SiLU activation"),
    ),
    "product": StepText(
        QT_TRANSLATE_NOOP("Walkthrough", "Gate times up"),
        QT_TRANSLATE_NOOP("Walkthrough", "g = SiLU(a) ⊙ b · element by element"),
        QT_TRANSLATE_NOOP(
            "Walkthrough",
            "The gated linear unit multiplies the two vectors element by element: a hidden "
            "unit contributes only where its gate is open. Hence the name SwiGLU: Swish "
            "(SiLU) with a gated linear unit.",
        ),
        QT_TRANSLATE_NOOP("Walkthrough", "# the gate opens and closes each hidden unit"),
        QT_TRANSLATE_NOOP("Walkthrough", "gate ⊙ up"),
    ),
    "w2_down": StepText(
        QT_TRANSLATE_NOOP("Walkthrough", "SwiGLU: down projection w2"),
        QT_TRANSLATE_NOOP("Walkthrough", "f = g · W₂ᵀ · {F} → {d} numbers"),
        QT_TRANSLATE_NOOP(
            "Walkthrough",
            "w2 brings the {F} hidden units back to the model width of {d}. Like "
            "attention's output, this is a change to be added to the residual stream.",
        ),
        QT_TRANSLATE_NOOP("Walkthrough", "# back to the model width with w2"),
        QT_TRANSLATE_NOOP("Walkthrough", "w2 down"),
    ),
    "ffn_residual": StepText(
        QT_TRANSLATE_NOOP("Walkthrough", "Residual add after the feed-forward network"),
        QT_TRANSLATE_NOOP("Walkthrough", "out = h + f · the output of layer {layer}"),
        QT_TRANSLATE_NOOP(
            "Walkthrough",
            "Adding the feed-forward output completes layer {layer}. Its output is the "
            "input of the next layer, which repeats the same computation with its own "
            "weights.",
        ),
        QT_TRANSLATE_NOOP("Walkthrough", "# residual connection: the layer's output"),
        QT_TRANSLATE_NOOP("Walkthrough", "add"),
    ),
    "next_layer": StepText(
        QT_TRANSLATE_NOOP("Walkthrough", "Through all {n_layers} layers"),
        QT_TRANSLATE_NOOP(
            "Walkthrough", "x_(l+1) = layer_l(x_l) · {n_layers} layers, one after another"
        ),
        QT_TRANSLATE_NOOP(
            "Walkthrough",
            "Every layer reads the residual stream and adds its attention and feed-forward "
            "results to it. The rows show the stream of {token} after each layer; a few "
            "dimensions grow very large (massive activations). Walk another layer with the "
            "buttons, or go on to the output with →.",
        ),
        QT_TRANSLATE_NOOP("Walkthrough", "# every layer reads the previous layer's output"),
        QT_TRANSLATE_NOOP("Walkthrough", "next layer"),
    ),
    "final_norm": StepText(
        QT_TRANSLATE_NOOP("Walkthrough", "Final RMSNorm (norm)"),
        QT_TRANSLATE_NOOP("Walkthrough", "z = x_L / RMS(x_L) ⊙ g · RMS = {rms}"),
        QT_TRANSLATE_NOOP(
            "Walkthrough",
            "After the last layer the residual stream is normalised one more time. Only "
            "the last position is needed to predict the next token; the walkthrough "
            "follows position {pos}.",
        ),
        QT_TRANSLATE_NOOP("Walkthrough", "# the final norm"),
        QT_TRANSLATE_NOOP("Walkthrough", "÷ RMS, × g"),
    ),
    "logits": StepText(
        QT_TRANSLATE_NOOP("Walkthrough", "Output projection to logits (output)"),
        QT_TRANSLATE_NOOP(
            "Walkthrough", "logits = z · W_outᵀ · one score per vocabulary entry ({V})"
        ),
        QT_TRANSLATE_NOOP(
            "Walkthrough",
            "The output matrix turns the {d} numbers into {V} logits, one per token of the "
            "vocabulary. The highest is {top} ({top_logit}).",
        ),
        QT_TRANSLATE_NOOP("Walkthrough", "# one score per token of the vocabulary"),
        QT_TRANSLATE_NOOP("Walkthrough", "vocabulary scores"),
    ),
    "sampling": StepText(
        QT_TRANSLATE_NOOP("Walkthrough", "Temperature and top-p"),
        QT_TRANSLATE_NOOP(
            "Walkthrough",
            "p = softmax(logits / T), then the top-p nucleus · T = {temp}, top-p = {top_p}",
        ),
        QT_TRANSLATE_NOOP(
            "Walkthrough",
            "Dividing the logits by the temperature sharpens (T < 1) or flattens (T > 1) "
            "the distribution; top-p keeps the most likely tokens until their probability "
            "reaches p and renormalises them. {kept} tokens remain; the cut ones are grey. "
            "The settings are those of the Next token panel.",
        ),
        QT_TRANSLATE_NOOP("Walkthrough", "# temperature, then top-p (Meta's sample_top_p)"),
        QT_TRANSLATE_NOOP("Walkthrough", "temperature, top-p"),
    ),
    "next_token": StepText(
        QT_TRANSLATE_NOOP("Walkthrough", "The next token"),
        QT_TRANSLATE_NOOP("Walkthrough", "next_token = {rule} · the next token is {next}"),
        QT_TRANSLATE_NOOP(
            "Walkthrough",
            "The model chooses {next} (probability {prob}). Appending it and running again "
            "is how text is generated, one token per forward pass; the KV cache keeps the "
            "keys and values, so the earlier tokens are not computed again.",
        ),
        QT_TRANSLATE_NOOP("Walkthrough", "# choose the next token and decode it"),
        QT_TRANSLATE_NOOP("Walkthrough", "choose"),
    ),
}

BLOCK_LABELS: dict[str, str] = {
    "tokens": QT_TRANSLATE_NOOP("Walkthrough", "Tokens → ids"),
    "embedding": QT_TRANSLATE_NOOP("Walkthrough", "Embedding"),
    "attention_norm": QT_TRANSLATE_NOOP("Walkthrough", "RMSNorm"),
    "attention": QT_TRANSLATE_NOOP("Walkthrough", "Attention (GQA)"),
    "attention_residual": QT_TRANSLATE_NOOP("Walkthrough", "⊕ Residual"),
    "ffn_norm": QT_TRANSLATE_NOOP("Walkthrough", "RMSNorm"),
    "feed_forward": QT_TRANSLATE_NOOP("Walkthrough", "SwiGLU feed-forward"),
    "ffn_residual": QT_TRANSLATE_NOOP("Walkthrough", "⊕ Residual"),
    "next_layer": QT_TRANSLATE_NOOP("Walkthrough", "↻ Next layer"),
    "norm": QT_TRANSLATE_NOOP("Walkthrough", "Final RMSNorm"),
    "output": QT_TRANSLATE_NOOP("Walkthrough", "Output → logits"),
    "sampling": QT_TRANSLATE_NOOP("Walkthrough", "Sampling"),
}

# captions of the tensors and the labels of stacked rows
LAYER_CAPTION = QT_TRANSLATE_NOOP("Walkthrough", "Layer {layer} of {n_layers}")
STEP_COUNTER = QT_TRANSLATE_NOOP("Walkthrough", "Step {index} of {count}")
ROW_INPUT = QT_TRANSLATE_NOOP("Walkthrough", "input")
ROW_DIVIDED = QT_TRANSLATE_NOOP("Walkthrough", "÷ RMS = {rms}")
ROW_GAIN = QT_TRANSLATE_NOOP("Walkthrough", "weight g")
ROW_RESULT = QT_TRANSLATE_NOOP("Walkthrough", "result")
ROW_BEFORE = QT_TRANSLATE_NOOP("Walkthrough", "before RoPE")
ROW_AFTER = QT_TRANSLATE_NOOP("Walkthrough", "after RoPE")
ROW_ANGLE = QT_TRANSLATE_NOOP("Walkthrough", "angle m·θᵢ of the pair")
ROW_LAYER = QT_TRANSLATE_NOOP("Walkthrough", "after layer {layer}")
CAPTIONS: dict[str, str] = {
    "tokens": QT_TRANSLATE_NOOP("Walkthrough", "the prompt, token by token"),
    "ids": QT_TRANSLATE_NOOP("Walkthrough", "what the model reads"),
    "embedding": QT_TRANSLATE_NOOP("Walkthrough", "one row per token"),
    "norm_input": QT_TRANSLATE_NOOP("Walkthrough", "the residual stream of {token}"),
    "normed": QT_TRANSLATE_NOOP("Walkthrough", "normalised, row by row"),
    "q": QT_TRANSLATE_NOOP("Walkthrough", "queries of head {head}, one row per token"),
    "k": QT_TRANSLATE_NOOP("Walkthrough", "keys of KV head {kv}, one row per token"),
    "v": QT_TRANSLATE_NOOP("Walkthrough", "values of KV head {kv}, one row per token"),
    "rope": QT_TRANSLATE_NOOP("Walkthrough", "the query of {token} before and after rotation"),
    "rope_key": QT_TRANSLATE_NOOP("Walkthrough", "the key of {token} before and after rotation"),
    "scores": QT_TRANSLATE_NOOP("Walkthrough", "raw scores of head {head}"),
    "masked": QT_TRANSLATE_NOOP("Walkthrough", "scores with the future hidden"),
    "probs": QT_TRANSLATE_NOOP("Walkthrough", "attention probabilities of head {head}"),
    "probs_row": QT_TRANSLATE_NOOP("Walkthrough", "the attention row of {token}"),
    "values": QT_TRANSLATE_NOOP("Walkthrough", "the values it mixes"),
    "head_out": QT_TRANSLATE_NOOP("Walkthrough", "the output of head {head}"),
    "concat": QT_TRANSLATE_NOOP("Walkthrough", "{n_heads} heads side by side"),
    "delta": QT_TRANSLATE_NOOP("Walkthrough", "what attention adds"),
    "resid_mid": QT_TRANSLATE_NOOP("Walkthrough", "input, change and sum"),
    "gate": QT_TRANSLATE_NOOP("Walkthrough", "gate before SiLU"),
    "up": QT_TRANSLATE_NOOP("Walkthrough", "up projection"),
    "silu": QT_TRANSLATE_NOOP("Walkthrough", "the gate before and after SiLU"),
    "product": QT_TRANSLATE_NOOP("Walkthrough", "gate, up and their product"),
    "ffn_out": QT_TRANSLATE_NOOP("Walkthrough", "what the feed-forward network adds"),
    "resid_post": QT_TRANSLATE_NOOP("Walkthrough", "input, change and the layer's output"),
    "layers": QT_TRANSLATE_NOOP("Walkthrough", "the residual stream of {token} after each layer"),
    "final": QT_TRANSLATE_NOOP("Walkthrough", "the last layer's output, normalised"),
    "logits": QT_TRANSLATE_NOOP("Walkthrough", "all {V} logits"),
    "top_logits": QT_TRANSLATE_NOOP("Walkthrough", "the highest logits as probabilities"),
    "sampling": QT_TRANSLATE_NOOP("Walkthrough", "the distribution sampled from"),
    "next_token": QT_TRANSLATE_NOOP("Walkthrough", "the chosen token"),
}

# the view's own words
PREVIOUS = QT_TRANSLATE_NOOP("Walkthrough", "◀ Previous")
NEXT = QT_TRANSLATE_NOOP("Walkthrough", "Next ▶")
EXPORT = QT_TRANSLATE_NOOP("Walkthrough", "Export step…")
EXPORTED = QT_TRANSLATE_NOOP("Walkthrough", "Exported {path}")
WALK_LAYER = QT_TRANSLATE_NOOP("Walkthrough", "Walk layer {layer}")
SKIP_TO_OUTPUT = QT_TRANSLATE_NOOP("Walkthrough", "To the output")
OPEN_ROPE = QT_TRANSLATE_NOOP("Walkthrough", "RoPE panel")
LAYER = QT_TRANSLATE_NOOP("Walkthrough", "Layer")
HEAD = QT_TRANSLATE_NOOP("Walkthrough", "Head")
POSITION = QT_TRANSLATE_NOOP("Walkthrough", "Token")
WAITING = QT_TRANSLATE_NOOP("Walkthrough", "Computing the values of position {pos}…")
NO_TRACE = QT_TRANSLATE_NOOP(
    "Walkthrough", "Run a prompt first: the walkthrough follows one forward pass."
)
NEEDS_MODEL = QT_TRANSLATE_NOOP(
    "Walkthrough",
    "This step shows values the trace does not keep; they are recomputed with the loaded "
    "model. Open the model to see them.",
)
GREEDY_RULE = QT_TRANSLATE_NOOP("Walkthrough", "argmax(p)")
SAMPLE_RULE = QT_TRANSLATE_NOOP("Walkthrough", "a draw from p with seed {seed}")
