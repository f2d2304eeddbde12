"""``shixiang import``: reading the published notice in every layout, normalising it, extracting the quantitative
targets, and the accuracy against the hand labels of both seeds (examples/yanzhou-*/example.toml).

The seeds are copied into tests/data/notices (the tests never read /work/shared). The other fixtures are invented:
a prose notice of a district that does not exist (qinglan-2025-prose.txt), a PDF-copied table of an invented
county (heyang-2023-pdf.txt), and a .docx / .csv / .xlsx built here, each with its own small unit directory.
"""

from __future__ import annotations

import difflib
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from shixiang_xl.cli import main
from shixiang_xl.findings import REGISTRY, Severity
from shixiang_xl.notice import (ImportResult, extract_indicators, import_notice, normalize_text, read_notice)
from shixiang_xl.projects import ProjectList, load_project_list
from shixiang_xl.textnorm import fold
from shixiang_xl.units import Directory, Unit
from shixiang_xl.workspace import init_workspace, load_context, load_example

DATA = Path(__file__).resolve().parent / "data" / "notices"
SEEDS = [("yanzhou-2024.txt", "yanzhou-2024"), ("yanzhou-2026.md", "yanzhou-2026")]


# ================================================================== accuracy against the hand labels


def _name_key(text: str) -> str:
    return re.sub(r"[^\w]", "", fold(text))


def names_match(got: str, gold: str) -> bool:
    """The name-match rule: after removing punctuation and spaces, one name contains the other (at least two
    characters), or difflib's similarity ratio is at least 0.6."""
    a, b = _name_key(got), _name_key(gold)
    if not a or not b:
        return False
    short, long_ = sorted((a, b), key=len)
    return (len(short) >= 2 and short in long_) or difflib.SequenceMatcher(None, a, b).ratio() >= 0.6


@dataclass(frozen=True)
class Scores:
    tp: int
    got: int
    gold: int
    names_ok: int

    @property
    def precision(self) -> float:
        return self.tp / self.got if self.got else 0.0

    @property
    def recall(self) -> float:
        return self.tp / self.gold if self.gold else 0.0

    @property
    def names(self) -> float:
        """Share of the hand-labelled indicators found whose extracted name matches."""
        return self.names_ok / self.gold if self.gold else 0.0


def score(got: ProjectList, gold: ProjectList) -> Scores:
    """(value, unit, comparator) matched per project, each extracted indicator used at most once; among equal
    triples the best-named one is paired."""
    tp = names_ok = 0
    for g_project in gold.projects:
        project = got.get(g_project.number)
        pool = list(project.indicators) if project else []
        for g in g_project.indicators:
            same = [i for i in pool if (i.target, i.unit, i.comparator) == (g.target, g.unit, g.comparator)]
            if not same:
                continue
            best = max(same, key=lambda i: difflib.SequenceMatcher(None, _name_key(i.name), _name_key(g.name)).ratio()
                       + (1 if names_match(i.name, g.name) else 0))
            pool.remove(best)
            tp += 1
            names_ok += names_match(best.name, g.name)
    return Scores(tp, len(got.indicators), len(gold.indicators), names_ok)


@pytest.fixture(scope="module")
def seed_results(directory) -> dict[str, ImportResult]:
    return {seed: import_notice(DATA / seed, directory) for seed, _ in SEEDS}


@pytest.mark.parametrize("seed, example", SEEDS)
def test_seed_indicator_accuracy(seed: str, example: str, seed_results, capsys) -> None:
    gold = load_example(example)[2]
    s = score(seed_results[seed].projects, gold)
    with capsys.disabled():
        print(f"\n[import accuracy] {seed}: (value, unit, comparator) precision {s.precision:.3f} "
              f"({s.tp}/{s.got}), recall {s.recall:.3f} ({s.tp}/{s.gold}); names {s.names:.3f} "
              f"({s.names_ok}/{s.gold})")
    assert s.gold > 10  # the hand labels were really loaded
    assert s.precision >= 0.95
    assert s.recall >= 0.95
    assert s.names >= 0.9


@pytest.mark.parametrize("seed, example", SEEDS)
def test_seed_projects_and_units_match_the_hand_labels(seed: str, example: str, seed_results) -> None:
    gold = load_example(example)[2]
    got = seed_results[seed].projects
    assert [p.number for p in got.projects] == [p.number for p in gold.projects]
    for g in gold.projects:
        p = got.get(g.number)
        assert _name_key(p.name) == _name_key(g.name), (p.name, g.name)
        assert p.leads == g.leads, (g.number, p.leads, g.leads)
        assert set(p.co_units) == set(g.co_units), (g.number, p.co_units, g.co_units)
        assert _name_key(p.content) == _name_key(g.content), g.number


@pytest.mark.parametrize("seed, example", SEEDS)
def test_seed_particulars(seed: str, example: str, seed_results) -> None:
    config = load_example(example)[0]
    result = seed_results[seed]
    assert (result.district, result.year, result.title) == (config.district, config.year, config.title)


