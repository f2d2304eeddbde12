"""``shixiang report``: the 推进情况报告 and the 督查通报 — wording from the same data as the ledger, and 公文 layout."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml.ns import qn
from docx.shared import Emu

from shixiang_xl.cli import main
from shixiang_xl.config import Config
from shixiang_xl.docxout import BODY, H1, H2, Para, Table, docx_bytes
from shixiang_xl.errors import ShixiangError
from shixiang_xl.demo import simulate_period
from shixiang_xl.ledger import (
    STATUS_AHEAD, STATUS_LAG, STATUS_NONE, STATUS_ON, SUBMIT_BACK, SUBMIT_LATE, SUBMIT_MISSING, SUBMIT_ON_TIME,
    BulletinRow, IndicatorRow, LedgerData, ProjectRow, SubmissionRow,
)
from shixiang_xl.merge import ledger_digest, merge_returns
from shixiang_xl.office import pdf_info
from shixiang_xl.period import Period
from shixiang_xl.report import (
    STATUS_PHRASES, bulletin_report, ledger_for, merged_digest, progress_report, tidy, write_reports,
)
from shixiang_xl.store import open_store
from shixiang_xl.textnorm import format_number
from shixiang_xl.workspace import init_workspace, load_context

ON = dt.date(2026, 3, 30)
FEB, MAR = Period.parse("2026-02"), Period.parse("2026-03")


# ------------------------------------------------------------------ fixtures and helpers


@pytest.fixture(scope="module")
def cycle(tmp_path_factory):
    """The 2026 example over two periods: February clean; March with a missing, a broken and a late unit."""
    root = tmp_path_factory.mktemp("report") / "ws"
    init_workspace(root, "yanzhou-2026")
    ctx = load_context(root)
    simulate_period(ctx, FEB)
    feb = merge_returns(ctx, FEB, feedback=False)
    leads = [u for u in ctx.projects.units if ctx.projects.led_by(u)]
    missing, broken, late = leads[4], leads[7], leads[8]
    simulate_period(ctx, MAR, missing=missing, broken=broken, late=late)
    mar = merge_returns(ctx, MAR, feedback=False)
    return {"ctx": ctx, "feb": feb.ledger, "mar": mar.ledger, "missing": missing, "broken": broken, "late": late}


@pytest.fixture(scope="module")
def written(cycle):
    """Both documents of March, as .docx and .pdf."""
    return write_reports(cycle["ctx"], MAR, pdf=True, on=ON)


def docx_paragraphs(path: Path) -> list[tuple[str, str]]:
    """(style name, text) of every body paragraph of a .docx, in order."""
    d = docx.Document(str(path))
    return [(p.style.name, p.text) for p in d.paragraphs]


def docx_text(path: Path) -> str:
    """Every paragraph and table cell of a .docx."""
    d = docx.Document(str(path))
    cells = [c.text for t in d.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in d.paragraphs] + cells)


def section(paragraphs: list[tuple[str, str]], heading: str) -> list[str]:
    """The texts under the level-1 heading ending with ``heading``, up to the next level-1 heading."""
    out: list[str] = []
    inside = False
    for style, text in paragraphs:
        if style == "公文一级标题":
            inside = re.sub(r"^[一二三四五六七八九十]+、", "", text) == heading
            continue
        if inside:
            out.append(text)
    return out


# ------------------------------------------------------------------ the data path


def test_ledger_rebuilt_from_store_equals_the_merged_ledger(cycle):
    ctx = cycle["ctx"]
    for period, merged in ((FEB, cycle["feb"]), (MAR, cycle["mar"])):
        rebuilt = ledger_for(ctx, period)
        assert rebuilt == merged
        assert merged_digest(ctx, period) == ledger_digest(rebuilt)


def test_no_warning_when_the_store_is_as_merged(written):
    assert written.warnings == []
    assert [p.name for p in written.paths] == ["进展情况报告.docx", "督查通报.docx", "进展情况报告.pdf", "督查通报.pdf"]
    assert all(p.parent.name == MAR.slug and p.parent.parent.name == "reports" for p in written.paths)


def test_a_period_not_merged_is_refused(cycle):
    with pytest.raises(ShixiangError, match="merge --period 2026-04"):
        write_reports(cycle["ctx"], Period.parse("2026-04"))


def test_changes_after_the_merge_are_flagged(tmp_path):
    root = tmp_path / "ws"
    init_workspace(root, "yanzhou-2026")
    ctx = load_context(root)
    simulate_period(ctx, FEB)
    merge_returns(ctx, FEB, feedback=False)
    unit = ctx.projects.units[0]
    with open_store(ctx.workspace.db_path) as store:  # as if a later check had sent the unit's return back
        changed = store.conn.execute("UPDATE returns SET status = 'rejected', errors = 2 WHERE unit = ? "
                                     "AND period = ?", (unit, FEB.slug)).rowcount
    assert changed == 1
    result = write_reports(ctx, FEB, "通报", on=ON)
    assert len(result.warnings) == 1 and "shixiang merge --period 2026-02" in result.warnings[0]
    text = docx_text(result.paths[0])
    assert f"{unit}报送的填报表有2处错误，已退回修改。" in text  # the document follows the store


# ------------------------------------------------------------------ figures in the text equal the ledger


def test_progress_report_counts_and_figures_equal_the_ledger(cycle, written):
    ledger: LedgerData = cycle["mar"]
    path = written.documents["进展报告"]
    paragraphs = docx_paragraphs(path)
    text = docx_text(path)
    overview = "".join(section(paragraphs, "总体情况"))
    counts = ledger.status_counts()
    assert sum(counts.values()) == len(ledger.projects) == 10
    assert f"区政府十件民生实事共{len(ledger.projects)}项" in overview
    for status, n in counts.items():
        phrase = STATUS_PHRASES[status].replace("{n}", str(n))
        assert (phrase in overview) == (n > 0), phrase
    assert counts[STATUS_NONE] == 1 and "牵头单位未报送进度1项" in overview
    subs = ledger.submissions
    # 报送率 counts the units whose return is in (on time or late); one sent back must send it again.
    reported = sum(1 for s in subs if s.status in (SUBMIT_ON_TIME, SUBMIT_LATE))
    assert f"本期应报送单位{len(subs)}个" in overview
    assert f"报送率{round(100 * reported / len(subs))}%" in overview
    for status, label in ((SUBMIT_ON_TIME, "按时报送"), (SUBMIT_LATE, "逾期报送"), (SUBMIT_BACK, "报送后被退回修改"),
                          (SUBMIT_MISSING, "未报送")):
        assert f"{label}{sum(1 for s in subs if s.status == status)}个" in overview
    measured = [i for i in ledger.indicators if not i.is_share and i.gap is not None]
    on_schedule = sum(1 for i in measured if i.gap >= 0)
    assert f"{len(measured)}项已报送完成情况，其中{on_schedule}项达到或超过序时进度" in overview

    # each project: its heading, then its paragraph with the ledger's completion and cumulative figures
    styles = [s for s, _ in paragraphs]
    texts = [t for _, t in paragraphs]
    for k, p in enumerate(ledger.projects):
        heading = next(i for i, t in enumerate(texts) if styles[i] == "公文二级标题" and t.endswith(p.name))
        body = texts[heading + 1]
        if p.progress is None:
            assert "未报送2026年3月进度" in body
            continue
        assert f"完成进度{format_number(p.progress, 1)}%" in body, p.name
        assert f"序时进度{format_number(p.expected, 1)}%" in body or f"序时进度（{format_number(p.expected, 1)}%）" in body
        for i in ledger.indicators:
            if i.project == p.number and not i.is_share and i.cumulative is not None and i.kind == "比率":
                # a level is stated as its current value against the target, never as “completed”
                assert f"{i.name}当前为{format_number(i.cumulative)}{i.measure}" in body, i.key
                assert f"{i.name}当前为{format_number(i.cumulative)}{i.measure}（目标" in body
            elif i.project == p.number and not i.is_share and i.cumulative is not None:
                assert f"{i.name}{format_number(i.cumulative)}{i.measure}" in body, i.key
                if i.rate is not None and i.comparator != "≤":
                    assert f"完成{format_number(i.rate * 100, 1)}%" in body
    # the annex: the ledger's 总表, one row per project, with the same figures
    d = docx.Document(str(path))
    table = d.tables[0]
    rows = [[c.text for c in r.cells] for r in table.rows]
    assert rows[0] == ["序号", "项目名称", "主要目标", "牵头单位", "完成进度", "序时进度", "状态", "下步计划"]
    assert len(rows) == 1 + len(ledger.projects)
    for row, p in zip(rows[1:], ledger.projects):
        assert row[0] == str(p.number) and row[1] == p.name and row[6] == p.status
        # the lead units' own plans are in the annex, the body summarises
        assert bool(row[7]) == bool(p.next_steps.strip())
        last_plan = re.split(r"[】：]", p.next_steps.strip().splitlines()[-1])[-1] if p.next_steps.strip() else ""
        assert tidy(last_plan)[:8] in row[7], (row[7], p.next_steps)
        assert row[4].split("\n")[0] == ("" if p.progress is None else f"{format_number(p.progress, 1)}%")
    assert "附件：" + ledger.title in texts
    assert "2026年区政府十件民生实事推进情况台账（截至2026年3月底）" in text


def test_titles_and_sections(cycle, written):
    report = docx_paragraphs(written.documents["进展报告"])
    bulletin = docx_paragraphs(written.documents["通报"])
    title = "".join(t for s, t in report if s == "公文标题").replace("\n", "")
    assert title.startswith("关于2026年区政府十件民生实事1—3月份推进情况的报告")
    assert [t for s, t in report if s == "公文一级标题"] == [
        "一、总体情况", "二、各项目推进情况", "三、存在的主要问题", "四、下步工作打算"]
    # 主送机关 before the body, 特此报告 after it, and the summary of next steps one line per project
    assert [t for s, t in report if s == "公文主送"] == ["区委、区政府："]
    texts = [t for _, t in report]
    assert "特此报告。" in texts and texts.index("特此报告。") < texts.index("附件：" + cycle["mar"].title)
    plans = texts[texts.index("四、下步工作打算") + 1:texts.index("特此报告。")]
    assert len(plans) == len(cycle["mar"].projects) + 1
    for p, line in zip(cycle["mar"].projects, plans):
        assert re.sub(r"^\d+\.", "", line).startswith(p.name + "：") and len(line) < len(p.name) + 40
    assert "".join(t for s, t in bulletin if s == "公文标题").replace("\n", "") == "关于2026年区政府十件民生实事推进情况的通报"
    praised = any(b.kind == "表扬" for b in cycle["mar"].bulletin)
    assert [t for s, t in bulletin if s == "公文一级标题"] == (
        ["一、基本情况", "二、通报表扬", "三、通报曝光", "四、下步要求"] if praised else
        ["一、基本情况", "二、通报曝光", "三、下步要求"])
    # signature block and 抄送 from the configuration
    texts = [t for _, t in bulletin]
    assert "区委区政府督查室" in texts and "2026年3月30日" in texts
    assert "抄送：区委办公室，区人大常委会办公室，区政协办公室，区法院，区检察院。" in texts
    assert "区委区政府督查室\t2026年3月30日印发" in texts


def test_missing_late_and_rejected_units_are_criticised_with_the_fact(cycle, written):
    paragraphs = docx_paragraphs(written.documents["通报"])
    criticism = section(paragraphs, "通报曝光")
    missing, late, broken = cycle["missing"], cycle["late"], cycle["broken"]
    assert f"1.{missing}截至目前未报送2026年3月进度（截止时间3月25日）。" in criticism
    assert any(t.endswith(f"{late}于3月28日报送，晚于截止时间（3月25日）3天。") for t in criticism)
    assert any(t.endswith(f"{broken}报送的填报表有1处错误，已退回修改。") for t in criticism)
    assert "（一）未按时报送进度" in criticism and "（二）填报不规范、被退回修改" in criticism
    requirements = section(paragraphs, "下步要求")
    assert f"1.{missing}要尽快补报2026年3月进度。" in requirements
    assert "4.各单位要于4月25日前报送2026年4月进度。" in requirements
    problems = "".join(section(docx_paragraphs(written.documents["进展报告"]), "存在的主要问题"))
    assert f"{missing}未报送2026年3月进度" in problems and f"{late}逾期报送" in problems


def test_wording_is_normalised(written):
    for path in written.documents.values():
        text = docx_text(path)
        assert not re.search(r"[，、；：。！？]{2,}", text)
        assert not re.search(r"\d \S|[^\x00-\x7f] \d", text.replace("\t", ""))  # no spaces around numbers
        assert "【" not in text and "None" not in text and "nan" not in text


# ------------------------------------------------------------------ plain data: nothing to criticise


def _plain_ledger(**changes) -> LedgerData:
    period = Period(2026, 6)

    def project(number: int, name: str, lead: str, progress: float, status: str, problems: str = "") -> ProjectRow:
        return ProjectRow(number, name, "建设站点10个", lead, "", "本期新建站点 5 个，，进展顺利", progress, None, 50.0,
                          status, problems, "", "")

    projects = (project(1, "建设便民服务站", "区甲局", 60.0, STATUS_AHEAD, "无"),
                project(2, "改造农贸市场", "区乙局", 50.0, STATUS_ON, "资金到位较慢。"))
    indicators = (IndicatorRow(1, "P01-I01", "建设站点", "区甲局", False, 10.0, "个", "=", 2.0, 4.0, 6.0, 0.6, 50.0,
                               10.0, ),
                  IndicatorRow(2, "P02-I01", "改造市场", "区乙局", False, 4.0, "个", "=", 1.0, 1.0, 2.0, 0.5, 50.0, 0.0))
    subs = tuple(SubmissionRow(u, "牵头", SUBMIT_ON_TIME, "2026-06-20 10:00", f"{u}.xlsx", 0, 0, "", "")
                 for u in ("区甲局", "区乙局"))
    bulletin = (BulletinRow("表扬", "区甲局", "区甲局牵头的“建设便民服务站”完成进度 60%，超过序时进度 50% 达 10 个百分点，"
                                             "按时报送且填报规范。"),)
    ledger = LedgerData("2026年区政府十件民生实事推进情况台账（截至2026年6月底）", "", period, projects, indicators, subs,
                        bulletin, (), (), (), 5.0)
    return replace(ledger, **changes)


def test_no_empty_criticism_heading_when_nothing_to_criticise():
    config = Config(cc="")
    ledger = _plain_ledger()
    doc = bulletin_report(ledger, config, on=ON)
    headings = doc.paragraphs(H1)
    assert headings == ["一、基本情况", "二、通报表扬", "三、下步要求"]
    assert "通报曝光" not in doc.text and not doc.paragraphs(H2)
    assert "1.区甲局牵头的“建设便民服务站”完成进度60%，超过序时进度50%达10个百分点，按时报送且填报规范。" in doc.text
    assert "对以下1个单位予以通报表扬：" in doc.text
    assert "抄送" not in doc.text  # no cc configured: no 抄送 line
    written_text = "\n".join(p.text for p in docx.Document(_bytes_io(docx_bytes(doc))).paragraphs)
    assert "通报曝光" not in written_text and "二、通报表扬" in written_text
    # December: no next period, nothing to require either — no 下步要求 heading at all
    december = bulletin_report(replace(ledger, period=Period(2026, 12)), config, on=ON)
    assert december.paragraphs(H1) == ["一、基本情况", "二、通报表扬"]


def test_a_lagging_unit_gets_the_criticism_heading():
    lagging = replace(_plain_ledger().projects[1], completion=20.0, status=STATUS_LAG)
    ledger = _plain_ledger(
        projects=(_plain_ledger().projects[0], lagging),
        bulletin=_plain_ledger().bulletin + (BulletinRow("曝光", "区乙局", "区乙局牵头的“改造农贸市场”完成进度 20%，低于序时进度"
                                                                        " 50% 达 30 个百分点（超过 5 个百分点）。"),))
    doc = bulletin_report(ledger, Config(), on=ON)
    assert doc.paragraphs(H1)[1:3] == ["二、通报表扬", "三、通报曝光"]
    assert doc.paragraphs(H2) == ["（一）项目进度滞后"]
    assert "1.区乙局牵头的“改造农贸市场”完成进度20%，低于序时进度50%达30个百分点（超过5个百分点）。" in doc.text
    assert "1.区乙局要对照序时进度查找滞后原因" in doc.text
    report = progress_report(ledger, Config(), on=ON)
    assert "滞后序时进度1项" in report.text
    assert "改造农贸市场（区乙局牵头）完成进度20%，低于序时进度30个百分点" in report.text


def test_sentences_without_data_are_left_out():
    ledger = _plain_ledger()
    doc = progress_report(ledger, Config(), on=ON)
    bodies = doc.paragraphs(BODY)
    first = next(t for t in bodies if t.startswith("该项目由区甲局牵头"))
    assert "存在问题" not in first and "下步计划" not in first  # "无" and nothing: left out, no placeholder
    assert "本期新建站点5个，进展顺利。" in first
    second = next(t for t in bodies if t.startswith("该项目由区乙局牵头"))
    assert "存在问题：资金到位较慢。" in second
    # no unit wrote next steps: the office's own summary still says what comes next, per project, never empty
    assert "1.建设便民服务站：" in doc.text.split("下步工作打算")[1]
    assert "1.资金到位较慢（涉及：改造农贸市场）。" in doc.text
    assert [b.text for b in doc.blocks if isinstance(b, Para) and b.style == H1][-1] == "四、下步工作打算"
    # no submissions and no indicators at all: those sentences disappear instead of saying 0
    bare = progress_report(replace(ledger, submissions=(), indicators=()), Config(), on=ON)
    assert "报送率" not in bare.text.split("附件：")[0] and "量化指标" not in bare.text


def test_missing_unit_in_plain_data():
    ledger = _plain_ledger(
        submissions=_plain_ledger().submissions[:1] + (SubmissionRow("区乙局", "牵头", SUBMIT_MISSING, "", "", 0, 0, "",
                                                                     ""),),
        bulletin=_plain_ledger().bulletin + (BulletinRow("曝光", "区乙局", "区乙局截至目前未报送2026年6月进度（截止时间 6月25日）。"),))
    doc = bulletin_report(ledger, Config(), on=ON)
    assert doc.paragraphs(H2) == ["（一）未按时报送进度"]
    assert "1.区乙局截至目前未报送2026年6月进度（截止时间6月25日）。" in doc.text
    assert "区乙局要尽快补报2026年6月进度。" in doc.text
    assert "报送率50%" in doc.text


def test_tidy():
    assert tidy("本期完成 5 个站点,,进展顺利。。") == "本期完成5个站点，进展顺利。"
    assert tidy("投资 1,200 万元;完成 3.0 处") == "投资1200万元；完成3处。"
    assert tidy("第一项\n第二项") == "第一项；第二项。"
    assert tidy("17:00 前报送") == "17:00前报送。"
    assert tidy("無。") == "" and tidy("暂无") == "" and tidy(None) == "" and tidy("  ") == ""
    assert tidy("完成（）任务，。") == "完成任务。"


# ------------------------------------------------------------------ layout (GB/T 9704)


def _bytes_io(data: bytes):
    import io

    return io.BytesIO(data)


def test_page_size_and_margins(written):
    for kind, path in written.documents.items():
        d = docx.Document(str(path))
        # the bulletin is one portrait section; the report's annex (the wide 总表) has a landscape one of its own
        assert len(d.sections) == (2 if kind == "进展报告" else 1)
        if kind == "进展报告":
            annex = d.sections[1]
            assert annex.orientation == WD_ORIENT.LANDSCAPE
            assert abs(annex.page_width.mm - 297) < 0.1 and abs(annex.page_height.mm - 210) < 0.1
            text_mm = (annex.page_width - annex.left_margin - annex.right_margin) / 36000
            table_mm = sum(c.width.mm for c in d.tables[0].rows[0].cells)
            assert table_mm <= text_mm + 0.5, (table_mm, text_mm)
        s = d.sections[0]
        for got, want in ((s.page_width, 210), (s.page_height, 297), (s.top_margin, 37), (s.bottom_margin, 35),
                          (s.left_margin, 28), (s.right_margin, 26)):
            assert abs(got.mm - want) < 0.1, (got.mm, want)
        grid = s._sectPr.find(qn("w:docGrid"))
        assert grid.get(qn("w:linePitch")) == "579" and grid.get(qn("w:type")) == "lines"
        height_pt = Emu(s.page_height - s.top_margin - s.bottom_margin).pt
        assert int(height_pt // 28.95) == 22  # 22 lines of 28.95 pt fill the text block


def test_styles_fonts_and_spacing(written):
    d = docx.Document(str(written.documents["进展报告"]))

    def east_asia(name: str) -> str:
        return d.styles[name].element.rPr.rFonts.get(qn("w:eastAsia"))

    assert east_asia("公文标题") == "方正小标宋简体"
    assert east_asia("公文正文") == "仿宋_GB2312"
    assert east_asia("公文一级标题") == "黑体"
    assert east_asia("公文二级标题") == "楷体_GB2312"
    assert east_asia("公文表格文字") == "仿宋_GB2312"
    assert east_asia("公文页码") == "宋体"
    assert d.styles["公文标题"].font.size.pt == 22
    assert d.styles["公文标题"].paragraph_format.alignment == WD_ALIGN_PARAGRAPH.CENTER
    body = d.styles["公文正文"]
    assert body.font.size.pt == 16 and d.styles["公文页码"].font.size.pt == 14
    assert body.paragraph_format.line_spacing_rule == WD_LINE_SPACING.EXACTLY
    assert abs(body.paragraph_format.line_spacing.pt - 28.95) < 0.01
    ind = body.element.pPr.find(qn("w:ind"))
    assert ind.get(qn("w:firstLineChars")) == "200"
    spacing = int(body.element.rPr.find(qn("w:spacing")).get(qn("w:val"))) / 20
    text_width = Emu(d.sections[0].page_width - d.sections[0].left_margin - d.sections[0].right_margin).pt
    assert 28 * (16 + spacing) <= text_width < 29 * (16 + spacing)  # exactly 28 characters a line
    # the document defaults carry no theme font that would override the names
    defaults = d.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    assert defaults.find(qn("w:rFonts")).get(qn("w:eastAsiaTheme")) is None
    # paragraphs use the styles of their level
    styles = {p.style.name for p in d.paragraphs if p.text.startswith(("一、", "二、"))}
    assert styles == {"公文一级标题"}


def test_page_numbers_at_the_outer_corners(written):
    d = docx.Document(str(written.documents["通报"]))
    assert d.settings.odd_and_even_pages_header_footer
    s = d.sections[0]
    for footer, align in ((s.footer, WD_ALIGN_PARAGRAPH.RIGHT), (s.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)):
        par = footer.paragraphs[0]
        assert par.alignment == align
        assert par.style.name == "公文页码"
        xml = par._p.xml
        assert "PAGE" in xml and 'w:fldCharType="begin"' in xml and 'w:fldCharType="end"' in xml
        assert par.text.startswith("— ") and par.text.endswith(" —")


def test_annex_table_repeats_its_header_row(written):
    d = docx.Document(str(written.documents["进展报告"]))
    table = d.tables[0]
    first = table.rows[0]._tr
    assert first.trPr.find(qn("w:tblHeader")) is not None
    assert all(r._tr.trPr.find(qn("w:tblHeader")) is None for r in table.rows[1:])
    assert {c.paragraphs[0].style.name for r in table.rows for c in r.cells} == {"公文表格文字"}
    widths = [round(c.width.mm) for c in table.rows[0].cells]
    assert sum(widths) == 225  # the landscape annex page's text width (297 − 37 − 35 mm)
    annex = [p for p in d.paragraphs if p.text == "附件"]
    assert len(annex) == 1 and annex[0].style.paragraph_format.page_break_before


def test_docx_paragraphs_follow_the_model(cycle):
    doc = progress_report(cycle["mar"], cycle["ctx"].config, on=ON)
    written_paragraphs = [p.text for p in docx.Document(_bytes_io(docx_bytes(doc))).paragraphs]
    expected: list[str] = []
    for b in doc.blocks:
        if isinstance(b, Table):
            continue
        if b.style == "annex_label":
            expected.append("")  # the paragraph that ends the portrait section (the annex is landscape)
        expected += b.text.split("\n") if b.style == "signature" else [b.text]
    assert written_paragraphs == expected


# ------------------------------------------------------------------ PDF and command line


def test_pdf_renders_the_chinese_text(written):
    assert set(written.pdfs) == {"进展报告", "通报"}
    for kind, title in (("进展报告", "关于2026年区政府十件民生实事1—3月份推进情况的报告"),
                        ("通报", "关于2026年区政府十件民生实事推进情况的通报")):
        info = pdf_info(written.pdfs[kind])
        if kind == "通报":
            assert info.pages > 0 and info.all_pages("A4", landscape=False)
        else:  # portrait body, then the annex in landscape (its wide table, never one character per line)
            sizes = [tuple(round(x) for x in size) for size in info.sizes_mm]
            body = sizes.index((297, 210))
            assert body > 0 and set(sizes[:body]) == {(210, 297)} and set(sizes[body:]) == {(297, 210)}
            assert len(sizes) - body <= 3, sizes
        text = re.sub(r"\s+", "", info.text)
        assert title in text
        assert "区委区政府督查室" in text
    report = re.sub(r"\s+", "", pdf_info(written.pdfs["进展报告"]).text)
    assert "提升乡村医疗服务能力" in report and "—1—" in report


def test_cli_report(cycle):
    root = cycle["ctx"].workspace.root
    out = root / "reports" / MAR.slug / "督查通报.docx"
    out.unlink(missing_ok=True)
    result = CliRunner().invoke(main, ["-w", str(root), "report", "--period", MAR.slug, "--kind", "通报"])
    assert result.exit_code == 0, result.output
    assert f"已起草：{out}" in result.output and out.is_file()
    bad = CliRunner().invoke(main, ["-w", str(root), "report", "--period", "2026-05"])
    assert bad.exit_code == 2 and "shixiang merge --period 2026-05" in bad.output
