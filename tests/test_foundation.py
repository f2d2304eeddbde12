"""Foundation: findings registry, text normalisation, unit directory, project list, periods, config, spec, workspace."""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest

from conftest import (REPO_ROOT, Expected, finding_places, problems, write_directory_xlsx,
                      write_faulty_project_list, write_project_list_xlsx, write_xlsx)
from shixiang_xl import findings as findings_mod
from shixiang_xl.config import Config, SmtpSettings, load_config, render_config
from shixiang_xl.errors import ShixiangError
from shixiang_xl.findings import REGISTRY, Finding, Severity, docs_table, finding, has_errors, sort_key
from shixiang_xl.period import Period, PeriodError, expected_progress
from shixiang_xl.projects import (Milestone, Project, load_project_list, parse_comparator, parse_due_month,
                                  write_project_list)
from shixiang_xl.spec import load_spec, packaged_spec_text, parse_spec
from shixiang_xl.textnorm import clean, compact, fold, format_number, split_names
from shixiang_xl.units import Directory, Unit, load_directory, write_directory
from shixiang_xl.workspace import (EXAMPLES, FOLDERS, Workspace, init_workspace, load_context, load_example)

PACKAGE_DIR = REPO_ROOT / "shixiang_xl"
EXAMPLES_DIR = REPO_ROOT / "examples"


def _units_toml() -> list[dict]:
    """The unit directory's TOML source, read independently of the package's loader."""
    return tomllib.loads((EXAMPLES_DIR / "yanzhou-units.toml").read_text(encoding="utf-8"))["unit"]


def _towns() -> set[str]:
    return {u["name"] for u in _units_toml() if u.get("group") == "镇街"}


def _errors(found) -> list[Finding]:
    return [f for f in found if f.is_error]


def _load_list(tmp_path: Path, directory: Directory, projects, indicators=(), milestones=None, **headers):
    path = write_project_list_xlsx(tmp_path / "项目清单.xlsx", projects, indicators, milestones, **headers)
    return load_project_list(path, directory)


GOOD_PROJECTS = [
    [1, "项目一", "新建卫生室 10 家", "区卫健局", "", "12月", ""],
    [2, "项目二", "改造老旧小区 13 个", "区住建局", "区财政局、各镇街", "", ""],
]


# ================================================================== findings registry


def _codes_used_in_sources() -> dict[str, list[str]]:
    """Every literal code passed to finding(…) / Finding(…) in shixiang_xl/**/*.py → the files using it."""
    pattern = re.compile(r"\b(?:finding|Finding)\(\s*[\"']([^\"']+)[\"']")
    used: dict[str, list[str]] = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        for code in pattern.findall(path.read_text(encoding="utf-8")):
            used.setdefault(code, []).append(path.name)
    return used


def test_every_code_used_in_the_sources_is_registered():
    used = _codes_used_in_sources()
    # The grep must actually see the foundation's codes, or the check below would pass vacuously.
    for code in ("target-not-number", "unit-unknown", "directory-duplicate-alias", "milestone-invalid",
                 "workbook-unreadable", "sheet-missing"):
        assert code in used, code
    unregistered = {code: files for code, files in used.items() if code not in REGISTRY}
    assert not unregistered, f"codes used but not registered in findings.py: {unregistered}"


def test_registry_codes_are_unique_kebab_case_with_chinese_titles():
    codes = [c.code for c in findings_mod._CODES]
    assert len(codes) == len(set(codes)), "a code is registered twice"
    for c in findings_mod._CODES:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", c.code), c.code
        assert isinstance(c.severity, Severity)
        assert re.search(r"[\u4e00-\u9fff]", c.title), c.code


def test_docs_table_lists_every_code_once():
    table = docs_table()
    lines = table.splitlines()
    assert lines[0].startswith("| code |")
    listed = [m.group(1) for line in lines[2:] for m in [re.match(r"\| `([^`]+)` \| (\S+) \|", line)] if m]
    assert len(listed) == len(lines) - 2
    assert sorted(listed) == sorted(REGISTRY)
    for line in lines[2:]:
        code = re.match(r"\| `([^`]+)`", line).group(1)
        assert f"| {REGISTRY[code].severity.value} | {REGISTRY[code].stage} | {REGISTRY[code].title} |" in line


def test_finding_uses_registered_severity_and_rejects_unknown_codes():
    f = finding("target-not-number", "目标值不是数字", file="项目清单.xlsx", sheet="指标", cell="D2")
    assert f.severity is Severity.ERROR and f.is_error
    assert f.place == "项目清单.xlsx › 指标 › D2"
    assert f.line() == "错误 target-not-number: [项目清单.xlsx › 指标 › D2] 目标值不是数字"
    assert f.to_dict()["severity"] == "错误"
    assert finding("directory-bad-email", "x").severity is Severity.WARNING
    assert finding("unit-alias-resolved", "x").line() == "提示 unit-alias-resolved: x"
    with pytest.raises(KeyError):
        finding("no-such-code", "x")
    assert has_errors([finding("directory-bad-email", "x"), f])
    assert not has_errors([finding("directory-bad-email", "x")])


def test_sort_key_orders_by_severity_then_row_then_column():
    fs = [finding("target-not-number", "", sheet="指标", cell="D10"),
          finding("directory-bad-email", "", sheet="指标", cell="A1"),
          finding("target-not-number", "", sheet="指标", cell="AA2"),
          finding("target-not-number", "", sheet="指标", cell="D2")]
    assert [f.cell for f in sorted(fs, key=sort_key)] == ["D2", "AA2", "D10", "A1"]


# ================================================================== text normalisation


def test_text_normalisation():
    assert clean("区教体局\u3000") == "区教体局"
    assert clean("１２３％ Ａｂ") == "123% Ab"
    assert clean("新兗镇 中小學生") == "新兖镇 中小学生"
    assert clean(None) == "" and clean("a\x00b\x07c") == "abc"
    assert fold("区 教体局") == fold("区教体局") == fold("區教體局")
    assert compact("区公共法律 服务中心") == "区公共法律服务中心"
    assert split_names("区财政局、区水务局；区工信局\n鼓楼街道") == ["区财政局", "区水务局", "区工信局", "鼓楼街道"]
    assert split_names("——") == [] and split_names("无") == [] and split_names(None) == []
    assert format_number(12.0) == "12" and format_number(21.38) == "21.38" and format_number(None) == ""


# ================================================================== unit directory: resolution


def test_full_name_resolves_as_unit(directory):
    res = directory.resolve("区卫生健康局")
    assert res.kind == "unit" and [u.name for u in res.units] == ["区卫生健康局"]


@pytest.mark.parametrize("alias, full", [
    ("区卫健局", "区卫生健康局"),
    ("区教体局", "区教育和体育局"),
    ("区医保局", "区医疗保障局"),
    ("区住建局", "区住房和城乡建设局"),
    ("区审批局", "区行政审批服务局"),
    ("鼓楼街道办事处", "鼓楼街道"),
])
def test_alias_resolves_to_full_name(directory, alias, full):
    res = directory.resolve(alias)
    assert res.kind == "alias"
    assert [u.name for u in res.units] == [full]
    assert directory.get(alias).name == full


