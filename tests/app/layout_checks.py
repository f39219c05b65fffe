"""What "fits the screen" means, as checks on a live window (used by test_screen_fit).

Each check returns a list of problems, one readable line each; an empty list is a pass.
Text is measured with the widget's own font metrics and style, against the geometry
the layout gave the widget.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QPoint, QRect, QRectF, Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractScrollArea,
    QComboBox,
    QHeaderView,
    QLabel,
    QStyle,
    QStyleOptionComboBox,
    QTabBar,
    QWidget,
)

SLACK = 1  # pixels of rounding a measurement may differ by


def name_of(widget: QWidget) -> str:
    """``ClassName 'objectName' "text"`` for a problem line."""
    text = ""
    for getter in ("text", "currentText"):
        if hasattr(widget, getter):
            text = str(getattr(widget, getter)())[:50]
            break
    chain = []
    parent = widget.parentWidget()
    while parent is not None and len(chain) < 3:
        if parent.objectName():
            chain.append(parent.objectName())
        parent = parent.parentWidget()
    return f"{type(widget).__name__} '{widget.objectName()}' {text!r} in {'/'.join(chain)}"


def shown(widget: QWidget) -> bool:
    """Visible on screen: itself and every ancestor visible, a size, and not hidden behind
    another tab (a dock in an inactive tab stays "visible" with an empty visible region)."""
    if not (widget.isVisible() and widget.width() > 0 and widget.height() > 0):
        return False
    return not visible_rect(widget).isEmpty()


def visible_rect(widget: QWidget) -> QRect:
    """The part of ``widget`` (in its coordinates) that no ancestor clips or hides.

    A scroll area (a plot view, a list) is covered by its viewport, whose own visible
    region is then the one that counts.
    """
    region = widget.visibleRegion()
    viewport = widget.viewport() if isinstance(widget, QAbstractScrollArea) else None
    if viewport is not None:
        inner = viewport.visibleRegion().boundingRect()
        region = region.united(inner.translated(viewport.mapTo(widget, QPoint(0, 0))))
    return region.boundingRect()


def _plain(label: QLabel) -> str:
    if label.textFormat() == Qt.TextFormat.PlainText or "<" not in label.text():
        return label.text()
    doc = QTextDocument()
    doc.setHtml(label.text())
    return doc.toPlainText()


def label_problem(label: QLabel) -> str | None:
    if not _plain(label).strip() or label.pixmap() is not None and not label.pixmap().isNull():
        return None
    if label.wordWrap():
        need = label.heightForWidth(label.width())
        if need > label.height() + SLACK:
            return f"{name_of(label)}: wrapped text needs {need} px height, has {label.height()}"
        return None
    hint = label.sizeHint()
    if hint.width() > label.width() + SLACK or hint.height() > label.height() + SLACK:
        return (
            f"{name_of(label)}: text needs {hint.width()}x{hint.height()}, "
            f"has {label.width()}x{label.height()}"
        )
    return None


def button_problem(button: QAbstractButton) -> str | None:
    if not button.text():
        return None
    hint = button.sizeHint()
    if hint.width() > button.width() + SLACK:
        return f"{name_of(button)}: needs {hint.width()} px width, has {button.width()}"
    return None


def combo_problem(combo: QComboBox) -> str | None:
    text = combo.currentText()
    if not text:
        return None
    opt = QStyleOptionComboBox()
    combo.initStyleOption(opt)
    field = combo.style().subControlRect(
        QStyle.ComplexControl.CC_ComboBox, opt, QStyle.SubControl.SC_ComboBoxEditField, combo
    )
    need = combo.fontMetrics().horizontalAdvance(text)
    if need > field.width() + SLACK:
        return f"{name_of(combo)}: text needs {need} px, its field has {field.width()}"
    return None


def tab_problems(bar: QTabBar) -> list[str]:
    out = []
    for i in range(bar.count()):
        if not bar.isTabVisible(i):
            continue
        rect, hint = bar.tabRect(i), bar.tabSizeHint(i)
        horizontal = bar.shape() in (QTabBar.Shape.RoundedNorth, QTabBar.Shape.RoundedSouth)
        have, need = (rect.width(), hint.width()) if horizontal else (rect.height(), hint.height())
        if need > have + SLACK:
            out.append(f"tab {bar.tabText(i)!r}: needs {need} px, has {have}")
        if not bar.rect().contains(rect):
            out.append(f"tab {bar.tabText(i)!r} lies outside its tab bar (scrolled away)")
    return out


def header_problems(header: QHeaderView) -> list[str]:
    out = []
    if header.orientation() != Qt.Orientation.Horizontal:
        return out
    for i in range(header.count()):
        if header.isSectionHidden(i):
            continue
        need, have = header.sectionSizeHint(i), header.sectionSize(i)
        if need > have + SLACK:
            label = header.model().headerData(i, Qt.Orientation.Horizontal)
            out.append(f"header {label!r}: needs {need} px, has {have}")
    return out


def text_problems(window: QWidget) -> list[str]:
    """Every shown label, button, combo box, tab and table header shows its whole text."""
    out: list[str] = []
    for w in window.findChildren(QWidget):
        if not shown(w) or w.window() is not window:
            continue
        problem = None
        if isinstance(w, QLabel):
            problem = label_problem(w)
        elif isinstance(w, QAbstractButton):
            problem = button_problem(w)
        elif isinstance(w, QComboBox):
            problem = combo_problem(w)
        elif isinstance(w, QTabBar):
            out += [f"{name_of(w)}: {p}" for p in tab_problems(w)]
        elif isinstance(w, QHeaderView):
            out += [f"{name_of(w)}: {p}" for p in header_problems(w)]
        if problem:
            out.append(problem)
    return out


def global_rect(widget: QWidget) -> QRect:
    return QRect(widget.mapToGlobal(QPoint(0, 0)), widget.size())


def on_screen_problem(widget: QWidget, screen: QRect) -> str | None:
    """``widget`` is shown, lies inside ``screen`` and no ancestor clips any of it."""
    if not shown(widget):
        return f"{name_of(widget)} is not shown"
    rect = global_rect(widget)
    if not screen.contains(rect):
        return f"{name_of(widget)} at {rect.getRect()} is not inside the screen {screen.getRect()}"
    visible = visible_rect(widget)
    if visible != widget.rect():
        return f"{name_of(widget)}: only {visible.getRect()} of {widget.rect().getRect()} shows"
    return None


def _visible_scene_rect(view: pg.GraphicsView) -> QRectF:
    return view.mapToScene(view.viewport().rect()).boundingRect()


def graphics_problems(window: QWidget) -> list[str]:
    """Titles, axis labels, legends and text items of every shown plot lie inside it."""
    out: list[str] = []
    for view in window.findChildren(pg.GraphicsView):
        if not shown(view):
            continue
        area = _visible_scene_rect(view).adjusted(-SLACK, -SLACK, SLACK, SLACK)
        for item in view.scene().items():
            text = _item_text(item)
            if text is None or not item.isVisible() or not text.strip():
                continue
            margin = item.document().documentMargin()  # blank space around the glyphs
            rect = item.sceneBoundingRect().adjusted(margin, margin, -margin, -margin)
            if not area.contains(rect):
                out.append(f"{view.objectName()}: {text[:40]!r} at {_r(rect)} leaves {_r(area)}")
            owner = item.parentItem()
            room = owner.sceneBoundingRect().width() if isinstance(owner, pg.LabelItem) else None
            if room is not None and rect.width() > room + SLACK:
                out.append(f"{view.objectName()}: {text[:40]!r} is wider than its place")
        for item in view.scene().items():
            if isinstance(item, pg.LegendItem) and item.isVisible():
                box = item.parentItem().sceneBoundingRect() if item.parentItem() else area
                rect = item.sceneBoundingRect()
                if not box.adjusted(-SLACK, -SLACK, SLACK, SLACK).contains(rect):
                    out.append(f"{view.objectName()}: legend at {_r(rect)} leaves {_r(box)}")
    return out


def _item_text(item) -> str | None:
    from PySide6.QtWidgets import QGraphicsTextItem

    if isinstance(item, QGraphicsTextItem):
        return item.toPlainText()
    return None


def _r(rect: QRectF) -> tuple[int, int, int, int]:
    return (round(rect.x()), round(rect.y()), round(rect.width()), round(rect.height()))
