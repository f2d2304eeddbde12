"""满意度测评: choices, hand-computed rates, every invalid case, double entry, files from clerks, the print."""

from __future__ import annotations

import datetime as dt

import io
import re
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from shixiang_xl import office
from shixiang_xl.ballots import CHOICES, SurveyItem, ballot_label, make_ballots, write_entry_workbook
from shixiang_xl.demo import demo_survey
from shixiang_xl.entries import EntryRow, EntrySheet, Mark, parse_ballot_id, parse_choice, read_entry_file
from shixiang_xl.errors import ShixiangError
from shixiang_xl.findings import Severity
from shixiang_xl.meta import read_meta
from shixiang_xl.tally import count_ballots, load_tally, result_path, tally_survey
from shixiang_xl.workspace import Context, init_workspace, load_context

needs_soffice = pytest.mark.skipif(office.soffice_path() is None, reason="LibreOffice is not installed")


@pytest.fixture()
def ctx(tmp_path: Path) -> Context:
    init_workspace(tmp_path / "ws", "yanzhou-2026")
    return load_context(tmp_path / "ws")


def _read(path: Path) -> dict[str, list[list[object]]]:
    import python_calamine

    with python_calamine.CalamineWorkbook.from_path(str(path)) as wb:
        return {n: wb.get_sheet_by_name(n).to_python(skip_empty_area=False) for n in wb.sheet_names}


ITEMS = (SurveyItem("P01", 1, "甲项目", "区甲局"), SurveyItem("P02", 2, "乙项目", "区乙局"),
         SurveyItem("P03", 3, "丙项目", "区丙局"))


def _sheet(file: str, rows: dict[int, tuple[object, ...]], *, first: int = 1, last: int = 20,
           extra: tuple[tuple[object, tuple[object, ...]], ...] = ()) -> EntrySheet:
    """An entry sheet as the reader would give it: ballot k on sheet row 3 + k, 补录 rows after the range."""
    out = [EntryRow(3 + b, b, tuple(rows.get(b, ()))) for b in range(first, last + 1)]
    base = 3 + last + 2
    out += [EntryRow(base + i, number, tuple(values), extra=True) for i, (number, values) in enumerate(extra)]
    return EntrySheet(file, first, last, tuple(out))


def _codes(findings) -> list[str]:
    return [f.code for f in findings]


# ------------------------------------------------------------------ reading a cell


@pytest.mark.parametrize(("value", "mark", "canon"), [
    ("满意", Mark.SATISFIED, "满意"),
    (" 基本满意 ", Mark.BASIC, "基本满意"),
    ("不满意", Mark.UNSATISFIED, "不满意"),
    ("滿意", Mark.SATISFIED, "满意"),  # traditional characters
    ("满意、满意", Mark.SATISFIED, "满意"),  # the same tick twice is still one choice
    ("空白", Mark.BLANK, "空白"),
    ("弃权", Mark.BLANK, "空白"),
    ("满意、不满意", Mark.MULTIPLE, "满意、不满意"),
    ("满意/基本满意", Mark.MULTIPLE, "满意、基本满意"),
    ("基本满意，满意", Mark.MULTIPLE, "满意、基本满意"),
    ("满意不满意", Mark.MULTIPLE, "满意、不满意"),
    ("多选", Mark.MULTIPLE, "多选"),
    ("√", Mark.INVALID, "√"),
    ("很满意", Mark.INVALID, "很满意"),
    ("满意空白", Mark.INVALID, "满意空白"),
    (1.0, Mark.INVALID, "1"),
])
def test_parse_choice(value: object, mark: Mark, canon: str) -> None:
    choice = parse_choice(value)
    assert (choice.mark, choice.canon) == (mark, canon)
    assert not choice.empty


@pytest.mark.parametrize("value", [None, "", "   ", "\u3000"])
def test_empty_cell_is_an_abstention(value: object) -> None:
    choice = parse_choice(value)
    assert choice.mark is Mark.BLANK and choice.empty and choice.canon == "空白"


@pytest.mark.parametrize(("value", "expected"), [
    (7.0, 7), (7, 7), ("007", 7), ("No.012", 12), ("第12号", 12), ("１２", 12),
    (7.5, None), (0, None), ("", None), (None, None), ("12-1", None), ("abc", None), (True, None),
])
def test_parse_ballot_id(value: object, expected: int | None) -> None:
    assert parse_ballot_id(value) == expected


