"""What earlier periods said: last accepted cumulative values, read from the store."""

from __future__ import annotations

from typing import Iterable

from .period import Period
from .store import entries_before, open_store
from .workspace import Workspace


def previous_cumulatives(workspace: Workspace, period: Period, units: Iterable[str]
                         ) -> dict[str, dict[tuple[str, str], float]]:
    """unit → {(sheet kind, row key): the latest accepted cumulative value before ``period``}."""
    if not workspace.db_path.exists():
        return {}
    wanted = set(units)
    out: dict[str, dict[tuple[str, str], float]] = {}
    with open_store(workspace.db_path) as store:
        rows = entries_before(store.conn, period.slug, period.year, ("cumulative",))
    for r in rows:  # ordered by period: later periods overwrite earlier ones
        if r["unit"] in wanted and r["value_num"] is not None:
            out.setdefault(r["unit"], {})[(r["sheet"], r["row_key"])] = float(r["value_num"])
    return out
