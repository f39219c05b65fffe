"""The Engine: one loaded model and everything done with it.

It is the only place that knows how to encode a prompt (chat template, plain text,
special tokens), run it, trace it, append to it, generate, and analyse a trace. The
app's worker thread sends requests to it, the command line turns arguments into calls
to it, and from Python it is the API::

    from llamalens.model.engine import Engine

    engine = Engine.load()  # the default model; or Engine.load("path/to/checkpoint")
    trace = engine.trace(engine.encode("The capital of France is").ids)
    trace.probs(layer=3, head=2)  # (T, T) numpy

Answers are plain Python and numpy, never torch tensors.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from llamalens.model.analysis import Analysis, LogitLens
from llamalens.model.build import build_model
from llamalens.model.capture import each_layer
from llamalens.model.checkpoint import Checkpoint
from llamalens.model.device import pick_device, pick_dtype
from llamalens.model.engine_variants import VariantsMixin
from llamalens.model.errors import Cancelled, CheckpointError
from llamalens.model.head_stats import head_stats, induction_scores, logit_lens
from llamalens.model.loaders import load_checkpoint
from llamalens.model.memory import available_bytes, check_fits, estimate
from llamalens.model.model_info import ModelInfo, describe
from llamalens.model.position_capture import PositionDetail, capture_positions
from llamalens.model.sampling import SamplingParams, sample, softmax
from llamalens.model.stored import describe_storage
from llamalens.model.tokenizer import Encoded
from llamalens.model.trace import Trace
from llamalens.model.tracing import extend_trace, run_trace, step_trace, sync_cache
from llamalens.model.variants import Variant
from llamalens.model.vocab_table import token_label

Progress = Callable[[float, str], None]
LayerCallback = Callable[[int], None]  # called after each block; raising stops the run
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
LENS_POSITIONS = 12  # the logit lens decodes the last positions (L·P·V work)


def encode_prompt(tokenizer, prompt: str, *, chat: bool = False, plain: bool = False) -> Encoded:
    """The one rule that turns a prompt into token ids.

    Args:
        tokenizer: the model's tokenizer.
        prompt: what the user typed.
        chat: wrap the prompt as a user message in the model's chat template (which
            brings its own BOS and special tokens).
        plain: keep special-token text (``<|im_start|>``) as ordinary text; ignored with
            ``chat``, whose template is made of special tokens.

    A lone surrogate (a byte a terminal could not decode, passed on by Python as
    U+DC80..U+DCFF) has no UTF-8 form: it becomes U+FFFD, the replacement character.

    Returns:
        The ids and the bytes the vocabulary had no token for (left out, reported).
    """
    prompt = _LONE_SURROGATE.sub("\ufffd", prompt)
    if chat:
        return tokenizer.encode_detailed(
            tokenizer.apply_chat(prompt), allow_special=True, bos=False
        )
    return tokenizer.encode_detailed(prompt, allow_special=not plain, bos=None)


@dataclass(frozen=True)
class TopToken:
    """One candidate next token."""

    id: int
    text: str
    logit: float
    prob: float


class Engine(VariantsMixin):
    """A checkpoint's model and tokenizer on a device, ready to encode, run and trace.

    Attributes:
        checkpoint: what was loaded (config, metadata; its tensors now belong to the module).
        module: the :class:`Llama` (torch; the app never touches it off the worker thread).
        tokenizer: the checkpoint's tokenizer.
        device: where tokens enter and logits leave (blocks may sit elsewhere when offloaded).
        dtype: the compute dtype; weights keep their stored dtype (see ``weights``).
        weights: how the weights are stored (``Q4_1``, ``bf16``, ``Q4_K+Q6_K``).
        n_params: number of weights.
        load_seconds: wall time of the load.
    """

    def __init__(
        self,
        ckpt: Checkpoint,
        device: str | None = None,
        dtype: str | None = None,
        *,
        max_memory: str | None = None,
        offload_dir: str | Path | None = None,
        load_seconds: float = 0.0,
        progress: Progress | None = None,
    ) -> None:
        if ckpt.tokenizer is None:
            raise CheckpointError(
                ckpt.path,
                "ships no tokenizer (tokenizer.model, tokenizer.json or GGUF tokenizer metadata)",
            )
        self.checkpoint = ckpt
        self.device = pick_device(device)
        self.dtype = pick_dtype(dtype)
        self.n_params = ckpt.n_params
        self.weights = ckpt.metadata.get("quantization") or describe_storage(ckpt.tensors.values())
        self.tokenizer = ckpt.tokenizer
        self.load_seconds = load_seconds
        self._induction: dict[Variant, np.ndarray] = {}  # per variant: it changes the heads
        if max_memory is None:
            need = estimate(ckpt.tensors, ckpt.config, self.dtype)
            problem = check_fits(need, available_bytes(self.device), self.device, self.dtype)
            if problem:
                raise CheckpointError(ckpt.path, problem)
            self.module = build_model(ckpt, self.device, self.dtype, progress)
        else:
            from llamalens.model.offload import build_offloaded, parse_max_memory

            budget = parse_max_memory(max_memory)
            self.module = build_offloaded(ckpt, self.device, self.dtype, budget, offload_dir)
        self._variant = Variant()
        self._divisors = self.module.rope_divisors  # the checkpoint's own (GGUF rope_freqs)
        self._ablation_hooks: list = []

    @classmethod
    def load(
        cls,
        path: str | Path | None = None,
        *,
        device: str | None = None,
        dtype: str | None = None,
        max_memory: str | None = None,
        offload_dir: str | Path | None = None,
        progress: Progress | None = None,
    ) -> Engine:
        """Load a checkpoint (the default model when ``path`` is None) and build it.

        Args:
            path: a checkpoint file or directory; None for the default model.
            device: ``auto`` (None), ``cpu``, ``cuda``, ``cuda:1``, ``mps``.
            dtype: compute dtype ``auto`` (None: float32), ``fp32``, ``bf16``, ``fp16``.
            max_memory: spread the model over devices and disk with accelerate, e.g.
                ``"cuda:0=20GiB,cpu=30GiB"``.
            offload_dir: where blocks beyond ``max_memory`` go.
            progress: called with (fraction, message).

        Raises:
            CheckpointError: naming the file and the problem (also: not enough memory).
            ValueError: a bad device, dtype or memory budget.
        """
        from llamalens.model.default_model import DISPLAY_NAME, default_model_path

        pick_device(device), pick_dtype(dtype)  # bad arguments fail before the slow part
        start = time.perf_counter()
        report = progress or (lambda _f, _m: None)
        default = path is None
        if default:
            path = default_model_path(lambda f, m: report(0.1 * f, m))
        ckpt = load_checkpoint(path, lambda f, m: report(0.1 + 0.8 * f, m))
        if default:
            ckpt.metadata["name"] = DISPLAY_NAME  # the GGUF's own name is a training-run label
        engine = cls(
            ckpt,
            device,
            dtype,
            max_memory=max_memory,
            offload_dir=offload_dir,
            progress=lambda f, m: report(0.9 + 0.09 * f, m),
        )
        engine.load_seconds = time.perf_counter() - start
        report(1.0, "Ready")
        return engine

    @contextmanager
    def interruptible(self, check: Callable[[], None]) -> Iterator[None]:
        """Within the block, ``check()`` also runs half-way through every layer (between
        its attention and its feed-forward); raising in it stops the forward pass there.

        Per-layer callbacks (``on_layer``) report progress; this halves the longest stretch
        without a chance to cancel (a long prompt's layer on a loaded machine).
        """
        for layer in self.module.layers:
            layer.interrupt = check
        try:
            yield
        finally:
            for layer in self.module.layers:
                layer.interrupt = None

    # ---- facts -----------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return str(self.checkpoint.metadata.get("name") or self.checkpoint.path.name)

    @property
    def config(self):
        return self.checkpoint.config

    def info(self) -> ModelInfo:
        """What a user is shown about the loaded model (``info``, the status bar)."""
        return describe(self)

    # ---- prompts and plain runs ------------------------------------------------------------
    def encode(self, prompt: str, *, chat: bool = False, plain: bool = False) -> Encoded:
        """Token ids of a prompt by :func:`encode_prompt`, checked against the context.

        Raises:
            ValueError: the prompt gives no token, or more than the model's context.
        """
        enc = encode_prompt(self.tokenizer, prompt, chat=chat, plain=plain)
        self.check_length(len(enc.ids))
        return enc

    def check_length(self, n_tokens: int) -> None:
        """Raise ValueError unless 1 <= n_tokens <= the model's context."""
        if n_tokens == 0:
            raise ValueError("the prompt is empty: there is no token to run")
        limit = self.config.max_seq_len
        if n_tokens > limit:
            raise ValueError(
                f"the prompt has {n_tokens} tokens; this model's context is {limit} tokens"
            )

    def _tensor(self, ids: Sequence[int]) -> torch.Tensor:
        return torch.tensor([list(ids)], dtype=torch.long, device=self.device)  # (1, T)

    def logits(self, ids: Sequence[int]) -> np.ndarray:
        """(T, V) float32 logits for every position of ids."""
        self.check_length(len(ids))
        return self.module(self._tensor(ids))[0].float().cpu().numpy()

    def top_next(self, ids: Sequence[int], n: int = 10) -> list[TopToken]:
        """The n most likely next tokens after ids, with softmax probabilities."""
        self.check_length(len(ids))
        last = self.module(self._tensor(ids), last_only=True)[0, -1].double().cpu().numpy()
        probs = softmax(last)
        order = np.argsort(-last, kind="stable")[:n]
        return [
            TopToken(int(i), self.tokenizer.token(int(i)).text, float(last[i]), float(probs[i]))
            for i in order
        ]

    # ---- traces ----------------------------------------------------------------------------
    def trace(
        self,
        ids: Sequence[int],
        *,
        keep_logits: bool = False,
        on_layer: LayerCallback | None = None,
        layers: Sequence[int] | None = None,
    ) -> Trace:
        """One captured forward pass; the KV cache is left ready for :meth:`append`.

        Args:
            ids: the prompt's token ids.
            keep_logits: keep (T, V) logits for every position, not only the last.
            on_layer: called with each block's index as it finishes (progress); an
                exception raised there stops the run.
            layers: capture only these layers (the run computes all of them); a
                32-layer model's trace at 4096 tokens stays small.
        """
        self.check_length(len(ids))
        if layers is not None:
            bad = [i for i in layers if not 0 <= i < self.config.n_layers]
            if bad or not layers:
                top = self.config.n_layers - 1
                raise ValueError(f"layers {bad or 'none'} are not layers of this model (0..{top})")
        trace = run_trace(
            self.module,
            self.tokenizer,
            ids,
            keep_logits=keep_logits,
            on_layer=on_layer,
            layers=layers,
        )
        trace.variant = self._variant.to_dict()
        return trace

    def walk(
        self,
        ids: Sequence[int],
        positions: Sequence[int],
        *,
        on_layer: Callable[[int], None] | None = None,
        variant: Variant | None = None,
    ) -> PositionDetail:
        """The forward pass's own values at ``positions``, for the walkthrough.

        The residual stream, both RMSNorms, the attention output before and after ``wo``,
        the SwiGLU intermediates, the final norm and the logits of each kept position
        (O(L·(d + d_ff)) per position). The KV cache is left as it was.

        Args:
            variant: the variant to run (a trace's own, ``Variant.from_dict(trace.variant)``,
                so the values agree with it); None: the current one.

        Raises:
            ValueError: the prompt is empty or too long, or a position is out of range.
        """
        self.check_length(len(ids))
        with self.varied(self._variant if variant is None else variant):
            return capture_positions(self.module, ids, positions, on_layer=on_layer)

    def append(
        self, trace: Trace, ids: Sequence[int], *, on_layer: LayerCallback | None = None
    ) -> Trace:
        """``trace`` followed by ``ids``, computing only the new query rows (KV cache).

        Raises:
            ValueError: the trace was made by another variant than the current one.
        """
        self._check_variant(trace)
        self.check_length(trace.n_tokens + len(ids))
        return extend_trace(self.module, self.tokenizer, trace, list(ids), on_layer)

    def fits(self, trace: Trace) -> bool:
        """Whether ``trace`` has this model's shape (so :meth:`append` can continue it)."""
        cfg = self.config
        return (trace.n_layers, trace.n_heads, trace.n_kv_heads, trace.head_dim) == (
            cfg.n_layers,
            cfg.n_heads,
            cfg.n_kv_heads,
            cfg.head_dim,
        )

    # ---- generation ------------------------------------------------------------------------
    def generate(
        self,
        ids: Sequence[int],
        max_new_tokens: int,
        params: SamplingParams | None = None,
        *,
        on_token: Callable[[int], None] | None = None,
        keep_going: Callable[[int], bool] | None = None,
        on_layer: LayerCallback | None = None,
    ) -> list[int]:
        """Sample up to ``max_new_tokens`` after ``ids`` with the KV cache (no capture).

        Stops after a stop token, at the model's context, or when ``keep_going(i)``
        (asked before token i) is False. ``on_token`` sees each id as it is chosen;
        ``on_layer`` is called after every block of every forward pass (raising in it
        stops the generation at once).
        """
        self.check_length(len(ids))
        with each_layer(self.module, on_layer):
            first = self.module(self._tensor(ids), use_cache=True, last_only=True)[0, -1]

        def step(token: int, position: int) -> np.ndarray:
            with each_layer(self.module, on_layer):
                out = self.module(self._tensor([token]), start_pos=position, use_cache=True)
            return out[0, -1].float().cpu().numpy()

        logits = first.float().cpu().numpy()
        return self._decode(logits, len(ids), max_new_tokens, params, step, on_token, keep_going)

    def generate_trace(
        self,
        trace: Trace,
        max_new_tokens: int,
        params: SamplingParams | None = None,
        *,
        on_token: Callable[[int], None] | None = None,
        keep_going: Callable[[int], bool] | None = None,
        on_layer: LayerCallback | None = None,
    ) -> Trace:
        """:meth:`generate` from the end of ``trace``, capturing every new token.

        The tokens made before a stop, a ``keep_going`` that says no, or a
        :class:`~llamalens.model.errors.Cancelled` raised in ``on_layer`` (mid-token: that
        token is dropped) are kept; the trace's arrays are copied once at the end.
        """
        steps: list[Trace] = []
        self._check_variant(trace)
        keep_logits = trace.logits is not None

        def step(token: int, position: int) -> np.ndarray:
            new = step_trace(
                self.module, self.tokenizer, position, [token], keep_logits, trace.layers, on_layer
            )
            steps.append(new)
            return new.last_logits

        try:
            sync_cache(self.module, self.tokenizer, trace, on_layer)
            self._decode(
                trace.last_logits,
                trace.n_tokens,
                max_new_tokens,
                params,
                step,
                on_token,
                keep_going,
            )
        except Cancelled:
            pass  # the caller knows it cancelled; what was made so far is the answer
        return trace.extended(*steps) if steps else trace

    def _decode(self, logits, start, max_new, params, step, on_token, keep_going) -> list[int]:
        """The one generation loop: choose from logits, step the model, repeat."""
        if max_new < 0:
            raise ValueError(f"max_new_tokens is {max_new}, expected >= 0")
        params = params or SamplingParams(temperature=0.0)
        rng = np.random.default_rng(params.seed)
        out: list[int] = []
        for i in range(min(max_new, self.config.max_seq_len - start)):
            if keep_going is not None and not keep_going(i):
                break
            token = sample(logits, params, rng).token
            logits = step(token, start + i)
            out.append(token)
            if on_token is not None:
                on_token(token)
            if token in self.tokenizer.stop_ids:
                break
        return out

    # ---- analysis --------------------------------------------------------------------------
    def analyse(
        self,
        trace: Trace,
        lens_positions: int = LENS_POSITIONS,
        *,
        on_layer: LayerCallback | None = None,
    ) -> Analysis:
        """Head statistics of every (layer, head) and the logit lens of the last positions.

        ``on_layer`` is called after each layer of each part (raising in it stops).
        """
        induction = self._induction.get(self._variant)  # a variant changes the heads
        if induction is None:
            induction = induction_scores(
                self.module, high=self.config.vocab_size, on_layer=on_layer
            )
            self._induction[self._variant] = induction
        stats = head_stats(trace, induction, on_layer)
        positions = tuple(range(max(0, trace.n_tokens - lens_positions), trace.n_tokens))
        ids, probs = logit_lens(self.module, trace, positions)
        tok = self.tokenizer
        text = np.array([[[token_label(tok, i) for i in cell] for cell in row] for row in ids])
        return Analysis(stats=stats, lens=LogitLens(ids, probs, text, positions))
