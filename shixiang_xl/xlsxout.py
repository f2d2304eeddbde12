"""Writing workbooks people read: atomic saves, official fonts, print layout, row heights for wrapped Chinese.

Everything here writes with xlsxwriter, in memory, and strings with ``write_string`` so that no text that came
from a person can ever become a formula.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import io
import math
import os
import re
import tempfile
import zipfile
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterable, Iterator, Sequence

from .textnorm import display_width

FONT_BODY = "仿宋_GB2312"
FONT_HEAD = "黑体"
FONT_TITLE = "方正小标宋简体"
GB2312_CHARSET = 134  # lets Excel/WPS fall back to another Chinese font of the same charset
MAX_CELL_TEXT = 32_767
LINE_HEIGHT = 14.5  # points per wrapped line at 11 pt


def atomic_write_bytes(path: Path, data: bytes, mode: int = 0o644, *, durable: bool = True) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename.

    An interrupted run leaves either the old file or the new one, never half of one.
    """
    with atomic_output(path, mode, durable=durable) as fh:
        fh.write(data)


@contextlib.contextmanager
def atomic_output(path: Path, mode: int = 0o644, *, durable: bool = True) -> Iterator[BinaryIO]:
    """A binary file to write ``path``'s new content to: a temporary file in the same folder, renamed over ``path``
    when the block ends without an exception, else removed (the old file stays as it was)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".~" + path.stem[:40], suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, mode)
        with os.fdopen(fd, "w+b") as fh:
            yield fh
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_text(path: Path, text: str, mode: int = 0o644) -> None:
    atomic_write_bytes(path, text.encode("utf-8"), mode)


def _lock_structure(data: bytes) -> bytes:
    """The same xlsx with the workbook structure locked (no sheet added, removed, renamed or unhidden).

    xlsxwriter has no option for it: ``<workbookProtection lockStructure="1"/>`` goes into xl/workbook.xml right
    before ``<bookViews>`` (where CT_Workbook puts it); every other part is copied as it is, with its ZipInfo.
    """
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            part = src.read(info)
            if info.filename == "xl/workbook.xml":
                part = part.replace(b"<bookViews>", b'<workbookProtection lockStructure="1"/><bookViews>', 1)
            # Deflate level 1: these small parts are packed a second time here, for every report workbook.
            dst.writestr(info, part, compresslevel=1)
    return out.getvalue()


@functools.lru_cache(maxsize=None)
def _workbook_class():
    import xlsxwriter

    class Workbook(xlsxwriter.Workbook):
        """An xlsxwriter workbook that can lock its structure when it is closed (see :func:`_lock_structure`)."""

        lock_structure = False

        def close(self) -> None:
            super().close()
            if not self.lock_structure:
                return
            buffer = self.filename
            buffer.seek(0)
            data = _lock_structure(buffer.read())
            buffer.seek(0)
            buffer.truncate()
            buffer.write(data)

    return Workbook


def new_workbook(buffer: BinaryIO, *, lock_structure: bool = False, constant_memory: bool = False,
                 created: dt.datetime | None = None):
    """An xlsxwriter workbook with Chinese-friendly defaults, written to ``buffer`` (in memory, or a file)."""
    options: dict[str, Any] = {"in_memory": not constant_memory, "constant_memory": constant_memory,
                               "strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False}
    if constant_memory:
        options["tmpdir"] = tempfile.gettempdir()
    wb = _workbook_class()(buffer, options)
    wb.lock_structure = lock_structure
    props: dict[str, Any] = {"author": "实事通 shixiang-xl", "created": created or dt.datetime(2026, 1, 1)}
    wb.set_properties(props)
    return wb


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")


def safe_text(value: object) -> str:
    """Text a cell can hold: no control characters, at most 32,767 characters."""
    s = "" if value is None else str(value)
    if _CONTROL.search(s):
        s = _CONTROL.sub("", s)
    return s[:MAX_CELL_TEXT]


def lines_needed(text: str, width: float) -> int:
    """Wrapped lines a text needs in a column ``width`` characters wide (CJK counts double)."""
    # Short texts (unit and indicator names) repeat thousands of times in a ledger; long ones (progress reports)
    # are each met once, and a cache would only keep them alive.
    return _lines_needed_short(text, width) if len(text) < 128 else _lines_needed(text, width)


@functools.lru_cache(maxsize=1 << 14)
def _lines_needed_short(text: str, width: float) -> int:
    return _lines_needed(text, width)


def _lines_needed(text: str, width: float) -> int:
    if not text:
        return 1
    usable = max(1.0, width - 1)
    if len(text) * 2 <= usable and "\n" not in text:  # fits on one line whatever its characters
        return 1
    return sum(max(1, math.ceil(display_width(part) / usable)) for part in str(text).split("\n"))


def fit_heading(text: str, width: float) -> tuple[str, float]:
    """A column heading that wraps without splitting a bracketed phrase ("完成进度\n（指标）", never "完成进度（/指标）")
    or a word, and the column width it needs: wide enough for its longest line."""
    if display_width(text) + 1 <= width or "\n" in text:
        lines = text.split("\n")
    else:
        head, bracket, rest = text.partition("（") if "（" in text else text.partition("(")
        lines = [head, bracket + rest] if bracket and head else [text]
    # Short headings (比较方式, 计量单位) are one word: the column is widened rather than the word cut.
    need = max(display_width(line) for line in lines) + 1 if len(lines) > 1 or display_width(text) <= 10 else 0
    return "\n".join(lines), max(width, need)


def row_height(cells: Iterable[tuple[str, float]], *, minimum: float = 20.0, line: float = LINE_HEIGHT,
               maximum: float = 409.0) -> float:
    """Row height in points for the tallest wrapped text among (text, column width) pairs.

    Neither writer computes heights and LibreOffice does not grow rows of an xlsx, so we estimate.
    """
    lines = 1
    for text, width in cells:
        if len(text) * 2 < width and "\n" not in text:  # one line whatever its characters (the common case)
            continue
        lines = max(lines, lines_needed(text, width))
    return min(maximum, max(minimum, lines * line + 6))


def print_setup(ws, *, landscape: bool = True, a3: bool = False, repeat: tuple[int, int] | None = None,
                fit_width: bool = True, footer: bool = True, center: bool = True) -> None:
    """Official print layout: A4 (or A3), landscape, fit to page width, repeated header rows, page X of Y."""
    if landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.set_paper(8 if a3 else 9)
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.7)
    if repeat is not None:
        ws.repeat_rows(*repeat)
    if fit_width:
        ws.fit_to_pages(1, 0)
    if footer:
        ws.set_footer("&C第 &P 页 共 &N 页")
    if center:
        ws.center_horizontally()


class Formats:
    """Cached cell formats of one workbook, by name plus overrides."""

    BASE: dict[str, dict[str, Any]] = {
        "title": {"font_name": FONT_TITLE, "font_size": 18, "align": "center", "valign": "vcenter"},
        "subtitle": {"font_name": FONT_BODY, "font_size": 11, "align": "left", "valign": "vcenter"},
        "header": {"font_name": FONT_HEAD, "font_size": 11, "bold": True, "align": "center", "valign": "vcenter",
                   "text_wrap": True, "border": 1, "bg_color": "#D9E1F2"},
        "text": {"font_name": FONT_BODY, "font_size": 11, "valign": "vcenter", "text_wrap": True, "border": 1},
        "center": {"font_name": FONT_BODY, "font_size": 11, "align": "center", "valign": "vcenter",
                   "text_wrap": True, "border": 1},
        "number": {"font_name": FONT_BODY, "font_size": 11, "align": "right", "valign": "vcenter", "border": 1,
                   "num_format": "#,##0.##"},
        "percent": {"font_name": FONT_BODY, "font_size": 11, "align": "right", "valign": "vcenter", "border": 1,
                    "num_format": "0.0%"},
        "plain": {"font_name": FONT_BODY, "font_size": 11, "valign": "vcenter", "text_wrap": True},
    }

    def __init__(self, workbook) -> None:
        self._wb = workbook
        self._cache: dict[tuple, Any] = {}

    def __call__(self, name: str, **overrides: Any):
        key = (name, tuple(sorted(overrides.items())))
        fmt = self._cache.get(key)
        if fmt is None:
            props = dict(self.BASE[name])
            props.update(overrides)
            props.setdefault("font_charset", GB2312_CHARSET)
            fmt = self._wb.add_format(props)
            self._cache[key] = fmt
        return fmt


class OfficeBook:
    """A simple tabular workbook for the office (project list, directory, reports), saved atomically on exit."""

    def __init__(self, path: Path, *, constant_memory: bool = False, created: dt.datetime | None = None) -> None:
        self.path = path
        self._buffer = io.BytesIO()
        self._constant_memory = constant_memory
        self.wb = new_workbook(self._buffer, constant_memory=constant_memory, created=created)
        self.fmt = Formats(self.wb)

    def __enter__(self) -> "OfficeBook":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            return
        self.wb.close()
        atomic_write_bytes(self.path, self._buffer.getvalue())

    def sheet(self, name: str):
        ws = self.wb.add_worksheet(name)
        ws.set_default_row(20)
        return ws

    def header(self, ws, row: int, headings: Sequence[str], widths: Sequence[float]) -> None:
        fitted = [fit_heading(h, w) for h, w in zip(headings, widths)]
        for c, (h, w) in enumerate(fitted):
            ws.set_column(c, c, w)
            ws.write_string(row, c, h, self.fmt("header"))
        ws.set_row(row, row_height(fitted, minimum=24))

    def text_row(self, ws, row: int, values: Sequence[object], widths: Sequence[float] | None = None,
                 fmt_name: str = "text") -> None:
        """Write one row: numbers as numbers, everything else with ``write_string``."""
        fmt = self.fmt(fmt_name)
        number = self.fmt("number", text_wrap=True) if fmt_name == "text" else fmt
        formats = [number if isinstance(v, (int, float)) and not isinstance(v, bool) else fmt for v in values]
        height = row_height(((str(v), w) for v, w in zip(values, widths) if v is not None)) if widths else None
        write_cells(ws, row, values, formats, height)


def write_value(ws, row: int, col: int, value: object, text_format, number_format=None) -> None:
    """Numbers as numbers, None as a blank, everything else as a string (never a formula)."""
    if value is None or value == "":
        ws.write_blank(row, col, None, text_format)
    elif isinstance(value, bool):
        ws.write_string(row, col, "是" if value else "否", text_format)
    elif isinstance(value, (int, float)):
        ws.write_number(row, col, value, number_format or text_format)
    else:
        ws.write_string(row, col, safe_text(value), text_format)


def write_cells(ws, row: int, values: Sequence[Any], formats: Sequence[Any], height: float | None = None) -> None:
    """Write one row from column 0, each cell as :func:`write_value` does (text as a string, never a formula;
    None or "" as a blank, written only when it has a format), after the row's height."""
    if height is not None:
        ws.set_row(row, height)
    # The common classes first, without write_value's chain of checks: a city's 台账 has a million cells.
    write_number, write_string = ws.write_number, ws.write_string
    for col, (value, fmt) in enumerate(zip(values, formats)):
        cls = value.__class__
        if cls is float or cls is int:
            write_number(row, col, value, fmt)
        elif cls is str and value:
            write_string(row, col, safe_text(value), fmt)
        elif (value is None or value == "") and fmt is None:
            continue
        else:
            write_value(ws, row, col, value, fmt, fmt)


def write_rows(ws, first_row: int, items: Iterable[Any],
               make_row: Callable[[Any], tuple[Sequence[Any], Sequence[Any], float | None]]) -> None:
    """``write_cells(ws, first_row + k, *make_row(item))`` for every item, in order (as constant_memory needs)."""
    for k, item in enumerate(items):
        write_cells(ws, first_row + k, *make_row(item))


def save_workbook(path: Path, build: Callable[[Any, Formats], None], **options: Any) -> None:
    """Build a workbook with ``build(workbook, formats)`` in memory and save it atomically."""
    buffer = io.BytesIO()
    wb = new_workbook(buffer, **options)
    build(wb, Formats(wb))
    wb.close()
    atomic_write_bytes(path, buffer.getvalue())