def test_seed_layouts_units_and_findings(seed_results) -> None:
    r2024, r2026 = seed_results["yanzhou-2024.txt"], seed_results["yanzhou-2026.md"]
    assert (r2024.layout, r2026.layout) == ("text-table", "table")
    # 各单位工会 (2024, project 3) is not a unit of the directory: reported, not guessed.
    assert r2024.unresolved == ["各单位工会"]
    assert r2024.projects.get(3).co_text == "各单位工会"
    assert any(f.code == "unit-unresolved" and "各单位工会" in f.message for f in r2024.findings)
    assert r2026.unresolved == []
    # 各镇街 stays the group word in the text, and expands to the ten towns in co_units.
    p2 = r2026.projects.get(2)
    assert p2.lead_text == "区民政局、区医疗保障局" and p2.co_text == "各镇街" and len(p2.co_units) == 10
    # Two leads and two parts ①②: the targets of each part go to its lead, as in the hand labels.
    gold = load_example("yanzhou-2026")[2].get(2)
    assert [i.lead for i in p2.indicators] == [i.lead for i in gold.indicators] == ["区民政局"] * 6 + ["区医疗保障局"] * 3
    assert all(i.lead == "" for i in r2026.projects.get(1).indicators)  # one lead: left to the default
    # Projects without targets are told, not failed.
    no_targets = {f.message[2:4].strip() for f in r2026.findings if f.code == "notice-no-indicators"}
    assert no_targets == {"3"}
    # The split PDF name "区公共法律 服务中心" is one unit.
    assert r2026.projects.get(10).co_units == ("区公共法律服务中心",)


def test_seed_due_months_where_stated(seed_results) -> None:
    r2024, r2026 = seed_results["yanzhou-2024.txt"], seed_results["yanzhou-2026.md"]
    assert r2024.projects.get(1).due_month == 9  # 秋季学期投入使用
    assert r2024.projects.get(2).due_month == 12  # 2024年完成建设并启用
    assert r2026.projects.get(10).due_month == 12  # 年内
    assert r2026.projects.get(9).due_month is None  # not stated


# ================================================================== extraction on plain strings


def _triples(content: str) -> list[tuple[float, str, str]]:
    return [(i.target, i.unit, i.comparator) for i in extract_indicators(content, 1)]


@pytest.mark.parametrize("content, expected", [
    ("新建中心村卫生室 10 家，改造提升村卫生室 150 家", [(10, "家", "="), (150, "家", "=")]),
    ("新增护理型床位至少 100 张、认知障碍照护床位 30 张", [(100, "张", "≥"), (30, "张", "=")]),
    ("全年举办招聘活动100场次以上，完成城镇新增就业4000人以上", [(100, "场次", "≥"), (4000, "人", "≥")]),
    ("新生儿落地参保率不低于 95%，适配率 $\\geq 95\\%$", [(95, "%", "≥"), (95, "%", "≥")]),
    ("城镇调查失业率控制在5.5%以内，单次费用不超过200元", [(5.5, "%", "≤"), (200, "元", "≤")]),
    ("总建筑面积 21.38 万平方米，投保39万亩小麦", [(21.38, "万平方米", "="), (39, "万亩", "=")]),
    ("覆盖53所学校、7.3万名学生", [(53, "所", "="), (7.3, "万名", "=")]),
    ("服务群众 10 万余人次", [(10, "万人次", "≥")]),
    ("新改建农村公路１２０公里，改造老旧管网２８.５公里", [(120, "公里", "="), (28.5, "公里", "=")]),
    ("建设退役军人服务站两处", [(2, "处", "=")]),
    ("PM2.5平均浓度控制在35微克/立方米以内，新建5G基站200个", [(35, "微克/立方米", "≤"), (200, "个", "=")]),
    ("城区急救平均反应时间控制在12分钟以内", [(12, "分钟", "≤")]),
    ("招募志愿者 500 名，组织活动 1,200 场次", [(500, "名", "="), (1200, "场次", "=")]),
])
def test_extract_values_units_comparators(content: str, expected: list) -> None:
    assert _triples(content) == expected


@pytest.mark.parametrize("content", [
    "按照每人每年 2 元、每户每年 2 元的标准，为全区居民购买政府灾害民生综合保险。",
    "报销后自费额累计超过 0.8万元的视自费数额 20%一次性给予大病医疗补助金，最高补助 3 万元。",
    "到 2026 年年底前完成，12月底前投入使用，2024—2026年持续推进。",
    "为60岁以上老人每人每月发放高龄津贴100元，对年满 65 周岁的老人免费体检。",
    "①聚焦养老服务；（1）优化流程；2.完善制度；一是强化保障。",
    "实施15分钟健身圈建设，24小时值守，推进“生育保障”一件事，二次供水设施改造，一个保障期内。",
    "城乡低保标准分别提高到每人每月850元、680元。",
    "济兖政发〔2026〕2号，区十九届人大第五次会议。",
])
def test_not_indicators(content: str) -> None:
    assert extract_indicators(content, 1) == []


