"""Every page a 督查室 hands up, looked at as a clerk would: the 台账, the 校验报告 and the 催报名单 rendered to PDF by
LibreOffice and read back with pypdf's text positions (tests/pdflook.py), and their headings read with openpyxl.

- no character outside the page (a clipped title, a chart cut at a page break);
- each sheet's title whole on its first page;
- no page holding only a repeated header row;
- each chart whole on one page (its title and its legend on the same page);
- headings that wrap never split a bracketed phrase or a short word.
"""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pytest

import pdflook
from shixiang_xl import office
from shixiang_xl.demo import simulate_period
from shixiang_xl.merge import merge_returns
from shixiang_xl.period import Period
from shixiang_xl.status import report_status
from shixiang_xl.textnorm import display_width
from shixiang_xl.workspace import init_workspace, load_context

FEB, MAR = Period.parse("2026-02"), Period.parse("2026-03")
needs_soffice = pytest.mark.skipif(office.soffice_path() is None, reason="LibreOffice is not installed")


@pytest.fixture(scope="module")
def printed(tmp_path_factory) -> dict[str, Path]:
    """A workspace with February and March merged (March with a missing, a returned and a late unit), its
    台账, 校验报告 and 催报名单 as .xlsx, and their PDFs."""
    root = tmp_path_factory.mktemp("print")
    init_workspace(root / "ws", "yanzhou-2026")
    ctx = load_context(root / "ws")
    simulate_period(ctx, FEB)
    merge_returns(ctx, FEB)
    leads = [u for u in ctx.projects.units if ctx.projects.led_by(u)]
    simulate_period(ctx, MAR, missing=leads[4], broken=leads[7], sloppy=leads[1], late=leads[8])
    result = merge_returns(ctx, MAR)
    chase = report_status(ctx, MAR, xlsx=True).xlsx
    files = {"台账": result.ledger_path, "校验报告": result.report_path, "催报名单": chase}
    if office.soffice_path() is not None:
        pdfs = office.convert(list(files.values()), "pdf", root / "pdf")
        files.update({f"{k}.pdf": pdfs[v] for k, v in files.items() if pdfs.get(v)})
    return files


def _headings(path: Path) -> list[tuple[str, str, float]]:
    """(sheet, heading, column width) of every sheet's header row (the first row holding 序号 or 级别 …)."""
    out = []
    wb = openpyxl.load_workbook(path)
    try:
        for ws in wb.worksheets:
            for row in ws.iter_rows(min_row=1, max_row=4):
                texts = [c for c in row if isinstance(c.value, str)]
                if len(texts) >= 4 and all(len(c.value) <= 20 for c in texts):
                    for c in texts:
                        width = ws.column_dimensions[c.column_letter].width or 8.43
                        out.append((ws.title, c.value, width))
                    break
    finally:
        wb.close()
    return out


@pytest.mark.parametrize("name", ["台账", "校验报告", "催报名单"])
def test_headings_wrap_only_between_words(printed, name):
    headings = _headings(printed[name])
    assert len(headings) >= 8
    for sheet, text, width in headings:
        for line in text.split("\n"):
            # each line fits its column, so the spreadsheet never breaks it again
            assert display_width(line) + 1 <= width + 0.01, (sheet, text, width)
            assert not re.match(r"^[）)/]", line) and not re.search(r"[（(]$", line), (sheet, text)
        assert not re.search(r"（[^）]*\n", text), (sheet, text)  # a bracketed phrase stays on one line


def test_survey_result_headings_keep_their_brackets_whole(tmp_path):
    """测评结果's headings (满意率（满意+基本满意）) wrap between words only, each line within its column."""
    from shixiang_xl.demo import demo_survey

    init_workspace(tmp_path / "ws", "yanzhou-2026")
    result = demo_survey(load_context(tmp_path / "ws"), lambda line: None, count=8)
    headings = [h for h in _headings(result.result_path) if h[0] == "测评结果"]
    assert any("满意率" in text for _, text, _ in headings)
    for sheet, text, width in headings:
        for line in text.split("\n"):
            assert display_width(line) + 1 <= width + 0.01, (sheet, text, width)
        assert not re.search(r"（[^）]*\n", text), (sheet, text)


