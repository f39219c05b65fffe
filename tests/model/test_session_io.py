"""Session files round-trip a real trace, its analysis and vocabulary, and refuse bad input."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from llamalens.model.analysis import Analysis, LogitLens
from llamalens.model.engine import Engine
from llamalens.model.head_stats import head_stats, logit_lens
from llamalens.model.session_io import (
    Session,
    load_session,
    new_meta,
    save_session,
    session_arrays,
)
from llamalens.model.tracing import run_trace
from llamalens.model.vocab_table import VocabTable
from tests.writers.checkpoints import tiny_config, tiny_tensors, write_hf
from tests.writers.tiny_vocab import tiny_vocab

PROMPT = "hello world, the cat sat on the mat"


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    vocab = tiny_vocab()
    cfg = tiny_config(vocab)
    path = write_hf(tmp_path_factory.mktemp("session") / "hf", tiny_tensors(cfg, 5), cfg, vocab)
    return Engine.load(path, device="cpu")


@pytest.fixture(scope="module")
def session(loaded):
    tok = loaded.tokenizer
    trace = run_trace(loaded.module, tok, tok.encode(PROMPT))
    stats = head_stats(trace)
    positions = [trace.n_tokens - 2, trace.n_tokens - 1]
    ids, probs = logit_lens(loaded.module, trace, positions)
    text = np.array([[[tok.token(int(i)).text for i in cell] for cell in row] for row in ids])
    analysis = Analysis(
        stats={"entropy": stats["entropy"], "sink": stats["sink"]},
        lens=LogitLens(ids, probs, text, tuple(positions)),
    )
    meta = new_meta(
        model={"name": "tiny", "path": "/x", "format": "hf", "device": "cpu", "quantization": None},
        prompt={"text": PROMPT, "chat": False, "plain": True},
        view={"layer": 1, "head": 2, "stage": "masked", "token": 5, "key": 3},
        sampling={"temperature": 0.7, "top_p": 0.9, "top_k": 5, "seed": 3},
        history=["+ cat  (id 9, greedy)", "généré ✓"],
    )
    return Session(trace, VocabTable.from_tokenizer(tok), meta, analysis)


@pytest.fixture
def saved(tmp_path, session):
    path = tmp_path / "s.llamalens"
    save_session(session, path)
    return path


def test_round_trip_keeps_maps_tokens_analysis_and_vocab(saved, session, loaded):
    back = load_session(saved)
    assert saved.exists() and not list(saved.parent.glob("*.part"))
    t0, t1 = session.trace, back.trace
    assert t1.token_ids.tolist() == t0.token_ids.tolist()
    assert t1.token_strs == t0.token_strs and t1.token_bytes == t0.token_bytes
    for stage in ("scores", "masked", "probs"):
        for layer in range(t0.n_layers):
            np.testing.assert_array_equal(t1.layer_maps(layer, stage), t0.layer_maps(layer, stage))
    np.testing.assert_array_equal(t1.last_logits, t0.last_logits)
    assert back.meta == json.loads(json.dumps(session.meta))
    assert back.meta["history"][1] == "généré ✓"
    for name, arr in session.analysis.stats.items():
        np.testing.assert_array_equal(back.analysis.stats[name], arr)
    lens, saved_lens = back.analysis.lens, session.analysis.lens
    np.testing.assert_array_equal(lens.text, saved_lens.text)
    np.testing.assert_array_equal(lens.probs, saved_lens.probs)
    np.testing.assert_array_equal(lens.ids, saved_lens.ids)
    assert lens.positions == saved_lens.positions
    tok = loaded.tokenizer
    assert back.vocab.n_vocab == tok.n_vocab
    assert back.vocab.tokens(range(tok.n_vocab)) == tok.tokens(range(tok.n_vocab))


def test_file_is_a_plain_npz(saved):
    with np.load(saved, allow_pickle=False) as data:
        assert str(data["format"]) == "llamalens-session" and int(data["version"]) == 1
        meta = json.loads(str(data["session"]))
        assert {"created", "model", "prompt", "view", "sampling", "history"} <= set(meta)
        assert "trace_q_rot" in data.files and "stats_entropy" in data.files


def test_vocab_table_labels_like_the_tokenizer(loaded):
    tok = loaded.tokenizer
    table = VocabTable.from_arrays(VocabTable.from_tokenizer(tok).to_arrays())
    assert table.token(tok.bos_id) == tok.token(tok.bos_id) and table.token(tok.bos_id).special
    for bad in (-1, tok.n_vocab):
        with pytest.raises(ValueError, match="outside the vocabulary"):
            table.token(bad)


def test_vocab_table_shows_invalid_utf8_and_holes():
    table = VocabTable.from_arrays(VocabTable([b"\xe2\x82", None, b"ok"], [False] * 3).to_arrays())
    assert table.token(0).text == "\\xe2\\x82"
    assert table.token(2).text == "ok"
    with pytest.raises(ValueError, match="no token"):
        table.token(1)


def _write(path, arrays):
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def test_newer_version_is_refused(tmp_path, session):
    arrays = session_arrays(session)
    arrays["version"] = np.array(2, dtype=np.int64)
    _write(tmp_path / "new.llamalens", arrays)
    with pytest.raises(ValueError, match=r"new\.llamalens.*version 2 is newer"):
        load_session(tmp_path / "new.llamalens")


def test_foreign_and_incomplete_files_are_refused(tmp_path, session):
    from llamalens.model.trace_io import save_trace

    save_trace(session.trace, tmp_path / "t.npz")
    with pytest.raises(ValueError, match=r"t\.npz: format is 'llamalens-trace'"):
        load_session(tmp_path / "t.npz")
    arrays = session_arrays(session)
    del arrays["vocab_offsets"]
    _write(tmp_path / "novocab.llamalens", arrays)
    with pytest.raises(ValueError, match=r"novocab\.llamalens.*'vocab_offsets'"):
        load_session(tmp_path / "novocab.llamalens")
    arrays = session_arrays(session)
    del arrays["trace_k_rot"]
    _write(tmp_path / "notrace.llamalens", arrays)
    with pytest.raises(ValueError, match=r"notrace\.llamalens.*'trace_k_rot'"):
        load_session(tmp_path / "notrace.llamalens")
    arrays = session_arrays(session)
    arrays["session"] = np.array("{not json")
    _write(tmp_path / "json.llamalens", arrays)
    with pytest.raises(ValueError, match=r"json\.llamalens: the session JSON is not valid JSON"):
        load_session(tmp_path / "json.llamalens")


def test_inconsistent_view_or_stats_are_refused(tmp_path, session):
    arrays = session_arrays(session)
    meta = json.loads(str(arrays["session"]))
    meta["view"]["layer"] = 99
    arrays["session"] = np.array(json.dumps(meta))
    _write(tmp_path / "view.llamalens", arrays)
    with pytest.raises(ValueError, match="outside the trace"):
        load_session(tmp_path / "view.llamalens")
    arrays = session_arrays(session)
    arrays["stats_sink"] = np.zeros((1, 1))
    _write(tmp_path / "stats.llamalens", arrays)
    with pytest.raises(
        ValueError,
        match=r"stats\.llamalens: array 'stats_sink' has shape \(1, 1\), expected \(2, 4\)",
    ):
        load_session(tmp_path / "stats.llamalens")


@pytest.mark.parametrize("damage", ["truncate", "flip", "text"])
def test_corrupt_files_are_refused(tmp_path, saved, damage):
    data = saved.read_bytes()
    bad = tmp_path / "bad.llamalens"
    if damage == "truncate":
        bad.write_bytes(data[: len(data) // 2])
    elif damage == "flip":
        with zipfile.ZipFile(saved) as z:
            info = z.getinfo("trace_q_rot.npy")
        at = info.header_offset + 200  # inside the member's data: the CRC check fails
        bad.write_bytes(data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :])
    else:
        bad.write_text("hello, not a session")
    with pytest.raises(ValueError, match=r"bad\.llamalens"):
        load_session(bad)


def write(path, arrays) -> None:
    with open(path, "wb") as f:  # a file object: np.savez would append ".npz" to a name
        np.savez(f, **arrays)


def test_walkthrough_detail_round_trips_and_is_checked(tmp_path, session, loaded):
    """A lesson without the weights: the walkthrough's values travel in the session."""
    from dataclasses import replace

    from llamalens.model.position_capture import LAYER_ROWS

    ids = session.trace.token_ids.tolist()
    detail = loaded.walk(ids, [len(ids) - 1, 2])
    path = tmp_path / "d.llamalens"
    save_session(replace(session, detail=detail), path)
    back = load_session(path).detail
    assert back.positions == detail.positions
    for name in (*LAYER_ROWS, "embeddings", "logits", "final_normed", "attn_gain"):
        np.testing.assert_array_equal(getattr(back, name), getattr(detail, name))
    save_session(session, tmp_path / "plain.llamalens")
    assert load_session(tmp_path / "plain.llamalens").detail is None

    arrays = session_arrays(replace(session, detail=detail))
    bad = dict(arrays, detail_gate=arrays["detail_gate"][:, :, :5])
    write(tmp_path / "bad.llamalens", bad)
    with pytest.raises(
        ValueError, match=r"bad\.llamalens: array 'detail_gate' has shape \(2, 2, 5\)"
    ):
        load_session(tmp_path / "bad.llamalens")
    other = dict(arrays, detail_resid_post=arrays["detail_resid_post"] + 1.0)
    write(tmp_path / "other.llamalens", other)
    with pytest.raises(ValueError, match="does not belong to the trace"):
        load_session(tmp_path / "other.llamalens")
    missing = {k: v for k, v in arrays.items() if k != "detail_logits"}
    write(tmp_path / "missing.llamalens", missing)
    with pytest.raises(ValueError, match="missing.llamalens: is missing the 'detail_logits' array"):
        load_session(tmp_path / "missing.llamalens")


