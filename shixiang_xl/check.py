"""Checks on the values of returns, on plain data: every finding at once, none stops the others.

``check_values`` checks one return against the spec, the project list and what the unit reported before;
``check_batch`` checks across the returns of a period (co-units' shares against the lead's figure).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from .findings import Finding, finding
from .measures import KIND_MILESTONE, completion, is_count, meets_target, scale
from .period import Period
from .projects import ProjectList
from .reader import CellValue, ReadResult
from .spec import STATUSES, Column, TemplateSpec
from .textnorm import clean, compact, format_number, parse_number_text

MIN_PROGRESS_TEXT = 15
MAX_TEXT = 2000
FAR_ABOVE_TARGET = 1.5
# Beyond these a figure is a typing or unit mistake, never a result: refused at the cell so that no ledger or
# document ever states it (or a completion rate computed from it).
MAX_NUMBER = 1e12
MAX_TIMES_TARGET = 100
LEVEL_UNUSED = ("current",)  # columns a level (比率, 上限) or a node (节点) does not fill in
NODE_ANSWERS = {"是": 1.0, "已完成": 1.0, "完成": 1.0, "否": 0.0, "未完成": 0.0}
SCALE_SUSPECT = 1000.0  # a value 10³ times (or a thousandth of) its 万-scaled target is far from any real figure
PROGRESS_TOLERANCE = 30.0
SHARE_TOLERANCE = 0.01
_MOBILE = re.compile(r"^(?:\+?86)?1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^(?:\(?0\d{2,3}\)?-?)?[2-9]\d{6,7}(?:-\d{1,6})?$")

Key = tuple[str, str]  # (sheet kind, row key)


@dataclass
class Checked:
    """A return's values after checking: numbers parsed, text cleaned; plus its findings."""

    values: dict[Key, dict[str, Any]] = field(default_factory=dict)
    fields: dict[str, Any] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)


@dataclass(frozen=True)
class History:
    """What the unit's accepted returns said before this period."""

    cumulative: Mapping[Key, float] = field(default_factory=dict)
    texts: Mapping[Key, str] = field(default_factory=dict)


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