@needs_soffice
@pytest.mark.parametrize("name", ["台账", "校验报告", "催报名单"])
def test_nothing_is_printed_outside_the_page(printed, name):
    pages = pdflook.pages(printed[f"{name}.pdf"])
    assert pages
    cut = [(p.number, r.text[:20], round(r.x), round(r.x + r.width)) for p in pages for r in pdflook.outside(p)]
    assert not cut


@needs_soffice
def test_every_sheet_title_is_whole_on_its_first_page_and_no_page_is_only_a_header(printed):
    pages = pdflook.pages(printed["台账.pdf"])
    wb = openpyxl.load_workbook(printed["台账"])
    try:
        sheets = [(ws.title, ws["A1"].value, [c.value for c in ws[3] if isinstance(c.value, str)])
                  for ws in wb.worksheets]
    finally:
        wb.close()
    for name, title, header in sheets:
        compact = re.sub(r"\s+", "", title)
        first = next((p for p in pages if compact in re.sub(r"\s+", "", "".join(p.lines()))), None)
        assert first is not None, f"the title of {name} is not whole on any page: {title}"
        header_flat = [re.sub(r"\s+", "", h) for h in header]
        for page in pages:
            assert not pdflook.header_only(page, header_flat), f"page {page.number} holds only {name}'s header row"


@needs_soffice
def test_each_chart_is_whole_on_a_page_of_its_own(printed):
    pages = pdflook.pages(printed["台账.pdf"])

    def page_with(text: str) -> pdflook.Page:
        found = [p for p in pages if text in re.sub(r"\s+", "", "".join(p.lines()))]
        assert len(found) == 1, (text, [p.number for p in found])
        return found[0]

    bar = page_with("2026年3月各项目完成进度与序时进度")
    line = page_with("各项目平均完成进度与序时进度走势")
    assert bar.number != line.number
    for page, legend in ((bar, "完成进度"), (line, "序时进度（平均）")):
        runs = [r for r in page.runs if r.text == legend or r.text.endswith(legend)]
        assert runs, (page.number, legend)  # the legend, at the chart's bottom, is on the chart's page
        assert not pdflook.outside(page)


# ------------------------------------------------------------------ row heights (issue 23)
# A row of one line of 11-pt text is 22 pt in the 台账 and 20 pt in the 校验报告: 2 em. A row sized for two lines
# (about 36 pt, 3.2 em) around text LibreOffice prints on one line is the "1.8× too tall" row of issue 23: a
# one-line row may be at most 1.3 × 2 em. A row of n lines needs n × 1.44 em (Noto CJK's line, measured) and its
# margins; Excel, which wraps a little earlier, may need one line more (heights take the side that never clips).
def _row_em(lines: int) -> float:
    return 1.3 * 2.0 if lines == 1 else (lines + 1) * 1.44 + 0.5


def _sheet_bands(pdf: Path, xlsx: Path, sheet: str) -> tuple[list[pdflook.Band], list[str]]:
    """The printed body rows of one sheet (the pages whose repeated header row is that sheet's), and the text of
    every printed string cell of that sheet as openpyxl reads it (whitespace removed)."""
    wb = openpyxl.load_workbook(xlsx)
    try:
        ws = wb[sheet]
        header_row = next(r for r in range(1, 6) if sum(isinstance(c.value, str) for c in ws[r]) >= 4)
        header = "".join(re.sub(r"\s+", "", c.value) for c in ws[header_row] if isinstance(c.value, str)
                         and not ws.column_dimensions[c.column_letter].hidden)
        texts = [re.sub(r"\s+", "", c.value) for row in ws.iter_rows(min_row=header_row + 1) for c in row
                 if isinstance(c.value, str) and c.value.strip()
                 and not ws.column_dimensions[c.column_letter].hidden]
    finally:
        wb.close()
    bands = pdflook.bands(pdf)
    pages = {b.page for b in bands if re.sub(r"\s+", "", "".join(b.cells)) == header}
    body = [b for b in bands if b.page in pages and re.sub(r"\s+", "", "".join(b.cells)) != header]
    return body, texts


@needs_soffice
@pytest.mark.parametrize("name, sheet", [("台账", "指标明细"), ("台账", "报送情况"), ("校验报告", "单位汇总"),
                                         ("校验报告", "问题明细")])
