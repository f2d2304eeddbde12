"""Numbers an office can sign: a value typed in the wrong scale, fractions of counted things, completion far
above target, the unit's own status, one definition of every summary figure, receipt times.

Returns are written by the package's simulator and then read back from the files with openpyxl (to locate the
cell a finding must name); the ledger, the chase list and the documents are read with openpyxl and python-docx.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import openpyxl
import pytest

import hostile as h
from shixiang_xl.batch import BatchResult, run_batch
from shixiang_xl.findings import Severity
from shixiang_xl.measures import KIND_CEILING, KIND_COUNT, KIND_MILESTONE, KIND_RATE, infer_kind, is_count, scale
from shixiang_xl.period import Period
from shixiang_xl.store import open_store
from shixiang_xl.workspace import Context

MAR = Period.parse("2026-03")
LEAD = "进度填报"
EDU = "区教育和体育局"  # leads project 6; indicator 5 is 测评覆盖学生 7.3 万名
HEALTH = "区卫生健康局"  # leads project 1; indicator 1 is 新建中心村卫生室 10 家


def check(ctx: Context, *paths: Path, period: Period = MAR) -> BatchResult:
    with open_store(ctx.workspace.db_path) as store:
        return run_batch(ctx, store, list(paths), period)


def cell_of(path: Path, indicator: str, heading: str, sheet: str = LEAD) -> str:
    """The A1 reference of the ``heading`` column on the row of ``indicator``, found in the file with openpyxl."""
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        rows = [list(r) for r in wb[sheet].iter_rows(values_only=True)]
    finally:
        wb.close()
    header = next(k for k, r in enumerate(rows) if heading in r)
    col = rows[header].index(heading)
    row = next(k for k, r in enumerate(rows) if indicator in r)
    return f"{openpyxl.utils.get_column_letter(col + 1)}{row + 1}"


def stamp(path: Path, when: str) -> None:
    """Set a file's modification time (the time a return dropped into inbox/ counts as received)."""
    ts = dt.datetime.fromisoformat(when).timestamp()
    os.utime(path, (ts, ts))


def codes_at(findings, code: str) -> set[tuple[str, str]]:
    return {(f.sheet, f.cell) for f in findings if f.code == code}


# ------------------------------------------------------------------ measure words


def test_measure_words():
    assert is_count("家") and is_count("人次") and is_count("处")
    assert not is_count("万户") and not is_count("万元") and not is_count("公里") and not is_count("%")
    assert scale("万户") == (10_000.0, "户") and scale("户") == (1.0, "户") and scale("万") == (1.0, "万")
    assert infer_kind("参保群众满意度", "%", "≥") == (KIND_RATE, False)
    assert infer_kind("院前急救平均响应时间", "分钟", "≤")[0] == KIND_CEILING
    assert infer_kind("新建中心村卫生室", "家", "=") == (KIND_COUNT, False)
    assert infer_kind("出台管理办法", "", "=")[0] == KIND_MILESTONE


# ------------------------------------------------------------------ (1) unit scale and plausibility


def test_a_value_typed_in_the_base_unit_of_a_wan_target_is_an_error_at_the_cell(context, tmp_path):
    # 7.3 万名 is the target; the unit typed 73000 (名) in both number cells.
    def tweak(values: dict, fields: dict) -> None:
        values[("lead", "P06-I05")].update(current=73000, cumulative=73000)
        values[("lead", "P06")].update(status="推进中", progress=50)

    sim = h.simulate(context, tmp_path / "edu.xlsx", EDU, tweak=tweak)
    res = check(context, sim.path).files[0]
    expected = {(LEAD, cell_of(sim.path, "测评覆盖学生", "累计完成值")),
                (LEAD, cell_of(sim.path, "测评覆盖学生", "本期完成值"))}
    assert codes_at(res.findings, "unit-scale-mismatch") == expected
    found = [f for f in res.findings if f.code == "unit-scale-mismatch"]
    assert all(f.severity is Severity.ERROR for f in found)
    assert "是否为 73000 名，即 7.3 万名" in found[0].message
    assert not codes_at(res.findings, "cumulative-above-target")  # the scale error says it; no second warning
    assert res.status == "rejected"


