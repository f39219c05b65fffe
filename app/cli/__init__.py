"""The ``llamalens`` command: the app by default, plus headless subcommands.

``llamalens [PATH] [--session FILE]`` opens the window (the default model without PATH;
a saved session shown at once with ``--session`` or a PATH ending in ``.llamalens``);
``llamalens info|tokens|next|dump|sample|generate|bench|export ...`` run without a
window and print text or JSON: arguments → :class:`~llamalens.model.engine.Engine` →
output. Bad input ends with one line ``llamalens: error: ...`` and exit code 2.
"""

from __future__ import annotations

import logging
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

from llamalens.app.cli.parser import SUBCOMMANDS, UsageError, build_app_parser, build_parser

EXIT_BAD_INPUT = 2
EXIT_CANCELLED = 130


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``llamalens`` console script.

    Whatever goes wrong ends as one line ``llamalens: error: ...`` on stderr and exit code
    2: bad arguments, bad files, and bugs (whose traceback goes to the error log; see
    :mod:`llamalens.app.bug_report`).
    """
    args_list = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.WARNING, format="llamalens: %(levelname)s: %(message)s")
    warnings.showwarning = _one_line_warning
    try:
        return _dispatch(args_list)
    except KeyboardInterrupt:
        print("llamalens: cancelled", file=sys.stderr)
        return EXIT_CANCELLED
    except Exception as exc:
        from llamalens.app.bug_report import user_message

        print(f"llamalens: error: {user_message(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _dispatch(args_list: list[str]) -> int:
    if args_list and args_list[0] in SUBCOMMANDS:
        from llamalens.app.cli.commands import run

        return run(build_parser().parse_args(args_list))
    if args_list and args_list[0] in ("-h", "--help"):
        build_app_parser().print_help()
        return 0
    model, options, session = app_arguments(args_list)
    _check_app_start(model)
    from llamalens.app.launch import run_app

    return run_app(model, options, session)


def app_arguments(argv: Sequence[str]):
    """The app's (checkpoint, LoadOptions, session) from its arguments; a PATH ending in
    ``.llamalens`` is a session shown with the default model."""
    from llamalens.app.requests import LoadOptions

    args = build_app_parser().parse_args(list(argv))
    model, session = args.path, args.session
    if session is None and model is not None and model.endswith(".llamalens"):
        model, session = None, model
    options = LoadOptions(
        device=None if args.device == "auto" else args.device,
        dtype=None if args.dtype == "auto" else args.dtype,
        max_memory=args.max_memory,
        offload_dir=args.offload_dir,
    )
    return model, options, session


def _check_app_start(path: str | None) -> None:
    """A PATH that does not exist (often a mistyped subcommand). No display and missing
    Qt libraries are found by :func:`~llamalens.app.qt_start.qt_start_problem` when the
    window starts (one line, exit code 1)."""
    if path is not None and not Path(path).expanduser().exists():
        raise UsageError(
            f"{path}: no such checkpoint file or folder, and not a subcommand "
            f"({', '.join(SUBCOMMANDS)})"
        )


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Library warnings as one line each (never a source excerpt on the terminal)."""
    from llamalens.app.bug_report import one_line

    print(
        f"llamalens: warning: {one_line(f'{category.__name__}: {message}', 300)}", file=sys.stderr
    )