# ------------------------------------------------------------------ counting


def test_rates_for_a_hand_computed_case() -> None:
    s, b, u, e = "满意", "基本满意", "不满意", "空白"
    rows = {
        # ballot: (甲, 乙, 丙)
        1: (s, s, s), 2: (s, s, s), 3: (s, s, s), 4: (s, s, s), 5: (s, s, s),
        6: (s, b, s), 7: (b, b, s), 8: (b, b, s), 9: (u, b, s), 10: (e, "满意、不满意", u),
    }
    tally = count_ballots([_sheet("a.xlsx", rows, last=12)], ITEMS, threshold=90, year=2026)
    a, bb, c = tally.projects
    # 甲: 满意 6, 基本满意 2, 不满意 1, 弃权 1 → 9 valid; 满意票占比 6/9, 满意率 8/9 = 88.9% < 90%.
    assert (a.satisfied, a.basic, a.unsatisfied, a.abstain, a.invalid, a.valid) == (6, 2, 1, 1, 0, 9)
    assert a.satisfied_share == pytest.approx(6 / 9) and a.satisfaction_rate == pytest.approx(8 / 9)
    assert a.below_threshold is True
    # 乙: 满意 5, 基本满意 4, 一项多选无效 → 9 valid; 满意率 100%.
    assert (bb.satisfied, bb.basic, bb.unsatisfied, bb.abstain, bb.invalid, bb.valid) == (5, 4, 0, 0, 1, 9)
    assert bb.satisfaction_rate == 1.0 and bb.satisfied_share == pytest.approx(5 / 9)
    # 丙: 9 of 10 satisfied → exactly 90%: on the line is not below it.
    assert (c.satisfied, c.unsatisfied, c.valid) == (9, 1, 10)
    assert c.satisfaction_rate == pytest.approx(0.9) and c.below_threshold is False
    assert [p.rank for p in tally.projects] == [3, 1, 2]
    o = tally.overall
    assert (o.satisfied, o.basic, o.unsatisfied, o.abstain, o.invalid, o.valid) == (20, 6, 2, 1, 1, 28)
    assert o.satisfaction_rate == pytest.approx(26 / 28)
    assert (tally.issued, tally.returned, tally.counted, tally.outside) == (12, 10, 10, 0)
    assert tally.complete and not tally.discrepancies
    assert [p.number for p in tally.below] == [1]


def test_equal_scores_share_a_rank_and_no_votes_has_none() -> None:
    rows = {1: ("满意", "满意", "空白"), 2: ("不满意", "不满意", "空白")}
    tally = count_ballots([_sheet("a.xlsx", rows, last=2)], ITEMS)
    assert [p.rank for p in tally.projects] == [1, 1, None]
    assert tally.projects[2].satisfaction_rate is None and tally.projects[2].below_threshold is None


