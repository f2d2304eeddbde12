"""Structure re-mapping and every value rule, on returns the package simulated and a clerk's spreadsheet program
(openpyxl) then changed; plus plain-data tests of ``check_values`` and ``check_batch``.

Every test asserts the finding's code and the sheet and A1 cell it points at.

The return used most: 区卫生健康局 leads project 1 with four indicators, on sheet 进度填报 rows 4–7 (header on
row 3): H 本期完成值, I 累计完成值, K 总体进度(%), L 状态, M 进展情况 (project cells on row 4); 填报说明 B6
填报人, B7 联系电话, B9 填报日期.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

import hostile as h
from shixiang_xl.batch import BatchResult, run_batch
from shixiang_xl.check import History, UnitReturn, check_batch, check_values
from shixiang_xl.findings import Severity
from shixiang_xl.intake import FileResult
from shixiang_xl.merge import store_values
from shixiang_xl.period import Period
from shixiang_xl.reader import CellValue, ReadResult
from shixiang_xl.spec import load_spec
from shixiang_xl.store import open_store
from shixiang_xl.workspace import Context, load_context

MAR = Period.parse("2026-03")
FEB = Period.parse("2026-02")
UNIT = "区卫生健康局"
LEAD = "进度填报"
CO = "协办事项"
INFO = "填报说明"
P1 = ("lead", "P01")
I1, I2, I3, I4 = (("lead", f"P01-I0{k}") for k in range(1, 5))
TARGETS = {I1: 10, I2: 150, I3: 65, I4: 412}


# ------------------------------------------------------------------ helpers


def simulate(ctx: Context, path: Path, unit: str = UNIT, period: Period = MAR, tweak=None, **kw) -> h.Simulated:
    return h.simulate(ctx, path, unit, period, tweak, **kw)


def check(ctx: Context, *paths: Path, period: Period = MAR) -> BatchResult:
    with open_store(ctx.workspace.db_path) as store:
        return run_batch(ctx, store, list(paths), period)


def only(batch: BatchResult) -> FileResult:
    assert len(batch.files) == 1
    return batch.files[0]


def places(findings) -> set[tuple[str, str, str]]:
    """{(code, sheet, cell)} of the errors and warnings."""
    return {(f.code, f.sheet, f.cell) for f in findings if f.severity is not Severity.INFO}


def all_places(findings) -> set[tuple[str, str, str]]:
    return {(f.code, f.sheet, f.cell) for f in findings}


def message(findings, code: str) -> str:
    return next(f.message for f in findings if f.code == code)


def assert_values(res: FileResult, sim: h.Simulated) -> None:
    assert set(res.values) == set(sim.values)
    for key, cols in sim.values.items():
        for col, value in cols.items():
            got = res.values[key][col]
            assert got == (pytest.approx(value) if isinstance(value, (int, float)) else value), (key, col)


def set_pace(values: dict, pct: float, *, status: str | None = None) -> None:
    """Every indicator of project 1 at ``pct`` % of its target, and 总体进度 = ``pct``."""
    for key, target in TARGETS.items():
        cum = float(round(target * pct / 100))  # 家: whole numbers
        values[key].update(current=cum, cumulative=cum)
    values[P1]["progress"] = pct
    if status:
        values[P1]["status"] = status


@pytest.fixture
def good(context: Context, tmp_path: Path) -> h.Simulated:
    return simulate(context, tmp_path / "src" / "good.xlsx")


def restructure(sim: h.Simulated, dst: Path, change, sheet: str = LEAD) -> Path:
    """The return re-saved by openpyxl after ``change(ws)`` on an unmerged ``sheet`` (as one who copies the
    table about, unmerging first, would leave it)."""
    def edit(wb: openpyxl.Workbook) -> None:
        ws = wb[sheet]
        ws.protection.sheet = False
        h.unmerge_all(ws)
        change(ws)
    return h.edit_workbook(sim.path, dst, edit)


def swap_rows(ws, a: int, b: int) -> None:
    for col in range(1, ws.max_column + 1):
        ca, cb = ws.cell(row=a, column=col), ws.cell(row=b, column=col)
        ca.value, cb.value = cb.value, ca.value


# ------------------------------------------------------------------ structure


def test_a_clean_return_has_no_findings(context, good):
    res = only(check(context, good.path))
    assert all_places(res.findings) == set()
    assert res.status == "accepted"
    assert_values(res, good)


def test_rows_inserted_above_the_header(context, tmp_path, good):
    path = restructure(good, tmp_path / "x.xlsx", lambda ws: ws.insert_rows(1, 2))
    res = only(check(context, path))
    assert places(res.findings) == {("row-moved", LEAD, "A5")}
    assert "第 3 行移到了第 5 行" in message(res.findings, "row-moved")
    assert_values(res, good)
    assert res.cells[I1]["cumulative"].cell == "I6"  # read where the value now is


def test_a_non_data_row_deleted(context, tmp_path, good):
    path = restructure(good, tmp_path / "x.xlsx", lambda ws: ws.delete_rows(2))  # the subtitle row
    res = only(check(context, path))
    # The subtitle names the 填报单位: deleting it changes the locked content a printout shows.
    assert places(res.findings) == {("row-moved", LEAD, "A2"), ("locked-changed", LEAD, "A2")}
    assert "填报单位：" in message(res.findings, "locked-changed")
    assert res.status == "rejected"
    assert_values(res, good)


def test_a_blank_row_inserted_between_indicators(context, tmp_path, good):
    path = restructure(good, tmp_path / "x.xlsx", lambda ws: ws.insert_rows(6))
    res = only(check(context, path))
    assert places(res.findings) == {("row-moved", LEAD, "A7")}
    assert "原第 6 行现在第 7 行" in message(res.findings, "row-moved")
    assert_values(res, good)
    assert res.cells[I4]["current"].cell == "H8"


def test_rows_reordered(context, tmp_path, good):
    path = restructure(good, tmp_path / "x.xlsx", lambda ws: swap_rows(ws, 5, 6))
    res = only(check(context, path))
    assert places(res.findings) == {("row-moved", LEAD, "A6")}
    assert_values(res, good)  # each indicator's values under its own key
    assert res.cells[I2]["cumulative"].cell == "I6" and res.cells[I3]["cumulative"].cell == "I5"


def test_an_indicator_row_deleted_is_an_error_and_the_rest_is_read(context, tmp_path, good):
    path = restructure(good, tmp_path / "x.xlsx", lambda ws: ws.delete_rows(5))
    res = only(check(context, path))
    assert places(res.findings) == {("row-missing", LEAD, "A5"), ("row-moved", LEAD, "A5")}
    assert "改造提升村卫生室" in message(res.findings, "row-missing")
    assert res.status == "rejected"
    assert I2 not in res.values
    for key in (I1, I3, I4):
        assert res.values[key]["cumulative"] == pytest.approx(good.values[key]["cumulative"])


def test_an_added_row_is_reported_and_not_read(context, tmp_path, good):
    def add(ws) -> None:
        ws.insert_rows(8)
        ws["C8"], ws["H8"], ws["I8"] = "自行增加的指标", 5, 5

    res = only(check(context, restructure(good, tmp_path / "x.xlsx", add)))
    assert places(res.findings) == {("row-moved", LEAD, "A8")}
    assert "第 8 行是新增的行" in message(res.findings, "row-moved")
    assert_values(res, good)


def test_columns_moved(context, tmp_path, good):
    def move(ws) -> None:  # 本期完成值 cut from H and pasted after the last column
        ws.move_range("H1:H7", cols=8)
        ws.delete_cols(8)

    res = only(check(context, restructure(good, tmp_path / "x.xlsx", move)))
    assert places(res.findings) == {("column-moved", LEAD, "O3")}
    assert "「本期完成值」在 O 列（原 H 列）" in message(res.findings, "column-moved")
    assert_values(res, good)
    assert res.cells[I1]["cumulative"].cell == "H4" and res.cells[P1]["status"].cell == "K4"


def test_an_input_column_deleted(context, tmp_path, good):
    res = only(check(context, restructure(good, tmp_path / "x.xlsx", lambda ws: ws.delete_cols(13))))
    assert places(res.findings) == {("column-missing-return", LEAD, "M3"), ("column-moved", LEAD, "M3")}
    assert "进展情况" in message(res.findings, "column-missing-return")
    assert "progress_text" not in res.values[P1]
    assert res.values[P1]["problems"] == good.values[P1]["problems"]


def test_a_renamed_sheet(context, tmp_path, good):
    def rename(ws) -> None:
        ws.title = "3月进度"

    res = only(check(context, restructure(good, tmp_path / "x.xlsx", rename)))
    assert places(res.findings) == {("sheet-renamed", "3月进度", "")}
    assert "进度填报" in message(res.findings, "sheet-renamed")
    assert_values(res, good)
    assert res.cells[I1]["cumulative"].sheet == "3月进度"


@pytest.mark.parametrize("cell, new, original", [
    ("D4", 8, "10"),                            # a target lowered
    ("B4", "提升医疗服务", "提升乡村医疗服务能力"),  # a project renamed
    ("C5", "改造村卫生室", "改造提升村卫生室"),      # an indicator renamed: found by its place
    ("G4", 1, "0"),                             # 上期累计 (last period's cumulative) changed
    ("E6", "个", "家"),                          # 计量单位
])
def test_locked_content_changed(context, tmp_path, good, cell, new, original):
    def change(ws) -> None:
        ws[cell] = new

    res = only(check(context, restructure(good, tmp_path / "x.xlsx", change)))
    assert places(res.findings) == {("locked-changed", LEAD, cell)}
    text = message(res.findings, "locked-changed")
    assert f"原为「{original}」" in text and f"现为「{new}」" in text
    assert res.status == "rejected"
    assert_values(res, good)


def test_structure_of_the_co_sheet(context, tmp_path):
    """A town's 协办事项: a row inserted, a column moved, the sheet renamed — all at once."""
    sim = simulate(context, tmp_path / "src" / "t.xlsx", unit="鼓楼街道")

    def change(ws) -> None:
        ws.insert_rows(5)
        ws.move_range("G1:G9", cols=5)
        ws.delete_cols(7)
        ws.title = "协办"

    res = only(check(context, restructure(sim, tmp_path / "x.xlsx", change, sheet=CO)))
    assert places(res.findings) == {("sheet-renamed", "协办", ""), ("row-moved", "协办", "A6"),
                                    ("column-moved", "协办", "K3")}
    assert_values(res, sim)


