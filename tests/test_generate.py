"""``shixiang generate``: one standard, protected, self-checking report workbook per unit and period.

What is proven here, against the 2026 example workspace:

* the command: every unit that leads or co-leads a project gets a workbook (24, the 10 towns of 各镇街 each their
  own), month and quarter periods, ``--unit`` with full names, aliases and group words, Windows-valid file names,
  the printed table of units and files;
* the workbook: sheets and their order, the instructions sheet (title, period, due date, contact, how to fill in,
  status meanings, the red→green self-check banner), headings from the template spec, locked pre-filled content,
  the 完成率 formula, the status drop-down, the 协办事项 sheet with split indicators' own shares;
* protection: every input cell unlocked, marked and validated, every other cell locked, every sheet protected (no
  password by default), the workbook structure locked, the very hidden ``_meta`` sheet signed per workspace;
* print: A4 landscape, fit to width, header row repeated, 第 X 页 共 Y 页 footer, row heights set;
* text from the project list is always text, even when it starts with ``=``;
* round trips: fill with openpyxl → read back with the project's own reader gives the same values; LibreOffice
  recalculates the banner and 完成率; the PDF print is A4 landscape with the header row on every page;
* a column added to the template spec reaches the workbook and the reader without code changes.

Golden files
------------
``tests/golden/report_区卫生健康局_2026-03/`` holds every part of the workbook generated for 区卫生健康局 for
2026-03 (through ``generate_workbooks``, with a fixed secret and a fixed issue time), each XML part normalised the
way XlsxWriter's own test suite compares files: parsed, one element per line, attributes sorted, ``[Content_Types]``
entries and relationships sorted, the dates of ``docProps/core.xml`` left out. After an intended change to the
workbook (the spec, the layout, the writer, the example), regenerate them and review the diff::

    UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_generate.py -q -k golden
    git diff --stat tests/golden/

LibreOffice (``soffice``), poppler-utils and fonts-noto-cjk are installed wherever the tests run (see .ci/run);
the LibreOffice tests are never skipped.
"""

from __future__ import annotations

import datetime as dt
import difflib
import io
import os
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

import openpyxl
import pytest

from shixiang_xl.measures import is_count
from click.testing import CliRunner
from openpyxl.utils import get_column_letter

from conftest import problems
from shixiang_xl import office
from shixiang_xl.cli import main
from shixiang_xl.generate import GenerateResult, WorkbookJob, build_workbook, file_name, generate_workbooks
from shixiang_xl.intake import FileResult, IntakeContext, Source, parse_sheets, read_return
from shixiang_xl.layout import unit_layouts
from shixiang_xl.meta import META_SHEET, read_meta
from shixiang_xl.period import Period
from shixiang_xl.projects import Indicator, ProjectList, write_project_list
from shixiang_xl.spec import STATUSES, TemplateSpec, packaged_spec_text
from shixiang_xl.workspace import Context, Workspace, load_context

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"
GOLDEN_UNIT = "区卫生健康局"
GOLDEN_PERIOD = "2026-03"
FIXED_SECRET = bytes(range(32))
ISSUED_AT = "2026-03-02T09:00:00+08:00"

INPUT_FILL = "FFFFF2CC"
# Column type → the data validation type an input of that type carries (OOXML names).
VALIDATION_TYPES = {"number": "decimal", "integer": "whole", "percent": "decimal", "status": "list",
                    "text": "textLength", "phone": "textLength", "date": "date"}
TOWNS = ("鼓楼街道", "酒仙桥街道", "龙桥街道", "兴隆庄街道", "大安镇", "新驿镇", "颜店镇", "新兖镇", "漕河镇", "小孟镇")
WINDOWS_BAD = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


# ------------------------------------------------------------------ helpers


