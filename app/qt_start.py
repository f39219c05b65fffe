"""Can Qt open a window here? One sentence saying what is missing, before Qt aborts.

When Qt cannot start its platform plugin it prints a paragraph about plugins and aborts
the process: nothing a user can act on. On Linux the usual causes are known: no display
at all (an ssh session, a container), or one of the X11 libraries Qt's xcb plugin loads
is not installed. LlamaLens checks for them first and says which package to install.
"""

from __future__ import annotations

import ctypes
import os
import re
import sys
from pathlib import Path

# What Qt 6's xcb platform plugin loads, and the Debian/Ubuntu package of each.
XCB_LIBRARIES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-util.so.1": "libxcb-util1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libdbus-1.so.3": "libdbus-1-3",
}
NO_CHECK = ("offscreen", "minimal", "minimalegl", "vnc", "eglfs", "linuxfb", "wayland")


def missing_libraries(names=XCB_LIBRARIES) -> list[str]:
    """The libraries among ``names`` the dynamic loader cannot find."""
    missing = []
    for name in names:
        try:
            ctypes.CDLL(name)
        except OSError:
            missing.append(name)
    return missing


def display_problem(environ=os.environ) -> str | None:
    """Why no X11 or Wayland display can be reached, or None."""
    display, wayland = environ.get("DISPLAY", ""), environ.get("WAYLAND_DISPLAY", "")
    if not display and not wayland:
        return (
            "no display (DISPLAY and WAYLAND_DISPLAY are unset): run it in a desktop "
            "session, with ssh -X, or under xvfb-run; the subcommands (llamalens export, "
            "tokens, generate, ...) need no display"
        )
    local = re.fullmatch(r"(?:unix)?:(\d+)(?:\.\d+)?", display)
    if local and not wayland and not Path(f"/tmp/.X11-unix/X{local.group(1)}").exists():
        return (
            f"no X server answers on display {display} (/tmp/.X11-unix/X{local.group(1)} "
            "is missing): start one, or point DISPLAY at a running one"
        )
    return None


def qt_start_problem(environ=os.environ, platform: str = sys.platform) -> str | None:
    """One sentence on why Qt could not open a window here, or None when it should."""
    if not platform.startswith("linux"):
        return None
    requested = environ.get("QT_QPA_PLATFORM", "").split(":")[0]
    if requested in NO_CHECK:
        return None
    problem = display_problem(environ)
    if problem:
        return problem
    if environ.get("WAYLAND_DISPLAY") and not environ.get("DISPLAY"):
        return None  # Qt takes its Wayland plugin, which needs none of the X11 libraries
    missing = missing_libraries()
    if missing:
        packages = " ".join(sorted({XCB_LIBRARIES[name] for name in missing}))
        return (
            f"Qt's X11 plugin needs {', '.join(missing)}, which are not installed; on "
            f"Debian or Ubuntu: sudo apt-get install {packages}"
        )
    return None
