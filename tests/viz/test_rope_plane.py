"""RopePlane: drawn points are the given pairs, rotation keeps lengths, Σ is the score."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QLabel, QSpinBox

from llamalens.viz.rope_plane import RopePlane

HD = 64
PAIRS = HD // 2
M, N = 12, 5


def rope_case(seed: int = 0):
    """A query at M and a key at N, rotated exactly as Meta's apply_rotary_emb does."""
    rng = np.random.default_rng(seed)
    theta = 100000.0 ** (-np.arange(0, HD, 2)[:PAIRS] / HD)  # (hd/2,)
    q = (rng.normal(size=HD)).view(np.complex128)  # (hd/2,): x[2i] + j·x[2i+1]
    k = (rng.normal(size=HD) * 1.5).view(np.complex128)
    q_rot = q * np.exp(1j * M * theta)
    k_rot = k * np.exp(1j * N * theta)
    # the score the heatmap shows: rotated vectors interleaved back to width hd
    score = float(q_rot.view(np.float64) @ k_rot.view(np.float64) / np.sqrt(HD))
    parts = (q_rot * np.conj(k_rot)).real / np.sqrt(HD)
    return q, q_rot, theta, k, k_rot, parts, score


@pytest.fixture
def plane(qtbot):
    widget = RopePlane()
    qtbot.addWidget(widget)
    widget.resize(1000, 700)
    widget.show()
    return widget


def as_complex(points: np.ndarray) -> np.ndarray:
    return points[:, 0] + 1j * points[:, 1]


def test_points_are_the_inputs_real_and_imag_parts(plane):
    q, q_rot, theta, k, k_rot, parts, _ = rope_case()
    plane.set_view(q, q_rot, theta, M, k, k_rot, N, parts, title="layer 0 · head 0")
    assert plane.objectName() == "ropePlane"
    assert plane.shown_pairs() == list(range(PAIRS))
    np.testing.assert_array_equal(plane.q_after_points()[:, 0], q_rot.real)
    np.testing.assert_array_equal(plane.q_after_points()[:, 1], q_rot.imag)
    np.testing.assert_array_equal(as_complex(plane.points("q_before")), q)
    np.testing.assert_array_equal(as_complex(plane.points("k_before")), k)
    np.testing.assert_array_equal(as_complex(plane.points("k_after")), k_rot)


def test_one_pair_mode_shows_one_pair_and_all_mode_all(plane, qtbot):
    q, q_rot, theta, k, k_rot, parts, _ = rope_case()
    plane.set_view(q, q_rot, theta, M, k, k_rot, N, parts)
    with qtbot.assertNotEmitted(plane.pair_selected):
        plane.set_pair(7)
    assert plane.shown_pairs() == [7] and plane.pair() == 7
    assert plane.q_after_points().shape == (1, 2)
    np.testing.assert_array_equal(as_complex(plane.q_after_points()), q_rot[[7]])
    assert plane.findChild(QSpinBox, "ropePairSpin").value() == 7
    assert "pair i = 7" in plane.findChild(QLabel, "ropeInfo").text()
    plane.set_pair(None)
    assert plane.shown_pairs() == list(range(PAIRS))
    assert plane.q_after_points().shape == (PAIRS, 2)
    assert plane.findChild(QSpinBox, "ropePairSpin").value() == -1


def test_user_picks_a_pair_with_the_spin_box(plane, qtbot):
    q, q_rot, theta, *_ = rope_case()
    plane.set_view(q, q_rot, theta, M)
    spin = plane.findChild(QSpinBox, "ropePairSpin")
    assert (spin.minimum(), spin.maximum()) == (-1, PAIRS - 1)
    with qtbot.waitSignal(plane.pair_selected) as blocker:
        spin.setValue(3)
    assert blocker.args == [3] and plane.shown_pairs() == [3]
    with qtbot.waitSignal(plane.pair_selected) as blocker:
        spin.setValue(-1)
    assert blocker.args == [-1] and len(plane.shown_pairs()) == PAIRS


def test_clicking_a_contribution_bar_picks_that_pair(plane, qtbot):
    q, q_rot, theta, k, k_rot, parts, _ = rope_case()
    plane.set_view(q, q_rot, theta, M, k, k_rot, N, parts)
    vb = plane.contrib.getPlotItem().getViewBox()
    qtbot.waitUntil(lambda: vb.viewRange()[0][1] > PAIRS - 1)  # laid out and auto-ranged
    target = plane.contrib.mapFromScene(vb.mapViewToScene(QPointF(11.0, 0.0)))
    with qtbot.waitSignal(plane.pair_selected) as blocker:
        qtbot.mouseClick(plane.contrib.viewport(), Qt.MouseButton.LeftButton, pos=target)
    assert blocker.args == [11] and plane.shown_pairs() == [11]


