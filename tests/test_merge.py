"""merge and the 台账: values read back with an independent reader (openpyxl), idempotency, resubmissions,
returns with errors, text that looks like a formula, the PDF, and a run killed mid-write."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from shixiang_xl.cli import main
from shixiang_xl.demo import simulate_period
from shixiang_xl.generate import file_name
from shixiang_xl.ledger import STATUS_LAG, SUBMIT_BACK, SUBMIT_LATE, SUBMIT_MISSING, SUBMIT_ON_TIME
from shixiang_xl.merge import merge_returns
from shixiang_xl.office import pdf_info
from shixiang_xl.period import Period
from shixiang_xl.simulate import write_simulated_return
from shixiang_xl.workspace import init_workspace, load_context

FEB, MAR = Period.parse("2026-02"), Period.parse("2026-03")


def sheet_rows(path: Path, sheet: str) -> list[list[object]]:
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        return [list(r) for r in wb[sheet].iter_rows(values_only=True)]
    finally:
        wb.close()


def all_sheets(path: Path) -> dict[str, list[list[object]]]:
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}
    finally:
        wb.close()


def store_dump(db: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(db)
    try:
        out = {}
        for table in ("files", "returns", "entries", "findings", "progress"):
            out[table] = sorted(conn.execute(f"SELECT * FROM {table}").fetchall(), key=repr)
        out["merges"] = sorted(conn.execute("SELECT period, content_hash FROM merges").fetchall())
        return out
    finally:
        conn.close()


@pytest.fixture()
def two_periods(tmp_path):
    """A workspace with February merged (all on time) and March's returns in the inbox with planted faults."""
    ws = init_workspace(tmp_path / "ws", "yanzhou-2026")
    ctx = load_context(ws.root)
    simulate_period(ctx, FEB)
    merge_returns(ctx, FEB)
    leads = [u for u in ctx.projects.units if ctx.projects.led_by(u)]
    faults = {"missing": leads[4], "broken": leads[7], "sloppy": leads[1], "late": leads[8]}
    simulate_period(ctx, MAR, **faults)
    return ctx, faults


def test_ledger_sheets_hold_what_the_returns_held(two_periods):
    ctx, faults = two_periods
    result = merge_returns(ctx, MAR)
    path = result.ledger_path
    sheets = all_sheets(path)
    assert list(sheets) == ["总表", "指标明细", "报送情况", "通报建议", "走势", "校验问题"]
    assert sheets["总表"][0][0] == "2026年区政府十件民生实事推进情况台账（截至2026年3月底）"

    # 指标明细: every lead indicator's cumulative equals what the unit's return file holds (read with openpyxl).
    detail = {(r[0], r[1], r[2]): r for r in sheets["指标明细"][3:] if r[0] is not None}
    checked = 0
    skip = {faults["missing"], faults["broken"], faults["sloppy"]}
    for f in sorted(ctx.workspace.folder("inbox", MAR.slug).glob("*.xlsx")):
        unit = f.name.split("_")[1]
        if unit in skip or "进度填报" not in all_sheets(f):
            continue
        rows = all_sheets(f)["进度填报"]
        project = None
        for r in rows[3:]:
            project = r[0] if r[0] is not None else project
            if not r[2]:
                continue
            row = detail[(project, r[2], unit)]
            assert row[3] == pytest.approx(r[3])  # target
            if isinstance(r[7], str):  # a level (比率, 上限): one current value, nothing added up
                assert row[12] in ("比率", "上限") and row[6] is None and row[7] is None
                assert row[8] == pytest.approx(r[8])  # the current value
                assert row[9] == pytest.approx(min(1.0, r[8] / r[3]))  # a level is at most complete
                checked += 1
                continue
            assert row[7] == pytest.approx(r[7])  # this period
            assert row[8] == pytest.approx(r[8])  # cumulative
            assert row[9] == pytest.approx(r[8] / r[3])  # completion rate
            checked += 1
    assert checked > 15

    # 总表 equals the ledger data (completion, expected, status) for every project.
    summary = {r[0]: r for r in sheets["总表"][3:3 + len(ctx.projects.projects)]}
    for p in result.ledger.projects:
        row = summary[p.number]
        assert row[1] == p.name
        assert row[6] == (pytest.approx(p.completion) if p.completion is not None else None)
        assert row[8] == (p.reported_status or None)
        assert row[9] == pytest.approx(p.expected)
        assert row[10] == p.status

    # 报送情况: the missing unit, the one sent back, the late one, and the others on time.
    status = {r[1]: r[3] for r in sheets["报送情况"][3:] if r[1]}
    assert status[faults["missing"]] == SUBMIT_MISSING
    assert status[faults["broken"]] == SUBMIT_BACK
    assert status[faults["late"]] == SUBMIT_LATE
    assert sum(v == SUBMIT_ON_TIME for v in status.values()) == len(ctx.projects.units) - 3

    # 通报建议 names the missing and the returned unit with their reasons.
    reasons = [r[3] for r in sheets["通报建议"][3:] if r[3]]
    assert any(faults["missing"] in t and "未报送" in t for t in reasons)
    assert any(faults["broken"] in t and "退回修改" in t for t in reasons)
    assert any(faults["late"] in t and "晚于截止时间" in t for t in reasons)

    # 走势: both periods, February's completion as merged then.
    trend = sheets["走势"]
    assert trend[2][2:4] == ["2月", "3月"]
    # 校验问题 lists every finding of the period.
    assert len([r for r in sheets["校验问题"][3:] if r[1]]) == len(result.batch.findings)
    # Units and clerks read the problem's Chinese name; the code sits in the last (hidden) column.
    header = sheets["校验问题"][2]
    assert header[6:8] == ["问题", "说明"]
    assert all(not re.fullmatch(r"[a-z]+(-[a-z]+)+", str(r[6])) for r in sheets["校验问题"][3:] if r[1])