def test_a_thousandth_of_a_wan_target_is_questioned_too(context, tmp_path):
    def tweak(values: dict, fields: dict) -> None:
        values[("lead", "P06-I05")].update(current=0.0007, cumulative=0.0007)

    sim = h.simulate(context, tmp_path / "edu.xlsx", EDU, tweak=tweak)
    res = check(context, sim.path).files[0]
    assert codes_at(res.findings, "unit-scale-mismatch") == {
        (LEAD, cell_of(sim.path, "测评覆盖学生", "累计完成值")), (LEAD, cell_of(sim.path, "测评覆盖学生", "本期完成值"))}


def test_a_plausible_wan_figure_passes(context, tmp_path):
    def tweak(values: dict, fields: dict) -> None:
        values[("lead", "P06-I05")].update(current=3.65, cumulative=3.65)

    res = check(context, h.simulate(context, tmp_path / "edu.xlsx", EDU, tweak=tweak).path).files[0]
    assert not codes_at(res.findings, "unit-scale-mismatch") and not codes_at(res.findings, "fraction-in-count")


def test_a_fraction_of_counted_things_is_an_error_at_the_cell(context, tmp_path):
    def tweak(values: dict, fields: dict) -> None:
        values[("lead", "P01-I01")].update(current=2.27, cumulative=2.27)

    sim = h.simulate(context, tmp_path / "health.xlsx", HEALTH, tweak=tweak)
    res = check(context, sim.path).files[0]
    assert codes_at(res.findings, "fraction-in-count") == {
        (LEAD, cell_of(sim.path, "新建中心村卫生室", "累计完成值")), (LEAD, cell_of(sim.path, "新建中心村卫生室", "本期完成值"))}
    assert "应为整数" in next(f.message for f in res.findings if f.code == "fraction-in-count")
    assert res.status == "rejected"


def test_simulated_returns_fill_whole_numbers_for_counted_things(context, tmp_path):
    """The demo's and the fixtures' returns: every counted figure whole, read back from the files with openpyxl."""
    for unit in context.projects.units:
        sim = h.simulate(context, tmp_path / f"{unit}.xlsx", unit)
        wb = openpyxl.load_workbook(sim.path, read_only=True)
        try:
            for ws in wb.worksheets:
                rows = [list(r) for r in ws.iter_rows(values_only=True)]
                if not rows or ws.title not in (LEAD, "协办事项"):
                    continue
                header = next(k for k, r in enumerate(rows) if "累计完成值" in r)
                heads = rows[header]
                measure, cum = heads.index("计量单位"), heads.index("累计完成值")
                for r in rows[header + 1:]:
                    if r[measure] and is_count(str(r[measure])) and isinstance(r[cum], (int, float)):
                        assert float(r[cum]).is_integer(), (unit, r)
        finally:
            wb.close()
        res = check(context, sim.path).files[-1]
        assert not codes_at(res.findings, "fraction-in-count"), unit


# ------------------------------------------------------------------ (2) the unit's status, checked, never overwritten


def docx_text(path: Path) -> str:
    import docx

    d = docx.Document(str(path))
    parts = [p.text for p in d.paragraphs]
    for t in d.tables:
        for row in t.rows:
            parts.append("　".join(c.text for c in row.cells))
    return "\n".join(parts)


def ledger_rows(path: Path, sheet: str) -> list[list[object]]:
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        rows = [list(r) for r in wb[sheet].iter_rows(values_only=True)]
    finally:
        wb.close()
    # Headings wrap between words ("完成进度\n（填报）"): looked up by their words.
    return [[v.replace("\n", "") if k < 3 and isinstance(v, str) else v for v in row] for k, row in enumerate(rows)]


def _all_targets(ctx: Context, project: int, factor: float):
    targets = {i.key: i.target for i in ctx.projects.get(project).indicators}

    def fill(values: dict, status: str, progress: float) -> None:
        for key, target in targets.items():
            cum = float(round(target * factor))
            values[("lead", key)].update(current=cum, cumulative=cum)
        values[("lead", f"P{project:02d}")].update(status=status, progress=progress)
    return fill


