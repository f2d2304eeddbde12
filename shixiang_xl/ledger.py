"""The 台账: built as plain data from the period's accepted values (``build_ledger``), then written as the
office's print-ready workbook (``write_ledger``). Building knows nothing of files; writing knows nothing of returns.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterable, Iterator, Mapping, NamedTuple, Sequence

from .config import Config
from .figures import (SUBMIT_BACK, SUBMIT_LATE, SUBMIT_MISSING, SUBMIT_ON_TIME, SubmissionFigures, count_by,
                      late_days, lateness_doubtful, submission_state)  # the reporting states and summary figures, defined once (re-exported)
from .findings import Finding, finding
from .measures import KIND_COUNT, KIND_MILESTONE, completion, meets_target
from .period import Period, expected_progress
from .projects import Indicator, Project, ProjectList
from .spec import LEDGER_KEYS, Column, TemplateSpec
from .textnorm import cn_date, format_number
from .xlsxout import (Formats, atomic_output, fit_heading, fit_width, new_workbook, print_setup, row_height,
                      write_cells, write_rows)

Values = Mapping[tuple[str, str], Mapping[str, Any]]  # (sheet kind, row key) → column key → value

STATUS_DONE, STATUS_AHEAD, STATUS_ON, STATUS_LAG, STATUS_NOT = "已完成", "超前", "序时推进", "滞后", "未启动"
STATUS_NONE = "未报送"
STATUS_COLORS = {STATUS_DONE: "#C6EFCE", STATUS_AHEAD: "#DDEBF7", STATUS_ON: "#FFFFFF", STATUS_LAG: "#FFC7CE",
                 STATUS_NOT: "#FFEB9C", STATUS_NONE: "#D9D9D9"}


@dataclass(frozen=True)
class UnitSubmission:
    """How a unit stands this period (from the batch)."""

    unit: str
    status: str  # accepted | rejected | missing
    received_at: str = ""
    file: str = ""
    errors: int = 0
    warnings: int = 0
    corrected_at: str = ""  # when the clerk set the receipt time (``shixiang receipt``), else ""


@dataclass(frozen=True)
class LedgerInput:
    """Everything the ledger is built from, as plain data."""

    config: Config
    spec: TemplateSpec
    projects: ProjectList
    period: Period
    values: Mapping[str, Values]  # unit → its accepted values this period
    stale: Mapping[str, str]  # unit → label of the older accepted data shown for it (退回修改 / 未报送)
    last_cumulative: Mapping[str, Mapping[tuple[str, str], float]]  # unit → before this period
    submissions: Mapping[str, UnitSubmission]
    contacts: Mapping[str, tuple[str, str]]  # unit → (contact, phone)
    history: Mapping[str, Mapping[int, float]]  # earlier period slug → project number → completion
    findings: Sequence[Finding] = ()
    survey: Mapping[int, Mapping[str, Any]] = field(default_factory=dict)  # project number → tally figures


class IndicatorRow(NamedTuple):
    """One row of 指标明细."""

    project: int
    key: str
    name: str
    unit_name: str  # the reporting unit (lead, or the co-unit for a share)
    is_share: bool
    target: float
    measure: str
    comparator: str
    last: float | None
    current: float | None
    cumulative: float | None
    rate: float | None  # 0..n (1.0 = 100 %)
    expected: float  # 0..100
    gap: float | None  # percentage points, completion − expected
    kind: str = KIND_COUNT  # 累计数 / 比率 / 上限 / 节点: for a level, cumulative is the current value
    extra: tuple[tuple[str, str], ...] = ()  # the spec's own indicator-scope inputs: (heading, text)
    completed_on: str = ""  # a node's completion date as the unit reported it (ISO)


@dataclass(frozen=True, slots=True)
class ProjectRow:
    number: int
    name: str
    targets: str
    leads: str
    co_units: str
    progress_text: str
    completion: float | None  # from indicators, 0..100
    reported: float | None  # 总体进度 as reported
    expected: float
    status: str
    problems: str
    next_steps: str
    note: str  # e.g. 区医保局：退回修改，显示上次通过的数据
    extra: tuple[tuple[str, str], ...] = ()  # spec columns beyond the standard ones: (heading, text)
    survey: Mapping[str, Any] | None = None
    reported_status: str = ""  # 状态 as the lead unit(s) reported it, never overwritten
    figures_met: bool | None = None  # every indicator at its target (None: no indicators or no figures)

    @property
    def contradiction(self) -> str:
        """Why the unit's 状态 and the figures disagree ("" when they agree or there is nothing to compare)."""
        return status_disagreement(self.reported_status, self.figures_met)

    @property
    def progress(self) -> float | None:
        """The completion the status is judged on: from indicators when there are any, else as reported."""
        return self.completion if self.completion is not None else self.reported


