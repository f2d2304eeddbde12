"""满意度测评 (survey), reading entries: one clerk's entry workbook that came back, read into plain data.

A returned entry workbook is untrusted like a report workbook: its bytes are inspected and parsed in an isolated
worker, its signed ``_meta`` must be this workspace's, this year's and this project list's, and its headings must
stand where they were written; every problem is a finding. :func:`parse_choice` and :func:`parse_ballot_id` read
one cell each and do no I/O.
"""

from __future__ import annotations

import enum
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from xlsxwriter.utility import xl_rowcol_to_cell

from .ballots import BLANK_WORD, CHOICES, ENTRY_SHEET, KIND_ENTRY, survey_items
from . import office
from .findings import Finding, Severity, finding
from .intake import MAX_FILE_BYTES, inspect, parse_sheets
from .meta import META_SHEET, read_meta
from .sandbox import Failure, run_isolated
from .textnorm import clean, fold

if TYPE_CHECKING:
    from .workspace import Context


class Mark(str, enum.Enum):
    """What one item of one ballot says."""

    SATISFIED = "满意"
    BASIC = "基本满意"
    UNSATISFIED = "不满意"
    BLANK = "空白"
    MULTIPLE = "多选"
    INVALID = "无法识别"

    @property
    def valid(self) -> bool:
        return self in (Mark.SATISFIED, Mark.BASIC, Mark.UNSATISFIED)


@dataclass(frozen=True)
class Choice:
    """One entered cell, read: its mark, the form two entries are compared by, and the text as entered."""

    mark: Mark
    canon: str
    shown: str
    empty: bool = False


_WORDS = ("基本满意", "不满意", "满意", "空白", "弃权", "未选", "多选")  # longest first: 基本满意 ⊃ 满意
_SEPARATORS = re.compile(r"[、，,。.；;：:/|\\+＋&和与及\-—–_~]+")


def parse_choice(value: object) -> Choice:
    """Read a cell of the entry sheet: 满意 / 基本满意 / 不满意 / 空白 (or empty) / two choices / unreadable.

    Two choices in one cell ("满意、不满意", "满意/基本满意", "满意不满意", "多选") are a multiple choice;
    anything else that is not one of the four words (a number, "√", "很满意") cannot be read.
    """
    shown = clean(value) if value is not None else ""
    if isinstance(value, float) and value.is_integer():
        shown = str(int(value))
    if not shown:
        return Choice(Mark.BLANK, BLANK_WORD, "", empty=True)
    text = _SEPARATORS.sub("", fold(shown))
    tokens: list[str] = []
    i = 0
    while i < len(text):
        word = next((w for w in _WORDS if text.startswith(w, i)), None)
        if word is None:
            return Choice(Mark.INVALID, shown, shown)
        tokens.append(word)
        i += len(word)
    picked = [w for w in CHOICES if w in tokens]
    blank_words = [w for w in tokens if w in ("空白", "弃权", "未选")]
    if "多选" in tokens or len(picked) > 1:
        canon = "、".join(picked) if len(picked) > 1 else "多选"
        return Choice(Mark.MULTIPLE, canon, shown)
    if picked and blank_words:
        return Choice(Mark.INVALID, shown, shown)
    if picked:
        return Choice(Mark(picked[0]), picked[0], shown)
    return Choice(Mark.BLANK, BLANK_WORD, shown)