def test_every_invalid_case_is_a_finding_that_names_its_cell() -> None:
    rows = {
        1: ("满意", "满意", "满意"),
        2: ("满意", None, "基本满意"),  # item left blank → abstention
        3: ("满意/基本满意", "满意", "满意"),  # two choices → that item invalid
        4: ("满意", "√", "满意"),  # unreadable → that item invalid
        5: ("满意", "满意", "满意"),  # also entered again below (duplicate) → both out
    }
    extra = ((5, ("不满意", "不满意", "不满意")),  # duplicate number
             (99, ("满意", "满意", "满意")),  # outside 1–20
             ("abc", ("满意", "满意", "满意")),  # unreadable number
             (None, ()))  # an unused 补录 row
    tally = count_ballots([_sheet("clerk.xlsx", rows, extra=extra)], ITEMS)
    by_code = {f.code: f for f in tally.findings}
    assert sorted(by_code) == ["ballot-blank-item", "ballot-duplicate", "ballot-id-invalid",
                               "ballot-invalid-choice", "ballot-multiple-choice", "ballot-out-of-range"]
    assert len(tally.findings) == 6

    blank = by_code["ballot-blank-item"]
    assert (blank.file, blank.sheet, blank.cell) == ("clerk.xlsx", "录入", "C6")  # ballot 2 on row 6, item 2
    assert blank.severity is Severity.INFO and "第 2 号票" in blank.message and "弃权" in blank.message
    multiple = by_code["ballot-multiple-choice"]
    assert multiple.cell == "B7" and "满意/基本满意" in multiple.message and "无效" in multiple.message
    assert by_code["ballot-invalid-choice"].cell == "C8" and "√" in by_code["ballot-invalid-choice"].message
    dup = by_code["ballot-duplicate"]
    assert dup.severity is Severity.ERROR and "票号 5" in dup.message and "9、26" in dup.message
    assert "99" in by_code["ballot-out-of-range"].message and "1–20" in by_code["ballot-out-of-range"].message
    assert "abc" in by_code["ballot-id-invalid"].message

    a, b, c = tally.projects
    # Counted ballots: 1, 2, 3, 4 (5 is a duplicate; 99 and "abc" are outside).
    assert tally.counted == 4 and tally.returned == 5 and tally.outside == 2
    assert (a.satisfied, a.invalid, a.valid) == (3, 1, 3)
    assert (b.satisfied, b.abstain, b.invalid, b.valid) == (2, 1, 1, 2)
    assert (c.satisfied, c.basic, c.valid) == (3, 1, 4)


def test_double_entry_agreeing_counts_each_ballot_once() -> None:
    rows = {1: ("满意", "满意", "不满意"), 2: ("基本满意", "", "满意"), 3: ("空白", "满意", "满意")}
    same = dict(rows)
    same[2] = ("基本满意", "空白", "满意")  # empty and 空白 both mean an abstention: no discrepancy
    tally = count_ballots([_sheet("甲.xlsx", rows), _sheet("乙.xlsx", same)], ITEMS)
    assert tally.complete and not tally.discrepancies
    assert tally.counted == 3 and tally.projects[0].valid == 2


def test_double_entry_discrepancy_lists_both_values_and_blocks() -> None:
    a = {1: ("满意", "满意", "满意"), 2: ("满意", "基本满意", "满意"), 3: ("满意", "满意", "满意")}
    b = dict(a)
    b[2] = ("满意", "不满意", "满意")
    tally = count_ballots([_sheet("甲.xlsx", a), _sheet("乙.xlsx", b)], ITEMS)
    assert not tally.complete
    (d,) = tally.discrepancies
    assert (d.ballot, d.item) == (2, "P02")
    assert [(v.file, v.cell, v.text) for v in d.values] == [("甲.xlsx", "C6", "基本满意"), ("乙.xlsx", "C6", "不满意")]
    (f,) = [f for f in tally.findings if f.code == "entry-discrepancy"]
    assert f.severity is Severity.ERROR
    assert "第 2 号票" in f.message and "甲.xlsx" in f.message and "乙.xlsx" in f.message
    assert "「基本满意」" in f.message and "「不满意」" in f.message and "--prefer" in f.message
    assert tally.counted == 2  # the disputed ballot is not counted while unresolved

    preferred = count_ballots([_sheet("甲.xlsx", a), _sheet("乙.xlsx", b)], ITEMS, prefer="乙.xlsx")
    assert preferred.complete and preferred.counted == 3
    assert preferred.discrepancies[0].resolved_by == "乙.xlsx"
    assert preferred.projects[1].unsatisfied == 1
    assert [f.severity for f in preferred.findings if f.code == "entry-discrepancy"] == [Severity.INFO]


def test_a_ballot_one_clerk_skipped_is_a_discrepancy() -> None:
    a = {k: ("满意", "满意", "满意") for k in range(1, 7)}
    b = {k: v for k, v in a.items() if k != 4}
    tally = count_ballots([_sheet("甲.xlsx", a), _sheet("乙.xlsx", b)], ITEMS)
    (d,) = tally.unresolved
    assert d.ballot == 4 and d.item == "" and [v.text for v in d.values] == ["已录入", "（未录入）"]
    assert tally.counted == 5
    kept = count_ballots([_sheet("甲.xlsx", a), _sheet("乙.xlsx", b)], ITEMS, prefer="甲.xlsx")
    assert kept.complete and kept.counted == 6
    dropped = count_ballots([_sheet("甲.xlsx", a), _sheet("乙.xlsx", b)], ITEMS, prefer="乙.xlsx")
    assert dropped.complete and dropped.counted == 5