@pytest.mark.parametrize("factor, status, progress, done", [
    (1.8, "推进中", 50, False),   # far above every target, but the unit says 推进中 (the example)
    (0.6, "已完成", 100, False),  # the unit says 已完成, the figures fall short
    (1.0, "已完成", 100, True),   # both agree: 已完成
])
def test_only_the_unit_and_the_figures_together_make_a_project_done(context, tmp_path, factor, status, progress,
                                                                      done):
    from shixiang_xl.merge import merge_returns
    from shixiang_xl.report import write_reports

    fill = _all_targets(context, 1, factor)
    sim = h.simulate(context, context.workspace.folder("inbox", MAR.slug) / "health.xlsx", HEALTH,
                     tweak=lambda v, f: fill(v, status, progress))
    stamp(sim.path, "2026-03-20 10:00")
    result = merge_returns(context, MAR)
    res = next(r for r in result.batch.files if r.unit == HEALTH)
    assert res.status == "accepted"
    contradicts = codes_at(res.findings, "status-contradicts-figures")
    assert contradicts == (set() if done else {(LEAD, cell_of(sim.path, "提升乡村医疗服务能力", "状态"))})

    rows = ledger_rows(result.ledger_path, "总表")
    header = rows[2]
    row = next(r for r in rows[3:] if r[0] == 1)
    assert row[header.index("填报状态")] == status  # the unit's own word, as reported
    assert row[header.index("完成进度（填报）")] == progress
    assert (row[header.index("状态")] == "已完成") is done
    note = row[header.index("备注")] or ""
    assert ("待核实" in note) is (not done)

    docs = write_reports(context, MAR)
    progress_text = docx_text(docs.documents["进展报告"])
    paragraph = next(p for p in progress_text.split("\n") if p.startswith(f"该项目由{HEALTH}牵头"))
    assert ("已全面完成" in paragraph) is done
    assert (f"填报“{status}”" in paragraph) is (not done)
    bulletin = docx_text(docs.documents["通报"])
    assert ("已全部完成" in bulletin) is done


# ------------------------------------------------------------------ (3) one definition of every summary figure


def _figures(text: str) -> tuple[int, int, int]:
    """(报送率, 按时报送率, 需催报) as a text states them."""
    import re

    m = re.search(r"报送率 ?(\d+)%", text)
    t = re.search(r"按时报送率 ?(\d+)%", text)
    c = re.search(r"需催报 ?(\d+) ?个", text)
    assert m and t and c, text
    return int(m.group(1)), int(t.group(1)), int(c.group(1))


def test_every_output_states_the_same_summary_figures(tmp_path):
    """One period with on-time, late, missing and returned units: 报送率, 按时报送率, 需催报 and the projects'
    counts by status are the same in `status`, 催报名单.xlsx, 台账.xlsx, 督查通报 and 进展情况报告 — each read with an
    independent reader — and equal what the 报送情况 rows themselves say."""
    from click.testing import CliRunner

    from shixiang_xl.cli import main
    from shixiang_xl.demo import simulate_period
    from shixiang_xl.workspace import init_workspace, load_context

    ws = init_workspace(tmp_path / "ws", "yanzhou-2026")
    ctx = load_context(ws.root)
    leads = [u for u in ctx.projects.units if ctx.projects.led_by(u)]
    simulate_period(ctx, MAR, missing=leads[4], broken=leads[7], late=leads[8])
    runner = CliRunner()
    root = str(ws.root)
    assert runner.invoke(main, ["-w", root, "merge", "--period", MAR.slug]).exit_code == 0
    res = runner.invoke(main, ["-w", root, "status", "--period", MAR.slug, "--xlsx"])
    assert res.exit_code == 1  # not everyone is in
    assert runner.invoke(main, ["-w", root, "report", "--period", MAR.slug]).exit_code == 0
    reports = ws.folder("reports", MAR.slug)

    # The truth, from the 报送情况 rows as openpyxl reads them.
    rows = ledger_rows(reports / "台账.xlsx", "报送情况")
    states = [r[3] for r in rows[3:] if r[1] and r[3]]
    n = len(states)
    assert n == len(ctx.projects.units)
    on, late, missing, back = (states.count(s) for s in ("按时报送", "逾期报送", "未报送", "退回修改"))
    assert (late, missing, back) == (1, 1, 1)
    truth = (round(100 * (on + late) / n), round(100 * on / n), missing + back)

    chase = ledger_rows(reports / "催报名单.xlsx", "催报名单")
    listed = [r for r in chase[3:] if isinstance(r[0], int)]
    assert len(listed) == truth[2]
    assert {r[1] for r in listed} == {leads[4], leads[7]}
    chase_footer = next(r[0] for r in chase[3:] if isinstance(r[0], str) and "报送率" in r[0])

    summary = ledger_rows(reports / "台账.xlsx", "总表")
    summary_footer = next(r[0] for r in summary[3:] if isinstance(r[0], str) and "报送率" in r[0])
    sub_footer = next(r[0] for r in rows[3:] if isinstance(r[0], str) and "报送率" in r[0])
    progress = docx_text(reports / "进展情况报告.docx")
    bulletin = docx_text(reports / "督查通报.docx")
    for where, text in (("status", res.output), ("催报名单", chase_footer), ("总表", summary_footer),
                        ("报送情况", sub_footer), ("进展情况报告", progress), ("督查通报", bulletin)):
        assert _figures(text) == truth, where

    # Projects by status: the 总表 rows against the 总表 footer and both documents.
    header = summary[2]
    statuses = [r[header.index("状态")] for r in summary[3:] if isinstance(r[0], int)]
    assert len(statuses) == len(ctx.projects.projects)
    phrases = {"已完成": "已完成{n}项", "超前": "超序时进度推进{n}项", "序时推进": "按序时进度推进{n}项",
               "滞后": "滞后序时进度{n}项", "未启动": "尚未启动{n}项", "未报送": "牵头单位未报送进度{n}项"}
    for status, phrase in phrases.items():
        k = statuses.count(status)
        assert (f"{status} {k} 项" in summary_footer) == (k > 0), status
        for text in (progress, bulletin):
            assert (phrase.format(n=k) in text) == (k > 0), (status, k)


