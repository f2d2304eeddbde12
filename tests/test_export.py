"""shixiang export: every merged period's values in one long table (xlsx and csv), read back with openpyxl and the
csv module and compared with the 台账 workbooks that merge wrote; pandas stays out of start-up."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from collections import Counter
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from shixiang_xl.cli import main
from shixiang_xl.demo import simulate_period
from shixiang_xl.errors import ShixiangError
from shixiang_xl.export import HEADINGS, TREND_SHEET, VALUES_SHEET, csv_text, export_values, values_frame
from shixiang_xl.merge import merge_returns
from shixiang_xl.period import Period
from shixiang_xl.workspace import init_workspace, load_context

FEB, MAR = Period.parse("2026-02"), Period.parse("2026-03")


@pytest.fixture(scope="module")
def merged(tmp_path_factory):
    """A workspace with February and March merged (March with a unit missing and one sent back)."""
    root = tmp_path_factory.mktemp("export") / "ws"
    init_workspace(root, "yanzhou-2026")
    ctx = load_context(root)
    simulate_period(ctx, FEB)
    feb = merge_returns(ctx, FEB)
    simulate_period(ctx, MAR, missing=ctx.projects.units[3], broken=ctx.projects.units[5])
    mar = merge_returns(ctx, MAR)
    return ctx, feb, mar


def _rows(path: Path, sheet: str, header_row: int) -> tuple[list, list[list]]:
    wb = openpyxl.load_workbook(path, read_only=True)
    rows = [list(r) for r in wb[sheet].iter_rows(values_only=True)]
    wb.close()
    return rows[header_row], [r for r in rows[header_row + 1:] if any(v not in (None, "") for v in r)]


def _ledger_details(ledger_path: Path) -> Counter:
    """(project, reporting unit, 累计完成, 完成率) of every row of the 台账's 指标明细, read with openpyxl."""
    header, rows = _rows(ledger_path, "指标明细", 2)
    col = {h: header.index(h) for h in ("项目序号", "填报单位", "累计完成", "完成率")}
    return Counter((r[col["项目序号"]], r[col["填报单位"]], r[col["累计完成"]], r[col["完成率"]]) for r in rows)


def test_export_writes_every_period_as_the_ledgers_show_it(merged):
    ctx, feb, mar = merged
    res = CliRunner().invoke(main, ["-w", str(ctx.workspace.root), "export"])
    assert res.exit_code == 0, res.output
    assert "2 个报送期" in res.output
    xlsx = next(p for p in ctx.workspace.folder("reports", "2026").iterdir() if p.name.endswith("（全部期次）.xlsx"))
    csv_path = xlsx.with_suffix(".csv")
    assert str(xlsx) in res.output and str(csv_path) in res.output

    header, rows = _rows(xlsx, VALUES_SHEET, 1)
    assert tuple(header) == HEADINGS
    assert len(rows) == len(feb.ledger.indicators) + len(mar.ledger.indicators)
    col = {h: i for i, h in enumerate(header)}
    for period, result in ((FEB, feb), (MAR, mar)):
        mine = [r for r in rows if r[col["期次"]] == period.slug]
        assert {r[col["期次名称"]] for r in mine} == {period.label}
        got = Counter((r[col["项目序号"]], r[col["填报单位"]], r[col["累计完成"]], r[col["完成率"]]) for r in mine)
        assert got == _ledger_details(result.ledger_path)
        # Each row's 项目状态 is the one the 台账's 总表 gives the project.
        total_header, totals = _rows(result.ledger_path, "总表", 2)
        status = {t[0]: t[total_header.index("状态")] for t in totals if isinstance(t[0], int)}
        assert {(r[col["项目序号"]], r[col["项目状态"]]) for r in mine} <= set(status.items())
        # A unit sent back shows older figures, and its rows say so, as 指标明细 does.
        noted = {r[col["填报单位"]] for r in mine if r[col["备注"]]}
        assert noted == {unit for unit, _ in result.ledger.stale}

    # The CSV holds the same table (UTF-8 with a BOM, so that Excel reads the Chinese).
    raw = csv_path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert tuple(table[0]) == HEADINGS
    assert len(table) - 1 == len(rows)
    for x, c in zip(rows, table[1:]):
        for value, text in zip(x, c):
            if isinstance(value, (int, float)):
                assert float(text) == pytest.approx(value)
            elif value is None:
                assert text == ""
            else:  # text that a spreadsheet would take for a formula starts with an apostrophe
                formula = len(value) > 1 and value.startswith(("=", "+", "-", "@"))
                assert text == ("'" + value if formula else value)