def status_disagreement(reported_status: str, met: bool | None) -> str:
    """The note the ledger and the documents show when the unit's 状态 and its figures disagree, else ""."""
    if met is None or not reported_status:
        return ""
    said_done = reported_status == "已完成"
    if said_done and not met:
        return "牵头单位填报“已完成”，但指标尚未全部达到目标，待核实"
    if met and not said_done:
        return f"指标均已达到目标，但牵头单位填报“{reported_status}”，待核实"
    return ""


@dataclass(frozen=True, slots=True)
class SubmissionRow:
    unit: str
    role: str
    status: str
    received_at: str
    file: str
    errors: int
    warnings: int
    contact: str
    phone: str
    note: str = ""  # a receipt time set by the clerk, or one that is questioned


@dataclass(frozen=True, slots=True)
class BulletinRow:
    kind: str  # 表扬 | 曝光
    unit: str
    reason: str


@dataclass(frozen=True)
class LedgerData:
    title: str
    subtitle: str
    period: Period
    projects: Sequence[ProjectRow]
    indicators: Sequence[IndicatorRow]
    submissions: Sequence[SubmissionRow]
    bulletin: Sequence[BulletinRow]
    trend_periods: tuple[str, ...]
    trend: Sequence[tuple[int, str, tuple[float | None, ...], float]]  # (number, name, completions, expected)
    findings: tuple[Finding, ...]
    lag_threshold: float
    trend_expected: tuple[float, ...] = ()  # the projects' mean 序时进度 at each of trend_periods
    stale: tuple[tuple[str, str], ...] = ()  # (unit, why older data are shown for it), sorted by unit

    @property
    def figures(self) -> SubmissionFigures:
        """报送率, 按时报送率, 需催报 … of this period (figures.py defines them)."""
        return SubmissionFigures.of(s.status for s in self.submissions)

    @property
    def reporting_rate(self) -> float:
        """报送率 (as ``figures.reporting_rate``)."""
        return self.figures.reporting_rate

    def status_counts(self) -> dict[str, int]:
        """Projects by status: 已完成, 超前, 序时推进, 滞后, 未启动, 未报送."""
        return count_by((p.status for p in self.projects),
                        (STATUS_DONE, STATUS_AHEAD, STATUS_ON, STATUS_LAG, STATUS_NOT, STATUS_NONE))


def indicator_rate(ind: Indicator, cumulative: float | None) -> float | None:
    """Completion rate (1.0 = 100 %) by the indicator's kind (measures.completion): a count against its target, a
    level (比率) against its target capped at 100 %, a ceiling (上限) or a node (节点) met or not."""
    return completion(ind.measure_kind, ind.target, ind.comparator, cumulative)


def project_status(progress: float | None, expected: float, threshold: float, reported_status: str | None,
                   has_data: bool, *, done: bool = False) -> str:
    """已完成 / 超前 / 序时推进 / 滞后 / 未启动 (or 未报送 when nobody reported).

    已完成 only when ``done``: every indicator meets its target **and** the unit itself says 已完成
    (:func:`confirmed_done`); figures alone, however high, never make a project 已完成.
    """
    if not has_data:
        return STATUS_NONE
    if done:
        return STATUS_DONE
    if (progress is None or progress <= 0) and reported_status in (None, "未启动"):
        return STATUS_NOT
    if progress is None:
        return STATUS_ON
    if progress < expected - threshold:
        return STATUS_LAG
    if progress > expected + threshold:
        return STATUS_AHEAD
    return STATUS_ON


def figures_met(indicators: Sequence[IndicatorRow]) -> bool | None:
    """Every indicator of the project (not the co-units' shares) at its target; None without indicators."""
    rows = [r for r in indicators if not r.is_share]
    if not rows:
        return None
    return all(meets_target(r.target, r.comparator, r.cumulative) for r in rows)


def confirmed_done(met: bool | None, reported: Sequence[str | None], progress: float | None) -> bool:
    """已完成 as the ledger and the documents call it: the unit(s) say 已完成 and the figures agree (every
    indicator at its target; for a project without indicators, the reported 总体进度 is 100)."""
    if not reported or any(s != "已完成" for s in reported):
        return False
    if met is None:
        return progress is not None and progress >= 100 - 1e-9
    return met


def _join(parts: Sequence[tuple[str, str]], single: bool) -> str:
    parts = [(u, t) for u, t in parts if t]
    if not parts:
        return ""
    if single and len(parts) == 1:
        return parts[0][1]
    return "\n".join(f"【{u}】{t}" for u, t in parts)


def _completion(indicators: Sequence[IndicatorRow]) -> float | None:
    rates = [min(1.0, r.rate) * 100 for r in indicators if r.rate is not None and not r.is_share]
    return round(sum(rates) / len(rates), 1) if rates else None


