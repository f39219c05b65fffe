"""One tiny random model per family the tutorials use, written in every format it ships in.

- Llama 2: multi-head attention, θ = 10000, a SentencePiece tokenizer trained like Llama 2's;
  Meta (params.json with ``vocab_size: -1``, ``rope.freqs``, column-split embeddings), Hugging
  Face (tokenizer.model + tokenizer.json), GGUF (``tokenizer.ggml.model = "llama"``).
- Llama 3: grouped-query attention, Llama 3.1 RoPE scaling, tiktoken; Meta, Hugging Face, GGUF
  (with ``rope_freqs``).
- Qwen2: q/k/v biases, untied output, θ = 1e6, a Qwen2-style byte-level BPE with ChatML;
  Hugging Face (``model_type: qwen2``) and GGUF (``qwen2``, q/k rows in Hugging Face's order).

Every GGUF comes in F32, Q5_0, Q8_0 and Q4_K (width 256, so K-quant rows are whole blocks).
:func:`dequantized_reference` writes a Hugging Face directory holding a GGUF's weights as
gguf's own decoder reads them, for transformers to run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from llamalens.model.config import LlamaConfig, RopeScaling
from tests.writers.checkpoints import tiny_config, tiny_tensors, write_hf, write_meta
from tests.writers.gguf_writer import gguf_name, write_gguf
from tests.writers.sentencepiece_files import (
    gguf_sentencepiece_metadata,
    n_pieces,
    train_llama2_tokenizer,
    write_hf_tokenizer_files,
)
from tests.writers.tiny_vocab import QWEN2_SPECIALS, tiny_vocab
from tests.writers.tokenizer_files import (
    LLAMA3_CHAT_TEMPLATE,
    QWEN2_CHAT_TEMPLATE,
    QWEN2_SPLIT,
    gguf_tokenizer_metadata,
    write_tokenizer_config,
    write_tokenizer_json,
)

GGUF_TYPES = ("F32", "Q5_0", "Q8_0", "Q4_K")
EXACT = ("meta", "meta-2-shards", "hf", "hf-sharded", "hf-tokenizer.model", "gguf-F32")


@dataclass(frozen=True)
class Family:
    """A tiny model of one family in all its formats.

    Attributes:
        name: ``"llama2"``, ``"llama3"`` or ``"qwen2"``.
        config: its hyper-parameters.
        model_type: Hugging Face ``model_type`` (``llama`` or ``qwen2``).
        arch: GGUF ``general.architecture``.
        paths: format name (``"meta"``, ``"hf"``, ``"gguf-Q4_K"``...) -> file or directory.
    """

    name: str
    config: LlamaConfig
    model_type: str
    arch: str
    paths: dict[str, Path]

    @property
    def hf(self) -> Path:
        """The Hugging Face directory holding the exact weights."""
        return self.paths["hf"]


def llama2_family(root: Path, seed: int = 20) -> Family:
    model = train_llama2_tokenizer(root / "tokenizer.model")
    cfg = LlamaConfig(
        dim=256,
        n_layers=2,
        n_heads=4,
        n_kv_heads=4,
        vocab_size=n_pieces(),
        hidden_dim=768,  # Meta's rule for dim 256, multiple_of 256
        norm_eps=1e-5,
        rope_theta=10000.0,
        max_seq_len=4096,
    )
    tensors = tiny_tensors(cfg, seed)
    paths = {
        "meta": write_meta(root / "meta", tensors, cfg, sentencepiece_model=model),
        "meta-2-shards": write_meta(
            root / "meta2", tensors, cfg, n_shards=2, sentencepiece_model=model
        ),
        "hf": write_hf(
            root / "hf", tensors, cfg, write_tokenizer=lambda d: write_hf_tokenizer_files(d, model)
        ),
        "hf-sharded": write_hf(
            root / "hf2",
            tensors,
            cfg,
            n_shards=3,
            write_tokenizer=lambda d: write_hf_tokenizer_files(
                d, model, tokenizer_json="normalizer"
            ),
        ),
        "hf-tokenizer.model": write_hf(
            root / "hf-spm",
            tensors,
            cfg,
            write_tokenizer=lambda d: write_hf_tokenizer_files(d, model, tokenizer_json=None),
        ),
    }
    metadata = gguf_sentencepiece_metadata(model)
    paths.update(_ggufs(root, tensors, cfg, metadata, "llama"))
    return Family("llama2", cfg, "llama", "llama", paths)


def llama3_family(root: Path, seed: int = 30) -> Family:
    vocab = tiny_vocab()
    cfg = tiny_config(
        vocab,
        dim=256,
        hidden_dim=512,
        rope_theta=500000.0,
        rope_scaling=RopeScaling(8.0, 1.0, 4.0, 8192),
        max_seq_len=16384,  # longer than the scaling's original context, as in Llama 3.1
    )
    tensors = tiny_tensors(cfg, seed)

    def tokenizer(directory: Path) -> None:
        write_tokenizer_json(vocab, directory / "tokenizer.json")
        write_tokenizer_config(
            vocab, directory / "tokenizer_config.json", chat_template=LLAMA3_CHAT_TEMPLATE
        )

    paths = {
        "meta": write_meta(root / "meta", tensors, cfg, vocab),
        "meta-2-shards": write_meta(root / "meta2", tensors, cfg, vocab, n_shards=2),
        "hf": write_hf(root / "hf", tensors, cfg, write_tokenizer=tokenizer),
        "hf-sharded": write_hf(root / "hf2", tensors, cfg, n_shards=3, write_tokenizer=tokenizer),
    }
    paths.update(_ggufs(root, tensors, cfg, gguf_tokenizer_metadata(vocab), "llama"))
    return Family("llama3", cfg, "llama", "llama", paths)


def qwen2_family(root: Path, seed: int = 40) -> Family:
    vocab = tiny_vocab(QWEN2_SPECIALS)
    cfg = tiny_config(
        vocab,
        dim=256,
        hidden_dim=512,
        norm_eps=1e-6,
        rope_theta=1_000_000.0,
        qkv_bias=True,
        tie_embeddings=False,
    )
    tensors = tiny_tensors(cfg, seed)

    def tokenizer(directory: Path) -> None:
        write_tokenizer_json(
            vocab, directory / "tokenizer.json", split=QWEN2_SPLIT, normalizer={"type": "NFC"}
        )
        write_tokenizer_config(
            vocab,
            directory / "tokenizer_config.json",
            chat_template=QWEN2_CHAT_TEMPLATE,
            bos_token=None,
            eos_token="<|im_end|>",
        )

    paths = {
        "hf": write_hf(root / "hf", tensors, cfg, model_type="qwen2", write_tokenizer=tokenizer),
        "hf-sharded": write_hf(
            root / "hf2", tensors, cfg, n_shards=2, model_type="qwen2", write_tokenizer=tokenizer
        ),
    }
    metadata = gguf_tokenizer_metadata(
        vocab, pre="qwen2", chat_template=QWEN2_CHAT_TEMPLATE, bos="<|endoftext|>", eos="<|im_end|>"
    )
    paths.update(_ggufs(root, tensors, cfg, metadata, "qwen2"))
    return Family("qwen2", cfg, "qwen2", "qwen2", paths)


def _ggufs(
    root: Path, tensors: dict, cfg: LlamaConfig, metadata: dict, arch: str
) -> dict[str, Path]:
    out = {}
    for qtype in GGUF_TYPES:
        path = root / f"tiny-{qtype}.gguf"
        write_gguf(path, tensors, cfg, qtype=qtype, tokenizer_metadata=metadata, arch=arch)
        out[f"gguf-{qtype}"] = path
    return out


def dequantized_reference(family: Family, gguf_path: Path, directory: Path) -> Path:
    """A Hugging Face directory with the GGUF's weights as ``gguf.quants.dequantize`` reads
    them (q/k rows: a ``llama`` GGUF holds Meta's order, a ``qwen2`` GGUF Hugging Face's)."""
    import gguf

    names = {gguf_name(n): n for n in tiny_tensors(family.config)}
    tensors = {}
    for t in gguf.GGUFReader(gguf_path).tensors:
        if t.name == "rope_freqs.weight":
            continue  # config.json carries the scaling instead
        shape = tuple(int(n) for n in reversed(t.shape))
        values = gguf.quants.dequantize(t.data, t.tensor_type).reshape(shape)
        tensors[names[t.name]] = torch.from_numpy(values.astype("float32").copy())
    return write_hf(
        directory,
        tensors,
        family.config,
        model_type=family.model_type,
        write_tokenizer=lambda _d: None,
        permute=family.arch == "llama",
    )
