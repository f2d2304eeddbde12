"""满意度测评 (survey): the deputies' year-end rating of each project, from ballot to result.

The flow, as the office runs it:

1. :func:`make_ballots` prints numbered paper ballots (one A4 page each; anonymous, the number only controls how
   many were issued) and an entry workbook (录入表) with one row per ballot number and a dropdown per project.
2. Clerks enter the returned ballots, usually twice, by two people, each in their own copy of the entry workbook.
3. :func:`tally_survey` reads the copies (a bad file is a finding), compares the two entries of every ballot,
   refuses to finish while they disagree (unless ``prefer`` names the copy to trust), drops invalid ballots and
   items, counts, and writes ``reports/<year>/满意度测评结果.xlsx``; the tally is saved in the store, and
   :func:`load_tally` gives the year-end ledger each project's rates.

Counting rules: per project, 满意 + 基本满意 + 不满意 are the valid votes; an item left blank is an abstention
(弃权); an item with two choices, or one that cannot be read, is invalid. 满意率 (satisfaction rate) =
(满意 + 基本满意) / valid votes, reported with the 满意 share (满意票占比 = 满意 / valid votes). A ballot number
entered twice, or outside the issued range, voids every ballot with that number: the paper ballots must be
checked.

The counting (:func:`parse_choice`, :func:`count_ballots`) works on plain data and does no I/O.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import io
import json
import re
from collections import defaultdict
from dataclasses import dataclass, replace
from fractions import Fraction
from itertools import combinations
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Mapping, Sequence

from xlsxwriter.utility import xl_rowcol_to_cell

from .errors import ShixiangError
from .findings import Finding, Severity, finding, has_errors, sort_key
from .meta import META_SHEET, read_meta, write_meta
from .store import Store, open_store
from .textnorm import clean, fold, format_number
from .workspace import Workspace
from .xlsxout import (FONT_HEAD, Formats, atomic_write_bytes, fit_width, new_workbook, print_setup, row_height,
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
RESULT_FILE = "满意度测评结果.xlsx"
CHECK_FILE = "满意度测评录入核对.xlsx"
NOT_ENTERED = "（未录入）"
EMPTY_SHOWN = "（空）"

# Limits for an entry workbook that came back: a few hundred rows, a few dozen columns, well under a megabyte.


# ------------------------------------------------------------------ choices


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


def ballot_label(number: int, width: int = 3) -> str:
    """The number printed on a ballot: 007 (read back also as "No.007" or "第7号")."""
    return f"{number:0{width}d}"


def _label_width(last: int) -> int:
    return max(3, len(str(last)))


# ------------------------------------------------------------------ plain data


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


@dataclass(frozen=True)
class ProjectRate:
    """One project's survey result: the counts, and the rates recomputed from them."""

    number: int
    key: str
    name: str
    lead: str = ""
    satisfied: int = 0
    basic: int = 0
    unsatisfied: int = 0
    abstain: int = 0
    invalid: int = 0
    rank: int | None = None
    threshold: float = 90.0  # percent

    @property
    def valid(self) -> int:
        """Valid votes: 满意 + 基本满意 + 不满意."""
        return self.satisfied + self.basic + self.unsatisfied

    @property
    def satisfied_share(self) -> float | None:
        """满意票占比 (the 满意 share): 满意 / valid votes (0–1); None without valid votes."""
        return self.satisfied / self.valid if self.valid else None

    @property
    def satisfaction_rate(self) -> float | None:
        """满意率 (satisfaction rate): (满意 + 基本满意) / valid votes (0–1); None without valid votes."""
        return (self.satisfied + self.basic) / self.valid if self.valid else None

    @property
    def below_threshold(self) -> bool | None:
        """True when the satisfaction rate is below the configured line (exact, no rounding)."""
        if not self.valid:
            return None
        return Fraction(self.satisfied + self.basic, self.valid) * 100 < Fraction(str(self.threshold))

    @property
    def text(self) -> str:
        """One line for a ledger cell: 第 3 名，满意 20、基本满意 5、不满意 1，满意票占比 76.9%."""
        if not self.valid:
            return "无有效票"
        rank = f"第 {self.rank} 名，" if self.rank else ""
        below = "，低于达标线" if self.below_threshold else ""
        return (f"{rank}满意 {self.satisfied}、基本满意 {self.basic}、不满意 {self.unsatisfied}，"
                f"满意票占比 {_pct(self.satisfied_share)}{below}")

    def _score(self) -> tuple[Fraction, Fraction]:
        return (Fraction(self.satisfied + self.basic, self.valid), Fraction(self.satisfied, self.valid))