def build_ledger(data: LedgerInput) -> LedgerData:
    """The ledger's content, computed from plain data (deterministic: same input, same ledger)."""
    cfg, period = data.config, data.period
    indicator_rows: list[IndicatorRow] = []
    project_rows = tuple(_project_rows(data, indicator_rows))
    submissions = tuple(_submissions(data))
    bulletin = tuple(_bulletin(data, project_rows, submissions))
    periods = tuple(sorted(data.history)) + (period.slug,)
    trend = tuple((pr.number, pr.name, tuple(data.history[s].get(pr.number) for s in periods[:-1]) + (pr.progress,),
                   pr.expected) for pr in project_rows)
    received = [s.received_at for s in data.submissions.values() if s.received_at]
    as_of = max(received)[:10] if received else period.due(cfg.due_day).isoformat()
    title = f"{cfg.full_title}推进情况台账（{period.as_of}）"
    subtitle = f"制表单位：{cfg.office}　　数据截至：{cn_date(dt.date.fromisoformat(as_of))}"
    plist = data.projects.projects
    trend_expected = tuple(round(sum(expected_progress(p, Period.parse(s).end_month) for p in plist) / len(plist), 1)
                           if plist else 0.0 for s in periods)
    return LedgerData(title, subtitle, period, project_rows, tuple(indicator_rows), submissions, bulletin,
                      periods, trend, tuple(data.findings) + tuple(receipt_findings(data)), cfg.lag_threshold,
                      trend_expected, tuple(sorted(data.stale.items())))


TREND_WIDTH = 130  # 走势's printed width in character units: the charts' width
CHART_HEIGHT = 440  # pixels: a chart and the repeated header row fit one landscape page at that width
CHART_ROWS = 24  # default rows (15 pt, 20 px) a chart spans, and a little room under it


