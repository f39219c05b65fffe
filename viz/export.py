"""Figures for slides and papers: any widget as a titled PNG, SVG or PDF, and raw matrices.

A figure is a title (model, prompt excerpt, layer, head, stage: whatever the caller
passes; wrapped onto more lines, never cut) above the widget. The widget paints itself
through ``QWidget.render``, so a vector painter (SVG, PDF) receives its text as text.
A widget with a ``prepare_figure(vector, density)`` method is told first what it is
drawn for, so it can leave out what belongs to the screen (hover hints, live controls)
and draw its cells for the target: rectangles or one image pixel per cell in a vector
file (marked ``image-rendering: pixelated`` so no viewer blurs them), block maxima at
the output's resolution in a PNG.

Sizes are in figure pixels of 1/96 inch: a figure of 336 × 307 pixels is 3.5 × 3.2 in
on paper (SVG, PDF), and a PNG of it at 300 dpi is 1050 × 959 pixels.
"""

from __future__ import annotations

import csv
import math
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
from PySide6.QtWidgets import QApplication, QGraphicsView, QWidget

FIGURE_FORMATS = (".png", ".svg", ".pdf")
MATRIX_FORMATS = (".csv", ".npy")
SCREEN_DPI = 96.0
TITLE_POINTS = 11.0  # title font size when the caller gives none
INCHES_PER_METER = 1 / 0.0254
TITLE_FLAGS = int(Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap)


def _suffix(path: Path, supported: Sequence[str], what: str) -> str:
    suffix = path.suffix.lower()
    if suffix not in supported:
        raise ValueError(
            f"cannot save a {what} as {suffix or 'a file without suffix'!r} "
            f"({path.name}); supported: {', '.join(supported)}"
        )
    return suffix


def _title_font(points: float | None, scale: float) -> QFont:
    font = QFont(QApplication.font())
    font.setPixelSize(max(1, round((points or TITLE_POINTS) * SCREEN_DPI / 72 * scale)))
    font.setBold(True)
    return font


def _title_box(title: str, width: float, points: float | None, scale: float) -> QRectF:
    """Where the (wrapped) title goes in a figure ``width`` figure pixels wide (scaled)."""
    if not title:
        return QRectF(0, 0, width, 0)
    margin = 8 * scale
    metrics = QFontMetricsF(_title_font(points, scale))
    inner = metrics.boundingRect(QRectF(0, 0, width - 2 * margin, 1e6), TITLE_FLAGS, title)
    height = math.ceil(inner.height() + margin)  # whole pixels: sizes add up exactly
    return QRectF(margin, margin / 2, width - 2 * margin, height - margin / 2)


def _paint_figure(
    painter: QPainter,
    widget: QWidget,
    size: QSize,
    *,
    title: str,
    scale: float,
    colors: tuple[str, str],
    points: float | None,
) -> None:
    """Paint the background, the title and the widget (scaled) onto ``painter``."""
    background, foreground = colors
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    painter.fillRect(QRectF(0, 0, size.width(), size.height()), QColor(background))
    box = _title_box(title, size.width(), points, scale)
    if title:
        painter.setFont(_title_font(points, scale))
        painter.setPen(QColor(foreground))
        painter.drawText(box, TITLE_FLAGS, title)
    painter.save()
    painter.translate(0, size.height() - widget.height() * scale)  # the widget at the bottom
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


def fit_below_title(widget: QWidget, size: QSize, title: str, points: float | None) -> None:
    """Resize ``widget`` so that it and its title fill ``size`` figure pixels exactly."""
    title_height = _title_box(title, size.width(), points, 1.0).bottom()
    widget.resize(size.width(), max(1, round(size.height() - title_height)))


def _prepare(widget: QWidget, vector: bool = False, density: float = 1.0) -> None:
    """Lay out a widget that was never shown, and tell it what it is drawn for."""
    widget.ensurePolished()
    if not widget.isVisible() and widget.layout() is not None:
        widget.layout().activate()
    views = [widget, *widget.findChildren(QGraphicsView)]
    for view in views:
        if isinstance(view, QGraphicsView):  # a cached background is a blank bitmap in SVG
            view.setCacheMode(QGraphicsView.CacheModeFlag.CacheNone)
    QApplication.processEvents()
    prepare = getattr(widget, "prepare_figure", None)
    if prepare is not None:
        prepare(vector, density)
        QApplication.processEvents()


def _figure_size(widget: QWidget, title: str, scale: float, points: float | None) -> QSize:
    """(width, height) of the figure in output pixels: the widget and its title, scaled.

    The title's height is measured at figure scale (1), so a figure sized with
    :func:`fit_below_title` has exactly the proportions asked for at every resolution.
    """
    width = max(1, round(widget.width() * scale))
    title_height = _title_box(title, widget.width(), points, 1.0).bottom()
    return QSize(width, max(1, round((widget.height() + title_height) * scale)))


