"""Where the docks go: a default layout sized to the screen, and presentation mode (F11).

The window never opens larger than its screen's available area, and the docks get
shares of the window rather than fixed pixels, so one arrangement serves a 1024×768
projector and a 4K monitor alike. Presentation mode is a layout of its own: the map and
the tokens first, one tabbed side panel, only the stepping controls, fonts as large as
the screen allows; leaving it restores the window exactly as it was.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize, Qt, QTimer
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow, QTabBar, QToolBar

from llamalens.app.appearance import presentation_scale

DEFAULT_SIZE = QSize(1500, 950)  # without a screen
SMALL_SCREEN = 1600  # narrower screens get a window as large as they are
LEFT_SHARE, RIGHT_SHARE = 0.24, 0.32  # of the window width: heads column, RoPE column
TOP_SHARE = 0.17  # of the window height: prompt and tokens
SIDE_SHARE_PRESENTING = 0.36
TITLE_GROWTH = 1.2  # dock titles of presentation mode, relative to its UI font
COMPACT_WIDTH = 1200  # narrower windows get one tabbed side column instead of two
COMPACT_SIDE = ("headsDock", "ropeDock", "samplingDock", "statsDock", "lensDock")
# Panels a narrow window starts without (their tabs would widen it); the View menu shows them.
COMPACT_HIDDEN = ("headViewDock", "attentionTextDock")
COMPACT_SHARE = 0.42
# The side panels of presentation mode, tabbed in one column (first one raised).
PRESENTATION_SIDE = ("headsDock", "ropeDock", "samplingDock")
# What-if panels start closed in every layout (View ▸ What if… opens them).
WHATIF_DOCKS = ("whatifDock", "beforeAfterDock", "ropeWhatIfDock", "compareDock", "rankingDock")
PRESENTATION_HIDDEN = (
    "promptDock",
    "statsDock",
    "lensDock",
    "headViewDock",
    "attentionTextDock",
    *WHATIF_DOCKS,
)


def fitted(rect: QRect, available: QRect, frame: QSize | None = None) -> QRect:
    """``rect`` (a client area) shrunk and moved so that it and its frame lie in ``available``.

    Args:
        rect: the wanted geometry of the window's client area.
        available: the screen's available area.
        frame: the window frame's extra width and height.
    """
    frame = frame or QSize(0, 0)
    width = min(rect.width(), available.width() - frame.width())
    height = min(rect.height(), available.height() - frame.height())
    out = QRect(rect.topLeft(), QSize(max(width, 1), max(height, 1)))
    right = available.right() - frame.width()
    bottom = available.bottom() - frame.height()
    out.moveLeft(max(available.left(), min(out.left(), right - out.width() + 1)))
    out.moveTop(max(available.top(), min(out.top(), bottom - out.height() + 1)))
    return out


class WindowLayouts:
    """Sizes a MainWindow to its screen and switches presentation mode on and off."""

    def __init__(self, win: QMainWindow) -> None:
        self.win = win
        self.presenting = False
        self._before_walk: QRect | None = None  # the window when the walkthrough began
        self._saved: tuple | None = None  # geometry, dock state, maximised: before F11
        self._tidy = QTimer(win)
        self._tidy.setSingleShot(True)
        self._tidy.setInterval(0)
        self._tidy.timeout.connect(self.keep_tabs_whole)
        win.tabifiedDockWidgetActivated.connect(lambda *_: self._tidy.start())
        for dock in win.docks.values():
            dock.dockLocationChanged.connect(lambda *_: self._tidy.start())
            dock.visibilityChanged.connect(lambda *_: self._tidy.start())
        win.state.walkthrough_changed.connect(self._walkthrough_changed)

    # ---- normal layout ---------------------------------------------------------------------
    def _frame(self) -> QSize:
        win = self.win
        frame, inner = win.frameGeometry(), win.geometry()
        return QSize(frame.width() - inner.width(), frame.height() - inner.height())

    def fit_to_screen(self) -> None:
        """Shrink and move the window until its frame lies inside its screen's available area."""
        screen = self.win.screen()
        if screen is None or self.presenting:
            return
        rect = fitted(self.win.geometry(), screen.availableGeometry(), self._frame())
        if rect != self.win.geometry():
            self.win.setGeometry(rect)

    def place_first(self) -> None:
        """The first window on its screen: sized by :meth:`open_size`, centred."""
        screen = self.win.screen()
        if screen is None:
            return
        available = screen.availableGeometry()
        rect = QRect(QPoint(0, 0), self.open_size())
        rect.moveCenter(available.center())
        self.win.setGeometry(fitted(rect, available, self._frame()))

    def open_size(self) -> QSize:
        """The first window: all of a small screen, most of a large one."""
        screen = self.win.screen()
        if screen is None:
            return DEFAULT_SIZE
        available = screen.availableGeometry().size()
        if available.width() < SMALL_SCREEN:
            return QSize(available.width() - 8, available.height() - 40)  # frame and title
        return QSize(int(available.width() * 0.9), int(available.height() * 0.9))

    def share_docks(self) -> None:
        """Give the side columns and the top row their shares of the current window.

        A narrow window (a 1024-pixel projector) gets one side column with every side
        panel as a tab, so the map keeps more than a third of the width.
        """
        win, d = self.win, self.win.docks
        width, height = win.width(), win.height()
        for name in WHATIF_DOCKS:
            if name in d:
                d[name].hide()
        if width < COMPACT_WIDTH:
            self.tab_together(Qt.DockWidgetArea.RightDockWidgetArea, COMPACT_SIDE + COMPACT_HIDDEN)
            for name in COMPACT_HIDDEN:
                d[name].hide()
            # moving docks between areas can stack them for a moment, and the window
            # grows with them: take back the size it had
            win.layout().activate()
            win.resize(width, height)
            win.resizeDocks(
                [d[COMPACT_SIDE[0]]], [int(width * COMPACT_SHARE)], Qt.Orientation.Horizontal
            )
        else:
            win.resizeDocks(
                [d["headsDock"], d["ropeDock"]],
                [int(width * LEFT_SHARE), int(width * RIGHT_SHARE)],
                Qt.Orientation.Horizontal,
            )
        win.resizeDocks([d["promptDock"]], [int(height * TOP_SHARE)], Qt.Orientation.Vertical)
        self.fit_to_screen()

    def tab_together(self, area: Qt.DockWidgetArea, names: tuple[str, ...]) -> None:
        """Dock ``names`` in ``area`` as tabs of one panel, the first one raised."""
        win = self.win
        docks = [win.docks[name] for name in names]
        docks[0].setFloating(False)
        win.addDockWidget(area, docks[0])
        for dock in docks[1:]:  # straight into the tabs: stacked first, they would add up
            dock.setFloating(False)  # to more height than the screen has
            win.tabifyDockWidget(docks[0], dock)
        docks[0].raise_()

    def keep_tabs_whole(self) -> None:
        """Dock tab bars show every title in full: no eliding, no scrolled-away tabs.

        A tab bar that needs more width then widens its dock area (and the panels in it
        wrap or scroll) instead of cutting titles to "Head statis…".
        """
        for bar in self.win.findChildren(QTabBar):
            if bar.parent() is self.win:
                bar.setElideMode(Qt.TextElideMode.ElideNone)
                bar.setUsesScrollButtons(False)
                bar.setExpanding(False)

    # ---- presentation mode -----------------------------------------------------------------
    def set_presentation(self, on: bool) -> None:
        """Enter or leave presentation mode (F11)."""
        if on == self.presenting:
            return
        if on:
            self._enter()
        else:
            self._leave()

    def _enter(self) -> None:
        win = self.win
        self._saved = (win.saveGeometry(), win.saveState(), win.isMaximized(), win.geometry())
        self.presenting = True
        screen = win.screen().availableGeometry() if win.screen() else QRect(0, 0, 1920, 1080)
        look = win.appearance
        look.set_presenting(presentation_scale(look.scale, screen.height()))
        for bar in win.findChildren(QToolBar):
            bar.hide()
        win.attention.set_presentation(True)
        win.show_status_details(False)
        self._large_titles(True)
        # docks first: a window whose minimum grows after showFullScreen() is resized
        # and loses its full-screen state
        walking = win.state.walkthrough  # the walkthrough page has the whole window
        if not walking:
            self._present_docks()
        win.showFullScreen()
        if not walking:
            self._share_side(screen.width())
        self._tidy.start()

    def _present_docks(self) -> None:
        """The tokens above the map, one tabbed side column, the rest hidden."""
        win, docks = self.win, self.win.docks
        for name in PRESENTATION_HIDDEN:
            docks[name].hide()
        tokens = docks["tokensDock"]
        tokens.setFloating(False)
        win.addDockWidget(Qt.DockWidgetArea.TopDockWidgetArea, tokens)
        tokens.show()
        for name in PRESENTATION_SIDE:
            docks[name].show()
        self.tab_together(Qt.DockWidgetArea.RightDockWidgetArea, PRESENTATION_SIDE)

    def _share_side(self, width: int) -> None:
        """The side column's share of a presentation window ``width`` pixels wide."""
        self.win.resizeDocks(
            [self.win.docks[PRESENTATION_SIDE[0]]],
            [int(width * SIDE_SHARE_PRESENTING)],
            Qt.Orientation.Horizontal,
        )

    def _walkthrough_changed(self, on: bool) -> None:
        """Back from the walkthrough: the window as it was (the docks it brings back can
        stretch it past the screen), or, while presenting, the presentation's docks,
        toolbars and status bar, once the walkthrough has put back the layout it left."""
        if on:
            self._before_walk = None if self.presenting else self.win.geometry()
        elif self.presenting:
            QTimer.singleShot(0, self._back_from_walkthrough)
        else:
            QTimer.singleShot(0, self._geometry_after_walk)

    def _geometry_after_walk(self) -> None:
        win = self.win
        if self.presenting or win.state.walkthrough or win.isMaximized() or win.isFullScreen():
            return
        before = self._before_walk
        if before is None:  # it began in presentation mode
            self.fit_to_screen()
        elif win.geometry() != before:
            win.setGeometry(before)

    def _back_from_walkthrough(self) -> None:
        if not self.presenting or self.win.state.walkthrough:
            return
        for bar in self.win.findChildren(QToolBar):
            bar.hide()
        self.win.show_status_details(False)
        self._present_docks()
        if not self.win.isFullScreen():  # the docks' minimum may have resized the window
            self.win.showFullScreen()
        self._share_side(self.win.width())

    def _large_titles(self, on: bool) -> None:
        """Dock titles a class can read (the style draws the usual ones small), without
        the float and close buttons a lecturer does not need."""
        for dock in self.win.docks.values():
            if not on:
                dock.setTitleBarWidget(None)
                continue
            title = QLabel(dock.windowTitle())
            title.setObjectName("dockTitle")
            font = QFont(QApplication.font())
            font.setPointSizeF(font.pointSizeF() * TITLE_GROWTH)
            font.setBold(True)
            title.setFont(font)
            title.setContentsMargins(6, 2, 6, 2)
            dock.windowTitleChanged.connect(title.setText)  # a language switch
            dock.setTitleBarWidget(title)

    def _leave(self) -> None:
        win = self.win
        self.presenting = False
        win.attention.set_presentation(False)
        win.show_status_details(True)
        self._large_titles(False)
        win.appearance.set_presenting(None)
        geometry, state, maximised, rect = self._saved
        win.showNormal()
        win.restoreState(state)
        win.restoreGeometry(geometry)
        if maximised:
            win.showMaximized()
        elif win.geometry() != rect:  # a platform that restored the frame, not the client
            win.setGeometry(rect)
        self._tidy.start()