@dataclass(frozen=True)
class EntryValue:
    """What one copy holds for a ballot item (``NOT_ENTERED`` when it lacks the whole ballot)."""

    file: str
    cell: str
    text: str


@dataclass(frozen=True)
class Discrepancy:
    """Two entries of one ballot that differ: for one item, or for the whole ballot (``item == ""``)."""

    ballot: int
    item: str
    item_name: str
    values: tuple[EntryValue, ...]
    resolved_by: str = ""

    @property
    def resolved(self) -> bool:
        return bool(self.resolved_by)

    def describe(self) -> str:
        return "；".join(f"{v.file}{(' ' + v.cell) if v.cell else ''} 为「{v.text}」" for v in self.values)


@dataclass(frozen=True)
class Tally:
    """The counted survey: ballots, per-project results, overall, and what was found on the way."""

    year: int
    threshold: float
    issued: int
    returned: int  # distinct issued numbers entered in any copy
    counted: int  # ballots counted
    outside: int  # ballots with a number outside the range or unreadable (never counted)
    projects: tuple[ProjectRate, ...]
    overall: ProjectRate
    discrepancies: tuple[Discrepancy, ...] = ()
    findings: tuple[Finding, ...] = ()

    @property
    def unresolved(self) -> tuple[Discrepancy, ...]:
        return tuple(d for d in self.discrepancies if not d.resolved)

    @property
    def complete(self) -> bool:
        """The counts can be published: every double entry agrees (or was resolved) and a ballot was counted."""
        return not self.unresolved and self.counted > 0

    @property
    def below(self) -> tuple[ProjectRate, ...]:
        return tuple(p for p in self.projects if p.below_threshold)


# ------------------------------------------------------------------ counting (pure)


@dataclass(frozen=True)
class _Entry:
    sheet: EntrySheet
    row: EntryRow
    choices: tuple[Choice, ...]

    def cell(self, index: int) -> str:
        return self.sheet.item_cell(self.row.row, index)


def _rows_text(rows: Iterable[int]) -> str:
    return "、".join(str(r + 1) for r in rows)


