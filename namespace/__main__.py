"""``python -m llamalens``: the same as the ``llamalens`` command."""

from __future__ import annotations

import sys

from llamalens.app.cli import main

if __name__ == "__main__":
    sys.exit(main())
