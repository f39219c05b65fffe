"""One line, always: argparse errors, bad files and bugs on the command line and in the app.

A bug (an exception LlamaLens does not expect) is injected by replacing one function
with one that raises: what is tested is the reporting path, which must turn any such
exception into one short message and a traceback in the error log, never on the
terminal.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer

from llamalens.app.bug_report import LOG_NAME
from llamalens.app.cli import main
from llamalens.model.paths import log_dir

ROOT = Path(__file__).resolve().parents[2]


def one_error_line(capsys, *args) -> str:
    code = main(list(args))
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("llamalens: error: "), err
    return lines[0]


@pytest.mark.parametrize(
    "args,fragment",
    [
        (
            ["export", "--what", "bogus", "--prompt", "x", "--out", "a.png"],
            "--what: invalid choice",
        ),
        (["export", "--out", "a.png"], "the following arguments are required: --prompt"),
        (["next", "--prompt", "x", "--top", "many"], "--top: invalid int value: 'many'"),
        (["info", "--no-such-option"], "unrecognized arguments: --no-such-option"),
        (["tokens", "--prompt", "x", "--input", "f"], "not allowed with argument"),
        (["sample", "--prompt", "x", "--seed", "1"], "required: --temperature"),
    ],
)
def test_argparse_errors_are_one_line(capsys, args, fragment):
    line = one_error_line(capsys, *args)
    assert fragment in line and line.endswith("--help')")


def test_one_line_from_a_real_process():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, "-m", "llamalens", "export", "--what", "bogus", "--prompt", "x"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("llamalens: error: argument")


def test_a_missing_path_is_not_a_window(capsys, tmp_path):
    line = one_error_line(capsys, str(tmp_path / "bogus"))
    assert "no such checkpoint file or folder, and not a subcommand" in line


def test_a_bug_is_one_line_and_its_traceback_goes_to_the_log(capsys, monkeypatch):
    from llamalens.app.cli import commands

    def broken(_args):
        return {}["no such key"]  # an internal error of the kind a bug raises

    monkeypatch.setattr(commands, "cmd_info", broken)
    log = log_dir() / LOG_NAME
    size = log.stat().st_size if log.exists() else 0
    line = one_error_line(capsys, "info")
    assert "internal error (KeyError: 'no such key')" in line
    assert f"this is a bug in LlamaLens, the details are in {log}" in line
    report = log.read_text()[size:]
    assert "Traceback (most recent call last)" in report and "in broken" in report
    assert "command: " in report and "LlamaLens " in report


def test_library_warnings_are_one_line(capsys, monkeypatch):
    from llamalens.app.cli import commands

    def warns(_args):
        warnings.warn("the given array is not writable", UserWarning, stacklevel=1)
        return 0

    monkeypatch.setattr(commands, "cmd_info", warns)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        assert main(["info"]) == 0
    err = capsys.readouterr().err
    assert err == "llamalens: warning: UserWarning: the given array is not writable\n"


def test_out_of_memory_is_a_message_not_a_traceback(capsys, monkeypatch):
    from llamalens.app.cli import commands

    def hungry(_args):
        raise MemoryError()

    monkeypatch.setattr(commands, "cmd_info", hungry)
    assert "not enough memory" in one_error_line(capsys, "info")


# ---- the app --------------------------------------------------------------------------------
@pytest.fixture
def window(qtbot, tmp_path):
    from llamalens.app import create_main_window

    win = create_main_window(str(tmp_path / "none"), "cpu")  # no model: only the window
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.error_shown, timeout=30_000):
        pass
    win.error_box.close()
    yield win
    win.close()


@pytest.mark.qt_no_exception_capture
def test_an_exception_in_the_event_loop_is_one_dialog(qtbot, window):
    """A slot that raises: one dialog naming the bug and the log, the window still usable."""
    from llamalens.app.crash_dialog import install_excepthook

    hooks = (sys.excepthook, __import__("threading").excepthook)
    install_excepthook(window)
    try:
        log = log_dir() / LOG_NAME
        size = log.stat().st_size if log.exists() else 0

        def broken_slot():
            raise ZeroDivisionError("a panel divided by zero")

        with qtbot.waitSignal(window.error_shown, timeout=10_000) as blocker:
            QTimer.singleShot(0, broken_slot)
        assert "internal error (ZeroDivisionError: a panel divided by zero)" in blocker.args[0]
        assert window.error_box.windowTitle() == "Internal error"
        QTimer.singleShot(0, broken_slot)  # a second one while the dialog is open: logged only
        qtbot.wait(100)
        assert log.read_text()[size:].count("ZeroDivisionError: a panel divided by zero") == 2
        window.error_box.close()
        window.state.set_layer(0)  # still alive
    finally:
        sys.excepthook, __import__("threading").excepthook = hooks


def test_a_worker_bug_is_reported_as_a_bug(qtbot, window, monkeypatch, tmp_path):
    from llamalens.model import engine as engine_module

    def broken_load(*_a, **_k):
        raise TypeError("unsupported operand")

    monkeypatch.setattr(engine_module.Engine, "load", broken_load)
    with qtbot.waitSignal(window.error_shown, timeout=10_000) as blocker:
        window.open_model(str(tmp_path))
    message = blocker.args[0]
    assert message.startswith("internal error (TypeError: unsupported operand)")
    assert str(log_dir() / LOG_NAME) in message and "\n" not in message.split(". Still")[0]