def count_ballots(sheets: Sequence[EntrySheet], items: Sequence[SurveyItem], *, threshold: float = 90.0,
                  prefer: str | None = None, year: int = 0) -> Tally:
    """Count entry sheets (one or more copies, possibly two entries of the same ballots) into a :class:`Tally`.

    A ballot entered in two copies counts once when they agree. Where they differ (an item, or one copy lacks a
    ballot the other has, when the two copies overlap enough to be entries of the same batch) the ballot is left
    out and an ``entry-discrepancy`` recorded, unless ``prefer`` names the copy (``EntrySheet.file``) to trust.
    """
    files = [s.file for s in sheets]
    if len(set(files)) != len(files):
        raise ValueError("entry sheets must have distinct file names")
    if prefer is not None and prefer not in files:
        raise ValueError(f"prefer={prefer!r} is none of the entry sheets")
    n = len(items)
    found: list[Finding] = []
    entries: dict[int, dict[str, _Entry]] = defaultdict(dict)
    duplicates: set[int] = set()
    outside_ids: set[int] = set()
    unreadable_ids = 0

    for sheet in sheets:
        by_id: dict[int, list[_Entry]] = defaultdict(list)
        unreadable_here = 0
        for row in sheet.rows:
            values = tuple(row.values[:n]) + (None,) * max(0, n - len(row.values))
            choices = tuple(parse_choice(v) for v in values)
            if all(c.empty for c in choices):
                continue  # a ballot that was not returned (or not entered yet)
            bid = parse_ballot_id(row.ballot)
            if bid is None:
                unreadable_here += 1
                shown = clean(row.ballot) if row.ballot is not None else ""
                found.append(finding(
                    "ballot-id-invalid",
                    f"第 {row.row + 1} 行录入了测评结果，但票号「{shown}」为空或无法识别，该票未计入。"
                    f"请对照纸质票在“{BALLOT_ID_HEADING}”列填写票面编号（只填数字）。",
                    file=sheet.file, sheet=sheet.sheet, cell=sheet.ballot_cell(row.row)))
                continue
            if not sheet.covers(bid):
                outside_ids.add(bid)
                found.append(finding(
                    "ballot-out-of-range",
                    f"票号 {bid} 不在本次发放的编号范围（{sheet.first}–{sheet.last}）内，该票未计入。"
                    "请核对纸质票：如是票号录错了，请改正；如确是范围外的票（如复印、私印的票），请删除该行。",
                    file=sheet.file, sheet=sheet.sheet, cell=sheet.ballot_cell(row.row)))
                continue
            by_id[bid].append(_Entry(sheet, row, choices))
        unreadable_ids = max(unreadable_ids, unreadable_here)  # the copies hold the same papers
        for bid, lst in by_id.items():
            if len(lst) > 1:
                duplicates.add(bid)
                found.append(finding(
                    "ballot-duplicate",
                    f"票号 {bid} 录入了 {len(lst)} 次（第 {_rows_text(e.row.row for e in lst)} 行），"
                    "该编号的票均未计入。请核对纸质票：如是同一张票录入了两次，删除多余的一行；"
                    "如确有两张同号的票，请由测评组织方认定哪张有效，只保留那一行。",
                    file=sheet.file, sheet=sheet.sheet, cell=sheet.ballot_cell(lst[1].row.row)))
            entries[bid][sheet.file] = lst[0]

    # Copies that share most of their ballots are two entries of one batch: a ballot one has and the other
    # lacks is then a discrepancy too (a skipped paper). Copies that split the batch between clerks are not.
    entered = {s.file: {bid for bid, got in entries.items() if s.file in got} for s in sheets}
    partners: dict[str, set[str]] = {f: set() for f in files}
    for a, b in combinations(files, 2):
        common = entered[a] & entered[b]
        if common and 2 * len(common) >= min(len(entered[a]), len(entered[b])):
            partners[a].add(b)
            partners[b].add(a)
    by_file = {s.file: s for s in sheets}

    counts = [[0, 0, 0, 0, 0] for _ in items]  # satisfied, basic, unsatisfied, abstain, invalid
    discrepancies: list[Discrepancy] = []
    counted = 0
    for bid in sorted(entries):
        if bid in duplicates:
            continue
        got = entries[bid]
        order = [f for f in files if f in got]
        missing = sorted({p for f in order for p in partners[f] if p not in got and by_file[p].covers(bid)},
                         key=files.index)
        diffs: list[Discrepancy] = []
        if missing:
            values = tuple(EntryValue(f, got[f].sheet.ballot_cell(got[f].row.row), "已录入") for f in order)
            values += tuple(EntryValue(f, "", NOT_ENTERED) for f in missing)
            diffs.append(Discrepancy(bid, "", "整张票", values))
        for i, item in enumerate(items):
            if len({got[f].choices[i].canon for f in order}) > 1:
                diffs.append(Discrepancy(bid, item.key, item.title, tuple(
                    EntryValue(f, got[f].cell(i), got[f].choices[i].shown or EMPTY_SHOWN) for f in order)))
        chosen: _Entry | None = got[order[0]]
        if diffs:
            if prefer is not None and (prefer in got or prefer in missing):
                chosen = got.get(prefer)
                diffs = [replace(d, resolved_by=prefer) for d in diffs]
            else:
                chosen = None
            discrepancies.extend(diffs)
            found.extend(_discrepancy_finding(d, by_file) for d in diffs)
        if chosen is None:
            continue
        counted += 1
        for i, item in enumerate(items):
            choice = chosen.choices[i]
            where = {"file": chosen.sheet.file, "sheet": chosen.sheet.sheet, "cell": chosen.cell(i)}
            if choice.mark.valid:
                counts[i][CHOICES.index(choice.mark.value)] += 1
            elif choice.mark is Mark.BLANK:
                counts[i][3] += 1
                if choice.empty:
                    found.append(finding(
                        "ballot-blank-item",
                        f"第 {bid} 号票「{item.title}」一项没有录入，按弃权计。如票面上该项有勾选，请补录；"
                        f"确未勾选的可选“{BLANK_WORD}”。", **where))
            elif choice.mark is Mark.MULTIPLE:
                counts[i][4] += 1
                found.append(finding(
                    "ballot-multiple-choice",
                    f"第 {bid} 号票「{item.title}」一项录入为「{choice.shown}」（选了多个选项），"
                    "按规则该项无效，不计入该项目的有效票。如是录入错误，请对照纸质票改正。", **where))
            else:
                counts[i][4] += 1
                found.append(finding(
                    "ballot-invalid-choice",
                    f"第 {bid} 号票「{item.title}」一项录入为「{choice.shown}」，不是“满意/基本满意/不满意/空白”"
                    "之一，该项无效。请对照纸质票从下拉列表中选择。", **where))

    rates = [ProjectRate(it.number, it.key, it.name, it.lead, *c, threshold=threshold)
             for it, c in zip(items, counts)]
    rates = _ranked(rates)
    overall = ProjectRate(0, "ALL", "合计", "", *(sum(c[k] for c in counts) for k in range(5)),
                          threshold=threshold)
    issued = len({b for s in sheets for b in range(s.first, s.last + 1)})
    return Tally(year=year, threshold=threshold, issued=issued, returned=len(entries), counted=counted,
                 outside=len(outside_ids) + unreadable_ids, projects=tuple(rates), overall=overall,
                 discrepancies=tuple(discrepancies), findings=tuple(found))