def test_returned_unit_is_not_merged_and_shows_its_last_accepted_figures(two_periods):
    ctx, faults = two_periods
    result = merge_returns(ctx, MAR)
    broken = faults["broken"]
    conn = sqlite3.connect(ctx.workspace.db_path)
    try:
        rows = conn.execute("SELECT COUNT(*) FROM entries WHERE period = ? AND unit = ?", (MAR.slug, broken)).fetchone()
    finally:
        conn.close()
    assert rows[0] == 0
    project = ctx.projects.led_by(broken)[0]
    row = next(p for p in result.ledger.projects if p.number == project.number)
    assert "退回修改" in row.note and "2026年2月" in row.note
    ledger = sheet_rows(result.ledger_path, "总表")
    note = next(r for r in ledger[3:] if r[0] == project.number)[-1]
    assert "退回修改" in note
    # 指标明细: the unit's rows hold February's figures in March's columns, and each says so.
    detail = sheet_rows(result.ledger_path, "指标明细")
    notes = [r[-1] for r in detail[3:] if r[2] == broken]
    assert notes and all(n and "退回修改" in n and "2026年2月" in n for n in notes)
    assert all(not r[-1] for r in detail[3:] if r[2] and r[2] not in (broken, faults["missing"]))


def test_merging_twice_changes_nothing(two_periods):
    ctx, _ = two_periods
    first = merge_returns(ctx, MAR)
    content1, store1 = all_sheets(first.ledger_path), store_dump(ctx.workspace.db_path)
    bytes1 = first.ledger_path.read_bytes()
    second = merge_returns(ctx, MAR)
    assert second.changed is False
    assert all_sheets(second.ledger_path) == content1
    assert store_dump(ctx.workspace.db_path) == store1
    assert second.ledger_path.read_bytes() == bytes1


def test_corrected_resubmission_supersedes(two_periods):
    ctx, faults = two_periods
    merge_returns(ctx, MAR)
    broken = faults["broken"]
    inbox = ctx.workspace.folder("inbox", MAR.slug)
    fixed = inbox / "更正" / file_name(MAR, broken).replace(".xlsx", "(1).xlsx")
    fixed.parent.mkdir()
    from shixiang_xl.history import previous_cumulatives

    previous = previous_cumulatives(ctx.workspace, MAR, [broken]).get(broken)
    write_simulated_return(ctx, broken, MAR, fixed, seed=7, previous=previous)
    later = (dt.datetime.combine(MAR.due(25), dt.time(9)) + dt.timedelta(days=1)).timestamp()
    os.utime(fixed, (later, later))
    result = merge_returns(ctx, MAR)
    statuses = {r.source.name: r.status for r in result.batch.files if r.unit == broken}
    assert sorted(statuses.values()) == ["accepted", "superseded"]
    assert result.batch.chosen[broken].source.path == str(fixed)
    superseded = next(r for r in result.batch.files if r.unit == broken and r.status == "superseded")
    assert any(f.code == "superseded" for f in superseded.findings)
    assert Path(superseded.archive_path).exists()  # the earlier one stays archived
    conn = sqlite3.connect(ctx.workspace.db_path)
    try:
        n = conn.execute("SELECT COUNT(*) FROM entries WHERE period = ? AND unit = ?", (MAR.slug, broken)).fetchone()[0]
    finally:
        conn.close()
    assert n > 0
    project = ctx.projects.led_by(broken)[0]
    row = next(p for p in result.ledger.projects if p.number == project.number)
    assert row.note == ""