def run_cli(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def generate(ctx: Context, period: str, units: list[str] | None, out: Path) -> GenerateResult:
    return generate_workbooks(ctx, Period.parse(period), units, out, issued_at=ISSUED_AT, processes=1)


def load(path: Path):
    """openpyxl workbook (callers close it: the suite runs with warnings as errors)."""
    return openpyxl.load_workbook(path)


def sheet_rows(path: Path) -> dict[str, list[list[Any]]]:
    """Every sheet's values as python-calamine reads them (stored or recalculated results, never formula text)."""
    return parse_sheets(path.read_bytes())


def header_columns(ws, row: int = 3) -> dict[str, int]:
    """heading text (its words, without the line break it may wrap at) → 1-based column, from the header row."""
    return {ws.cell(row, c).value.replace("\n", ""): c for c in range(1, ws.max_column + 1)
            if isinstance(ws.cell(row, c).value, str)}


def field_cells(ws, spec: TemplateSpec) -> dict[str, str]:
    """Field key → the input cell right of its label on the instructions sheet (found by label, as a clerk would)."""
    out = {}
    for f in spec.fields:
        for row in ws.iter_rows(min_col=1, max_col=1):
            v = row[0].value
            if isinstance(v, str) and v.startswith(f.heading):
                out[f.key] = f"B{row[0].row}"
                break
    assert set(out) == {f.key for f in spec.fields}, out
    return out


def input_cells(ctx_spec: TemplateSpec, plist: ProjectList, unit: str) -> dict[str, dict[str, tuple[str, str]]]:
    """Sheet name → {anchor cell: (column key, row key)} of every input cell the unit fills in.

    Indicator-scope inputs sit on rows that carry an indicator; project-scope inputs on each project block's first
    row (merged down the block).
    """
    out: dict[str, dict[str, tuple[str, str]]] = {}
    for sheet, layout, _ in unit_layouts(ctx_spec, unit, plist):
        cells: dict[str, tuple[str, str]] = {}
        for slot in layout.rows:
            for c, col in enumerate(sheet.columns):
                if not col.is_input:
                    continue
                if col.scope == "indicator" and slot.indicator is None:
                    continue
                if col.scope == "project" and not slot.first:
                    continue
                key = slot.key if col.scope == "indicator" else f"P{slot.project:02d}"
                cells[f"{get_column_letter(c + 1)}{slot.row + 1}"] = (col.key, key)
        out[sheet.sheet] = cells
    return out


def required_count(spec: TemplateSpec, plist: ProjectList, unit: str) -> int:
    """How many required cells the unit must fill in (inputs on the data sheets plus required fields)."""
    n = sum(1 for f in spec.fields if f.required)
    for sheet, layout, _ in unit_layouts(spec, unit, plist):
        for slot in layout.rows:
            for col in sheet.inputs:
                if not col.required:
                    continue
                if col.scope == "indicator" and slot.indicator is not None:
                    n += 1
                elif col.scope == "project" and slot.first:
                    n += 1
    return n


FRACTIONS = (0.3, 0.45, 0.6, 0.75, 0.9, 0.2)


def sample_values(spec: TemplateSpec, plist: ProjectList, unit: str, *, extra: dict[str, object] | None = None
                  ) -> dict[tuple[str, str], dict[str, object]]:
    """Consistent, plausible inputs for every row a unit reports: (sheet kind, row key) → column key → value."""
    out: dict[tuple[str, str], dict[str, object]] = {}
    for sheet, _, blocks in unit_layouts(spec, unit, plist):
        for block in blocks:
            rates = []
            for k, ind in enumerate(block.indicators):
                if ind is None:
                    continue
                share = 1.0 if sheet.kind == "lead" else 1 / max(1, len(block.project.co_units))
                cum = round(ind.target * share * FRACTIONS[k % len(FRACTIONS)], 2)
                if is_count(ind.unit):  # realistic: counted things are whole
                    cum = float(round(cum))
                if ind.is_level:  # a level (比率, 上限): one current value, no 本期完成值
                    out[(sheet.kind, ind.key)] = {"cumulative": round(min(100.0, ind.target * 0.96), 1)}
                    rates.append(0.96)
                    continue
                rates.append(FRACTIONS[k % len(FRACTIONS)])
                out[(sheet.kind, ind.key)] = {"current": cum, "cumulative": cum}
            row: dict[str, object] = {"progress_text": f"本期召开专题推进会，{block.project.name}各项任务按计划推进，进展顺利。",
                                      "problems": "无"}
            if sheet.kind == "lead":
                progress = round(100 * sum(rates) / len(rates)) if rates else 40
                row.update(progress=progress, status="推进中", next_steps="加强调度，确保按期完成全年任务。")
            for key, value in (extra or {}).items():
                if sheet.column(key) is not None:
                    row[key] = value
            out[(sheet.kind, block.project.key)] = row
    return out


SAMPLE_FIELDS = {"reporter": "王芳", "phone": "13812345678", "reviewer": "李华", "report_date": dt.date(2026, 3, 23)}


def fill_workbook(src: Path, dst: Path, spec: TemplateSpec, plist: ProjectList, unit: str,
                  values: dict[tuple[str, str], dict[str, object]], fields: dict[str, object]) -> Path:
    """Fill a generated workbook with openpyxl, finding columns by their heading and rows by the layout."""
    wb = load(src)
    try:
        for sheet, layout, _ in unit_layouts(spec, unit, plist):
            ws = wb[sheet.sheet]
            heads = header_columns(ws)
            for slot in layout.rows:
                for col in sheet.inputs:
                    if col.scope == "project" and not slot.first:
                        continue
                    key = slot.key if col.scope == "indicator" else f"P{slot.project:02d}"
                    value = values.get((sheet.kind, key), {}).get(col.key)
                    if value is not None:
                        cell = ws.cell(slot.row + 1, heads[col.heading])
                        assert cell.protection.locked is False, (sheet.sheet, cell.coordinate, col.key)
                        cell.value = value
        info = wb[spec.info_sheet]
        cells = field_cells(info, spec)
        for key, value in fields.items():
            info[cells[key]].value = value
        dst.parent.mkdir(parents=True, exist_ok=True)
        wb.save(dst)
    finally:
        wb.close()
    return dst


def intake_context(ctx: Context, tmp_path: Path, period: str = GOLDEN_PERIOD, secret: bytes | None = None
                   ) -> IntakeContext:
    """As batch.run_batch builds it."""
    ws = ctx.workspace
    return IntakeContext(spec=ctx.spec, projects=ctx.projects, units=frozenset(u.name for u in ctx.directory.units),
                         period=Period.parse(period), secret=secret if secret is not None else ws.secret(),
                         workspace_id=ws.workspace_id, archive_dir=str(tmp_path / "archive"), history={})


def read_back(ictx: IntakeContext, path: Path) -> FileResult:
    res = FileResult(Source(str(path), path.name, "2026-03-24T10:00:00+08:00"))
    read_return(ictx, res, parse_sheets(path.read_bytes()))
    return res


def present(values: dict) -> dict:
    """The values a reader returned, without the empty ones."""
    return {k: {c: v for c, v in row.items() if v is not None} for k, row in values.items()}


def merged_anchor(ws) -> dict[str, str]:
    """Every cell inside a merged range → the range's top-left cell."""
    out = {}
    for rng in ws.merged_cells.ranges:
        anchor = f"{get_column_letter(rng.min_col)}{rng.min_row}"
        for row in range(rng.min_row, rng.max_row + 1):
            for col in range(rng.min_col, rng.max_col + 1):
                out[f"{get_column_letter(col)}{row}"] = anchor
    return out


def validated_cells(ws) -> dict[str, Any]:
    """Every cell covered by a data validation → that validation."""
    out = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            for row, col in rng.cells:
                out[f"{get_column_letter(col)}{row}"] = dv
    return out


# ------------------------------------------------------------------ golden-file normalisation

_XML_NS = "http://www.w3.org/XML/1998/namespace"
_TEXT_ESCAPES = {"\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}
_ATTR_ESCAPES = {**_TEXT_ESCAPES, '"': "&quot;"}


def normalise_xml(name: str, data: bytes) -> str:
    """One element per line, indented; attributes and namespace declarations sorted; volatile bits left out."""
    prefixes: dict[str, str] = {_XML_NS: "xml"}
    for _, (prefix, uri) in ET.iterparse(io.BytesIO(data), events=("start-ns",)):
        prefixes.setdefault(uri, prefix)
    root = ET.fromstring(data)
    if name == "docProps/core.xml":
        for child in list(root):
            if child.tag.endswith("}created") or child.tag.endswith("}modified"):
                root.remove(child)
    if name == "[Content_Types].xml":
        root[:] = sorted(root, key=lambda e: (e.tag, sorted(e.attrib.items())))
    if name.endswith(".rels"):
        root[:] = sorted(root, key=lambda e: e.get("Id", ""))

    def qname(tag: str) -> str:
        if tag.startswith("{"):
            uri, local = tag[1:].split("}", 1)
            prefix = prefixes[uri]
            return f"{prefix}:{local}" if prefix else local
        return tag

    lines = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>']

    def emit(elem: ET.Element, depth: int) -> None:
        attrs = sorted((qname(k), v) for k, v in elem.attrib.items())
        if depth == 0:
            attrs = sorted((f"xmlns:{p}" if p else "xmlns", uri) for uri, p in prefixes.items() if p != "xml") + attrs
        attr_text = "".join(f' {k}="{escape(v, _ATTR_ESCAPES)}"' for k, v in attrs)
        tag, pad = qname(elem.tag), "  " * depth
        children = list(elem)
        text = elem.text or ""
        if not children:
            lines.append(f"{pad}<{tag}{attr_text}>{escape(text, _TEXT_ESCAPES)}</{tag}>" if text
                         else f"{pad}<{tag}{attr_text}/>")
            return
        lines.append(f"{pad}<{tag}{attr_text}>")
        if text.strip():
            lines.append(f"{pad}  {escape(text, _TEXT_ESCAPES)}")
        for child in children:
            emit(child, depth + 1)
            if child.tail and child.tail.strip():
                lines.append(f"{pad}  {escape(child.tail, _TEXT_ESCAPES)}")
        lines.append(f"{pad}</{tag}>")

    emit(root, 0)
    return "\n".join(lines) + "\n"


def normalised_parts(data: bytes) -> dict[str, str]:
    """Part name → normalised text of every part of an xlsx (all of them are XML for our workbooks)."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        parts = {}
        for name in zf.namelist():
            assert name.endswith(".xml") or name.endswith(".rels"), f"unexpected non-XML part {name}"
            parts[name] = normalise_xml(name, zf.read(name))
    return parts


def golden_parts(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(folder.rglob("*")) if p.is_file()}


def assert_golden(actual: dict[str, str], folder: Path, command: str) -> None:
    """``actual`` (part name → normalised text) equals the golden files in ``folder``; with UPDATE_GOLDEN=1 they are
    rewritten from it first (``command`` is what regenerates them)."""
    if os.environ.get("UPDATE_GOLDEN") == "1":
        shutil.rmtree(folder, ignore_errors=True)
        for name, text in actual.items():
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8", newline="\n")
    expected = golden_parts(folder)
    assert expected, f"no golden files in {folder}: run UPDATE_GOLDEN=1 {command}"
    assert sorted(actual) == sorted(expected), f"the parts differ from the golden files in {folder.name}"
    for name in sorted(expected):
        if actual[name] != expected[name]:
            diff = "".join(list(difflib.unified_diff(expected[name].splitlines(True), actual[name].splitlines(True),
                                                     f"golden/{name}", f"generated/{name}"))[:80])
            pytest.fail(f"{name} differs from the golden file (UPDATE_GOLDEN=1 to accept an intended change):\n{diff}")


# ------------------------------------------------------------------ the command


def test_generate_command_writes_one_workbook_per_unit(workspace, tmp_path):
    out = tmp_path / "发文" / "2026-03"
    result = run_cli("-w", str(workspace.root), "generate", "--period", "2026-03", "--out", str(out))
    assert result.exit_code == 0, result.output
    ctx = load_context(workspace.root)
    units = ctx.projects.units
    assert len(units) == 24
    group = ctx.directory.group_members("各镇街")
    assert group is not None and tuple(u.name for u in group[1]) == TOWNS
    assert set(TOWNS) <= set(units)
    files = sorted(p.name for p in out.iterdir())
    expected = sorted(f"2026年3月_{u}_十件实事进度填报表.xlsx" for u in units)
    assert files == expected
    # Only units that lead or co-lead at least one project get a workbook.
    for u in units:
        assert ctx.projects.led_by(u) or ctx.projects.co_led_by(u)
    # The printed table: every unit and its file, and the total.
    for u in units:
        line = next((ln for ln in result.output.splitlines() if f" {u} " in ln), None)
        assert line is not None, u
        assert f"2026年3月_{u}_十件实事进度填报表.xlsx" in line
        assert re.search(rf"{u}\s+{len(ctx.projects.led_by(u))}\s+{len(ctx.projects.co_led_by(u))}\s", line), line
    assert "已生成 24 份填报表" in result.output
    # The towns co-lead only: each has its own workbook with just the 协办事项 sheet.
    wb = load(out / "2026年3月_大安镇_十件实事进度填报表.xlsx")
    try:
        assert wb.sheetnames == ["填报说明", "协办事项", META_SHEET]
        assert "大安镇" in wb["协办事项"]["A2"].value
    finally:
        wb.close()


def test_generate_command_default_folder_is_outbox(workspace):
    result = run_cli("-w", str(workspace.root), "generate", "--period", "2026-03", "--unit", "区司法局")
    assert result.exit_code == 0, result.output
    assert [p.name for p in (workspace.root / "outbox" / "2026-03").iterdir()] == \
        ["2026年3月_区司法局_十件实事进度填报表.xlsx"]


def test_file_names_are_valid_on_windows(context, tmp_path):
    result = generate(context, "2026-Q1", None, tmp_path / "out")
    assert len(result.files) == 24
    for f in result.files:
        name = f.path.name
        assert f.path.is_file()
        assert not WINDOWS_BAD.search(name), name
        assert not Path(name).stem.endswith((" ", ".")), name
        assert Path(name).stem.split(".")[0].upper() not in WINDOWS_RESERVED
        assert len(name) <= 255
        assert name == f"2026年第一季度_{f.unit}_十件实事进度填报表.xlsx"


@pytest.mark.parametrize("unit, expected", [
    ("区卫生健康局", "2026年3月_区卫生健康局_十件实事进度填报表.xlsx"),
    ('A/B\\C:D*E?F"G<H>I|J', "2026年3月_A_B_C_D_E_F_G_H_I_J_十件实事进度填报表.xlsx"),
    ("制表\t符\n单位", "2026年3月_制表_符_单位_十件实事进度填报表.xlsx"),
])
def test_file_name_replaces_windows_invalid_characters(unit, expected):
    name = file_name(Period.parse("2026-03"), unit)
    assert name == expected
    assert not WINDOWS_BAD.search(name)


def test_file_name_is_bounded_for_long_unit_names():
    name = file_name(Period.parse("2026-03"), "很长的单位名称" * 40)
    assert name.endswith(".xlsx") and len(name) <= 125


def test_generate_quarter_period(workspace, tmp_path):
    out = tmp_path / "q1"
    result = run_cli("-w", str(workspace.root), "generate", "--period", "2026-Q1", "--out", str(out),
                     "--unit", "区卫健局")
    assert result.exit_code == 0, result.output
    path = out / "2026年第一季度_区卫生健康局_十件实事进度填报表.xlsx"
    assert [p.name for p in out.iterdir()] == [path.name]
    rows = sheet_rows(path)
    assert "报送期：2026年第一季度（截至2026年3月25日）" in rows["填报说明"][2][0]  # what is due, when
    assert "报送截止：2026年3月25日" in rows["填报说明"][2][0]
    assert "报送期：2026年第一季度" in rows["进度填报"][1][0]
    ctx = load_context(workspace.root)
    meta = read_meta(rows[META_SHEET], ctx.workspace.secret())
    assert meta is not None and meta.valid and meta.get("period") == "2026-Q1"
    # Other spellings of a quarter give the same period.
    assert Period.parse("2026年第一季度") == Period.parse("2026-Q1") == Period.parse("2026q1")


def test_generate_unit_option_accepts_aliases_groups_and_repeats(workspace, tmp_path):
    out = tmp_path / "some"
    result = run_cli("-w", str(workspace.root), "generate", "--period", "2026-03", "--out", str(out),
                     "--unit", "区卫健局", "--unit", "鼓楼街道", "--unit", "区卫生健康局")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted([
        "2026年3月_区卫生健康局_十件实事进度填报表.xlsx", "2026年3月_鼓楼街道_十件实事进度填报表.xlsx"])
    assert "区卫生健康局" in result.output and "已生成 2 份填报表" in result.output

    towns = tmp_path / "towns"
    result = run_cli("-w", str(workspace.root), "generate", "--period", "2026-03", "--out", str(towns),
                     "--unit", "各镇街")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in towns.iterdir()) == sorted(f"2026年3月_{t}_十件实事进度填报表.xlsx" for t in TOWNS)


def test_generate_unit_option_errors(workspace, tmp_path):
    result = run_cli("-w", str(workspace.root), "generate", "--period", "2026-03", "--out", str(tmp_path / "x"),
                     "--unit", "区卫建局")
    assert result.exit_code == 2
    assert "不在单位名录中" in result.output and "区卫生健康局" in result.output  # suggestion
    assert "Traceback" not in result.output
    result = run_cli("-w", str(workspace.root), "generate", "--period", "2026-03", "--out", str(tmp_path / "x"),
                     "--unit", "区水务局")
    assert result.exit_code == 2 and "没有牵头或协办任何项目" in result.output
    result = run_cli("-w", str(workspace.root), "generate", "--period", "2025-03", "--out", str(tmp_path / "x"))
    assert result.exit_code == 2 and "不属于工作区的年度" in result.output
    result = run_cli("-w", str(workspace.root), "generate", "--period", "2026-13")
    assert result.exit_code == 2 and "无法识别" in result.output
    assert not (tmp_path / "x").exists() or not any((tmp_path / "x").iterdir())


# ------------------------------------------------------------------ golden file


def test_golden_workbook(workspace, monkeypatch):
    monkeypatch.setattr(Workspace, "secret", lambda self: FIXED_SECRET)
    ctx = load_context(workspace.root)
    result = generate(ctx, GOLDEN_PERIOD, [GOLDEN_UNIT], workspace.root / "golden-out")
    data = result.files[0].path.read_bytes()
    actual = normalised_parts(data)
    folder = GOLDEN_DIR / f"report_{GOLDEN_UNIT}_{GOLDEN_PERIOD}"
    assert_golden(actual, folder, "pytest tests/test_generate.py -k golden")
    # The same inputs give the same bytes (what makes the golden comparison meaningful) …
    again = generate(ctx, GOLDEN_PERIOD, [GOLDEN_UNIT], workspace.root / "golden-again")
    assert again.files[0].path.read_bytes() == data
    # … and the golden workbook really is the one the secret signs.
    meta = read_meta(sheet_rows(result.files[0].path)[META_SHEET], FIXED_SECRET)
    assert meta is not None and meta.valid


def test_normalisation_keeps_what_matters():
    """The normaliser must not hide real differences (text, attribute values, order of cells)."""
    a = b'<?xml version="1.0"?><r xmlns="urn:x" xmlns:q="urn:q"><c b="1" a="2"><t>=1+1</t></c><d q:x="y"/></r>'
    b = b'<?xml version="1.0"?><r xmlns:q="urn:q" xmlns="urn:x"><c a="2" b="1"><t>=1+1</t></c><d q:x="y"/></r>'
    assert normalise_xml("x.xml", a) == normalise_xml("x.xml", b)
    assert 'q:x="y"' in normalise_xml("x.xml", a)
    for changed in (a.replace(b"=1+1", b"=1+2"), a.replace(b'a="2"', b'a="3"'),
                    a.replace(b"<c b", b"<e/><c b")):
        assert normalise_xml("x.xml", changed) != normalise_xml("x.xml", a)
    core = (b'<cp:coreProperties xmlns:cp="urn:cp" xmlns:dcterms="urn:dc"><cp:x>1</cp:x>'
            b'<dcterms:created>2026-01-01</dcterms:created><dcterms:modified>2027</dcterms:modified>'
            b'</cp:coreProperties>')
    text = normalise_xml("docProps/core.xml", core)
    assert "created" not in text and "modified" not in text and "<cp:x>1</cp:x>" in text


# ------------------------------------------------------------------ the workbook's content


@pytest.fixture
def generated(context, tmp_path) -> dict[str, Path]:
    """unit → path of its 2026-03 workbook, for a few units of every kind."""
    units = ["区卫生健康局", "区教育和体育局", "鼓楼街道", "区民政局", "区应急管理局", "区医疗保障局"]
    result = generate(context, "2026-03", units, tmp_path / "out")
    return {f.unit: f.path for f in result.files}


def test_instructions_sheet(context, generated):
    wb = load(generated["区卫生健康局"])
    try:
        assert wb.sheetnames == ["填报说明", "进度填报", META_SHEET]
        assert wb.active.title == "填报说明"
        ws = wb["填报说明"]
        texts = "\n".join(str(c.value) for row in ws.iter_rows() for c in row if isinstance(c.value, str))
        assert ws["A1"].value == "2026年区政府十件民生实事进度填报表"
        for fragment in ("填报单位：区卫生健康局", "报送期：2026年3月（截至2026年3月25日）", "报送截止：2026年3月25日",
                         "区委区政府督查室", "刘洋", "0537-3410000", "ducha@example.com",
                         "黄色单元格为填报项", "本期完成值", "累计完成值", "上期累计",
                         "未启动＝尚未开工", "推进中＝已启动尚未完成", "已完成＝全部目标任务已完成",
                         "填报人（必填）", "联系电话（必填）", "审核人（分管负责人）", "填报日期"):
            assert fragment in texts, fragment
        # The self-check banner: a formula over hidden helper cells, red by default, green when all is well.
        banner = next(c for row in ws.iter_rows(max_row=6) for c in row
                      if isinstance(c.value, str) and "自检" in c.value)
        assert banner.data_type == "f" and banner.value.startswith("=IF(")
        assert "自检通过" in banner.value and "自检未通过" in banner.value
        assert banner.fill.fgColor.rgb == "FFC00000"
        helpers = re.findall(r"\$([A-Z]+)\$(\d+)", banner.value)
        assert helpers
        for col, row in set(helpers):
            helper = ws[f"{col}{row}"]
            assert helper.data_type == "f"
            assert ws.column_dimensions[col].hidden or any(
                d.hidden and d.min <= helper.column <= d.max for d in ws.column_dimensions.values())
        missing = ws[f"{helpers[0][0]}{helpers[0][1]}"].value
        assert "COUNTBLANK('进度填报'!" in missing and "COUNTBLANK('填报说明'!B" in missing
        rules = [(str(cf.sqref), r) for cf in ws.conditional_formatting for r in cf.rules]
        assert len(rules) == 1
        sqref, rule = rules[0]
        assert banner.coordinate in sqref and rule.type == "expression"
        assert rule.formula == [banner.value.split(",", 1)[0][len("=IF("):]]
        assert "FF00B050" in (rule.dxf.fill.fgColor.rgb, rule.dxf.fill.bgColor.rgb)
    finally:
        wb.close()


def test_lead_sheet_content(context, generated):
    spec, plist = context.spec, context.projects
    wb = load(generated["区卫生健康局"])
    try:
        ws = wb["进度填报"]
        assert ws["A1"].value == "2026年区政府十件民生实事进度填报表（牵头项目）"
        assert "填报单位：区卫生健康局" in ws["A2"].value and "报送期：2026年3月" in ws["A2"].value
        # headings wrap between words ("总体进度\n(%)"): compared by their words
        assert [ws.cell(3, c + 1).value.replace("\n", "") for c in range(len(spec.lead.columns))] == \
            [c.heading for c in spec.lead.columns]
        assert [ws.cell(3, c + 1).value.replace("\n", "") for c in range(len(spec.lead.columns))][:15] == [
            "序号", "项目名称", "指标", "目标值", "计量单位", "比较方式", "上期累计", "本期完成值", "累计完成值",
            "完成率", "总体进度(%)", "状态", "进展情况", "存在问题", "下步计划"]
        heads = header_columns(ws)
        project = plist.get(1)
        assert ws["A4"].value == 1 and ws["B4"].value == project.name
        assert "A4:A7" in {str(r) for r in ws.merged_cells.ranges}
        for k, ind in enumerate(project.indicators):
            r = 4 + k
            assert ws.cell(r, heads["指标"]).value == ind.name
            assert ws.cell(r, heads["目标值"]).value == ind.target
            assert ws.cell(r, heads["计量单位"]).value == ind.unit
            comparator = ws.cell(r, heads["比较方式"])
            assert comparator.value == "=" and comparator.data_type == "s"  # "=" itself is text, not a formula
            assert ws.cell(r, heads["上期累计"]).value == 0
            cum = get_column_letter(heads["累计完成值"])
            target = get_column_letter(heads["目标值"])
            rate = ws.cell(r, heads["完成率"])
            assert rate.value == f'=IF(AND(ISNUMBER({cum}{r}),N({target}{r})>0),{cum}{r}/{target}{r},"")'
            assert rate.number_format == "0.0%" and rate.protection.locked
        assert ws.max_row == 3 + len(project.indicators)
        status = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
        assert len(status) == 1 and status[0].formula1 == '"' + ",".join(STATUSES) + '"'
        assert STATUSES == ("未启动", "推进中", "已完成")
        assert str(status[0].sqref) == f"{get_column_letter(heads['状态'])}4:{get_column_letter(heads['状态'])}7"
    finally:
        wb.close()


def test_second_lead_unit_reports_its_own_indicators(context, generated):
    """区民政局 and 区医疗保障局 co-lead project 2: each reports the indicators assigned to it, and nothing else."""
    p2 = context.projects.get(2)
    for unit, own in (("区民政局", 6), ("区医疗保障局", 3)):
        names = [r[2] for r in sheet_rows(generated[unit])["进度填报"][3:]]
        assigned = [i.name for i in p2.indicators if i.lead == unit]
        assert len(assigned) == own
        later = [i.name for p in context.projects.projects if p.number != 2 and unit in p.leads for i in p.indicators]
        assert names == assigned + later


def test_project_without_indicators_gets_a_project_row(context, generated):
    """区应急管理局 leads project 3, which has no quantified indicator: one row, overall progress only."""
    wb = load(generated["区应急管理局"])
    try:
        ws = wb["进度填报"]
        heads = header_columns(ws)
        assert ws.max_row == 4 and ws["A4"].value == 3
        for heading in ("本期完成值", "累计完成值"):
            assert ws.cell(4, heads[heading]).protection.locked
        assert ws.cell(4, heads["完成率"]).value is None
        for heading in ("总体进度(%)", "状态", "进展情况"):
            assert ws.cell(4, heads[heading]).protection.locked is False
    finally:
        wb.close()


def test_co_sheet_content(context, generated):
    spec, plist = context.spec, context.projects
    wb = load(generated["鼓楼街道"])
    try:
        assert wb.sheetnames == ["填报说明", "协办事项", META_SHEET]
        ws = wb["协办事项"]
        assert ws["A1"].value == "2026年区政府十件民生实事进度填报表（协办项目）"
        assert [ws.cell(3, c + 1).value.replace("\n", "") for c in range(len(spec.co.columns))] == \
            [c.heading for c in spec.co.columns]
        assert "配合工作进展" in header_columns(ws) and "存在问题" in header_columns(ws)
        heads = header_columns(ws)
        rows = {}
        for r in range(4, ws.max_row + 1):
            anchor = merged_anchor(ws).get(f"A{r}", f"A{r}")
            rows[r] = (ws[anchor].value, ws.cell(r, heads["分解指标"]).value)
        # Projects 2 (its split indicator), 4 (three split indicators) and 9 (no split indicator: one row).
        split = [(p.number, i.name) for p in plist.co_led_by("鼓楼街道") for i in p.split_indicators]
        assert [p.number for p in plist.co_led_by("鼓楼街道")] == [2, 4, 9]
        assert list(rows.values()) == [*split, (9, None)]
        for r, (number, ind) in rows.items():
            project_anchor = merged_anchor(ws).get(f"B{r}", f"B{r}")
            assert ws[project_anchor].value == plist.get(number).name
            lead_cell = ws[merged_anchor(ws).get(f"C{r}", f"C{r}")]
            assert lead_cell.value == "、".join(plist.get(number).leads)
            own = ws.cell(r, heads["本期完成值"]), ws.cell(r, heads["累计完成值"])
            if ind is None:  # nothing split to this unit: no figures to report
                assert all(c.protection.locked for c in own)
            else:  # the town reports its own share
                assert all(c.protection.locked is False for c in own)
                assert ws.cell(r, heads["上期累计"]).value == 0
                # … and sees what the whole district owes on it.
                target = next(i.target for i in plist.get(number).indicators if i.name == ind)
                assert ws.cell(r, heads["全区目标"]).value == target
    finally:
        wb.close()


def test_unit_with_lead_and_co_projects_gets_both_sheets(generated):
    wb = load(generated["区教育和体育局"])
    try:
        assert wb.sheetnames == ["填报说明", "进度填报", "协办事项", META_SHEET]
        assert wb["进度填报"]["B4"].value == "中小学生心理健康关爱服务提升行动"
        assert wb["协办事项"]["B4"].value == "优化农村助学公交线路"
        assert wb["协办事项"]["C4"].value == "区交通运输局"
    finally:
        wb.close()


# ------------------------------------------------------------------ protection and validation


def test_workbook_structure_is_protected(generated):
    with zipfile.ZipFile(generated["区卫生健康局"]) as zf:
        xml = zf.read("xl/workbook.xml").decode("utf-8")
    assert re.search(r'<workbookProtection lockStructure="1"\s*/>', xml)
    # CT_Workbook order: workbookProtection comes right before bookViews, or Excel calls the file corrupt.
    assert xml.index("<workbookProtection") < xml.index("<bookViews")
    assert xml.index("<workbookPr") < xml.index("<workbookProtection")
    wb = load(generated["区卫生健康局"])
    try:
        assert wb.security is not None and wb.security.lockStructure
        assert not wb.security.workbookPassword
    finally:
        wb.close()


@pytest.mark.parametrize("unit", ["区卫生健康局", "区教育和体育局", "鼓楼街道", "区民政局", "区应急管理局"])
def test_inputs_unlocked_marked_validated_everything_else_locked(context, generated, unit):
    spec = context.spec
    expected = input_cells(spec, context.projects, unit)
    columns = {s.sheet: {c.key: c for c in s.columns} for s in spec.sheets}
    wb = load(generated[unit])
    try:
        info = wb[spec.info_sheet]
        fields = field_cells(info, spec)
        expected[spec.info_sheet] = {cell: (key, "") for key, cell in fields.items()}
        field_types = {f.key: f.type for f in spec.fields}
        for ws in wb.worksheets:
            assert ws.protection.sheet, ws.title
            assert not ws.protection.password, ws.title  # no password by default
            if ws.title == META_SHEET:
                continue
            want = expected[ws.title]
            anchors = merged_anchor(ws)
            covered = validated_cells(ws)
            unlocked = set()
            for row in ws.iter_rows(min_row=1, max_row=max(ws.max_row, 60), max_col=max(ws.max_column, 20)):
                for cell in row:
                    anchor = anchors.get(cell.coordinate, cell.coordinate)
                    if anchor in want:
                        # every cell of an input (all rows of a merged one) unlocked and validated
                        assert cell.protection.locked is False, (ws.title, cell.coordinate)
                        assert cell.coordinate in covered, (ws.title, cell.coordinate)
                        unlocked.add(anchor)
                    else:
                        assert cell.protection.locked is not False, (ws.title, cell.coordinate, cell.value)
                        assert cell.coordinate not in covered, (ws.title, cell.coordinate)
            assert unlocked == set(want), ws.title
            for coord, (key, _) in want.items():
                cell = ws[coord]
                assert cell.fill.fgColor.rgb == INPUT_FILL, (ws.title, coord)  # input cells are marked
                dv = covered[coord]
                col_type = field_types[key] if ws.title == spec.info_sheet else columns[ws.title][key].type
                assert dv.type == VALIDATION_TYPES[col_type], (ws.title, coord, key, dv.type)
                assert dv.showErrorMessage and dv.errorStyle in (None, "stop") and dv.error
                if col_type == "percent":
                    assert dv.operator in (None, "between") and (dv.formula1, dv.formula2) == ("0", "100")
                if col_type in ("number", "integer"):
                    assert (dv.operator, dv.formula1) == ("greaterThanOrEqual", "0")
            # Locked content cells are grey; nothing that came from the project list is left editable.
            if ws.title != spec.info_sheet:
                assert ws["B4"].protection.locked and ws["B4"].fill.fgColor.rgb == "FFF2F2F2"
            # Units may widen columns and rows, never insert or delete them.
            p = ws.protection
            assert p.insertRows and p.deleteRows and p.insertColumns and p.deleteColumns
    finally:
        wb.close()


def test_meta_sheet_is_very_hidden_protected_and_signed(context, generated, tmp_path):
    path = generated["区教育和体育局"]
    wb = load(path)
    try:
        meta_ws = wb[META_SHEET]
        assert meta_ws.sheet_state == "veryHidden"
        assert meta_ws.protection.sheet
        assert [ws.sheet_state for ws in wb.worksheets if ws.title != META_SHEET] == ["visible"] * 3
    finally:
        wb.close()
    rows = sheet_rows(path)[META_SHEET]
    secret = context.workspace.secret()
    meta = read_meta(rows, secret)
    assert meta is not None and meta.valid
    assert meta.get("unit") == "区教育和体育局" and meta.get("period") == "2026-03"
    assert meta.get("workspace") == context.workspace.workspace_id
    assert meta.get("issued_at") == ISSUED_AT and meta.get("spec_digest") == context.spec.digest
    assert [s["kind"] for s in meta.get("sheets")] == ["lead", "co"]
    other = read_meta(rows, b"another workspace's secret")
    assert other is not None and not other.valid
    # A tampered payload fails even with the right secret.
    tampered = [list(r) for r in rows]
    tampered[1][1] = tampered[1][1].replace("区教育和体育局", "区卫生健康局")
    assert not read_meta(tampered, secret).valid
    # The reader trusts the workbook only with this workspace's secret.
    res = read_back(intake_context(context, tmp_path), path)
    assert res.meta_valid and res.unit == "区教育和体育局" and res.issued_at == ISSUED_AT
    res = read_back(intake_context(context, tmp_path, secret=b"x" * 32), path)
    assert not res.meta_valid
    assert "meta-forged" in {f.code for f in res.findings}


def test_issue_time_is_the_creation_time(generated):
    with zipfile.ZipFile(generated["区卫生健康局"]) as zf:
        core = zf.read("docProps/core.xml").decode("utf-8")
    # 2026-03-02T09:00:00+08:00 is 01:00 UTC; xlsxwriter writes UTC with a Z.
    assert "<dcterms:created xsi:type=\"dcterms:W3CDTF\">2026-03-02T01:00:00Z</dcterms:created>" in core


# ------------------------------------------------------------------ print layout


@pytest.mark.parametrize("unit", ["区卫生健康局", "区教育和体育局"])
def test_print_settings(context, generated, unit):
    wb = load(generated[unit])
    try:
        for ws in wb.worksheets:
            if ws.title == META_SHEET:
                continue
            ps = ws.page_setup
            assert ps.paperSize == 9 and ps.orientation == "landscape", ws.title
            assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
            assert ps.fitToWidth in (None, 1) and ps.fitToHeight == 0, ws.title  # 1 page wide, as long as needed
            assert ws.oddFooter.center.text == "第 &P 页 共 &N 页", ws.title
            assert ws.print_options.horizontalCentered
            if ws.title == context.spec.info_sheet:
                for r in (1, 4):  # title and banner rows
                    assert ws.row_dimensions[r].height, r
                continue
            assert ws.print_title_rows == "$3:$3", ws.title  # the header row repeats on every page
            last_col = get_column_letter(ws.max_column)
            assert ws.print_area == f"'{ws.title}'!$A$1:${last_col}${ws.max_row}"
            for r in range(1, ws.max_row + 1):  # row heights are written (LibreOffice never grows xlsx rows)
                assert ws.row_dimensions[r].height and ws.row_dimensions[r].customHeight, (ws.title, r)
            assert ws.row_dimensions[3].height >= 30
    finally:
        wb.close()
    with zipfile.ZipFile(generated[unit]) as zf:
        xml = zf.read("xl/workbook.xml").decode("utf-8")
    assert re.search(r'<definedName name="_xlnm.Print_Titles" localSheetId="1">\'?进度填报\'?!\$3:\$3</definedName>',
                     xml)


def test_row_height_grows_with_long_text(context, tmp_path):
    project = context.projects.get(1)
    long = dataclass_replace(project, name="提升乡村医疗服务能力" * 8,
                             indicators=(dataclass_replace(project.indicators[0], name="新建中心村卫生室" * 6),))
    plist = ProjectList((long,) + context.projects.projects[1:])
    data = build_workbook(job_for(context, plist, "区卫生健康局"))
    path = tmp_path / "long.xlsx"
    path.write_bytes(data)
    wb = load(path)
    try:
        assert wb["进度填报"].row_dimensions[4].height > 36
    finally:
        wb.close()


def _row_tags(data: bytes) -> dict[str, dict[int, dict[str, str]]]:
    """Sheet name → row number → the attributes of its <row> element, read from the xlsx parts themselves
    (openpyxl cannot tell a height from a custom height: its RowDimension.customHeight is "ht is not None")."""
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
          "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
          "p": "http://schemas.openxmlformats.org/package/2006/relationships"}
    out = {}
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        rels = {rel.get("Id"): rel.get("Target") for rel in
                ET.fromstring(zf.read("xl/_rels/workbook.xml.rels")).findall("p:Relationship", ns)}
        for sheet in ET.fromstring(zf.read("xl/workbook.xml")).find("m:sheets", ns):
            target = rels[sheet.get(f"{{{ns['r']}}}id")].lstrip("/")
            part = ET.fromstring(zf.read(target if target.startswith("xl/") else "xl/" + target))
            out[sheet.get("name")] = {int(row.get("r")): dict(row.attrib)
                                      for row in part.iter(f"{{{ns['m']}}}row")}
    return out


def test_rows_of_free_text_grow_with_what_the_unit_types(context, tmp_path):
    """Issue 23: a blank form's 进展情况 row (a one-row project) leaves room for 60 characters and carries no
    customHeight, so Excel/WPS fit it to the text typed; rows under a merged 进展情况 (which no spreadsheet fits)
    keep their custom heights and, together, the same room."""
    free_headings = {"进展情况", "配合工作进展"}
    grown = merged_blocks = 0
    for unit in context.projects.units:
        data = build_workbook(job_for(context, context.projects, unit))
        tags = _row_tags(data)
        path = tmp_path / "form.xlsx"
        path.write_bytes(data)
        wb = load(path)
        try:
            for ws in wb.worksheets:
                heads = {c.value: c.column for c in ws[3] if isinstance(c.value, str)}
                col = next((heads[h] for h in free_headings if h in heads), None)
                if col is None:
                    continue
                merges = {m.min_row: m for m in ws.merged_cells.ranges if m.min_col == col and m.min_row > 3}
                for r in range(4, ws.max_row + 1):
                    cell = ws.cell(r, col)
                    if cell.protection.locked or cell.__class__.__name__ == "MergedCell":
                        continue
                    if r in merges:  # merged down the project's rows: custom heights, room shared among them
                        rows = range(r, merges[r].max_row + 1)
                        assert all(tags[ws.title][k].get("customHeight") == "1" for k in rows), (unit, ws.title, r)
                        assert sum(ws.row_dimensions[k].height for k in rows) >= 4 * 14.5, (unit, ws.title, r)
                        merged_blocks += 1
                    else:  # a row of its own: room for 60 characters (4 lines), no custom height
                        assert "customHeight" not in tags[ws.title][r], (unit, ws.title, r, tags[ws.title][r])
                        assert ws.row_dimensions[r].height >= 4 * 14.5, (unit, ws.title, r)
                        grown += 1
                # every other row keeps its custom height (titles, headings)
                assert tags[ws.title][3].get("customHeight") == "1"
        finally:
            wb.close()
    assert grown >= 3 and merged_blocks >= 3, (grown, merged_blocks)


# ------------------------------------------------------------------ text stays text


def dataclass_replace(obj, **changes):
    import dataclasses

    return dataclasses.replace(obj, **changes)


def job_for(ctx: Context, plist: ProjectList, unit: str, **extra) -> WorkbookJob:
    return WorkbookJob(unit, Period.parse(GOLDEN_PERIOD), ctx.config, plist, ctx.spec, ctx.workspace.secret(),
                       ctx.workspace.workspace_id, ISSUED_AT, {}, **extra)


FORMULA_NAME = '=HYPERLINK("http://evil.example/","点这里")'
FORMULA_INDICATOR = "=1+1"
FORMULA_UNIT = "=SUM(A1:A3)"


def test_text_starting_with_equals_stays_text(workspace, tmp_path):
    """A project list whose texts start with "=": written, reread, printed and recalculated, they stay text."""
    ctx = load_context(workspace.root)
    p1 = ctx.projects.get(1)
    indicators = (dataclass_replace(p1.indicators[0], name=FORMULA_INDICATOR, unit=FORMULA_UNIT),) + p1.indicators[1:]
    plist = ProjectList((dataclass_replace(p1, name=FORMULA_NAME, indicators=indicators),) + ctx.projects.projects[1:])
    write_project_list(workspace.project_list_path, plist)
    ctx = load_context(workspace.root)
    assert ctx.projects.get(1).name == FORMULA_NAME and not problems(ctx.findings)
    result = generate(ctx, GOLDEN_PERIOD, ["区卫生健康局"], tmp_path / "out")
    path = result.files[0].path
    # In the file: shared strings, no formula element anywhere near them.
    with zipfile.ZipFile(path) as zf:
        sheet = zf.read("xl/worksheets/sheet2.xml").decode("utf-8")
        strings = zf.read("xl/sharedStrings.xml").decode("utf-8")
    assert "HYPERLINK" not in sheet and "SUM(A1" not in sheet and "1+1" not in sheet
    assert re.search(r'<c r="B4" s="\d+" t="s"><v>\d+</v></c>', sheet)
    assert "=HYPERLINK(&quot;http://evil.example/&quot;,&quot;点这里&quot;)" in strings or \
        '=HYPERLINK("http://evil.example/","点这里")' in strings
    # openpyxl and calamine read strings.
    wb = load(path)
    try:
        ws = wb["进度填报"]
        for ref, text in (("B4", FORMULA_NAME), ("C4", FORMULA_INDICATOR), ("E4", FORMULA_UNIT)):
            assert ws[ref].value == text and ws[ref].data_type == "s", ref
    finally:
        wb.close()
    rows = sheet_rows(path)["进度填报"]
    assert (rows[3][1], rows[3][2], rows[3][4]) == (FORMULA_NAME, FORMULA_INDICATOR, FORMULA_UNIT)
    # LibreOffice, recalculating everything on load, keeps them as text too.
    converted = office.convert([path], "xlsx", tmp_path / "lo", recalc=True)[path]
    assert converted is not None
    rows = sheet_rows(converted)["进度填报"]
    assert (rows[3][1], rows[3][2], rows[3][4]) == (FORMULA_NAME, FORMULA_INDICATOR, FORMULA_UNIT)
    # The reader recognises its own locked content (no "locked content changed").
    res = read_back(intake_context(ctx, tmp_path), path)
    assert res.meta_valid and "locked-changed" not in {f.code for f in res.findings}


def test_filled_text_starting_with_equals_stays_text(context, tmp_path):
    """Values written into input cells (simulated returns) are text too."""
    values = sample_values(context.spec, context.projects, "区卫生健康局")
    values[("lead", "P01")]["progress_text"] = "=1+1 本期完成了全部新建任务并通过验收。"
    values[("lead", "P01")]["problems"] = "=CMD|' /C calc'!A0"
    data = build_workbook(job_for(context, context.projects, "区卫生健康局", filled=values,
                                  filled_fields={"reporter": "=A1"}))
    path = tmp_path / "filled.xlsx"
    path.write_bytes(data)
    with zipfile.ZipFile(path) as zf:
        sheet = zf.read("xl/worksheets/sheet2.xml").decode("utf-8")
        info = zf.read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert "CMD" not in sheet and "1+1" not in sheet and "<f>A1</f>" not in info
    res = read_back(intake_context(context, tmp_path), path)
    assert res.values[("lead", "P01")]["problems"] == "=CMD|' /C calc'!A0"
    assert res.fields["reporter"] == "=A1"


# ------------------------------------------------------------------ round trip through the project's reader


@pytest.mark.parametrize("unit", ["区卫生健康局", "区教育和体育局", "鼓楼街道", "区医疗保障局", "区应急管理局"])
def test_fill_with_openpyxl_and_read_back(context, generated, tmp_path, unit):
    spec, plist = context.spec, context.projects
    values = sample_values(spec, plist, unit)
    filled = fill_workbook(generated[unit], tmp_path / "returns" / f"{unit}.xlsx", spec, plist, unit, values,
                           SAMPLE_FIELDS)
    res = read_back(intake_context(context, tmp_path), filled)
    assert res.meta_valid and res.unit == unit and res.period == "2026-03"
    assert problems(res.findings) == []
    assert present(res.values) == values
    assert res.fields == {"reporter": "王芳", "phone": "13812345678", "reviewer": "李华", "report_date": "2026-03-23"}
    # Every value came from the cell it was written to.
    cells = input_cells(spec, plist, unit)
    for (kind, key), row in res.cells.items():
        for col_key, cv in row.items():
            assert cells[cv.sheet][cv.cell] == (col_key, key)


def test_read_back_reports_what_a_unit_left_out(context, generated, tmp_path):
    """The other direction: an unfilled return reads back as empty, with every required cell reported."""
    spec, plist = context.spec, context.projects
    res = read_back(intake_context(context, tmp_path), generated["区卫生健康局"])
    assert res.meta_valid
    assert present(res.values) == {k: {} for k in res.values}
    required = [f for f in res.findings if f.code == "required-empty"]
    assert len(required) == required_count(spec, plist, "区卫生健康局") == 13


# ------------------------------------------------------------------ LibreOffice: recalculation and print


def banner_and_helpers(rows: list[list[Any]]) -> tuple[str, list[Any]]:
    banner = next(v for row in rows[:8] for v in row if isinstance(v, str) and "自检" in v)
    return banner, [rows[0][9], rows[1][9]]


def rate_rows(rows: list[list[Any]]) -> list[tuple[float, float, Any]]:
    """(target, cumulative, 完成率) of every data row of a lead sheet as calamine read it."""
    header = next(i for i, r in enumerate(rows[:10]) if "完成率" in r)
    heads = {v: c for c, v in enumerate(rows[header]) if isinstance(v, str)}
    return [(r[heads["目标值"]], r[heads["累计完成值"]], r[heads["完成率"]]) for r in rows[header + 1:]
            if isinstance(r[heads["目标值"]], float)]


def test_libreoffice_recalculates_banner_and_completion_rate(context, generated, tmp_path):
    spec, plist = context.spec, context.projects
    unit = "区卫生健康局"
    n_required = required_count(spec, plist, unit)
    assert n_required == 13  # 4 indicators × (本期, 累计) + 总体进度, 状态, 进展情况 + 填报人, 联系电话
    values = sample_values(spec, plist, unit)
    filled = fill_workbook(generated[unit], tmp_path / "in" / "filled_wj.xlsx", spec, plist, unit, values,
                           {"reporter": "王芳", "phone": "13812345678"})
    co_values = sample_values(spec, plist, "鼓楼街道")
    filled_co = fill_workbook(generated["鼓楼街道"], tmp_path / "in" / "filled_gl.xlsx", spec, plist, "鼓楼街道",
                              co_values, {"reporter": "张明", "phone": "0537-3412345"})
    # Partly filled: 6 required cells filled, 4 of them wrongly (text in a number, progress 150, unknown status,
    # a negative cumulative — counted once, although it is also below last period's 0).
    partial_values = {("lead", "P01-I01"): {"current": "五家", "cumulative": 5},
                      ("lead", "P01-I02"): {"cumulative": -3},
                      ("lead", "P01"): {"progress": 150, "status": "完成了"}}
    partial = fill_workbook(generated[unit], tmp_path / "in" / "partial_wj.xlsx", spec, plist, unit,
                            partial_values, {"reporter": "王芳"})
    unfilled = generated[unit]
    converted = office.convert([filled, filled_co, partial, unfilled], "xlsx", tmp_path / "lo", recalc=True)
    assert all(converted.values()), converted

    rows = sheet_rows(converted[filled])
    banner, helpers = banner_and_helpers(rows["填报说明"])
    assert "自检通过" in banner and "未通过" not in banner
    assert helpers == [0, 0]  # the green conditional format's criterion ($J$1+$J$2=0) holds
    rates = rate_rows(rows["进度填报"])
    assert len(rates) == 4
    for (target, cum, rate), ind in zip(rates, plist.get(1).indicators):
        assert target == ind.target and cum == values[("lead", ind.key)]["cumulative"]
        assert rate == pytest.approx(cum / target, abs=1e-9)
    assert [round(r, 4) for _, _, r in rates] == [round(c / t, 4) for t, c, _ in rates]

    banner, helpers = banner_and_helpers(sheet_rows(converted[filled_co])["填报说明"])
    assert "自检通过" in banner and helpers == [0, 0]

    rows = sheet_rows(converted[partial])
    banner, helpers = banner_and_helpers(rows["填报说明"])
    assert helpers == [n_required - 6, 4]
    assert f"自检未通过：还有{n_required - 6}项必填内容未填写，4项填写有误" in banner
    rates = rate_rows(rows["进度填报"])
    assert rates[0][2] == pytest.approx(5 / 10) and [r for _, _, r in rates[2:]] == ["", ""]

    banner, helpers = banner_and_helpers(sheet_rows(converted[unfilled])["填报说明"])
    assert f"自检未通过：还有{n_required}项必填内容未填写。" in banner
    assert "0项" not in banner  # only what is wrong is named
    assert helpers == [n_required, 0]


def test_pdf_is_a4_landscape_with_the_header_row_on_every_page(context, tmp_path):
    """A unit with many indicator rows: its 进度填报 sheet prints on several pages, each with the header row."""
    p1 = context.projects.get(1)
    many = tuple(Indicator(project=1, number=k, name=f"测试指标第{k:02d}项", target=10.0 * k, unit="个")
                 for k in range(1, 46))
    plist = ProjectList((dataclass_replace(p1, indicators=many),) + context.projects.projects[1:])
    src = tmp_path / "多页.xlsx"
    src.write_bytes(build_workbook(job_for(context, plist, "区卫生健康局")))
    small = generate(context, GOLDEN_PERIOD, ["区卫生健康局"], tmp_path / "out").files[0].path
    pdfs = office.convert([src, small], "pdf", tmp_path / "pdf")
    assert all(pdfs.values()), pdfs

    info = office.pdf_info(pdfs[src])
    assert info.all_pages("A4", landscape=True), (info.sizes_mm, info.landscape)
    texts = [re.sub(r"\s+", "", t) for t in info.texts]
    for i, text in enumerate(texts):
        assert f"第{i + 1}页共{info.pages}页" in text, (i, info.texts[i][:200])
    data_pages = [i for i, t in enumerate(texts) if "测试指标第" in t]
    assert len(data_pages) >= 2, info.pages  # the test needs a sheet longer than one page
    for i in data_pages:
        for heading in ("序号", "项目名称", "目标值", "本期完成值", "累计完成值", "完成率", "状态", "进展情况", "下步计划"):
            assert heading in texts[i], (i, heading)  # all columns fit the width, the header repeats
    # Only the header row repeats (not the title rows above it).
    assert sum("进度填报表（牵头项目）" in texts[i] for i in data_pages) == 1
    # Every indicator printed once, none lost between pages.
    for k in range(1, 46):
        assert sum(f"测试指标第{k:02d}项" in texts[i] for i in data_pages) == 1, k
    assert "填报说明" in texts[0] or "二、填报说明" in texts[0]
    assert META_SHEET not in "".join(texts) and "shixiang-meta" not in "".join(texts)

    info = office.pdf_info(pdfs[small])
    assert info.all_pages("A4", landscape=True) and info.pages == 2
    assert "新建中心村卫生室" in info.texts[1] and "自检未通过" in info.texts[0]


# ------------------------------------------------------------------ the template spec drives everything


FUNDING_COLUMN = '''
[[lead.columns]]
key = "funding"
heading = "资金到位情况"
scope = "project"
role = "input"
type = "text"
required = false
width = 16
help = "写明本期到位资金（万元）及来源。"
'''


def test_a_column_added_to_the_spec_reaches_workbook_and_reader(workspace, tmp_path):
    text = packaged_spec_text()
    assert "\n[co]\n" in text
    (workspace.root / "report_spec.toml").write_text(text.replace("\n[co]\n", FUNDING_COLUMN + "\n[co]\n"),
                                                      encoding="utf-8")
    ctx = load_context(workspace.root)
    assert [c.key for c in ctx.spec.lead.columns][-1] == "funding"
    unit = "区卫生健康局"
    path = generate(ctx, GOLDEN_PERIOD, [unit], tmp_path / "out").files[0].path

    wb = load(path)
    try:
        ws = wb["进度填报"]
        heads = header_columns(ws)
        assert heads["资金到位情况"] == len(ctx.spec.lead.columns) == 16
        cell = ws.cell(4, heads["资金到位情况"])
        assert cell.protection.locked is False and cell.fill.fgColor.rgb == INPUT_FILL
        assert f"{cell.coordinate}:{get_column_letter(cell.column)}7" in {str(r) for r in ws.merged_cells.ranges}
        dv = validated_cells(ws)[cell.coordinate]
        assert dv.type == "textLength" and dv.prompt == "写明本期到位资金（万元）及来源。"
        assert ws.print_area.endswith(f"${get_column_letter(heads['资金到位情况'])}$7")
    finally:
        wb.close()
    meta = read_meta(sheet_rows(path)[META_SHEET], ctx.workspace.secret())
    assert "funding" in meta.get("sheets")[0]["columns"]

    values = sample_values(ctx.spec, ctx.projects, unit, extra={"funding": "省级补助资金 120 万元已全部到位"})
    assert values[("lead", "P01")]["funding"] == "省级补助资金 120 万元已全部到位"
    filled = fill_workbook(path, tmp_path / "returns" / "funding.xlsx", ctx.spec, ctx.projects, unit, values,
                           SAMPLE_FIELDS)
    res = read_back(intake_context(ctx, tmp_path), filled)
    assert problems(res.findings) == []
    assert res.values[("lead", "P01")]["funding"] == "省级补助资金 120 万元已全部到位"
    assert present(res.values) == values

    # Without the workspace's spec, the packaged one: no such column anywhere.
    (workspace.root / "report_spec.toml").unlink()
    plain = load_context(workspace.root)
    assert plain.spec.lead.column("funding") is None
    path = generate(plain, GOLDEN_PERIOD, [unit], tmp_path / "plain").files[0].path
    assert "资金到位情况" not in sheet_rows(path)["进度填报"][2]


def test_classic_formulas_are_written_as_is_and_newer_functions_get_their_prefix(tmp_path):
    """The fast path for formulas must not lose xlsxwriter's _xlfn. prefixes for Excel 365 functions."""
    import io
    import zipfile

    from shixiang_xl.xlsxout import new_workbook

    buffer = io.BytesIO()
    wb = new_workbook(buffer)
    ws = wb.add_worksheet("s")
    ws.write_formula(0, 0, '=IF(AND(ISNUMBER(B1),N(C1)>0),B1/C1,"")')
    ws.write_formula(1, 0, "=XLOOKUP(B1,C1:C9,D1:D9)")
    wb.close()
    xml = zipfile.ZipFile(buffer).read("xl/worksheets/sheet1.xml").decode()
    assert '<f>IF(AND(ISNUMBER(B1),N(C1)&gt;0),B1/C1,"")</f>' in xml
    assert ">_xlfn.XLOOKUP(B1,C1:C9,D1:D9)</f>" in xml


def test_rows_grow_with_the_text_a_unit_wrote(context, tmp_path):
    """A return written with a long 进展情况 (as a resubmission form is): its rows are tall enough to print it."""
    import hostile as h

    long_text = "本期完成村卫生室主体施工三家，正在进行内部装修、设备采购和人员培训，预计下月底前全部投入使用。" * 8

    def tweak(values: dict, fields: dict) -> None:
        values[("lead", "P01")]["progress_text"] = long_text

    sim = h.simulate(context, tmp_path / "long.xlsx", "区卫生健康局", None, tweak)
    wb = openpyxl.load_workbook(sim.path)
    try:
        ws = wb["进度填报"]
        merged = next(m for m in ws.merged_cells.ranges if m.min_row == 4 and ws.cell(3, m.min_col).value == "进展情况")
        width = ws.column_dimensions[get_column_letter(merged.min_col)].width
        total = sum(ws.row_dimensions[r].height for r in range(merged.min_row, merged.max_row + 1))
        lines = -(-len(long_text) * 2 // int(width))
        assert total >= lines * 13, (total, lines)
    finally:
        wb.close()