@pytest.mark.parametrize("word", ["各镇街", "各镇（街道）", "各镇(街道)", "各镇、街道", "各镇街道", "镇街", "各 镇 街"])
def test_group_words_expand_to_every_town_and_subdistrict(directory, word):
    res = directory.resolve(word)
    assert res.kind == "group"
    names = [u.name for u in res.units]
    assert set(names) == _towns() and len(names) == len(_towns()) == 10


@pytest.mark.parametrize("written, full", [
    ("新兗镇", "新兖镇"),                      # traditional 兗 (as in the 2026 notice)
    ("區衛健局", "区卫生健康局"),               # traditional alias
    ("區教育和體育局", "区教育和体育局"),        # traditional full name
    ("区教体局\u3000", "区教育和体育局"),       # ideographic (full-width) space
    ("区 教体局", "区教育和体育局"),            # a space inside
    ("区公共法律 服务中心", "区公共法律服务中心"),  # a name the PDF split
])
def test_traditional_and_full_width_names_resolve(directory, written, full):
    unit = directory.get(written)
    assert unit is not None and unit.name == full
    assert directory.resolve(written).units[0].name == full


def test_full_width_digits_and_letters_resolve():
    d = Directory((Unit("区第1中学", aliases=("一中",)), Unit("区ABC中心")))
    assert d.get("区第１中学").name == "区第1中学"
    assert d.get("区ＡＢＣ中心").name == "区ABC中心"
    assert d.resolve("区第１中学").kind == "unit"


def test_unknown_unit_gets_the_closest_names_as_suggestions(directory):
    res = directory.resolve("区卫建局")
    assert res.kind == "unknown" and res.units == ()
    assert res.suggestions[0] == "区卫生健康局"
    assert "区教育和体育局" in directory.resolve("区教育局").suggestions
    assert directory.get("区卫建局") is None
    assert len(directory.suggest("区卫建局", n=2)) <= 2
    assert directory.resolve("某某科技有限公司").kind == "unknown"


def test_directory_groups(directory):
    groups = directory.groups
    assert set(groups) == {u["group"] for u in _units_toml()}
    assert {u.name for u in groups["镇街"]} == _towns()


# ================================================================== unit directory: workbook


def test_committed_directory_workbooks_load_like_the_example(example_2026):
    _, expected, _ = example_2026
    for name in EXAMPLES:
        d, found = load_directory(EXAMPLES_DIR / name / "单位名录.xlsx")
        assert found == []
        assert d.units == expected.units
    assert len(expected.units) == len(_units_toml())


def test_directory_write_and_read_back(tmp_path, directory):
    path = tmp_path / "单位名录.xlsx"
    write_directory(path, directory)
    d, found = load_directory(path)
    assert found == [] and d.units == directory.units
    src = {u["name"]: u for u in _units_toml()}
    weijian = d.get("区卫健局")
    assert weijian.aliases == tuple(src["区卫生健康局"]["aliases"])
    assert weijian.emails == (src["区卫生健康局"]["email"],) and weijian.phone == src["区卫生健康局"]["phone"]


def test_directory_aliases_split_on_both_separators(tmp_path):
    path = write_directory_xlsx(tmp_path / "d.xlsx", [
        ["区卫生健康局", "区卫健局、区卫生局；卫健", "部门", "王芳", "0537-3411001", "a@example.com；b@example.com"],
    ])
    d, found = load_directory(path)
    assert found == []
    assert d.units[0].aliases == ("区卫健局", "区卫生局", "卫健")
    assert d.units[0].emails == ("a@example.com", "b@example.com")
    assert d.get("卫健").name == "区卫生健康局"


def test_directory_findings_with_cells(tmp_path):
    path = write_directory_xlsx(tmp_path / "单位名录.xlsx", [
        ["区财政局", "", "部门", "卫东", "0537-1", "caizheng@example.com"],          # row 2
        ["区财政局", "财政", "部门", "", "", ""],                                    # row 3: duplicate name
        ["区水务局", "区水利局、水务", "部门", "", "", "not-an-email"],              # row 4: bad e-mail
        ["区卫生健康局", "区卫健局；水务", "部门", "", "", ""],                      # row 5: 水务 claimed twice
        ["", "无名", "部门", "某人", "", ""],                                        # row 6: empty name
        ["区司法局", "区财政局", "部门", "", "", ""],                                # row 7: alias = other's name
    ])
    d, found = load_directory(path)
    assert finding_places(found) == {
        ("directory-duplicate-name", "单位名录", "A3"),
        ("directory-bad-email", "单位名录", "F4"),
        ("directory-duplicate-alias", "单位名录", "B5"),
        ("directory-empty-name", "单位名录", "A6"),
        ("directory-duplicate-alias", "单位名录", "B7"),
    }
    assert len(found) == 5
    by_code = {(f.code, f.cell): f for f in found}
    assert "not-an-email" in by_code[("directory-bad-email", "F4")].message
    assert by_code[("directory-bad-email", "F4")].severity is Severity.WARNING
    dup = by_code[("directory-duplicate-alias", "B5")].message
    assert "水务" in dup and "区水务局" in dup and "区卫生健康局" in dup
    assert all(f.file == "单位名录.xlsx" for f in found)
    # The rest is still usable: the alias stays with its first owner, the good alias of row 5 is kept.
    assert d.get("水务").name == "区水务局"
    assert d.get("区卫健局").name == "区卫生健康局"
    assert [u.name for u in d.units] == ["区财政局", "区水务局", "区卫生健康局", "区司法局"]


def test_directory_missing_name_column(tmp_path):
    path = write_directory_xlsx(tmp_path / "d.xlsx", [["区财政局", "部门"]], headers=["名字", "分组"])
    d, found = load_directory(path)
    assert [(f.code, f.sheet, f.cell) for f in found] == [("directory-missing-column", "单位名录", "A1")]
    assert "单位全称" in found[0].message and d.units == ()


def test_directory_unreadable_file(tmp_path):
    path = tmp_path / "单位名录.xlsx"
    path.write_text("这不是工作簿", encoding="utf-8")
    d, found = load_directory(path)
    assert [f.code for f in found] == ["workbook-unreadable"] and found[0].file == "单位名录.xlsx"


# ================================================================== project list: the examples


@pytest.mark.parametrize("name, n_projects, n_indicators", [("yanzhou-2026", 10, 32), ("yanzhou-2024", 10, 15)])
def test_examples_load_from_an_initialised_workspace_without_problems(tmp_path, name, n_projects, n_indicators):
    ws = init_workspace(tmp_path / name, name)
    ctx = load_context(ws.root)
    assert problems(ctx.findings) == []
    assert len(ctx.projects.projects) == n_projects
    assert len(ctx.projects.indicators) == n_indicators
    assert [p.number for p in ctx.projects.projects] == list(range(1, 11))
    _, _, expected = load_example(name)
    assert ctx.projects.projects == expected.projects