def _ranked(rates: list[ProjectRate]) -> list[ProjectRate]:
    """Rank by 满意率, then 满意票占比; equal scores share a rank (1, 2, 2, 4)."""
    scored = [p for p in rates if p.valid]
    out = []
    for p in rates:
        if not p.valid:
            out.append(replace(p, rank=None))
            continue
        better = sum(1 for q in scored if q._score() > p._score())
        out.append(replace(p, rank=better + 1))
    return out


def _discrepancy_finding(d: Discrepancy, by_file: Mapping[str, EntrySheet]) -> Finding:
    first = d.values[0]
    sheet = by_file[first.file].sheet
    if d.item:
        what = f"第 {d.ballot} 号票「{d.item_name}」两份录入不一致：{d.describe()}。"
        todo = f"请取出第 {d.ballot} 号纸质票核对，改正录错的那份录入表后重新计票"
    else:
        have = "、".join(v.file for v in d.values if v.text != NOT_ENTERED)
        lack = "、".join(v.file for v in d.values if v.text == NOT_ENTERED)
        what = f"第 {d.ballot} 号票 {have} 已录入，{lack} 未录入。"
        todo = f"请核对第 {d.ballot} 号票是否收回：收回的请在 {lack} 中补录，未收回的请从 {have} 中删除，然后重新计票"
    if d.resolved:
        return finding("entry-discrepancy", f"{what}已按 --prefer 指定的 {d.resolved_by} 为准。",
                       file=first.file, sheet=sheet, cell=first.cell, severity=Severity.INFO)
    return finding("entry-discrepancy", f"{what}{todo}；或用 --prefer 指定以哪份录入表为准。",
                   file=first.file, sheet=sheet, cell=first.cell)


# ------------------------------------------------------------------ ballots and the entry workbook


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
    from . import office

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


# ------------------------------------------------------------------ reading entry workbooks (the edge)


def _load_sheets(path: Path, name: str, findings: list[Finding]) -> dict[str, list[list[object]]] | None:
    """Every sheet of a returned entry workbook, read safely; None (with a finding) when it cannot be.

    The same guard as the report workbooks: the bytes are inspected first (format, encryption, zip bombs, XML
    entities, far-away cells; :func:`shixiang_xl.intake.inspect`), then parsed in an isolated worker.
    """
    from .intake import MAX_FILE_BYTES, inspect, parse_sheets
    from .sandbox import Failure, run_isolated

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
    import tempfile

    from . import office

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


# ------------------------------------------------------------------ tally


@dataclass(frozen=True)
class TallyResult:
    """What :func:`tally_survey` did: the tally (when the files could be read), every finding, the outputs."""

    tally: Tally | None
    findings: tuple[Finding, ...]
    files: tuple[str, ...]
    result_path: Path | None = None
    check_path: Path | None = None
    blockers: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        """The result was published (workbook written, store updated)."""
        return self.result_path is not None and not self.blockers

    def summary(self, title: str = "") -> str:
        """The text a clerk reads after the tally."""
        from .render import render_table

        lines: list[str] = []
        t = self.tally
        if t is not None:
            if title:
                lines.append(title + "结果")
            lines.append(f"发出测评票 {t.issued} 张，已录入 {t.returned} 张，计入 {t.counted} 张"
                         + (f"；另有编号不在发放范围内或无法识别的票 {t.outside} 张，未计入" if t.outside else "")
                         + f"。达标线 {format_number(t.threshold)}%。")
            rows = [_summary_row(p) for p in (*t.projects, t.overall)]
            if t.counted:
                lines.append(render_table(["序号", "项目名称", "满意", "基本满意", "不满意", "弃权", "无效", "有效票",
                                           "满意票占比", "满意率", "排名", "达标"], rows, max_width=30))
            if t.below:
                lines.append("低于达标线的项目：" + "、".join(f"{p.number}. {p.name}（{_pct(p.satisfaction_rate)}）"
                                                      for p in t.below))
            if t.discrepancies:
                lines.append(f"两份录入不一致 {len(t.discrepancies)} 处"
                             + (f"，其中 {len(t.unresolved)} 处未解决" if t.unresolved else "，均已按 --prefer 处理")
                             + (f"，核对清单：{self.check_path}" if self.check_path else "") + "。")
        if self.blockers:
            lines.append("测评结果未生成：" + "".join(f"\n  - {b}" for b in self.blockers))
        elif self.result_path:
            lines.append(f"测评结果：{self.result_path}")
        return "\n".join(lines)


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


