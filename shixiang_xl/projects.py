"""The project list (项目清单): projects, their indicators and milestones; loading with every finding at once."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, fields, replace
from pathlib import Path

from .findings import Finding, finding
from .measures import KIND_CEILING, KIND_MILESTONE, KIND_RATE, KINDS, infer_kind, parse_kind
from .tables import Row, TableError, find_columns, iter_rows, read_workbook
from .textnorm import clean, compact, format_number, split_names
from .units import Directory

PROJECT_SHEET, INDICATOR_SHEET, MILESTONE_SHEET = "项目", "指标", "时间节点"
COMPARATORS = ("≥", "≤", "=")

PROJECT_COLUMNS: dict[str, tuple[str, ...]] = {
    "number": ("序号", "项目序号"),
    "name": ("项目名称", "实事项目", "民生实事"),
    "content": ("项目主要内容", "主要内容", "目标任务", "工作举措"),
    "lead": ("牵头单位", "主办单位", "责任单位"),
    "co": ("协办单位", "配合单位"),
    "due": ("计划完成时间", "完成时间"),
    "note": ("备注",),
}
PROJECT_REQUIRED = ("number", "name", "content", "lead", "co")
INDICATOR_COLUMNS: dict[str, tuple[str, ...]] = {
    "project": ("项目序号",),
    "number": ("指标序号",),
    "name": ("指标名称", "指标"),
    "target": ("目标值",),
    "unit": ("计量单位", "单位"),
    "comparator": ("比较方式",),
    "split": ("按协办单位分解",),
    "lead": ("责任单位",),
    "note": ("说明",),
    "text": ("原文",),
    "review": ("待核对",),
    "kind": ("指标类型",),
}
INDICATOR_REQUIRED = ("project", "number", "name", "target", "unit", "comparator", "split")
MILESTONE_COLUMNS: dict[str, tuple[str, ...]] = {
    "project": ("项目序号",),
    "month": ("月份",),
    "percent": ("计划进度(%)", "计划进度（%）", "计划进度"),
}

_COMPARATOR_WORDS = {"≥": "≥", ">=": "≥", "以上": "≥", "不少于": "≥", "至少": "≥", "不低于": "≥",
                     "≤": "≤", "<=": "≤", "以内": "≤", "不超过": "≤", "控制在": "≤", "=": "=", "＝": "=", "": "="}


_ROW_KEY = re.compile(r"P(\d+)(?:-I(\d+))?")


@functools.lru_cache(maxsize=None)
def field_names(cls: type) -> tuple[str, ...]:
    """A dataclass's field names, in order (looked up once per class)."""
    return tuple(f.name for f in fields(cls))


@dataclass(frozen=True, slots=True)
class Indicator:
    """One measurable target of a project."""

    project: int
    number: int
    name: str
    target: float
    unit: str
    comparator: str = "="
    split: bool = False
    lead: str = ""  # the lead unit that reports it; "" = the project's first lead unit
    note: str = ""
    text: str = ""  # the span of the notice it was read from
    review: bool = False  # 待核对
    kind: str = ""  # 指标类型 (累计数 / 比率 / 上限 / 节点); given as "", it is inferred once, when made

    def __post_init__(self) -> None:
        # Inferred once here, not on every use: the ledger and the writers ask for a city's 60,000 kinds many times.
        if not self.kind:
            object.__setattr__(self, "kind", infer_kind(self.name, self.unit, self.comparator)[0])

    @property
    def measure_kind(self) -> str:
        """The indicator's kind: as the project list says, else inferred from its name, unit and comparator."""
        return self.kind

    @property
    def kind_doubtful(self) -> bool:
        """A kind the inference is unsure of (the list's 待核对 until a person has looked)."""
        return infer_kind(self.name, self.unit, self.comparator) == (self.kind, True)

    @property
    def is_level(self) -> bool:
        """A level measured at a moment (比率, 上限): one current value, never added up across periods."""
        return self.measure_kind in (KIND_RATE, KIND_CEILING)

    @property
    def one_value(self) -> bool:
        """One input instead of 本期/累计: a level (its current value) or a node (是/否)."""
        return self.measure_kind in (KIND_RATE, KIND_CEILING, KIND_MILESTONE)

    @property
    def key(self) -> str:
        # Formatted each time, not cached: a cache of a city's 60,000 keys held 12 MB, and formatting costs ~0.2 µs.
        return f"P{self.project:02d}-I{self.number:02d}"

    @property
    def target_text(self) -> str:
        """e.g. ≥100张 / 10家."""
        prefix = "" if self.comparator == "=" else self.comparator
        return f"{prefix}{format_number(self.target)}{self.unit}"