def test_rows_are_as_tall_as_the_lines_they_print_and_clip_nothing(printed, name, sheet):
    body, texts = _sheet_bands(printed[f"{name}.pdf"], printed[name], sheet)
    assert len(body) >= 3, (name, sheet)
    too_tall = [(b.page, b.lines, round(b.height / b.size, 2), b.cells[:3]) for b in body
                if b.height / b.size > _row_em(b.lines)]
    assert not too_tall, too_tall
    cut = [(b.page, r.text) for b in body for r in pdflook.clipped(b)]
    assert not cut, cut
    printed_cells = {re.sub(r"\s+", "", c) for b in body for c in b.cells}
    # A note under the table (merged, no borders) is in no row: it is looked for in its page's text.
    page_text = re.sub(r"\s+", "", "".join("".join(p.lines()) for p in pdflook.pages(printed[f"{name}.pdf"])
                                           if p.number in {b.page for b in body}))
    missing = [t for t in texts if t not in printed_cells and (len(t) < 40 or t not in page_text)]
    assert not missing, missing  # every cell's text printed whole, in one cell of one row


PROGRESS_60 = ("已完成选址论证和施工招标，三处卫生室主体完工，两处正在装修，预计五月底前全部投入使用并完成验收工作，"
               "同步配齐医务人员和常")


@pytest.fixture(scope="module")
def typed_forms(tmp_path_factory) -> list[tuple[Path, int, int]]:
    """Blank March forms of a lead unit and a town, a 60-character 进展情况 (配合工作进展) typed into every one of
    their free-text cells with openpyxl, and their PDFs: (pdf, free-text cells with a row of their own, all
    free-text cells)."""
    from shixiang_xl.generate import generate_workbooks

    assert len(PROGRESS_60) == 60
    root = tmp_path_factory.mktemp("forms")
    init_workspace(root / "ws", "yanzhou-2026")
    ctx = load_context(root / "ws")
    units = ["区应急管理局", "兴隆庄街道"]
    generate_workbooks(ctx, MAR, units, out=root / "blank", processes=1)
    typed = []
    for path in sorted((root / "blank").glob("*.xlsx")):
        wb = openpyxl.load_workbook(path)
        own = total = 0
        for ws in wb.worksheets:
            heads = {c.value: c.column for c in ws[3] if isinstance(c.value, str)}
            col = heads.get("进展情况") or heads.get("配合工作进展")
            if col is None:
                continue
            merged_tops = {m.min_row for m in ws.merged_cells.ranges if m.min_col == col}
            for r in range(4, ws.max_row + 1):
                cell = ws.cell(r, col)
                if cell.__class__.__name__ != "MergedCell" and not cell.protection.locked:
                    cell.value = PROGRESS_60
                    own += r not in merged_tops
                    total += 1
        out = root / "typed" / path.name
        out.parent.mkdir(exist_ok=True)
        wb.save(out)
        wb.close()
        typed.append((out, own, total))
    assert len(typed) == len(units)
    if office.soffice_path() is None:
        return typed
    pdfs = office.convert([p for p, _, _ in typed], "pdf", root / "pdf")
    return [(pdfs[p], own, total) for p, own, total in typed]


@needs_soffice
def test_a_60_character_progress_text_typed_into_a_blank_form_prints_whole(typed_forms):
    """Issue 23: a 60-character 进展情况 in a form's row of its own prints whole in LibreOffice (which keeps the
    row height the file has), not clipped at its top and bottom; merged ones print whole too."""
    own_rows = 0
    for pdf, own, total in typed_forms:
        bands = pdflook.bands(pdf)
        holding = [b for b in bands if PROGRESS_60 in b.cells]
        assert len(holding) == own, (pdf.name, len(holding), own)
        for band in holding:
            assert not pdflook.clipped(band), (pdf.name, [r.text for r in pdflook.clipped(band)])
        own_rows += own
        # A merged one runs down several rows: its column's text, row after row, holds it whole.
        found = 0
        for page in sorted({b.page for b in bands}):
            rows = sorted((b for b in bands if b.page == page), key=lambda b: -b.top)
            width = max(len(b.cells) for b in rows)
            for c in range(width):
                found += "".join(b.cells[c] for b in rows if c < len(b.cells)).count(PROGRESS_60)
        assert found == total, (pdf.name, found, total)
    assert own_rows >= 2