def _summary_row(p: ProjectRate) -> list[object]:
    below = p.below_threshold
    return [p.number or "", p.name, p.satisfied, p.basic, p.unsatisfied, p.abstain, p.invalid, p.valid,
            _pct(p.satisfied_share), _pct(p.satisfaction_rate), p.rank or "",
            "" if below is None else ("否" if below else "是")]


def _display_names(files: Sequence[Path]) -> list[str]:
    names = [f.name for f in files]
    return [str(f) if names.count(f.name) > 1 else f.name for f in files]


def result_path(ctx: "Context") -> Path:
    """``reports/<year>/满意度测评结果.xlsx``."""
    return ctx.workspace.folder("reports") / str(ctx.config.year) / RESULT_FILE


def tally_survey(ctx: "Context", files: Sequence[Path], prefer: Path | None = None) -> TallyResult:
    """Read the entry workbooks ``files``, compare double entries, count, write the result and save it.

    The result workbook (``reports/<year>/满意度测评结果.xlsx``) is written and the store updated only when every
    file could be used and every double entry agrees (or ``prefer`` names the copy to trust); otherwise
    ``blockers`` say why, and disagreements are listed in ``reports/<year>/满意度测评录入核对.xlsx``.
    """
    paths = [Path(f) for f in files]
    if not paths:
        raise ShixiangError("请指定至少一个测评录入表文件。")
    names = _display_names(paths)
    prefer_name: str | None = None
    if prefer is not None:
        matches = [n for p, n in zip(paths, names) if p.resolve() == Path(prefer).resolve()]
        if not matches:
            raise ShixiangError(f"--prefer 指定的 {prefer} 不在要计票的文件中。请把它也列在命令里。")
        prefer_name = matches[0]
    found: list[Finding] = []
    sheets: list[EntrySheet] = []
    rejected: list[str] = []
    seen: dict[str, str] = {}
    for path, name in zip(paths, names):
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            digest = ""
        if digest and digest in seen:
            found.append(finding("duplicate-file", f"与 {seen[digest]} 内容完全相同，只计一次。", file=name))
            continue
        if digest:
            seen[digest] = name
        sheet, more = read_entry_file(ctx, path, name)
        found.extend(more)
        if sheet is None:
            rejected.append(name)
            continue
        if not any(any(v not in (None, "") for v in row.values) for row in sheet.rows):
            found.append(finding("entry-empty", "录入表中没有录入任何测评票。如这份尚未录入，请录入后再计票，"
                                                "或不要把它列入计票文件。", file=name, sheet=sheet.sheet))
        sheets.append(sheet)
    blockers: list[str] = []
    if prefer_name is not None and prefer_name not in {s.file for s in sheets}:
        blockers.append(f"--prefer 指定的 {prefer_name} 本身无法使用（见上面的问题），不能以它为准。")
        prefer_name = None
    items = survey_items(ctx)
    year = ctx.config.year
    tally = count_ballots(sheets, items, threshold=ctx.config.satisfaction_threshold, prefer=prefer_name,
                          year=year) if sheets else None
    if tally is not None:
        found.extend(tally.findings)
    if rejected:
        blockers.append(f"有 {len(rejected)} 个文件无法使用（{'、'.join(rejected)}）：请按提示修正，"
                        "或确认不需要后从计票文件中去掉，再重新计票。")
    if tally is not None and tally.unresolved:
        ballots = sorted({d.ballot for d in tally.unresolved})
        blockers.append(f"两份录入有 {len(tally.unresolved)} 处不一致（票号 {'、'.join(map(str, ballots[:20]))}"
                        f"{' 等' if len(ballots) > 20 else ''}）：请核对纸质票并改正录入表，或用 --prefer 指定以哪份为准。")
    if tally is not None and not tally.unresolved and tally.counted == 0:
        blockers.append("没有可计入的测评票：请先录入收回的测评票。")
    if tally is None and not rejected:
        blockers.append("没有可用的录入表。")
    reports = result_path(ctx).parent
    check = None
    if tally is not None and tally.discrepancies:
        check = reports / CHECK_FILE
        save_workbook(check, lambda wb, fmt: _discrepancy_sheet(wb, fmt, tally, "录入核对"))
    out = None
    ordered = tuple(sorted(found, key=sort_key))
    if tally is not None and not blockers:
        out = result_path(ctx)
        save_workbook(out, lambda wb, fmt: _build_result(wb, fmt, ctx, tally, ordered))
        with open_store(ctx.workspace.db_path) as store:
            save_tally(store, tally, [s.file for s in sheets], out)
    return TallyResult(tally, ordered, tuple(names), out, check, tuple(blockers))


