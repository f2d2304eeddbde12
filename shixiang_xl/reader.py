"""Reading a returned report workbook's structure, on plain data (sheet name → rows of cell values).

The expected layout comes from the workbook's own ``_meta`` (or, when that is missing, from the spec and project
list). Sheets are found by name, then by their headings; columns by heading text; rows by the locked identity
(project number + indicator name). Every change a unit made to the structure is reported, and reading goes on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, NamedTuple

from xlsxwriter.utility import xl_rowcol_to_cell, xl_col_to_name

from .findings import Finding, finding
from .formulas import formula_risk, shown
from .layout import HEADER_ROW, RowSlot, SheetLayout
from .spec import SheetSpec, TemplateSpec
from .textnorm import clean, fold, format_number

Rows = list[list[Any]]


class CellValue(NamedTuple):
    """A value as found in the return, with the sheet and A1 cell it was read from."""

    value: Any
    sheet: str
    cell: str


@dataclass
class ReadResult:
    """Everything read from one return: input values by (sheet kind, row key) and column key, and the fields."""

    values: dict[tuple[str, str], dict[str, CellValue]] = field(default_factory=dict)
    fields: dict[str, CellValue] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    sheet_names: dict[str, str] = field(default_factory=dict)  # kind → actual sheet name


def _is_blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _cell(rows: Rows, r: int, c: int) -> Any:
    if 0 <= r < len(rows) and 0 <= c < len(rows[r]):
        v = rows[r][c]
        return None if isinstance(v, str) and v == "" else v
    return None


def _same(expected: Any, actual: Any) -> bool:
    if expected == actual and expected.__class__ is actual.__class__:  # the usual case: untouched
        return True
    if _is_blank(expected) and _is_blank(actual):
        return True
    if isinstance(expected, (int, float)) and not isinstance(expected, bool):
        try:
            return abs(float(actual) - float(expected)) < 1e-6
        except (TypeError, ValueError):
            return False
    if isinstance(actual, float) and actual.is_integer():
        actual = int(actual)
    return fold(expected) == fold(actual)


def _show(v: Any) -> str:
    if _is_blank(v):
        return "（空白）"
    if isinstance(v, float):
        return format_number(v)
    return clean(v)[:60]


def find_header(rows: Rows, spec: SheetSpec, scan: int = 15) -> tuple[int, dict[str, int]]:
    """The header row (most headings matched) and each column key's index in it."""
    wanted = {fold(c.heading): c.key for c in spec.columns}
    best: tuple[int, dict[str, int]] = (-1, {})
    # Rows are scanned top down and the first row with the most headings wins: once the issued header row has
    # every heading, the data rows below it cannot win.
    for r in range(min(scan, len(rows))):
        if r > HEADER_ROW and len(best[1]) == len(wanted):
            break
        found: dict[str, int] = {}
        for c, v in enumerate(rows[r]):
            # Headings are short: long texts (titles, content) cannot be one.
            key = wanted.get(fold(v)) if isinstance(v, str) and 0 < len(v) <= 40 else None
            if key and key not in found:
                found[key] = c
        if len(found) > len(best[1]):
            best = (r, found)
    return best