# ------------------------------------------------------------------ (4) receipt times and the documents' date


def test_a_receipt_time_more_than_a_period_late_is_questioned_and_the_clerk_corrects_it(tmp_path):
    import sqlite3

    from click.testing import CliRunner

    from shixiang_xl.cli import main
    from shixiang_xl.workspace import init_workspace, load_context

    ws = init_workspace(tmp_path / "ws", "yanzhou-2026")
    ctx = load_context(ws.root)
    root = str(ws.root)
    # March's return, saved from a mail client in November: its modification time is not when the unit sent it.
    sim = h.simulate(ctx, ws.folder("inbox", MAR.slug) / "health.xlsx", HEALTH)
    stamp(sim.path, "2026-11-01 09:30")
    runner = CliRunner()
    assert runner.invoke(main, ["-w", root, "merge", "--period", MAR.slug]).exit_code == 0
    reports = ws.folder("reports", MAR.slug)
    rows = ledger_rows(reports / "台账.xlsx", "报送情况")
    row = next(r for r in rows[3:] if r[1] == HEALTH)
    assert row[3] == "逾期报送" and "待核实" in row[-1]
    problems = ledger_rows(reports / "台账.xlsx", "校验问题")
    assert any(r[-1] == "receipt-time-doubtful" and HEALTH in (r[2] or "") for r in problems[3:])
    assert runner.invoke(main, ["-w", root, "report", "--period", MAR.slug, "--kind", "通报"]).exit_code == 0
    bulletin = docx_text(reports / "督查通报.docx")
    assert "晚于截止时间" not in bulletin and "221 天" not in bulletin  # questioned, not printed as a fact
    status = runner.invoke(main, ["-w", root, "status", "--period", MAR.slug])
    assert "待核实" in status.output

    # The clerk sets the real time; it is kept with when it was changed, and counts everywhere.
    res = runner.invoke(main, ["-w", root, "receipt", "--period", MAR.slug, "--unit", "区卫健局",
                               "--at", "2026-03-24 16:00"])
    assert res.exit_code == 0, res.output
    conn = sqlite3.connect(ws.db_path)
    try:
        fixes = conn.execute("SELECT unit, received_at, previous, changed_at FROM receipt_corrections").fetchall()
    finally:
        conn.close()
    assert len(fixes) == 1 and fixes[0][0] == HEALTH and fixes[0][1].startswith("2026-03-24T16:00")
    assert fixes[0][2].startswith("2026-11-01T09:30") and fixes[0][3]
    assert runner.invoke(main, ["-w", root, "merge", "--period", MAR.slug]).exit_code == 0
    row = next(r for r in ledger_rows(reports / "台账.xlsx", "报送情况")[3:] if r[1] == HEALTH)
    assert row[3] == "按时报送" and row[4] == "2026-03-24 16:00" and "更正" in row[-1]
    status = runner.invoke(main, ["-w", root, "status", "--period", MAR.slug])
    line = next(x for x in status.output.splitlines() if HEALTH in x)
    assert "按时报送" in line and "2026-03-24 16:00" in line