# ------------------------------------------------------------------ result workbooks

_RESULT_HEADINGS = (("序号", 6), ("项目名称", 30), ("牵头单位", 19), ("满意", 8), ("基本满意", 8), ("不满意", 8),
                    ("弃权", 7), ("无效", 7), ("有效票数", 9), ("满意票占比\n（满意）", 11), ("满意率\n（满意+基本满意）", 14),
                    ("排名", 6), ("是否达标", 9))


def _build_result(wb, fmt: Formats, ctx: "Context", tally: Tally, findings: Sequence[Finding]) -> None:
    ws = wb.add_worksheet("测评结果")
    headings = list(_RESULT_HEADINGS)
    headings[1] = (headings[1][0], fit_width((p.name for p in tally.projects), 24, 40))  # a name a line
    widths = [w for _, w in headings]
    last_col = len(widths) - 1
    title = f"{survey_title(ctx)}结果"
    ws.set_row(0, 36)
    ws.merge_range(0, 0, 0, last_col, title, fmt("title"))
    sub = (f"发出测评票 {tally.issued} 张，已录入 {tally.returned} 张，计入 {tally.counted} 张"
           + (f"，编号不在范围内或无法识别的 {tally.outside} 张未计入" if tally.outside else "")
           + f"。满意率 =（满意 + 基本满意）÷ 有效票数；满意票占比 = 满意 ÷ 有效票数；达标线 "
             f"{format_number(tally.threshold)}%。{ctx.config.office} {dt.date.today():%Y年%m月%d日}")
    ws.set_row(1, row_height([(sub, sum(widths))], minimum=22))
    ws.merge_range(1, 0, 1, last_col, sub, fmt("subtitle", text_wrap=True))
    header = 2
    for c, (h, w) in enumerate(headings):
        ws.set_column(c, c, w)
        ws.write_string(header, c, h, fmt("header"))
    ws.set_row(header, row_height(headings, minimum=30))
    f_num, f_pct, f_text, f_center = fmt("number"), fmt("percent"), fmt("text"), fmt("center")
    f_flag = fmt("center", font_color="#C00000", bold=True)
    r = header + 1
    for p in (*tally.projects, tally.overall):
        total = p.number == 0
        bold = {"bold": True} if total else {}
        if total:
            ws.merge_range(r, 0, r, 2, "合计（总体）", fmt("center", **bold))
        else:
            ws.write_number(r, 0, p.number, f_center)
            ws.write_string(r, 1, safe_text(p.name), f_text)
            ws.write_string(r, 2, safe_text(p.lead), f_text)
        for c, v in enumerate((p.satisfied, p.basic, p.unsatisfied, p.abstain, p.invalid, p.valid), start=3):
            ws.write_number(r, c, v, fmt("number", **bold) if total else f_num)
        for c, v in ((9, p.satisfied_share), (10, p.satisfaction_rate)):
            write_value(ws, r, c, v, fmt("percent", **bold) if total else f_pct)
        write_value(ws, r, 11, p.rank, f_center, f_center)
        below = p.below_threshold
        flag = "" if below is None else ("否" if below else "是")
        write_value(ws, r, 12, flag, f_flag if below else f_center)
        ws.set_row(r, row_height([(p.name, widths[1]), (p.lead, widths[2])], minimum=22))
        r += 1
    first_data, last_data = header + 1, header + len(tally.projects)
    note_row = r + 1
    ws.merge_range(note_row, 0, note_row, last_col,
                   "说明：弃权指测评票上该项目未勾选；无效指该项目勾选了多个选项或无法识别。排名按满意率，满意率相同的按满意票占比。",
                   fmt("plain", font_size=10))
    print_setup(ws, landscape=True, repeat=(header, header))
    ws.freeze_panes(header + 1, 2)

    # The chart gets its own sheet so that its printed page does not repeat the table's heading row.
    cs = wb.add_worksheet("测评图表")
    chart = wb.add_chart({"type": "bar"})
    for col, name, color in ((10, "满意率（满意+基本满意）", "#4472C4"), (9, "满意票占比（满意）", "#A9D18E")):
        chart.add_series({"name": name, "categories": ["测评结果", first_data, 1, last_data, 1],
                          "values": ["测评结果", first_data, col, last_data, col], "fill": {"color": color},
                          "data_labels": {"value": True, "num_format": "0.0%"}, "gap": 60})
    chart.set_title({"name": f"各项目满意率（达标线 {format_number(tally.threshold)}%）",
                     "name_font": {"name": FONT_HEAD, "size": 13}})
    chart.set_x_axis({"min": 0, "max": 1, "num_format": "0%", "major_gridlines": {"visible": True},
                      "num_font": {"name": FONT_HEAD}})
    chart.set_y_axis({"reverse": True, "num_font": {"name": FONT_HEAD, "size": 9}})
    chart.set_legend({"position": "bottom", "font": {"name": FONT_HEAD}})
    chart.set_size({"width": 1000, "height": max(420, 80 + 46 * len(tally.projects))})
    cs.insert_chart(1, 1, chart)
    print_setup(cs, landscape=True, footer=False)
    cs.fit_to_pages(1, 1)

    if tally.discrepancies:
        _discrepancy_sheet(wb, fmt, tally, "录入核对")
    if findings:
        fs = wb.add_worksheet("问题清单")
        headings, fw = ("级别", "问题", "文件", "工作表", "单元格", "说明", "代码"), (6, 18, 24, 8, 8, 70, 22)
        fs.merge_range(0, 0, 0, len(headings) - 2, f"{title}——录入问题清单", fmt("title", font_size=16))
        fs.set_row(0, 30)
        for c, (h, w) in enumerate(zip(headings, fw)):
            fs.set_column(c, c, w, None, {"hidden": True} if h == "代码" else None)
            fs.write_string(1, c, h, fmt("header"))
        for k, f in enumerate(findings, start=2):
            for c, v in enumerate((f.severity.value, f.title, f.file, f.sheet, f.cell, f.message, f.code)):
                write_value(fs, k, c, v, f_text)
            fs.set_row(k, row_height([(f.message, fw[5]), (f.file, fw[2]), (f.title, fw[1])]))
        print_setup(fs, landscape=True, repeat=(1, 1))
        fs.print_area(0, 0, len(findings) + 1, len(headings) - 2)
        fs.freeze_panes(2, 0)
    ws.activate()