def render_image(
    widget: QWidget,
    *,
    title: str = "",
    width: int | None = None,
    dpi: int | None = None,
    background: str = "white",
    foreground: str = "#222222",
    title_points: float | None = None,
) -> QImage:
    """The figure as an ARGB32 image.

    Args:
        widget: what to draw, at its current size and state.
        title: text above the widget (wrapped to the figure's width); "" for none.
        width: image width in pixels; default ``widget width * dpi / 96`` when ``dpi``
            is given, else twice the widget width (sharp on high-density screens).
        dpi: dots per inch stored in the image (and the scale when ``width`` is None).
        background, foreground: colours behind everything and of the title.
        title_points: the title's font size at 96 dpi (default 11 pt).

    Raises:
        ValueError: for a width or dpi below 1.
    """
    base = max(1, widget.width())
    if width is None:
        width = round(base * dpi / SCREEN_DPI) if dpi else 2 * base
    if width < 1 or (dpi is not None and dpi < 1):
        raise ValueError(f"width is {width} and dpi is {dpi}; expected both >= 1")
    scale = width / base
    _prepare(widget, vector=False, density=scale)
    size = _figure_size(widget, title, scale, title_points)
    size.setWidth(width)  # exact, whatever the rounding of the scaled height
    image = QImage(size, QImage.Format.Format_ARGB32)
    image.fill(QColor(background))
    if dpi is not None:
        dots_per_meter = round(dpi * INCHES_PER_METER)
        image.setDotsPerMeterX(dots_per_meter)
        image.setDotsPerMeterY(dots_per_meter)
    painter = QPainter(image)
    try:
        _paint_figure(
            painter,
            widget,
            size,
            title=title,
            scale=scale,
            colors=(background, foreground),
            points=title_points,
        )
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
    widget: QWidget,
    path: Path,
    *,
    title: str,
    width: int | None,
    colors: tuple[str, str],
    title_points: float | None,
) -> None:
    """SVG or PDF (by suffix) at ``width`` figure pixels (default the widget width)."""
    _prepare(widget, vector=True)
    scale = width / max(1, widget.width()) if width else 1.0
    size = _figure_size(widget, title, scale, title_points)

    def paint(painter: QPainter) -> None:
        _paint_figure(
            painter, widget, size, title=title, scale=scale, colors=colors, points=title_points
        )

    if path.suffix.lower() == ".svg":
        _export_svg(widget, path, size, paint, title)
        _pixelated(path)
    else:
        _export_pdf(path, size, paint, title)


def _pixelated(path: Path) -> None:
    """Mark every image of an SVG to be scaled as square pixels, never smoothed.

    Qt writes ``image-rendering="optimizeSpeed"``, which browsers may still smooth;
    the CSS ``pixelated`` keeps one picture pixel a sharp square at any zoom.
    """
    text = path.read_text(encoding="utf-8")
    text = text.replace(
        'image-rendering="optimizeSpeed"',
        'image-rendering="optimizeSpeed" style="image-rendering:pixelated"',
    )
    text = text.replace(
        'image-rendering="optimizeQuality"',
        'image-rendering="optimizeSpeed" style="image-rendering:pixelated"',
    )
    path.write_text(text, encoding="utf-8")


def export_figure(
    widget: QWidget,
    path: str | Path,
    *,
    title: str = "",
    width: int | None = None,
    dpi: int | None = None,
    background: str = "white",
    foreground: str = "#222222",
    title_points: float | None = None,
) -> Path:
    """Save ``widget`` with its title above it; the format follows the suffix.

    Args:
        widget: any LlamaLens widget (AttentionMap, HeadGrid, ContactSheet, ...).
        path: ``.png`` (raster), ``.svg`` or ``.pdf`` (vector; text stays text).
        title: text above the figure, e.g. "SmolLM2 · 'The capital of' · L3 H5 · probs"
            (wrapped, never cut); "" for none.
        width: PNG width in pixels (default twice the widget width, or scaled by ``dpi``);
            for SVG and PDF the figure width in pixels (default the widget width).
        dpi: PNG only: dots per inch stored in the file; scales the render when
            ``width`` is None (``widget width * dpi / 96``).
        background, foreground: colours behind everything and of the title.
        title_points: the title's font size (default 11 pt).

    Returns:
        The path written.

    Raises:
        ValueError: for a suffix other than .png, .svg, .pdf.
        OSError: when the file cannot be written.
    """
    path = Path(path)
    suffix = _suffix(path, FIGURE_FORMATS, "figure")
    if suffix == ".png":
        image = render_image(
            widget,
            title=title,
            width=width,
            dpi=dpi,
            background=background,
            foreground=foreground,
            title_points=title_points,
        )
        if not image.save(str(path), "PNG"):
            raise OSError(f"cannot write figure to {path}")
        return path
    _export_vector(
        widget,
        path,
        title=title,
        width=width,
        colors=(background, foreground),
        title_points=title_points,
    )
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