def test_receipt_refuses_what_cannot_be_true(tmp_path):
    from click.testing import CliRunner

    from shixiang_xl.cli import main
    from shixiang_xl.workspace import init_workspace

    ws = init_workspace(tmp_path / "ws", "yanzhou-2026")
    runner = CliRunner()
    for unit, at, says in (("区卫健局", "2999-03-24 16:00", "晚于现在"), ("区卫健局", "三月", "无法识别"),
                           ("不存在的局", "2026-03-24", "不是本年度需要报送的单位"),
                           ("区卫健局", "2026-02-30 10:00", "不存在")):
        res = runner.invoke(main, ["-w", str(ws.root), "receipt", "--period", "2026-03", "--unit", unit, "--at", at])
        assert res.exit_code != 0 and says in res.output, (unit, at, res.output)


def test_documents_take_their_date_from_the_option(tmp_path):
    from click.testing import CliRunner

    from shixiang_xl.cli import main
    from shixiang_xl.workspace import init_workspace, load_context

    ws = init_workspace(tmp_path / "ws", "yanzhou-2026")
    ctx = load_context(ws.root)
    sim = h.simulate(ctx, ws.folder("inbox", MAR.slug) / "health.xlsx", HEALTH)
    stamp(sim.path, "2026-03-20 10:00")
    runner = CliRunner()
    assert runner.invoke(main, ["-w", str(ws.root), "merge", "--period", MAR.slug]).exit_code == 0
    res = runner.invoke(main, ["-w", str(ws.root), "report", "--period", MAR.slug, "--date", "2026-03-28"])
    assert res.exit_code == 0, res.output
    reports = ws.folder("reports", MAR.slug)
    for name in ("进展情况报告.docx", "督查通报.docx"):
        text = docx_text(reports / name)
        assert "2026年3月28日" in text, name
        assert "1—3月份" in text or "2026年3月" in text  # the period described comes from the data


# ------------------------------------------------------------------ (5) indicator kinds


def _with_ceiling(ctx: Context) -> Context:
    """The workspace's list with a ceiling added to project 1 (院前急救平均响应时间 ≤ 12 分钟, kind inferred)."""
    import dataclasses

    from shixiang_xl.projects import Indicator, ProjectList, write_project_list
    from shixiang_xl.workspace import load_context

    projects = list(ctx.projects.projects)
    p1 = projects[0]
    extra = Indicator(project=1, number=len(p1.indicators) + 1, name="院前急救平均响应时间", target=12.0, unit="分钟",
                      comparator="≤")
    projects[0] = dataclasses.replace(p1, indicators=p1.indicators + (extra,))
    write_project_list(ctx.workspace.project_list_path, ProjectList(tuple(projects)))
    return load_context(ctx.workspace.root)


def test_the_project_list_carries_the_kind(context, tmp_path, project_list_xlsx):
    from shixiang_xl.projects import load_project_list

    headers = ["项目序号", "指标序号", "指标名称", "目标值", "计量单位", "比较方式", "按协办单位分解", "说明", "指标类型"]
    path = project_list_xlsx(tmp_path / "l.xlsx", [[1, "项目", "内容", "区卫健局", "", "", ""]], [
        [1, 1, "新建卫生室", 10, "家", "=", "否", "", ""],                   # row 2: inferred 累计数
        [1, 2, "参保群众满意度", 90, "%", "≥", "否", "", ""],                 # row 3: inferred 比率
        [1, 3, "院前急救平均响应时间", 12, "分钟", "≤", "否", "", ""],          # row 4: inferred 上限
        [1, 4, "家庭医生签约人数", 5, "万人", "≥", "否", "", "累计数"],          # row 5: as written
        [1, 5, "出台管理办法", 1, "项", "=", "否", "", "节点"],                 # row 6: as written
        [1, 6, "某指标", 1, "个", "=", "否", "", "百分比"],                    # row 7: not a kind
    ], indicator_headers=headers)
    plist, findings = load_project_list(path, context.directory)
    kinds = {i.name: i.measure_kind for i in plist.indicators}
    assert kinds == {"新建卫生室": KIND_COUNT, "参保群众满意度": KIND_RATE, "院前急救平均响应时间": KIND_CEILING,
                     "家庭医生签约人数": KIND_COUNT, "出台管理办法": KIND_MILESTONE}
    assert {(f.code, f.sheet, f.cell) for f in findings if f.code == "indicator-kind-invalid"} == {
        ("indicator-kind-invalid", "指标", "I7")}