@pytest.mark.parametrize("name", EXAMPLES)
def test_committed_example_workbooks_load_to_the_same_data_as_load_example(name):
    """examples/*/项目清单.xlsx and 单位名录.xlsx are produced by `make examples` (workspace.write_example_workbooks) from the TOML sources."""
    _, exp_dir, exp_list = load_example(name)
    d, found_d = load_directory(EXAMPLES_DIR / name / "单位名录.xlsx")
    plist, found_p = load_project_list(EXAMPLES_DIR / name / "项目清单.xlsx", d)
    assert found_d == [] and problems(found_p) == []
    assert d.units == exp_dir.units
    assert plist.projects == exp_list.projects


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_indicators_are_read_from_their_content(name):
    """Each indicator's source span is in its project's content, and the target number is in that span."""
    _, _, plist = load_example(name)
    for p in plist.projects:
        for i in p.indicators:
            assert compact(i.text) in compact(p.content), (p.number, i.name)
            assert format_number(i.target) in compact(i.text), (p.number, i.name)
            assert i.comparator in ("≥", "≤", "=") and i.target >= 0 and i.unit


def test_example_2026_specific_indicators(example_2026):
    _, _, plist = example_2026
    p2 = plist.get(2)
    assert p2.leads == ("区民政局", "区医疗保障局")
    assert set(p2.co_units) == _towns()
    beds = next(i for i in p2.indicators if i.name == "新增护理型床位")
    assert (beds.target, beds.unit, beds.comparator, beds.target_text) == (100, "张", "≥", "≥100张")
    rate = next(i for i in p2.indicators if i.name == "个性化护理计划适配率")
    assert (rate.target, rate.unit, rate.comparator, rate.lead) == (95, "%", "≥", "区医疗保障局")
    assert p2.indicators_for("区医疗保障局") == tuple(i for i in p2.indicators if i.lead == "区医疗保障局")
    assert len(p2.indicators_for("区医疗保障局")) == 3 and len(p2.indicators_for("区民政局")) == 6
    students = next(i for i in plist.get(6).indicators if i.name == "测评覆盖学生")
    assert (students.target, students.unit, students.comparator) == (7.3, "万名", "=")
    area = plist.get(9).indicators[2]
    assert (area.number, area.target, area.unit) == (3, 21.38, "万平方米")
    p4 = plist.get(4)
    assert all(i.split for i in p4.indicators) and len(p4.indicators) == 3
    assert p4.due_month == 10
    assert [(m.month, m.percent) for m in p4.milestones] == [(3, 40.0), (7, 85.0), (10, 100.0)]
    assert plist.get(3).indicators == ()
    assert plist.get(9).co_units == ("区发展和改革局", "区财政局", "区工业和信息化局", "龙桥街道", "鼓楼街道")
    assert plist.get(10).co_units == ("区公共法律服务中心",)
    employment = [i for i in plist.get(5).indicators]
    assert [(i.target, i.unit, i.comparator) for i in employment] == [(100, "场次", "≥"), (4000, "人", "≥"),
                                                                       (1200, "人", "≥")]


def test_example_2024_specific_indicators(example_2024):
    _, _, plist = example_2024
    assert [len(p.indicators) for p in plist.projects] == [1, 1, 0, 0, 0, 5, 3, 2, 2, 1]
    school = plist.get(1)
    assert school.due_month == 9 and school.indicators[0].target == 330 and school.indicators[0].unit == "个"
    building = plist.get(2).indicators[0]
    assert (building.target, building.unit, building.comparator) == (8718, "平方米", "=")
    assert "约" in building.note
    assert plist.get(2).co_units == ("区财政局", "区自然资源局", "区行政审批服务局", "酒仙桥街道")
    assert set(plist.get(4).co_units) == _towns() | {"区财政局"} and len(plist.get(4).co_units) == 11
    assert plist.get(7).indicators[1].target == 17.58 and plist.get(7).indicators[1].unit == "万平方米"
    assert plist.get(10).leads == ("区体育事业发展中心",)


def test_project_list_write_and_read_back(tmp_path, directory, example_2026):
    _, _, plist = example_2026
    path = tmp_path / "项目清单.xlsx"
    write_project_list(path, plist)
    back, found = load_project_list(path, directory)
    assert problems(found) == [] and back.projects == plist.projects
    assert back.source == "项目清单.xlsx"


# ================================================================== project list: hand-made lists


def test_aliases_groups_and_traditional_names_in_a_list_are_resolved(tmp_path, directory):
    plist, found = _load_list(tmp_path, directory, [
        [1, "项目一", "内容", "區衛健局", "各镇（街道）、区财政局", "9月", ""],
        [2, "项目二", "内容", "区教体局　", "区教育和体育局、区 财政局", "", ""],
    ], [[1, 1, "新建", "１００", "家", "不少于", "是", ""],
        [2, 1, "培训", "1,000", "人次", "", "", ""],
        [2, 2, "覆盖率", 95, "%", "≤", "否", ""]])
    assert _errors(found) == []
    p1, p2 = plist.projects
    assert p1.leads == ("区卫生健康局",)
    assert set(p1.co_units) == _towns() | {"区财政局"} and len(p1.co_units) == 11
    assert p1.due_month == 9
    assert p2.leads == ("区教育和体育局",)
    assert p2.co_units == ("区财政局",)  # the lead unit written again as a co-unit is dropped
    i = p1.indicators[0]
    assert (i.target, i.comparator, i.split) == (100, "≥", True)
    assert [(x.target, x.comparator, x.split) for x in p2.indicators] == [(1000, "=", False), (95, "≤", False)]


def test_space_separated_units_and_names_split_by_a_pdf(tmp_path, directory):
    """As in the 2026 notice: 区民政局 区医保局 are two units, 区公共法律 服务中心 is one."""
    plist, found = _load_list(tmp_path, directory, [
        [1, "项目一", "内容", "区民政局 区医保局", "各镇 街道", "", ""],
        [2, "项目二", "内容", "区司法局", "区发改局 区公共法律 服务中心", "", ""],
    ], [])
    assert problems(found) == []
    p1, p2 = plist.projects
    assert p1.leads == ("区民政局", "区医疗保障局") and set(p1.co_units) == _towns()
    assert p2.co_units == ("区发展和改革局", "区公共法律服务中心")
    # What the loader keeps as text reads back to the same list.
    path = tmp_path / "again" / "项目清单.xlsx"
    write_project_list(path, plist)
    again, found = load_project_list(path, directory)
    assert problems(found) == [] and again.projects == plist.projects


def test_header_below_a_title_row_gives_the_right_cells(tmp_path, directory):
    path = write_xlsx(tmp_path / "项目清单.xlsx", {
        "项目": [["2026年民生实事项目清单"], ["序号", "项目名称", "项目主要内容", "牵头单位", "协办单位"],
                 [1, "项目一", "内容", "区卫建局", ""]],
        "指标": [["项目序号", "指标序号", "指标名称", "目标值", "计量单位", "比较方式", "按协办单位分解"]],
    })
    _, found = load_project_list(path, directory)
    assert finding_places(found) == {("unit-unknown", "项目", "D3")}


