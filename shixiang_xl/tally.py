"""满意度测评 (survey), the tally: compare two clerks' entries, count, write the result workbook, keep it.

:func:`tally_survey` (``shixiang survey tally``) reads the entry copies (:mod:`shixiang_xl.entries`), compares
the two entries of every ballot, refuses to finish while they disagree (unless ``prefer`` names the copy to
trust), drops invalid ballots and items, counts, and writes ``reports/<year>/满意度测评结果.xlsx``; the tally is
saved in the store, and :func:`load_tally` gives the year-end ledger each project's rates.

Counting rules: per project, 满意 + 基本满意 + 不满意 are the valid votes; an item left blank is an abstention
(弃权); an item with two choices, or one that cannot be read, is invalid. 满意率 (satisfaction rate) =
(满意 + 基本满意) / valid votes, reported with the 满意 share (满意票占比 = 满意 / valid votes). A ballot number
entered twice, or outside the issued range, voids every ballot with that number: the paper ballots must be
checked.

The counting (:func:`count_ballots`) works on plain data and does no I/O.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, replace
from fractions import Fraction
from itertools import combinations
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Mapping, Sequence

from .ballots import BALLOT_ID_HEADING, BLANK_WORD, CHOICES, SurveyItem, survey_items, survey_title
from .entries import Choice, EntryRow, EntrySheet, Mark, parse_ballot_id, parse_choice, read_entry_file
from .errors import ShixiangError
from .findings import Finding, Severity, finding, sort_key
from .render import render_table
from .store import Store, open_store, save_survey, survey_results, survey_threshold
from .textnorm import clean, cn_date, format_number
from .workspace import Workspace
from .xlsxout import FONT_HEAD, Formats, fit_heading, fit_width, print_setup, row_height, safe_text, save_workbook, write_value

if TYPE_CHECKING:
    from .workspace import Context

RESULT_FILE = "满意度测评结果.xlsx"
CHECK_FILE = "满意度测评录入核对.xlsx"
NOT_ENTERED = "（未录入）"
EMPTY_SHOWN = "（空）"


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
    headings = [fit_heading(h, w) for h, w in headings]  # a bracketed phrase on one line, never split
    widths = [w for _, w in headings]
    last_col = len(widths) - 1
    title = f"{survey_title(ctx)}结果"
    ws.set_row(0, 36)
    ws.merge_range(0, 0, 0, last_col, title, fmt("title"))
    sub = (f"发出测评票 {tally.issued} 张，已录入 {tally.returned} 张，计入 {tally.counted} 张"
           + (f"，编号不在范围内或无法识别的 {tally.outside} 张未计入" if tally.outside else "")
           + f"。满意率 =（满意 + 基本满意）÷ 有效票数；满意票占比 = 满意 ÷ 有效票数；达标线 "
             f"{format_number(tally.threshold)}%。{ctx.config.office} {cn_date(dt.date.today())}")
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
        save_survey(conn, tally.year,
                    (dt.datetime.now().isoformat(timespec="seconds"), tally.threshold, tally.issued, tally.returned,
                     tally.counted, tally.outside, json.dumps(list(files), ensure_ascii=False), str(path)),
                    [(p.number, p.key, p.name, p.lead, p.satisfied, p.basic, p.unsatisfied, p.abstain, p.invalid,
                      p.rank) for p in tally.projects])


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
    threshold = survey_threshold(store.conn, year)
    if threshold is None:
        return {}
    return {r["project"]: ProjectRate(r["project"], r["project_key"], r["name"], r["lead"], r["satisfied"],
                                      r["basic"], r["unsatisfied"], r["abstain"], r["invalid"], r["rank"], threshold)
            for r in survey_results(store.conn, year)}