@dataclass(frozen=True, slots=True)
class Milestone:
    project: int
    month: int
    percent: float


@dataclass(frozen=True, slots=True)
class Project:
    """One of the year's projects, with its units resolved to full names."""

    number: int
    name: str
    content: str
    leads: tuple[str, ...]
    co_units: tuple[str, ...] = ()
    lead_text: str = ""  # as written in the list (各镇街 stays a group word for display)
    co_text: str = ""
    due_month: int | None = None
    note: str = ""
    indicators: tuple[Indicator, ...] = ()
    milestones: tuple[Milestone, ...] = ()

    @property
    def key(self) -> str:
        return f"P{self.number:02d}"

    @property
    def end_month(self) -> int:
        return self.due_month or 12

    def indicators_for(self, unit: str) -> tuple[Indicator, ...]:
        """Indicators the lead ``unit`` reports (a second lead unit reports those assigned to it)."""
        if unit not in self.leads:
            return ()
        first = self.leads[0]
        return tuple(i for i in self.indicators if (i.lead or first) == unit)

    @property
    def split_indicators(self) -> tuple[Indicator, ...]:
        return tuple(i for i in self.indicators if i.split)


@dataclass(frozen=True)
class ProjectList:
    projects: tuple[Project, ...] = ()
    source: str = ""

    # Lookups are indexed once: a city-wide batch asks them for thousands of units.
    @functools.cached_property
    def _by_number(self) -> dict[int, Project]:
        return {p.number: p for p in self.projects}

    @functools.cached_property
    def _roles(self) -> tuple[dict[str, tuple[Project, ...]], dict[str, tuple[Project, ...]]]:
        led: dict[str, list[Project]] = {}
        co: dict[str, list[Project]] = {}
        for p in self.projects:
            for u in p.leads:
                led.setdefault(u, []).append(p)
            for u in p.co_units:
                if u not in p.leads:
                    co.setdefault(u, []).append(p)
        return ({u: tuple(ps) for u, ps in led.items()}, {u: tuple(ps) for u, ps in co.items()})

    def get(self, number: int) -> Project | None:
        return self._by_number.get(number)

    @functools.cached_property
    def _by_indicator(self) -> dict[tuple[int, int], Indicator]:
        out: dict[tuple[int, int], Indicator] = {}
        for p in self._by_number.values():  # the project get() gives, should a list repeat a number
            for i in p.indicators:
                out.setdefault((p.number, i.number), i)
        return out

    def indicator(self, project: int, number: int) -> Indicator | None:
        """Indicator ``number`` of project ``project`` (the first, should a list repeat a number)."""
        return self._by_indicator.get((project, number))

    @functools.cached_property
    def _by_row_key(self) -> dict[str, tuple[Project | None, Indicator | None]]:
        return {}  # filled as row keys are asked for: every return asks for the same ones

    def row(self, row_key: str) -> tuple[Project | None, Indicator | None]:
        """(project, indicator) a row key names (P02 / P02-I03; either None for what the list does not hold)."""
        found = self._by_row_key.get(row_key)
        if found is None:
            m = _ROW_KEY.fullmatch(row_key)
            project = self.get(int(m.group(1))) if m else None
            indicator = self.indicator(project.number, int(m.group(2))) if project and m and m.group(2) else None
            found = self._by_row_key[row_key] = (project, indicator)
        return found

    def led_by(self, unit: str) -> tuple[Project, ...]:
        return self._roles[0].get(unit, ())

    def co_led_by(self, unit: str) -> tuple[Project, ...]:
        return self._roles[1].get(unit, ())

    @functools.cached_property
    def units(self) -> tuple[str, ...]:
        """Every unit that leads or co-leads a project, leads first, in order of first appearance."""
        seen: dict[str, None] = {}
        for p in self.projects:
            for u in p.leads:
                seen.setdefault(u, None)
        for p in self.projects:
            for u in p.co_units:
                seen.setdefault(u, None)
        return tuple(seen)

    @functools.cached_property
    def indicators(self) -> tuple[Indicator, ...]:
        return tuple(i for p in self.projects for i in p.indicators)