def _discrepancy_sheet(wb, fmt: Formats, tally: Tally, name: str) -> None:
    ws = wb.add_worksheet(name)
    headings = ("票号", "测评项目", "录入表", "单元格", "录入内容", "处理", "核对纸质票的结果")
    widths = (8, 30, 28, 9, 16, 26, 22)
    for c, (h, w) in enumerate(zip(headings, widths)):
        ws.set_column(c, c, w)
        ws.write_string(0, c, h, fmt("header"))
    f_text, f_center = fmt("text"), fmt("center")
    r = 1
    for d in tally.discrepancies:
        status = f"已按 {d.resolved_by} 为准" if d.resolved else "未解决：请核对纸质票"
        for v in d.values:
            for c, value in enumerate((d.ballot, d.item_name, v.file, v.cell, v.text, status, None)):
                write_value(ws, r, c, value, f_center if c in (0, 3) else f_text, f_center)
            ws.set_row(r, row_height([(d.item_name, widths[1]), (v.file, widths[2]), (status, widths[5])]))
            r += 1
    print_setup(ws, landscape=True, repeat=(0, 0))
    ws.freeze_panes(1, 0)



# ------------------------------------------------------------------ store

def save_tally(store: Store, tally: Tally, files: Sequence[str], path: Path) -> None:
    """Replace the year's saved tally (counts only: rates are always recomputed from them)."""
    with store.transaction() as conn:
        conn.execute("DELETE FROM survey_results WHERE year = ?", (tally.year,))
        conn.execute("INSERT OR REPLACE INTO survey_tallies VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     (tally.year, dt.datetime.now().isoformat(timespec="seconds"), tally.threshold, tally.issued,
                      tally.returned, tally.counted, tally.outside, json.dumps(list(files), ensure_ascii=False),
                      str(path)))
        conn.executemany("INSERT INTO survey_results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         [(tally.year, p.number, p.key, p.name, p.lead, p.satisfied, p.basic, p.unsatisfied,
                           p.abstain, p.invalid, p.rank) for p in tally.projects])