def test_the_issues_faulty_list_yields_every_finding_with_its_cell(tmp_path, directory):
    path = tmp_path / "项目清单.xlsx"
    expected = write_faulty_project_list(path)
    plist, found = load_project_list(path, directory)
    assert finding_places(found) == {(e.code, e.sheet, e.cell) for e in expected}
    assert len(problems(found)) == len(expected)
    for e in expected:
        f = next(f for f in found if (f.code, f.sheet, f.cell) == (e.code, e.sheet, e.cell))
        assert f.is_error and f.file == "项目清单.xlsx"
        assert e.text in f.message
        assert re.search(r"[\u4e00-\u9fff]", f.message)
    # The good rows are still loaded.
    assert [p.number for p in plist.projects] == [1, 2, 3]
    assert [i.name for i in plist.get(1).indicators] == ["改造提升村卫生室"]


@pytest.mark.parametrize("sheet, headers, drop, heading", [
    ("项目", "project_headers", "协办单位", "协办单位"),
    ("项目", "project_headers", "项目主要内容", "项目主要内容"),
    ("项目", "project_headers", "牵头单位", "牵头单位"),
    ("指标", "indicator_headers", "比较方式", "比较方式"),
    ("指标", "indicator_headers", "按协办单位分解", "按协办单位分解"),
    ("指标", "indicator_headers", "目标值", "目标值"),
])
def test_missing_column(tmp_path, directory, sheet, headers, drop, heading):
    from conftest import INDICATOR_HEADERS, PROJECT_HEADERS

    base = {"project_headers": PROJECT_HEADERS, "indicator_headers": INDICATOR_HEADERS}[headers]
    idx = base.index(drop)
    cut = [h for h in base if h != drop]
    projects = [[1, "项目一", "内容", "区卫健局", "", "", ""]]
    indicators = [[1, 1, "新建", 10, "家", "=", "否", ""]]
    if headers == "project_headers":
        projects = [r[:idx] + r[idx + 1:] for r in projects]
    else:
        indicators = [r[:idx] + r[idx + 1:] for r in indicators]
    _, found = _load_list(tmp_path, directory, projects, indicators, **{headers: cut})
    missing = [f for f in found if f.code == "column-missing"]
    assert [(f.sheet, f.cell) for f in missing] == [(sheet, "A1")]
    assert heading in missing[0].message


def test_missing_name_column_stops_with_one_finding(tmp_path, directory):
    _, found = _load_list(tmp_path, directory, [[1, "内容", "区卫健局", ""]],
                          project_headers=["序号", "项目主要内容", "牵头单位", "协办单位"])
    assert finding_places(found) == {("column-missing", "项目", "A1")}
    assert "项目名称" in found[0].message


def test_duplicate_and_missing_numbers(tmp_path, directory):
    plist, found = _load_list(tmp_path, directory, [
        [1, "项目一", "内容", "区卫健局", "", "", ""],     # A2
        [2, "项目二", "内容", "区民政局", "", "", ""],     # A3
        [1, "项目三", "内容", "区司法局", "", "", ""],     # A4: duplicate of A2
        [None, "项目四", "内容", "区司法局", "", "", ""],  # A5: missing
        ["二", "项目五", "内容", "区司法局", "", "", ""],  # A6: not a number
        [2.5, "项目六", "内容", "区司法局", "", "", ""],   # A7: not an integer
        [0, "项目七", "内容", "区司法局", "", "", ""],     # A8: not positive
    ])
    assert finding_places(found) == {("project-number-duplicate", "项目", "A4"),
                                     ("project-number-missing", "项目", "A5"),
                                     ("project-number-missing", "项目", "A6"),
                                     ("project-number-missing", "项目", "A7"),
                                     ("project-number-missing", "项目", "A8")}
    dup = next(f for f in found if f.code == "project-number-duplicate")
    assert "A2" in dup.message
    assert [(p.number, p.name) for p in plist.projects] == [(1, "项目一"), (2, "项目二")]


def test_rows_with_a_bad_number_still_have_their_other_cells_checked(tmp_path, directory):
    """All problems at once: fixing a duplicate 序号 must not reveal a new error in the same row."""
    _, found = _load_list(tmp_path, directory, [
        [1, "项目一", "内容", "区卫健局", "", "", ""],
        [1, "项目二", "内容", "区卫建局", "", "13月", ""],   # duplicate + unknown unit + bad month
        [None, "", "内容", "", "区水利局", "", ""],          # missing number, name, lead; unknown co-unit
    ])
    assert finding_places(found) == {("project-number-duplicate", "项目", "A3"),
                                     ("unit-unknown", "项目", "D3"),
                                     ("due-month-invalid", "项目", "F3"),
                                     ("project-number-missing", "项目", "A4"),
                                     ("project-name-missing", "项目", "B4"),
                                     ("project-lead-missing", "项目", "D4"),
                                     ("unit-unknown", "项目", "E4")}


def test_unknown_unit_finding_suggests_directory_names(tmp_path, directory):
    _, found = _load_list(tmp_path, directory, [[1, "项目一", "内容", "区卫建局", "区教育局、区财政局", "", ""]])
    assert finding_places(found) == {("unit-unknown", "项目", "D2"), ("unit-unknown", "项目", "E2")}
    lead = next(f for f in found if f.cell == "D2")
    assert "区卫建局" in lead.message and "「区卫生健康局」" in lead.message and "您是否要填" in lead.message
    co = next(f for f in found if f.cell == "E2")
    assert "区教育局" in co.message and "区教育和体育局" in co.message
    _, found = _load_list(tmp_path, directory, [[1, "项目一", "内容", "某某科技有限公司", "", "", ""]])
    assert [f.code for f in problems(found)] == ["unit-unknown"] and "不在单位名录中" in problems(found)[0].message


def test_indicator_findings_with_cells(tmp_path, directory):
    _, found = _load_list(tmp_path, directory, GOOD_PROJECTS, [
        [1, 1, "新建", "约100", "家", "=", "否", ""],       # row 2: text target
        [1, 2, "改造", -3, "家", "=", "否", ""],            # row 3: negative
        [7, 1, "孤儿", 10, "个", "=", "否", ""],            # row 4: unknown project
        [1, 3, "比较", 10, "家", "大约", "否", ""],         # row 5: bad comparator
        [2, 1, "分解", 10, "个", "=", "可能", ""],          # row 6: bad 是/否
        [1, 4, "分解", 10, "家", "=", "是", ""],            # row 7: split without co-units
        [2, 1, "重复", 10, "个", "=", "否", ""],            # row 8: 指标序号 2-1 again (row 6 already used it)
        [2, None, "没有序号", 10, "个", "=", "否", ""],     # row 9: missing 指标序号
        [2, 3, None, 10, "个", "=", "否", ""],              # row 10: missing name
        [2, 4, "空目标", None, "个", "=", "否", ""],        # row 11: empty target
    ])
    assert finding_places(found) == {
        ("target-not-number", "指标", "D2"),
        ("target-negative", "指标", "D3"),
        ("indicator-project-unknown", "指标", "A4"),
        ("comparator-invalid", "指标", "F5"),
        ("split-invalid", "指标", "G6"),
        ("split-without-co-units", "指标", "G7"),
        ("indicator-number-invalid", "指标", "B8"),
        ("indicator-number-invalid", "指标", "B9"),
        ("indicator-name-missing", "指标", "C10"),
        ("target-not-number", "指标", "D11"),
    }
    text = next(f for f in found if f.cell == "D2")
    assert "约100" in text.message and text.severity is Severity.ERROR
    assert "大约" in next(f for f in found if f.cell == "F5").message
    assert "可能" in next(f for f in found if f.cell == "G6").message
    assert "-3" in next(f for f in found if f.cell == "D3").message