# ------------------------------------------------------------------ values: required, numbers, text


@pytest.mark.parametrize("where, key, col, sheet, cell", [
    ("values", I1, "current", LEAD, "H4"),
    ("values", I1, "cumulative", LEAD, "I4"),
    ("values", P1, "progress", LEAD, "K4"),
    ("values", P1, "status", LEAD, "L4"),
    ("values", P1, "progress_text", LEAD, "M4"),
    ("fields", None, "reporter", INFO, "B6"),
    ("fields", None, "phone", INFO, "B7"),
])
def test_required_inputs_left_empty(context, tmp_path, where, key, col, sheet, cell):
    def tweak(values: dict, fields: dict) -> None:
        if where == "values":
            values[key][col] = None
        else:
            fields[col] = None

    res = only(check(context, simulate(context, tmp_path / "x.xlsx", tweak=tweak).path))
    assert places(res.findings) == {("required-empty", sheet, cell)}
    assert res.status == "rejected"


@pytest.mark.parametrize("text, number", [("500户", 500), ("约500", 500), ("1.2万", 12000), ("五百", 500),
                                          ("100%", 100), ("1,200", 1200), ("５００", 500)])
def test_text_in_a_number_cell_is_read_with_a_warning(context, tmp_path, text, number):
    def tweak(values: dict, fields: dict) -> None:
        values[I4].update(current=number, cumulative=text)

    res = only(check(context, simulate(context, tmp_path / "x.xlsx", tweak=tweak).path))
    # Above 1.5 × the target of 412 家 the figure is also questioned (a warning since completion may not be
    # taken on trust).
    far = {("cumulative-above-target", LEAD, "I7")} if number > 412 * 1.5 else set()
    assert places(res.findings) == {("text-in-number-cell", LEAD, "I7")} | far
    assert f"读作 {number}" in message(res.findings, "text-in-number-cell")
    assert res.values[I4]["cumulative"] == number
    assert res.status == "accepted"


