"""退回修改 / 修改提示: an annotated copy of a unit's own workbook, problem cells highlighted and commented, with a
short sheet in front — ready to e-mail back. A return with errors is sent back (退回修改意见: fix and report again);
one accepted with warnings only gets 修改提示 (accepted; please check these places).

openpyxl is slow and only needed here, so this runs only for returns that have findings, in an isolated worker,
and only on a file that passes intake's deep byte-level inspection.
"""

from __future__ import annotations

import copy
import io
import warnings
from dataclasses import dataclass
from pathlib import Path

from .findings import Finding
from .formulas import formula_risk
from .intake_bytes import explain
from .xlsxout import FONT_BODY, FONT_HEAD, atomic_write_bytes, row_height, safe_text

SHEET = "退回修改意见"
HINT_SHEET = "修改提示"
HIGHLIGHT = {"错误": "FFC7CE", "警告": "FFEB9C", "提示": "DDEBF7"}


@dataclass(frozen=True)
class FeedbackJob:
    archive_path: str
    kind: str  # xlsx | xlsm | xls | ods
    unit: str
    original_name: str
    period_label: str
    office: str
    findings: tuple[Finding, ...]
    out_path: str


    @property
    def returned(self) -> bool:
        """Errors send the return back; warnings alone do not."""
        return any(f.is_error for f in self.findings)


def _summary_rows(job: FeedbackJob) -> list[list[str]]:
    return [[f.severity.value, f.sheet, f.cell, f.title, f.message, f.code] for f in job.findings]


def _grow_rows(ws, first: int = 1) -> None:
    """Rows as tall as the text a unit wrote in them (wrapped at its cell's width), never shorter than issued: a
    long 进展情况 is then printed whole, not clipped top and bottom. A text merged over several rows shares its
    height among them."""
    from openpyxl.utils import get_column_letter

    widths = {letter: dim.width for letter, dim in ws.column_dimensions.items() if dim.width}

    def width(col: int) -> float:
        return widths.get(get_column_letter(col), 9.0)

    spans = {(m.min_row, m.min_col): m for m in ws.merged_cells.ranges}
    need: dict[int, float] = {}
    for row in ws.iter_rows(min_row=first):
        for cell in row:
            if not (isinstance(cell.value, str) and cell.data_type == "s") or type(cell).__name__ == "MergedCell":
                continue
            merged = spans.get((cell.row, cell.column))
            rows = range(cell.row, (merged.max_row if merged else cell.row) + 1)
            cols = range(cell.column, (merged.max_col if merged else cell.column) + 1)
            share = row_height([(cell.value, sum(width(c) for c in cols))], minimum=15) / len(rows)
            for r in rows:
                need[r] = max(need.get(r, 0.0), share)
    for r, height in need.items():
        current = ws.row_dimensions[r].height
        if height > (current or 15.0):
            ws.row_dimensions[r].height = round(height, 1)
            for cell in ws[r]:
                if isinstance(cell.value, str) and type(cell).__name__ != "MergedCell":
                    alignment = copy.copy(cell.alignment)
                    alignment.wrap_text = True
                    cell.alignment = alignment


def _inert(formula: object) -> bool:
    return isinstance(formula, str) and formula_risk(formula) == ""


def disarm(wb) -> int:  # an openpyxl Workbook
    """Make every formula the unit could have put in its workbook inert text, before we write a copy of it.

    Kept live: only a formula in a locked cell (the report workbook's own checks) made of plain functions on this
    workbook. Any formula in a cell a unit can type into, and any formula calling another program (DDE), another
    workbook, the web or an unusual function, becomes its own text, shown as text. Defined names, conditional
    formats and validations that reach outside the workbook are dropped. Returns how many cells were changed.
    """
    from openpyxl.formatting.formatting import ConditionalFormattingList

    changed = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type != "f":
                    continue
                value = cell.value
                text = value if isinstance(value, str) else str(getattr(value, "text", "") or "")
                if cell.protection.locked and _inert(text):
                    continue
                cell.value = text if text.startswith("=") else "=" + text
                cell.data_type = "s"  # the formula's text, never a formula
                changed += 1
        for name in list(ws.defined_names):
            if not _inert(ws.defined_names[name].attr_text or ""):
                del ws.defined_names[name]
        formats = list(ws.conditional_formatting)
        if any(not _inert(f) for cf in formats for rule in cf.rules for f in (rule.formula or [])):
            ws.conditional_formatting = ConditionalFormattingList()
            for cf in formats:
                for rule in cf.rules:
                    if all(_inert(f) for f in (rule.formula or [])):
                        ws.conditional_formatting.add(str(cf.sqref), rule)
        ws.data_validations.dataValidation = [
            dv for dv in ws.data_validations.dataValidation
            if all(_inert(f) for f in (dv.formula1, dv.formula2) if f is not None)]
    for name in list(wb.defined_names):
        if not _inert(wb.defined_names[name].attr_text or ""):
            del wb.defined_names[name]
    return changed


