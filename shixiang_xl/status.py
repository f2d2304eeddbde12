"""``shixiang status``: who has reported this period, who is late, who is missing, who was sent back — the
chase list (催报名单), read from the store without touching any file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .ledger import SUBMIT_BACK, SUBMIT_LATE, SUBMIT_MISSING, SUBMIT_ON_TIME
from .period import Period
from .store import open_store
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


@dataclass(frozen=True)
class StatusReport:
    period: Period
    units: tuple[UnitState, ...]
    xlsx: Path | None = None

    @property
    def complete(self) -> bool:
        return all(u.state in (SUBMIT_ON_TIME, SUBMIT_LATE) for u in self.units)

    @property
    def reporting_rate(self) -> float:
        done = sum(u.state in (SUBMIT_ON_TIME, SUBMIT_LATE) for u in self.units)
        return done / len(self.units) if self.units else 1.0

    @property
    def chase(self) -> tuple[UnitState, ...]:
        return tuple(u for u in self.units if u.state in (SUBMIT_MISSING, SUBMIT_BACK))


def report_status(ctx: Context, period: Period, *, xlsx: bool = False) -> StatusReport:
    """Every expected unit's state for ``period`` (from the store's record of the last check or merge)."""
    chosen: dict[str, tuple[str, str, str]] = {}
    if ctx.workspace.db_path.exists():
        with open_store(ctx.workspace.db_path) as store:
            for r in store.conn.execute(
                    "SELECT r.unit, r.status, r.original_name, (SELECT MIN(received_at) FROM receipts c "
                    "WHERE c.sha256 = r.sha256) AS received FROM returns r WHERE r.period = ? "
                    "AND r.status IN ('accepted', 'rejected') ORDER BY r.saved_at, r.issued_at", (period.slug,)):
                chosen[r["unit"]] = (r["status"], r["received"] or "", r["original_name"])
    due = period.due(ctx.config.due_day).isoformat()
    contacts = {u.name: u for u in ctx.directory.units}
    states = []
    for unit in ctx.projects.units:
        status, received, name = chosen.get(unit, ("missing", "", ""))
        if status == "missing":
            state = SUBMIT_MISSING
        elif status == "rejected":
            state = SUBMIT_BACK
        else:
            state = SUBMIT_LATE if received[:10] > due else SUBMIT_ON_TIME
        d = contacts.get(unit)
        states.append(UnitState(unit, "牵头" if ctx.projects.led_by(unit) else "协办", state,
                                received[:16].replace("T", " "), name, d.contact if d else "", d.phone if d else ""))
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
        title = f"{ctx.config.full_title}{report.period.label}进度填报催报名单"
        ws.merge_range(0, 0, 0, len(headings) - 1, title, book.fmt("title", font_size=16))
        ws.set_row(0, 30)
        due = report.period.due(ctx.config.due_day)
        ws.merge_range(1, 0, 1, len(headings) - 1, f"报送截止：{due.year}年{due.month}月{due.day}日　　报送率："
                       f"{report.reporting_rate:.0%}　　制表：{ctx.config.office}", book.fmt("subtitle"))
        book.header(ws, 2, headings, widths)
        rows = report.chase + tuple(u for u in report.units if u.state == SUBMIT_LATE)
        for r, u in enumerate(rows, start=3):
            note = "请尽快报送" if u.state == SUBMIT_MISSING else ("请按退回修改意见修改后重新报送"
                                                                   if u.state == SUBMIT_BACK else "已逾期报送")
            book.text_row(ws, r, [r - 2, u.unit, u.role, u.state, u.received_at, u.contact, u.phone, note], widths)
        print_setup(ws, repeat=(2, 2))
