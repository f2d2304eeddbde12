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
import shutil
import tempfile
import zipfile
from array import array
from collections.abc import MutableMapping
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


# Functions every Excel since 2007 (and WPS, LibreOffice) knows: formulas made only of these need none of the
# _xlfn. rewriting xlsxwriter otherwise tries on every formula (about 30 regular expressions each).
_CLASSIC_FUNCTIONS = frozenset((
    "ABS AND AVERAGE COUNT COUNTA COUNTBLANK COUNTIF COUNTIFS IF IFERROR INDEX ISBLANK ISNA ISNUMBER ISTEXT LEN "
    "MATCH MAX MIN N NOT OR ROUND SUM SUMIF SUMIFS SUMPRODUCT TEXT TRIM VALUE").split())
_FUNCTION = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*)\(")


# Text that xlsxwriter would change on its way into an inline string: XML specials, control characters, the
# _xHHHH_ escape itself and the two non-characters. Anything else is written as it is.
_NEEDS_ESCAPE = re.compile("[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_")


class RowSizes(MutableMapping[int, list]):
    """A worksheet's ``row_sizes`` (row → [height in pixels, hidden]: what xlsxwriter positions drawings by), with
    the plain heights in an array: as a dict of lists, a city's 台账 held ~11 MB of them in each process writing
    it. Reads give what xlsxwriter stored."""

    __slots__ = ("_heights", "_other")
    _NONE = -1
    _GAP = 1 << 16  # a row this far past the last one goes to the dict (no array of a million rows for it)

    def __init__(self) -> None:
        self._heights = array("i")  # by row; _NONE: no entry
        self._other: dict[int, list] = {}  # hidden rows, and heights an int cannot hold

    def set_height(self, row: int, pixels: int) -> None:
        """``self[row] = [pixels, False]``, without the list."""
        heights = self._heights
        if row < len(heights):
            heights[row] = pixels
        elif row < len(heights) + self._GAP:
            heights.extend([self._NONE] * (row - len(heights)))
            heights.append(pixels)
        else:
            self._other[row] = [pixels, False]
            return
        self._other.pop(row, None)

    def __setitem__(self, row: int, value: list) -> None:
        height, hidden = value
        if not hidden and height.__class__ is int and 0 <= height < 1 << 31 and row >= 0:
            self.set_height(row, height)
        else:
            self._discard(row)
            self._other[row] = value

    def _discard(self, row: int) -> None:
        if 0 <= row < len(self._heights):
            self._heights[row] = self._NONE

    def _height(self, row: object) -> int | None:
        """The row's height in the array, if it has one there."""
        if row.__class__ is int and 0 <= row < len(self._heights):  # type: ignore[operator]
            height = self._heights[row]  # type: ignore[index]
            return None if height == self._NONE else height
        return None

    def __getitem__(self, row: int) -> list:
        if row in self._other:
            return self._other[row]
        height = self._height(row)
        if height is None:
            raise KeyError(row)
        return [height, False]

    def __delitem__(self, row: int) -> None:
        if row not in self:
            raise KeyError(row)
        self._other.pop(row, None)
        self._discard(row)

    def __contains__(self, row: object) -> bool:
        return row in self._other or self._height(row) is not None

    def __iter__(self) -> Iterator[int]:
        rows = [r for r, h in enumerate(self._heights) if h != self._NONE]
        return iter(sorted(rows + list(self._other)))

    def __len__(self) -> int:
        return len(self._heights) - self._heights.count(self._NONE) + len(self._other)


@functools.lru_cache(maxsize=None)
def _worksheet_class():
    from xlsxwriter.utility import _preserve_whitespace, xl_col_to_name
    from xlsxwriter.worksheet import Worksheet

    from .sandbox import Background, can_fork

    columns = [xl_col_to_name(c) for c in range(16_384)]

    class ClassicFormulaWorksheet(Worksheet):
        """xlsxwriter's worksheet with two shortcuts for large sheets, both producing the very same XML:

        - formulas made only of classic functions skip the _xlfn. rewriting (about 30 regular expressions each);
        - in constant_memory mode ``write_cells`` serialises a row of plain numbers, strings and blanks in one
          pass, where xlsxwriter spends ~6 µs per cell.
        """

        def _escape_attributes(self, attribute):  # type: ignore[override]
            # Most attributes are numbers (rows, columns, style indexes), which xlsxwriter lets through only after
            # a regular-expression search fails with TypeError (~2 µs each, hundreds of times per workbook), or
            # cell references, letters and digits that cannot hold what the search looks for (& " < > newline).
            if attribute.__class__ is not str or attribute.isalnum():
                return attribute
            return super()._escape_attributes(attribute)

        def _initialize(self, init_data) -> None:  # type: ignore[override]
            super()._initialize(init_data)
            self.row_sizes = RowSizes()
            if self.constant_memory:
                # Rows go to the temporary file write-only: a readable text file resets its decoder on every
                # write (two Python calls per row). It is opened for reading once, when the sheet is assembled.
                self.row_data_fh.close()
                self.row_data_fh = self.fh = open(self.row_data_filename, "w", encoding="utf-8")  # noqa: SIM115

        def _opt_reopen(self) -> None:  # type: ignore[override]
            if self.row_data_fh_closed:
                self.row_data_fh = self.fh = open(self.row_data_filename, "a", encoding="utf-8")  # noqa: SIM115
                self.row_data_fh_closed = False

        def _write_optimized_sheet_data(self) -> None:  # type: ignore[override]
            if self.dim_rowmin is not None:
                self.row_data_fh.close()
                self.row_data_fh = open(self.row_data_filename, encoding="utf-8")  # noqa: SIM115
            super()._write_optimized_sheet_data()

        def _prepare_formula(self, formula, expand_future_functions=False):  # type: ignore[override]
            if not formula.startswith("{") and set(_FUNCTION.findall(formula)) <= _CLASSIC_FUNCTIONS:
                return formula[1:] if formula.startswith("=") else formula
            return super()._prepare_formula(formula, expand_future_functions)

        def write_cells(self, row: int, values: Sequence[Any], formats: Sequence[Any],
                        height: float | None = None) -> None:
            """Write one row from column 0, each cell as :func:`write_value` would: text as a string (never a
            formula), int/float as a number, None or "" as a formatted blank; then the row's height.

            In constant_memory mode a row of plain text and finite numbers is serialised right away, in one pass,
            to the same XML xlsxwriter writes for it cell by cell (except that text looking like rich-text XML is
            escaped, never written raw).
            """
            if not self.constant_memory or row < self.previous_row or self.table.get(row) or row in self.comments:
                if height is not None:
                    self.set_row(row, height)
                self._write_cells_one_by_one(row, values, formats)
                return
            pixels = None
            if height is not None:
                # What set_row does, without the row record xlsxwriter keeps for every row (this row is written
                # right here, and never looked up again); anything unusual goes through set_row itself.
                pixels = int(height * 4.0 / 3.0 + 0.5)
                if pixels > 0 and not self._check_dimensions(row, self.dim_colmin or 0):
                    self.row_sizes.set_height(row, pixels)
                    self.row_info.pop(row, None)
                else:
                    self.set_row(row, height)
                    pixels = None
            if row > self.previous_row:  # first the buffered row, so formats get their indexes in cell order
                self._write_single_row(row)
            number = str(row + 1)
            row_styles = self._row_styles(formats)
            parts = []
            first = last = -1
            for col, value, style in zip(range(len(row_styles)), values, row_styles):
                kind = value.__class__
                if kind is str and value:
                    if len(value) >= 16_000:
                        self._one_by_one_after_all(row, values, formats, height, pixels)  # xlsxwriter truncates
                        return
                    if _NEEDS_ESCAPE.search(value):  # as xlsxwriter does it (control characters dropped first)
                        text = self._escape_control_characters(safe_text(value))
                        preserve = _preserve_whitespace(text)
                        text = self._escape_data(text)
                    else:
                        text = value
                        preserve = (text[0].isspace() or text[-1].isspace()) and _preserve_whitespace(text)
                    body = f' t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>' if preserve else \
                        f' t="inlineStr"><is><t>{text}</t></is></c>'
                elif kind is float and value - value == 0.0 or kind is int:  # finite numbers
                    body = f"><v>{value:.16G}</v></c>"
                elif value is None or kind is str:  # a blank: written only when formatted
                    if style is None:
                        continue
                    body = "/>"
                else:  # NaN, bool, dates: xlsxwriter's own handling
                    self._one_by_one_after_all(row, values, formats, height, pixels)
                    return
                if style is None:
                    style = self._fallback_style(row, col)
                parts.append(f'<c r="{columns[col]}{number}"{style}{body}')
                if first < 0:
                    first = col
                last = col
            if first < 0:
                if pixels is not None:  # an empty row with a height: xlsxwriter writes it when the next one comes
                    self.set_row(row, height)
                return
            if self._check_dimensions(row, first) or self._check_dimensions(row, last):
                raise ValueError(f"row {row} is outside the worksheet")
            if pixels is None:
                self._write_row(row, None, self.row_info.get(row))
            else:  # the <row> _write_row writes for a set_row height (no format, not hidden, no outline)
                custom = pixels != self.original_row_height or pixels != self.default_row_height
                parts.insert(0, f'<row r="{number}"' + (f' ht="{pixels * 0.75:.16g}" customHeight="1"' if custom
                                                         else "") +
                             (' x14ac:dyDescent="0.25">' if self.excel_version == 2010 else ">"))
            parts.append("</row>")
            self.fh.write("".join(parts))
            self.previous_row = row + 1  # this row is written; xlsxwriter buffers the next one

        def write_rows(self, first_row: int, items: Sequence[Any],
                       make_row: Callable[[Any], tuple[Sequence[Any], Sequence[Any], float | None]],
                       styles: Iterable[Sequence[Any]] = (), *, split: int | None = None) -> None:
            """``write_cells(first_row + k, *make_row(item))`` for every item, on both cores when it pays.

            ``styles`` lists every list of formats the rows may use: their style indexes are fixed first, in that
            order, so that the workbook does not depend on how the rows were written. In constant_memory mode a
            long run of rows (or any, given ``split``) is shared with a forked process: it writes the rows from
            ``split`` (default: half way) to a file of its own, which is then appended here, byte for byte what
            writing every row here gives. Should the other process fail or meet a format without an index, its
            rows are written here instead.
            """
            for formats in styles:
                self._row_styles(formats)
            n = len(items)
            if split is None:
                split = n // 2 if n >= PARALLEL_ROWS and can_fork() else n
            if not self.constant_memory or not 0 < split < n or first_row < self.previous_row:
                for k, item in enumerate(items):
                    self.write_cells(first_row + k, *make_row(item))
                return
            if first_row > self.previous_row:  # what write_cells does first: out with the buffered row
                self._write_single_row(first_row)
            done = self._write_rows_forked(first_row, items, make_row, split)
            for k in range(done, n):
                self.write_cells(first_row + k, *make_row(items[k]))

        def _write_rows_forked(self, first_row: int, items: Sequence[Any], make_row: Callable, split: int) -> int:
            """Rows up to ``split`` here, the rest in a forked copy; returns how many rows are written."""
            middle, end = first_row + split, first_row + len(items)
            fd, child_path = tempfile.mkstemp(dir=self.tmpdir, suffix=".rows")
            os.close(fd)
            try:
                self.fh.flush()  # else the copy's share of our buffer would reach our file a second time
                job = Background(self._rows_to_file, child_path, first_row, items, make_row, split)
                try:
                    for k in range(split):
                        self.write_cells(first_row + k, *make_row(items[k]))
                    if self.previous_row < middle:
                        self._write_single_row(middle)
                finally:
                    ok, dims, rows, sizes = job.result(otherwise=lambda: (False, None, {}, {}))
                if not ok:
                    return split
                self.fh.flush()  # then bytes straight after ours (both files are UTF-8): no decoding, no encoding
                with open(child_path, "rb") as fh:
                    shutil.copyfileobj(fh, self.fh.buffer, 1 << 20)
                self.fh.buffer.flush()
            finally:
                os.unlink(child_path)
            from xlsxwriter.worksheet import RowInfo

            for r, (height, hidden) in rows.items():
                self.row_info[r] = RowInfo(height=height, row_format=None, hidden=hidden, level=0, collapsed=False)
            self.row_sizes.update(sizes)
            rowmin, rowmax, colmin, colmax = dims  # the copy's, which began as ours: combine both
            self.dim_rowmin, self.dim_colmin = _least(self.dim_rowmin, rowmin), _least(self.dim_colmin, colmin)
            self.dim_rowmax, self.dim_colmax = _most(self.dim_rowmax, rowmax), _most(self.dim_colmax, colmax)
            self.previous_row = end
            return len(items)

        def _rows_to_file(self, path: str, first_row: int, items: Sequence[Any], make_row: Callable,
                          split: int) -> tuple[bool, tuple, dict, dict]:
            """In the forked copy: the rows from ``split`` on, to ``path``; then what the parent must know (ok:
            no format met without an index, no row record the parent could not rebuild)."""
            xf_indices = _xf_indices(self)
            known = len(xf_indices)
            # Held, never closed or collected here: it is the parent's file (the copy ends with os._exit).
            self._parent_row_file = self.fh
            end = first_row + len(items)
            with open(path, "w", encoding="utf-8") as fh:
                self.row_data_fh = self.fh = fh
                self.previous_row, self.row_info, self.row_sizes = first_row + split, {}, RowSizes()
                for k in range(split, len(items)):
                    self.write_cells(first_row + k, *make_row(items[k]))
                if self.previous_row < end:  # a row xlsxwriter still holds
                    self._write_single_row(end)
            rows = {r: (i.height, i.hidden) for r, i in self.row_info.items() if i.row_format is None
                    and not i.level and not i.collapsed}
            ok = len(xf_indices) == known and len(rows) == len(self.row_info)
            return ok, (self.dim_rowmin, self.dim_rowmax, self.dim_colmin, self.dim_colmax), rows, self.row_sizes

        def _row_styles(self, formats: Sequence[Any]) -> list[str | None]:
            """The s="…" attribute of each format (None for none), in cell order, remembered for the same list."""
            cache = self.__dict__.setdefault("_row_styles_cache", {})
            hit = cache.get(id(formats))
            if hit is not None and hit[0] is formats:
                return hit[1]
            styles = [None if fmt is None else f' s="{fmt._get_xf_index()}"' for fmt in formats]
            if len(cache) > 64:
                cache.clear()
            cache[id(formats)] = (formats, styles)  # holding the list keeps its id() from being reused
            return styles

        def _fallback_style(self, row: int, col: int) -> str:
            """The s="…" attribute xlsxwriter gives a cell without a format: the row's, else the column's."""
            info = self.row_info.get(row)
            fallback = info.row_format if info is not None else None
            if not fallback and col in self.col_info:
                fallback = self.col_info[col].column_format
            return f' s="{fallback._get_xf_index()}"' if fallback else ""

        def _one_by_one_after_all(self, row: int, values: Sequence[Any], formats: Sequence[Any],
                                  height: float | None, pixels: int | None) -> None:
            if pixels is not None:  # xlsxwriter writes this row later, from its row record: make that record
                self.set_row(row, height)
            self._write_cells_one_by_one(row, values, formats)

        def _write_cells_one_by_one(self, row: int, values: Sequence[Any], formats: Sequence[Any]) -> None:
            for col, (value, fmt) in enumerate(zip(values, formats)):
                if (value is None or value == "") and fmt is None:
                    continue
                write_value(self, row, col, value, fmt, fmt)

    def _xf_indices(ws: Worksheet) -> dict:
        """The workbook's table of style indexes (shared by every format; reached through the sheet's factory)."""
        return ws.workbook_add_format.__self__.xf_format_indices

    return ClassicFormulaWorksheet


PARALLEL_ROWS = 10_000  # below this a second process costs more than it saves (measured)


def _least(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)


def _most(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


class _FastZipFile(zipfile.ZipFile):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("compresslevel", 1)
        super().__init__(*args, **kwargs)

    def writestr(self, zinfo_or_arcname: Any, data: Any, compress_type: int | None = None,
                 compresslevel: int | None = None) -> None:
        # In-memory workbooks arrive as ZipInfo objects, which would otherwise keep zlib's default level.
        super().writestr(zinfo_or_arcname, data, compress_type,
                         self.compresslevel if compresslevel is None else compresslevel)


@functools.lru_cache(maxsize=None)
def _workbook_class(lock_structure: bool):
    import xlsxwriter

    class Workbook(xlsxwriter.Workbook):
        worksheet_class = _worksheet_class()

        def _store_workbook(self) -> None:  # type: ignore[override]
            # Deflate at level 1: a city-wide ledger's 30 MB of sheet XML packs in a third of the time of the
            # default level 6, for files about a third larger. xlsxwriter names ZipFile at call time.
            import xlsxwriter.workbook as module

            default = module.ZipFile
            module.ZipFile = _FastZipFile
            try:
                super()._store_workbook()
            finally:
                module.ZipFile = default

    if not lock_structure:
        return Workbook

    class StructureLockedWorkbook(Workbook):
        """xlsxwriter has no workbook-structure protection; CT_Workbook puts it right before <bookViews>."""

        def _write_book_views(self) -> None:  # type: ignore[override]
            self._xml_empty_tag("workbookProtection", [("lockStructure", 1)])
            super()._write_book_views()

    return StructureLockedWorkbook


def new_workbook(buffer: BinaryIO, *, lock_structure: bool = False, constant_memory: bool = False,
                 created: dt.datetime | None = None):
    """An xlsxwriter workbook with Chinese-friendly defaults, written to ``buffer`` (in memory, or a file)."""
    cls = _workbook_class(lock_structure)
    options: dict[str, Any] = {"in_memory": not constant_memory, "constant_memory": constant_memory,
                               "strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False}
    if constant_memory:
        options["tmpdir"] = tempfile.gettempdir()
    wb = cls(buffer, options)
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
        ws.write_cells(row, values, formats, height)


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


def save_workbook(path: Path, build: Callable[[Any, Formats], None], **options: Any) -> None:
    """Build a workbook with ``build(workbook, formats)`` in memory and save it atomically."""
    buffer = io.BytesIO()
    wb = new_workbook(buffer, **options)
    build(wb, Formats(wb))
    wb.close()
    atomic_write_bytes(path, buffer.getvalue())