def parse_comparator(text: str) -> str | None:
    """≥ / ≤ / = from a symbol or a word (以上, 不少于, 以内, …); None when unrecognised."""
    return _COMPARATOR_WORDS.get(compact(text))


def parse_due_month(text: str) -> int | None:
    """Month from 计划完成时间: 9, "9月", "2026-09", "12月底前", "年内", "秋季学期". None when not stated."""
    s = compact(text)
    if not s:
        return None
    m = re.search(r"(\d{4})[-/.年](\d{1,2})", s) or re.search(r"(?<!\d)(\d{1,2})(?:月|$)", s)
    if m:
        return int(m.groups()[-1])
    if "年内" in s or "年底" in s or "全年" in s:
        return 12
    if "秋季" in s:
        return 9
    if "上半年" in s:
        return 6
    return None


def unit_names(text: str, directory: Directory) -> list[str]:
    """The names in a unit cell. Spaces separate names (区发改局 区财政局) unless neighbouring words together are
    one directory name (区公共法律 服务中心, as copied from a PDF)."""
    words = split_names(text)
    out: list[str] = []
    i = 0
    while i < len(words):
        j = next((j for j in range(len(words), i + 1, -1) if directory.get("".join(words[i:j])) is not None
                  or directory.group_members("".join(words[i:j])) is not None), i + 1)
        out.append("".join(words[i:j]))
        i = j
    return out


def _resolve_units(text: str, directory: Directory, row: Row, key: str, fname: str, sheet: str,
                   findings: list[Finding]) -> tuple[str, ...]:
    out: list[str] = []
    for name in unit_names(text, directory):
        res = directory.resolve(name)
        if res.kind == "unknown" and name.startswith("各"):
            findings.append(finding("unit-unknown",
                                    f"「{name}」是单位分组，但单位名录中没有这个分组的成员。请在单位名录中逐个列出成员单位，"
                                    f"并在“分组”列填写「{name.removeprefix('各')}」。",
                                    file=fname, sheet=sheet, cell=row.cell(key)))
        elif res.kind == "unknown":
            hint = f"您是否要填「{'」或「'.join(res.suggestions)}」？" if res.suggestions else ""
            findings.append(finding("unit-unknown",
                                    f"单位「{name}」不在单位名录中。{hint}请改为名录中的全称或简称，或先把它加入单位名录。",
                                    file=fname, sheet=sheet, cell=row.cell(key)))
        for u in res.units:
            if u.name not in out:
                out.append(u.name)
    return tuple(out)


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    s = clean(value).replace(",", "")
    try:
        return float(s)
    except ValueError:
        return None


def _int(value: object) -> int | None:
    n = _number(value)
    return int(n) if n is not None and n.is_integer() else None


