"""``shixiang status``: who has reported this period, who is late, who is missing, who was sent back — the
chase list (催报名单), read from the store without touching any file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .figures import (CHASE_STATES, SUBMIT_LATE, SUBMIT_MISSING, SubmissionFigures, late_days,
                      lateness_doubtful, submission_state)
from .period import Period
from .store import open_store
from .textnorm import cn_date
from .workspace import Context


@dataclass(frozen=True)
class UnitState:
    unit: str
    role: str
    state: str  # 按时报送 / 逾期报送 / 未报送 / 退回修改
    received_at: str
    file: str
    contact: str
    phone: str
    note: str = ""  # a receipt time the clerk set, or one that is questioned


@dataclass(frozen=True)
class StatusReport:
    period: Period
    units: tuple[UnitState, ...]
    xlsx: Path | None = None

    @property
    def figures(self) -> SubmissionFigures:
        """报送率, 按时报送率, 需催报 … (figures.py: the same definitions as the 台账 and the documents)."""
        return SubmissionFigures.of(u.state for u in self.units)

    @property
    def complete(self) -> bool:
        return self.figures.reported == self.figures.expected

    @property
    def reporting_rate(self) -> float:
        return self.figures.reporting_rate

    @property
    def chase(self) -> tuple[UnitState, ...]:
        """需催报: 未报送 and 退回修改, the units the chase list names."""
        return tuple(u for u in self.units if u.state in CHASE_STATES)


def report_status(ctx: Context, period: Period, *, xlsx: bool = False) -> StatusReport:
    """Every expected unit's state for ``period`` (from the store's record of the last check or merge, with the
    clerk's receipt times: the same reading of the store as the documents')."""
    from .submissions import store_submissions

    submissions = {}
    if ctx.workspace.db_path.exists():
        with open_store(ctx.workspace.db_path) as store:
            submissions = store_submissions(store, period, ctx.projects.units)
    due = period.due(ctx.config.due_day)
    contacts = {u.name: u for u in ctx.directory.units}
    states = []
    for unit in ctx.projects.units:
        s = submissions.get(unit)
        status, received, name = (s.status, s.received_at, s.file) if s is not None else ("missing", "", "")
        state = submission_state(status, received, due)
        notes = []
        if s is not None and s.corrected_at:
            notes.append(f"收到时间由督查室于 {s.corrected_at[:16].replace('T', ' ')} 更正")
        if state == SUBMIT_LATE and lateness_doubtful(received, due, period.days):
            notes.append(f"收到时间晚于截止时间 {late_days(received, due)} 天，超过一个报送期，待核实")
        d = contacts.get(unit)
        states.append(UnitState(unit, "牵头" if ctx.projects.led_by(unit) else "协办", state,
                                received[:16].replace("T", " "), name, d.contact if d else "", d.phone if d else "",
                                "；".join(notes)))
    result = StatusReport(period, tuple(states))
    if xlsx:
        path = ctx.workspace.folder("reports", period.slug) / "催报名单.xlsx"
        _write_chase_list(ctx, result, path)
        result = StatusReport(period, result.units, path)
    return result


def _write_chase_list(ctx: Context, report: StatusReport, path: Path) -> None:
    from .xlsxout import OfficeBook, print_setup

    with OfficeBook(path) as book:
        ws = book.sheet("催报名单")
        headings = ["序号", "单位", "角色", "报送情况", "收到时间", "联系人", "联系电话", "备注"]
        widths = [6, 24, 6, 10, 17, 10, 16, 24]
        # The full title already names the year: the period is named without it (not "2026年…2026年3月").
        period_name = report.period.label.removeprefix(f"{report.period.year}年")
        title = f"{ctx.config.full_title}进度填报催报名单（{period_name}）"
        ws.merge_range(0, 0, 0, len(headings) - 1, title, book.fmt("title", font_size=16))
        ws.set_row(0, 30)
        due = report.period.due(ctx.config.due_day)
        ws.merge_range(1, 0, 1, len(headings) - 1, f"报送截止：{cn_date(due)}　　制表："
                       f"{ctx.config.office}", book.fmt("subtitle"))
        book.header(ws, 2, headings, widths)
        # The chase list names exactly the 需催报 units (未报送, 退回修改); late units are in, so not chased.
        for r, u in enumerate(report.chase, start=3):
            note = "请尽快报送" if u.state == SUBMIT_MISSING else "请按退回修改意见修改后重新报送"
            book.text_row(ws, r, [r - 2, u.unit, u.role, u.state, u.received_at, u.contact, u.phone, note], widths)
        r = 3 + len(report.chase)
        ws.merge_range(r, 0, r, len(headings) - 1, report.figures.sentence(), book.fmt("plain", bold=True))
        ws.set_row(r, 36)
        print_setup(ws, repeat=(2, 2))