def test_clerks_who_split_the_batch_are_not_double_entry() -> None:
    a = {k: ("满意", "满意", "满意") for k in range(1, 11)}
    b = {k: ("基本满意", "满意", "满意") for k in range(11, 21)}
    tally = count_ballots([_sheet("上半.xlsx", a), _sheet("下半.xlsx", b)], ITEMS)
    assert tally.complete and tally.counted == 20 and not tally.discrepancies
    assert (tally.projects[0].satisfied, tally.projects[0].basic) == (10, 10)


def test_nothing_entered_is_not_complete() -> None:
    tally = count_ballots([_sheet("a.xlsx", {})], ITEMS)
    assert tally.counted == 0 and not tally.complete


# ------------------------------------------------------------------ workbooks


def test_ballots_and_entry_workbook(ctx: Context) -> None:
    made = make_ballots(ctx, 12)
    assert made.ballots.parent == ctx.workspace.root / "outbox" / "2026年满意度测评"
    assert (made.first, made.last, made.count, made.pdf) == (1, 12, 12, None)

    with zipfile.ZipFile(made.ballots) as zf:
        sheet_xml = zf.read("xl/worksheets/sheet1.xml").decode()
        workbook_xml = zf.read("xl/workbook.xml").decode()
    assert re.search(r'<rowBreaks count="11"', sheet_xml)  # a page break before every ballot but the first
    assert 'orientation="portrait"' in sheet_xml and 'paperSize="9"' in sheet_xml
    assert "lockStructure" in workbook_xml
    cells = [v for row in _read(made.ballots)["测评票"] for v in row if isinstance(v, str)]
    assert "2026年区政府十件民生实事完成情况满意度测评票" in cells
    assert [c for c in cells if c.startswith("编号：")] == [f"编号：{k:03d}" for k in range(1, 13)]
    assert not [c for c in cells if "shixiang" in c or "No." in c]  # nothing a clerk cannot read
    assert cells.count("提升乡村医疗服务能力") == 12

    sheets = _read(made.entry)
    assert list(sheets)[:2] == ["录入", "_meta"]
    meta = read_meta(sheets["_meta"], ctx.workspace.secret())
    assert meta is not None and meta.valid
    assert (meta.get("kind"), meta.get("year"), meta.get("first"), meta.get("last")) == ("survey-entry", 2026, 1, 12)
    assert meta.get("workspace") == ctx.workspace.workspace_id
    assert meta.get("projects") == [p.key for p in ctx.projects.projects]
    rows = sheets["录入"]
    assert rows[3][0] == "票号" and rows[3][1] == "1. 提升乡村医疗服务能力"
    assert [rows[4 + k][0] for k in range(12)] == [float(k) for k in range(1, 13)]
    with zipfile.ZipFile(made.entry) as zf:
        entry_xml = zf.read("xl/worksheets/sheet1.xml").decode()
    assert "<sheetProtection" in entry_xml
    assert '"满意,基本满意,不满意,空白"' in entry_xml  # the dropdown


def test_make_ballots_refuses_a_bad_count(ctx: Context) -> None:
    with pytest.raises(ShixiangError):
        make_ballots(ctx, 0)


@needs_soffice
def test_ballot_pdf_has_one_page_per_ballot(ctx: Context, tmp_path: Path) -> None:
    made = make_ballots(ctx, 5, tmp_path / "ballots")
    pdf = office.convert([made.ballots], "pdf", tmp_path / "pdf")[made.ballots]
    assert pdf is not None
    info = office.pdf_info(pdf)
    assert info.pages == 5
    assert info.all_pages("A4", landscape=False)
    for k, text in enumerate(info.texts, start=1):
        flat = re.sub(r"\s+", "", text)
        assert ballot_label(k) in flat, f"page {k} lacks its ballot number"
        assert "满意度测评票" in flat and "意见建议" in flat
        others = [ballot_label(j) for j in range(1, 6) if j != k]
        assert not any(o in flat for o in others)

    printed = make_ballots(ctx, 3, tmp_path / "printed", pdf=True)
    assert printed.pdf is not None and office.pdf_info(printed.pdf).pages == 3