def test_the_written_list_states_every_kind_and_flags_doubtful_ones(context, tmp_path):
    ctx = _with_ceiling(context)
    rows = ledger_rows(ctx.workspace.project_list_path, "指标")
    header = rows[0]
    kind, review = header.index("指标类型"), header.index("待核对")
    by_name = {r[header.index("指标名称")]: r for r in rows[1:] if r[0] is not None}
    assert by_name["参保群众满意度"][kind] == "比率" and by_name["新生儿落地参保率"][kind] == "比率"
    assert by_name["院前急救平均响应时间"][kind] == "上限"
    assert by_name["新建中心村卫生室"][kind] == "累计数" and by_name["新建中心村卫生室"][review] in (None, "")
    assert ctx.projects.get(1).indicators[-1].measure_kind == KIND_CEILING  # read back by the product too


def test_a_level_has_one_labelled_input_and_is_never_added_up(context, tmp_path):
    """参保群众满意度 ≥ 90 %: the workbook asks for one current value (本期完成值 is a locked label, 上期累计 a dash),
    every number input shows its measure word; a level lower than last period's is no error; % above 100 is."""
    from shixiang_xl.generate import generate_workbooks

    unit = "区医疗保障局"
    blank = generate_workbooks(context, MAR, [unit], tmp_path / "out").files[0].path
    wb = openpyxl.load_workbook(blank)
    try:
        ws = wb[LEAD]
        heads = {c.value: c.column for c in ws[3] if c.value}
        row = next(r for r in range(4, ws.max_row + 1) if ws.cell(r, heads["指标"]).value == "参保群众满意度")
        current, cum, last = (ws.cell(row, heads[h]) for h in ("本期完成值", "累计完成值", "上期累计"))
        assert current.protection.locked and "当前值" in current.value
        assert last.value == "—"
        assert cum.protection.locked is False and '"' in cum.number_format and "%" in cum.number_format
        count_row = next(r for r in range(4, ws.max_row + 1) if ws.cell(r, heads["指标"]).value == "新增医疗专护定点机构")
        assert "家" in ws.cell(count_row, heads["本期完成值"]).number_format
        assert ws.cell(count_row, heads["本期完成值"]).protection.locked is False
    finally:
        wb.close()

    def tweak(values: dict, fields: dict) -> None:
        values[("lead", "P02-I09")]["cumulative"] = 120  # 满意度 120 %
        values[("lead", "P08-I02")]["cumulative"] = 88.5

    sim = h.simulate(context, tmp_path / "r.xlsx", unit, tweak=tweak)
    res = check(context, sim.path).files[0]
    assert codes_at(res.findings, "percent-out-of-range") == {(LEAD, cell_of(sim.path, "参保群众满意度", "累计完成值"))}
    assert not codes_at(res.findings, "required-empty") and not codes_at(res.findings, "number-unreadable")


def test_levels_and_ceilings_in_the_ledger_and_the_documents(context, tmp_path):
    """A 比率 and a 上限 indicator through merge: 指标明细 shows the current value with nothing added up and its
    kind; completion is capped (比率) or met-or-not (上限); the progress report states the level, not a completion."""
    from shixiang_xl.merge import merge_returns
    from shixiang_xl.report import write_reports

    ctx = _with_ceiling(context)
    feb = Period.parse("2026-02")

    def feb_tweak(values: dict, fields: dict) -> None:
        values[("lead", "P01-I05")]["cumulative"] = 13.5  # above the 12-minute ceiling

    for period, tweak, when in ((feb, feb_tweak, "2026-02-20 10:00"), (MAR, None, "2026-03-20 10:00")):
        sim = h.simulate(ctx, ctx.workspace.folder("inbox", period.slug) / "h.xlsx", HEALTH, period=period,
                         tweak=tweak)
        stamp(sim.path, when)
        merged = merge_returns(ctx, period)
        res = next(r for r in merged.batch.files if r.unit == HEALTH)
        assert not [f for f in res.findings if f.severity is Severity.ERROR], [f.line() for f in res.findings]
    detail = ledger_rows(merged.ledger_path, "指标明细")
    header = detail[2]
    row = next(r for r in detail[3:] if r[1] == "院前急救平均响应时间")
    ceiling = h.simulate(ctx, tmp_path / "again.xlsx", HEALTH).values[("lead", "P01-I05")]["cumulative"]
    assert row[header.index("指标类型")] == "上限"
    assert row[header.index("上期累计")] is None and row[header.index("本期完成")] is None
    assert row[header.index("累计完成")] == pytest.approx(ceiling)
    assert row[header.index("完成率")] == (1.0 if ceiling <= 12 else 0.0)
    rate_row = next(r for r in detail[3:] if r[1] == "新建中心村卫生室")
    assert rate_row[header.index("指标类型")] == "累计数"
    text = docx_text(write_reports(ctx, MAR, kind="进展报告").documents["进展报告"])
    assert f"院前急救平均响应时间当前为{ceiling:g}分钟（控制目标12分钟以内，" in text


