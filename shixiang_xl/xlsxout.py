"""Writing workbooks people read: atomic saves, official fonts, print layout, row heights for wrapped Chinese.

Everything here writes with xlsxwriter, in memory, and strings with ``write_string`` so that no text that came
from a person can ever become a formula.
"""

from __future__ import annotations

import bisect
import contextlib
import datetime as dt
import functools
import io
import itertools
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


_ROW_TAG = re.compile(rb'<row r="(\d+)"[^>]*>')


def _repack(data: bytes, *, lock_structure: bool, growing: dict[str, set[int]]) -> bytes:
    """The same xlsx with the workbook structure locked (no sheet added, removed, renamed or unhidden) and the
    ``growing`` rows (worksheet part → 1-based row numbers) keeping their height without ``customHeight``.

    xlsxwriter has no option for either: ``<workbookProtection lockStructure="1"/>`` goes into xl/workbook.xml right
    before ``<bookViews>`` (where CT_Workbook puts it), and a row it gives a height always says customHeight="1",
    which stops Excel/WPS (and LibreOffice, when a cell is edited there) from fitting the row to what is typed in
    it. Every other part is copied as it is, with its ZipInfo.
    """
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            part = src.read(info)
            if info.filename == "xl/workbook.xml" and lock_structure:
                part = part.replace(b"<bookViews>", b'<workbookProtection lockStructure="1"/><bookViews>', 1)
            rows = growing.get(info.filename)
            if rows:
                def free(m: re.Match, rows: set[int] = rows) -> bytes:
                    tag = m.group(0)
                    return tag.replace(b' customHeight="1"', b"", 1) if int(m.group(1)) in rows else tag
                part = _ROW_TAG.sub(free, part)
            # Deflate level 1: these small parts are packed a second time here, for every report workbook.
            dst.writestr(info, part, compresslevel=1)
    return out.getvalue()


@functools.lru_cache(maxsize=None)
def _workbook_class():
    import xlsxwriter

    class Workbook(xlsxwriter.Workbook):
        """An xlsxwriter workbook that can lock its structure, and let rows grow with what is typed in them, when
        it is closed (see :func:`_repack`)."""

        lock_structure = False

        def grow_row(self, ws, row: int) -> None:
            """Keep the height set for ``row`` (0-based) of ``ws`` but not as a custom height, so that Excel/WPS
            fit the row to its text when a cell of it is edited (wrap-text cells grow it)."""
            growing = self.__dict__.setdefault("growing_rows", {})
            growing.setdefault(ws.name, set()).add(row + 1)

        def close(self) -> None:
            super().close()
            growing = self.__dict__.get("growing_rows", {})
            if not self.lock_structure and not growing:
                return
            # xlsxwriter writes worksheet parts as sheet1.xml, sheet2.xml … in the order the sheets were added.
            parts = {f"xl/worksheets/sheet{k}.xml": growing[ws.name]
                     for k, ws in enumerate(self.worksheets(), start=1) if ws.name in growing}
            buffer = self.filename
            buffer.seek(0)
            data = _repack(buffer.read(), lock_structure=self.lock_structure, growing=parts)
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


# How much of a column a text takes, in column-width units (1 unit = the width of "0" in the workbook's default
# font, Calibri 11 pt: 7 px at 96 dpi in Excel/WPS; LibreOffice uses the same font's "0", see office.py).
# Measured and reasoned per renderer (README, "行高怎么算 / How row heights are computed"):
# - a CJK glyph is 1 em: 14.67 px at 11 pt = 2.095 units in Excel/WPS (仿宋_GB2312), 2.0 in LibreOffice
#   (Noto Serif CJK SC in a 5.5 pt unit); counted as 2.1 so that Excel, the narrower of the two, never clips;
# - Latin text is 0.5 em in 仿宋_GB2312 (1.05 units) and proportional in Noto Serif CJK (2 units an em): digits and
#   most lower case 0.56 em (1.12), m and w 0.85 em (1.7), capitals up to 1 em (1.5 on average), spaces and
#   punctuation narrower than 仿宋's half em (1.05);
# - a column ``W`` wide holds ``W`` units of text: the 5 px (0.71 unit) xlsxwriter adds to every column pays for the
#   cell's margins and grid line;
# - a wrapped line is 1.44 em high in LibreOffice (Noto CJK's ascent + descent, measured 15.8 pt at 11 pt), more
#   than Excel's line for 仿宋 (≈ 1.3 em): heights use LibreOffice's, plus 4 pt of cell margins.
CJK_UNITS = 2.1
LATIN_UNITS = 1.12
CAPITAL_UNITS = 1.5
NARROW_UNITS = 1.05
_WIDE_LATIN = frozenset("mwMW@%")
LINE_EM = 1.44
ROW_PADDING = 4.0
LINE_HEIGHT = LINE_EM * 11  # points per wrapped line at 11 pt (15.84)
# Characters that may not start a line (kinsoku): they stay with the character before them, so a line that cannot
# take them sends both to the next line.
_NO_LINE_START = frozenset("，。、；：！？）》」』】〕”’,.;:!?)]}%％·…—")
_NO_LINE_END = frozenset("（《「『【〔“‘([{")


