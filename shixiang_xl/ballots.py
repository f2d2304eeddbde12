"""满意度测评 (survey), the ballots: numbered paper ballots and the clerks' entry workbook.

The survey is the deputies' year-end rating of each project, in three modules that follow the office's flow:

1. here, :func:`make_ballots` (``shixiang survey ballots``) prints numbered paper ballots (one A4 page each;
   anonymous, the number only controls how many were issued) and an entry workbook (录入表) with one row per ballot
   number and a dropdown per project;
2. clerks enter the returned ballots, usually twice, by two people, each in their own copy of the entry workbook;
   :mod:`shixiang_xl.entries` reads a copy that came back (a bad file is a finding);
3. :mod:`shixiang_xl.tally` (``shixiang survey tally``) compares the copies, counts and writes the result.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Mapping, Sequence

from . import office
from .errors import ShixiangError
from .findings import has_errors
from .meta import write_meta
from .xlsxout import (FONT_HEAD, Formats, atomic_write_bytes, new_workbook, print_setup, row_height,
                      safe_text, save_workbook, write_value)

if TYPE_CHECKING:
    from .workspace import Context

KIND_ENTRY = "survey-entry"
ENTRY_VERSION = 1
CHOICES = ("满意", "基本满意", "不满意")
BLANK_WORD = "空白"
DROPDOWN = (*CHOICES, BLANK_WORD)
DEFAULT_COUNT = 100
MAX_COUNT = 5000
BALLOTS_PER_SHEET = 500  # Excel allows 1,023 manual page breaks per sheet
ENTRY_SHEET = "录入"
BALLOT_ID_HEADING = "票号"


def ballot_label(number: int, width: int = 3) -> str:
    """The number printed on a ballot: 007 (read back also as "No.007" or "第7号")."""
    return f"{number:0{width}d}"


def _label_width(last: int) -> int:
    return max(3, len(str(last)))


@dataclass(frozen=True)
class SurveyItem:
    """One project as it appears on the ballot."""

    key: str
    number: int
    name: str
    lead: str = ""

    @property
    def title(self) -> str:
        return f"{self.number}. {self.name}"


@dataclass(frozen=True)
class BallotResult:
    """What :func:`make_ballots` wrote."""

    ballots: Path
    entry: Path
    pdf: Path | None
    first: int
    last: int

    @property
    def count(self) -> int:
        return self.last - self.first + 1


def survey_items(ctx: "Context") -> tuple[SurveyItem, ...]:
    """The projects of the workspace as ballot items."""
    return tuple(SurveyItem(p.key, p.number, p.name, p.lead_text or "、".join(p.leads))
                 for p in ctx.projects.projects)


def survey_title(ctx: "Context") -> str:
    """e.g. 2026年区政府十件民生实事完成情况满意度测评."""
    return f"{ctx.config.full_title}完成情况满意度测评"


def default_outdir(ctx: "Context") -> Path:
    return ctx.workspace.folder("outbox") / f"{ctx.config.year}年满意度测评"


def make_ballots(ctx: "Context", count: int = DEFAULT_COUNT, outdir: Path | None = None, *,
                 pdf: bool = False) -> BallotResult:
    """Write the print-ready ballots (one A4 page per numbered ballot) and the clerks' entry workbook.

    Files go to ``outdir`` (default ``outbox/<year>年满意度测评/``). With ``pdf`` the ballots are also printed to
    PDF through LibreOffice, and the PDF is checked to hold exactly one page per ballot.
    """
    if not 1 <= count <= MAX_COUNT:
        raise ShixiangError(f"测评票张数应在 1–{MAX_COUNT} 之间，现为 {count}。")
    if has_errors(ctx.findings) or not ctx.projects.projects:
        raise ShixiangError("项目清单或单位名录有错误，测评票中的项目可能不准确。请先运行 shixiang projects "
                            "按提示修改，再生成测评票。")
    outdir = outdir or default_outdir(ctx)
    year = ctx.config.year
    first, last = 1, count
    ballots = outdir / f"{year}年满意度测评票.xlsx"
    entry = outdir / f"{year}年满意度测评录入表.xlsx"
    save_workbook(ballots, lambda wb, fmt: _build_ballots(wb, fmt, ctx, first, last), lock_structure=True)
    write_entry_workbook(ctx, entry, first, last)
    pdf_path = _print_ballots(ballots, count) if pdf else None
    return BallotResult(ballots, entry, pdf_path, first, last)


def _print_ballots(ballots: Path, count: int) -> Path:
    out = office.convert([ballots], "pdf", ballots.parent)[ballots]
    if out is None:
        raise ShixiangError(f"LibreOffice 未能把 {ballots.name} 转成 PDF。测评票工作簿已生成，可用 Excel/WPS 打开打印。")
    info = office.pdf_info(out)
    if info.pages != count or not info.all_pages("A4", landscape=False):
        out.unlink(missing_ok=True)
        raise ShixiangError(f"测评票 PDF 有 {info.pages} 页，与票数 {count} 不符（或不是 A4 纵向），已删除该 PDF。"
                            f"测评票工作簿 {ballots.name} 已生成，请用 Excel/WPS 打开检查打印预览。")
    return out


# Ballot layout: columns and their widths (characters).
_BALLOT_COLUMNS = (("序号", 5), ("项目名称", 30), ("牵头单位", 16), ("满意", 9), ("基本满意", 9), ("不满意", 9))
_A4_PORTRAIT_PT = (523.0, 748.0)  # usable width/height in points inside print_setup's margins
_SUGGESTION_HEIGHT = 150.0


def _instructions() -> str:
    return ("填写说明：1. 请在每个项目对应的评价栏内划“√”，每个项目只选一项；2. 一个项目选了两项及以上的，"
            "该项目评价无效；未选的，该项目按弃权处理；3. 本测评票不记名，编号仅用于统计发放和收回张数，"
            "填好后请投入票箱。")


# A column's printed width per character of its xlsx width (plus the 0.71 character of padding xlsxwriter
# stores). Excel (Calibri) prints ≈5.3 pt a character; LibreOffice 5.5 pt with the Calibri stand-in office.py
# gives it (Carlito 5.6 pt); without one it measured with DejaVu Sans and printed ≈7.0 pt (Debian 12), which
# office.py no longer lets happen. Plan for the widest that can occur.
_POINTS_PER_CHAR = 5.6


def _column_points(width: float) -> float:
    return (width + 0.72) * _POINTS_PER_CHAR


def _build_ballots(wb, fmt: Formats, ctx: "Context", first: int, last: int) -> None:
    items = survey_items(ctx)
    widths = [w for _, w in _BALLOT_COLUMNS]
    total = sum(widths)
    title = f"{survey_title(ctx)}票"
    title_h = row_height([(title, total * 11 / 17)], minimum=40, line=24)
    note_h = row_height([(_instructions(), total)], minimum=30, line=16)
    item_h = [row_height([(it.title, widths[1]), (it.lead, widths[2])], minimum=30) for it in items]
    block = [title_h, 24.0, note_h, 26.0, *item_h, _SUGGESTION_HEIGHT]
    # Fit-to-page would ignore the manual page breaks, so scale explicitly so that one ballot fills one page.
    usable_w, usable_h = _A4_PORTRAIT_PT
    width_pt = sum(_column_points(w) for w in widths)
    scale = int(min(100.0, 94 * usable_h / sum(block), 94 * usable_w / width_pt))
    # Whatever height is left on the page goes to the suggestion box (a row holds at most 409 pt).
    room = 0.92 * usable_h * 100 / scale - (sum(block) - _SUGGESTION_HEIGHT)
    suggestion_h = float(min(409, max(_SUGGESTION_HEIGHT, int(room))))
    width = _label_width(last)
    f_title = fmt("title", font_size=17, text_wrap=True)
    f_number = fmt("plain", align="right", font_name=FONT_HEAD, font_size=12)
    f_secret = fmt("plain", font_size=11)
    f_note = fmt("plain", font_size=10.5, valign="top")
    f_head = fmt("header", bg_color="#FFFFFF")
    f_center = fmt("center")
    f_text = fmt("text")
    f_tick = fmt("center", font_size=14)
    f_suggest = fmt("text", valign="top")
    for start in range(first, last + 1, BALLOTS_PER_SHEET):
        end = min(last, start + BALLOTS_PER_SHEET - 1)
        name = "测评票" if (first, last) == (start, end) else f"测评票{start}-{end}"
        ws = wb.add_worksheet(name)
        for c, w in enumerate(widths):
            ws.set_column(c, c, w)
        print_setup(ws, landscape=False, fit_width=False, footer=False)
        ws.set_print_scale(max(10, scale))
        ws.hide_gridlines(2)
        breaks: list[int] = []
        r = 0
        for number in range(start, end + 1):
            if r:
                breaks.append(r)
            ws.set_row(r, title_h)
            ws.merge_range(r, 0, r, 5, title, f_title)
            ws.set_row(r + 1, 24)
            ws.merge_range(r + 1, 0, r + 1, 2, "（不记名）", f_secret)
            ws.merge_range(r + 1, 3, r + 1, 5, f"编号：{ballot_label(number, width)}", f_number)
            ws.set_row(r + 2, note_h)
            ws.merge_range(r + 2, 0, r + 2, 5, _instructions(), f_note)
            ws.set_row(r + 3, 26)
            for c, (heading, _) in enumerate(_BALLOT_COLUMNS):
                ws.write_string(r + 3, c, heading, f_head)
            r += 4
            for it, h in zip(items, item_h):
                ws.set_row(r, h)
                ws.write_number(r, 0, it.number, f_center)
                ws.write_string(r, 1, safe_text(it.name), f_text)
                ws.write_string(r, 2, safe_text(it.lead), f_text)
                for c in (3, 4, 5):
                    ws.write_blank(r, c, None, f_tick)
                r += 1
            ws.set_row(r, suggestion_h)
            ws.merge_range(r, 0, r, 5, "意见建议：", f_suggest)
            r += 1
        ws.set_h_pagebreaks(breaks)
        ws.print_area(0, 0, r - 1, 5)


@dataclass(frozen=True)
class _EntryLayout:
    header_row: int = 3
    first_row: int = 4
    clerk_cell: tuple[int, int] = (2, 1)

    @staticmethod
    def item_cols(n: int) -> tuple[int, ...]:
        return tuple(range(1, n + 1))


def _entry_instructions(first: int, last: int, width: int) -> str:
    return (f"录入说明：每张收回的测评票录入一行：找到票面编号（{ballot_label(first, width)}–"
            f"{ballot_label(last, width)}）所在行，按票面勾选逐项选择“满意/基本满意/不满意”；该项未勾选的选"
            "“空白”；一项勾了多个的照实录入（如“满意、不满意”），计票时该项按无效处理。未收回的票整行留空。"
            "编号重复或不在上表中的票，录入到表格下方的“补录”行并填写票号。建议两人分别录入同一批票，"
            "录完后把两份录入表交督查室比对、计票。")


def write_entry_workbook(ctx: "Context", path: Path, first: int, last: int, *,
                         entries: Mapping[int, Sequence[str]] | None = None,
                         extra: Sequence[tuple[object, Sequence[str]]] = (), clerk: str = "") -> None:
    """Write the clerks' entry workbook for ballots ``first``–``last`` (atomically, with a signed ``_meta``).

    ``entries`` (ballot → one text per project), ``extra`` (补录 rows: number, texts) and ``clerk`` pre-fill it;
    the demo and tests use them to stand in for a clerk.
    """
    items = survey_items(ctx)
    lay = _EntryLayout()
    n_extra = max(10, (last - first + 1) // 20, len(extra))
    extra_label_row = lay.first_row + (last - first + 1)
    extra_first = extra_label_row + 1
    width = _label_width(last)
    cols = lay.item_cols(len(items))
    note_col = len(items) + 1
    headers = [BALLOT_ID_HEADING, *(it.title for it in items), "备注"]
    widths = [10.0, *([13.0] * len(items)), 20.0]
    buffer = io.BytesIO()
    wb = new_workbook(buffer, lock_structure=True)
    fmt = Formats(wb)
    ws = wb.add_worksheet(ENTRY_SHEET)
    f_open = fmt("center", locked=False)
    f_open_text = fmt("text", locked=False)
    f_number = fmt("center", num_format="0" * width, bg_color="#F2F2F2")
    for c, w in enumerate(widths):
        ws.set_column(c, c, w)
    last_col = len(headers) - 1
    ws.set_row(0, 34)
    ws.merge_range(0, 0, 0, last_col, f"{survey_title(ctx)}录入表", fmt("title", font_size=16))
    note = _entry_instructions(first, last, width)
    ws.set_row(1, row_height([(note, sum(widths))], minimum=40))
    ws.merge_range(1, 0, 1, last_col, note, fmt("plain", font_size=10, valign="top"))
    ws.write_string(2, 0, "录入人：", fmt("plain", align="right"))
    write_value(ws, 2, 1, clerk or None, f_open_text)
    ws.merge_range(2, 2, 2, last_col, "（录入人填写姓名；录入完成后保存，文件名建议注明录入人）", fmt("plain", font_size=10))
    for c, (h, w) in enumerate(zip(headers, widths)):
        ws.write_string(lay.header_row, c, h, fmt("header"))
    ws.set_row(lay.header_row, row_height(zip(headers, widths), minimum=30))
    entries = entries or {}
    for k, number in enumerate(range(first, last + 1)):
        r = lay.first_row + k
        ws.write_number(r, 0, number, f_number)
        texts = list(entries.get(number, ()))
        for i, c in enumerate(cols):
            write_value(ws, r, c, texts[i] if i < len(texts) else None, f_open)
        ws.write_blank(r, note_col, None, f_open_text)
    ws.merge_range(extra_label_row, 0, extra_label_row, last_col,
                   "补录（编号重复、编号不在上表中的票）：在下面各行的“票号”列填写票面编号，再逐项录入",
                   fmt("subtitle", bold=True, bg_color="#FFF2CC", border=1))
    for k in range(n_extra):
        r = extra_first + k
        number, texts = extra[k] if k < len(extra) else (None, ())
        write_value(ws, r, 0, number, fmt("center", locked=False, bg_color="#FFF2CC"))
        for i, c in enumerate(cols):
            write_value(ws, r, c, texts[i] if i < len(texts) else None, f_open)
        ws.write_blank(r, note_col, None, f_open_text)
    validation = {"validate": "list", "source": list(DROPDOWN), "error_type": "warning",
                  "input_title": "请选择", "input_message": "满意 / 基本满意 / 不满意 / 空白（未勾选）",
                  "error_title": "不是下拉列表中的选项",
                  "error_message": "票面一项勾了多个的，可照实录入（如“满意、不满意”），计票时按无效处理。"
                                   "其他情况请从下拉列表中选择。"}
    if cols:
        ws.data_validation(lay.first_row, cols[0], extra_first + n_extra - 1, cols[-1], validation)
    ws.freeze_panes(lay.first_row, 1)
    print_setup(ws, landscape=True, repeat=(lay.header_row, lay.header_row))
    ws.protect(ctx.config.sheet_password, {"select_locked_cells": True, "select_unlocked_cells": True})
    ws.activate()
    payload = {"kind": KIND_ENTRY, "version": ENTRY_VERSION, "workspace": ctx.workspace.workspace_id,
               "year": ctx.config.year, "first": first, "last": last, "projects": [it.key for it in items],
               "headers": headers, "sheet": ENTRY_SHEET, "header_row": lay.header_row,
               "first_row": lay.first_row, "extra_first_row": extra_first, "extra_label_row": extra_label_row,
               "ballot_col": 0, "item_cols": list(cols), "clerk_cell": list(lay.clerk_cell)}
    write_meta(wb, payload, ctx.workspace.secret(), ctx.config.sheet_password)
    wb.close()
    atomic_write_bytes(path, buffer.getvalue())