class _Checker:
    def __init__(self, spec: TemplateSpec, plist: ProjectList, period: Period, unit: str, fname: str,
                 history: History) -> None:
        self.spec, self.plist, self.period, self.unit, self.fname = spec, plist, period, unit, fname
        self.history = history
        self.out = Checked()
        self._where: dict[Key, str] = {}

    def add(self, code: str, cv: CellValue, message: str) -> None:
        self.out.findings.append(finding(code, message, file=self.fname, sheet=cv.sheet, cell=cv.cell,
                                         unit=self.unit))

    def where(self, key: Key) -> str:
        """A human name for a row: 第2号项目“优化养老服务供给”的“新增护理型床位”."""
        name = self._where.get(key)
        if name is None:
            name = self._where[key] = self._name(key)
        return name

    def _name(self, key: Key) -> str:
        project, ind = self.plist.row(key[1])
        if project is None:
            return key[1]
        text = f"第{project.number}号项目“{project.name}”"
        return text + f"的“{ind.name}”" if ind is not None else text

    def number(self, col: Column, cv: CellValue, what: str) -> float | None:
        v = cv.value
        if _blank(v):
            return None
        if isinstance(v, bool):
            self.add("number-unreadable", cv, f"{what}填的是逻辑值，请填写数字。")
            return None
        if isinstance(v, (int, float)):
            number = float(v)
        elif isinstance(v, (dt.date, dt.datetime)):
            self.add("number-unreadable", cv, f"{what}填成了日期「{v}」，请填写数字。")
            return None
        else:
            number, how = parse_number_text(str(v))
            if number is None:
                self.add("number-unreadable", cv, f"{what}填写的「{clean(v)[:40]}」无法识别为数字，请只填数字（如 120），不要带单位或文字。")
                return None
            self.add("text-in-number-cell", cv, f"{what}填写的是文字，{how}。请只填数字，不要带单位、“约”等文字。")
        if not math.isfinite(number) or abs(number) > MAX_NUMBER:
            self.add("number-implausible", cv, f"{what}填写的数值大得不合常理（超过 {MAX_NUMBER:.0e} 或无法表示），"
                     "请核对后填写实际数值。")
            return None
        if number < 0:
            self.add("negative-number", cv, f"{what}是负数（{format_number(number)}），请核对后填写不小于 0 的数。")
            return None
        if col.type == "percent":
            if 0 < number < 1 and not isinstance(v, str):
                self.add("percent-as-fraction", cv, f"{what}填的是 {format_number(number)}，疑似把 {format_number(number * 100)}% "
                         f"按小数填写，已按 {format_number(number * 100)} 读取。请直接填 0–100 的数字。")
                number *= 100
            if number > 100:
                self.add("percent-out-of-range", cv, f"{what}为 {format_number(number)}，超出 0–100，请核对。")
                return None
        return number

    def text(self, cv: CellValue, what: str) -> str:
        s = clean(cv.value) if not isinstance(cv.value, float) else format_number(cv.value)
        if len(s) > MAX_TEXT:
            self.add("text-too-long", cv, f"{what}超过 {MAX_TEXT} 字，已截断保存。请精简后重新报送。")
            s = s[:MAX_TEXT]
        return s

    def run(self, read: ReadResult) -> Checked:
        for (kind, row_key), cells in read.values.items():
            sheet = self.spec.lead if kind == "lead" else self.spec.co
            row_values: dict[str, Any] = {}
            where = self.where((kind, row_key))
            one_value = self._one_value(row_key)
            for key, cv in cells.items():
                col = sheet.column(key)
                if col is not None and one_value and key in LEVEL_UNUSED and self._is_node(row_key):
                    row_values[key] = self.node_date(cv, f"{where}的完成日期")  # a node's cell for its date
                    continue
                if col is None or (one_value and key in LEVEL_UNUSED):
                    continue  # a level (比率, 上限) has one input: nothing “this period”
                cv = self._node_answer(row_key, key, cv)
                what = f"{where}的“{col.heading}”"
                if col.required and _blank(cv.value):
                    self.add("required-empty", cv, f"{what}未填写，这是必填项，请补充。")
                    row_values[key] = None
                    continue
                if col.is_numeric:
                    row_values[key] = self.number(col, cv, what)
                elif col.type == "status":
                    s = compact(cv.value)
                    if s and s not in STATUSES:
                        self.add("status-invalid", cv, f"{what}填的是「{s}」，请从下拉列表选择：未启动、推进中、已完成。")
                        s = ""
                    row_values[key] = s or None
                else:
                    row_values[key] = self.text(cv, what) or None
            self.out.values[(kind, row_key)] = row_values
            self.row_rules((kind, row_key), cells, row_values)
        self.project_rules(read)
        self.field_rules(read)
        return self.out

    def row_rules(self, key: Key, cells: dict[str, CellValue], v: dict[str, Any]) -> None:
        kind, row_key = key
        what = self.where(key)
        ind = self._indicator(row_key)
        # A value 10⁴ times a 万-scaled target has a better message than "implausible": what was probably meant.
        misscaled = self.measure_rules(key, cells, v)
        if ind is not None and ind.target > 0 and not misscaled:
            for col_key in ("cumulative", "current"):
                value = v.get(col_key)
                if isinstance(value, float) and col_key in cells and value > ind.target * MAX_TIMES_TARGET:
                    col = (self.spec.lead if kind == "lead" else self.spec.co).column(col_key)
                    self.add("number-implausible", cells[col_key],
                             f"{what}的“{col.heading if col else col_key}”填写 {format_number(value)}，"
                             f"超过目标 {format_number(ind.target)}{ind.unit} 的 {MAX_TIMES_TARGET} 倍，不合常理。"
                             "请核对数值和计量单位后重新填写。")
                    v[col_key] = None
        cum, cur = v.get("cumulative"), v.get("current")
        last = self.history.cumulative.get(key, 0.0)
        if self._is_node(row_key):
            self.node_rules(key, cells, v)
        elif self._one_value(row_key):
            self.level_rules(key, cells, v)
        elif cum is not None and "cumulative" in cells:
            if cum < last - 1e-9:
                self.add("cumulative-decreased", cells["cumulative"],
                         f"{what}累计完成值 {format_number(cum)} 小于上期累计 {format_number(last)}。累计值只增不减，请核对。")
            elif cur is not None and abs((cum - last) - cur) > 1e-6 * max(1.0, abs(cum)):
                self.add("current-mismatch", cells["current"],
                         f"{what}本期完成值 {format_number(cur)} 不等于累计完成值 {format_number(cum)} 减上期累计 "
                         f"{format_number(last)}（应为 {format_number(cum - last)}），请核对。")
            if ind is not None and kind == "lead" and ind.comparator != "≤" and ind.target > 0 and ind.unit != "%" \
                    and cum > ind.target * FAR_ABOVE_TARGET and not misscaled:
                self.add("cumulative-above-target", cells["cumulative"],
                         f"{what}累计完成 {format_number(cum)}{ind.unit}，是目标 {format_number(ind.target)}{ind.unit} 的 "
                         f"{cum / ind.target:.0%}，请确认数字无误。")
            if ind is not None and ind.unit == "%" and 0 < cum < 1 and ind.target > 1:
                self.add("percent-as-fraction", cells["cumulative"],
                         f"{what}为 {format_number(cum)}，目标是 {format_number(ind.target)}%，疑似按小数填写，请填百分数（如 96）。")
        text = v.get("progress_text")
        if "progress_text" in cells and text:
            if len(text) < MIN_PROGRESS_TEXT:
                self.add("progress-text-short", cells["progress_text"],
                         f"{what}进展情况只有 {len(text)} 个字，过于简略。请写明本期做了什么、完成了多少（不少于 {MIN_PROGRESS_TEXT} 字）。")
            elif compact(self.history.texts.get(key, "")) == compact(text):
                self.add("progress-text-copied", cells["progress_text"],
                         f"{what}进展情况与上期报送的完全相同，请填写本期的新进展。")

    def _one_value(self, row_key: str) -> bool:
        """One value, not 本期/累计: a level (比率, 上限) or a node (节点)."""
        ind = self._indicator(row_key)
        return ind is not None and ind.one_value

    def _is_node(self, row_key: str) -> bool:
        ind = self._indicator(row_key)
        return ind is not None and ind.measure_kind == KIND_MILESTONE

    def node_date(self, cv: CellValue, what: str) -> str | None:
        """A node's completion date as ISO text; within this year up to the latest a report of the period is
        made, else a warning at the cell (and no date)."""
        if _blank(cv.value):
            return None
        date = _as_date(cv.value)
        first, latest = dt.date(self.period.year, 1, 1), self.period.end + dt.timedelta(days=92)
        if date is None or not first <= date <= latest:
            shown = date.isoformat() if date else clean(cv.value)
            self.add("date-invalid", cv, f"{what}「{shown}」无法识别或不在 {first.isoformat()} 至 {latest.isoformat()} "
                     "之间，请填写完成日期，如 2026-3-20。")
            return None
        return date.isoformat()

    def node_rules(self, key: Key, cells: dict[str, CellValue], v: dict[str, Any]) -> None:
        """A node's 是否完成 and its completion date agree: 是 has a date, a date goes with 是."""
        done, date, date_cell = v.get("cumulative"), v.get("current"), cells.get("current")
        if date_cell is None:
            return  # a spec without the date's column: nothing to compare
        what = self.where(key)
        if done == 1.0 and date is None and _blank(date_cell.value):
            self.add("node-date-missing", date_cell, f"{what}已选“是”（已完成），但没有填完成日期，请在此格填写，如 2026-3-20。")
        elif date is not None and done != 1.0:
            self.add("node-date-not-done", date_cell, f"{what}填了完成日期 {date}，但“是否完成”没有选“是”。"
                     "已完成的请选“是”；尚未完成的，请删去完成日期。")

    def _node_answer(self, row_key: str, key: str, cv: CellValue) -> CellValue:
        """A 节点 indicator's 是/否 (已完成/未完成) read as 1/0."""
        ind = self._indicator(row_key)
        if key == "cumulative" and ind is not None and ind.measure_kind == KIND_MILESTONE \
                and isinstance(cv.value, str) and compact(cv.value) in NODE_ANSWERS:
            return CellValue(NODE_ANSWERS[compact(cv.value)], cv.sheet, cv.cell)
        return cv

    def level_rules(self, key: Key, cells: dict[str, CellValue], v: dict[str, Any]) -> None:
        """A level (比率, 上限) is its current value: never below last period's by rule, never added up; a
        percentage above 100 is an error."""
        ind = self._indicator(key[1])
        cum, cv = v.get("cumulative"), cells.get("cumulative")
        if ind is None or cum is None or cv is None or not ind.is_level:
            return
        if ind.unit in ("%", "％") and cum > 100:
            self.add("percent-out-of-range", cv, f"{self.where(key)}当前值为 {format_number(cum)}%，超出 0–100，请核对。")
        elif ind.unit in ("%", "％") and 0 < cum < 1 and ind.target > 1:
            self.add("percent-as-fraction", cv, f"{self.where(key)}为 {format_number(cum)}，目标是 "
                     f"{format_number(ind.target)}%，疑似按小数填写，请填百分数（如 96）。")

    def measure_rules(self, key: Key, cells: dict[str, CellValue], v: dict[str, Any]) -> bool:
        """A number against its measure word: a value about 10⁴ times (or 1/10⁴ of) a 万-scaled target is an error
        saying what was probably meant; a fraction of counted things (家, 处, 人次 …) is an error. True when a
        value looked mis-scaled (the far-above-target warning would only repeat it)."""
        ind = self._indicator(key[1])
        if ind is None:
            return False
        what = self.where(key)
        factor, base = scale(ind.unit)
        misscaled = False
        for col in ("current", "cumulative"):
            value, cv = v.get(col), cells.get(col)
            if not isinstance(value, float) or cv is None or value <= 0:
                continue  # blank, or a node's completion date
            heading = self.spec.lead.column(col) or self.spec.co.column(col)
            label = heading.heading if heading is not None else col
            if ind.target > 0 and factor > 1 and value >= ind.target * SCALE_SUSPECT:
                misscaled = True
                self.add("unit-scale-mismatch", cv,
                         f"{what}的“{label}”填写 {format_number(value)}，是目标 {format_number(ind.target)}{ind.unit} "
                         f"的 {format_number(value / ind.target, 0)} 倍。您填写的 {format_number(value)} 是否为 "
                         f"{format_number(value)} {base}，即 {format_number(value / factor, 4)} {ind.unit}？请按计量单位"
                         f"“{ind.unit}”填写（填 {format_number(value / factor, 4)}）。")
            elif ind.target > 0 and factor > 1 and value <= ind.target / SCALE_SUSPECT:
                misscaled = True
                self.add("unit-scale-mismatch", cv,
                         f"{what}的“{label}”填写 {format_number(value, 6)}，只有目标 {format_number(ind.target)}{ind.unit} "
                         f"的万分之一左右，计量单位是“{ind.unit}”，请核对是否多换算了一次万（应填 "
                         f"{format_number(value * factor, 4)}？）。")
            elif ind.target >= factor * SCALE_SUSPECT and factor == 1 and is_count(ind.unit) \
                    and value <= ind.target / SCALE_SUSPECT and not value.is_integer():
                misscaled = True
                self.add("unit-scale-mismatch", cv,
                         f"{what}的“{label}”填写 {format_number(value, 4)}，计量单位是“{ind.unit}”（目标 "
                         f"{format_number(ind.target)}{ind.unit}）。您填写的是否为 {format_number(value, 4)} 万{ind.unit}，"
                         f"即 {format_number(value * 10_000)} {ind.unit}？请按“{ind.unit}”填写整数。")
            elif is_count(ind.unit) and not ind.one_value and not float(value).is_integer():
                self.add("fraction-in-count", cv,
                         f"{what}的“{label}”填写 {format_number(value, 4)}，但“{ind.unit}”按个数计，应为整数。"
                         f"请核对后填写整数（如 {format_number(math.floor(value + 0.5))}）。")
        return misscaled

    def project_rules(self, read: ReadResult) -> None:
        for (kind, row_key), v in self.out.values.items():
            if kind != "lead" or "-" in row_key:
                continue
            cells = read.values[(kind, row_key)]
            status, progress = v.get("status"), v.get("progress")
            what = self.where((kind, row_key))
            if "status" in cells and status == "已完成" and progress is not None and progress < 100:
                self.add("done-below-100", cells["status"],
                         f"{what}状态为“已完成”，但总体进度只有 {format_number(progress)}%。请核对状态或进度。")
            if "status" in cells and status == "未启动" and progress:
                self.add("not-started-with-progress", cells["status"],
                         f"{what}状态为“未启动”，但总体进度为 {format_number(progress)}%。请核对状态或进度。")
            if "status" in cells and status:
                self.status_rule((kind, row_key), cells["status"], status)
            derived = self.derived_progress(row_key)
            if "progress" in cells and progress is not None and derived is not None \
                    and abs(progress - derived) > PROGRESS_TOLERANCE:
                self.add("progress-inconsistent", cells["progress"],
                         f"{what}总体进度填 {format_number(progress)}%，而各指标平均完成 {format_number(derived, 0)}%，"
                         "相差较大，请核对。")

    def status_rule(self, key: Key, cv: CellValue, status: str) -> None:
        """The unit's 状态 against its own figures: 已完成 with an indicator short of its target, or every
        indicator at its target while the unit says the project is not done. The status stays the unit's; the
        disagreement is a finding for the office to resolve."""
        rows = []
        for (kind, row_key), v in self.out.values.items():
            if kind == "lead" and row_key.startswith(key[1] + "-"):
                ind = self._indicator(row_key)
                if ind is not None:
                    rows.append((ind, v.get("cumulative")))
        if not rows:
            return
        short = [(ind, cum) for ind, cum in rows if not meets_target(ind.target, ind.comparator, cum)]
        what = self.where(key)
        if status == "已完成" and short:
            ind, cum = short[0]
            have = "未填写" if cum is None else f"累计 {format_number(cum)}{ind.unit}"
            more = f"等 {len(short)} 项指标" if len(short) > 1 else ""
            self.add("status-contradicts-figures", cv,
                     f"{what}状态为“已完成”，但“{ind.name}”{have}，未达到目标 {ind.target_text}{more}。"
                     "请核对状态或数字；在核实之前，台账和公文不把该项目计为已完成。")
        elif status != "已完成" and not short:
            self.add("status-contradicts-figures", cv,
                     f"{what}各项指标均已达到目标，但状态为“{status}”。如项目确已完成，请选择“已完成”；"
                     "否则请在进展情况中说明尚未完成的工作。台账按单位填报的状态显示，不计为已完成。")

    def derived_progress(self, project_key: str) -> float | None:
        """Mean completion (capped at 100) of the project's indicators this unit reported."""
        rates = []
        for (kind, row_key), v in self.out.values.items():
            if kind != "lead" or not row_key.startswith(project_key + "-"):
                continue
            ind = self._indicator(row_key)
            cum = v.get("cumulative")
            if ind is None or cum is None or ind.target <= 0 or (ind.comparator == "≤" and not ind.is_level):
                continue
            rate = completion(ind.measure_kind, ind.target, ind.comparator, cum)
            if rate is not None:
                rates.append(min(100.0, rate * 100))
        return sum(rates) / len(rates) if rates else None

    def _indicator(self, row_key: str):
        return self.plist.row(row_key)[1]

    def field_rules(self, read: ReadResult) -> None:
        for f in self.spec.fields:
            cv = read.fields.get(f.key)
            if cv is None:
                if f.required:
                    self.out.findings.append(finding("required-empty", f"找不到“{f.heading}”一栏，请使用下发的填报表填写。",
                                                     file=self.fname, sheet=self.spec.info_sheet, unit=self.unit))
                continue
            if _blank(cv.value):
                if f.required:
                    self.add("required-empty", cv, f"“{f.heading}”未填写，这是必填项，请补充。")
                self.out.fields[f.key] = None
                continue
            if f.type == "phone":
                raw = format_number(cv.value) if isinstance(cv.value, float) else clean(cv.value)
                digits = re.sub(r"[\s（）()－—]", "", raw).replace("－", "-")
                if not (_MOBILE.match(digits.replace("-", "")) or _LANDLINE.match(digits)):
                    self.add("phone-invalid", cv, f"联系电话「{raw}」不是有效的手机或座机号码，请填写如 13812345678 或 0537-3412345。")
                self.out.fields[f.key] = raw
            elif f.type == "date":
                date = _as_date(cv.value)
                latest = self.period.end + dt.timedelta(days=92)
                if date is None or not self.period.start <= date <= latest:
                    shown = date.isoformat() if date else clean(cv.value)
                    self.add("date-invalid", cv, f"“{f.heading}”「{shown}」无法识别或不在本报送期内"
                             f"（{self.period.start.isoformat()} 至 {latest.isoformat()}），请核对。")
                self.out.fields[f.key] = date.isoformat() if date else clean(cv.value)
            else:
                self.out.fields[f.key] = clean(cv.value)