def test_a_percentage_typed_with_its_sign(context, tmp_path):
    res = only(check(context, simulate(context, tmp_path / "x.xlsx",
                                       tweak=lambda v, f: v[P1].update(progress="30%")).path))
    assert places(res.findings) == {("text-in-number-cell", LEAD, "K4")}
    assert res.values[P1]["progress"] == 30


@pytest.mark.parametrize("text", ["待定", "见附件", "3到5"])
def test_unreadable_text_in_a_number_cell_is_an_error(context, tmp_path, text):
    res = only(check(context, simulate(context, tmp_path / "x.xlsx",
                                       tweak=lambda v, f: v[I1].update(cumulative=text)).path))
    assert places(res.findings) == {("number-unreadable", LEAD, "I4")}
    assert text in message(res.findings, "number-unreadable")
    assert res.values[I1]["cumulative"] is None


def test_negative_numbers(context, tmp_path):
    res = only(check(context, simulate(context, tmp_path / "x.xlsx",
                                       tweak=lambda v, f: v[I2].update(cumulative=-5)).path))
    assert places(res.findings) == {("negative-number", LEAD, "I5")}


@pytest.mark.parametrize("progress, code", [(150, "percent-out-of-range"), (-10, "negative-number")])
def test_percentages_outside_0_to_100(context, tmp_path, progress, code):
    res = only(check(context, simulate(context, tmp_path / "x.xlsx",
                                       tweak=lambda v, f: v[P1].update(progress=progress)).path))
    assert places(res.findings) == {(code, LEAD, "K4")}
    assert res.status == "rejected"


