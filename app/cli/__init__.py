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
from collections.abc import Sequence

from llamalens.app.cli.parser import SUBCOMMANDS, build_app_parser, build_parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``llamalens`` console script."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.WARNING, format="llamalens: %(levelname)s: %(message)s")
    if args_list and args_list[0] in SUBCOMMANDS:
        from llamalens.app.cli.commands import run

        return run(build_parser().parse_args(args_list))
    if args_list and args_list[0] in ("-h", "--help"):
        build_app_parser().print_help()
        return 0
    model, options, session = app_arguments(args_list)
    from llamalens.app.main_window import run_app

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