def _as_date(v: Any) -> dt.date | None:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    if isinstance(v, (int, float)) and not isinstance(v, bool) and 20000 < v < 80000:
        return dt.date(1899, 12, 30) + dt.timedelta(days=int(v))  # an Excel serial date
    s = clean(v)
    m = re.search(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})", s)
    if m:
        try:
            return dt.date(*map(int, m.groups()))
        except ValueError:
            return None
    return None


def check_values(read: ReadResult, *, spec: TemplateSpec, plist: ProjectList, period: Period, unit: str,
                 fname: str, history: History | None = None) -> Checked:
    """Check one return's values; returns parsed values and every finding."""
    return _Checker(spec, plist, period, unit, fname, history or History()).run(read)


@dataclass(frozen=True)
class UnitReturn:
    """What ``check_batch`` needs of an accepted return."""

    unit: str
    file: str
    values: Mapping[Key, Mapping[str, Any]]
    cells: Mapping[Key, Mapping[str, CellValue]]


def check_batch(returns: Iterable[UnitReturn], plist: ProjectList) -> list[Finding]:
    """Across units: the co-units' shares of a split indicator against the lead's cumulative figure."""
    returns = list(returns)
    findings: list[Finding] = []
    for project in plist.projects:
        for ind in project.split_indicators:
            lead_unit = ind.lead or (project.leads[0] if project.leads else "")
            lead = next((r for r in returns if r.unit == lead_unit), None)
            if lead is None:
                continue
            lead_cum = lead.values.get(("lead", ind.key), {}).get("cumulative")
            shares = [r.values.get(("co", ind.key), {}).get("cumulative") for r in returns
                      if r.unit in project.co_units]
            shares = [s for s in shares if s is not None]
            if lead_cum is None or not shares:
                continue
            total = sum(shares)
            # Each share is typically rounded to 0.01, so allow that much per share besides the relative tolerance.
            slack = max(SHARE_TOLERANCE * lead_cum, 0.01 * len(shares)) + 1e-9
            if len(shares) == len(project.co_units) and abs(total - lead_cum) > slack or total > lead_cum + slack:
                cv = lead.cells.get(("lead", ind.key), {}).get("cumulative")
                findings.append(finding(
                    "co-share-mismatch",
                    f"第{project.number}号项目“{ind.name}”：{len(shares)} 个协办单位填报的累计数合计 {format_number(total)}{ind.unit}，"
                    f"与牵头单位填报的 {format_number(lead_cum)}{ind.unit} 不一致，请牵头单位与协办单位核对。",
                    file=lead.file, sheet=cv.sheet if cv else "", cell=cv.cell if cv else "", unit=lead_unit))
    return findings