def test_a_percentage_typed_as_a_fraction(context, tmp_path):
    res = only(check(context, simulate(context, tmp_path / "x.xlsx",
                                       tweak=lambda v, f: set_pace(v, 27) or v[P1].update(progress=0.27)).path))
    assert places(res.findings) == {("percent-as-fraction", LEAD, "K4")}
    assert res.values[P1]["progress"] == pytest.approx(27)


def test_an_invalid_status(context, tmp_path):
    res = only(check(context, simulate(context, tmp_path / "x.xlsx",
                                       tweak=lambda v, f: v[P1].update(status="进行中")).path))
    assert places(res.findings) == {("status-invalid", LEAD, "L4")}


# ------------------------------------------------------------------ values: consistency


def test_current_must_equal_cumulative_minus_last(context, tmp_path):
    def tweak(values: dict, fields: dict) -> None:
        values[I3].update(current=5, cumulative=17)

    res = only(check(context, simulate(context, tmp_path / "x.xlsx", tweak=tweak).path))
    assert places(res.findings) == {("current-mismatch", LEAD, "H6")}
    assert "应为 17" in message(res.findings, "current-mismatch")


def test_cumulative_far_above_target_is_a_warning_not_an_error(context, tmp_path):
    res = only(check(context, simulate(context, tmp_path / "x.xlsx",
                                       tweak=lambda v, f: v[I1].update(current=20, cumulative=20)).path))
    assert all_places(res.findings) == {("cumulative-above-target", LEAD, "I4")}
    assert res.findings[0].severity is Severity.WARNING and res.status == "accepted"


def test_done_with_progress_below_100(context, tmp_path):
    res = only(check(context, simulate(context, tmp_path / "x.xlsx",
                                       tweak=lambda v, f: set_pace(v, 80, status="已完成")).path))
    # 80 % of every target is short of it, too: the status contradicts the figures.
    assert places(res.findings) == {("done-below-100", LEAD, "L4"), ("status-contradicts-figures", LEAD, "L4")}


def test_not_started_with_progress(context, tmp_path):
    res = only(check(context, simulate(context, tmp_path / "x.xlsx",
                                       tweak=lambda v, f: set_pace(v, 20, status="未启动")).path))
    assert places(res.findings) == {("not-started-with-progress", LEAD, "L4")}


def test_overall_progress_far_from_the_indicators(context, tmp_path):
    def tweak(values: dict, fields: dict) -> None:
        set_pace(values, 20, status="推进中")
        values[P1]["progress"] = 90

    res = only(check(context, simulate(context, tmp_path / "x.xlsx", tweak=tweak).path))
    assert places(res.findings) == {("progress-inconsistent", LEAD, "K4")}
    assert "各指标平均完成 20%" in message(res.findings, "progress-inconsistent")


