"""Each unit's counted return of a period as the store records it, and when it arrived.

A return collected from e-mail arrived when the office's mail server received it; one dropped into ``inbox/`` by
hand, at the file's modification time — often when it was saved or copied, not when the unit sent it. The clerk can
set or correct any unit's receipt time (``shixiang receipt``): every correction is kept, with when it was made, and
the latest one counts everywhere (status, 台账, documents).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping, Sequence

from .ledger import UnitSubmission
from .period import Period
from .store import Store, add_correction, corrections_of, counted_returns, open_store
from .errors import ShixiangError

if TYPE_CHECKING:
    from .workspace import Context

@dataclass(frozen=True)
class Correction:
    """A receipt time set by the clerk."""

    period: str
    unit: str
    received_at: str
    previous: str
    changed_at: str


def corrections(store: Store, period: Period) -> dict[str, Correction]:
    """The latest correction of each unit's receipt time for ``period``."""
    out: dict[str, Correction] = {}
    for r in corrections_of(store.conn, period.slug):
        out[r["unit"]] = Correction(r["period"], r["unit"], r["received_at"], r["previous"], r["changed_at"])
    return out


def corrected(submissions: Mapping[str, UnitSubmission], fixes: Mapping[str, Correction]
              ) -> dict[str, UnitSubmission]:
    """``submissions`` with the clerk's receipt times in place (a unit with no return stays missing)."""
    out = dict(submissions)
    for unit, fix in fixes.items():
        s = out.get(unit)
        if s is not None and s.status != "missing":
            out[unit] = UnitSubmission(s.unit, s.status, fix.received_at, s.file, s.errors, s.warnings,
                                       corrected_at=fix.changed_at)
    return out


def store_submissions(store: Store, period: Period, units: Sequence[str]) -> dict[str, UnitSubmission]:
    """Each unit's counted return for ``period`` from the store: the latest accepted or rejected one, received at
    the first receipt of its file or at the time the clerk set; units without one are missing. ``status``, the
    documents and (through the same corrections) ``merge`` all read it so."""
    chosen: dict[str, UnitSubmission] = {}
    for r in counted_returns(store.conn, period.slug):
        chosen[r["unit"]] = UnitSubmission(r["unit"], r["status"], r["first_received"] or r["received_at"] or "",
                                           r["original_name"], int(r["errors"]), int(r["warnings"]))
    return corrected({u: chosen.get(u, UnitSubmission(u, "missing")) for u in units}, corrections(store, period))


def record_correction(store: Store, period: Period, unit: str, at: dt.datetime, *,
                      now: dt.datetime | None = None) -> Correction:
    """Record that ``unit``'s return for ``period`` was received at ``at`` (kept with the time of the change and
    the time it replaces)."""
    at = at if at.tzinfo is not None else at.astimezone()
    changed = (now or dt.datetime.now().astimezone()).replace(microsecond=0)
    before = store_submissions(store, period, [unit])[unit].received_at
    fix = Correction(period.slug, unit, at.replace(microsecond=0).isoformat(), before, changed.isoformat())
    with store.transaction() as conn:
        add_correction(conn, fix.period, fix.unit, fix.received_at, fix.previous, fix.changed_at)
    return fix


def parse_time(text: str) -> dt.datetime:
    """A clerk's time: 2026-03-24 16:00, 2026/3/24 16:00, 2026-03-24T16:00:00+08:00, or a date alone (00:00).
    Raises ShixiangError with what to type otherwise."""
    s = re.sub(r"\s+", " ", str(text).strip()).replace("/", "-").replace("年", "-").replace("月", "-") \
        .replace("日", " ").replace("：", ":").strip()
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?([+-]\d{2}:?\d{2}|Z)?", s)
    if not m:
        raise ShixiangError(f"无法识别时间「{text}」。请写成 2026-03-24 16:00 这样的格式。")
    y, mo, d, h, mi, sec, tz = m.groups()
    try:
        when = dt.datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(sec or 0))
    except ValueError:
        raise ShixiangError(f"时间「{text}」不存在（如 2 月 30 日），请核对。")
    if tz:
        zone = dt.datetime.fromisoformat("2000-01-01T00:00" + ("+00:00" if tz == "Z" else tz))
        return when.replace(tzinfo=zone.tzinfo)
    return when.astimezone()


def set_receipt(ctx: Context, period: Period, unit_text: str, at_text: str, *,
                now: dt.datetime | None = None) -> tuple[Correction, bool]:
    """Set or correct when ``unit_text``'s return for ``period`` was received. Returns the correction and whether
    the unit has a return in the store yet (the time applies as soon as it has one)."""
    unit = ctx.directory.get(unit_text)
    if unit is None or unit.name not in ctx.projects.units:
        hint = "、".join(ctx.directory.suggest(unit_text)) if unit is None else ""
        raise ShixiangError(f"「{unit_text}」不是本年度需要报送的单位。" + (f"是否是：{hint}？" if hint else ""))
    at = parse_time(at_text)
    current = now or dt.datetime.now().astimezone()
    if at > current + dt.timedelta(minutes=5):
        raise ShixiangError(f"收到时间 {at:%Y-%m-%d %H:%M} 晚于现在，请核对。")
    if at.date() < period.start - dt.timedelta(days=31):
        raise ShixiangError(f"收到时间 {at:%Y-%m-%d %H:%M} 早于{period.label}开始一个月以上，请核对报送期和时间。")
    with open_store(ctx.workspace.db_path) as store:
        fix = record_correction(store, period, unit.name, at, now=current)
        has_return = store_submissions(store, period, [unit.name])[unit.name].status != "missing"
    return fix, has_return