def load_project_list(path: Path, directory: Directory) -> tuple[ProjectList, list[Finding]]:
    """Read ``项目清单.xlsx`` and validate it against the directory; all problems are reported at once."""
    fname = path.name
    try:
        sheets = read_workbook(path)
    except TableError as exc:
        return ProjectList(), [finding("workbook-unreadable", f"{exc}。请确认它是用 Excel/WPS 保存的 .xlsx 文件。",
                                       file=fname)]
    findings: list[Finding] = []
    if PROJECT_SHEET not in sheets:
        findings.append(finding("sheet-missing", f"缺少工作表「{PROJECT_SHEET}」。现有工作表：{'、'.join(sheets)}。",
                                file=fname))
        return ProjectList(), findings

    rows = sheets[PROJECT_SHEET]
    header, cols = find_columns(rows, PROJECT_COLUMNS)
    for key in PROJECT_REQUIRED:
        if key not in cols:
            findings.append(finding("column-missing",
                                    f"工作表「{PROJECT_SHEET}」缺少列「{PROJECT_COLUMNS[key][0]}」，请在表头行补上。",
                                    file=fname, sheet=PROJECT_SHEET, cell=f"A{max(header, 0) + 1}"))
    if any(k not in cols for k in ("number", "name")):
        return ProjectList(), findings

    projects: dict[int, Project] = {}
    seen_cells: dict[int, str] = {}
    for row in iter_rows(rows, header, cols):
        number = _int(row.cells.get("number"))
        name = compact(row.text("name"))
        # A row with a bad or repeated 序号 is not kept, but its other cells are still checked, so that every
        # problem is reported at once.
        keep = True
        if number is None or number <= 0:
            findings.append(finding("project-number-missing",
                                    f"项目序号「{row.text('number')}」不是正整数，请填写 1、2、3……",
                                    file=fname, sheet=PROJECT_SHEET, cell=row.cell("number")))
            keep = False
        elif number in projects:
            findings.append(finding("project-number-duplicate",
                                    f"项目序号 {number} 重复（另见 {seen_cells[number]}），每个项目的序号应唯一。",
                                    file=fname, sheet=PROJECT_SHEET, cell=row.cell("number")))
            keep = False
        else:
            seen_cells[number] = row.cell("number")
        who = f"第 {number} 号项目" if number is not None and number > 0 else f"第 {row.index + 1} 行的项目"
        if not name:
            findings.append(finding("project-name-missing", f"{who}的名称为空，请填写项目名称。",
                                    file=fname, sheet=PROJECT_SHEET, cell=row.cell("name")))
        lead_text = row.text("lead") if "lead" in cols else ""
        co_text = row.text("co") if "co" in cols else ""
        leads = _resolve_units(lead_text, directory, row, "lead", fname, PROJECT_SHEET, findings) \
            if "lead" in cols else ()
        if "lead" in cols and not split_names(lead_text):
            findings.append(finding("project-lead-missing", f"{who}没有填写牵头单位。",
                                    file=fname, sheet=PROJECT_SHEET, cell=row.cell("lead")))
        co_units = _resolve_units(co_text, directory, row, "co", fname, PROJECT_SHEET, findings) \
            if "co" in cols else ()
        due_month = None
        if "due" in cols and row.text("due"):
            due_month = parse_due_month(row.text("due"))
            if due_month is None or not 1 <= due_month <= 12:
                findings.append(finding("due-month-invalid",
                                        f"计划完成时间「{row.text('due')}」无法识别为月份，请填写 1–12 的月份（如 9 或 9月）。",
                                        file=fname, sheet=PROJECT_SHEET, cell=row.cell("due")))
                due_month = None
        if not keep:
            continue
        projects[number] = Project(
            number=number, name=name, content=clean(row.cells.get("content")) if "content" in cols else "",
            leads=leads, co_units=tuple(u for u in co_units if u not in leads),
            lead_text="、".join(compact(n) for n in unit_names(lead_text, directory)),
            co_text="、".join(compact(n) for n in unit_names(co_text, directory)), due_month=due_month,
            note=row.text("note") if "note" in cols else "")
    if not projects and not findings:
        findings.append(finding("project-list-empty", "工作表「项目」中没有任何项目。", file=fname,
                                sheet=PROJECT_SHEET))

    indicators = _load_indicators(sheets, projects, directory, fname, findings)
    milestones = _load_milestones(sheets, projects, fname, findings)
    final = []
    for number in sorted(projects):
        p = projects[number]
        final.append(replace(p, indicators=tuple(sorted(indicators.get(number, []), key=lambda i: i.number)),
                             milestones=tuple(sorted(milestones.get(number, []), key=lambda m: m.month))))
    return ProjectList(tuple(final), source=fname), findings