def test_consistent_progress_passes(context, tmp_path):
    for k, (pct, status) in enumerate(((0, "未启动"), (45, "推进中"), (100, "已完成"))):
        res = only(check(context, simulate(context, tmp_path / f"{k}.xlsx",
                                           tweak=lambda v, f: set_pace(v, pct, status=status)).path))
        assert places(res.findings) == set(), (pct, status)


# ------------------------------------------------------------------ values: text, phone, dates


def test_progress_text_too_short(context, tmp_path):
    res = only(check(context, simulate(context, tmp_path / "x.xlsx",
                                       tweak=lambda v, f: v[P1].update(progress_text="按计划推进。")).path))
    assert places(res.findings) == {("progress-text-short", LEAD, "M4")}
    assert "只有 6 个字" in message(res.findings, "progress-text-short")


@pytest.mark.parametrize("phone", ["12345", "1390537123", "电话同上", "139053712345", "0537-12"])
def test_an_invalid_phone(context, tmp_path, phone):
    res = only(check(context, simulate(context, tmp_path / "x.xlsx",
                                       tweak=lambda v, f: f.update(phone=phone)).path))
    assert places(res.findings) == {("phone-invalid", INFO, "B7")}
    assert phone in message(res.findings, "phone-invalid")


def test_valid_phone_numbers(context, tmp_path):
    phones = ["13905371234", "139-0537-1234", "+86 139 0537 1234", "0537-3412345", "(0537)3412345",
              "0537 3412345", "05373412345", "3412345", "0537-3412345-801", "０５３７－３４１２３４５", 13905371234]
    paths = [simulate(context, tmp_path / f"{k}.xlsx", tweak=lambda v, f, p=p: f.update(phone=p)).path
             for k, p in enumerate(phones)]
    for path in paths:
        res = only(check(context, path))
        assert places(res.findings) == set(), (path.name, [f.line() for f in res.findings])


@pytest.mark.parametrize("value", [dt.date(2025, 12, 20), dt.date(2026, 8, 1), "三月底"])
def test_a_date_outside_the_period(context, tmp_path, value):
    res = only(check(context, simulate(context, tmp_path / "x.xlsx",
                                       tweak=lambda v, f: f.update(report_date=value)).path))
    assert places(res.findings) == {("date-invalid", INFO, "B9")}


def test_a_date_written_as_text_within_the_period(context, tmp_path):
    res = only(check(context, simulate(context, tmp_path / "x.xlsx",
                                       tweak=lambda v, f: f.update(report_date="2026年3月24日")).path))
    assert places(res.findings) == set()
    assert res.fields["report_date"] == "2026-03-24"


# ------------------------------------------------------------------ values against last period (from the store)


@pytest.fixture
def february(context: Context, tmp_path: Path) -> h.Simulated:
    """区卫生健康局's February return, checked and stored (what ``merge`` does)."""
    sim = simulate(context, tmp_path / "feb" / "feb.xlsx", period=FEB)
    with open_store(context.workspace.db_path) as store:
        batch = run_batch(context, store, [sim.path], FEB)
        assert batch.files[0].status == "accepted"
        store_values(store, batch)
    return sim


def march_after(context: Context, february: h.Simulated, path: Path, tweak) -> h.Simulated:
    previous = {key: cols["cumulative"] for key, cols in february.values.items() if "cumulative" in cols}
    return simulate(context, path, previous=previous, tweak=tweak)


def test_cumulative_below_last_periods(context, tmp_path, february):
    last = february.values[I2]["cumulative"]
    assert last > 1

    def tweak(values: dict, fields: dict) -> None:
        values[I2].update(current=0, cumulative=last - 1)

    res = only(check(context, march_after(context, february, tmp_path / "mar.xlsx", tweak).path))
    assert places(res.findings) == {("cumulative-decreased", LEAD, "I5")}
    assert f"上期累计 {last:g}" in message(res.findings, "cumulative-decreased")