def locate_sheet(sheets: dict[str, Rows], spec: SheetSpec, expected_name: str, taken: set[str]
                 ) -> tuple[str | None, bool]:
    """The sheet holding ``spec``: by its issued name, else the sheet whose headings match best (renamed)."""
    if expected_name in sheets and expected_name not in taken:
        return expected_name, False
    best, score = None, 0
    for name, rows in sheets.items():
        if name in taken or name == "_meta":
            continue
        _, cols = find_header(rows, spec)
        if len(cols) > score:
            best, score = name, len(cols)
    if best is not None and score >= max(3, len(spec.columns) // 2):
        return best, True
    return None, False


def read_sheet(rows: Rows, spec: SheetSpec, layout: SheetLayout, expected_locked: dict[tuple[str, str], Any],
               sheet_name: str, fname: str, unit: str, out: ReadResult, marked: dict[str, str] | None = None
               ) -> None:
    """Map one report sheet back onto its layout; add values and structure findings to ``out``.

    ``marked`` (A1 → "=formula" or "#ERROR") are this sheet's formulas and error values: one in an input cell is
    a finding, and a text column takes the formula's text, never its stored result.
    """
    marked = marked or {}

    def add(code: str, message: str, cell: str = "") -> None:
        out.findings.append(finding(code, message, file=fname, sheet=sheet_name, cell=cell, unit=unit))

    header, cols = find_header(rows, spec)
    if header < 0:
        add("sheet-missing-return", f"工作表「{sheet_name}」中找不到表头（{'、'.join(c.heading for c in spec.columns[:4])}……），"
            "无法读取。请使用下发的填报表重新填写。", "A1")
        return
    if header != HEADER_ROW:
        add("row-moved", f"表头从第 {HEADER_ROW + 1} 行移到了第 {header + 1} 行（上方插入或删除了行），已按表头重新定位。",
            xl_rowcol_to_cell(header, 0))
    moved = [c for c in spec.columns if c.key in cols and cols[c.key] != spec.index(c.key)]
    if moved:
        desc = "、".join(f"「{c.heading}」在 {xl_col_to_name(cols[c.key])} 列（原 {xl_col_to_name(spec.index(c.key))} 列）"
                        for c in moved[:5])
        add("column-moved", f"有列被插入、删除或移动：{desc}{'等' if len(moved) > 5 else ''}。已按列标题重新定位；"
            "请不要改动表格的列。", xl_rowcol_to_cell(header, cols[moved[0].key]))
    for c in spec.columns:
        if c.key not in cols:
            if c.is_input:
                add("column-missing-return", f"填报列「{c.heading}」被删除，本列内容无法读取。请使用下发的填报表重新填写。",
                    xl_rowcol_to_cell(header, spec.index(c.key)))
            elif c.role == "locked":
                add("column-moved", f"锁定列「{c.heading}」被删除，已忽略。请不要删除表格的列。", xl_rowcol_to_cell(header, spec.index(c.key)))

    # Identity of every data row: project number (filled down over merged cells) + indicator name.
    pno_col, ind_col = cols.get("project_no"), cols.get("indicator_name")
    identities: list[tuple[int, int | None, str]] = []  # (row, project number, folded indicator name)
    current: int | None = None
    for r in range(header + 1, len(rows)):
        v = _cell(rows, r, pno_col) if pno_col is not None else None
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            current = int(v)
        elif isinstance(v, str) and v.strip().isdigit():
            current = int(v.strip())
        ind = fold(_cell(rows, r, ind_col)) if ind_col is not None else ""
        if current is not None or ind:
            identities.append((r, current, ind))
    used: set[int] = set()
    found: dict[str, int] = {}
    moved_rows: list[str] = []
    offset = header - HEADER_ROW
    wanted = {slot.key: fold(expected_locked.get((slot.key, "indicator_name"), "")) if slot.indicator else ""
              for slot in layout.rows}
    claimed = {(slot.project, wanted[slot.key]) for slot in layout.rows if slot.indicator is not None}
    by_identity: dict[tuple[int | None, str], list[int]] = {}
    for r, p, ind in reversed(identities):  # each list ends with its topmost row, taken first by pop()
        by_identity.setdefault((p, ind), []).append(r)
    hits: dict[str, int] = {}
    for slot in layout.rows:  # first every row found by project and indicator name …
        if slot.indicator is None:
            continue
        rows_with = by_identity.get((slot.project, wanted[slot.key]))
        if rows_with:
            hit = rows_with.pop()
            used.add(hit)
            hits[slot.key] = hit
    for slot in layout.rows:  # … then the rest by place
        if slot.key in hits:
            continue
        if slot.indicator is None:
            hit = next((r for r, p, _ in identities if r not in used and p == slot.project), None)
        else:
            # Name edited: fall back to the issued position, if it still belongs to the project and is not the row
            # of another indicator (after a row was deleted, the next indicator sits there).
            pos = slot.row + offset
            hit = next((r for r, p, ind in identities if r == pos and r not in used and p == slot.project
                        and (p, ind) not in claimed), None)
        if hit is not None:
            used.add(hit)
            hits[slot.key] = hit
    for slot in layout.rows:
        hit = hits.get(slot.key)
        if hit is None:
            add("row-missing", f"第 {slot.project} 号项目的行「{_show(expected_locked.get((slot.key, 'indicator_name')) or slot.key)}」"
                "被删除，无法读取。请使用下发的填报表重新填写。", xl_rowcol_to_cell(slot.row, 0))
            continue
        found[slot.key] = hit
        if hit != slot.row + offset:
            moved_rows.append(f"原第 {slot.row + 1} 行现在第 {hit + 1} 行")
    extra = [r for r, p, ind in identities if r not in used and ind]
    if moved_rows or extra:
        parts = []
        if moved_rows:
            parts.append("、".join(moved_rows[:5]) + ("等" if len(moved_rows) > 5 else ""))
        if extra:
            parts.append(f"第 {'、'.join(str(r + 1) for r in extra[:5])} 行是新增的行，其内容未读取")
        first_moved = next((found[s.key] for s in layout.rows if s.key in found and found[s.key] != s.row + offset),
                           extra[0] if extra else header + 1)
        add("row-moved", "行被插入、删除或移动：" + "；".join(parts) + "。已按项目和指标重新对应；请不要增删行。",
            xl_rowcol_to_cell(first_moved, 0))

    # Locked content and inputs, at the re-mapped places.
    first_row: dict[int, int] = {}
    for slot in layout.rows:
        if slot.first and slot.key in found:
            first_row[slot.project] = found[slot.key]
    # The columns this sheet still has, with what each needs: decided once, not for every cell.
    present = [(col, cols[col.key], col.scope == "project", col.role == "locked", col.is_input,
                xl_col_to_name(cols[col.key])) for col in spec.columns if col.key in cols]
    for slot in layout.rows:
        if slot.key not in found:
            continue
        r = found[slot.key]
        project_values = row_values = None
        for col, c, project_scope, locked, is_input, letter in present:
            if project_scope:
                if not slot.first:
                    continue
                rr = first_row.get(slot.project, r)
                if project_values is None:
                    project_values = out.values.setdefault((spec.kind, f"P{slot.project:02d}"), {})
                values = project_values
            else:
                if slot.indicator is None and not locked:
                    continue  # a project's own row has no indicator inputs (only its locked cells are checked)
                rr = r
                if row_values is None:
                    row_values = out.values.setdefault((spec.kind, slot.key), {}) if slot.indicator is not None else {}
                values = row_values
            actual = _cell(rows, rr, c)
            if locked:
                expected = expected_locked.get((slot.key, col.key), _MISSING)
                if expected is not _MISSING and not _same(expected, actual):
                    add("locked-changed", f"锁定内容「{col.heading}」被修改：原为「{_show(expected)}」，现为「{_show(actual)}」。"
                        "锁定内容不能改动，请改回原值。", xl_rowcol_to_cell(rr, c))
            elif is_input:
                ref = f"{letter}{rr + 1}"
                if ref in marked:
                    actual = marked_input(marked[ref], actual, col.is_numeric, col.heading, add, ref)
                values[col.key] = CellValue(actual, sheet_name, ref)


def marked_input(mark: str, cached: Any, numeric: bool, heading: str, add: Callable[..., None], ref: str) -> Any:
    """Report a formula (``formula-in-input``) or an Excel error value (``error-value-in-input``) in an input cell,
    and give the value to read: a text column reads the formula's own text (shown as text wherever it goes), a
    number column its stored result; an error value reads as nothing."""
    if not mark.startswith("="):
        add("error-value-in-input", f"「{heading}」显示的是错误值「{mark[:20]}」（公式出错或引用失效），不是有效内容。"
            "请删除错误值，直接填写正确的数值或文字后重新报送。", ref)
        return None
    formula = mark[1:]
    risk = formula_risk(formula)
    why = {"dde": "会调用外部程序（DDE），存在安全风险",
           "external": "引用了其他工作簿或网络上的数据，本表中的数值来自该外部来源，无法核实",
           "function": "使用了填报表不需要的函数"}.get(risk, "")
    text = shown(formula)
    add("formula-in-input", f"「{heading}」填写的是公式「{text}」" + (f"，{why}" if why else "")
        + "。填报项只接受直接填写的数值或文字，请删除公式，直接填写内容后重新报送。", ref)
    return cached if numeric else text


def read_fields(rows: Rows, spec: TemplateSpec, cells: dict[str, str], sheet_name: str, out: ReadResult,
                marked: dict[str, str] | None = None, fname: str = "", unit: str = "") -> None:
    """填报人 / 联系电话 / …: found by their label (rows may have moved), else at the issued cell."""
    marked = marked or {}

    def add(code: str, message: str, cell: str = "") -> None:
        out.findings.append(finding(code, message, file=fname, sheet=sheet_name, cell=cell, unit=unit))

    labels = [(r, c, fold(v)) for r, row in enumerate(rows[:60]) for c, v in enumerate(row[:6])
              if isinstance(v, str) and 0 < len(v) <= 40]
    for f in spec.fields:
        heading = fold(f.heading)
        hit = next(((r, c + 1) for r, c, label in labels if label.startswith(heading)), None)
        if hit is None and f.key in cells:
            m = re.fullmatch(r"([A-Z]+)(\d+)", cells[f.key])
            if m:
                col = 0
                for ch in m.group(1):
                    col = col * 26 + ord(ch) - 64
                hit = (int(m.group(2)) - 1, col - 1)
        if hit is not None:
            ref, value = xl_rowcol_to_cell(*hit), _cell(rows, *hit)
            if ref in marked:
                value = marked_input(marked[ref], value, False, f.heading, add, ref)
            out.fields[f.key] = CellValue(value, sheet_name, ref)


def check_frame(sheets: dict[str, Rows], frame: list[list[Any]], names: dict[str, str], fname: str, unit: str,
                out: ReadResult) -> None:
    """Titles, headings and labels (``_meta``'s frame: [issued sheet, A1 cell, text]) are locked content too: a
    changed one (say the 填报单位 in a title, edited after protection was removed) is ``locked-changed`` at the
    cell. ``names`` maps an issued sheet name to the sheet it was found as; a text found elsewhere on its sheet
    (rows or columns were inserted before it) has moved, not changed: moving is reported with the rows."""
    texts: dict[str, set[str]] = {}
    for entry in frame:
        if not (isinstance(entry, list) and len(entry) == 3 and isinstance(entry[1], str)):
            continue
        issued, cell, text = entry
        sheet = names.get(issued, issued)
        rows = sheets.get(sheet)
        m = re.fullmatch(r"([A-Z]{1,3})([0-9]{1,7})", cell)
        if rows is None or m is None:
            continue
        c = 0
        for ch in m.group(1):
            c = c * 26 + ord(ch) - 64
        r, c = int(m.group(2)) - 1, c - 1
        actual = _cell(rows, r, c)
        if _same(text, actual):
            continue
        seen = texts.get(sheet)
        if seen is None:
            seen = texts[sheet] = {fold(v) for row in rows[:200] for v in row[:60] if isinstance(v, str) and v}
        if fold(text) in seen:
            continue
        out.findings.append(finding(
            "locked-changed", f"锁定内容被修改：原为「{_show(text)}」，现为「{_show(actual)}」。"
            "标题、表头和说明文字不能改动，请改回原值（或使用下发的填报表重新填写）。",
            file=fname, sheet=sheet, cell=cell, unit=unit))


def expected_locked_values(layout: SheetLayout, spec: SheetSpec, locked: list[list[Any]] | None,
                           computed: Callable[[], dict[tuple[str, str], Any]]) -> dict[tuple[str, str], Any]:
    """(row key, column key) → the locked value issued. From ``_meta`` when trusted, else from the project list
    (``computed()``, called only then)."""
    if not locked:
        return computed()
    by_cell: dict[str, Any] = {cell: value for sheet, cell, value in locked if sheet == layout.name}
    out: dict[tuple[str, str], Any] = {}
    letters = [xl_col_to_name(c) for c in range(len(layout.columns))]
    for slot in layout.rows:
        row = str(slot.row + 1)
        for letter, key in zip(letters, layout.columns):
            value = by_cell.get(letter + row, _MISSING)
            if value is not _MISSING:
                out[(slot.key, key)] = value
    return out


_MISSING = object()


def slot_by_key(layout: SheetLayout) -> dict[str, RowSlot]:
    return {s.key: s for s in layout.rows}