def _load_indicators(sheets: dict, projects: dict[int, Project], directory: Directory, fname: str,
                     findings: list[Finding]) -> dict[int, list[Indicator]]:
    out: dict[int, list[Indicator]] = {}
    if INDICATOR_SHEET not in sheets:
        findings.append(finding("sheet-missing", f"缺少工作表「{INDICATOR_SHEET}」。现有工作表：{'、'.join(sheets)}。",
                                file=fname))
        return out
    rows = sheets[INDICATOR_SHEET]
    header, cols = find_columns(rows, INDICATOR_COLUMNS)
    sheet = INDICATOR_SHEET
    missing = [k for k in INDICATOR_REQUIRED if k not in cols]
    for key in missing:
        findings.append(finding("column-missing",
                                f"工作表「{sheet}」缺少列「{INDICATOR_COLUMNS[key][0]}」，请在表头行补上。",
                                file=fname, sheet=sheet, cell=f"A{max(header, 0) + 1}"))
    if any(k in missing for k in ("project", "number", "name", "target")):
        return out
    seen: set[tuple[int, int]] = set()
    for row in iter_rows(rows, header, cols):
        # A row with an unknown project or a bad 指标序号 is not kept, but its other cells are still checked.
        ok = True
        pnum = _int(row.cells.get("project"))
        project = projects.get(pnum) if pnum is not None else None
        if project is None:
            ok = False
            findings.append(finding("indicator-project-unknown",
                                    f"项目序号「{row.text('project')}」在工作表「项目」中不存在，请核对。",
                                    file=fname, sheet=sheet, cell=row.cell("project")))
        inum = _int(row.cells.get("number"))
        if inum is None or inum <= 0 or (pnum, inum) in seen:
            ok = False
            findings.append(finding("indicator-number-invalid",
                                    f"第 {row.text('project')} 号项目的指标序号「{row.text('number')}」为空、不是正整数或重复。",
                                    file=fname, sheet=sheet, cell=row.cell("number")))
        elif project is not None:
            seen.add((pnum, inum))
        name = clean(row.cells.get("name"))
        if not name:
            ok = False
            findings.append(finding("indicator-name-missing",
                                    f"第 {row.text('project')} 号项目第 {row.text('number')} 个指标没有名称。",
                                    file=fname, sheet=sheet, cell=row.cell("name")))
        target = _number(row.cells.get("target"))
        if target is None:
            ok = False
            findings.append(finding("target-not-number",
                                    f"目标值「{row.text('target')}」不是数字。请只填数字（如 100），"
                                    "“约”“以上”等写在「比较方式」或「说明」列。",
                                    file=fname, sheet=sheet, cell=row.cell("target")))
        elif target < 0:
            ok = False
            findings.append(finding("target-negative", f"目标值 {format_number(target)} 是负数，请核对。",
                                    file=fname, sheet=sheet, cell=row.cell("target")))
        comparator = parse_comparator(row.text("comparator")) if "comparator" in cols else "="
        if comparator is None:
            ok = False
            findings.append(finding("comparator-invalid",
                                    f"比较方式「{row.text('comparator')}」无法识别，请填 ≥（不少于）、≤（不超过）或 =。",
                                    file=fname, sheet=sheet, cell=row.cell("comparator")))
        split_text = row.text("split") if "split" in cols else ""
        if split_text not in ("是", "否", ""):
            ok = False
            findings.append(finding("split-invalid", f"「按协办单位分解」填的是「{split_text}」，只能填“是”或“否”。",
                                    file=fname, sheet=sheet, cell=row.cell("split")))
        split = split_text == "是"
        if split and project is not None and not project.co_units:
            findings.append(finding("split-without-co-units",
                                    f"第 {pnum} 号项目没有协办单位，指标不能按协办单位分解。",
                                    file=fname, sheet=sheet, cell=row.cell("split")))
            split = False
        lead = ""
        if project is not None and "lead" in cols and row.text("lead"):
            unit = directory.get(row.text("lead"))
            if unit is None or unit.name not in project.leads:
                ok = False
                findings.append(finding("indicator-lead-invalid",
                                        f"责任单位「{row.text('lead')}」不是第 {pnum} 号项目的牵头单位"
                                        f"（{'、'.join(project.leads) or '无'}）。",
                                        file=fname, sheet=sheet, cell=row.cell("lead")))
            else:
                lead = unit.name
        kind = parse_kind(row.text("kind")) if "kind" in cols else ""
        if kind is None:
            ok = False
            findings.append(finding("indicator-kind-invalid",
                                    f"指标类型「{row.text('kind')}」无法识别，请填 {'、'.join(KINDS)} 之一，或留空（按指标名称、"
                                    "计量单位和比较方式自动判断）。", file=fname, sheet=sheet, cell=row.cell("kind")))
        if not ok:
            continue
        out.setdefault(pnum, []).append(Indicator(
            project=pnum, number=inum, name=name, target=float(target), unit=compact(row.text("unit")),
            comparator=comparator or "=", split=split, lead=lead,
            note=row.text("note") if "note" in cols else "", text=row.text("text") if "text" in cols else "",
            review=("review" in cols and row.text("review") == "是"), kind=kind or ""))
    return out