def _entries(ctx: Context, seed: int, count: int) -> dict[int, list[str]]:
    import random

    rng = random.Random(seed)
    n = len(ctx.projects.projects)
    return {k: [rng.choice(CHOICES) for _ in range(n)] for k in range(1, count + 1)}


def test_tally_files_refuses_discrepancy_then_prefer_then_corrected(ctx: Context, tmp_path: Path) -> None:
    entries = _entries(ctx, 1, 8)
    a, b = tmp_path / "录入-甲.xlsx", tmp_path / "录入-乙.xlsx"
    write_entry_workbook(ctx, a, 1, 10, entries=entries, clerk="甲")
    wrong = {k: list(v) for k, v in entries.items()}
    wrong[5][2] = "不满意" if entries[5][2] != "不满意" else "满意"
    write_entry_workbook(ctx, b, 1, 10, entries=wrong, clerk="乙")

    refused = tally_survey(ctx, [a, b])
    assert not refused.complete and refused.result_path is None
    assert not result_path(ctx).exists()
    assert any("不一致" in x for x in refused.blockers)
    (f,) = [f for f in refused.findings if f.code == "entry-discrepancy"]
    assert (f.file, f.sheet, f.cell) == ("录入-甲.xlsx", "录入", "D9")
    assert f"「{entries[5][2]}」" in f.message and f"「{wrong[5][2]}」" in f.message
    assert refused.check_path is not None and refused.check_path.exists()
    check = _read(refused.check_path)["录入核对"]
    assert [r[2] for r in check[1:3]] == ["录入-甲.xlsx", "录入-乙.xlsx"]
    assert load_tally(ctx.workspace, 2026) == {}

    preferred = tally_survey(ctx, [a, b], prefer=a)
    assert preferred.complete and preferred.result_path == result_path(ctx)
    write_entry_workbook(ctx, b, 1, 10, entries=entries, clerk="乙")
    corrected = tally_survey(ctx, [a, b])
    assert corrected.complete and not corrected.tally.discrepancies

    # The published numbers, read back from the result workbook and from the store.
    expected = {}
    for i, p in enumerate(ctx.projects.projects):
        votes = [entries[k][i] for k in entries]
        expected[p.number] = (votes.count("满意"), votes.count("基本满意"), votes.count("不满意"))
    table = _read(corrected.result_path)["测评结果"]
    today = dt.date.today()
    assert str(table[1][0]).endswith(f"{today.year}年{today.month}月{today.day}日")  # no leading zeros (公文 style)
    by_number = {int(r[0]): r for r in table[3:3 + len(expected)]}
    for number, (s, bs, u) in expected.items():
        row = by_number[number]
        assert row[3:6] == [float(s), float(bs), float(u)]
        assert row[8] == s + bs + u
        assert row[10] == pytest.approx((s + bs) / (s + bs + u))
        assert row[12] == ("否" if (s + bs) / (s + bs + u) * 100 < 90 else "是")
    saved = load_tally(ctx.workspace, 2026)
    assert {n: (r.satisfied, r.basic, r.unsatisfied) for n, r in saved.items()} == expected
    assert saved == load_tally(ctx.workspace.root, 2026)
    assert {n: r.rank for n, r in saved.items()} == {p.number: p.rank for p in corrected.tally.projects}
    assert load_tally(ctx.workspace, 2025) == {}
    # The ledger reads each project's figures mapping-style.
    first = saved[1]
    assert f"第 {first.rank} 名" in first.text
    with zipfile.ZipFile(corrected.result_path) as zf:
        assert any(n.startswith("xl/charts/chart") for n in zf.namelist())
        assert 'orientation="landscape"' in zf.read("xl/worksheets/sheet1.xml").decode()