def load_tally(store_or_workspace: Store | Workspace | Path, year: int) -> dict[int, ProjectRate]:
    """The saved survey result of ``year``: project number → :class:`ProjectRate`; ``{}`` when never tallied.

    For the year-end ledger: ``rate.satisfaction_rate`` (满意率, 0–1), ``rate.satisfied_share`` (满意票占比),
    ``rate.rank``, ``rate.below_threshold`` and ``rate.text`` (one line for a cell). Accepts an open :class:`Store`, a :class:`Workspace` or a
    workspace folder; a workspace without a database is not given one.
    """
    if isinstance(store_or_workspace, Store):
        return _load(store_or_workspace, year)
    ws = store_or_workspace if isinstance(store_or_workspace, Workspace) else Workspace(Path(store_or_workspace))
    if not ws.db_path.exists():
        return {}
    with open_store(ws.db_path) as store:
        return _load(store, year)


def _load(store: Store, year: int) -> dict[int, ProjectRate]:
    head = store.conn.execute("SELECT threshold FROM survey_tallies WHERE year = ?", (year,)).fetchone()
    if head is None:
        return {}
    rows = store.conn.execute("SELECT * FROM survey_results WHERE year = ? ORDER BY project", (year,)).fetchall()
    return {r["project"]: ProjectRate(r["project"], r["project_key"], r["name"], r["lead"], r["satisfied"],
                                      r["basic"], r["unsatisfied"], r["abstain"], r["invalid"], r["rank"],
                                      float(head["threshold"])) for r in rows}


# ------------------------------------------------------------------ demo


def demo_survey(ctx: "Context", echo: Callable[[str], None], *, count: int = 30, seed: int = 2026) -> TallyResult:
    """The survey in the demo: ballots, two clerks' entries with one disagreement, its correction, the tally."""
    import random

    from . import office

    with_pdf = office.soffice_path() is not None
    made = make_ballots(ctx, count, pdf=with_pdf)
    echo(f"   测评票 {made.count} 张（每张一页 A4）：{made.ballots}")
    if made.pdf:
        echo(f"   测评票 PDF（可直接打印）：{made.pdf}")
    echo(f"   录入表（发给两名录入员）：{made.entry}")
    rng = random.Random(seed)
    items = survey_items(ctx)
    weights = (0.72, 0.2, 0.05, 0.03)
    entries: dict[int, list[str]] = {}
    for number in range(made.first, made.last + 1):
        if rng.random() < 0.1:
            continue  # this deputy's ballot did not come back
        entries[number] = [rng.choices(DROPDOWN, weights)[0] for _ in items]
    # One deputy ticked two boxes for the last project: clerks enter it as it is and it becomes invalid.
    shown_ballot = min(entries)
    entries[shown_ballot][-1] = "满意、基本满意"
    inbox = ctx.workspace.folder("inbox") / f"{ctx.config.year}年满意度测评"
    clerk_a, clerk_b = inbox / "录入表-张敏.xlsx", inbox / "录入表-李华.xlsx"
    write_entry_workbook(ctx, clerk_a, made.first, made.last, entries=entries, clerk="张敏")
    slip_ballot = sorted(entries)[len(entries) // 2]
    slipped = {k: list(v) for k, v in entries.items()}
    slip_item = rng.randrange(len(items))
    right = slipped[slip_ballot][slip_item]
    slipped[slip_ballot][slip_item] = next(c for c in CHOICES if c != right)
    write_entry_workbook(ctx, clerk_b, made.first, made.last, entries=slipped, clerk="李华")
    echo(f"   两名录入员分别录入了收回的 {len(entries)} 张票：{clerk_a.name}、{clerk_b.name}（在 {inbox}）")
    first = tally_survey(ctx, [clerk_a, clerk_b])
    for d in (first.tally.unresolved if first.tally else ()):
        echo(f"   比对发现不一致：第 {d.ballot} 号票「{d.item_name}」：{d.describe()}")
    if first.check_path:
        echo(f"   核对清单：{first.check_path}；计票暂停，等待核对纸质票。")
    echo(f"   核对纸质票后，{clerk_b.name} 改正了录错的一项（也可以用 --prefer {clerk_a.name} 以另一份为准）。")
    write_entry_workbook(ctx, clerk_b, made.first, made.last, entries=entries, clerk="李华")
    result = tally_survey(ctx, [clerk_a, clerk_b])
    for f in result.findings:
        if f.severity is not Severity.INFO:
            echo("   " + f.line())
    echo(result.summary(survey_title(ctx)))
    return result
