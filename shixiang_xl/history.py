"""What earlier periods said: last accepted cumulative values, read from the store."""

from __future__ import annotations

from typing import Iterable

from .period import Period
from .workspace import Workspace


def previous_cumulatives(workspace: Workspace, period: Period, units: Iterable[str]
                         ) -> dict[str, dict[tuple[str, str], float]]:
    """unit → {(sheet kind, row key): the latest accepted cumulative value before ``period``}."""
    if not workspace.db_path.exists():
        return {}
    from .store import open_store

    wanted = set(units)
    out: dict[str, dict[tuple[str, str], float]] = {}
    with open_store(workspace.db_path) as store:
        rows = store.conn.execute(
            "SELECT unit, sheet, row_key, value_num FROM entries WHERE column_key = 'cumulative' "
            "AND period < ? AND period LIKE ? AND value_num IS NOT NULL ORDER BY period",
            (period.slug, f"{period.year}-%")).fetchall()
    for r in rows:  # ordered by period: later periods overwrite earlier ones
        if r["unit"] in wanted:
            out.setdefault(r["unit"], {})[(r["sheet"], r["row_key"])] = float(r["value_num"])
    return out