def test_indicator_rows_with_an_unknown_project_still_have_their_cells_checked(tmp_path, directory):
    plist, found = _load_list(tmp_path, directory, GOOD_PROJECTS, [
        [9, 1, "x", "约100", "家", "左右", "也许", ""],
    ])
    assert finding_places(found) == {("indicator-project-unknown", "指标", "A2"),
                                     ("target-not-number", "指标", "D2"),
                                     ("comparator-invalid", "指标", "F2"),
                                     ("split-invalid", "指标", "G2")}
    assert plist.indicators == ()


def test_indicator_lead_must_be_a_lead_of_the_project(tmp_path, directory):
    headers = ["项目序号", "指标序号", "指标名称", "目标值", "计量单位", "比较方式", "按协办单位分解", "责任单位"]
    plist, found = _load_list(tmp_path, directory, [
        [1, "项目一", "内容", "区民政局、区医保局", "", "", ""]], [
        [1, 1, "床位", 100, "张", "≥", "否", "区民政局"],
        [1, 2, "适配率", 95, "%", "≥", "否", "区医疗保障局"],
        [1, 3, "别人的", 5, "个", "=", "否", "区财政局"],     # row 4: not a lead
    ], indicator_headers=headers)
    assert finding_places(found) == {("indicator-lead-invalid", "指标", "H4")}
    assert [(i.number, i.lead) for i in plist.get(1).indicators] == [(1, "区民政局"), (2, "区医疗保障局")]
    assert plist.get(1).indicators_for("区医疗保障局")[0].name == "适配率"


@pytest.mark.parametrize("due, month", [("9月", 9), (9, 9), ("2026-09", 9), ("12月底前", 12), ("年内", 12),
                                        ("2026年11月", 11), ("秋季学期", 9)])
def test_due_month_forms(due, month):
    assert parse_due_month(str(due)) == month


@pytest.mark.parametrize("due", ["13月", "下半年", "0月", "2026"])
def test_bad_due_month(tmp_path, directory, due):
    plist, found = _load_list(tmp_path, directory, [[1, "项目一", "内容", "区卫健局", "", due, ""]])
    assert finding_places(found) == {("due-month-invalid", "项目", "F2")}
    assert plist.get(1).due_month is None and plist.get(1).end_month == 12


@pytest.mark.parametrize("text, symbol", [("≥", "≥"), (">=", "≥"), ("以上", "≥"), ("不少于", "≥"), ("至少", "≥"),
                                          ("不低于", "≥"), ("≤", "≤"), ("以内", "≤"), ("不超过", "≤"),
                                          ("控制在", "≤"), ("=", "="), ("＝", "="), ("", "="), ("＞＝", "≥")])
def test_comparator_words(text, symbol):
    assert parse_comparator(text) == symbol


def test_comparator_unknown():
    assert parse_comparator("大约") is None and parse_comparator("约") is None


def test_milestones_load_and_invalid_ones_are_reported_at_their_cell(tmp_path, directory):
    plist, found = _load_list(tmp_path, directory, GOOD_PROJECTS, [], [
        [1, 7, 60],          # row 2: fine
        [1, 3, 20],          # row 3: fine (sorted on load)
        [1, 13, 50],         # row 4: bad month → B4
        [1, 5, 150],         # row 5: bad percent → C5
        [8, 5, 50],          # row 6: unknown project → A6
        [2, "六月", -1],     # row 7: unreadable month and bad percent → B7, C7
    ])
    assert finding_places(found) == {("milestone-invalid", "时间节点", "B4"),
                                     ("milestone-invalid", "时间节点", "C5"),
                                     ("indicator-project-unknown", "时间节点", "A6"),
                                     ("milestone-invalid", "时间节点", "B7"),
                                     ("milestone-invalid", "时间节点", "C7")}
    assert [(m.month, m.percent) for m in plist.get(1).milestones] == [(3, 20.0), (7, 60.0)]
    assert plist.get(2).milestones == ()


def test_milestone_sheet_missing_a_column(tmp_path, directory):
    _, found = _load_list(tmp_path, directory, GOOD_PROJECTS, [], [[1, 3]], milestone_headers=["项目序号", "月份"])
    assert finding_places(found) == {("column-missing", "时间节点", "A1")}


def test_missing_sheets(tmp_path, directory):
    path = write_xlsx(tmp_path / "项目清单.xlsx", {"Sheet1": [["序号"], [1]]})
    plist, found = load_project_list(path, directory)
    assert [f.code for f in problems(found)] == ["sheet-missing"] and "项目" in problems(found)[0].message
    assert plist.projects == ()
    # Without the 指标 sheet every indicator would silently vanish: that is an error too.
    plist, found = _load_list(tmp_path, directory, GOOD_PROJECTS, indicators=None)
    assert [f.code for f in problems(found)] == ["sheet-missing"] and "指标" in problems(found)[0].message
    assert len(plist.projects) == 2


def test_empty_and_unreadable_lists(tmp_path, directory):
    plist, found = _load_list(tmp_path, directory, [])
    assert [f.code for f in problems(found)] == ["project-list-empty"]
    path = tmp_path / "坏.xlsx"
    path.write_bytes(b"PK\x03\x04 but not a zip at all")
    plist, found = load_project_list(path, directory)
    assert [f.code for f in found] == ["workbook-unreadable"] and found[0].file == "坏.xlsx"
    plist, found = load_project_list(tmp_path / "没有这个文件.xlsx", directory)
    assert [f.code for f in found] == ["workbook-unreadable"]


def test_project_list_units_order(example_2026):
    _, _, plist = example_2026
    units = plist.units
    leads = [u for p in plist.projects for u in p.leads]
    assert list(units[:len(dict.fromkeys(leads))]) == list(dict.fromkeys(leads))
    assert len(units) == len(set(units))
    assert plist.led_by("区医疗保障局") == (plist.get(2), plist.get(8))
    assert plist.co_led_by("区教育和体育局") == (plist.get(7),)


# ================================================================== periods


@pytest.mark.parametrize("text, slug, label, quarter", [
    ("2026-03", "2026-03", "2026年3月", 0),
    ("2026-3", "2026-03", "2026年3月", 0),
    ("202603", "2026-03", "2026年3月", 0),
    ("2026年3月", "2026-03", "2026年3月", 0),
    ("2026-12", "2026-12", "2026年12月", 0),
    ("2026-Q1", "2026-Q1", "2026年第一季度", 1),
    ("2026q2", "2026-Q2", "2026年第二季度", 2),
    ("2026年第一季度", "2026-Q1", "2026年第一季度", 1),
    ("2026年第四季度", "2026-Q4", "2026年第四季度", 4),
    ("2026年3季度", "2026-Q3", "2026年第三季度", 3),
])
def test_period_parse(text, slug, label, quarter):
    p = Period.parse(text)
    assert (p.slug, p.label, p.quarter, str(p)) == (slug, label, quarter, slug)
    assert p.is_quarter == bool(quarter)
    assert Period.parse(p.slug) == p