def test_contribution_sum_is_the_score_and_is_labelled(plane):
    q, q_rot, theta, k, k_rot, parts, score = rope_case()
    plane.set_view(q, q_rot, theta, M, k, k_rot, N, parts)
    assert plane.contribution_sum() == pytest.approx(float(parts.sum()), abs=1e-12)
    assert plane.contribution_sum() == pytest.approx(score, abs=1e-12)
    label = plane.findChild(QLabel, "ropeContributionSum").text()
    assert f"Σ = {score:.4f}" in label and "score" in label
    np.testing.assert_allclose(plane._bars.opts["height"], parts)


def test_contributions_default_to_the_per_pair_terms(plane):
    q, q_rot, theta, k, k_rot, parts, score = rope_case(1)
    plane.set_view(q, q_rot, theta, M, k, k_rot, N)
    assert plane.contribution_sum() == pytest.approx(score, abs=1e-12)


def test_no_key_means_no_sum(plane):
    q, q_rot, theta, *_ = rope_case()
    plane.set_view(q, q_rot, theta, M)
    assert plane.contribution_sum() is None
    assert plane.points("k_after").shape == (0, 2)
    assert "Σ =" not in plane.findChild(QLabel, "ropeContributionSum").text()


def test_rotation_preserves_drawn_lengths(plane):
    q, q_rot, theta, k, k_rot, parts, _ = rope_case(2)
    plane.set_view(q, q_rot, theta, M, k, k_rot, N, parts)
    for before, after in (("q_before", "q_after"), ("k_before", "k_after")):
        b, a = plane.points(before), plane.points(after)
        np.testing.assert_allclose(
            np.hypot(a[:, 0], a[:, 1]), np.hypot(b[:, 0], b[:, 1]), rtol=1e-12
        )
    # and the drawn angle turned is m·θ_i (mod 2π)
    turned = np.angle(as_complex(plane.points("q_after")) / as_complex(plane.points("q_before")))
    np.testing.assert_allclose(np.exp(1j * turned), np.exp(1j * M * theta), atol=1e-12)


def test_spectrum_shows_theta_and_the_angles(plane):
    q, q_rot, theta, k, k_rot, parts, _ = rope_case()
    plane.set_view(q, q_rot, theta, M, k, k_rot, N, parts)
    np.testing.assert_allclose(plane._theta_curve.getOriginalDataset()[1], theta)
    np.testing.assert_allclose(plane._m_curve.getOriginalDataset()[1], M * theta)
    np.testing.assert_allclose(plane._n_curve.getOriginalDataset()[1], N * theta)
    plane.set_pair(4)  # the selected pair is marked on all three curves
    np.testing.assert_allclose(
        plane._spectrum_pair.getOriginalDataset()[1], [theta[4], M * theta[4], N * theta[4]]
    )


def test_shape_and_dtype_validation_names_the_shapes(plane):
    q, q_rot, theta, k, k_rot, parts, _ = rope_case()
    with pytest.raises(ValueError, match=r"q_after has shape \(31,\), expected \(32,\)"):
        plane.set_view(q, q_rot[:-1], theta, M)
    with pytest.raises(ValueError, match=r"k_before has shape \(64,\), expected \(32,\)"):
        plane.set_view(q, q_rot, theta, M, np.zeros(HD, complex), k_rot, N)
    with pytest.raises(ValueError, match=r"contributions has shape \(3,\), expected \(32,\)"):
        plane.set_view(q, q_rot, theta, M, k, k_rot, N, parts[:3])
    with pytest.raises(ValueError, match=r"theta has shape \(2, 16\)"):
        plane.set_view(q, q_rot, theta.reshape(2, 16), M)
    with pytest.raises(ValueError, match="complex"):
        plane.set_view(q.real, q_rot, theta, M)
    with pytest.raises(ValueError, match="together"):
        plane.set_view(q, q_rot, theta, M, k, k_rot)
    plane.set_view(q, q_rot, theta, M)
    with pytest.raises(ValueError, match="out of range 0..31"):
        plane.set_pair(PAIRS)