def test_tally_reads_a_workbook_a_clerk_filled_in_another_program(ctx: Context, tmp_path: Path) -> None:
    import openpyxl

    made = make_ballots(ctx, 6, tmp_path / "out")
    filled = tmp_path / "filled.xlsx"
    wb = openpyxl.load_workbook(made.entry)
    ws = wb["录入"]
    n = len(ctx.projects.projects)
    for k in range(1, 5):  # ballots 1–4 returned; 5 and 6 not
        for c in range(n):
            ws.cell(row=4 + k, column=2 + c, value="满意")
    typed = ws.cell(row=5, column=2, value="=1+1")  # a person's text that looks like a formula
    typed.data_type = "s"
    ws.cell(row=6, column=3, value="满意、不满意")
    ws.cell(row=8, column=4).value = None  # (value=None in cell() would leave the old value)
    extra_row = 4 + 6 + 2  # label row after the 6 ballots, then the first 补录 row (1-based)
    ws.cell(row=extra_row, column=1, value="003")
    for c in range(n):
        ws.cell(row=extra_row, column=2 + c, value="不满意")
    ws["B3"] = "张敏"
    wb.save(filled)
    wb.close()

    sheet, found = read_entry_file(ctx, filled)
    assert found == [] and sheet is not None and sheet.clerk == "张敏"
    result = tally_survey(ctx, [filled])
    codes = _codes(result.findings)
    assert codes.count("ballot-duplicate") == 1 and "ballot-multiple-choice" in codes
    assert "ballot-blank-item" in codes and "ballot-invalid-choice" in codes
    assert result.complete  # invalid ballots and items are findings; the rest is counted
    assert result.tally.counted == 3  # 1, 2, 4 (ballot 3 is a duplicate)
    assert result.tally.projects[0].invalid == 1  # the "=1+1" entry
    problems = _read(result.result_path)["问题清单"]
    assert problems[0][0].endswith("——录入问题清单")  # the sheet has its title
    assert problems[1][:2] == ["级别", "问题"] and "测评票编号重复" in {r[1] for r in problems[2:]}
    assert any("=1+1" in str(v) for row in problems for v in row)  # kept as text, never as a formula
    with zipfile.ZipFile(result.result_path) as zf:
        assert all("<f>" not in zf.read(n).decode() for n in zf.namelist() if n.startswith("xl/worksheets/"))


def test_bad_files_are_findings_never_crashes(ctx: Context, tmp_path: Path) -> None:
    good = tmp_path / "good.xlsx"
    write_entry_workbook(ctx, good, 1, 5, entries=_entries(ctx, 2, 5))
    garbage = tmp_path / "garbage.xlsx"
    garbage.write_bytes(b"hello, not a workbook")
    empty = tmp_path / "empty.xlsx"
    empty.write_bytes(b"")
    truncated = tmp_path / "truncated.xlsx"
    truncated.write_bytes(good.read_bytes()[:400])
    not_ours = ctx.workspace.project_list_path
    result = tally_survey(ctx, [good, garbage, empty, truncated, not_ours])
    codes = {f.file: f.code for f in result.findings if f.is_error}
    assert codes == {"garbage.xlsx": "file-not-spreadsheet", "empty.xlsx": "file-empty",
                     "truncated.xlsx": "file-corrupt", "项目清单.xlsx": "meta-missing"}
    assert not result.complete and result.result_path is None
    assert "4 个文件无法使用" in result.blockers[0]

    again = tally_survey(ctx, [good, good.parent / "." / good.name])
    assert _codes(again.findings).count("duplicate-file") == 1 and again.complete


def test_entry_workbooks_from_elsewhere_are_refused(ctx: Context, tmp_path: Path) -> None:
    import openpyxl

    other_year = replace(ctx, config=replace(ctx.config, year=2025))
    write_entry_workbook(other_year, tmp_path / "2025.xlsx", 1, 5, entries=_entries(ctx, 3, 5))
    fewer = replace(ctx, projects=replace(ctx.projects, projects=ctx.projects.projects[:-1]))
    write_entry_workbook(fewer, tmp_path / "fewer.xlsx", 1, 5)
    init_workspace(tmp_path / "other", "yanzhou-2026")
    write_entry_workbook(load_context(tmp_path / "other"), tmp_path / "other.xlsx", 1, 5)
    write_entry_workbook(ctx, tmp_path / "tampered.xlsx", 1, 5, entries=_entries(ctx, 3, 5))
    wb = openpyxl.load_workbook(tmp_path / "tampered.xlsx")
    wb["_meta"]["B2"] = wb["_meta"]["B2"].value.replace('"last":5', '"last":500')
    wb.save(tmp_path / "tampered.xlsx")
    wb.close()
    write_entry_workbook(ctx, tmp_path / "moved.xlsx", 1, 5)
    wb = openpyxl.load_workbook(tmp_path / "moved.xlsx")
    wb["录入"].insert_cols(2)
    wb.save(tmp_path / "moved.xlsx")
    wb.close()

    expected = {"2025.xlsx": "entry-other-year", "fewer.xlsx": "entry-projects-changed",
                "other.xlsx": "meta-other-workspace", "tampered.xlsx": "meta-forged",
                "moved.xlsx": "entry-layout-changed"}
    for name, code in expected.items():
        sheet, found = read_entry_file(ctx, tmp_path / name)
        assert sheet is None and _codes(found) == [code], name
        assert found[0].file == name and found[0].message