def test_period_bounds():
    q1 = Period.parse("2026-Q1")
    assert (q1.year, q1.end_month, q1.start, q1.end) == (2026, 3, dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    feb = Period.parse("2028-02")
    assert (feb.start, feb.end) == (dt.date(2028, 2, 1), dt.date(2028, 2, 29))
    assert Period.parse("2026-03").as_of == "截至2026年3月底"
    assert Period.parse("2026-03").span == "1—3月份" and Period.parse("2026-01").span == "1月份"


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "2026-Q5", "2026-Q0", "abc", "", "26-03", "2026年第五季度"])
def test_period_parse_rejects(text):
    with pytest.raises(PeriodError, match="无法识别"):
        Period.parse(text)


@pytest.mark.parametrize("period, day, due", [
    ("2026-03", 25, dt.date(2026, 3, 25)),
    ("2026-02", 31, dt.date(2026, 2, 28)),
    ("2028-02", 31, dt.date(2028, 2, 29)),
    ("2026-04", 31, dt.date(2026, 4, 30)),
    ("2026-Q1", 25, dt.date(2026, 3, 25)),
    ("2026-Q2", 31, dt.date(2026, 6, 30)),
])
def test_due_dates_are_clamped_to_the_month(period, day, due):
    assert Period.parse(period).due(day) == due


def test_previous_period():
    assert Period.parse("2026-03").previous() == Period.parse("2026-02")
    assert Period.parse("2026-01").previous() is None
    assert Period.parse("2026-Q3").previous() == Period.parse("2026-Q2")
    assert Period.parse("2026-Q2").previous() == Period(2026, 3, 1)
    assert Period.parse("2026-Q1").previous() is None
    assert Period.parse("2026-Q1") < Period.parse("2026-Q2") and Period.parse("2026-02") < Period.parse("2026-03")


def _project(due=None, milestones=()):
    return Project(1, "项目", "内容", ("区卫生健康局",), due_month=due,
                   milestones=tuple(Milestone(1, m, p) for m, p in milestones))


@pytest.mark.parametrize("due, month, expected", [
    (None, 3, round(3 / 12 * 100, 1)),
    (None, 6, 50.0),
    (None, 12, 100.0),
    (9, 3, round(3 / 9 * 100, 1)),
    (9, 9, 100.0),
    (9, 11, 100.0),
    (6, 1, round(1 / 6 * 100, 1)),
])
def test_expected_progress_linear(due, month, expected):
    assert expected_progress(_project(due), month) == expected


def test_expected_progress_with_milestones(example_2026):
    p4 = example_2026[2].get(4)  # milestones 3 → 40 %, 7 → 85 %, 10 → 100 %
    assert expected_progress(p4, 3) == 40.0
    assert expected_progress(p4, 1) == round(40 / 3, 1)
    assert expected_progress(p4, 5) == 40 + (85 - 40) * 2 / 4
    assert expected_progress(p4, 7) == 85.0
    assert expected_progress(p4, 9) == round(85 + 15 * 2 / 3, 1)
    assert expected_progress(p4, 10) == 100.0 and expected_progress(p4, 12) == 100.0
    # Milestones that stop short of 100 % are completed linearly by the planned month.
    p = _project(due=10, milestones=[(6, 50)])
    assert expected_progress(p, 3) == 25.0
    assert expected_progress(p, 8) == 75.0 and expected_progress(p, 10) == 100.0
    # Without a planned month, by December.
    p = _project(milestones=[(6, 60)])
    assert expected_progress(p, 9) == 80.0 and expected_progress(p, 12) == 100.0


def test_linear_expected_progress_of_the_examples(example_2026, example_2024):
    p1 = example_2026[2].get(1)  # 计划完成时间 12月
    assert [expected_progress(p1, m) for m in (3, 6, 12)] == [25.0, 50.0, 100.0]
    school = example_2024[2].get(1)  # 9月
    assert [expected_progress(school, m) for m in (3, 9, 12)] == [33.3, 100.0, 100.0]


# ================================================================== config


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_config_round_trip_default(tmp_path):
    path = _write(tmp_path / "shixiang.toml", render_config(Config()))
    config = load_config(path)
    assert config == Config()
    assert (config.frequency, config.due_day, config.lag_threshold, config.satisfaction_threshold) == \
        ("month", 25, 10.0, 90.0)


def test_config_round_trip_custom(tmp_path):
    original = Config(district="济宁市兖州区", year=2024, title="区政府为民办十件实事", office="区委区政府督查室",
                      contact="刘洋", phone="0537-3410000", email="ducha@example.com",
                      cc='区委办公室，区人大常委会办公室，\n区法院，"区检察院"\\ \t', frequency="quarter", due_day=31,
                      lag_threshold=7.5, satisfaction_threshold=85, sheet_password="p@ss\"word",
                      smtp=SmtpSettings(host="smtp.example.com", port=587, user="ducha", security="starttls",
                                        sender="ducha@example.com", password_env="MY_SMTP_PW"))
    path = _write(tmp_path / "shixiang.toml", render_config(original))
    assert load_config(path) == original
    assert load_config(path).full_title == "2024年区政府为民办十件实事"


def test_config_text_is_commented_in_chinese(workspace):
    text = workspace.config_path.read_text(encoding="utf-8")
    for key in ("name", "year", "office", "frequency", "due_day", "lag_threshold", "satisfaction_threshold",
                "[smtp]", "host"):
        assert key in text
    comments = [line.split("#", 1)[1] for line in text.splitlines() if "#" in line]
    assert len([c for c in comments if re.search(r"[\u4e00-\u9fff]", c)]) >= 12
    assert "每月" in text and "滞后" in text and "满意度" in text
    raw = tomllib.loads(text)
    assert raw["district"]["name"] == "济宁市兖州区" and raw["district"]["year"] == 2026
    assert raw["schedule"] == {"frequency": "month", "due_day": 25, "lag_threshold": 10,
                               "satisfaction_threshold": 90}
    assert raw["smtp"]["host"] == "" and "password" not in raw["smtp"]


def test_config_invalid_lists_every_problem(tmp_path):
    text = render_config(Config()).replace('frequency = "month"', 'frequency = "weekly"').replace(
        'password_env = "SHIXIANG_SMTP_PASSWORD"', 'password_env = "X"\npassword = "secret123"').replace(
        "due_day = 25", "due_day = 40").replace("year = 2026", "year = 1990").replace(
        'security = "ssl"', 'security = "tls"').replace("port = 465", 'port = "465"')
    path = _write(tmp_path / "shixiang.toml", text)
    with pytest.raises(ShixiangError) as info:
        load_config(path)
    message = str(info.value)
    for fragment in ("frequency", "weekly", "password", "环境变量", "due_day", "40", "1990", "security", "tls",
                     "port"):
        assert fragment in message, fragment
    assert "secret123" not in message
    assert message.count("\n- ") >= 6


@pytest.mark.parametrize("text, fragment", [
    ("[schedule]\nfrequency = \"daily\"\n", "frequency"),
    ("[smtp]\npassword = \"x\"\n", "密码"),
    ("[schedule]\ndue_day = \"25\"\n", "due_day"),
    ("[schedule]\nlag_threshold = true\n", "lag_threshold"),
    ("[district]\nnickname = \"x\"\n", "nickname"),
    ("schedule = 3\n", "[schedule]"),
    ("[district\nname = ", "格式有误"),
])
def test_config_single_problems(tmp_path, text, fragment):
    with pytest.raises(ShixiangError, match=re.escape(fragment)):
        load_config(_write(tmp_path / "shixiang.toml", text))