@pytest.mark.parametrize("content, name", [
    ("新建中心村卫生室 10 家", "新建中心村卫生室"),
    ("新增护理型床位至少 100 张、认知障碍照护床位 30 张", "新增认知障碍照护床位"),
    ("2026年全区预计投保39万亩小麦、37万亩玉米和3万亩大豆", "投保大豆"),
    ("改造铁路六区、市政宿舍、公园南苑小区等 13 个老旧小区", "改造老旧小区"),
    ("提升 10家镇街卫生院（社区卫生服务中心）医保服务能力", "提升镇街卫生院医保服务能力"),
    ("新生儿落地参保率不低于 95%", "新生儿落地参保率"),
    ("年内新增高级工1200人以上", "新增高级工"),
])
def test_extract_short_names(content: str, name: str) -> None:
    assert extract_indicators(content, 1)[-1].name == name


def test_extract_keeps_source_span_note_and_numbering() -> None:
    got = extract_indicators("新建改扩建教学楼约 8718平方米，增加学位 330个", 7)
    assert [(i.project, i.number) for i in got] == [(7, 1), (7, 2)]
    assert got[0].text == "新建改扩建教学楼约8718平方米"
    assert got[0].comparator == "=" and "约" in got[0].note
    assert got[1].text == "增加学位330个"


def test_uncertain_targets_are_kept_for_review_not_dropped() -> None:
    by_text = {i.text: i for i in extract_indicators(
        "建设退役军人服务站两处，发放创业担保贷款2亿元，建设示范点3—5个，住院费用报销比例提高到70%，"
        "新建公厕10座", 1)}
    assert by_text["建设退役军人服务站两处"].review  # a Chinese numeral
    assert by_text["发放创业担保贷款2亿元"].review  # money: often a standard
    ranged = by_text["建设示范点3—5个"]
    assert ranged.review and (ranged.target, ranged.comparator) == (3, "≥") and "区间" in ranged.note
    assert by_text["住院费用报销比例提高到70%"].review  # a rate next to 比例
    assert not by_text["新建公厕10座"].review


def test_normalize_text() -> None:
    text = normalize_text("济兗政发\n中小學生１２０人，增长１０％\n— 3 —\n第 2 页 共 5 页\n面积 21. 38 万平方米")
    lines = text.split("\n")
    assert lines[0] == "济兖政发" and lines[1] == "中小学生120人，增长10%"
    assert lines[2] == lines[3] == ""  # page markers
    assert lines[4] == "面积 21.38 万平方米"
    assert normalize_text("满意度 $\\geq 90\\%$") == "满意度 ≥90%"


# ================================================================== other layouts (invented notices)


QINGLAN_UNITS = [("区教育局", ()), ("区财政局", ()), ("区自然资源局", ()), ("区卫生健康委员会", ("区卫健委",)),
                 ("区民政局", ()), ("区城市管理局", ("区城管局",)), ("区住房和城乡建设局", ("区住建局",)),
                 ("区市场监督管理局", ("区市场监管局",)), ("区残疾人联合会", ("区残联",)), ("区水利局", ()),
                 ("区文化和旅游局", ("区文旅局",)), ("区人力资源和社会保障局", ("区人社局",)), ("区退役军人事务局", ())]
TOWNS = ("青岚街道", "东湖街道", "白沙镇", "石门镇")


@pytest.fixture(scope="module")
def qinglan() -> Directory:
    """The unit directory of the invented 青岚区 (no 区公安分局, on purpose)."""
    return Directory(tuple(Unit(n, a, "部门") for n, a in QINGLAN_UNITS) + tuple(Unit(t, (), "镇街") for t in TOWNS))


def test_prose_notice(qinglan: Directory) -> None:
    r = import_notice(DATA / "qinglan-2025-prose.txt", qinglan)
    assert r.layout == "prose"
    assert (r.district, r.year, r.title) == ("云溪市青岚区", 2025, "区政府十件民生实事")
    projects = r.projects.projects
    # 二、工作要求 and its （一）（二） are not projects.
    assert [p.name for p in projects][:3] == ["城乡教育扩容提质工程", "基层医疗服务提升工程", "居家养老服务工程"]
    assert len(projects) == 10 and projects[-1].name == "退役军人服务保障行动"
    p2 = r.projects.get(2)
    assert p2.leads == ("区卫生健康委员会",) and p2.co_text == "各镇（街道）" and set(p2.co_units) == set(TOWNS)
    assert r.projects.get(3).co_text == "区财政局、各镇（街道）"  # split on a space too
    assert r.projects.get(5).co_units == () and r.projects.get(5).due_month == 12  # 年底前
    assert r.projects.get(1).due_month == 9  # 9月底前投入使用
    assert r.unresolved == ["区公安分局"]
    assert r.projects.get(4).co_text == "区住房和城乡建设局、区公安分局"
    triples = {(i.project, i.target, i.unit, i.comparator) for i in r.projects.indicators}
    assert {(1, 1620, "个", "="), (1, 2400, "盏", "="), (2, 3, "万人次", "≥"), (2, 75, "%", "≥"),
            (6, 500, "名", "="), (6, 200, "户", "="), (7, 28.5, "公里", "="), (7, 99, "%", "≥"),
            (8, 10, "处", "="), (9, 5.5, "%", "≤"), (10, 2, "处", "=")} <= triples
    assert len(r.projects.indicators) == 23
    # 65周岁 / 80周岁 (ages), 每人每月100元标准, 最高补助1.2万元 (standards) are not targets.
    assert not {t for t in triples if t[2] in ("岁", "元", "万元")}
    codes = {f.code for f in r.findings}
    assert {"unit-unresolved", "indicator-needs-review"} <= codes
    assert all(f.severity is not Severity.ERROR for f in r.findings)


