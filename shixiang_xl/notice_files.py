"""Reading a notice file into text and tables, whatever the format: .docx (paragraphs and tables, merged cells
once), a workbook (.xlsx/.xls through python-calamine, one table per sheet), .csv (delimiter sniffed), and text in
UTF-8, GB18030 or UTF-16 with its markdown, tab-separated or HTML tables. Each table comes with the place of every
row as a clerk finds it (第 n 行, 表 2 第 n 行, Sheet1!A5). What the text and tables say is :mod:`.notice`'s work.
"""

from __future__ import annotations

import csv
import io
import re
from html.parser import HTMLParser
from pathlib import Path

class HtmlTables(HTMLParser):
    """Tables of an HTML fragment (some PDF-to-markdown converters write <table>): rows of cell texts.

    Feed it the text, then read ``tables``."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._span = 1

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
            span = dict(attrs).get("colspan") or "1"
            self._span = int(span) if span.isdigit() else 1
        elif tag == "br" and self._cell is not None:
            self._cell.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.extend(["".join(self._cell)] * max(1, self._span))
            self._cell = None
        elif tag == "tr" and self._row is not None and self.tables:
            self.tables[-1].append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def text_tables(text: str) -> list[tuple[list[list[str]], list[str]]]:
    """Tables written in text: markdown (with or without the outer pipes) and a Word or Excel table pasted as
    text (cells separated by tabs). Returns (rows of cells, the place of each row as 第 n 行 of the file)."""
    tables: list[tuple[list[list[str]], list[str]]] = []
    current: tuple[list[list[str]], list[str]] | None = None
    kind = ""
    for n, line in enumerate(text.replace("\r\n", "\n").split("\n"), start=1):
        s = line.strip(" \r")
        row_kind = "pipe" if s.startswith("|") or s.count("|") >= 2 else ("tab" if s.count("\t") >= 2 else "")
        if not row_kind or (current is not None and row_kind != kind):
            current = None
            if not row_kind:
                continue
        if row_kind == "pipe":
            cells = [c.strip() for c in s.strip("|").split("|")]
            if all(re.fullmatch(r":?-{2,}:?|", c) for c in cells):
                continue  # the |---|---| rule under the heading
        else:
            cells = [c.strip().strip('"') for c in line.split("\t")]
        if current is None:
            current, kind = ([], []), row_kind
            tables.append(current)
        current[0].append([re.sub(r"<br\s*/?>", "\n", c) for c in cells])
        current[1].append(f"第 {n} 行")
    return [t for t in tables if len(t[0]) >= 2]


def read_text_file(path: Path) -> str:
    data = path.read_bytes()
    for enc in ("utf-8-sig", "gb18030", "utf-16"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", errors="replace")


def read_docx(path: Path) -> tuple[str, list[tuple[list[list[str]], list[str]]]]:
    import docx  # heavy: only when a .docx is imported

    document = docx.Document(str(path))
    paragraphs = [p.text for p in document.paragraphs]
    tables: list[tuple[list[list[str]], list[str]]] = []
    for t, table in enumerate(document.tables, start=1):
        rows: list[list[str]] = []
        for row in table.rows:
            cells: list[str] = []
            row_cells = row.cells
            k = 0
            while k < len(row_cells):
                # A horizontally merged cell is returned once per grid column it spans: keep it once.
                cell = row_cells[k]
                cells.append("\n".join(p.text for p in cell.paragraphs))
                k += max(1, cell.grid_span)
            rows.append(cells)
        label = f"表 {t} " if len(document.tables) > 1 else "表格"
        tables.append((rows, [f"{label}第 {r} 行" for r in range(1, len(rows) + 1)]))
    return "\n".join(paragraphs), tables


def read_sheets(path: Path) -> list[tuple[list[list[str]], list[str]]]:
    import python_calamine  # heavy: only when a workbook is imported

    wb = python_calamine.CalamineWorkbook.from_path(str(path))
    out = []
    for name in wb.sheet_names:
        rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
        # The place is the row's first cell (A5), as a clerk finds it in Excel.
        out.append(([[sheet_cell(v) for v in row] for row in rows], [f"{name}!A{r}" for r in range(1, len(rows) + 1)]))
    return out


def sheet_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_csv(path: Path) -> list[tuple[list[list[str]], list[str]]]:
    text = read_text_file(path)
    sample = text[:4096]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",\t;，|")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    return [(rows, [f"第 {r} 行" for r in range(1, len(rows) + 1)])]
