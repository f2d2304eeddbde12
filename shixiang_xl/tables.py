"""Reading the office's own workbooks (project list, unit directory) as headed tables.

These files are made by the office, not by units, so they are read directly (python-calamine); returned
workbooks go through :mod:`shixiang_xl.intake` instead.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from xlsxwriter.utility import xl_rowcol_to_cell

from .textnorm import clean, fold


class TableError(Exception):
    """The workbook cannot be read at all."""


@dataclass(frozen=True)
class Row:
    """One data row: its 0-based index in the sheet and the cells by column key."""

    index: int
    cells: dict[str, object]
    columns: dict[str, int]
    _texts: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def cell(self, key: str) -> str:
        """A1 reference of this row's cell for ``key``."""
        return xl_rowcol_to_cell(self.index, self.columns[key])

    def text(self, key: str) -> str:
        """The cell's clean text (computed once: validation asks for the same cell several times)."""
        value = self.cells.get(key)
        if value is None or value == "":  # most optional cells are empty (calamine gives "")
            return ""
        text = self._texts.get(key)
        if text is None:
            text = self._texts[key] = cell_text(value)
        return text


def cell_text(value: object) -> str:
    """A cell value as clean text (floats that are whole numbers lose their '.0')."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return clean(value)


def read_workbook(path: Path) -> dict[str, list[list[object]]]:
    """Every sheet of an office workbook as lists of rows."""
    import python_calamine

    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
        if not head.startswith(b"PK\x03\x04"):
            raise TableError(f"{path.name} 不是 .xlsx 工作簿")
        wb = python_calamine.CalamineWorkbook.from_path(str(path))
        return {name: wb.get_sheet_by_name(name).to_python(skip_empty_area=False) for name in wb.sheet_names}
    except FileNotFoundError:
        raise TableError(f"找不到文件 {path}")
    except TableError:
        raise
    except Exception as exc:  # calamine raises several unrelated types for broken files
        raise TableError(f"{path.name} 无法读取：{exc}")


def find_columns(rows: list[list[object]], wanted: dict[str, tuple[str, ...]], scan: int = 10
                 ) -> tuple[int, dict[str, int]]:
    """Find the header row (within the first ``scan`` rows) and map each wanted key to its column.

    ``wanted`` maps a key to accepted headings (first one is the canonical heading). Returns the header row index
    and the columns found; the header row is the one matching the most headings.
    """
    best: tuple[int, dict[str, int]] = (-1, {})
    for r, row in enumerate(rows[:scan]):
        found: dict[str, int] = {}
        for c, value in enumerate(row):
            heading = fold(value)
            for key, names in wanted.items():
                if key not in found and any(fold(n) == heading for n in names):
                    found[key] = c
        if len(found) > len(best[1]):
            best = (r, found)
    return best


def iter_rows(rows: list[list[object]], header: int, columns: dict[str, int]) -> Iterator[Row]:
    """Data rows below the header, skipping rows that are entirely empty."""
    for r in range(header + 1, len(rows)):
        row = rows[r]
        cells = {k: (row[c] if c < len(row) else None) for k, c in columns.items()}
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in cells.values()):
            continue
        yield Row(r, cells, columns)
