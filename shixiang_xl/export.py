"""``shixiang export``: every merged period's indicator values in one long table, for analysts.

One row per period × indicator row of the 台账's 指标明细 (a co-unit's share is a row of its own), with the
period, the project and its status beside the figures; a second sheet pivots each project's completion across the
periods (the 走势 table, every period side by side). The rows are the ledgers themselves, rebuilt from the store by
:func:`shixiang_xl.report.ledger_for` through the same ``build_ledger`` as ``merge``: every figure is the one the
台账 and the documents show, computed once.

Written as ``reports/<year>/<year>年指标数值（全部期次）.xlsx`` and/or ``.csv`` (UTF-8 with a byte-order mark, so
that Excel and WPS open it as Chinese), each atomically. Text never becomes a formula: the workbook writes text as
text, and a CSV cell that would start a formula when a spreadsheet opens it (``=``, ``+``, ``-``, ``@`` followed by
more) is written with a leading apostrophe.

pandas shapes the table (the long frame, the pivot, the CSV); it is imported inside the functions that use it,
so that ``shixiang --help`` and the other commands do not load it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from .errors import ShixiangError
from .ledger import LedgerData
from .period import Period
from .report import ledger_for
from .store import merged_slugs, open_store
from .xlsxout import atomic_write_bytes, print_setup, row_height, save_workbook, write_value

if TYPE_CHECKING:
    import pandas as pd

    from .workspace import Context

FORMATS = ("xlsx", "csv")

# The long table's columns: (heading, width in the workbook, kind: text / num / rate (1 = 100 %) / center).
COLUMNS: tuple[tuple[str, float, str], ...] = (
    ("期次", 9, "center"), ("期次名称", 14, "center"), ("项目序号", 6, "center"), ("项目名称", 28, "text"),
    ("指标", 28, "text"), ("填报单位", 18, "text"), ("协办分解数", 7, "center"), ("指标类型", 8, "center"),
    ("计量单位", 8, "center"), ("比较方式", 6, "center"), ("目标值", 10, "num"), ("上期累计", 10, "num"),
    ("本期完成", 10, "num"), ("累计完成", 10, "num"), ("完成率", 9, "rate"), ("序时进度（%）", 9, "num"),
    ("差距（百分点）", 10, "num"), ("项目状态", 10, "center"), ("完成日期", 11, "center"), ("备注", 30, "text"),
)
HEADINGS = tuple(h for h, _, _ in COLUMNS)
TREND_SHEET = "项目进度走势"
VALUES_SHEET = "指标数值"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_values` wrote."""

    periods: tuple[Period, ...]
    rows: int
    paths: tuple[Path, ...]


def merged_periods(ctx: "Context") -> tuple[Period, ...]:
    """The periods of the workspace's year that have been merged, in order."""
    if not ctx.workspace.db_path.exists():
        return ()
    with open_store(ctx.workspace.db_path) as store:
        slugs = merged_slugs(store.conn, ctx.config.year)
    return tuple(sorted((Period.parse(s) for s in slugs), key=lambda p: (p.end_month, p.quarter)))


def value_rows(ledger: LedgerData) -> list[tuple[Any, ...]]:
    """One period's rows of the long table, in :data:`HEADINGS` order: the 台账's 指标明细 rows as they are."""
    projects = {p.number: p for p in ledger.projects}
    stale = dict(ledger.stale)  # a unit sent back: its rows show older figures, and say so (as in 指标明细)
    period = ledger.period
    rows = []
    for i in ledger.indicators:
        p = projects.get(i.project)
        name, status = (p.name, p.status) if p else ("", "")
        # A share has no target or 序时进度 of its own (as in 指标明细): its figures are the co-unit's part.
        rows.append((period.slug, period.label, i.project, name, i.name, i.unit_name, "是" if i.is_share else "",
                     i.kind, i.measure, i.comparator, None if i.is_share else i.target, i.last, i.current,
                     i.cumulative, i.rate, None if i.is_share else i.expected, i.gap, status,
                     i.completed_on or None, stale.get(i.unit_name)))
    return rows


def values_frame(ledgers: Sequence[LedgerData]) -> "pd.DataFrame":
    """The long table of every ledger given: one row per period × indicator row, columns :data:`HEADINGS`."""
    import pandas as pd

    return pd.DataFrame([row for ledger in ledgers for row in value_rows(ledger)], columns=list(HEADINGS))