def _load_milestones(sheets: dict, projects: dict[int, Project], fname: str,
                     findings: list[Finding]) -> dict[int, list[Milestone]]:
    out: dict[int, list[Milestone]] = {}
    if MILESTONE_SHEET not in sheets:
        return out
    rows = sheets[MILESTONE_SHEET]
    header, cols = find_columns(rows, MILESTONE_COLUMNS)
    if len(cols) < 3:
        findings.append(finding("column-missing", "工作表「时间节点」应有列：项目序号、月份、计划进度(%)。",
                                file=fname, sheet=MILESTONE_SHEET, cell="A1"))
        return out
    for row in iter_rows(rows, header, cols):
        pnum = _int(row.cells.get("project"))
        month = parse_due_month(row.text("month")) if not isinstance(row.cells.get("month"), float) \
            else _int(row.cells.get("month"))
        percent = _number(row.cells.get("percent"))
        ok = pnum in projects
        if not ok:
            findings.append(finding("indicator-project-unknown",
                                    f"时间节点的项目序号「{row.text('project')}」不存在。",
                                    file=fname, sheet=MILESTONE_SHEET, cell=row.cell("project")))
        # Each wrong cell is reported at its own place (月份 or 计划进度).
        for key, bad in (("month", month is None or not 1 <= month <= 12),
                         ("percent", percent is None or not 0 <= percent <= 100)):
            if bad:
                ok = False
                findings.append(finding("milestone-invalid",
                                        f"时间节点「{row.text('month')} / {row.text('percent')}」有误：月份应为 1–12，计划进度为 0–100。",
                                        file=fname, sheet=MILESTONE_SHEET, cell=row.cell(key)))
        if not ok:
            continue
        out.setdefault(pnum, []).append(Milestone(pnum, month, percent))
    return out


def write_project_list(path: Path, plist: ProjectList) -> None:
    """Write ``项目清单.xlsx`` in the standard format (atomically)."""
    from .xlsxout import OfficeBook, print_setup

    with OfficeBook(path) as book:
        fmt = book.fmt
        ws = book.sheet(PROJECT_SHEET)
        headings = ["序号", "项目名称", "项目主要内容", "牵头单位", "协办单位", "计划完成时间", "备注"]
        widths = [6, 20, 60, 18, 24, 12, 16]
        book.header(ws, 0, headings, widths)
        for r, p in enumerate(plist.projects, start=1):
            values = [p.number, p.name, p.content, p.lead_text or "、".join(p.leads),
                      p.co_text or "、".join(p.co_units), f"{p.due_month}月" if p.due_month else "", p.note]
            book.text_row(ws, r, values, widths)
        ws.freeze_panes(1, 2)
        print_setup(ws, repeat=(0, 0))  # A4 landscape, as wide as the page, the header on every page

        ws = book.sheet(INDICATOR_SHEET)
        headings = ["项目序号", "指标序号", "指标名称", "目标值", "计量单位", "比较方式", "按协办单位分解", "责任单位",
                    "说明", "原文", "待核对", "指标类型"]
        widths = [8, 8, 26, 10, 9, 8, 10, 14, 20, 36, 7, 9]
        book.header(ws, 0, headings, widths)
        indicators = plist.indicators
        for r, i in enumerate(indicators, start=1):
            # The kind is written out (inferred when the list did not say), and a doubtful inference is 待核对.
            values = [i.project, i.number, i.name, i.target, i.unit, i.comparator, "是" if i.split else "否",
                      i.lead, i.note, i.text, "是" if i.review or i.kind_doubtful else "", i.measure_kind]
            book.text_row(ws, r, values, widths)
        last = max(len(indicators), 200)
        ws.data_validation(1, 11, last, 11, {"validate": "list", "source": list(KINDS),
                                             "input_title": "指标类型",
                                             "input_message": "累计数：逐期累加的数量；比率：某一时点的水平（%、满意度、覆盖率），"
                                                              "不累加；上限：不超过的值（≤）；节点：是否完成。"})
        ws.data_validation(1, 5, last, 5, {"validate": "list", "source": list(COMPARATORS)})
        ws.data_validation(1, 6, last, 6, {"validate": "list", "source": ["是", "否"]})
        ws.data_validation(1, 3, last, 3, {"validate": "decimal", "criteria": ">=", "value": 0,
                                           "error_title": "目标值", "error_message": "目标值只能填不小于 0 的数字。"})
        ws.freeze_panes(1, 3)
        print_setup(ws, repeat=(0, 0))

        ws = book.sheet(MILESTONE_SHEET)
        book.header(ws, 0, ["项目序号", "月份", "计划进度(%)"], [10, 8, 12])
        r = 1
        for p in plist.projects:
            for m in p.milestones:
                book.text_row(ws, r, [m.project, m.month, m.percent])
                r += 1
        ws.set_column(4, 4, 60)
        ws.write_string(0, 4, "说明：可选。不填时，序时进度按 1 月至计划完成月份平均推进计算。", fmt("plain"))
        print_setup(ws, repeat=(0, 0))