def test_unit_text_starting_with_equals_stays_text(tmp_path):
    ws = init_workspace(tmp_path / "ws", "yanzhou-2026")
    ctx = load_context(ws.root)
    unit = ctx.projects.projects[0].leads[0]
    evil = '=HYPERLINK("http://example.com","点我")本期完成新建卫生室两家，改造提升十家。'

    def tweak(values, fields):
        values[("lead", ctx.projects.projects[0].key)]["progress_text"] = evil
        values[("lead", ctx.projects.projects[0].key)]["problems"] = "=1+1"

    inbox = ws.folder("inbox", MAR.slug)
    write_simulated_return(ctx, unit, MAR, inbox / "a.xlsx", tweak=tweak)
    result = merge_returns(ctx, MAR)
    wb = openpyxl.load_workbook(result.ledger_path)
    try:
        sheet = wb["总表"]
        row = next(r for r in sheet.iter_rows(min_row=4) if r[0].value == 1)
        assert row[5].value == evil and row[5].data_type == "s"
        assert row[11].value == "=1+1" and row[11].data_type == "s"
    finally:
        wb.close()


def test_pdf_is_a4_landscape_with_the_title(two_periods):
    ctx, _ = two_periods
    result = merge_returns(ctx, MAR, pdf=True)
    assert result.pdf_path is not None and result.pdf_path.exists()
    info = pdf_info(result.pdf_path)
    assert info.pages >= 3
    assert all(info.landscape)
    w, h = info.sizes_mm[0]
    assert abs(w - 297) < 2 and abs(h - 210) < 2
    text = "".join(info.text).replace(" ", "").replace("\n", "")
    assert "推进情况台账" in text and "截至2026年3月底" in text