def parse_ballot_id(value: object) -> int | None:
    """A ballot number as entered: 12, 12.0, "012", "No.012", "第12号"; None when absent or ambiguous."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return int(value) if float(value).is_integer() and value > 0 else None
    numbers = re.findall(r"\d+", fold(value))
    if len(numbers) != 1:
        return None
    n = int(numbers[0])
    return n if n > 0 else None


@dataclass(frozen=True)
class EntryRow:
    """One row of an entry sheet: its 0-based sheet row, the ballot number cell and one cell per item."""

    row: int
    ballot: object
    values: tuple[object, ...]
    extra: bool = False  # a 补录 row, where the clerk types the number


@dataclass(frozen=True)
class EntrySheet:
    """One clerk's entry sheet, as read: which ballots it covers and its rows (no file access needed)."""

    file: str
    first: int
    last: int
    rows: tuple[EntryRow, ...]
    sheet: str = ENTRY_SHEET
    ballot_col: int = 0
    item_cols: tuple[int, ...] = ()  # default: the columns right of the ballot number
    clerk: str = ""

    def item_cell(self, row: int, index: int) -> str:
        col = self.item_cols[index] if self.item_cols else self.ballot_col + 1 + index
        return xl_rowcol_to_cell(row, col)

    def ballot_cell(self, row: int) -> str:
        return xl_rowcol_to_cell(row, self.ballot_col)

    def covers(self, ballot: int) -> bool:
        return self.first <= ballot <= self.last


# ------------------------------------------------------------------ reading entry workbooks (the edge)


def _load_sheets(path: Path, name: str, findings: list[Finding]) -> dict[str, list[list[object]]] | None:
    """Every sheet of a returned entry workbook, read safely; None (with a finding) when it cannot be.

    The same guard as the report workbooks: the bytes are inspected first (format, encryption, zip bombs, XML
    entities, far-away cells; :func:`shixiang_xl.intake.inspect`), then parsed in an isolated worker.
    """
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            findings.append(finding("file-too-large", f"文件有 {size // 1024 // 1024} MB，远大于录入表，未读取。",
                                    file=name))
            return None
        data = path.read_bytes()
    except OSError as exc:
        findings.append(finding("read-failed", f"文件无法打开：{exc.strerror or exc}。", file=name))
        return None
    kind, problems, _ = inspect(data, name)
    findings += [finding(code, message, file=name) for code, message in problems]
    if not kind or any(code != "file-extension-mismatch" for code, _ in problems):
        return None
    _, parsed = next(run_isolated(parse_sheets, [data], workers=1, timeout=60))
    if not isinstance(parsed, Failure):
        return parsed
    if parsed.reason == "error" and kind in ("xls", "ods"):
        converted = _convert_to_xlsx(path, name, findings)  # a WPS .et or an odd .xls/.ods calamine cannot read
        if converted is None:
            return None
        _, parsed = next(run_isolated(parse_sheets, [converted], workers=1, timeout=60))
        if not isinstance(parsed, Failure):
            return parsed
    if "Password" in parsed.detail:
        findings.append(finding("file-encrypted", "文件已加密，无法读取。请取消密码后重新保存再交回。", file=name))
    else:
        findings.append(finding("file-corrupt", "文件已损坏或不完整，无法读取。请用 Excel/WPS 打开后重新保存再交回。",
                                file=name))
    return None


def _convert_to_xlsx(path: Path, name: str, findings: list[Finding]) -> bytes | None:
    if office.soffice_path() is None:
        findings.append(finding("converter-missing", "文件是 .xls/.et/.ods 格式，需要 LibreOffice 转换，但本机未安装。"
                                                      "请让录入人另存为 .xlsx 后再交回，或安装 LibreOffice。", file=name))
        return None
    with tempfile.TemporaryDirectory(prefix="shixiang-survey-") as tmp:
        out = office.convert([path], "xlsx", Path(tmp), recalc=False, timeout=120)[path]
        if out is None:
            findings.append(finding("file-corrupt", "文件无法用 LibreOffice 打开（已损坏或已加密）。"
                                                    "请重新保存为 .xlsx 后再交回。", file=name))
            return None
        findings.append(finding("converted", f"文件是 {path.suffix or '非 .xlsx'} 格式，已用 LibreOffice 转换为 .xlsx 后读取。",
                                file=name, severity=Severity.INFO))
        return out.read_bytes()