def test_config_missing_file(tmp_path):
    with pytest.raises(ShixiangError, match="shixiang init"):
        load_config(tmp_path / "shixiang.toml")


def test_config_partial_file_uses_defaults(tmp_path):
    config = load_config(_write(tmp_path / "shixiang.toml", "[district]\nname = \"某区\"\nyear = 2025\n"))
    assert (config.year, config.frequency, config.lag_threshold, config.smtp.configured) == (2025, "month", 10.0,
                                                                                             False)


# ================================================================== spec


def test_packaged_spec_loads():
    spec = load_spec()
    assert spec == load_spec(None) and spec.version
    assert spec.lead.sheet == "进度填报" and spec.co.sheet == "协办事项"
    for sheet in spec.sheets:
        keys = [c.key for c in sheet.columns]
        assert keys[:2] == ["project_no", "project_name"] and len(keys) == len(set(keys))
        assert {"current", "cumulative"} <= {c.key for c in sheet.inputs}
    assert spec.lead.column("rate").role == "formula" and spec.lead.column("target").source == "indicator.target"
    assert spec.lead.index("project_name") == 1
    assert [f.key for f in spec.fields][:2] == ["reporter", "phone"]
    assert spec.digest == parse_spec(packaged_spec_text()).digest and len(spec.digest) == 16


def test_workspace_spec_overrides_the_packaged_one(workspace):
    text = packaged_spec_text().replace('version = "2026.1"', 'version = "兖州.7"')
    text += '''
[[lead.columns]]
key = "funds"
heading = "到位资金（万元）"
scope = "project"
role = "input"
type = "number"
'''
    (workspace.root / "report_spec.toml").write_text(text, encoding="utf-8")
    spec = load_spec(workspace.root)
    assert spec.version == "兖州.7" and spec.lead.columns[-1].heading == "到位资金（万元）"
    assert spec.digest != load_spec().digest
    assert load_context(workspace.root).spec == spec
    assert load_spec().version == "2026.1"  # the packaged spec is untouched


@pytest.mark.parametrize("old, new, fragment", [
    ('type = "integer"', 'type = "money"', "type"),
    ("{cumulative}/{target}", "{cumulative}/{nosuch}", "nosuch"),
    ('scope = "project"', 'scope = "row"', "scope"),
    ('role = "locked"', 'role = "editable"', "role"),
    ('source = "project.number"', 'source = "project.secret"', "source"),
    ('key = "project_no"', 'key = "Project No"', "key"),
    ('key = "project_name"', 'key = "project_no"', "重复"),
    ("width = 5\n", 'width = "wide"\n', "width"),
    ('key = "reporter"\n', "", "[info]"),
    ('formula = \'=IF(', "formula = 'IF(", "公式列"),
    ('version = "2026.1"', 'version = "2026.1', "格式有误"),
])
def test_invalid_spec_raises(old, new, fragment):
    text = packaged_spec_text()
    assert old in text
    with pytest.raises(ShixiangError, match=re.escape(fragment)):
        parse_spec(text.replace(old, new, 1))


def test_spec_needs_the_row_identifying_columns():
    text = packaged_spec_text()
    start = text.index("[[co.columns]]\nkey = \"project_no\"")
    end = text.index("[[co.columns]]", start + 5)
    with pytest.raises(ShixiangError, match="project_no"):
        parse_spec(text[:start] + text[end:])
    with pytest.raises(ShixiangError, match=r"\[co\]"):
        parse_spec(text[:text.index("[co]")])


def _without_column(text: str, kind: str, key: str) -> str:
    start = text.index(f'[[{kind}.columns]]\nkey = "{key}"')
    end = text.find(f"[[{kind}.columns]]", start + 5)
    if end < 0:
        end = text.find("\n[", start + 5)
    return text[:start] + (text[end:] if end >= 0 else "")


@pytest.mark.parametrize("kind, key", [("lead", "cumulative"), ("lead", "current"), ("lead", "progress"),
                                       ("lead", "status"), ("lead", "progress_text"), ("lead", "problems"),
                                       ("lead", "next_steps"), ("co", "cumulative"), ("co", "progress_text")])
def test_a_spec_without_a_column_the_ledger_needs_is_refused(kind, key):
    """The ledger sums these columns up: a spec without one would give an empty ledger, so loading it stops with a
    Chinese message naming the sheet and the column."""
    text = _without_column(packaged_spec_text(), kind, key)
    assert f'key = "{key}"' in packaged_spec_text() and text != packaged_spec_text()
    with pytest.raises(ShixiangError, match=rf"模板规格有误：\[{kind}\] 缺少台账汇总所需的填报列 {key}（"):
        parse_spec(text)


def test_a_ledger_column_of_the_wrong_kind_is_refused():
    text = packaged_spec_text()
    start = text.index('[[lead.columns]]\nkey = "cumulative"')
    typed = text[:start] + text[start:].replace('type = "number"', 'type = "text"', 1)
    with pytest.raises(ShixiangError, match="cumulative（累计完成：.*数值类型"):
        parse_spec(typed)
    locked = text[:start] + text[start:].replace('role = "input"', 'role = "locked"\nsource = "previous.cumulative"', 1)
    with pytest.raises(ShixiangError, match="cumulative"):
        parse_spec(locked)
    assert parse_spec(text).lead.column("cumulative").is_input  # the packaged spec has them all


def test_invalid_workspace_spec_stops_loading(workspace):
    (workspace.root / "report_spec.toml").write_text(packaged_spec_text().replace('type = "text"', 'type = "x"', 1),
                                                     encoding="utf-8")
    with pytest.raises(ShixiangError, match="模板规格有误"):
        load_context(workspace.root)


# ================================================================== workspace


def test_init_creates_the_workspace_layout(workspace):
    root = workspace.root
    for name in FOLDERS:
        assert (root / name).is_dir(), name
    assert set(FOLDERS) == {"outbox", "inbox", "archive", "feedback", "reports"}
    for name in ("shixiang.toml", "项目清单.xlsx", "单位名录.xlsx", "说明.txt"):
        assert (root / name).is_file(), name
    secret = workspace.secret_path.read_text(encoding="ascii").strip()
    assert re.fullmatch(r"[0-9a-f]{64}", secret)
    if os.name == "posix":
        assert stat.S_IMODE(workspace.secret_path.stat().st_mode) == 0o600
    assert workspace.secret() == bytes.fromhex(secret)
    assert re.fullmatch(r"[0-9a-f]{12}", workspace.workspace_id)
    assert Workspace(root).workspace_id == workspace.workspace_id
    assert "济宁市兖州区2026" in (root / "说明.txt").read_text(encoding="utf-8")
    assert workspace.folder("inbox", "2026-03") == root / "inbox" / "2026-03"