def test_the_trend_sheet_pivots_completion_across_periods(merged):
    ctx, feb, mar = merged
    result = export_values(ctx, ("xlsx",))
    header, rows = _rows(result.paths[0], TREND_SHEET, 1)
    assert header == ["项目序号", "项目名称", FEB.label, MAR.label]
    # March's 台账 has the same table on its 走势 sheet (February's figure, March's figure).
    ledger_header, ledger_rows = _rows(mar.ledger_path, "走势", 2)
    feb_col, mar_col = 2, 3
    assert ledger_header[feb_col].startswith("2月") and ledger_header[mar_col].startswith("3月")
    expected = {r[0]: (r[feb_col], r[mar_col]) for r in ledger_rows if isinstance(r[0], int)}
    assert len(rows) == len(ctx.projects.projects) == len(expected)
    for number, name, f, m in rows:
        assert (f, m) == pytest.approx(expected[number])


def test_export_is_the_same_twice_and_leaves_no_temporary_file(merged, tmp_path):
    ctx, _, _ = merged
    first = export_values(ctx, ("xlsx", "csv"), tmp_path / "a")
    second = export_values(ctx, ("csv", "xlsx"), tmp_path / "b")
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == sorted(p.name for p in first.paths)
    for a in first.paths:
        assert a.read_bytes() == (tmp_path / "b" / a.name).read_bytes()
    assert second.rows == first.rows


def test_no_text_becomes_a_formula(merged):
    ctx, _, _ = merged
    path = export_values(ctx, ("xlsx",)).paths[0]
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        assert not [c.coordinate for row in ws.iter_rows() for c in row if c.data_type == "f"]
    frame = values_frame([])
    frame.loc[0] = ["2026-03", "2026年3月", 1, "=HYPERLINK(\"http://x\")", "+1", "@SUM(A1)", "", "累计数", "个",
                    "=", 10.0, None, 1.0, -2.0, 0.5, 25.0, -5.0, "-滞后", None, "+备注"]
    text = csv_text(frame)
    row = next(csv.reader(io.StringIO(text.splitlines()[1])))
    assert row[3:6] == ["'=HYPERLINK(\"http://x\")", "'+1", "'@SUM(A1)"]
    assert row[9] == "=" and row[17] == "'-滞后"  # a lone sign is no formula: the 比较方式 stays as it is
    assert row[13] == "-2.0"  # a negative number stays a number
    assert row[18:] == ["", "'+备注"]


def test_export_without_a_merged_period_says_so(tmp_path):
    root = tmp_path / "ws"
    init_workspace(root, "yanzhou-2026")
    with pytest.raises(ShixiangError, match="还没有汇总过的报送期"):
        export_values(load_context(root))
    res = CliRunner().invoke(main, ["-w", str(root), "export", "--format", "csv"])
    assert res.exit_code != 0 and "shixiang merge" in res.output
    with pytest.raises(ShixiangError, match="导出格式"):
        export_values(load_context(root), ("pdf",))


def test_pandas_is_not_loaded_at_start_up():
    """pandas is imported inside the functions that use it: the commands, the web page and the per-file read
    path start without it."""
    code = ("import sys\nimport shixiang_xl.cli, shixiang_xl.export, shixiang_xl.merge, shixiang_xl.intake, "
            "shixiang_xl.tally, shixiang_xl.web.app\nprint('pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    shown = subprocess.run([sys.executable, "-m", "shixiang_xl", "--help"], capture_output=True, text=True,
                           check=True)
    assert "export" in shown.stdout