def test_current_against_last_periods_cumulative(context, tmp_path, february):
    last = february.values[I2]["cumulative"]

    def tweak(values: dict, fields: dict) -> None:
        values[I2].update(current=last + 10, cumulative=last + 10)  # 本期 given as if it were 累计

    res = only(check(context, march_after(context, february, tmp_path / "mar.xlsx", tweak).path))
    assert places(res.findings) == {("current-mismatch", LEAD, "H5")}


def test_progress_text_copied_from_last_period(context, tmp_path, february):
    text = february.values[P1]["progress_text"]

    def tweak(values: dict, fields: dict) -> None:
        values[P1]["progress_text"] = text

    res = only(check(context, march_after(context, february, tmp_path / "mar.xlsx", tweak).path))
    assert places(res.findings) == {("progress-text-copied", LEAD, "M4")}


def test_a_march_return_continuing_february_is_clean(context, tmp_path, february):
    res = only(check(context, march_after(context, february, tmp_path / "mar.xlsx", None).path))
    assert places(res.findings) == set()


# ------------------------------------------------------------------ across units


def _agriculture(ctx: Context, folder: Path, tweak_town=None) -> list[Path]:
    """区农业农村局 (lead of project 4) and its ten towns, whose shares of each indicator add up."""
    project = ctx.projects.get(4)
    paths = [simulate(ctx, folder / "lead.xlsx", unit=project.leads[0]).path]
    for k, town in enumerate(project.co_units):
        tweak = tweak_town if k == 0 else None
        paths.append(simulate(ctx, folder / f"town{k}.xlsx", unit=town, tweak=tweak).path)
    return paths


def test_co_units_shares_that_add_up_pass(context, tmp_path):
    batch = check(context, *_agriculture(context, tmp_path / "in"))
    assert batch.summary()["errors"] == 0
    assert not [f for f in batch.findings if f.code == "co-share-mismatch"]


def test_co_units_shares_against_the_leads_figure(context, tmp_path):
    def triple(values: dict, fields: dict) -> None:
        row = values[("co", "P04-I01")]
        row.update(current=row["current"] * 3, cumulative=row["cumulative"] * 3)

    batch = check(context, *_agriculture(context, tmp_path / "in", triple))
    found = [f for f in batch.findings if f.code == "co-share-mismatch"]
    assert [(f.unit, f.file, f.sheet, f.cell) for f in found] == [("区农业农村局", "lead.xlsx", LEAD, "I4")]
    assert "投保小麦" in found[0].message


def test_merge_streams_values_to_the_store_and_keeps_what_the_share_check_needs(context, tmp_path):
    """merge moves each return's values to the store as it arrives; the cross-unit check still sees the shares."""
    from shixiang_xl.merge import load_values, merge_returns

    def triple(values: dict, fields: dict) -> None:
        row = values[("co", "P04-I01")]
        row.update(current=row["current"] * 3, cumulative=row["cumulative"] * 3)

    folder = tmp_path / "in"
    paths = _agriculture(context, folder, triple)
    paths.append(simulate(context, folder / "other.xlsx", unit=context.projects.get(1).leads[0]).path)
    expected = check(context, *paths)  # values as read, held in memory
    result = merge_returns(context, MAR, [folder], feedback=False)
    found = [f for f in result.batch.findings if f.code == "co-share-mismatch"]
    assert [(f.unit, f.file, f.cell) for f in found] == [("区农业农村局", "lead.xlsx", "I4")]
    with open_store(context.workspace.db_path) as store:
        stored = load_values(store, MAR.slug)
    assert len(expected.accepted) == len(paths)
    for unit, r in expected.accepted.items():
        assert stored[unit] == {**r.values, ("info", "info"): r.fields}, unit



