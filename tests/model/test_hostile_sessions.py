"""Hostile session and trace files: one clear error naming the file, bounded time and memory.

Each class of the hostile-input findings has its test: huge arrays claimed by a tiny
file, zip bombs, aliased members, special files, pickles, and files that used to load
and then break the panels (impossible head counts, wrong dtypes and ranks, values out of
range). Memory is measured in this process (:mod:`tests.bounds`).
"""

from __future__ import annotations

import json
import os
import zipfile

import numpy as np
import pytest

from llamalens.model.engine import Engine
from llamalens.model.errors import SessionError
from llamalens.model.session_io import load_session, save_session, session_arrays
from llamalens.model.trace_io import load_trace, save_trace, trace_arrays
from tests.bounds import bounded
from tests.writers.checkpoints import tiny_config, tiny_tensors, write_hf
from tests.writers.sessions import (
    changed_arrays,
    members_of,
    npy_header,
    stored,
    tiny_session,
    write_npz,
    write_zip,
    zeros_member,
)
from tests.writers.tiny_vocab import tiny_vocab


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    vocab = tiny_vocab()
    cfg = tiny_config(vocab)
    path = write_hf(tmp_path_factory.mktemp("hostile") / "hf", tiny_tensors(cfg, 3), cfg, vocab)
    return Engine.load(path, device="cpu")


@pytest.fixture(scope="module")
def session(engine):
    return tiny_session(engine)


@pytest.fixture
def good(tmp_path, session):
    path = tmp_path / "good.llamalens"
    save_session(session, path)
    return path