def test_variants_and_the_baseline_round_trip_and_are_checked(tmp_path, session, loaded):
    """A variant's session keeps both variants and the "before"; each is checked."""
    from dataclasses import replace

    from llamalens.model.variants import HeadAblation, RopeChange, Variant

    variant = Variant((HeadAblation(1, 2, "mean"),), RopeChange(theta=500.0))
    ids = session.trace.token_ids.tolist()
    with loaded.varied(variant):
        trace = loaded.trace(ids)
    baseline = loaded.baseline(ids)
    meta = dict(session.meta, variant=Variant((HeadAblation(0, 1),)).to_dict())
    good = replace(session, trace=trace, meta=meta, baseline=baseline)
    save_session(good, tmp_path / "v.llamalens")
    back = load_session(tmp_path / "v.llamalens")
    assert back.trace.variant == variant.to_dict() and back.meta["variant"] == meta["variant"]
    np.testing.assert_array_equal(back.baseline.last_logits, baseline.last_logits)
    np.testing.assert_array_equal(back.baseline.theta, baseline.theta)
    assert back.baseline.rope_scale == baseline.rope_scale

    arrays = session_arrays(good)
    cases = {
        "head": dict(
            arrays,
            session=np.array(json.dumps(dict(meta, variant={"ablations": [[1, 99, "zero"]]}))),
        ),
        "trace": dict(arrays, trace_variant=np.array(json.dumps({"rope": {"theta": -1}}))),
        "part": {k: v for k, v in arrays.items() if k != "baseline_theta"},
        "shape": dict(arrays, baseline_logits=arrays["baseline_logits"][:-1]),
        "scale": dict(arrays, baseline_scale=np.array(np.inf)),
    }
    messages = {
        "head": r"session JSON variant is not a variant of this model \(ablated head 99",
        "trace": r"trace is not a variant of this model \(the RoPE variant is invalid",
        "part": r"the baseline needs baseline_logits, baseline_theta, baseline_scale",
        "shape": r"array 'baseline_logits' has shape",
        "scale": r"baseline RoPE is not finite and positive",
    }
    for name, bad in cases.items():
        write(tmp_path / f"{name}.llamalens", bad)
        with pytest.raises(ValueError, match=rf"{name}\.llamalens: .*{messages[name]}"):
            load_session(tmp_path / f"{name}.llamalens")