def test_prose_with_categories_inline_labels_and_role_brackets(tmp_path: Path) -> None:
    path = tmp_path / "notice.txt"
    path.write_text(
        "关于2025年市政府为民办实事项目的通知\n"
        "一、教育文化类\n"
        "1．学前教育扩容。新建公办幼儿园6所，新增学位2700个。（牵头单位：市教育局；配合单位：市财政局、市自然资源局）\n"
        "2．公共文化服务。送戏下乡演出300场，放映公益电影4800场次。（市文旅局牵头，各区县配合）\n"
        "二、城市建设类\n"
        "1．口袋公园建设。建设口袋公园30个，新增绿地面积不少于8公顷。\n"
        "责任单位：市城管局、市住建局\n", encoding="utf-8")
    units = Directory((Unit("市教育局"), Unit("市财政局"), Unit("市自然资源局"), Unit("市文化和旅游局", ("市文旅局",)),
                       Unit("市城市管理局", ("市城管局",)), Unit("市住房和城乡建设局", ("市住建局",))))
    r = import_notice(path, units)
    assert [(p.number, p.name) for p in r.projects.projects] == [(1, "学前教育扩容"), (2, "公共文化服务"),
                                                                  (3, "口袋公园建设")]
    p1, p2, p3 = r.projects.projects
    assert p1.leads == ("市教育局",) and p1.co_units == ("市财政局", "市自然资源局")
    assert p1.content == "新建公办幼儿园6所，新增学位2700个。"
    assert p2.leads == ("市文化和旅游局",) and r.unresolved == ["各区县"]
    # A single 责任单位 list: the unit named first leads.
    assert p3.leads == ("市城市管理局",) and p3.co_units == ("市住房和城乡建设局",)
    assert [(i.target, i.unit, i.comparator) for i in p3.indicators] == [(30, "个", "="), (8, "公顷", "≥")]


HEYANG = Directory((Unit("县教育局"), Unit("县财政局"), Unit("县自然资源局"), Unit("县民政局"),
                    Unit("县卫生健康局", ("县卫健局",)), Unit("县交通运输局"), Unit("县水利局"),
                    Unit("县住房和城乡建设局", ("县住建局",)), Unit("城关镇", group="乡镇"), Unit("河口镇", group="乡镇")))


def test_pdf_text_table_with_page_breaks_headings_and_two_leads() -> None:
    r = import_notice(DATA / "heyang-2023-pdf.txt", HEYANG)
    assert r.layout == "text-table"
    assert (r.district, r.year, r.title) == ("河阳县", 2023, "县政府民生实事")
    assert [p.name for p in r.projects.projects] == ["城区学校扩容工程", "基层养老服务提升工程", "农村道路畅通工程",
                                                     "城乡供水一体化"]
    p1, p2, p3, p4 = r.projects.projects
    assert p1.leads == ("县教育局",) and p1.co_units == ("县财政局", "县自然资源局")  # "县教育局 县财政局" on one line
    assert p2.leads == ("县民政局", "县卫生健康局") and p2.co_text == "各乡镇"  # the lead column held two units
    assert p3.leads == ("县交通运输局",)  # "县交通运输\n局"
    assert p4.leads == ("县水利局",) and p4.co_text == "县住房和城乡建设局、各乡镇"
    assert [(i.target, i.unit, i.comparator) for i in p2.indicators] == [(2, "处", "="), (15, "个", "="),
                                                                         (200, "张", "≥")]
    assert [(i.target, i.unit, i.comparator) for i in p3.indicators] == [(85, "公里", "="), (6, "座", "="),
                                                                         (80, "%", "≥")]
    assert (p1.due_month, p4.due_month) == (9, 12)
    assert r.unresolved == [] and not [f for f in r.findings if f.code != "notice-no-indicators"]


def _write_docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.add_paragraph("临河县人民政府")
    document.add_paragraph("关于2024年县政府为民办实事项目的通知")
    table = document.add_table(rows=1, cols=5)
    for cell, heading in zip(table.rows[0].cells, ["序号", "实事项目", "目标任务", "责任单位", "配合单位"]):
        cell.text = heading
    row = table.add_row()
    row.cells[0].merge(row.cells[4]).text = "一、民生保障类"  # a category heading merged across the table
    for values in (["1", "城乡低保提标", "城乡低保标准分别提高到每人每月850元、680元，全年发放低保资金不少于6000万元。",
                    "县民政局", "县财政局"],
                   ["2", "老年助餐服务", "新建老年食堂15处，\n服务老年人20万人次以上。", "县民政局\n县商务局", "各乡镇"],
                   ["", "", "为75岁以上独居老人安装智能烟感报警器500台。", "", ""],  # continued on the next page
                   ["3", "背街小巷提升", "改造背街小巷32条，硬化道路１２.６公里。", "县住建局（牵头）、县交通局", ""]):
        for cell, value in zip(table.add_row().cells, values):
            cell.text = value
    document.save(str(path))
    return path


