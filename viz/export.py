"""Figures for slides and papers: any widget as a titled PNG, SVG or PDF, and raw matrices.

A figure is one title line (model, prompt excerpt, layer, head, stage: whatever the
caller passes) above the widget as it is drawn on screen. The widget paints itself
through ``QWidget.render``, so a vector painter (SVG, PDF) receives its text as text
and its heatmaps as embedded images.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from PySide6.QtCore import QMarginsF, QPoint, QRectF, QSize, QSizeF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QImage,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QRegion,
)
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QApplication, QWidget

FIGURE_FORMATS = (".png", ".svg", ".pdf")
MATRIX_FORMATS = (".csv", ".npy")
SCREEN_DPI = 96.0
TITLE_PIXELS = 15.0  # title font height at scale 1 (one widget pixel per figure pixel)
INCHES_PER_METER = 1 / 0.0254


def _suffix(path: Path, supported: Sequence[str], what: str) -> str:
    suffix = path.suffix.lower()
    if suffix not in supported:
        raise ValueError(
            f"cannot save a {what} as {suffix or 'a file without suffix'!r} "
            f"({path.name}); supported: {', '.join(supported)}"
        )
    return suffix


def _title_font(scale: float) -> QFont:
    font = QFont(QApplication.font())
    font.setPixelSize(max(1, round(TITLE_PIXELS * scale)))
    font.setBold(True)
    return font


def _title_height(title: str, scale: float) -> float:
    """Figure pixels taken by the title line (0 without a title)."""
    if not title:
        return 0.0
    return float(round(QFontMetricsF(_title_font(scale)).height() * 1.6))


def _figure_size(widget: QWidget, title: str, scale: float) -> QSize:
    """(width, height) of the figure in figure pixels: the widget scaled, plus its title."""
    width = max(1, round(widget.width() * scale))
    height = max(1, round(widget.height() * scale + _title_height(title, scale)))
    return QSize(width, height)


def _paint_figure(
    painter: QPainter, widget: QWidget, size: QSize, *, title: str, scale: float, background: str
) -> None:
    """Paint the background, the title line and the widget (scaled) onto ``painter``."""
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    painter.fillRect(QRectF(0, 0, size.width(), size.height()), QColor(background))
    top = _title_height(title, scale)
    if title:
        font = _title_font(scale)
        painter.setFont(font)
        painter.setPen(QColor("#222222"))
        margin = 8 * scale
        box = QRectF(margin, 0, size.width() - 2 * margin, top)
        text = QFontMetricsF(font).elidedText(title, Qt.TextElideMode.ElideRight, box.width())
        painter.drawText(box, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), text)
    painter.save()
    painter.translate(0, top)
    painter.scale(scale, scale)
    # QWidget.render, not QGraphicsView.render (pyqtgraph views override it with the
    # scene-only signature): it draws the frame and every child widget too
    QWidget.render(
        widget,
        painter,
        QPoint(0, 0),
        QRegion(widget.rect()),
        QWidget.RenderFlag.DrawChildren | QWidget.RenderFlag.DrawWindowBackground,
    )
    painter.restore()


def _prepare(widget: QWidget) -> None:
    """Lay out a widget that was never shown, so that it renders at its current size."""
    widget.ensurePolished()
    if not widget.isVisible() and widget.layout() is not None:
        widget.layout().activate()
    QApplication.processEvents()


def render_image(
    widget: QWidget,
    *,
    title: str = "",
    width: int | None = None,
    dpi: int | None = None,
    background: str = "white",
) -> QImage:
    """The figure as an ARGB32 image.

    Args:
        widget: what to draw, at its current size and state.
        title: one line above the widget; "" for none.
        width: image width in pixels; default ``widget width * dpi / 96`` when ``dpi``
            is given, else twice the widget width (sharp on high-density screens).
        dpi: dots per inch stored in the image (and the scale when ``width`` is None).
        background: colour behind the widget and the title.

    Raises:
        ValueError: for a width or dpi below 1.
    """
    _prepare(widget)
    base = max(1, widget.width())
    if width is None:
        width = round(base * dpi / SCREEN_DPI) if dpi else 2 * base
    if width < 1 or (dpi is not None and dpi < 1):
        raise ValueError(f"width is {width} and dpi is {dpi}; expected both >= 1")
    scale = width / base
    size = _figure_size(widget, title, scale)
    size.setWidth(width)  # exact, whatever the rounding of the scaled height
    image = QImage(size, QImage.Format.Format_ARGB32)
    image.fill(QColor(background))
    if dpi is not None:
        dots_per_meter = round(dpi * INCHES_PER_METER)
        image.setDotsPerMeterX(dots_per_meter)
        image.setDotsPerMeterY(dots_per_meter)
    painter = QPainter(image)
    try:
        _paint_figure(painter, widget, size, title=title, scale=scale, background=background)
    finally:
        painter.end()
    return image


def _write_vector(device, path: Path, paint: Callable[[QPainter], None]) -> None:
    """Paint onto an SVG generator or PDF writer; OSError when the file cannot be written."""
    painter = QPainter()
    if not painter.begin(device):
        raise OSError(f"cannot write figure to {path}")
    try:
        paint(painter)
    finally:
        painter.end()
    if not path.is_file():
        raise OSError(f"figure was not written to {path}")


def _export_svg(
    widget: QWidget, path: Path, size: QSize, paint: Callable[[QPainter], None], title: str
) -> None:
    generator = QSvgGenerator()
    generator.setFileName(str(path))
    generator.setSize(size)
    generator.setViewBox(QRectF(0, 0, size.width(), size.height()))
    generator.setResolution(round(SCREEN_DPI))
    generator.setTitle(title or widget.objectName() or "LlamaLens figure")
    generator.setDescription("LlamaLens figure")
    _write_vector(generator, path, paint)


def _export_pdf(path: Path, size: QSize, paint: Callable[[QPainter], None], title: str) -> None:
    writer = QPdfWriter(str(path))
    writer.setResolution(round(SCREEN_DPI))  # one painter unit = one figure pixel
    points = QSizeF(size.width() * 72 / SCREEN_DPI, size.height() * 72 / SCREEN_DPI)
    page = QPageSize(points, QPageSize.Unit.Point, "figure", QPageSize.SizeMatchPolicy.ExactMatch)
    writer.setPageLayout(QPageLayout(page, QPageLayout.Orientation.Portrait, QMarginsF()))
    writer.setTitle(title)
    writer.setCreator("LlamaLens")
    _write_vector(writer, path, paint)


def _export_vector(
    widget: QWidget, path: Path, *, title: str, width: int | None, background: str
) -> None:
    """SVG or PDF (by suffix) at ``width`` figure pixels (default the widget width)."""
    _prepare(widget)
    scale = width / max(1, widget.width()) if width else 1.0
    size = _figure_size(widget, title, scale)

    def paint(painter: QPainter) -> None:
        _paint_figure(painter, widget, size, title=title, scale=scale, background=background)

    if path.suffix.lower() == ".svg":
        _export_svg(widget, path, size, paint, title)
    else:
        _export_pdf(path, size, paint, title)


def export_figure(
    widget: QWidget,
    path: str | Path,
    *,
    title: str = "",
    width: int | None = None,
    dpi: int | None = None,
    background: str = "white",
) -> Path:
    """Save ``widget`` with a title line above it; the format follows the suffix.

    Args:
        widget: any LlamaLens widget (AttentionMap, HeadGrid, ContactSheet, ...).
        path: ``.png`` (raster), ``.svg`` or ``.pdf`` (vector; text stays text).
        title: one line above the figure, e.g. "SmolLM2 · 'The capital of' · L3 H5 · probs".
        width: PNG width in pixels (default twice the widget width, or scaled by ``dpi``);
            for SVG and PDF the figure width in pixels (default the widget width).
        dpi: PNG only: dots per inch stored in the file; scales the render when
            ``width`` is None (``widget width * dpi / 96``).
        background: colour behind the widget and the title.

    Returns:
        The path written.

    Raises:
        ValueError: for a suffix other than .png, .svg, .pdf.
        OSError: when the file cannot be written.
    """
    path = Path(path)
    suffix = _suffix(path, FIGURE_FORMATS, "figure")
    if suffix == ".png":
        image = render_image(widget, title=title, width=width, dpi=dpi, background=background)
        if not image.save(str(path), "PNG"):
            raise OSError(f"cannot write figure to {path}")
        return path
    _export_vector(widget, path, title=title, width=width, background=background)
    return path


def copy_figure_to_clipboard(widget: QWidget, *, title: str = "") -> QImage:
    """Put the figure (twice the widget's size, white background) on the clipboard.

    Returns:
        The image placed on the clipboard.
    """
    image = render_image(widget, title=title)
    QApplication.clipboard().setImage(image)
    return image


def _check_labels(labels: Sequence[str] | None, count: int, what: str) -> list[str] | None:
    if labels is None:
        return None
    if len(labels) != count:
        raise ValueError(f"got {len(labels)} {what} labels for {count} {what}s")
    return [str(label) for label in labels]


def _write_csv(
    values: np.ndarray, path: Path, rows: list[str] | None, cols: list[str] | None
) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        if cols is not None:
            writer.writerow(([""] if rows is not None else []) + cols)
        for i, row in enumerate(values.tolist()):
            cells = [repr(value) for value in row]  # repr: exact, and "-inf" for -inf
            writer.writerow(([rows[i]] if rows is not None else []) + cells)


def save_matrix(
    matrix: np.ndarray,
    path: str | Path,
    *,
    row_labels: Sequence[str] | None = None,
    col_labels: Sequence[str] | None = None,
) -> Path:
    """Save a matrix as the numbers behind a figure.

    Args:
        matrix: (R, C) numbers, e.g. one (T, T) attention map.
        path: ``.csv`` (labels as a header row and a first column, ``-inf`` written as
            "-inf", every float exactly round-trippable) or ``.npy`` (no labels; loads with
            ``allow_pickle=False``).
        row_labels: R labels for the first CSV column, or None.
        col_labels: C labels for the CSV header row, or None.

    Returns:
        The path written.

    Raises:
        ValueError: for another suffix, a matrix that is not 2-D numbers, or label
            counts that do not match its shape.
        OSError: when the file cannot be written.
    """
    path = Path(path)
    suffix = _suffix(path, MATRIX_FORMATS, "matrix")
    values = np.asarray(matrix)
    if values.ndim != 2 or values.dtype.kind not in "biuf":
        raise ValueError(
            f"matrix has shape {values.shape} and dtype {values.dtype}; "
            "expected a 2-D array of numbers"
        )
    rows = _check_labels(row_labels, values.shape[0], "row")
    cols = _check_labels(col_labels, values.shape[1], "column")
    try:
        if suffix == ".npy":
            np.save(path, values, allow_pickle=False)
            return path
        _write_csv(values, path, rows, cols)
    except OSError as exc:
        raise OSError(f"cannot write matrix to {path}: {exc.strerror or exc}") from exc
    return path