def test_a_batch_stored_replaces_accepted_values_and_keeps_the_rest(context, tmp_path):
    """Storing a decided batch: an accepted resubmission replaces, a rejected one keeps the stored figures, a new
    unit appears, a unit not in the batch stays."""
    from shixiang_xl.merge import load_values, merge_returns

    other = context.projects.get(2).leads[0]
    town = context.projects.get(4).co_units[0]
    assert len({UNIT, other, town}) == 3
    merge_returns(context, MAR, [simulate(context, tmp_path / "first" / "a.xlsx").path,
                                 simulate(context, tmp_path / "first" / "b.xlsx", unit=other).path], feedback=False)

    def second(values: dict, fields: dict) -> None:
        for cols in values.values():
            if "progress_text" in cols:
                cols["progress_text"] = "第二次报送：已完成招标。"

    folder = tmp_path / "second"
    paths = [simulate(context, folder / "a.xlsx", tweak=lambda v, f: v[I1].update(cumulative="很多")).path,
             simulate(context, folder / "b.xlsx", unit=other, tweak=second).path,
             simulate(context, folder / "c.xlsx", unit=town).path]
    with open_store(context.workspace.db_path) as store:
        before = load_values(store, MAR.slug)
        batch = run_batch(context, store, paths, MAR)
        assert {r.source.name: r.status for r in batch.files} == {"a.xlsx": "rejected", "b.xlsx": "accepted",
                                                                    "c.xlsx": "accepted"}
        assert load_values(store, MAR.slug) == before  # nothing is stored before the batch is
        store_values(store, batch)
        after = load_values(store, MAR.slug)
    assert set(after) == {UNIT, other, town}
    assert after[UNIT] == before[UNIT] and after[other] != before[other]
    assert {cols.get("progress_text") for cols in after[other].values()} >= {"第二次报送：已完成招标。"}


def test_a_return_from_a_unit_with_nothing_to_report(context, tmp_path):
    """The project list changed after the workbooks went out: 区公共法律服务中心 no longer co-leads project 10."""
    sim = simulate(context, tmp_path / "x.xlsx", unit="区公共法律服务中心")

    def drop_co_unit(wb: openpyxl.Workbook) -> None:
        ws = wb["项目"]
        for row in ws.iter_rows(min_row=2):
            if row[0].value == 10:
                row[4].value = None

    path = context.workspace.project_list_path
    h.edit_workbook(path, path, drop_co_unit)
    changed = load_context(context.workspace.root)
    assert "区公共法律服务中心" not in changed.projects.units
    res = only(check(changed, sim.path))
    assert places(res.findings) == {("unit-nothing-to-report", "", "")}
    assert res.unit == "区公共法律服务中心"


def test_all_findings_at_once(context, tmp_path):
    def tweak(values: dict, fields: dict) -> None:
        values[I1]["current"] = None
        values[I2]["cumulative"] = "约40"
        values[I3]["cumulative"] = -1
        values[P1]["progress_text"] = "推进中"
        fields.update(phone="123", report_date=dt.date(2025, 1, 1))

    path = simulate(context, tmp_path / "x.xlsx", tweak=tweak).path
    res = only(check(context, restructure(h.Simulated(path, {}, {}), tmp_path / "y.xlsx",
                                          lambda ws: ws.__setitem__("D7", 400))))
    assert places(res.findings) == {
        ("required-empty", LEAD, "H4"), ("text-in-number-cell", LEAD, "I5"), ("current-mismatch", LEAD, "H5"),
        ("negative-number", LEAD, "I6"), ("progress-text-short", LEAD, "M4"), ("locked-changed", LEAD, "D7"),
        ("phone-invalid", INFO, "B7"), ("date-invalid", INFO, "B9")}
    for f in res.findings:
        assert f.unit == UNIT and f.file == "y.xlsx" and f.message


# ------------------------------------------------------------------ plain data: check_values and check_batch


@pytest.fixture(scope="module")
def spec():
    return load_spec()


def _read(cells: dict, fields: dict | None = None) -> ReadResult:
    """A ReadResult as the reader would make it: (kind, row key) → column → CellValue on sheet 进度填报."""
    read = ReadResult()
    for (key, col), (value, cell) in cells.items():
        read.values.setdefault(key, {})[col] = CellValue(value, LEAD, cell)
    spots = {"reporter": "B6", "phone": "B7", "reviewer": "B8", "report_date": "B9"}
    base = {"reporter": "王芳", "phone": "13905371234", "reviewer": "", "report_date": dt.date(2026, 3, 24)}
    for key, value in {**base, **(fields or {})}.items():
        read.fields[key] = CellValue(value, INFO, spots[key])
    return read


def _row(current, cumulative, row: int = 4, key=I1) -> dict:
    return {(key, "current"): (current, f"H{row}"), (key, "cumulative"): (cumulative, f"I{row}")}


