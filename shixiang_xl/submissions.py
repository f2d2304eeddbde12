"""Each unit's counted return of a period as the store records it, and when it arrived.

A return collected from e-mail arrived when the office's mail server received it; one dropped into ``inbox/`` by
hand, at the file's modification time — often when it was saved or copied, not when the unit sent it. The clerk can
set or correct any unit's receipt time (``shixiang receipt``): every correction is kept, with when it was made, and
the latest one counts everywhere (status, 台账, documents).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Mapping, Sequence

from .ledger import UnitSubmission
from .period import Period
from .store import Store

RECEIPT_SCHEMA = """
CREATE TABLE IF NOT EXISTS receipt_corrections (
    id            INTEGER PRIMARY KEY,
    period        TEXT NOT NULL,
    unit          TEXT NOT NULL,
    received_at   TEXT NOT NULL,             -- the time the clerk set (ISO 8601, local time with offset)
    previous      TEXT NOT NULL DEFAULT '',  -- the receipt time it replaced
    changed_at    TEXT NOT NULL              -- when the correction was made
);
CREATE INDEX IF NOT EXISTS receipt_corrections_period ON receipt_corrections (period, unit);
"""


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
    store.ensure(RECEIPT_SCHEMA)
    out: dict[str, Correction] = {}
    for r in store.conn.execute("SELECT period, unit, received_at, previous, changed_at FROM receipt_corrections "
                                "WHERE period = ? ORDER BY id", (period.slug,)):
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
    for r in store.conn.execute(
            "SELECT r.unit, r.status, r.original_name, r.errors, r.warnings, r.received_at, "
            "(SELECT MIN(received_at) FROM receipts c WHERE c.sha256 = r.sha256) AS first_received "
            "FROM returns r WHERE r.period = ? AND r.status IN ('accepted', 'rejected') "
            "ORDER BY r.saved_at, r.issued_at, r.original_name", (period.slug,)):
        chosen[r["unit"]] = UnitSubmission(r["unit"], r["status"], r["first_received"] or r["received_at"] or "",
                                           r["original_name"], int(r["errors"]), int(r["warnings"]))
    return corrected({u: chosen.get(u, UnitSubmission(u, "missing")) for u in units}, corrections(store, period))


def record_correction(store: Store, period: Period, unit: str, at: dt.datetime, *,
                      now: dt.datetime | None = None) -> Correction:
    """Record that ``unit``'s return for ``period`` was received at ``at`` (kept with the time of the change and
    the time it replaces)."""
    store.ensure(RECEIPT_SCHEMA)
    at = at if at.tzinfo is not None else at.astimezone()
    changed = (now or dt.datetime.now().astimezone()).replace(microsecond=0)
    before = store_submissions(store, period, [unit])[unit].received_at
    fix = Correction(period.slug, unit, at.replace(microsecond=0).isoformat(), before, changed.isoformat())
    with store.transaction() as conn:
        conn.execute("INSERT INTO receipt_corrections (period, unit, received_at, previous, changed_at) "
                     "VALUES (?, ?, ?, ?, ?)", (fix.period, fix.unit, fix.received_at, fix.previous, fix.changed_at))
    return fix
