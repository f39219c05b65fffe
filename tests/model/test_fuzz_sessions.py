"""Fuzzed session and trace files: a clean error naming the file, or a whole valid load,
within a time and memory bound.

Mutations of a valid tiny file: truncation, flipped and inserted bytes, member payloads
changed under a correct CRC (so the .npy headers themselves are fuzzed), aliased and
resized zip entries, and, at the array level, members with another dtype, shape or
value, removed or added, and random JSON in the session and config documents.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from llamalens.model.engine import Engine
from llamalens.model.errors import SessionError
from llamalens.model.session_io import Session, load_session, save_session, session_arrays
from llamalens.model.trace import Trace
from llamalens.model.trace_io import load_trace, save_trace, trace_arrays
from tests.bounds import bounded
from tests.writers.checkpoints import tiny_config, tiny_tensors, write_hf
from tests.writers.sessions import members_of, stored, tiny_session, write_npz, write_zip
from tests.writers.tiny_vocab import tiny_vocab

FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)
dtypes = st.sampled_from(["<f4", "<f8", "<f2", "<i8", "<i4", "|u1", "|b1", "<U3", "<c8", ">f4"])


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    vocab = tiny_vocab()
    cfg = tiny_config(vocab)
    root = tmp_path_factory.mktemp("fuzz-sessions")
    engine = Engine.load(write_hf(root / "hf", tiny_tensors(cfg, 2), cfg, vocab), device="cpu")
    session = tiny_session(engine)
    save_session(session, root / "good.llamalens")
    save_trace(session.trace, root / "good.npz")
    return session, root


# ---- mutations ------------------------------------------------------------------------------
@st.composite
def byte_mutation(draw, data: bytes) -> bytes:
    kind = draw(st.sampled_from(["truncate", "flip", "insert", "overwrite"]))
    at = draw(st.integers(0, len(data) - 1))
    if kind == "truncate":
        return data[:at]
    if kind == "flip":
        return data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]
    junk = draw(st.binary(min_size=1, max_size=64))
    if kind == "insert":
        return data[:at] + junk + data[at:]
    return data[:at] + junk + data[at + len(junk) :]


@st.composite
def zip_mutation(draw, members):
    """Member payloads changed under a correct CRC, aliased or dropped entries."""
    members = list(members)
    i = draw(st.integers(0, len(members) - 1))
    kind = draw(st.sampled_from(["payload", "alias", "drop", "duplicate", "header"]))
    alias = None
    m = members[i]
    if kind == "payload":
        at = draw(st.integers(0, max(0, len(m.data) - 1)))
        junk = draw(st.binary(min_size=1, max_size=16))
        members[i] = stored(m.name, m.data[:at] + junk + m.data[at + len(junk) :])
    elif kind == "header":  # rewrite the .npy header's dict text
        text = m.data[10:].split(b"\n", 1)[0]
        new = draw(st.sampled_from([b"(2**40,)", b"(-1,)", b"()", b"(3, 0)", b"'x'"]))
        header = text.replace(text[text.find(b"'shape':") :], b"'shape': " + new + b", }")
        members[i] = stored(m.name, m.data[:10] + header + b"\n" + m.data[10 + len(text) + 1 :])
    elif kind == "alias":
        alias = {i: draw(st.integers(0, len(members) - 1))}
    elif kind == "drop":
        del members[i]
    else:
        members.append(m)
    return members, alias


@st.composite
def array_mutation(draw, arrays: dict[str, np.ndarray], documents: tuple[str, ...]):
    arrays = dict(arrays)
    name = draw(st.sampled_from(sorted(arrays)))
    kind = draw(st.sampled_from(["dtype", "shape", "scalar", "drop", "extra", "json"]))
    a = arrays[name]
    if kind == "dtype":
        try:
            arrays[name] = a.astype(draw(dtypes))
        except (ValueError, TypeError):
            arrays[name] = np.array(["x"])
    elif kind == "shape":
        options = [a.reshape(-1), a[None], np.zeros((2, 3), a.dtype)]
        if a.ndim:
            options += [a[..., :1], np.zeros((0, *a.shape[1:]), a.dtype), a.T]
        arrays[name] = draw(st.sampled_from(options))
    elif kind == "scalar":
        arrays[name] = np.array(draw(st.one_of(st.integers(-(2**62), 2**62), st.text(max_size=5))))
    elif kind == "drop":
        del arrays[name]
    elif kind == "extra":
        arrays[draw(st.sampled_from(["junk", "trace_junk", "stats_bogus"]))] = np.zeros(3)
    else:
        doc = draw(st.sampled_from(documents))
        data = json.loads(str(arrays[doc]))
        path = draw(st.sampled_from(_paths(data)))
        _set(data, path, draw(json_values))
        arrays[doc] = np.array(json.dumps(data))
    return arrays


def _paths(data, prefix=()):
    out = [prefix] if prefix else []
    if isinstance(data, dict):
        for k, v in data.items():
            out += _paths(v, (*prefix, k))
    return out


def _set(data, path, value):
    for key in path[:-1]:
        data = data[key]
    data[path[-1]] = value


# ---- what must hold -------------------------------------------------------------------------
def _usable_trace(trace: Trace) -> None:
    """A loaded trace answers every view the app asks of it."""
    for stage in ("scores", "masked", "probs"):
        assert trace.attention_map(trace.n_layers - 1, trace.n_heads - 1, stage).shape == (
            trace.n_tokens,
            trace.n_tokens,
        )
    trace.rope_query(0, trace.n_heads - 1, trace.n_tokens - 1)
    trace.rope_key(0, trace.n_heads - 1, 0)
    assert trace.n_heads % trace.n_kv_heads == 0 and trace.head_dim % 2 == 0


def _usable_session(session: Session) -> None:
    _usable_trace(session.trace)
    view, trace = session.meta["view"], session.trace
    assert view["layer"] < trace.n_layers and view["head"] < trace.n_heads
    assert view["key"] <= view["token"] < trace.n_tokens
    session.vocab.tokens(range(session.vocab.n_vocab))  # labels or a ValueError for holes


def clean_error_or_valid(path, loader, check) -> None:
    try:
        with bounded(megabytes=64, timeout=30):
            result = loader(path)
    except SessionError as exc:
        message = str(exc)
        assert message.startswith(f"{path}: ") and "\n" not in message, message
        event("refused: " + " ".join(exc.problem.split()[:3]))
        return
    check(result)
    event("loaded")


# ---- the fuzz tests -------------------------------------------------------------------------
@FUZZ
@given(data=st.data())
def test_fuzzed_session_bytes(files, tmp_path, data):
    session, root = files
    raw = (root / "good.llamalens").read_bytes()
    path = tmp_path / "fuzz.llamalens"
    path.write_bytes(data.draw(byte_mutation(raw)))
    clean_error_or_valid(path, load_session, _usable_session)


@FUZZ
@given(data=st.data())
def test_fuzzed_session_members(files, tmp_path, data):
    session, root = files
    members, alias = data.draw(zip_mutation(members_of(root / "good.llamalens")))
    path = write_zip(tmp_path / "fuzz.llamalens", members, alias)
    clean_error_or_valid(path, load_session, _usable_session)


@FUZZ
@given(data=st.data())
def test_fuzzed_session_arrays(files, tmp_path, data):
    session, _ = files
    arrays = data.draw(array_mutation(session_arrays(session), ("session", "trace_config")))
    path = write_npz(tmp_path / "fuzz.llamalens", arrays)
    clean_error_or_valid(path, load_session, _usable_session)


@FUZZ
@given(data=st.data())
def test_fuzzed_trace_files(files, tmp_path, data):
    session, root = files
    path = tmp_path / "fuzz.npz"
    how = data.draw(st.sampled_from(["bytes", "members", "arrays"]))
    if how == "bytes":
        path.write_bytes(data.draw(byte_mutation((root / "good.npz").read_bytes())))
    elif how == "members":
        write_zip(path, *data.draw(zip_mutation(members_of(root / "good.npz"))))
    else:
        write_npz(path, data.draw(array_mutation(trace_arrays(session.trace), ("config",))))
    clean_error_or_valid(path, load_trace, _usable_trace)
