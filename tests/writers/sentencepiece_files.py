"""A small SentencePiece model trained the way Llama 2's was, written in every form a
Llama 2 download carries it.

- :func:`train_llama2_tokenizer`: ``tokenizer.model`` from ``SentencePieceTrainer`` with Llama
  2's settings (BPE, byte fallback, digits split, identity normalization, no whitespace
  squeezing, a dummy prefix).
- :func:`write_hf_tokenizer_files`: a Hugging Face directory's ``tokenizer.model``,
  ``tokenizer_config.json`` and ``tokenizer.json`` (converted by transformers, as the
  published Llama 2 files were), optionally with the 2023 normalizer layout.
- :func:`gguf_sentencepiece_metadata`: GGUF ``tokenizer.*`` keys as llama.cpp's converter
  writes them (``tokenizer.ggml.model = "llama"``: pieces, scores, types).
"""

from __future__ import annotations

import io
import json
import shutil
from functools import lru_cache
from pathlib import Path
from typing import Any

SPACE = "\u2581"
# English prose, code, Chinese, digits and whitespace runs; characters outside it (other
# scripts, emoji) have no piece and fall back to bytes.
TRAINING_LINES = [
    "The quick brown fox jumps over the lazy dog. Attention rotates pairs of numbers.",
    "Hello world! Hello there, the model thinks about the next token.",
    "def forward(self, x):\n    return self.norm(x) + self.attention(x)\n",
    "for i in range(10):\n\tprint(i, i * i)\n",
    "这是一个测试句子，用于检查中文分词。你好，世界。",
    "pi is 3.14159 and e is 2.71828; 2024-01-31 at 12:30 costs $19.99",
    "many    spaces   and\n\n\nblank lines  ",
    "[INST] What is a transformer? [/INST] A stack of attention layers.",
]
VOCAB_SIZE = 600


@lru_cache(maxsize=2)
def _trained(vocab_size: int) -> bytes:
    import sentencepiece as spm

    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(TRAINING_LINES * 40),
        model_writer=model,
        vocab_size=vocab_size,
        model_type="bpe",
        byte_fallback=True,
        split_digits=True,
        allow_whitespace_only_pieces=True,
        normalization_rule_name="identity",
        remove_extra_whitespaces=False,
        add_dummy_prefix=True,
        character_coverage=0.9995,
        unk_id=0,
        bos_id=1,
        eos_id=2,
        pad_id=-1,
        hard_vocab_limit=False,
        num_threads=1,
        minloglevel=2,
    )
    return model.getvalue()


def train_llama2_tokenizer(path: str | Path, vocab_size: int = VOCAB_SIZE) -> Path:
    """Write a trained ``tokenizer.model`` (the same bytes for the same size)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_trained(vocab_size))
    return path


def n_pieces(vocab_size: int = VOCAB_SIZE) -> int:
    """How many pieces the trained model has (the embedding's row count)."""
    import sentencepiece as spm

    return spm.SentencePieceProcessor(model_proto=_trained(vocab_size)).get_piece_size()


def pieces_scores_types(model_path: str | Path) -> tuple[list[str], list[float], list[int]]:
    """Every piece with its score and llama.cpp token type (1 normal ... 6 byte)."""
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(model_path))
    pieces, scores, types = [], [], []
    for i in range(sp.get_piece_size()):
        pieces.append(sp.id_to_piece(i))
        scores.append(sp.get_score(i))
        kinds = [(2, sp.is_unknown), (3, sp.is_control), (5, sp.is_unused), (6, sp.is_byte)]
        types.append(next((t for t, test in kinds if test(i)), 1))
    return pieces, scores, types


def gguf_sentencepiece_metadata(
    model_path: str | Path, chat_template: str | None = None
) -> dict[str, Any]:
    """GGUF ``tokenizer.*`` keys for a SentencePiece model, as llama.cpp's converter writes."""
    pieces, scores, types = pieces_scores_types(model_path)
    meta: dict[str, Any] = {
        "tokenizer.ggml.model": "llama",
        "tokenizer.ggml.pre": "default",
        "tokenizer.ggml.tokens": pieces,
        "tokenizer.ggml.scores": scores,
        "tokenizer.ggml.token_type": types,
        "tokenizer.ggml.bos_token_id": 1,
        "tokenizer.ggml.eos_token_id": 2,
        "tokenizer.ggml.unknown_token_id": 0,
        "tokenizer.ggml.add_bos_token": True,
        "tokenizer.ggml.add_eos_token": False,
    }
    if chat_template is not None:
        meta["tokenizer.chat_template"] = chat_template
    return meta


def llama2_tokenizer_config(chat_template: str | None = None) -> dict[str, Any]:
    """``tokenizer_config.json`` of a Llama 2 HF directory."""
    config: dict[str, Any] = {
        "tokenizer_class": "LlamaTokenizer",
        "bos_token": "<s>",
        "eos_token": "</s>",
        "unk_token": "<unk>",
        "add_bos_token": True,
        "add_eos_token": False,
        "legacy": True,
    }
    if chat_template is not None:
        config["chat_template"] = chat_template
    return config


def write_hf_tokenizer_files(
    directory: str | Path,
    model_path: str | Path,
    *,
    chat_template: str | None = None,
    tokenizer_json: str | None = "metaspace",
) -> Path:
    """``tokenizer.model`` + ``tokenizer_config.json`` (+ ``tokenizer.json``) in ``directory``.

    Args:
        directory: the Hugging Face directory.
        model_path: a trained ``tokenizer.model``.
        chat_template: written into ``tokenizer_config.json``.
        tokenizer_json: ``"metaspace"``: transformers' conversion as it writes it today
            (Metaspace pre-tokenizer, prepend always); ``"normalizer"``: the same with the
            2023 layout of the published Llama 2 files (Prepend + Replace normalizer, no
            pre-tokenizer); None: no tokenizer.json.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(model_path, directory / "tokenizer.model")
    config = llama2_tokenizer_config(chat_template)
    (directory / "tokenizer_config.json").write_text(json.dumps(config, indent=1))
    if tokenizer_json is not None:
        data = converted_tokenizer_json(directory)
        if tokenizer_json == "normalizer":
            data = with_2023_normalizer(data)
        (directory / "tokenizer.json").write_text(json.dumps(data, ensure_ascii=False))
    return directory


def converted_tokenizer_json(directory: Path) -> dict[str, Any]:
    """transformers' own conversion of ``directory/tokenizer.model`` to a tokenizer.json."""
    import tempfile

    import transformers

    tok = transformers.AutoTokenizer.from_pretrained(directory)
    with tempfile.TemporaryDirectory() as out:
        tok.save_pretrained(out)
        return json.loads((Path(out) / "tokenizer.json").read_text(encoding="utf-8"))


def with_2023_normalizer(data: dict[str, Any]) -> dict[str, Any]:
    """The published Llama 2 layout: spaces to ``▁`` and a leading ``▁`` by the normalizer."""
    data = json.loads(json.dumps(data))
    data["pre_tokenizer"] = None
    data["normalizer"] = {
        "type": "Sequence",
        "normalizers": [
            {"type": "Prepend", "prepend": SPACE},
            {"type": "Replace", "pattern": {"String": " "}, "content": SPACE},
        ],
    }
    return data