def test_the_demo_shows_levels_and_ceilings_and_whole_counts(tmp_path):
    """`make demo`'s run: its 台账 (read with openpyxl) holds a 比率 and a 上限 indicator handled as such, every figure
    of counted things is whole, and its progress report states levels as current values."""
    from shixiang_xl.demo import run_demo

    lines: list[str] = []
    root = run_demo(tmp_path / "demo", lines.append)
    detail = ledger_rows(root / "reports" / "2026-03" / "台账.xlsx", "指标明细")
    header = detail[2]
    kind, measure = header.index("指标类型"), header.index("计量单位")
    rows = [r for r in detail[3:] if isinstance(r[0], int)]
    levels = [r for r in rows if r[kind] in ("比率", "上限")]
    assert {r[kind] for r in levels} == {"比率", "上限"}
    for r in levels:
        assert r[header.index("上期累计")] is None and r[header.index("本期完成")] is None
    counted = [r for r in rows if r[measure] and is_count(r[measure])]
    assert counted
    for r in counted:
        for col in ("上期累计", "本期完成", "累计完成"):
            v = r[header.index(col)]
            assert v is None or float(v).is_integer(), (r[1], col, v)
    text = docx_text(root / "reports" / "2026-03" / "进展情况报告.docx")
    assert "院前急救平均响应时间当前为" in text and "参保群众满意度当前为" in text


def test_import_writes_the_inferred_kinds(tmp_path):
    """`shixiang import` of the real 2026 notice: the written 项目清单 states every indicator's kind (read with
    openpyxl): the rates as 比率, the counts as 累计数."""
    from click.testing import CliRunner

    from shixiang_xl.cli import main

    root = Path(__file__).resolve().parent.parent / "examples" / "yanzhou-2026"
    out = tmp_path / "项目清单.xlsx"
    res = CliRunner().invoke(main, ["import", str(root / "notice.md"), "--units", str(root / "单位名录.xlsx"),
                                    "-o", str(out)])
    assert res.exit_code == 0, res.output
    rows = ledger_rows(out, "指标")
    header = rows[0]
    kinds = {r[header.index("指标名称")]: r[header.index("指标类型")] for r in rows[1:] if r[0] is not None}
    assert kinds["参保群众满意度"] == "比率" and kinds["新生儿落地参保率"] == "比率"
    assert kinds["新建中心村卫生室"] == "累计数" and kinds["投保小麦"] == "累计数"
    assert set(kinds.values()) <= {"累计数", "比率", "上限", "节点"}


def _with_node(ctx: Context) -> tuple[Context, str]:
    """The workspace's list with a 节点 added to project 1 (出台村卫生室运行管理办法), and that indicator's key."""
    import dataclasses

    from shixiang_xl.projects import Indicator, ProjectList, write_project_list
    from shixiang_xl.workspace import load_context

    projects = list(ctx.projects.projects)
    p1 = projects[0]
    node = Indicator(project=1, number=len(p1.indicators) + 1, name=NODE, target=1.0, unit="项", comparator="=",
                     kind="节点")
    projects[0] = dataclasses.replace(p1, indicators=p1.indicators + (node,))
    write_project_list(ctx.workspace.project_list_path, ProjectList(tuple(projects)))
    out = load_context(ctx.workspace.root)
    assert out.projects.get(1).indicators[-1].measure_kind == KIND_MILESTONE
    return out, node.key


NODE = "出台村卫生室运行管理办法"