def test_hostile_workbooks_are_refused_before_parsing(ctx: Context, tmp_path: Path) -> None:
    import xlsxwriter

    far = tmp_path / "far.xlsx"
    wb = xlsxwriter.Workbook(str(far))
    wb.add_worksheet().write_string(1_048_575, 16_383, "x")  # XFD1048576 makes calamine abort the process
    wb.close()
    sheet, found = read_entry_file(ctx, far)
    assert sheet is None and _codes(found) == ["cell-out-of-range"]

    bomb = tmp_path / "bomb.xlsx"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"<" + b" " * 5_000_000 + b"/>")
    bomb.write_bytes(buffer.getvalue())
    sheet, found = read_entry_file(ctx, bomb)
    assert sheet is None and _codes(found) == ["zip-bomb"]


@needs_soffice
def test_entry_saved_as_xls_is_converted_and_read(ctx: Context, tmp_path: Path) -> None:
    src = tmp_path / "entry.xlsx"
    entries = _entries(ctx, 4, 4)
    write_entry_workbook(ctx, src, 1, 4, entries=entries)
    xls = office.convert([src], "xls", tmp_path / "wps")[src]
    assert xls is not None
    sheet, found = read_entry_file(ctx, xls)
    # python-calamine reads the .xls itself; LibreOffice converts only what it cannot read
    assert all(f.severity is not Severity.ERROR for f in found) and sheet is not None
    assert [list(r.values) for r in sheet.rows if r.values and r.values[0]] == [entries[k] for k in range(1, 5)]


def test_cli_ballots_and_tally(ctx: Context, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from shixiang_xl.cli import main

    root = str(ctx.workspace.root)
    runner = CliRunner()
    made = runner.invoke(main, ["-w", root, "survey", "ballots", "--count", "4"])
    assert made.exit_code == 0, made.output
    assert "测评票 4 张" in made.output
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    entries = _entries(ctx, 5, 4)
    write_entry_workbook(ctx, a, 1, 4, entries=entries)
    other = {k: list(v) for k, v in entries.items()}
    other[2][0] = "空白" if entries[2][0] != "空白" else "满意"
    write_entry_workbook(ctx, b, 1, 4, entries=other)
    refused = runner.invoke(main, ["-w", root, "survey", "tally", str(a), str(b)])
    assert refused.exit_code == 1
    assert "entry-discrepancy" in refused.output and "测评结果未生成" in refused.output
    done = runner.invoke(main, ["-w", root, "survey", "tally", str(a), str(b), "--prefer", str(b)])
    assert done.exit_code == 0, done.output
    assert "合计" in done.output and "满意度测评结果.xlsx" in done.output
    outside = runner.invoke(main, ["-w", root, "survey", "tally", str(a), "--prefer", str(b)])
    assert outside.exit_code == 2 and "--prefer" in outside.output


def test_load_tally_without_a_store_creates_nothing(tmp_path: Path) -> None:
    init_workspace(tmp_path / "ws", "yanzhou-2026")
    assert load_tally(tmp_path / "ws", 2026) == {}
    assert not (tmp_path / "ws" / "shixiang.db").exists()


def test_demo_survey_shows_the_discrepancy_and_finishes(ctx: Context) -> None:
    lines: list[str] = []
    result = demo_survey(ctx, lines.append, count=12)
    text = "\n".join(lines)
    assert "比对发现不一致" in text and "改正" in text
    assert result.complete and result.result_path is not None and result.result_path.exists()
    assert load_tally(ctx.workspace, ctx.config.year)