def test_context_fixture_is_the_2026_example(context, example_2026):
    config, directory, plist = example_2026
    assert context.config.year == 2026 and context.config.district == config.district
    assert context.config.lag_threshold == 10.0 and context.config.satisfaction_threshold == 90.0
    assert context.directory.units == directory.units
    assert context.projects.projects == plist.projects
    assert problems(context.findings) == []


def test_init_2024(workspace_2024):
    ctx = load_context(workspace_2024.root)
    assert ctx.config.year == 2024 and ctx.config.title == "区政府为民办十件实事"
    assert len(ctx.projects.indicators) == 15


def test_two_workspaces_have_different_secrets(workspace, workspace_2024):
    assert workspace.secret() != workspace_2024.secret()


def test_init_refuses_an_existing_workspace(workspace):
    before = workspace.config_path.read_bytes()
    with pytest.raises(ShixiangError, match="已经是一个工作区"):
        init_workspace(workspace.root, "yanzhou-2024")
    assert workspace.config_path.read_bytes() == before


def test_init_does_not_overwrite_a_project_list_already_there(tmp_path, directory):
    root = tmp_path / "mine"
    mine = write_project_list_xlsx(root / "项目清单.xlsx", [[1, "我的项目", "内容", "区卫健局", "", "", ""]])
    before = mine.read_bytes()
    with pytest.raises(ShixiangError, match="项目清单.xlsx"):
        init_workspace(root, "yanzhou-2026")
    assert mine.read_bytes() == before and not (root / "shixiang.toml").exists()


def test_init_force_keeps_the_secret(workspace):
    secret = workspace.secret()
    init_workspace(workspace.root, "yanzhou-2024", force=True)
    assert workspace.secret() == secret
    assert load_context(workspace.root).config.year == 2024


def test_unknown_example(tmp_path):
    with pytest.raises(ShixiangError, match="yanzhou-2026"):
        init_workspace(tmp_path / "x", "beijing-2030")
    assert not (tmp_path / "x").exists()


def test_load_context_needs_the_workbooks(workspace):
    workspace.project_list_path.unlink()
    with pytest.raises(ShixiangError, match="项目清单.xlsx"):
        load_context(workspace.root)


def test_load_context_reports_directory_and_list_findings_together(workspace):
    write_directory_xlsx(workspace.directory_path, [
        ["区卫生健康局", "区卫健局", "部门", "", "", "bad-mail"],
        ["区卫生健康局", "", "部门", "", "", ""],
    ])
    ctx = load_context(workspace.root)
    codes = {f.code for f in ctx.findings}
    assert {"directory-bad-email", "directory-duplicate-name", "unit-unknown"} <= codes
    assert {f.file for f in ctx.findings} == {"单位名录.xlsx", "项目清单.xlsx"}


def test_faulty_workspace_fixture(faulty_workspace):
    ws, expected = faulty_workspace
    ctx = load_context(ws.root)
    assert finding_places(ctx.findings) == {(e.code, e.sheet, e.cell) for e in expected}
    assert all(isinstance(e, Expected) for e in expected)


def test_example_units_are_all_in_the_directory(example_2026, example_2024):
    """Every unit named in either example's list resolves (nothing silently dropped)."""
    for _, directory, plist in (example_2026, example_2024):
        for p in plist.projects:
            for name in split_names(p.lead_text) + split_names(p.co_text):
                assert directory.resolve(name).kind != "unknown", (p.number, name)
            assert p.leads, p.number


def test_project_replace_keeps_frozen_dataclass(example_2026):
    p = example_2026[2].get(1)
    assert replace(p, due_month=6).end_month == 6 and p.end_month == 12


def test_a_pickled_project_comes_back_equal(example_2026):
    """The cache pickles the project list: every field comes back, an indicator whose project number differs from
    its project's included."""
    import pickle

    from shixiang_xl.projects import Indicator

    plist = example_2026[2]
    again = pickle.loads(pickle.dumps(plist, protocol=pickle.HIGHEST_PROTOCOL))
    assert again == plist and [p.indicators for p in again.projects] == [p.indicators for p in plist.projects]
    odd = replace(plist.projects[0], indicators=(Indicator(99, 1, "特殊指标", 2.5, "家", "≥", True, "某局", "注", "原文", True),
                                                 *plist.projects[0].indicators))
    assert pickle.loads(pickle.dumps(odd)) == odd and pickle.loads(pickle.dumps(odd)).indicators[0].project == 99
    empty = replace(plist.projects[0], indicators=())
    assert pickle.loads(pickle.dumps(empty)) == empty


def test_lists_are_parsed_once_and_the_signed_cache_follows_every_change(workspace, monkeypatch):
    first = load_context(workspace.root)
    cache = workspace.root / ".shixiang" / "清单缓存.bin"
    assert cache.is_file()
    import shixiang_xl.workspace as ws_mod

    calls: list[Path] = []
    real = ws_mod.load_project_list
    monkeypatch.setattr(ws_mod, "load_project_list", lambda path, d: calls.append(path) or real(path, d))
    again = load_context(workspace.root)
    assert calls == [] and again.projects == first.projects and again.directory.units == first.directory.units

    # a tampered cache (same length, one byte changed) is not trusted: the lists are parsed again
    blob = bytearray(cache.read_bytes())
    blob[-1] ^= 1
    cache.write_bytes(bytes(blob))
    assert load_context(workspace.root).projects == first.projects and len(calls) == 1

    # a changed list is parsed again, and the cache then holds the new list
    plist = replace(first.projects, projects=first.projects.projects[:3])
    from shixiang_xl.projects import write_project_list

    write_project_list(workspace.project_list_path, plist)
    changed = load_context(workspace.root)
    assert len(calls) == 2 and [p.number for p in changed.projects.projects] == [1, 2, 3]
    assert [p.number for p in load_context(workspace.root).projects.projects] == [1, 2, 3] and len(calls) == 2

    # another workspace's key does not verify this cache
    (workspace.root / ".shixiang" / "secret.key").write_text("ab" * 32, encoding="ascii")
    load_context(workspace.root)
    assert len(calls) == 3


def test_a_form_asks_for_progress_up_to_its_due_date():
    assert Period.parse("2026-03").cutoff(25) == "截至2026年3月25日"
    assert Period.parse("2026-Q1").cutoff(25) == "截至2026年3月25日"
    assert Period.parse("2026-02").cutoff(31) == "截至2026年2月底"  # due on the last day: the period's end


def test_project_list_and_directory_print_landscape_with_their_header_on_every_page(tmp_path, example_2026):
    import openpyxl

    from shixiang_xl.projects import write_project_list
    from shixiang_xl.units import write_directory

    _config, directory, plist = example_2026
    write_project_list(tmp_path / "项目清单.xlsx", plist)
    write_directory(tmp_path / "单位名录.xlsx", directory)
    for name in ("项目清单.xlsx", "单位名录.xlsx"):
        wb = openpyxl.load_workbook(tmp_path / name)
        try:
            for ws in wb.worksheets:
                assert ws.page_setup.orientation == "landscape", (name, ws.title)
                # one page wide (1 is the default, left out of the XML), as many pages long as needed
                assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth in (None, 1)
                assert ws.page_setup.fitToHeight == 0
                assert ws.print_title_rows in ("1:1", "$1:$1")
        finally:
            wb.close()