def test_a_node_asks_whether_and_when(context, tmp_path):
    """节点: the blank form has two labelled inputs on the node's row, a completion date (a date cell with a date
    validation for this year) and 是/否 from a list; the locked cell before them names both."""
    from shixiang_xl.generate import generate_workbooks

    ctx, _ = _with_node(context)
    blank = generate_workbooks(ctx, MAR, [HEALTH], tmp_path / "out").files[0].path
    wb = openpyxl.load_workbook(blank)
    try:
        ws = wb[LEAD]
        answer, date, label = (cell_of(blank, NODE, h) for h in ("累计完成值", "本期完成值", "上期累计"))
        lists = [dv for dv in ws.data_validations.dataValidation if dv.type == "list" and answer in str(dv.sqref)]
        assert lists and "是" in lists[0].formula1 and "否" in lists[0].formula1
        dates = [dv for dv in ws.data_validations.dataValidation if dv.type == "date" and date in str(dv.sqref)]
        assert dates and dates[0].promptTitle == "完成日期" and "完成日期" in dates[0].prompt
        assert ws[date].value is None and ws[date].protection.locked is False
        assert ws[date].number_format == "yyyy-mm-dd"
        assert ws[label].protection.locked and "完成日期" in ws[label].value and "是/否" in ws[label].value
    finally:
        wb.close()


def test_a_node_is_answered_yes_or_no_with_its_date(context, tmp_path):
    """A return saying 是 with a completion date: no finding; 指标明细 shows it done with the date (read with
    openpyxl), and the progress report says when (python-docx)."""
    from shixiang_xl.merge import merge_returns
    from shixiang_xl.report import write_reports

    ctx, key = _with_node(context)

    def tweak(values: dict, fields: dict) -> None:
        values[("lead", key)] = {"cumulative": "是", "current": "2026-03-18"}

    sim = h.simulate(ctx, ctx.workspace.folder("inbox", MAR.slug) / "h.xlsx", HEALTH, tweak=tweak)
    wb = openpyxl.load_workbook(sim.path)
    try:  # written as a real date cell, as Excel stores a typed date
        assert wb[LEAD][cell_of(sim.path, NODE, "本期完成值")].value == dt.datetime(2026, 3, 18)
    finally:
        wb.close()
    stamp(sim.path, "2026-03-20 10:00")
    merged = merge_returns(ctx, MAR)
    res = next(r for r in merged.batch.files if r.unit == HEALTH)
    assert not [f for f in res.findings if f.severity is not Severity.INFO], [f.line() for f in res.findings]
    detail = ledger_rows(merged.ledger_path, "指标明细")
    header = detail[2]
    row = next(r for r in detail[3:] if r[1] == NODE)
    assert row[header.index("指标类型")] == "节点" and row[header.index("完成率")] == 1.0
    assert row[header.index("备注")] == "2026年3月18日完成"
    text = docx_text(write_reports(ctx, MAR, kind="进展报告").documents["进展报告"])
    assert f"{NODE}已于2026年3月18日完成" in text


@pytest.mark.parametrize("answer, date, code", [
    ("是", None, "node-date-missing"),           # done, but when?
    ("否", "2026-03-18", "node-date-not-done"),  # a date without 是
    ("是", "下个月", "date-invalid"),             # not a date
    ("是", "2025-12-30", "date-invalid"),         # last year
])
def test_a_node_answer_and_date_must_agree(context, tmp_path, answer, date, code):
    """Each disagreement is a warning at the date's cell, typed into the file with openpyxl as a unit would."""
    ctx, key = _with_node(context)

    def tweak(values: dict, fields: dict) -> None:
        values[("lead", key)] = {"cumulative": answer}

    sim = h.simulate(ctx, tmp_path / "h.xlsx", HEALTH, tweak=tweak)
    ref = cell_of(sim.path, NODE, "本期完成值")
    if date is not None:
        wb = openpyxl.load_workbook(sim.path)
        wb[LEAD][ref] = dt.datetime.fromisoformat(date) if date[0].isdigit() else date
        wb.save(sim.path)
        wb.close()
    res = check(ctx, sim.path).files[0]
    assert codes_at(res.findings, code) == {(LEAD, ref)}, [f.line() for f in res.findings]
    assert all(f.severity is Severity.WARNING for f in res.findings if f.code == code)


def test_projects_shows_the_kinds(workspace):
    import json

    from click.testing import CliRunner

    from shixiang_xl.cli import main

    res = CliRunner().invoke(main, ["-w", str(workspace.root), "projects", "--format", "json"])
    assert res.exit_code == 0, res.output
    kinds = {i["name"]: i["kind"] for p in json.loads(res.output)["projects"] for i in p["indicators"]}
    assert kinds["参保群众满意度"] == "比率" and kinds["新建中心村卫生室"] == "累计数"
    table = CliRunner().invoke(main, ["-w", str(workspace.root), "projects"]).output
    assert "参保群众满意度 ≥90%［比率］" in table and "新建中心村卫生室 10家［" not in table