def char_units(ch: str) -> float:
    """Width of one character in column units at 11 pt (see the table above). Every character outside ASCII counts
    as wide: Chinese, full-width punctuation and the symbols Chinese fonts draw full width (“”、×…)."""
    if ch.isascii():
        if ch in _WIDE_LATIN:
            return 1.7
        if ch.isalnum():
            return CAPITAL_UNITS if ch.isupper() else LATIN_UNITS
        return NARROW_UNITS
    return CJK_UNITS


class _Units(dict):
    """char → units, filled on first use (dict lookups keep long texts fast: a ledger measures thousands)."""

    def __missing__(self, ch: str) -> float:
        units = self[ch] = char_units(ch)
        return units


_UNITS = _Units()


def text_units(text: str) -> float:
    """Width of a one-line text in column units at 11 pt."""
    return sum(map(_UNITS.__getitem__, text))


def lines_needed(text: str, width: float, size: float = 11.0) -> int:
    """Wrapped lines a text needs in a column ``width`` units wide at ``size`` points, as a spreadsheet wraps it:
    Chinese breaks between any two characters (but not before a closing mark or after an opening one), a Latin
    word or number moves whole to the next line unless it is longer than a line, and every line break starts a
    new line."""
    # Short texts (unit and indicator names) repeat thousands of times in a ledger; long ones (progress reports)
    # are each met once, and a cache would only keep them alive.
    return _lines_needed_short(text, width, size) if len(text) < 128 else _lines_needed(text, width, size)


@functools.lru_cache(maxsize=1 << 14)
def _lines_needed_short(text: str, width: float, size: float) -> int:
    return _lines_needed(text, width, size)


def _lines_needed(text: str, width: float, size: float) -> int:
    if not text:
        return 1
    usable = max(1.0, width) * 11.0 / size
    return sum(_wrap_count(part, usable) for part in text.split("\n"))


def _can_break(text: str, k: int) -> bool:
    """Whether a line may end between text[k-1] and text[k]."""
    before, after = text[k - 1], text[k]
    if after == " " or before == " ":
        return True
    if after in _NO_LINE_START or before in _NO_LINE_END:
        return False
    return not (before.isascii() and after.isascii())  # inside a Latin word or a number


def _wrap_count(text: str, usable: float) -> int:
    """Lines of one paragraph, filled greedily: each line takes as many characters as fit (found by bisection on
    the running widths), then gives back the ones after the last place a line may end."""
    prefix = list(itertools.accumulate(map(_UNITS.__getitem__, text), initial=0.0))
    n = len(text)
    if prefix[n] <= usable:
        return 1
    lines, i = 0, 0
    while i < n:
        lines += 1
        if prefix[n] - prefix[i] <= usable:
            break
        j = max(i + 1, bisect.bisect_right(prefix, prefix[i] + usable) - 1)  # text[i:j] fits (or one wide char)
        k = j
        while k > i and not _can_break(text, k):
            k -= 1
        i = k if k > i else j  # no place to end the line (a long number or file name): cut where it is full
        while i < n and text[i] == " ":  # a space at the end of a line takes no room
            i += 1
    return lines


def fit_width(texts: Iterable[str], minimum: float, maximum: float) -> float:
    """A column width that holds the longest of ``texts`` on one line (by :func:`text_units`), kept between
    ``minimum`` and ``maximum``: names sized to the column never sit on the edge where Excel wraps them and
    LibreOffice does not (a row sized for two lines around one)."""
    need = max((text_units(t) for t in texts if t), default=0.0)
    return min(maximum, max(minimum, math.ceil(need * 2) / 2))


def fit_heading(text: str, width: float) -> tuple[str, float]:
    """A column heading that wraps without splitting a bracketed phrase ("完成进度\n（指标）", never "完成进度（/指标）")
    or a word, and the column width it needs: wide enough for its longest line."""
    if display_width(text) + 1 <= width or "\n" in text:
        lines = text.split("\n")
    else:
        head, bracket, rest = text.partition("（") if "（" in text else text.partition("(")
        lines = [head, bracket + rest] if bracket and head else [text]
    # Short headings (比较方式, 计量单位) are one word: the column is widened rather than the word cut.
    need = max(max(display_width(line) + 1, math.ceil(text_units(line) * HEADING_FACTOR)) for line in lines) \
        if len(lines) > 1 or display_width(text) <= 10 else 0
    return "\n".join(lines), max(width, need)


# Headings are bold 黑体: Excel draws a synthetic bold one pixel wider per glyph (15.7 px: 2.24 units for 2.1).
HEADING_FACTOR = 15.67 / 14.67


def row_height(cells: Iterable[tuple[str, float]], *, minimum: float = 20.0, line: float | None = None,
               size: float = 11.0, maximum: float = 409.0) -> float:
    """Row height in points for the tallest wrapped text among (text, column width) pairs, at ``size`` points.

    Neither writer computes heights and LibreOffice does not grow rows of an xlsx, so we estimate: the lines each
    text wraps to (:func:`lines_needed`) times the line height (``line``, default 1.44 × ``size``), plus the cell's
    margins, and never below ``minimum`` (the height of a one-line row) or above Excel's 409 pt.
    """
    lines = 1
    for text, width in cells:
        if not text:
            continue
        # One line whatever its characters (the common case): no need to look closer.
        if len(text) * CJK_UNITS * size <= width * 11.0 and "\n" not in text:
            continue
        lines = max(lines, lines_needed(text, width, size))
    pitch = line if line is not None else LINE_EM * size
    return min(maximum, max(minimum, lines * pitch + ROW_PADDING))


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