def read_entry_file(ctx: "Context", path: Path, name: str | None = None) -> tuple[EntrySheet | None, list[Finding]]:
    """Read one returned entry workbook into an :class:`EntrySheet`; problems are findings, never exceptions."""
    name = name or path.name
    found: list[Finding] = []
    sheets = _load_sheets(path, name, found)
    if sheets is None:
        return None, found
    meta_rows = sheets.get(META_SHEET)
    meta = read_meta(meta_rows, ctx.workspace.secret()) if meta_rows else None
    again = "请使用督查室下发的测评录入表录入。"
    if meta is None:
        found.append(finding("meta-missing", f"文件中没有测评录入表的身份信息，不是本系统生成的录入表。{again}", file=name))
        return None, found
    # Another workspace's workbook also fails the signature (other secret): say the more useful thing first.
    if meta.get("workspace") != ctx.workspace.workspace_id:
        found.append(finding("meta-other-workspace", f"录入表不是本工作区生成的。{again}", file=name))
        return None, found
    if not meta.valid:
        found.append(finding("meta-forged", "录入表的身份信息校验失败（可能被改动过），未读取。请重新从督查室领取录入表录入。",
                             file=name))
        return None, found
    if meta.get("kind") != KIND_ENTRY:
        found.append(finding("entry-not-survey", f"文件是本系统的其他表格（{meta.get('kind')}），不是测评录入表。{again}",
                             file=name))
        return None, found
    if meta.get("year") != ctx.config.year:
        found.append(finding("entry-other-year", f"录入表属于 {meta.get('year')} 年的测评，当前工作区是 "
                                                 f"{ctx.config.year} 年。", file=name))
        return None, found
    items = survey_items(ctx)
    if meta.get("projects") != [it.key for it in items]:
        found.append(finding("entry-projects-changed",
                             "录入表中的测评项目与当前项目清单不一致（生成测评票后项目清单有改动）。请按当前项目清单重新生成"
                             "测评票和录入表，或恢复原项目清单后再计票。", file=name))
        return None, found
    try:
        sheet_name = str(meta.get("sheet"))
        rows = sheets.get(sheet_name)
        header_row, first_row = int(meta.get("header_row")), int(meta.get("first_row"))
        extra_first, label_row = int(meta.get("extra_first_row")), int(meta.get("extra_label_row"))
        ballot_col, item_cols = int(meta.get("ballot_col")), tuple(int(c) for c in meta.get("item_cols"))
        first, last = int(meta.get("first")), int(meta.get("last"))
        headers = [str(h) for h in meta.get("headers")]
        clerk_r, clerk_c = (int(v) for v in meta.get("clerk_cell"))
    except (TypeError, ValueError):
        found.append(finding("meta-forged", "录入表的身份信息不完整，未读取。", file=name))
        return None, found
    if rows is None:
        found.append(finding("entry-layout-changed", f"录入表中找不到“{sheet_name}”工作表（可能被改名或删除）。"
                                                     "请恢复原工作表名后再交回。", file=name))
        return None, found

    def cell(r: int, c: int) -> object:
        return rows[r][c] if r < len(rows) and c < len(rows[r]) else None

    expected = [(ballot_col, headers[0])] + list(zip(item_cols, headers[1:]))
    moved = [xl_rowcol_to_cell(header_row, c) for c, h in expected if fold(cell(header_row, c)) != fold(h)]
    if moved:
        found.append(finding("entry-layout-changed",
                             f"录入表的表头被改动（{'、'.join(moved)} 与原表不符），无法确定各列对应的项目。"
                             "请在原录入表中重新录入，不要插入、删除或移动列。", file=name, sheet=sheet_name,
                             cell=moved[0]))
        return None, found
    entry_rows = []
    for r in range(first_row, len(rows)):
        if r == label_row:
            continue
        entry_rows.append(EntryRow(r, cell(r, ballot_col), tuple(cell(r, c) for c in item_cols),
                                   extra=r >= extra_first))
    clerk = clean(cell(clerk_r, clerk_c))
    return EntrySheet(name, first, last, tuple(entry_rows), sheet_name, ballot_col, item_cols, clerk), found