def test_docx_table(tmp_path: Path) -> None:
    units = Directory((Unit("县民政局"), Unit("县财政局"), Unit("县商务局"), Unit("县住房和城乡建设局", ("县住建局",)),
                       Unit("县交通运输局", ("县交通局",)), Unit("城关镇", group="乡镇"), Unit("河口镇", group="乡镇")))
    r = import_notice(_write_docx(tmp_path / "通知.docx"), units)
    assert r.layout == "table" and (r.district, r.year) == ("临河县", 2024)
    p1, p2, p3 = r.projects.projects
    assert [(i.target, i.unit, i.comparator, i.review) for i in p1.indicators] == [(6000, "万元", "≥", True)]
    assert p2.leads == ("县民政局", "县商务局") and p2.co_units == ("城关镇", "河口镇")
    assert "智能烟感报警器500台" in p2.content
    assert [(i.target, i.unit) for i in p2.indicators] == [(15, "处"), (20, "万人次"), (500, "台")]
    assert p3.leads == ("县住房和城乡建设局",) and p3.co_units == ("县交通运输局",)  # （牵头） marks the lead
    assert [(i.target, i.unit) for i in p3.indicators] == [(32, "条"), (12.6, "公里")]
    assert {f.code for f in r.findings} == {"indicator-needs-review"}
    assert r.findings[0].cell == "表格第 3 行"


def test_csv_with_other_headings_and_no_number_column(tmp_path: Path, qinglan: Directory) -> None:
    rows = ["民生实事,工作举措,主办单位,责任主体与协同单位,完成时限",
            "社区嵌入式托育,新增普惠托位300个，建成社区托育点6处。,区卫健委,区教育局 区财政局,11月底前",
            "背街小巷整治,整治背街小巷25条。,区城管局,各镇（街道）,年内",
            ",同步改造雨污管网3.2公里。,,,"]
    path = tmp_path / "实事.csv"
    path.write_bytes(("\n".join(rows) + "\n").encode("gb18030"))  # as Excel saves CSV on a Chinese Windows
    r = import_notice(path, qinglan)
    p1, p2 = r.projects.projects
    assert (p1.number, p1.name, p1.leads, p1.co_units, p1.due_month) == (
        1, "社区嵌入式托育", ("区卫生健康委员会",), ("区教育局", "区财政局"), 11)
    assert (p2.number, p2.due_month, p2.co_text) == (2, 12, "各镇（街道）")
    assert [(i.target, i.unit) for i in p2.indicators] == [(25, "条"), (3.2, "公里")]
    # A bare table names no place and no year: said so, never defaulted.
    assert [f.code for f in r.findings] == ["notice-place-unknown"] and (r.district, r.year) == ("", None)


def test_xlsx_with_title_row(tmp_path: Path, qinglan: Directory) -> None:
    path = tmp_path / "实事.xlsx"
    wb = openpyxl.Workbook()
    try:
        ws = wb.active
        ws.title = "附件"
        ws.append(["2025年区政府民生实事项目表"])
        ws.merge_cells("A1:E1")
        ws.append(["序号", "项目名称", "主要内容", "牵头单位", "协办单位"])
        ws.append([1, "社区嵌入式托育", "新增普惠托位300个", "区卫健委", "区教育局、区财政局"])
        ws.append([2, "背街小巷整治", "整治背街小巷25条", "区城管局", "区卫健委 青岚街道 区园林中心"])
        wb.save(path)
    finally:
        wb.close()
    r = import_notice(path, qinglan)
    assert r.title == "区政府民生实事" and r.year == 2025
    assert [p.name for p in r.projects.projects] == ["社区嵌入式托育", "背街小巷整治"]
    assert r.projects.get(2).co_units == ("区卫生健康委员会", "青岚街道")
    assert r.unresolved == ["区园林中心"]
    # (the table names no district: notice-place-unknown asks for it)
    assert [(f.code, f.cell) for f in r.findings] == [("unit-unresolved", "附件!A4"), ("notice-place-unknown", "")]


VARIANT_UNITS = Directory((Unit("区教育局"), Unit("区财政局"), Unit("区民政局"), Unit("区卫生健康局", ("区卫健局",))))
SCHOOL = ("学校扩容", ("区教育局",), ("区财政局",), [(2, "所", "="), (1800, "个", "=")])