def write_feedback(job: FeedbackJob) -> str:
    """Write the annotated copy (xlsx/xlsm), or a findings-only workbook for formats openpyxl cannot edit."""
    from openpyxl import Workbook, load_workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill

    sheet_name = SHEET if job.returned else HINT_SHEET
    data = Path(job.archive_path).read_bytes() if job.kind in ("xlsx", "xlsm") else b""
    # Intake's hot path left the deep byte inspection to python-calamine's worker; openpyxl gets it first.
    if data and not explain(data, job.original_name)[1]:
        # From bytes: openpyxl refuses a path whose extension is not .xlsx/.xlsm, and a return sent as "x.xls"
        # that is really an xlsx is archived under .xls. Its warnings about features it drops (extension lists,
        # unknown parts of someone else's file) are not ours to show.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = load_workbook(io.BytesIO(data), keep_vba=False, rich_text=False, keep_links=False)
        disarm(wb)
    else:
        wb = Workbook()
        wb.active.title = "说明"
        why = f"格式为 {job.kind}" if not data else "内部结构异常"
        wb.active["A1"] = f"原文件「{job.original_name}」{why}，无法直接标注，问题清单见「{sheet_name}」。"
    for f in job.findings:
        if not f.sheet or not f.cell or f.sheet not in wb.sheetnames:
            continue
        ws = wb[f.sheet]
        try:
            cell = ws[f.cell]
        except (ValueError, KeyError, IndexError):
            continue
        if type(cell).__name__ == "MergedCell":
            continue
        color = HIGHLIGHT.get(f.severity.value, "FFEB9C")
        cell.fill = PatternFill("solid", start_color=color, end_color=color)
        text = f"【{f.severity.value}】{f.message}"
        if cell.comment is not None:
            text = cell.comment.text + "\n" + text
        comment = Comment(safe_text(text)[:2000], job.office or "督查室")
        comment.width, comment.height = 320, 160
        cell.comment = comment
    for sheet in wb.worksheets:
        _grow_rows(sheet, 4)
    ws = wb.create_sheet(sheet_name, 0)
    ws.sheet_properties.tabColor = "C00000" if job.returned else "FFC000"
    head = Font(name=FONT_HEAD, size=12, bold=True)
    body = Font(name=FONT_BODY, size=11)
    wrap = Alignment(wrap_text=True, vertical="center")
    if job.returned:
        ws["A1"] = f"{job.unit} {job.period_label} 填报表退回修改意见"
        intro = (f"您单位报送的「{job.original_name}」经校验有需要改正的错误，暂未采用（问题已在原表中用颜色标出并加批注）。"
                 "请在本文件中逐项修改后重新报送：“错误”必须改正，“警告”请一并核实。")
    else:
        ws["A1"] = f"{job.unit} {job.period_label} 填报表修改提示（已采用）"
        intro = (f"您单位报送的「{job.original_name}」已通过校验并采用。以下几处请核实（已在原表中用颜色标出并加批注）："
                 "确有差错的，请修改后重新报送；无误的，下期填报时请注意，不必回复。")
    ws["A1"].font = Font(name=FONT_HEAD, size=16, bold=True)
    ws["A2"] = intro
    ws["A2"].alignment = wrap
    ws["A2"].font = body
    ws.merge_cells("A2:E2")
    ws.row_dimensions[2].height = row_height([(intro, 8 + 14 + 10 + 20 + 70)], minimum=36)
    widths = (8, 14, 10, 20, 70, 22)
    for c, (h, w) in enumerate(zip(("级别", "工作表", "单元格", "问题", "问题和修改要求", "代码"), widths), start=1):
        cell = ws.cell(row=4, column=c, value=h)
        cell.font = head
        ws.column_dimensions[cell.column_letter].width = w
    ws.column_dimensions["F"].hidden = True  # the code is for the office's tools, not for the unit
    for r, row in enumerate(_summary_rows(job), start=5):
        for c, v in enumerate(row, start=1):
            cell = ws.cell(row=r, column=c)
            cell.value = safe_text(v)
            cell.data_type = "s"  # never a formula, whatever the text
            cell.font = body
            cell.alignment = wrap
        ws.row_dimensions[r].height = row_height(zip(row[:5], widths[:5]), minimum=20)
    ws.merge_cells("A1:E1")
    ws.row_dimensions[1].height = 30
    # Print-ready like everything else the office sends: A4 landscape, fit to width, header row repeated.
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "4:4"
    ws.oddFooter.center.text = "第 &P 页 共 &N 页"
    wb.active = 0
    for sheet in wb.worksheets:
        sheet.sheet_view.tabSelected = sheet.title == sheet_name
    buffer = io.BytesIO()
    wb.save(buffer)
    wb.close()
    atomic_write_bytes(Path(job.out_path), buffer.getvalue())
    return job.out_path