def refused(path, *fragments, loader=load_session, megabytes=64):
    """The file is refused with one SessionError naming it and the problem, within bounds."""
    with bounded(megabytes=megabytes, timeout=60), pytest.raises(SessionError) as info:
        loader(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    for fragment in fragments:
        assert fragment in message, message
    return message


# ---- tiny files that claim huge arrays ------------------------------------------------------
def test_member_header_claiming_2_40_elements(tmp_path, good, session):
    """Used to raise an uncaught MemoryError: now refused from the header, nothing allocated."""
    members = [m for m in members_of(good) if m.name != "trace_q.npy"]
    huge = stored("trace_q.npy", npy_header("<f4", (2**40,)) + bytes(64))
    path = write_zip(tmp_path / "huge.llamalens", [*members, huge])
    refused(path, "'trace_q'", "declares shape (1099511627776,)", "holds 64 bytes")
    trace_members = [stored(f"{k}.npy", b"") for k in ()]  # (a trace file: same rule)
    del trace_members
    save_trace(session.trace, tmp_path / "t.npz")
    parts = [m for m in members_of(tmp_path / "t.npz") if m.name != "logits.npy"]
    parts.append(stored("logits.npy", npy_header("<f4", (2**20, 2**20)) + bytes(16)))
    write_zip(tmp_path / "t2.npz", parts)
    refused(tmp_path / "t2.npz", "'logits'", "declares shape", loader=load_trace)


@pytest.mark.parametrize("kind", ["session", "trace"])
def test_zip_bombs_are_refused_before_inflating(tmp_path, good, session, kind):
    """5 GiB of zeros in a few MB: refused from the directory, known member or not."""
    if kind == "trace":
        save_trace(session.trace, tmp_path / "t.npz")
        base, loader, known = members_of(tmp_path / "t.npz"), load_trace, "logits.npy"
    else:
        base, loader, known = members_of(good), load_session, "vocab_bytes.npy"
    for name in (known, "unknown_member.npy"):
        members = [m for m in base if m.name != name]
        bomb = zeros_member(name, "|u1", 5 * 2**30)
        assert len(bomb.data) < 8 * 2**20
        path = write_zip(tmp_path / f"bomb-{name}.{kind}", [*members, bomb])
        refused(path, repr(name), "zip bomb", loader=loader)


def test_vocabulary_that_expands_past_a_gigabyte(tmp_path, good, session):
    """2 MB of deflated offsets that would become 1.3 GB of vocabulary: refused unread."""
    base = [m for m in members_of(good) if not m.name.startswith("vocab_")]
    n = 160 * 2**20
    vocab = [
        zeros_member("vocab_offsets.npy", "<i8", n + 1),
        zeros_member("vocab_special.npy", "|b1", n),
        zeros_member("vocab_valid.npy", "|b1", n),
        stored("vocab_bytes.npy", npy_header("|u1", (0,))),
    ]
    path = write_zip(tmp_path / "vocab.llamalens", base + vocab)
    refused(path, "vocab_", "zip bomb")
    # honest sizes, but more entries than the model's embedding has rows
    big = session.vocab.n_vocab + 10
    arrays = changed_arrays(
        session,
        vocab_offsets=np.zeros(big + 1, np.int64),
        vocab_special=np.zeros(big, bool),
        vocab_valid=np.zeros(big, bool),
        vocab_bytes=np.zeros(0, np.uint8),
    )
    path = write_npz(tmp_path / "vocab2.llamalens", arrays)
    refused(path, f"vocabulary has {big:,} entries", f"expected 1..{session.vocab.n_vocab}")


def test_aliased_members_are_refused(tmp_path, good):
    """Two directory entries over one byte range (each would be read in full): refused."""
    members = members_of(good)
    names = [m.name for m in members]
    i, j = names.index("trace_q.npy"), names.index("trace_q_rot.npy")
    path = write_zip(tmp_path / "alias.llamalens", members, alias={j: i})
    refused(path, "overlaps another member")


def test_truncated_member_data_is_refused(tmp_path, good):
    """A directory whose sizes run past the end of the file (a truncated download)."""
    data = good.read_bytes()
    with zipfile.ZipFile(good) as z:
        last = max(z.infolist(), key=lambda i: i.header_offset)
    cut = tmp_path / "cut.llamalens"
    # keep the directory, lose part of the last member's data
    start = last.header_offset + 30 + len(last.filename) + last.compress_size // 2
    with zipfile.ZipFile(good) as z:
        directory = data[z.start_dir :]
    cut.write_bytes(data[:start] + directory)
    refused(cut)


# ---- files that are not files ---------------------------------------------------------------
@pytest.mark.parametrize("loader,name", [(load_session, "s.llamalens"), (load_trace, "t.npz")])
def test_fifo_and_devices_are_refused_without_blocking(tmp_path, loader, name):
    fifo = tmp_path / name
    os.mkfifo(fifo)
    refused(fifo, "named pipe (FIFO)", "expected a regular file", loader=loader)
    device = tmp_path / ("dev-" + name)
    device.symlink_to("/dev/zero")
    refused(device, "character device", loader=loader)
    folder = tmp_path / ("dir-" + name)
    folder.mkdir()
    refused(folder, "directory", loader=loader)


def test_pickles_are_named_as_such(tmp_path):
    """A plain pickle (which numpy.load would reject only as 'corrupt') is called a pickle."""
    import pickle

    path = tmp_path / "evil.llamalens"
    path.write_bytes(pickle.dumps({"a": 1}, protocol=4))
    refused(path, "is a Python pickle", "never loaded")
    path.write_bytes(npy_header("<f4", (2,)) + bytes(8))
    refused(path, "bare .npy array")


# ---- files that used to load and then break the panels --------------------------------------
def _config_with(session, **changes):
    cfg = dict(session.trace.config, **changes)
    return np.array(json.dumps(cfg))


def _meta_with(session, section, **changes):
    meta = json.loads(json.dumps(session.meta))
    if section:
        meta[section].update(changes)
    else:
        meta.update(changes)
    return np.array(json.dumps(meta))


BAD = {
    "zero_kv_heads": (
        lambda s: {"trace_config": _config_with(s, n_kv_heads=0)},
        "n_kv_heads is 0, expected an integer in 1..",
    ),
    "kv_heads_not_dividing": (
        lambda s: {"trace_config": _config_with(s, n_kv_heads=3)},
        "n_kv_heads is 3, expected a divisor of n_heads (4)",
    ),
    "odd_head_dim": (
        lambda s: {"trace_config": _config_with(s, head_dim=15)},
        "head_dim is 15, expected an even number",
    ),
    "layers_not_an_integer": (
        lambda s: {"trace_config": _config_with(s, n_layers=2.9)},
        "n_layers is 2.9, expected an integer",
    ),
    "string_array_for_q": (
        lambda s: {"trace_q_rot": s.trace.q_rot.astype(str)},
        "'trace_q_rot' has dtype <U",
    ),
    "q_in_float64": (
        lambda s: {"trace_q": s.trace.q.astype(np.float64)},
        "'trace_q' has dtype float64, expected elements of 4 bytes",
    ),
    "two_d_token_ids": (
        lambda s: {"trace_token_ids": s.trace.token_ids[None, :]},
        "'trace_token_ids' has shape (1, 18), expected 1 dimensions",
    ),
    "zero_tokens": (
        lambda s: {"trace_token_ids": s.trace.token_ids[:0]},
        "trace has 0 tokens",
    ),
    "token_id_past_the_vocabulary": (
        lambda s: {"trace_token_ids": s.trace.token_ids + 10**6},
        "'trace_token_ids' holds",
    ),
    "q_shape_against_config": (
        lambda s: {"trace_q": s.trace.q[:, :2]},
        "'trace_q' has shape (2, 2, 18, 16), expected (2, 4, 18, 16)",
    ),
    "token_bytes_not_hex": (
        lambda s: {"trace_token_bytes": np.array(["zz"] * s.trace.n_tokens)},
        "token_bytes holds text that is not hex",
    ),
    "view_layer_infinity": (
        lambda s: {
            "session": np.array(json.dumps(s.meta).replace('"layer": 1', '"layer": Infinity'))
        },
        "is not valid JSON (Infinity is not a JSON number)",
    ),
    "view_layer_huge_float": (
        lambda s: {"session": _meta_with(s, "view", layer=1e300)},
        "view.layer is 1e+300, expected an integer",
    ),
    "view_outside_trace": (
        lambda s: {"session": _meta_with(s, "view", head=4)},
        "view (layer 1, head 4, token 5, key 3) is outside the trace",
    ),
    "view_key_after_token": (
        lambda s: {"session": _meta_with(s, "view", key=9)},
        "is outside the trace",
    ),
    "stage_unknown": (
        lambda s: {"session": _meta_with(s, "view", stage="bogus")},
        "view.stage is 'bogus', expected one of",
    ),
    "seed_too_large_for_the_control": (
        lambda s: {"session": _meta_with(s, "sampling", seed=2**40)},
        "sampling.seed is 1099511627776, expected an integer in 0..2,147,483,647",
    ),
    "temperature_above_the_slider": (
        lambda s: {"session": _meta_with(s, "sampling", temperature=5)},
        "sampling.temperature is 5, expected a finite number in [0, 2]",
    ),
    "top_k_a_boolean": (
        lambda s: {"session": _meta_with(s, "sampling", top_k=True)},
        "sampling.top_k is True, expected an integer",
    ),
    "history_not_a_list": (
        lambda s: {"session": _meta_with(s, None, history="a")},
        "history is 'a', expected a list of at most",
    ),
    "prompt_text_a_number": (
        lambda s: {"session": _meta_with(s, "prompt", text=3)},
        "prompt.text is 3, expected a string",
    ),
    "model_name_a_list": (
        lambda s: {"session": _meta_with(s, "model", name=["a"])},
        "model.name is ['a'], expected a string",
    ),
    "json_nested_too_deep": (
        lambda s: {"session": np.array("[" * 100_000 + "]" * 100_000)},
        "nests too deep",
    ),
    "lens_position_outside": (
        lambda s: {"lens_positions": np.array([*range(11), 999], np.int64)},
        "'lens_positions' holds 999, expected values in 0..17",
    ),
    "vocab_offsets_decreasing": (
        lambda s: {"vocab_offsets": s.vocab.to_arrays()["vocab_offsets"][::-1].copy()},
        "vocab_offsets",
    ),
    "version_zero": (lambda s: {"version": np.array(0)}, "session version is 0"),
    "version_text": (
        lambda s: {"version": np.array("1")},
        "'version' has dtype <U1, expected integer",
    ),
    "unknown_member": (lambda s: {"extra": np.zeros(3)}, "unknown member 'extra'"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_inconsistent_sessions_are_refused_whole(tmp_path, session, case):
    change, fragment = BAD[case]
    path = write_npz(tmp_path / f"{case}.llamalens", changed_arrays(session, **change(session)))
    refused(path, fragment)


def test_trace_files_name_the_file_in_every_error(tmp_path, session):
    """Every trace error starts with the file's name (some used to name only the array)."""
    base = trace_arrays(session.trace)
    cases = {
        "no_config": {"config": None},
        "bad_config": {"config": np.array("{")},
        "bad_strs": {"token_strs": np.zeros((2, 2))},
        "bad_special": {"token_special": np.zeros(3)},
        "missing_v": {"v": None},
    }
    for name, change in cases.items():
        arrays = {k: v for k, v in base.items() if change.get(k, 0) is not None}
        arrays.update({k: v for k, v in change.items() if v is not None})
        path = write_npz(tmp_path / f"{name}.npz", arrays)
        refused(path, loader=load_trace)


def test_valid_files_still_load_whole(tmp_path, session, good):
    """The checks refuse nothing a real session holds, compressed or not."""
    back = load_session(good)
    np.testing.assert_array_equal(back.trace.q_rot, session.trace.q_rot)
    assert back.meta["view"] == session.meta["view"]
    assert back.vocab.tokens(range(back.vocab.n_vocab)) == session.vocab.tokens(
        range(session.vocab.n_vocab)
    )
    squeezed = write_npz(tmp_path / "z.llamalens", session_arrays(session), compressed=True)
    again = load_session(squeezed)
    np.testing.assert_array_equal(again.trace.k_rot, session.trace.k_rot)
    np.testing.assert_array_equal(
        again.analysis.stats["entropy"], session.analysis.stats["entropy"]
    )