@pytest.mark.parametrize("file, text, expected", [
    # one column for name and content, numbered category rows, labels inside a 责任单位 cell, 责任单位 only
    ("a.md", "| 序号 | 项目名称及主要内容 | 责任单位 |\n|---|---|---|\n| 一 | 教育类 | |\n"
             "| 1 | 学校扩容。新建小学2所，新增学位1800个。 | 牵头单位：区教育局<br>配合单位：区财政局 |\n"
             "| 二 | 民生类 | |\n| 2 | 养老服务。新增养老床位300张。 | 区民政局、区财政局 |\n",
     [SCHOOL, ("养老服务", ("区民政局",), ("区财政局",), [(300, "张", "=")])]),
    # a 牵头单位 column naming two units: both lead
    ("b.md", "| 序号 | 项目名称 | 主要内容 | 牵头单位 |\n|---|---|---|---|\n| 1 | 医养结合 | 新建医养结合机构3家 | 区民政局 区卫健局 |\n",
     [("医养结合", ("区民政局", "区卫生健康局"), (), [(3, "家", "=")])]),
    # prose with field labels: 项目名称：/ 建设内容：/ 责任单位：…（牵头）
    ("c.txt", "2025年区民生实事项目\n1.项目名称：学校扩容\n建设内容：新建小学2所，新增学位1800个。\n"
              "责任单位：区教育局（牵头）、区财政局\n完成时限：8月底前\n"
              "2.项目名称：养老服务\n建设内容：新增养老床位300张。\n责任单位：区民政局\n",
     [SCHOOL, ("养老服务", ("区民政局",), (), [(300, "张", "=")])]),
    # a PDF table whose page number equals the next project's number
    ("d.txt", "附件\n2025年区民生实事项目\n序号 项目名称 主要内容 牵头单位 协办单位\n1 学校扩容\n"
              "新建小学2所，新增学位1800个，满足\n适龄儿童入学需要。\n区教育局 区财政局\n2\n2 养老服务\n"
              "新增养老床位300张。\n区民政局\n",
     [SCHOOL, ("养老服务", ("区民政局",), (), [(300, "张", "=")])]),
    # a Word table pasted into a .txt (cells separated by tabs), and markdown without the outer pipes
    ("f.txt", "2025年区民生实事\n序号\t项目名称\t主要内容\t牵头单位\t协办单位\n"
              "1\t学校扩容\t新建小学2所，新增学位1800个。\t区教育局\t区财政局\n2\t养老服务\t新增养老床位300张。\t区民政局\t\n",
     [SCHOOL, ("养老服务", ("区民政局",), (), [(300, "张", "=")])]),
    ("g.md", "序号 | 项目名称 | 主要内容 | 牵头单位\n---|---|---|---\n1 | 养老服务 | 新增养老床位300张 | 区民政局\n",
     [("养老服务", ("区民政局",), (), [(300, "张", "=")])]),
    # a PDF table copied with a row's cells on one line, separated by spaces
    ("e.txt", "附件\n2025年区民生实事项目\n序号 项目名称 主要内容 牵头单位 协办单位\n"
              "1 学校扩容 新建小学2所，新增学位1800个，满足适龄儿童入学需要。 区教育局 区财政局\n"
              "2 医养结合 新建医养结合机构3家，\n改造提升护理站5个。 区卫健局 区民政局\n",
     [SCHOOL, ("医养结合", ("区卫生健康局",), ("区民政局",), [(3, "家", "="), (5, "个", "=")])]),
])
def test_layout_variants(tmp_path: Path, file: str, text: str, expected: list) -> None:
    path = tmp_path / file
    path.write_text(text, encoding="utf-8")
    r = import_notice(path, VARIANT_UNITS)
    got = [(p.name, p.leads, p.co_units, [(i.target, i.unit, i.comparator) for i in p.indicators])
           for p in r.projects.projects]
    assert got == expected
    # Nothing to check but the place these invented fragments do not name (asked for, never defaulted).
    assert [f.code for f in r.findings] == ["notice-place-unknown"]


def test_workbook_with_two_heading_rows(tmp_path: Path) -> None:
    path = tmp_path / "清单.xlsx"
    wb = openpyxl.Workbook()
    try:
        ws = wb.active
        ws.append(["序号", "项目名称", "主要内容", "责任单位", None])  # 责任单位 merged over the two below
        ws.append([None, None, None, "牵头单位", "配合单位"])
        ws.append([1, "学校扩容", "新建小学2所", "区教育局", "区财政局"])
        ws.append([2, "医养结合", "新建医养结合机构3家", "区民政局 区卫健局", None])
        wb.save(path)
    finally:
        wb.close()
    r = import_notice(path, VARIANT_UNITS)
    assert [(p.leads, p.co_units) for p in r.projects.projects] == [
        (("区教育局",), ("区财政局",)), (("区民政局", "区卫生健康局"), ())]


def test_workbook_takes_the_sheet_with_the_projects(tmp_path: Path) -> None:
    path = tmp_path / "清单.xlsx"
    wb = openpyxl.Workbook()
    try:
        ws = wb.active
        ws.title = "项目"
        ws.append(["序号", "项目名称", "项目主要内容", "牵头单位", "协办单位"])
        ws.append([1, "学校扩容", "新建小学2所", "区教育局", ""])
        ws.append([2, "养老服务", "新增养老床位300张", "区民政局", ""])
        other = wb.create_sheet("指标")  # headings that look like a project table must not add projects
        other.append(["项目序号", "指标序号", "指标名称", "目标值", "计量单位"])
        other.append([1, 1, "新建小学", 2, "所"])
        wb.save(path)
    finally:
        wb.close()
    r = import_notice(path, VARIANT_UNITS)
    assert [p.name for p in r.projects.projects] == ["学校扩容", "养老服务"]


