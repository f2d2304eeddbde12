"""Where everything sits in a report workbook: computed once from the spec and the project list.

The writer uses the layout to place cells; ``_meta`` records it; the reader uses the recorded layout (plus header
text) to find values again even after a unit moved rows or columns.
"""

from __future__ import annotations

from dataclasses import dataclass

from .projects import Indicator, Project, ProjectList
from .spec import Column, SheetSpec, TemplateSpec

TITLE_ROW, SUBTITLE_ROW, HEADER_ROW = 0, 1, 2
FIRST_DATA_ROW = 3


@dataclass(frozen=True, slots=True)
class RowSlot:
    """One data row of a report sheet."""

    row: int  # 0-based sheet row
    key: str  # P01-I02 (an indicator) or P03 (a project without indicator rows on this sheet)
    project: int
    indicator: int | None
    first: bool  # first row of its project block: project-scope cells live here
    span: int  # rows in the project block (merged project-scope cells)

    def to_json(self) -> list:
        return [self.row, self.key, self.project, self.indicator, self.first, self.span]

    @classmethod
    def from_json(cls, raw: list) -> "RowSlot":
        row, key, project, indicator, first, span = raw
        return cls(int(row), str(key), int(project), None if indicator is None else int(indicator), bool(first),
                   int(span))


@dataclass(frozen=True)
class SheetLayout:
    kind: str  # lead | co
    name: str
    columns: tuple[str, ...]  # column keys, in order
    rows: tuple[RowSlot, ...]

    @property
    def last_row(self) -> int:
        return self.rows[-1].row if self.rows else HEADER_ROW

    def to_json(self) -> dict:
        return {"kind": self.kind, "name": self.name, "columns": list(self.columns),
                "rows": [r.to_json() for r in self.rows]}

    @classmethod
    def from_json(cls, raw: dict) -> "SheetLayout":
        return cls(raw["kind"], raw["name"], tuple(raw["columns"]), tuple(RowSlot.from_json(r) for r in raw["rows"]))


@dataclass(frozen=True)
class Block:
    """A project's rows on one sheet, with the indicators they carry (None for a project-only row)."""

    project: Project
    indicators: tuple[Indicator | None, ...]


def blocks_for(kind: str, unit: str, plist: ProjectList) -> tuple[Block, ...]:
    """The project blocks a unit reports on the lead or co sheet."""
    out: list[Block] = []
    if kind == "lead":
        for p in plist.led_by(unit):
            inds = p.indicators_for(unit)
            out.append(Block(p, tuple(inds) or (None,)))
    else:
        for p in plist.co_led_by(unit):
            out.append(Block(p, p.split_indicators or (None,)))
    return tuple(out)


def sheet_layout(spec: SheetSpec, blocks: tuple[Block, ...]) -> SheetLayout:
    rows: list[RowSlot] = []
    r = FIRST_DATA_ROW
    for b in blocks:
        span = len(b.indicators)
        for k, ind in enumerate(b.indicators):
            key = ind.key if ind is not None else b.project.key
            rows.append(RowSlot(r, key, b.project.number, ind.number if ind else None, k == 0, span))
            r += 1
    return SheetLayout(spec.kind, spec.sheet, tuple(c.key for c in spec.columns), tuple(rows))


def unit_layouts(spec: TemplateSpec, unit: str, plist: ProjectList) -> list[tuple[SheetSpec, SheetLayout, tuple[Block, ...]]]:
    """The sheets a unit's workbook holds (lead sheet if it leads anything, co sheet if it co-leads anything)."""
    out = []
    for sheet in spec.sheets:
        blocks = blocks_for(sheet.kind, unit, plist)
        if blocks:
            out.append((sheet, sheet_layout(sheet, blocks), blocks))
    return out


def locked_value(col: Column, project: Project, ind: Indicator | None, previous: float | None) -> object:
    """The pre-filled value of a locked column for a row (None when the row has no indicator)."""
    src = col.source
    if src.startswith("indicator.") and ind is None:
        return None
    if src == "project.number":
        return project.number
    if src == "project.name":
        return project.name
    if src == "project.leads":
        return "、".join(project.leads)
    if src == "project.content":
        return project.content
    if src == "previous.cumulative":
        return previous if ind is not None else None
    assert ind is not None
    if src == "indicator.target_text":
        return ind.target_text
    return getattr(ind, src.split(".", 1)[1])


def computed_locked(spec: SheetSpec, layout: SheetLayout, blocks: tuple[Block, ...]
                    ) -> dict[tuple[str, str], object]:
    """(row key, column key) → locked value, computed from the project list (when ``_meta`` cannot be trusted).

    Last period's cumulative is left out: it depends on the store at issue time.
    """
    out: dict[tuple[str, str], object] = {}
    slots = iter(layout.rows)
    for block in blocks:
        for ind in block.indicators:
            slot = next(slots)
            for col in spec.columns:
                if col.role != "locked" or col.source == "previous.cumulative":
                    continue
                if col.scope == "project" and not slot.first:
                    continue
                value = locked_value(col, block.project, ind, None)
                if value is not None:
                    out[(slot.key, col.key)] = value
    return out