def trend_frame(ledgers: Sequence[LedgerData]) -> "pd.DataFrame":
    """Each project's completion (as the 台账's 总表 and 走势 judge it, 0–100) with the periods side by side."""
    import pandas as pd

    long = pd.DataFrame([(p.number, p.name, ledger.period.label, p.progress)
                         for ledger in ledgers for p in ledger.projects],
                        columns=["项目序号", "项目名称", "期次", "完成进度"])
    labels = [ledger.period.label for ledger in ledgers]
    if long.empty:
        return pd.DataFrame(columns=["项目序号", "项目名称", *labels])
    wide = long.pivot(index=["项目序号", "项目名称"], columns="期次", values="完成进度")
    return wide.reindex(columns=labels).reset_index().rename_axis(columns=None)


def _plain(value: Any) -> Any:
    """A frame's cell as plain Python: missing (NaN, NA, None) → None, numpy scalars → int/float."""
    import pandas as pd

    if pd.isna(value):
        return None
    return value.item() if hasattr(value, "item") else value


def csv_text(frame: "pd.DataFrame") -> str:
    """The frame as CSV; text that a spreadsheet would read as a formula gets a leading apostrophe (a lone sign, such
    as the 比较方式 ``=``, is no formula and stays as it is)."""
    def defuse(value: Any) -> Any:
        formula = isinstance(value, str) and len(value) > 1 and value.startswith(_FORMULA_START)
        return "'" + value if formula else value

    return frame.map(defuse).to_csv(index=False, lineterminator="\r\n")


def _sheet(wb, fmt, name: str, title: str, frame: "pd.DataFrame", kinds: Sequence[str],
           widths: Sequence[float]) -> None:
    ws = wb.add_worksheet(name)
    last = len(frame.columns) - 1  # at least 项目序号 and 项目名称
    ws.merge_range(0, 0, 0, last, title, fmt("title", font_size=16))
    ws.set_row(0, 30)
    headings = [str(c) for c in frame.columns]
    for c, (heading, width) in enumerate(zip(headings, widths)):
        ws.set_column(c, c, width)
        ws.write_string(1, c, heading, fmt("header"))
    ws.set_row(1, row_height(zip(headings, widths), minimum=30))
    formats = {"text": fmt("text"), "center": fmt("center"), "num": fmt("number"), "rate": fmt("percent")}
    cells = [formats[k] for k in kinds]
    for r, values in enumerate(frame.itertuples(index=False, name=None), start=2):
        for c, value in enumerate(values):
            write_value(ws, r, c, _plain(value), cells[c])
    ws.freeze_panes(2, 0)
    ws.autofilter(1, 0, max(2, 1 + len(frame)), last)
    print_setup(ws, landscape=True, repeat=(1, 1))


def export_path(ctx: "Context", suffix: str) -> Path:
    """``reports/<year>/<year>年指标数值（全部期次）.<suffix>``."""
    year = ctx.config.year
    return ctx.workspace.folder("reports") / str(year) / f"{year}年指标数值（全部期次）.{suffix}"


def export_values(ctx: "Context", formats: Sequence[str] = ("xlsx",), outdir: Path | None = None) -> ExportResult:
    """Write every merged period's values as one long table (``xlsx`` and/or ``csv``); raise when none is merged."""
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ShixiangError(f"导出格式应为 {' 或 '.join(FORMATS)}，现为 {'、'.join(unknown) or '空'}。")
    periods = merged_periods(ctx)
    if not periods:
        raise ShixiangError(f"{ctx.config.year}年还没有汇总过的报送期，没有可导出的数值。"
                            "请先运行 shixiang merge --period <报送期>。")
    ledgers = [ledger_for(ctx, p) for p in periods]
    values, trend = values_frame(ledgers), trend_frame(ledgers)
    title = f"{ctx.config.full_title}指标数值（{periods[0].label}—{periods[-1].label}）"
    paths = []
    for kind in dict.fromkeys(formats):
        path = export_path(ctx, kind) if outdir is None else Path(outdir) / export_path(ctx, kind).name
        if kind == "csv":
            atomic_write_bytes(path, csv_text(values).encode("utf-8-sig"))
        else:
            trend_kinds = ["center", "text"] + ["num"] * (len(trend.columns) - 2)
            trend_widths = [6, 30] + [12] * (len(trend.columns) - 2)

            def build(wb, fmt) -> None:
                _sheet(wb, fmt, VALUES_SHEET, title, values, [k for *_, k in COLUMNS], [w for _, w, _ in COLUMNS])
                _sheet(wb, fmt, TREND_SHEET, f"{ctx.config.full_title}各项目完成进度走势（%）", trend,
                       trend_kinds, trend_widths)

            save_workbook(path, build)
        paths.append(path)
    return ExportResult(periods, len(values), tuple(paths))