def _project(progress=27, status="推进中", text="本月新建中心村卫生室3家，完成设备采购招标。") -> dict:
    return {(P1, "progress"): (progress, "K4"), (P1, "status"): (status, "L4"), (P1, "progress_text"): (text, "M4")}


def _check(spec, example_2026, read, history=None):
    return check_values(read, spec=spec, plist=example_2026[2], period=MAR, unit=UNIT, fname="f.xlsx",
                        history=history)


def test_check_values_parses_and_reports_on_plain_data(spec, example_2026):
    read = _read({**_row("3家", "3家"), **_row(True, 40, 5, I2), **_row(dt.datetime(2026, 3, 1), 18, 6, I3),
                  **_project(progress=0.27, status=" 推进中 ")})
    out = _check(spec, example_2026, read)
    assert places(out.findings) == {("text-in-number-cell", LEAD, "H4"), ("text-in-number-cell", LEAD, "I4"),
                                    ("number-unreadable", LEAD, "H5"), ("number-unreadable", LEAD, "H6"),
                                    ("percent-as-fraction", LEAD, "K4")}
    assert out.values[I1] == {"current": 3, "cumulative": 3}
    assert out.values[I2]["current"] is None and out.values[I2]["cumulative"] == 40
    assert out.values[P1]["progress"] == pytest.approx(27) and out.values[P1]["status"] == "推进中"
    assert out.fields["report_date"] == "2026-03-24" and out.fields["reviewer"] is None


def test_check_values_uses_history(spec, example_2026):
    history = History(cumulative={I1: 5.0, I2: 30.0}, texts={P1: "本月新建中心村卫生室3家，完成设备采购招标。"})
    read = _read({**_row(2, 7), **_row(0, 25, 5, I2), **_project()})
    out = _check(spec, example_2026, read, history)
    assert places(out.findings) == {("cumulative-decreased", LEAD, "I5"), ("progress-text-copied", LEAD, "M4")}


def test_check_values_excel_serial_dates_and_long_text(spec, example_2026):
    serial = (dt.date(2026, 3, 24) - dt.date(1899, 12, 30)).days
    read = _read({**_row(3, 3), **_project(text="进展" * 1500)}, {"report_date": float(serial)})
    out = _check(spec, example_2026, read)
    assert places(out.findings) == {("text-too-long", LEAD, "M4")}
    assert out.fields["report_date"] == "2026-03-24"
    assert len(out.values[P1]["progress_text"]) == 2000


def _returns(lead_cum, shares, cell="I4"):
    lead = UnitReturn("区农业农村局", "lead.xlsx", {("lead", "P04-I01"): {"cumulative": lead_cum}},
                      {("lead", "P04-I01"): {"cumulative": CellValue(lead_cum, LEAD, cell)}})
    towns = [UnitReturn(town, f"{town}.xlsx", {("co", "P04-I01"): {"cumulative": share}}, {})
             for town, share in shares.items()]
    return [lead, *towns]


def test_check_batch_on_plain_data(example_2026):
    plist = example_2026[2]
    towns = plist.get(4).co_units
    assert len(towns) == 10
    even = {t: 1.5 for t in towns}
    assert check_batch(_returns(15.0, even), plist) == []
    rounded = {t: 0.33 for t in towns[:9]} | {towns[9]: 0.34}
    assert check_batch(_returns(3.33, rounded), plist) == []  # shares rounded to 0.01 still add up
    off = {t: 1.5 for t in towns} | {towns[0]: 4.5}
    found = check_batch(_returns(15.0, off), plist)
    assert [(f.code, f.unit, f.file, f.sheet, f.cell) for f in found] == \
        [("co-share-mismatch", "区农业农村局", "lead.xlsx", LEAD, "I4")]
    assert "合计 18" in found[0].message
    partial = {t: 1.5 for t in towns[:4]}  # six towns still missing: a smaller total is no contradiction …
    assert check_batch(_returns(15.0, partial), plist) == []
    over = {t: 5.0 for t in towns[:4]}  # … but more than the lead's figure already is
    assert [f.code for f in check_batch(_returns(15.0, over), plist)] == ["co-share-mismatch"]
    assert check_batch(_returns(15.0, even)[1:], plist) == []  # no lead return: nothing to compare with