# ================================================================== problems are findings


@pytest.mark.parametrize("name, data, code, words", [
    ("old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "notice-unreadable", ".docx"),
    ("scan.pdf", b"%PDF-1.7\n" + b"\0" * 100, "notice-unreadable", ".txt"),
    ("broken.docx", b"PK\x03\x04" + b"\0" * 100, "notice-unreadable", "无法读取"),
    ("empty.txt", b"", "notice-no-projects", "项目"),
    ("letter.txt", "各单位：请于3月底前报送材料。\n特此通知。".encode(), "notice-no-projects", "项目"),
])
def test_unusable_notices_are_findings(tmp_path: Path, name: str, data: bytes, code: str, words: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    r = import_notice(path, Directory())
    assert r.projects.projects == ()
    assert [f.code for f in r.findings] == [code]
    assert words in r.findings[0].message and r.findings[0].file == name
    assert REGISTRY[code].severity is Severity.ERROR


def test_project_count_and_numbering_findings(tmp_path: Path) -> None:
    path = tmp_path / "notice.md"
    path.write_text("# 2025年区政府十件民生实事\n\n| 序号 | 项目名称 | 主要内容 | 牵头单位 |\n|---|---|---|---|\n"
                    "| 1 | 甲 | 新建公厕10座 | 区城管局 |\n| 1 | 乙 | 新建游园3处 | |\n| 3 | 丙 | 全面提升服务 | 区民政局 |\n",
                    encoding="utf-8")
    r = import_notice(path, Directory((Unit("区城市管理局", ("区城管局",)), Unit("区民政局"))))
    codes = [f.code for f in r.findings]
    assert r.title == "区政府十件民生实事" and r.year == 2025
    # Row 2 repeats 序号 1: it continues project 1 (a vertically merged 序号 cell).
    assert [p.number for p in r.projects.projects] == [1, 3]
    assert [(i.target, i.unit) for i in r.projects.get(1).indicators] == [(10, "座"), (3, "处")]
    gap = next(f for f in r.findings if f.code == "notice-number-irregular")
    assert "第 2 号" in gap.message  # the gap is reported, the numbers still match the notice
    count = next(f for f in r.findings if f.code == "notice-project-count")
    assert "10 件" in count.message and "2 个项目" in count.message
    assert "notice-no-indicators" in codes  # 丙: 全面提升服务
    for code in ("notice-number-irregular", "notice-project-no-lead", "notice-no-indicators", "notice-project-count"):
        assert REGISTRY[code].stage == "import"


def test_read_notice_finds_markdown_and_html_tables(tmp_path: Path) -> None:
    html = tmp_path / "notice.html.txt"
    html.write_text("<table><tr><th>序号</th><th>项目名称</th><th>项目主要内容</th><th>牵头单位</th></tr>"
                    "<tr><td>1</td><td>托育</td><td>新增托位<br>500个</td><td>区卫健局</td></tr></table>",
                    encoding="utf-8")
    source = read_notice(html)
    assert source.layout == "table" and source.records[0].content == "新增托位500个"


# ================================================================== the command line and init --from


def test_cli_import_prints_summary_and_writes_the_project_list(tmp_path: Path, directory: Directory) -> None:
    units = tmp_path / "单位名录.xlsx"
    from shixiang_xl.units import write_directory

    write_directory(units, directory)
    out = tmp_path / "项目清单.xlsx"
    runner = CliRunner()
    result = runner.invoke(main, ["import", str(DATA / "yanzhou-2026.md"), "--units", str(units), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "共识别 10 个项目、32 个量化指标（其中 0 个待核对）；未解析的单位 0 个" in result.stdout
    assert "新增护理型床位" in result.stdout and "≥100张" in result.stdout
    plist, found = load_project_list(out, directory)
    assert [f for f in found if f.is_error] == []
    assert len(plist.projects) == 10 and len(plist.indicators) == 32
    assert plist.get(9).indicators[2].target == 21.38 and plist.get(9).indicators[2].unit == "万平方米"
    assert plist.get(2).co_units and plist.get(2).leads == ("区民政局", "区医疗保障局")
    # An existing file is not overwritten without --force.
    again = runner.invoke(main, ["import", str(DATA / "yanzhou-2026.md"), "-o", str(out)])
    assert again.exit_code == 2 and "--force" in again.output


def test_cli_import_json(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "ws", "yanzhou-2024")  # its 单位名录.xlsx is used
    result = CliRunner().invoke(main, ["-w", str(ws.root), "import", str(DATA / "yanzhou-2024.txt"), "--format",
                                       "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data["projects"]) == 10
    p6 = data["projects"][5]
    assert set(p6) >= {"number", "name", "content", "lead", "co_units", "indicators"}
    assert (p6["number"], p6["lead"], p6["co_units"]) == (6, "区水务局", ["区住房和城乡建设局"])
    assert p6["indicators"][2] == {"name": "安装二次供水设备", "value": 8, "unit": "套", "comparator": "=",
                                   "text": "安装二次供水设备8套", "review": False}
    assert data["projects"][3]["co_units"] == ["区财政局", "各镇街"]
    assert data["unresolved"] == ["各单位工会"]
    assert "unit-unresolved" in result.stderr


def test_cli_import_unreadable_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "notice.pdf"
    path.write_bytes(b"%PDF-1.4\n")
    result = CliRunner().invoke(main, ["import", str(path)])
    assert result.exit_code == 1 and "notice-unreadable" in result.stderr


def test_init_from_notice(tmp_path: Path) -> None:
    root = tmp_path / "兖州2026"
    units = Path(__file__).resolve().parent.parent / "examples" / "yanzhou-2026" / "单位名录.xlsx"
    result = CliRunner().invoke(main, ["init", str(root), "--from", str(DATA / "yanzhou-2026.md"),
                                       "--units", str(units)])
    assert result.exit_code == 0, result.output
    ctx = load_context(root)
    assert (ctx.config.district, ctx.config.year, ctx.config.title) == ("济宁市兖州区", 2026, "区政府十件民生实事")
    assert [f for f in ctx.findings if f.is_error] == []
    assert len(ctx.projects.projects) == 10 and len(ctx.projects.indicators) == 32
    assert ctx.projects.get(1).indicators[0].text == "新建中心村卫生室10家"


def test_heavy_libraries_are_imported_only_when_used() -> None:
    code = ("import sys, shixiang_xl.cli, shixiang_xl.notice; "
            "print(sorted({'docx', 'opencc', 'cn2an', 'python_calamine'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_init_from_an_unusable_notice_creates_nothing(tmp_path: Path) -> None:
    notice = tmp_path / "notice.doc"
    notice.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64)
    root = tmp_path / "ws"
    result = CliRunner().invoke(main, ["init", str(root), "--from", str(notice)])
    assert result.exit_code == 2 and ".docx" in result.output
    assert not (root / "shixiang.toml").exists()


def test_without_a_directory_units_are_listed_once(tmp_path: Path) -> None:
    r = import_notice(DATA / "yanzhou-2024.txt", Directory())
    unresolved = [f for f in r.findings if f.code == "unit-unresolved"]
    assert len(unresolved) == 1 and "--units" in unresolved[0].message
    assert r.unresolved[:3] == ["区教育和体育局", "区财政局", "区自然资源局"] and len(r.unresolved) == 17
    assert r.projects.get(6).lead_text == "区水务局" and r.projects.get(6).leads == ()


def test_init_from_notice_without_a_directory_starts_one(tmp_path: Path) -> None:
    """Another district: the new 单位名录 lists the notice's units; the group word is left for the clerk."""
    root = tmp_path / "new"
    result = CliRunner().invoke(main, ["init", str(root), "--from", str(DATA / "yanzhou-2026.md")])
    assert result.exit_code == 0, result.output
    ctx = load_context(root)
    names = {u.name for u in ctx.directory.units}
    assert {"区卫健局", "区民政局", "区医保局", "龙桥街道"} <= names and "各镇街" not in names
    errors = [f for f in ctx.findings if f.is_error]
    assert errors and all(f.code == "unit-unknown" and "各镇街" in f.message and "分组" in f.message for f in errors)
    assert "需要补充" in result.output
    assert len(ctx.projects.projects) == 10


def test_a_doubtful_kind_is_a_finding_and_marked(tmp_path: Path) -> None:
    """A kind the inference is unsure of (a rate-like name counted in 万人) is said, at the notice's row, and the
    written list marks the indicator 待核对 (read back with openpyxl); a plain count raises nothing."""
    import openpyxl

    from shixiang_xl.projects import write_project_list

    path = tmp_path / "notice.md"
    path.write_text("# 2025年区政府十件民生实事\n\n| 序号 | 项目名称 | 主要内容 | 牵头单位 |\n|---|---|---|---|\n"
                    "| 1 | 甲 | 新建公厕10座 | 区城管局 |\n"
                    "| 2 | 乙 | 城乡居民医保参保率达到95万人 | 区医保局 |\n", encoding="utf-8")
    r = import_notice(path, Directory((Unit("区城市管理局", ("区城管局",)), Unit("区医疗保障局", ("区医保局",)))))
    doubtful = [f for f in r.findings if f.code == "indicator-kind-doubtful"]
    assert len(doubtful) == 1 and "第 2 号项目" in doubtful[0].message and "指标类型" in doubtful[0].message
    assert doubtful[0].cell and REGISTRY["indicator-kind-doubtful"].stage == "import"
    out = tmp_path / "项目清单.xlsx"
    write_project_list(out, r.projects)
    wb = openpyxl.load_workbook(out, read_only=True)
    try:
        rows = [list(row) for row in wb["指标"].iter_rows(values_only=True)]
    finally:
        wb.close()
    head = rows[0]
    review = {row[head.index("指标名称")]: row[head.index("待核对")] for row in rows[1:] if row[0] is not None}
    assert [v for v in review.values() if v == "是"] == ["是"] and len(review) == 2