def test_killed_mid_write_leaves_old_ledger(two_periods, tmp_path):
    ctx, _ = two_periods
    first = merge_returns(ctx, MAR)
    before = all_sheets(first.ledger_path)
    # A new return changes the ledger; the process is killed while the new ledger is being written.
    inbox = ctx.workspace.folder("inbox", MAR.slug)
    extra = inbox / "补报" / "late.xlsx"
    extra.parent.mkdir()
    leads = [u for u in ctx.projects.units if ctx.projects.led_by(u)]
    write_simulated_return(ctx, leads[4], MAR, extra, seed=3)
    script = textwrap.dedent(f"""
        import contextlib, os, signal
        from pathlib import Path
        import shixiang_xl.ledger as ledger
        import shixiang_xl.merge as m
        import shixiang_xl.xlsxout as x
        from shixiang_xl.period import Period
        from shixiang_xl.workspace import load_context

        real_output = x.atomic_output

        @contextlib.contextmanager
        def dying_output(path, mode=0o644, durable=True):
            if "台账" not in Path(path).name:  # 台账.xlsx, or its new version staged beside it
                with real_output(path, mode, durable=durable) as fh:
                    yield fh
                return
            with open(Path(path).with_name(".~partial.tmp"), "w+b") as fh:
                yield fh
                fh.truncate(fh.tell() // 2)
                fh.flush()
                os.kill(os.getpid(), signal.SIGKILL)  # half written, never renamed

        ledger.atomic_output = dying_output  # what the ledger's writer writes through
        m.merge_returns(load_context(Path({str(ctx.workspace.root)!r})), Period.parse("2026-03"))
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert proc.returncode == -9
    assert all_sheets(first.ledger_path) == before


def test_merge_and_status_cli(two_periods):
    ctx, faults = two_periods
    runner = CliRunner()
    res = runner.invoke(main, ["-w", str(ctx.workspace.root), "merge", "--period", "2026-03"])
    assert res.exit_code == 0, res.output
    assert "台账" in res.output and faults["missing"] in res.output
    res = runner.invoke(main, ["-w", str(ctx.workspace.root), "status", "--period", "2026-03", "--xlsx"])
    assert res.exit_code == 1
    assert "催报名单" in res.output
    chase = sheet_rows(ctx.workspace.folder("reports", "2026-03") / "催报名单.xlsx", "催报名单")
    assert chase[0][0] == "2026年区政府十件民生实事进度填报催报名单（3月）"  # the year once
    names = {r[1] for r in chase[3:] if r[1]}
    assert {faults["missing"], faults["broken"]} <= names
    res = runner.invoke(main, ["-w", str(ctx.workspace.root), "merge", "--period", "2026-03", "--strict",
                               "--accept-warnings"])
    assert res.exit_code == 2


def test_lagging_project_is_criticised(tmp_path):
    ws = init_workspace(tmp_path / "ws", "yanzhou-2026")
    ctx = load_context(ws.root)
    unit = ctx.projects.projects[4].leads[0]  # 高质量就业促进行动: three indicators
    write_simulated_return(ctx, unit, Period.parse("2026-06"), ws.folder("inbox", "2026-06") / "r.xlsx",
                           factor=0.2)
    result = merge_returns(ctx, Period.parse("2026-06"))
    row = next(p for p in result.ledger.projects if p.number == 5)
    assert row.status == STATUS_LAG
    assert any(b.kind == "曝光" and unit in b.reason and "低于序时进度" in b.reason for b in result.ledger.bulletin)


def test_year_end_ledger_shows_the_survey_result(tmp_path):
    from shixiang_xl.demo import demo_survey
    from shixiang_xl.tally import load_tally

    ws = init_workspace(tmp_path / "ws", "yanzhou-2026")
    ctx = load_context(ws.root)
    lines: list[str] = []
    demo_survey(ctx, lines.append)
    tally = load_tally(ws, 2026)
    assert tally  # the demo's corrected double entry was tallied
    dec = Period.parse("2026-12")
    unit = ctx.projects.projects[0].leads[0]
    write_simulated_return(ctx, unit, dec, ws.folder("inbox", dec.slug) / "r.xlsx")
    result = merge_returns(ctx, dec)
    rows = sheet_rows(result.ledger_path, "总表")
    header = rows[2]
    assert "满意率" in header and "满意度测评" in header
    col = header.index("满意率")
    for r in rows[3:3 + len(ctx.projects.projects)]:
        assert r[col] == pytest.approx(tally[r[0]].satisfaction_rate)
        assert r[col + 1] == tally[r[0]].text
    # Before December the ledger has no survey column.
    mar = merge_returns(ctx, MAR)
    assert "满意率" not in sheet_rows(mar.ledger_path, "总表")[2]




EVIDENCE_COLUMN = '''
[[lead.columns]]
key = "evidence"
heading = "佐证材料"
scope = "indicator"
role = "input"
type = "text"
width = 16
'''


def test_a_districts_indicator_column_reaches_the_ledger(tmp_path):
    """An indicator-scope input column a district adds to its report_spec.toml is shown in 指标明细, per row, as
    the unit filled it in (read with openpyxl); without it, 指标明细 has the standard columns only."""
    from shixiang_xl.spec import packaged_spec_text

    ws = init_workspace(tmp_path / "ws", "yanzhou-2026")
    text = packaged_spec_text()
    (ws.root / "report_spec.toml").write_text(text.replace("\n[co]\n", EVIDENCE_COLUMN + "\n[co]\n"),
                                              encoding="utf-8")
    ctx = load_context(ws.root)
    unit = ctx.projects.get(1).leads[0]
    keys = [i.key for i in ctx.projects.get(1).indicators]

    def fill(values: dict, fields: dict) -> None:
        for n, key in enumerate(keys):
            values[("lead", key)]["evidence"] = f"验收资料第{n + 1}册"

    inbox = ws.folder("inbox", MAR.slug)
    write_simulated_return(ctx, unit, MAR, inbox / file_name(MAR, unit), seed=3, tweak=fill)
    result = merge_returns(ctx, MAR, feedback=False)
    rows = sheet_rows(result.ledger_path, "指标明细")
    heads = rows[2]
    assert heads[-2:] == ["佐证材料", "备注"]  # the district's column, then the sheet's own last one
    name_col, evidence_col = heads.index("指标"), heads.index("佐证材料")
    names = {i.name: i.key for i in ctx.projects.get(1).indicators}
    shown = {r[name_col]: r[evidence_col] for r in rows[3:] if r[0] == 1 and r[name_col] in names}
    assert shown == {name: f"验收资料第{keys.index(key) + 1}册" for name, key in names.items()}
    assert all(r[evidence_col] in (None, "") for r in rows[3:] if r[0] != 1)

    (ws.root / "report_spec.toml").unlink()
    plain = merge_returns(load_context(ws.root), MAR, feedback=False)
    assert "佐证材料" not in sheet_rows(plain.ledger_path, "指标明细")[2]