def _mean(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(sum(present) / len(present), 1) if present else None


def receipt_findings(data: LedgerInput) -> Iterator[Finding]:
    """A receipt time more than a whole period after the due day: questioned, with how to correct it."""
    due = data.period.due(data.config.due_day)
    for unit in data.projects.units:
        s = data.submissions.get(unit)
        if s is None or s.status != "accepted" or not lateness_doubtful(s.received_at, due, data.period.days):
            continue
        yield finding("receipt-time-doubtful",
                      f"{unit}的填报表收到时间记为 {s.received_at[:16].replace('T', ' ')}，晚于截止时间"
                      f"（{due.month}月{due.day}日）{late_days(s.received_at, due)} 天，超过一个报送期，可能是文件保存或复制"
                      f"的时间而不是单位报送的时间。通报中不写逾期天数；请核实后用 shixiang receipt --period "
                      f"{data.period.slug} --unit {unit} --at \"YYYY-MM-DD HH:MM\" 更正收到时间。",
                      file=s.file, unit=unit)


def _project_rows(data: LedgerInput, indicator_rows: list[IndicatorRow]) -> Iterator[ProjectRow]:
    """总表's rows, project by project; 指标明细's go to ``indicator_rows`` as they are made."""
    cfg, plist, month = data.config, data.projects, data.period.end_month
    standard = LEDGER_KEYS["lead"]
    extra_cols = [c for c in data.spec.lead.inputs if c.scope == "project" and c.key not in standard]
    indicator_cols = tuple(c for c in data.spec.lead.inputs if c.scope == "indicator" and c.key not in standard)
    for p in plist.projects:
        expected = expected_progress(p, month)
        rows: list[IndicatorRow] = []
        # Each unit's values once per project (the store may be read for them), not once per indicator.
        units = {u: (data.values.get(u, {}), data.last_cumulative.get(u, {}), u in data.values)
                 for u in dict.fromkeys((*p.leads, *p.co_units, *(i.lead for i in p.indicators if i.lead)))}
        for ind in p.indicators:
            lead = ind.lead or (p.leads[0] if p.leads else "")
            row = _indicator_row(units.get(lead, _NOTHING), p, ind, lead, "lead", expected, share=False,
                                 extra=indicator_cols)
            rows.append(row)
            indicator_rows.append(row)
            if ind.split:
                for co in p.co_units:
                    row = _indicator_row(units[co], p, ind, co, "co", expected, share=True, extra=indicator_cols)
                    rows.append(row)
                    indicator_rows.append(row)
        lead_values = [(u, units[u][0].get(("lead", p.key), {})) for u in p.leads]
        reported = [v.get("progress") for _, v in lead_values if v.get("progress") is not None]
        statuses = [v.get("status") for _, v in lead_values if v.get("status")]
        has_data = any(units[u][2] for u in p.leads)
        completion = _completion(rows)
        reported_progress = round(sum(reported) / len(reported), 1) if reported else None
        progress = completion if completion is not None else reported_progress
        met = figures_met(rows)
        lead_statuses = [v.get("status") for u, v in lead_values if units[u][2]]
        done = confirmed_done(met, lead_statuses, reported_progress)
        status = project_status(progress, expected, cfg.lag_threshold, statuses[0] if statuses else None, has_data,
                                done=done)
        if len(set(statuses)) > 1:
            reported_status = "；".join(f"{u}：{v.get('status')}" for u, v in lead_values if v.get("status"))
        else:
            reported_status = statuses[0] if statuses else ""
        single = len(p.leads) == 1
        co_texts = [(u, units[u][0].get(("co", p.key), {}).get("progress_text") or "") for u in p.co_units]
        co_done = [u for u, t in co_texts if t]
        progress_text = _join([(u, v.get("progress_text") or "") for u, v in lead_values], single)
        if co_done:
            progress_text += ("\n" if progress_text else "") + f"协办单位已报送配合工作进展 {len(co_done)}/{len(p.co_units)} 个。"
        notes = [f"{u}：{data.stale[u]}" for u in p.leads if u in data.stale]
        disagreement = status_disagreement(reported_status, met)
        if disagreement:
            notes.append(disagreement)
        extra = tuple((c.heading, _join([(u, _text(v.get(c.key))) for u, v in lead_values], single))
                      for c in extra_cols)
        survey = data.survey.get(p.number)
        yield ProjectRow(
            number=p.number, name=p.name, targets="；".join(f"{i.name}{i.target_text}" for i in p.indicators)
            or "（无量化指标）", leads="、".join(p.leads), co_units=p.co_text or "、".join(p.co_units),
            progress_text=progress_text, completion=completion, reported=reported_progress, expected=expected,
            status=status, problems=_join([(u, _text(v.get("problems"))) for u, v in lead_values], single),
            next_steps=_join([(u, _text(v.get("next_steps"))) for u, v in lead_values], single),
            note="；".join(notes), extra=extra, survey=dict(survey) if survey is not None else None,
            reported_status=reported_status, figures_met=met)


def _text(v: Any) -> str:
    if v is None:
        return ""
    return format_number(v) if isinstance(v, float) else str(v)


_NOTHING: tuple[dict, dict, bool] = ({}, {}, False)


def _indicator_row(unit_data: tuple[Mapping, Mapping, bool], p: Project, ind: Indicator, unit: str, kind: str,
                   expected: float, share: bool, extra: Sequence[Column] = ()) -> IndicatorRow:
    """One indicator's row for ``unit``; ``unit_data`` is (its values, its cumulatives before, has it values);
    ``extra``: the spec's own indicator-scope input columns, shown after the standard ones."""
    values, before, has_values = unit_data
    key = ind.key
    v = values.get((kind, key), {})
    texts = tuple((c.heading, _text(v.get(c.key))) for c in extra)
    last = before.get((kind, key))
    cum = v.get("cumulative")
    rate = None if share else indicator_rate(ind, cum)
    gap = round(min(1.0, rate) * 100 - expected, 1) if rate is not None else None
    if ind.one_value:  # a level's current value, a node's 1/0: nothing before it or added to it
        done_on = v.get("current") if ind.measure_kind == KIND_MILESTONE else None
        return IndicatorRow(p.number, key, ind.name, unit, share, ind.target, ind.unit, ind.comparator, None, None,
                            cum, rate, expected, gap, ind.measure_kind, texts,
                            done_on if isinstance(done_on, str) else "")
    return IndicatorRow(p.number, key, ind.name, unit, share, ind.target, ind.unit,
                        ind.comparator, last if last is not None else (0.0 if has_values else None),
                        v.get("current"), cum, rate, expected, gap, ind.measure_kind, texts)


def _submissions(data: LedgerInput) -> Iterator[SubmissionRow]:
    due = data.period.due(data.config.due_day)
    for unit in data.projects.units:
        s = data.submissions.get(unit, UnitSubmission(unit, "missing"))
        role = "牵头" if data.projects.led_by(unit) else "协办"
        status = submission_state(s.status, s.received_at, due)
        contact, phone = data.contacts.get(unit, ("", ""))
        notes = []
        if s.corrected_at:
            notes.append(f"收到时间由督查室于 {s.corrected_at[:16].replace('T', ' ')} 更正")
        if status == SUBMIT_LATE and lateness_doubtful(s.received_at, due, data.period.days):
            notes.append(f"收到时间晚于截止时间 {late_days(s.received_at, due)} 天，超过一个报送期，待核实")
        yield SubmissionRow(unit, role, status, s.received_at[:16].replace("T", " "), s.file, s.errors, s.warnings,
                            contact, phone, "；".join(notes))


def _bulletin(data: LedgerInput, projects: Sequence[ProjectRow], subs: Sequence[SubmissionRow]
              ) -> Iterator[BulletinRow]:
    """拟通报表扬 first, then 拟通报曝光 (lagging projects, then late, missing and sent-back units)."""
    due = data.period.due(data.config.due_day)
    threshold = data.config.lag_threshold
    plist = data.projects
    clean = {s.unit for s in subs if s.status == SUBMIT_ON_TIME and s.errors == 0 and s.warnings == 0}
    for pr in projects:
        if pr.status not in (STATUS_DONE, STATUS_AHEAD) or pr.progress is None:
            continue
        project = plist.get(pr.number)
        assert project is not None
        for unit in project.leads:
            if unit not in clean:
                continue
            if pr.status == STATUS_DONE:
                why = f"牵头的“{pr.name}”已全部完成，按时报送且填报规范。"
            else:
                why = (f"牵头的“{pr.name}”完成进度 {format_number(pr.progress, 1)}%，超过序时进度 "
                       f"{format_number(pr.expected, 1)}% 达 {format_number(pr.progress - pr.expected, 1)} 个百分点，"
                       "按时报送且填报规范。")
            yield BulletinRow("表扬", unit, unit + why)
    for pr in projects:
        if pr.status != STATUS_LAG or pr.progress is None:
            continue
        project = plist.get(pr.number)
        assert project is not None
        for unit in project.leads:
            yield BulletinRow("曝光", unit, f"{unit}牵头的“{pr.name}”完成进度 {format_number(pr.progress, 1)}%，"
                              f"低于序时进度 {format_number(pr.expected, 1)}% 达 "
                              f"{format_number(pr.expected - pr.progress, 1)} 个百分点（超过 {format_number(threshold)} 个百分点）。")
    for s in subs:
        if s.status == SUBMIT_MISSING:
            yield BulletinRow("曝光", s.unit, f"{s.unit}截至目前未报送{data.period.label}进度（截止时间 "
                              f"{due.month}月{due.day}日）。")
        elif s.status == SUBMIT_LATE and lateness_doubtful(s.received_at, due, data.period.days):
            continue  # a receipt time more than a period late is questioned (a finding), never printed
        elif s.status == SUBMIT_LATE:
            got = dt.date.fromisoformat(s.received_at[:10])
            yield BulletinRow("曝光", s.unit, f"{s.unit}于{got.month}月{got.day}日报送，晚于截止时间"
                              f"（{due.month}月{due.day}日）{(got - due).days} 天。")
        elif s.status == SUBMIT_BACK:
            yield BulletinRow("曝光", s.unit, f"{s.unit}报送的填报表有 {s.errors} 处错误，已退回修改。")


# ------------------------------------------------------------------ writing


def write_ledger(ledger: LedgerData, path: Path, *, a3: bool = False) -> Path:
    """``台账.xlsx``: 总表, 指标明细, 报送情况, 通报建议, 走势, 校验问题 — every sheet print-ready."""

    # Straight into the temporary file that becomes the ledger: a city's ledger is several megabytes, which a
    # buffer in memory (and the copy of it a rename needs) would add to this process's peak.
    with atomic_output(path) as fh:
        write_ledger_to(ledger, fh, a3=a3)
    return path


def write_ledger_to(ledger: LedgerData, fh: BinaryIO, *, a3: bool = False) -> None:
    """The 台账 workbook, written to ``fh`` (a file, or an in-memory buffer)."""

    wb = new_workbook(fh, constant_memory=len(ledger.indicators) > 2000)
    fmt = Formats(wb)
    w = _Writer(wb, fmt, ledger, a3)
    w.summary()
    w.indicators()
    w.submissions()
    w.bulletin()
    w.trend()
    w.findings()
    wb.close()


class _Writer:
    def __init__(self, wb, fmt, ledger: LedgerData, a3: bool) -> None:
        self.wb, self.fmt, self.l, self.a3 = wb, fmt, ledger, a3
        self._formats: dict[tuple, Any] = {}
        self._row_formats: dict[tuple, list] = {}

    def _sheet(self, name: str, title: str, headings: Sequence[str], widths: Sequence[float]):
        ws = self.wb.add_worksheet(name)
        n = len(headings)
        ws.merge_range(0, 0, 0, n - 1, title, self.fmt("title", font_size=18))
        ws.set_row(0, 36)
        ws.merge_range(1, 0, 1, n - 1, self.l.subtitle, self.fmt("subtitle", align="right"))
        ws.set_row(1, 20)
        fitted = [fit_heading(h, wd) for h, wd in zip(headings, widths)]
        for c, (h, wd) in enumerate(fitted):
            ws.set_column(c, c, wd)
            ws.write_string(2, c, h, self.fmt("header"))
        ws.set_row(2, row_height(fitted, minimum=30))
        ws.freeze_panes(3, 0)
        print_setup(ws, landscape=True, a3=self.a3, repeat=(2, 2))
        return ws

    def _format(self, kind: str, overrides: dict | None = None):
        key = (kind, tuple(sorted((overrides or {}).items())))
        f = self._formats.get(key)
        if f is None:
            extra = dict(overrides or {})
            if kind == "pct":  # values are 0..100 numbers shown with a % sign
                f = self.fmt("number", num_format='0.0"%"', **extra)
            elif kind == "rate":
                f = self.fmt("percent", **extra)
            elif kind == "num":
                f = self.fmt("number", **extra)
            elif kind == "center":
                f = self.fmt("center", **extra)
            else:
                f = self.fmt("text", **extra)
            self._formats[key] = f
        return f

    def _formats_for(self, kinds: Sequence[str], extra_fmt: dict[int, dict] | None = None) -> list:
        """The formats of a row's cells (the same list object for the same kinds and overrides)."""
        key = (tuple(kinds), repr(extra_fmt) if extra_fmt else "")
        formats = self._row_formats.get(key)
        if formats is None:
            formats = self._row_formats[key] = [self._format(k, extra_fmt.get(c) if extra_fmt else None)
                                                for c, k in enumerate(kinds)]
        return formats

    @staticmethod
    def _cells(values: Sequence[Any], formats: list, widths: Sequence[float]) -> tuple[Sequence[Any], list, float]:
        # Numbers never wrap; only text decides the height.
        return values, formats, row_height([(v, w) for v, w in zip(values, widths) if v.__class__ is str and v],
                                           minimum=22)

    def _row(self, ws, r: int, values: Sequence[Any], widths: Sequence[float], kinds: Sequence[str],
             extra_fmt: dict[int, dict] | None = None) -> None:
        write_cells(ws, r, *self._cells(values, self._formats_for(kinds, extra_fmt), widths))

    def _rows(self, ws, items: Sequence[Any], widths: Sequence[float],
              row: Callable[[Any], tuple[Sequence[Any], list]]) -> None:
        """Data rows from row 3: ``row(item)`` gives (values, formats)."""
        write_rows(ws, 3, items, lambda item: self._cells(*row(item), widths))

    def summary(self) -> None:
        l = self.l
        headings = ["序号", "项目名称", "主要目标", "牵头单位", "协办单位", "本期进展情况", "完成进度（指标）",
                    "完成进度（填报）", "填报状态", "序时进度", "状态", "存在问题", "下步计划"]
        widths = [5, 14, 26, 12, 14, 40, 9, 9, 9, 8, 8, 22, 22]
        extra = [h for h, _ in (l.projects[0].extra if l.projects else ())]
        survey = any(p.survey for p in l.projects)
        headings += extra + (["满意率", "满意度测评"] if survey else []) + ["备注"]
        widths += [20] * len(extra) + ([9, 14] if survey else []) + [14]
        ws = self._sheet("总表", l.title, headings, widths)
        kinds = ["center", "text", "text", "text", "text", "text", "pct", "pct", "center", "pct", "center", "text",
                 "text"]
        kinds += ["text"] * len(extra) + (["rate", "text"] if survey else []) + ["text"]
        status_col = 10
        by_status = {status: self._formats_for(kinds, {status_col: {"bg_color": color, "bold": True}})
                     for status, color in STATUS_COLORS.items()}

        def row(p: ProjectRow) -> tuple[list[Any], list]:
            values: list[Any] = [p.number, p.name, p.targets, p.leads, p.co_units, p.progress_text, p.completion,
                                 p.reported, p.reported_status, p.expected, p.status, p.problems, p.next_steps]
            values += [t for _, t in p.extra]
            if survey:
                s = p.survey or {}
                values += [s.get("rate"), s.get("text", "")]
            values.append(p.note)
            return values, by_status[p.status]

        self._rows(ws, l.projects, widths, row)
        counts = l.status_counts()
        r = 3 + len(l.projects)
        line = "　".join(f"{k} {v} 项" for k, v in counts.items() if v) + \
               f"（滞后：完成进度低于序时进度 {format_number(l.lag_threshold)} 个百分点以上）。" + l.figures.sentence()
        ws.merge_range(r, 0, r, len(headings) - 1, line, self.fmt("plain", bold=True))
        ws.set_row(r, 24)
        ws.print_area(0, 0, r, len(headings) - 1)

    def indicators(self) -> None:
        l = self.l
        headings = ["项目序号", "指标", "填报单位", "目标值", "计量单位", "比较方式", "上期累计", "本期完成", "累计完成",
                    "完成率", "序时进度", "差距（百分点）", "指标类型"]
        # 指标 as wide as its longest name (within 24–48: a share row adds （<unit>分解数）), 单位 9 and 计量单位 4
        # characters a line.
        names = (f"{i.name}（{i.unit_name}分解数）" if i.is_share else i.name for i in l.indicators)
        widths = [6, fit_width(names, 24, 48), 19, 10, 9, 6, 10, 10, 10, 9, 9, 10, 8]
        extra = [h for h, _ in (l.indicators[0].extra if l.indicators else ())]
        headings += extra + ["备注"]
        widths += [20] * len(extra) + [20]
        ws = self._sheet("指标明细", f"{l.title}——指标明细", headings, widths)
        kinds = ["center", "text", "text", "num", "center", "center", "num", "num", "num", "rate", "pct", "num",
                 "center"] + ["text"] * len(extra) + ["text"]
        whole, share = self._formats_for(kinds), self._formats_for(kinds, {2: {"italic": True}})
        # A unit sent back shows older figures in this period's columns: its rows say so.
        stale = dict(l.stale)

        def row(i: IndicatorRow) -> tuple[list[Any], list]:
            done_on = f"{cn_date(dt.date.fromisoformat(i.completed_on))}完成" if i.completed_on else ""
            note = "；".join(filter(None, (done_on, stale.get(i.unit_name)))) or None
            if i.is_share:
                return [i.project, f"{i.name}（{i.unit_name}分解数）", i.unit_name, None, i.measure, i.comparator,
                        i.last, i.current, i.cumulative, i.rate, None, i.gap, i.kind, *(t for _, t in i.extra),
                        note], share
            # A level (比率, 上限) shows its current value under 累计完成, marked by its kind; nothing is added up.
            return [i.project, i.name, i.unit_name, i.target, i.measure, i.comparator, i.last, i.current,
                    i.cumulative, i.rate, i.expected, i.gap, i.kind, *(t for _, t in i.extra), note], whole

        self._rows(ws, l.indicators, widths, row)
        ws.autofilter(2, 0, max(3, 2 + len(l.indicators)), len(headings) - 1)

    def submissions(self) -> None:
        l = self.l
        headings = ["序号", "单位", "角色", "报送情况", "收到时间", "文件", "错误", "警告", "联系人", "联系电话", "备注"]
        widths = [5, 24, 6, 10, 18, 60, 6, 6, 10, 15, 24]  # 单位 11 characters, 文件 2026年3月_<单位>_….xlsx a line
        ws = self._sheet("报送情况", f"{l.title}——报送情况（催报名单）", headings, widths)
        colors = {SUBMIT_ON_TIME: "#C6EFCE", SUBMIT_LATE: "#FFEB9C", SUBMIT_MISSING: "#FFC7CE", SUBMIT_BACK: "#FFC7CE"}
        kinds = ["center", "text", "center", "center", "center", "text", "num", "num", "center", "center", "text"]
        by_status = {status: self._formats_for(kinds, {3: {"bg_color": color}}) for status, color in colors.items()}

        def row(numbered: tuple[int, SubmissionRow]) -> tuple[list[Any], list]:
            n, s = numbered
            return ([n, s.unit, s.role, s.status, s.received_at, s.file, s.errors, s.warnings, s.contact, s.phone,
                     s.note], by_status[s.status])

        self._rows(ws, list(enumerate(l.submissions, start=1)), widths, row)
        r = 3 + len(l.submissions)
        ws.merge_range(r, 0, r, len(headings) - 1, l.figures.sentence(), self.fmt("plain", bold=True))
        ws.autofilter(2, 0, max(3, 2 + len(l.submissions)), len(headings) - 1)

    def bulletin(self) -> None:
        l = self.l
        headings = ["类别", "序号", "单位", "事由"]
        widths = [12, 6, 22, 100]
        ws = self._sheet("通报建议", f"{l.title}——通报建议", headings, widths)
        r = 3
        for kind, label in (("表扬", "拟通报表扬"), ("曝光", "拟通报曝光")):
            rows = [b for b in l.bulletin if b.kind == kind]
            for k, b in enumerate(rows, start=1):
                self._row(ws, r, [label, k, b.unit, b.reason], widths, ["center", "center", "text", "text"],
                          {0: {"bg_color": "#C6EFCE" if kind == "表扬" else "#FFC7CE"}})
                r += 1
            if not rows:
                self._row(ws, r, [label, "", "", "本期无。"], widths, ["center", "center", "text", "text"])
                r += 1

    def trend(self) -> None:
        """走势: completion per project per period, then two charts, each on a page of its own and as wide as the
        printed page: this period's completion against 序时进度 per project, and the average over the periods
        against the average 序时进度 (one line per project cannot be read)."""
        l = self.l
        labels = [Period.parse(s).label.replace(f"{l.period.year}年", "") for s in l.trend_periods]
        headings = ["序号", "项目名称"] + labels + ["序时进度"]
        widths = [5, fit_width([name for _, name, _, _ in l.trend] + ["序时进度（平均）"], 24, 40)] \
            + [9] * len(labels) + [9]
        # The page is as wide as the charts: spare columns after the table carry the title across it.
        spare = max(0, TREND_WIDTH - sum(widths))
        ws = self._sheet("走势", f"{l.title}——进度走势（%）", headings + [""], widths + [spare])
        kinds = ["center", "text"] + ["pct"] * (len(labels) + 1)
        n = len(l.trend)
        for r, (number, name, values, expected) in enumerate(l.trend, start=3):
            self._row(ws, r, [number, name, *values, expected], widths, kinds)
        if not n:
            return
        last_col = 1 + len(labels)
        average = 3 + n
        self._row(ws, average, ["", "各项目平均", *[_mean(v[k] for _, _, v, _ in l.trend) for k in range(len(labels))],
                                _mean(e for *_, e in l.trend)], widths, kinds, {1: {"bold": True}})
        self._row(ws, average + 1, ["", "序时进度（平均）", *l.trend_expected[-len(labels):], None], widths, kinds)
        width_px = int(TREND_WIDTH * 7)
        bar_row = average + 3
        chart = self.wb.add_chart({"type": "column"})
        chart.add_series({"name": "完成进度", "categories": ["走势", 3, 1, 2 + n, 1],
                          "values": ["走势", 3, last_col, 2 + n, last_col], "fill": {"color": "#4472C4"}})
        chart.add_series({"name": "序时进度", "categories": ["走势", 3, 1, 2 + n, 1],
                          "values": ["走势", 3, last_col + 1, 2 + n, last_col + 1], "fill": {"color": "#ED7D31"}})
        chart.set_title({"name": f"{l.period.label}各项目完成进度与序时进度", "name_font": {"size": 14}})
        chart.set_y_axis({"min": 0, "max": 100, "name": "%", "major_gridlines": {"visible": True}})
        chart.set_x_axis({"num_font": {"size": 9}})
        chart.set_legend({"position": "bottom"})
        chart.set_size({"width": width_px, "height": CHART_HEIGHT})
        # Anchored a row below its page break: a chart starting exactly on the break is also drawn, clipped, at
        # the foot of the page before.
        ws.insert_chart(bar_row + 1, 0, chart)
        line_row = bar_row + CHART_ROWS
        line = self.wb.add_chart({"type": "line"})
        line.add_series({"name": ["走势", average, 1], "categories": ["走势", 2, 2, 2, last_col],
                         "values": ["走势", average, 2, average, last_col], "marker": {"type": "circle"},
                         "line": {"color": "#4472C4", "width": 2.25}})
        line.add_series({"name": ["走势", average + 1, 1], "categories": ["走势", 2, 2, 2, last_col],
                         "values": ["走势", average + 1, 2, average + 1, last_col], "marker": {"type": "square"},
                         "line": {"color": "#ED7D31", "width": 2.25, "dash_type": "dash"}})
        line.set_title({"name": "各项目平均完成进度与序时进度走势", "name_font": {"size": 14}})
        line.set_y_axis({"min": 0, "max": 100, "name": "%"})
        line.set_legend({"position": "bottom"})
        line.set_size({"width": width_px, "height": CHART_HEIGHT})
        ws.insert_chart(line_row + 1, 0, line)
        # Each chart starts a page: never cut across a page break, never a page with only the header row.
        ws.set_h_pagebreaks([bar_row, line_row])
        ws.print_area(0, 0, line_row + CHART_ROWS - 1, len(headings))

    def findings(self) -> None:
        l = self.l
        headings = ["序号", "级别", "单位", "文件", "工作表", "单元格", "问题", "说明", "代码"]
        widths = [5, 6, 18, 28, 10, 7, 16, 52, 20]
        ws = self._sheet("校验问题", f"{l.title}——校验问题", headings, widths)
        ws.set_column(len(headings) - 1, len(headings) - 1, widths[-1], None, {"hidden": True})  # for tools
        formats = self._formats_for(["center", "center", "text", "text", "center", "center", "text", "text", "text"])

        def row(numbered: tuple[int, Finding]) -> tuple[list[Any], list]:
            n, f = numbered
            return [n, f.severity.value, f.unit, f.file, f.sheet, f.cell, f.title, f.message, f.code], formats

        self._rows(ws, list(enumerate(l.findings, start=1)), widths, row)
        ws.autofilter(2, 0, max(3, 2 + len(l.findings)), len(headings) - 1)
