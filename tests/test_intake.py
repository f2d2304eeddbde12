"""Intake of returned files: hostile and broken files, every format, archive and store, duplicates and
resubmissions, identity, LibreOffice, the memory bound and the batch's survival.

Every case starts from a return freshly simulated by the package (``write_simulated_return``) and is then damaged,
converted or re-saved in tmp_path (helpers in ``hostile.py``); nothing binary is committed. Each test asserts the
finding's code and where it points (sheet and A1 cell; file-level findings point at no cell).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import faulthandler
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

import hostile as h
from shixiang_xl import intake, office
from shixiang_xl.batch import BatchResult, run_batch
from shixiang_xl.batch import check_returns
from shixiang_xl.cli import main
from shixiang_xl.feedback import HINT_SHEET
from shixiang_xl.findings import Severity
from shixiang_xl.generate import generate_workbooks
from shixiang_xl.intake import FileResult, parse_sheets
from shixiang_xl.period import Period
from shixiang_xl.sandbox import Failure, run_isolated
from shixiang_xl.spec import packaged_spec_text, parse_spec
from shixiang_xl.store import open_store
from shixiang_xl.workspace import Context, init_workspace, load_context

MAR = Period.parse("2026-03")
FEB = Period.parse("2026-02")
UNIT = "区卫生健康局"  # leads project 1 (four indicators) on the sheet 进度填报
LEAD = "进度填报"
INFO = "填报说明"


# ------------------------------------------------------------------ helpers


def simulate(ctx: Context, path: Path, unit: str = UNIT, period: Period = MAR, tweak=None, **kw) -> h.Simulated:
    return h.simulate(ctx, path, unit, period, tweak, **kw)


def check(ctx: Context, *paths: Path, period: Period = MAR, db: Path | None = None, **kw) -> BatchResult:
    """run_batch over ``paths`` with the workspace's store (or the store at ``db``)."""
    with open_store(db or ctx.workspace.db_path) as store:
        return run_batch(ctx, store, list(paths), period, **kw)


def result(batch: BatchResult, name: str) -> FileResult:
    found = [r for r in batch.files if r.source.name == name]
    assert len(found) == 1, [r.source.name for r in batch.files]
    return found[0]


def places(findings) -> set[tuple[str, str, str]]:
    """{(code, sheet, cell)} of the errors and warnings."""
    return {(f.code, f.sheet, f.cell) for f in findings if f.severity is not Severity.INFO}


def all_places(findings) -> set[tuple[str, str, str]]:
    return {(f.code, f.sheet, f.cell) for f in findings}


def assert_values(res: FileResult, sim: h.Simulated) -> None:
    """What intake read equals what the return was filled with (numbers, status, texts, fields)."""
    assert set(res.values) == set(sim.values)
    for key, cols in sim.values.items():
        for col, value in cols.items():
            got = res.values[key][col]
            if isinstance(value, (int, float)):
                assert got == pytest.approx(value), (key, col)
            else:
                assert got == value, (key, col)
    assert res.fields["reporter"] == sim.fields["reporter"]
    assert res.fields["phone"] == sim.fields["phone"]
    assert res.fields["report_date"] == sim.fields["report_date"].isoformat()


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def good(context: Context, tmp_path: Path) -> h.Simulated:
    """区卫生健康局's plausible March return, outside any inbox."""
    return simulate(context, tmp_path / "src" / "good.xlsx")


# ------------------------------------------------------------------ not a workbook at all


@pytest.mark.parametrize("name, content, fragment", [
    ("填报表.xlsx", "这是一份文字说明，不是表格。\n".encode("utf-8") * 20, "不是电子表格"),
    ("填报表.xls", b"<html><body><table><tr><td>1</td></tr></table></body></html>", "网页"),
    ("填报表.pdf", b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n", "不是电子表格"),
])
def test_a_file_that_is_not_a_spreadsheet_is_refused(context, tmp_path, name, content, fragment):
    path = tmp_path / "in" / name
    path.parent.mkdir()
    path.write_bytes(content)
    batch = check(context, path)
    res = result(batch, name)
    assert places(res.findings) == {("file-not-spreadsheet", "", "")}
    assert fragment in res.findings[0].message
    assert res.status == "unreadable" and not res.readable


def test_a_word_document_is_not_a_return(context, tmp_path):
    path = tmp_path / "in" / "情况说明.xlsx"
    path.parent.mkdir()
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<w:document/>")
    res = result(check(context, path), "情况说明.xlsx")
    assert places(res.findings) == {("file-not-spreadsheet", "", "")}
    assert "Word" in res.findings[0].message


def test_an_empty_file(context, tmp_path):
    path = tmp_path / "in" / "区卫生健康局.xlsx"
    path.parent.mkdir()
    path.write_bytes(b"")
    res = result(check(context, path), "区卫生健康局.xlsx")
    assert places(res.findings) == {("file-empty", "", "")}
    assert res.status == "unreadable"


def test_a_truncated_workbook_and_a_truncated_zip_of_returns(context, tmp_path, good):
    inbox = tmp_path / "in"
    inbox.mkdir()
    h.truncated(good.path, inbox / "cut.xlsx", 0.6)
    h.truncated(h.zip_of(tmp_path / "whole.zip", {"a.xlsx": good.path}), inbox / "batch.zip", 0.5)
    batch = check(context, inbox)
    assert places(result(batch, "cut.xlsx").findings) == {("file-corrupt", "", "")}
    zip_findings = [f for f in batch.findings if f.file == "batch.zip"]
    assert [(f.code, f.sheet, f.cell) for f in zip_findings] == [("file-corrupt", "", "")]
    assert batch.summary()["errors"] == 2


def test_an_encrypted_workbook(context, tmp_path):
    path = h.encrypted_ooxml(tmp_path / "加密的填报表.xlsx")
    res = result(check(context, path), "加密的填报表.xlsx")
    assert places(res.findings) == {("file-encrypted", "", "")}
    assert "密码" in res.findings[0].message


# ------------------------------------------------------------------ hostile XML and zips


@pytest.mark.parametrize("variant", ["billion-laughs", "billion-laughs-utf16", "external-entity", "in-sheet",
                                     "after-long-comment", "in-workbook-after-long-comment"])
def test_xml_entity_tricks_are_refused_before_parsing(context, tmp_path, good, variant):
    out = tmp_path / f"{variant}.xlsx"
    if variant == "billion-laughs":
        h.with_billion_laughs(good.path, out)
    elif variant == "after-long-comment":  # the DOCTYPE lies beyond the first few KB that are read of a part
        h.with_billion_laughs(good.path, out, padding=10_000)
    elif variant == "in-workbook-after-long-comment":  # a part read by its head only
        h.with_billion_laughs(good.path, out, member="xl/workbook.xml", padding=5_000)
    elif variant == "billion-laughs-utf16":
        h.with_billion_laughs(good.path, out, encoding="utf-16")  # a byte search for "<!ENTITY" sees nothing
    elif variant == "external-entity":
        h.with_external_entity(good.path, out)
    else:
        h.with_billion_laughs(good.path, out, member=h.sheet_member(good.path, LEAD))
    started = time.monotonic()
    res = result(check(context, out), out.name)
    assert time.monotonic() - started < 20
    assert places(res.findings) == {("xml-entity", "", "")}
    assert not res.readable


@pytest.mark.parametrize("style", ["plain", "quoted", "implicit-row", "merge", "merge-tab"])
def test_a_far_away_cell_is_refused_and_the_batch_finishes(context, tmp_path, good, style):
    inbox = tmp_path / "in"
    far = h.with_far_cell(good.path, inbox / "far.xlsx", LEAD, "XFD1048576", style=style)
    shutil.copy(good.path, inbox / "good.xlsx")
    batch = check(context, inbox)
    res = result(batch, "far.xlsx")
    assert places(res.findings) == {("cell-out-of-range", "", "")}
    assert ("XFD1048576" in res.findings[0].message) or ("1048576" in res.findings[0].message)
    assert res.status == "unreadable"
    assert result(batch, "good.xlsx").status == "accepted"
    assert far.stat().st_size < 50_000


def test_the_parser_crash_a_far_cell_causes_is_contained_in_its_worker(good, tmp_path):
    """What intake's byte-level check prevents: python-calamine aborts the whole process on XFD1048576.
    In a worker that costs only that item; the next item is read, and this process lives on."""
    far = h.with_far_cell(good.path, tmp_path / "far.xlsx", LEAD, "XFD1048576")
    items = [far.read_bytes(), good.path.read_bytes()]
    dumping = faulthandler.is_enabled()
    faulthandler.disable()  # the worker inherits it: no traceback dump for the abort we cause on purpose
    try:
        out = dict(run_isolated(parse_sheets, items, workers=1, memory_mb=1024, timeout=60))
    finally:
        if dumping:
            faulthandler.enable()
    assert isinstance(out[0], Failure) and out[0].reason in ("crash", "memory")
    assert isinstance(out[1], dict) and LEAD in out[1]


def test_a_far_dimension_is_refused(context, tmp_path, good):
    path = h.with_dimension(good.path, tmp_path / "dim.xlsx", LEAD, "A1:XFD1048576")
    res = result(check(context, path), "dim.xlsx")
    assert places(res.findings) == {("cell-out-of-range", "", "")}
    assert "XFD1048576" in res.findings[0].message


def test_a_zip_bomb_return_is_refused_from_its_headers(context, tmp_path, good):
    bomb = h.zip_bomb_xlsx(good.path, tmp_path / "bomb.xlsx", LEAD, megabytes=1024)
    assert bomb.stat().st_size < 1_200_000  # ~1 MB on disk …
    with zipfile.ZipFile(bomb) as zf:  # … ~1 GB inside
        assert max(i.file_size for i in zf.infolist()) > 1_000_000_000
    started = time.monotonic()
    res = result(check(context, bomb), "bomb.xlsx")
    assert time.monotonic() - started < 20
    assert places(res.findings) == {("zip-bomb", "", "")}


def test_a_zip_bomb_that_lies_about_its_size_is_refused(context, tmp_path, good):
    bomb = h.zip_bomb_xlsx(good.path, tmp_path / "lie.xlsx", LEAD, megabytes=1024, lie=True)
    with zipfile.ZipFile(bomb) as zf:  # the headers claim an ordinary sheet
        assert max(i.file_size for i in zf.infolist()) < 100_000
    res = result(check(context, bomb), "lie.xlsx")
    assert places(res.findings) == {("zip-bomb", "", "")}


def test_a_zip_of_returns_with_a_bomb_inside(context, tmp_path, good):
    inbox = tmp_path / "in"
    inbox.mkdir()
    h.zip_bomb_archive(inbox / "bomb.zip", "区卫生健康局.xlsx", megabytes=1024)
    batch = check(context, inbox)
    assert [(f.code, f.file, f.cell) for f in batch.findings] == [("zip-bomb", "bomb.zip › 区卫生健康局.xlsx", "")]
    assert batch.files == []


def test_too_many_members_in_a_workbook_or_a_zip_of_returns(context, tmp_path, good):
    many = {f"customXml/item{k}.xml": b"<a/>" for k in range(600)}
    h.rewrite_zip(good.path, tmp_path / "in" / "parts.xlsx", add=many)
    h.zip_of(tmp_path / "in" / "many.zip", {f"{k}.xlsx": b"x" for k in range(600)})
    batch = check(context, tmp_path / "in")
    assert places(result(batch, "parts.xlsx").findings) == {("zip-bomb", "", "")}
    assert "612 个部件" in result(batch, "parts.xlsx").findings[0].message
    assert [(f.code, f.file) for f in batch.findings if f.file.startswith("many.zip")] == [("zip-bomb", "many.zip")]


def test_a_worker_that_hangs_or_eats_memory_costs_only_its_file(context, tmp_path, monkeypatch):
    """Parsing runs in workers with a time limit and an address-space limit: a parse that never ends, or one that
    asks for 4 GiB, becomes that file's finding, and the other files are read."""
    inbox = tmp_path / "in"
    slow = simulate(context, inbox / "slow.xlsx").path
    greedy = simulate(context, inbox / "greedy.xlsx", unit="区民政局").path
    simulate(context, inbox / "fine.xlsx", unit="区司法局")
    slow_sha, greedy_sha = sha(slow), sha(greedy)
    real = intake.parse_sheets

    def parse(data: bytes):  # inherited by the forked workers
        digest = hashlib.sha256(data).hexdigest()
        if digest == slow_sha:
            time.sleep(60)
        if digest == greedy_sha:
            return bytearray(4 << 30)
        return real(data)

    monkeypatch.setattr(intake, "parse_sheets", parse)
    started = time.monotonic()
    batch = check(context, inbox, timeout=2.0, memory_mb=512)
    assert time.monotonic() - started < 40
    assert places(result(batch, "slow.xlsx").findings) == {("read-timeout", "", "")}
    assert places(result(batch, "greedy.xlsx").findings) == {("read-memory", "", "")}
    assert result(batch, "fine.xlsx").status == "accepted"
    assert sha(Path(result(batch, "slow.xlsx").archive_path)) == slow_sha  # archived all the same


# ------------------------------------------------------------------ formats


def test_wps_dimension_a1_a1_is_read_in_full(context, tmp_path, good):
    path = h.with_dimension(good.path, tmp_path / "wps.xlsx", LEAD, "A1:A1")
    h.with_dimension(path, tmp_path / "wps2.xlsx", INFO, "A1:A1")
    res = result(check(context, tmp_path / "wps2.xlsx"), "wps2.xlsx")
    assert places(res.findings) == set()
    assert res.status == "accepted"
    assert_values(res, good)


def test_a_macro_workbook_is_read_and_its_macros_ignored(context, tmp_path, good):
    path = h.with_macros(good.path, tmp_path / "in" / "区卫生健康局.xlsm")
    res = result(check(context, path), "区卫生健康局.xlsm")
    assert res.kind == "xlsm"
    assert places(res.findings) == {("macros-ignored", "", "")}
    assert res.status == "accepted"
    assert_values(res, good)


def test_a_file_whose_extension_lies_is_read_by_its_bytes_and_annotated(context, tmp_path, good):
    """An xlsx saved as .xls: read as xlsx, a warning says so; its annotated copy can still be written."""
    inbox = context.workspace.folder("inbox", MAR.slug)
    inbox.mkdir(parents=True)
    shutil.copy(good.path, inbox / "区卫生健康局.xls")
    run = check_returns(context, None, MAR)
    res = result(run.batch, "区卫生健康局.xls")
    assert res.kind == "xlsx"
    assert places(res.findings) == {("file-extension-mismatch", "", "")}
    assert "「.xls」" in res.findings[0].message
    assert_values(res, good)
    copy_path = run.feedback[UNIT]
    wb = openpyxl.load_workbook(copy_path)
    try:
        assert wb.sheetnames[0] == HINT_SHEET
        assert LEAD in wb.sheetnames
    finally:
        wb.close()


@pytest.fixture(scope="module")
def saved_by_libreoffice(tmp_path_factory):
    """One workspace; 区卫生健康局's return converted by LibreOffice to .xls and .ods (one soffice call each),
    plus a workbook with a value at IV60000 converted to .xls."""
    root = tmp_path_factory.mktemp("lo")
    init_workspace(root / "ws", "yanzhou-2026")
    ctx = load_context(root / "ws")
    sim = simulate(ctx, root / "src" / "good.xlsx")
    far = h.edit_workbook(sim.path, root / "src" / "far.xlsx", lambda wb: wb[LEAD].cell(row=60000, column=256, value=1))
    xls = office.convert([sim.path, far], "xls", root / "xls")
    ods = office.convert([sim.path], "ods", root / "ods")
    assert xls[sim.path] and xls[far] and ods[sim.path]
    return ctx, sim, {"xls": xls[sim.path], "far-xls": xls[far], "ods": ods[sim.path]}


def test_xls_et_and_ods_saved_by_libreoffice_are_read(saved_by_libreoffice, tmp_path):
    ctx, sim, files = saved_by_libreoffice
    inbox = tmp_path / "in"
    inbox.mkdir()
    shutil.copy(files["xls"], inbox / "a.xls")
    shutil.copy(files["xls"], inbox / "b.et")  # WPS 表格's own extension
    shutil.copy(files["ods"], inbox / "c.ods")
    shutil.copy(files["xls"], inbox / "d.xlsx")  # an .xls whose name says .xlsx
    for name, kind in (("a.xls", "xls"), ("b.et", "xls"), ("c.ods", "ods"), ("d.xlsx", "xls")):
        # one batch each: the same bytes under two names would be one file sent twice
        res = result(check(ctx, inbox / name, db=tmp_path / f"{name}.sqlite"), name)
        assert res.kind == kind and res.readable and res.unit == UNIT
        assert res.period == MAR.slug
        assert not any(f.code.startswith("meta-") for f in res.findings), name  # _meta survives, HMAC holds
        expected = {("file-extension-mismatch", "", "")} if name == "d.xlsx" else set()
        assert places(res.findings) == expected, name
        assert_values(res, sim)


def test_a_far_cell_in_an_xls_is_refused_before_rows_are_built(saved_by_libreoffice, tmp_path):
    ctx, _, files = saved_by_libreoffice
    path = shutil.copy(files["far-xls"], tmp_path / "far.xls")
    res = result(check(ctx, Path(path), db=tmp_path / "db.sqlite"), "far.xls")
    assert places(res.findings) == {("cell-out-of-range", "", "")}
    assert "IV60000" in res.findings[0].message and LEAD in res.findings[0].message


def test_a_resubmitted_xls_that_states_no_save_time_counts_by_its_arrival(saved_by_libreoffice, tmp_path):
    """An .xls carries no save time we read: it is ordered by when it arrived, not put before everything."""
    ctx, sim, files = saved_by_libreoffice
    inbox = tmp_path / "in"
    first = simulate(ctx, inbox / "第一次.xlsx", factor=1.3)  # saved (xlsxwriter) at issue time, 2026-03-01
    second = Path(shutil.copy(files["xls"], inbox / "第二次.xls"))
    for path, day in ((first.path, 21), (second, 22)):
        stamp = dt.datetime(2026, 3, day, 10).timestamp()
        os.utime(path, (stamp, stamp))
    batch = check(ctx, inbox, db=tmp_path / "db.sqlite")
    assert result(batch, "第二次.xls").status == "accepted"
    assert result(batch, "第一次.xlsx").status == "superseded"
    assert_values(batch.chosen[UNIT], sim)


def test_a_far_cell_in_an_ods_is_refused_before_parsing(saved_by_libreoffice, tmp_path):
    ctx, _, files = saved_by_libreoffice
    path = h.ods_with_far_cell(files["ods"], tmp_path / "far.ods")
    started = time.monotonic()
    res = result(check(ctx, path, db=tmp_path / "db.sqlite"), "far.ods")
    assert time.monotonic() - started < 20  # refused from the bytes: neither parser nor LibreOffice sees it
    assert places(res.findings) == {("cell-out-of-range", "", "")}


def test_an_encrypted_xls(saved_by_libreoffice, tmp_path):
    ctx, _, files = saved_by_libreoffice
    path = h.xls_with_filepass(files["xls"], tmp_path / "加密.xls")
    res = result(check(ctx, path, db=tmp_path / "db.sqlite"), "加密.xls")
    assert places(res.findings) == {("file-encrypted", "", "")}


def _ods_python_calamine_cannot_read(src: Path, dst: Path) -> Path:
    """A careless exporter's .ods: the stored result of the 完成率 formula is an empty office:value.
    python-calamine gives up on the whole file; LibreOffice reads it (and the formula result is never used)."""
    def edit(data: bytes) -> bytes:
        text = data.decode("utf-8")
        new, n = re.subn(r'(<table:table-cell [^>]*table:formula="[^"]*"[^>]*office:value=")[^"]*(")', r"\1\2",
                         text, count=1)
        assert n == 1
        return new.encode("utf-8")
    return h.rewrite_zip(src, dst, {"content.xml": edit})


def test_an_ods_python_calamine_cannot_read_is_converted_with_libreoffice(saved_by_libreoffice, tmp_path):
    ctx, sim, files = saved_by_libreoffice
    path = _ods_python_calamine_cannot_read(files["ods"], tmp_path / "in" / "区卫生健康局.ods")
    with pytest.raises(Exception):
        parse_sheets(path.read_bytes())
    before = sha(path)
    batch = check(ctx, path, db=tmp_path / "db.sqlite")
    res = result(batch, "区卫生健康局.ods")
    assert all_places(res.findings) == {("converted", "", "")}
    assert res.status == "accepted" and res.readable
    assert_values(res, sim)
    assert sha(path) == before
    # the archive keeps the original, not LibreOffice's conversion
    assert sha(Path(res.archive_path)) == before


def test_without_libreoffice_such_a_file_gets_a_clear_error(saved_by_libreoffice, tmp_path, monkeypatch):
    ctx, _, files = saved_by_libreoffice
    path = _ods_python_calamine_cannot_read(files["ods"], tmp_path / "in" / "区卫生健康局.ods")
    monkeypatch.setattr(office, "soffice_path", lambda: None)
    res = result(check(ctx, path, db=tmp_path / "db.sqlite"), "区卫生健康局.ods")
    assert places(res.findings) == {("converter-missing", "", "")}
    assert "LibreOffice" in res.findings[0].message
    assert res.status == "unreadable"


def test_a_workbook_filled_in_and_saved_by_libreoffice_passes(context, tmp_path):
    """Generate the blank workbook, fill it with openpyxl as a clerk would, let LibreOffice re-save it."""
    blank = generate_workbooks(context, MAR, [UNIT], tmp_path / "outbox").files[0].path
    filled = {("lead", "P01-I01"): {"current": 3, "cumulative": 3},
              ("lead", "P01-I02"): {"current": 40, "cumulative": 40},
              ("lead", "P01-I03"): {"current": 18, "cumulative": 18},
              ("lead", "P01-I04"): {"current": 120, "cumulative": 120},
              ("lead", "P01"): {"progress": 28, "status": "推进中",
                                "progress_text": "本月完成3家中心村卫生室主体建设，改造提升村卫生室40家，正在推进设备采购。",
                                "problems": "无", "next_steps": "加快设备采购和人员培训。"}}
    fields = {"B6": "王芳", "B7": "0537-3412345", "B8": "李华", "B9": dt.datetime(2026, 3, 24)}

    def fill(wb: openpyxl.Workbook) -> None:
        ws = wb[LEAD]
        for row, key in zip(range(4, 8), ("P01-I01", "P01-I02", "P01-I03", "P01-I04")):
            ws[f"H{row}"] = filled[("lead", key)]["current"]
            ws[f"I{row}"] = filled[("lead", key)]["cumulative"]
        project = filled[("lead", "P01")]
        for col, key in (("K", "progress"), ("L", "status"), ("M", "progress_text"), ("N", "problems"),
                         ("O", "next_steps")):
            ws[f"{col}4"] = project[key]
        for cell, value in fields.items():
            wb[INFO][cell] = value

    h.edit_workbook(blank, tmp_path / "filled.xlsx", fill)
    resaved = office.convert([tmp_path / "filled.xlsx"], "xlsx", tmp_path / "lo")[tmp_path / "filled.xlsx"]
    assert resaved is not None
    with zipfile.ZipFile(resaved) as zf:  # really LibreOffice's file now
        assert b"LibreOffice" in zf.read("docProps/app.xml")
    res = result(check(context, resaved), "filled.xlsx")
    assert not [f for f in res.findings if f.is_error], [f.line() for f in res.findings]
    assert res.status == "accepted" and res.unit == UNIT
    for key, cols in filled.items():
        for col, value in cols.items():
            assert res.values[key][col] == (pytest.approx(value) if isinstance(value, (int, float)) else value)
    assert res.fields == {"reporter": "王芳", "phone": "0537-3412345", "reviewer": "李华", "report_date": "2026-03-24"}


# ------------------------------------------------------------------ archive, store, discovery


def test_every_file_is_archived_and_recorded_and_originals_are_untouched(context, tmp_path):
    inbox = context.workspace.folder("inbox", MAR.slug)
    a = simulate(context, inbox / "科室转来" / "区卫生健康局(1).xlsx")
    simulate(context, inbox / "最终版 区民政局 填报表.xlsx", unit="区民政局")
    c = simulate(context, tmp_path / "src" / "x.xlsx", unit="区司法局")
    d = simulate(context, tmp_path / "src" / "y.xlsx", unit="区财政局")
    h.zip_of(inbox / "镇街打包.zip", {"区司法局填报表.xlsx": c.path, "区财政局（最终版）.xlsx": d.path}, gbk_names=True)
    (inbox / "~$区卫生健康局(1).xlsx").write_bytes(b"lock file of an open workbook")
    (inbox / "情况说明.txt").write_text("不是填报表", encoding="utf-8")
    old = dt.datetime(2026, 3, 20, 15, 30).timestamp()
    os.utime(a.path, (old, old))
    originals = {p: (sha(p), p.stat().st_mtime) for p in inbox.rglob("*") if p.is_file()}

    run = check_returns(context, None, MAR, feedback=False)
    names = {r.source.name: r for r in run.batch.files}
    assert set(names) == {"科室转来/区卫生健康局(1).xlsx", "最终版 区民政局 填报表.xlsx", "情况说明.txt",
                          "镇街打包.zip › 区司法局填报表.xlsx", "镇街打包.zip › 区财政局（最终版）.xlsx"}
    assert {r.unit for r in names.values() if r.status == "accepted"} == {UNIT, "区民政局", "区司法局", "区财政局"}
    assert places(names["情况说明.txt"].findings) == {("file-not-spreadsheet", "", "")}

    conn = sqlite3.connect(context.workspace.db_path)
    try:
        files = {row[0]: row for row in conn.execute("SELECT sha256, size, archive_path, first_name FROM files")}
        receipts = {row[1]: row for row in conn.execute(
            "SELECT sha256, original_name, received_at, period FROM receipts")}
    finally:
        conn.close()
    for name, r in names.items():
        archived = Path(r.archive_path)
        assert archived.parent.parent == context.workspace.folder("archive")
        assert archived.name.startswith(r.sha256)
        assert sha(archived) == r.sha256 == files[r.sha256][0]
        assert receipts[name][0] == r.sha256 and receipts[name][3] == MAR.slug
    for sim, name in ((a, "科室转来/区卫生健康局(1).xlsx"), (c, "镇街打包.zip › 区司法局填报表.xlsx")):
        assert Path(names[name].archive_path).read_bytes() == sim.path.read_bytes()
    # received: the file's arrival (mtime) for loose files, the zip entry's date for members
    assert dt.datetime.fromisoformat(receipts["科室转来/区卫生健康局(1).xlsx"][2]).timestamp() == old
    assert receipts["镇街打包.zip › 区司法局填报表.xlsx"][2].startswith("2026-03-20T09:00:00")
    assert {p: (sha(p), p.stat().st_mtime) for p in inbox.rglob("*") if p.is_file()} == originals
    # the zip batch itself is archived whole too
    zipped = inbox / "镇街打包.zip"
    assert receipts["镇街打包.zip"][0] == sha(zipped)
    assert Path(files[sha(zipped)][2]).read_bytes() == zipped.read_bytes()


def test_a_zip_inside_a_zip_is_skipped_with_a_warning(context, tmp_path, good):
    inner = h.zip_of(tmp_path / "inner.zip", {"a.xlsx": good.path})
    outer = h.zip_of(tmp_path / "in" / "outer.zip", {"inner.zip": inner, "区卫生健康局.xlsx": good.path})
    batch = check(context, outer)
    assert [(f.code, f.file) for f in batch.findings if f.code == "archive-member-skipped"] == \
        [("archive-member-skipped", "outer.zip › inner.zip")]
    assert result(batch, "outer.zip › 区卫生健康局.xlsx").status == "accepted"


# ------------------------------------------------------------------ duplicates and resubmissions


def test_duplicates_count_once_and_the_latest_resubmission_is_used(context, tmp_path):
    inbox = context.workspace.folder("inbox", MAR.slug)
    first = simulate(context, inbox / "区卫生健康局 最终版.xlsx", issued_at="2026-03-01T09:00:00+08:00")
    shutil.copy(first.path, inbox / "区卫生健康局 最终版（重发）.xlsx")  # the same file, sent twice
    second = simulate(context, inbox / "a 区卫生健康局 修改后.xlsx", factor=1.2,
                      issued_at="2026-03-10T09:00:00+08:00")  # found first, but newer
    run = check_returns(context, None, MAR, feedback=False)
    batch = run.batch
    dup = result(batch, "区卫生健康局 最终版（重发）.xlsx")
    old = result(batch, "区卫生健康局 最终版.xlsx")
    new = result(batch, "a 区卫生健康局 修改后.xlsx")
    assert dup.status == "duplicate" and all_places(dup.findings) == {("duplicate-file", "", "")}
    assert "区卫生健康局 最终版.xlsx" in dup.findings[0].message
    assert old.status == "superseded" and ("superseded", "", "") in all_places(old.findings)
    assert "a 区卫生健康局 修改后.xlsx" in next(f for f in old.findings if f.code == "superseded").message
    assert new.status == "accepted" and batch.chosen[UNIT] is new
    assert_values(new, second)
    s = batch.summary()
    assert (s["files"], s["duplicate"], s["superseded"], s["reported_units"]) == (3, 1, 1, 1)
    conn = sqlite3.connect(context.workspace.db_path)
    try:
        statuses = dict(conn.execute("SELECT original_name, status FROM returns"))
        receipts = conn.execute("SELECT COUNT(*), COUNT(DISTINCT sha256) FROM receipts").fetchone()
    finally:
        conn.close()
    assert statuses == {"区卫生健康局 最终版.xlsx": "superseded", "a 区卫生健康局 修改后.xlsx": "accepted"}
    assert receipts == (3, 2)
    assert Path(old.archive_path).exists() and Path(new.archive_path).exists()
    assert old.archive_path == dup.archive_path
    # the same files again: nothing new is archived or counted
    again = check_returns(context, None, MAR, feedback=False).batch
    assert again.summary()["reported_units"] == 1 and again.chosen[UNIT].sha256 == new.sha256


def _saved_at(src: Path, dst: Path, stamp: str) -> Path:
    def edit(data: bytes) -> bytes:
        return re.sub(rb"<dcterms:modified([^>]*)>[^<]*</dcterms:modified>",
                      b"<dcterms:modified\\1>" + stamp.encode() + b"</dcterms:modified>", data)
    return h.rewrite_zip(src, dst, {"docProps/core.xml": edit})


def test_resubmissions_are_ordered_by_the_instant_they_were_saved(context, tmp_path):
    """Excel writes UTC ("…Z"), other programs an offset: 17:30+08:00 is earlier than 10:00Z."""
    a = simulate(context, tmp_path / "a.xlsx")
    b = simulate(context, tmp_path / "b.xlsx", factor=1.2)
    inbox = tmp_path / "in"
    _saved_at(a.path, inbox / "1.xlsx", "2026-03-20T10:00:00Z")
    _saved_at(b.path, inbox / "2.xlsx", "2026-03-20T17:30:00+08:00")
    batch = check(context, inbox)
    assert result(batch, "1.xlsx").status == "accepted"
    assert result(batch, "2.xlsx").status == "superseded"


# ------------------------------------------------------------------ identity


def test_a_return_for_another_period(context, tmp_path):
    path = simulate(context, tmp_path / "feb.xlsx", period=FEB).path
    res = result(check(context, path), "feb.xlsx")
    assert ("period-mismatch", "", "") in places(res.findings)
    assert "2026-02" in next(f for f in res.findings if f.code == "period-mismatch").message
    assert res.status == "rejected" and res.unit == UNIT


def test_a_return_from_another_workspace(context, tmp_path):
    other = load_context(init_workspace(tmp_path / "other", "yanzhou-2026").root)
    path = simulate(other, tmp_path / "other.xlsx").path
    res = result(check(context, path), "other.xlsx")
    assert places(res.findings) == {("meta-other-workspace", "_meta", "")}
    assert res.unit == UNIT and res.status == "rejected"


def test_last_years_workbook(context, workspace_2024, tmp_path):
    old_ctx = load_context(workspace_2024.root)
    unit = next(u for u in old_ctx.projects.units if u in context.projects.units and old_ctx.projects.led_by(u))
    path = simulate(old_ctx, tmp_path / "2024.xlsx", unit=unit, period=Period.parse("2024-03")).path
    res = result(check(context, path), "2024.xlsx")
    found = places(res.findings)
    assert ("meta-other-workspace", "_meta", "") in found and ("period-mismatch", "", "") in found
    assert res.period == "2024-03"


def test_a_forged_meta_does_not_hide_a_changed_target(context, tmp_path, good):
    """The unit lowered a target and edited _meta's copy of the locked values to match: the signature breaks,
    and the locked values are taken from the project list instead."""
    def forge(wb: openpyxl.Workbook) -> None:
        payload = h.meta_payload(wb)
        for entry in payload["locked"]:
            if entry[:2] == [LEAD, "D4"]:
                entry[2] = 5
        h.set_meta_payload(wb, payload)  # the old HMAC stays
        wb[LEAD]["D4"] = 5

    path = h.edit_workbook(good.path, tmp_path / "forged.xlsx", forge)
    res = result(check(context, path), "forged.xlsx")
    assert places(res.findings) == {("meta-forged", "_meta", ""), ("locked-changed", LEAD, "D4")}
    changed = next(f for f in res.findings if f.code == "locked-changed")
    assert "原为「10」" in changed.message and "现为「5」" in changed.message


def test_data_pasted_into_a_fresh_workbook_is_recognised_by_its_title(context, tmp_path, good):
    path = h.copy_without_meta(good.path, tmp_path / "新建 Microsoft Excel 工作表.xlsx")
    res = result(check(context, path), path.name)
    assert places(res.findings) == {("meta-missing", "", "")}
    assert UNIT in res.findings[0].message and "2026年3月" in res.findings[0].message
    assert res.unit == UNIT and res.period == MAR.slug and res.status == "rejected"
    assert_values(res, good)  # read by the layout the project list gives


def test_an_old_template_version(context, tmp_path):
    old_spec = parse_spec(packaged_spec_text().replace('version = "2026.1"', 'version = "2025.9"'))
    assert old_spec.digest != context.spec.digest
    sim = simulate(dataclasses.replace(context, spec=old_spec), tmp_path / "old.xlsx")
    res = result(check(context, sim.path), "old.xlsx")
    assert places(res.findings) == {("meta-spec-version", "", "")}
    assert "2025.9" in res.findings[0].message
    assert res.status == "accepted"
    assert_values(res, sim)


# ------------------------------------------------------------------ the command, its outputs, memory and survival


def _hostile_inbox(ctx: Context, inbox: Path, src: h.Simulated) -> dict[str, str]:
    """Every hostile file next to good returns; returns {file: expected code}."""
    inbox.mkdir(parents=True, exist_ok=True)
    h.zip_bomb_xlsx(src.path, inbox / "bomb.xlsx", LEAD, megabytes=1024)
    h.zip_bomb_xlsx(src.path, inbox / "lie.xlsx", LEAD, megabytes=1024, lie=True)
    h.zip_bomb_archive(inbox / "bomb.zip", "x.xlsx", megabytes=1024)
    h.with_far_cell(src.path, inbox / "far.xlsx", LEAD, "XFD1048576")
    h.with_far_cell(src.path, inbox / "far-quoted.xlsx", LEAD, "XFD1048576", style="quoted")
    h.with_billion_laughs(src.path, inbox / "laughs.xlsx")
    h.encrypted_ooxml(inbox / "locked.xlsx")
    h.truncated(src.path, inbox / "cut.xlsx")
    (inbox / "empty.xlsx").write_bytes(b"")
    simulate(ctx, inbox / "民政.xlsx", unit="区民政局")
    simulate(ctx, inbox / "司法.xlsx", unit="区司法局")
    return {"bomb.xlsx": "zip-bomb", "lie.xlsx": "zip-bomb", "bomb.zip › x.xlsx": "zip-bomb",
            "far.xlsx": "cell-out-of-range", "far-quoted.xlsx": "cell-out-of-range", "laughs.xlsx": "xml-entity",
            "locked.xlsx": "file-encrypted", "cut.xlsx": "file-corrupt", "empty.xlsx": "file-empty"}


def test_check_survives_every_hostile_file_within_a_memory_limit(context, tmp_path, good):
    """`shixiang check` in a child process whose address space is capped at 600 MiB (a 1 GiB bomb read by
    anything would break the cap): it finishes, reports every file, and no process of it grew past 250 MiB."""
    expected = _hostile_inbox(context, context.workspace.folder("inbox", MAR.slug), good)
    cap = 600 * 1024 * 1024
    probe = (
        "import json, resource, subprocess, sys\n"
        f"resource.setrlimit(resource.RLIMIT_AS, ({cap}, {cap}))\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True)\n"
        "print(json.dumps({'rc': p.returncode, 'out': p.stdout.decode('utf-8', 'replace'),\n"
        "                  'err': p.stderr.decode('utf-8', 'replace')[-2000:],\n"
        "                  'maxrss_kib': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))\n")
    cmd = [sys.executable, "-c", probe, sys.executable, "-m", "shixiang_xl", "-w", str(context.workspace.root),
           "check", "--period", MAR.slug, "--format", "json"]
    started = time.monotonic()
    done = subprocess.run(cmd, capture_output=True, timeout=170, check=True)
    assert time.monotonic() - started < 120
    probe_out = json.loads(done.stdout)
    assert probe_out["rc"] == 1, probe_out["err"]
    doc = json.loads(probe_out["out"])
    assert set(doc) == {"files", "findings", "summary"}
    codes = {(f["file"], f["code"]) for f in doc["findings"]}
    for name, code in expected.items():
        assert (name, code) in codes, name
    statuses = {f["file"]: f["status"] for f in doc["files"]}
    assert statuses["民政.xlsx"] == "accepted" and statuses["司法.xlsx"] == "accepted"
    assert probe_out["maxrss_kib"] < 250 * 1024
    for f in doc["findings"]:
        assert set(f) == {"code", "severity", "unit", "file", "sheet", "cell", "message"}
        assert f["severity"] in ("错误", "警告", "提示")


def test_check_command_json_and_exit_codes(context, tmp_path):
    ws = str(context.workspace.root)
    inbox = context.workspace.folder("inbox", MAR.slug)
    simulate(context, inbox / "ok.xlsx")
    runner = CliRunner()
    ok = runner.invoke(main, ["-w", ws, "check", "--period", MAR.slug, "--format", "json"])
    assert ok.exit_code == 0, ok.output
    doc = json.loads(ok.stdout)
    assert doc["summary"]["errors"] == 0 and doc["files"][0]["status"] == "accepted"

    simulate(context, inbox / "broken.xlsx", unit="区民政局", tweak=lambda v, f: v[("lead", "P02-I01")].update(
        cumulative=None))
    bad = runner.invoke(main, ["-w", ws, "check", "--period", MAR.slug, "--format", "json"])
    assert bad.exit_code == 1
    doc = json.loads(bad.stdout)
    assert {"code": "required-empty", "severity": "错误", "unit": "区民政局", "file": "broken.xlsx", "sheet": LEAD,
            "cell": "I4"} in [{k: v for k, v in f.items() if k != "message"} for f in doc["findings"]]
    assert (context.workspace.folder("reports", MAR.slug) / "校验报告.xlsx").exists()
    feedback = list(context.workspace.folder("feedback", MAR.slug).glob("区民政局_*.xlsx"))
    assert len(feedback) == 1
    assert runner.invoke(main, ["-w", ws, "check"]).exit_code == 2  # no --period
    assert runner.invoke(main, ["-w", ws, "check", "--period", "2026-13"]).exit_code == 2
    assert runner.invoke(main, ["-w", ws, "check", "--period", MAR.slug, "--format", "xml"]).exit_code == 2


def test_report_and_annotated_copy_point_at_the_cells(context, tmp_path):
    inbox = context.workspace.folder("inbox", MAR.slug)

    def faults(values: dict, fields: dict) -> None:
        values[("lead", "P01-I02")]["cumulative"] = "约50"
        fields["phone"] = "12345"

    simulate(context, inbox / "区卫生健康局.xlsx", tweak=faults)
    run = check_returns(context, None, MAR)
    assert run.report == context.workspace.folder("reports", MAR.slug) / "校验报告.xlsx"
    wb = openpyxl.load_workbook(run.report, read_only=True)
    try:
        rows = [r for r in wb["问题明细"].iter_rows(values_only=True)]
    finally:
        wb.close()
    assert rows[0][0] == "2026年区政府十件民生实事填报表校验问题明细（2026年3月）"
    header = list(rows[1])
    table = [dict(zip(header, r)) for r in rows[2:]]
    assert {r["问题"] for r in table} >= {"联系电话不是有效的手机或座机号码"}
    assert {(r["代码"], r["工作表"], r["单元格"]) for r in table} >= {
        ("text-in-number-cell", LEAD, "I5"), ("current-mismatch", LEAD, "H5"), ("phone-invalid", INFO, "B7")}
    assert {r["级别"] for r in table} <= {"错误", "警告", "提示"}
    copy_path = run.feedback[UNIT]
    assert copy_path.parent == context.workspace.folder("feedback", MAR.slug)
    wb = openpyxl.load_workbook(copy_path)
    try:
        assert wb.sheetnames[0] == HINT_SHEET
        assert wb[LEAD]["I5"].comment is not None and "约50" in wb[LEAD]["I5"].comment.text
        assert wb[INFO]["B7"].comment is not None
        assert wb[LEAD]["I5"].value == "约50"  # the unit's own content, untouched
    finally:
        wb.close()


def test_openpyxl_never_opens_a_return_that_fails_the_deep_inspection(context, tmp_path, good):
    """Feedback copies are made with openpyxl, which intake's hot path never exposes to a file: the deep byte
    inspection comes first, and a file that fails it gets a findings-only copy instead of an annotated one."""
    from shixiang_xl.feedback import FeedbackJob, write_feedback
    from shixiang_xl.findings import finding

    far = h.with_far_cell(good.path, tmp_path / "far.xlsx", LEAD, "XFD1048576")
    found = (finding("text-in-number-cell", "本期完成值填写的是文字。", file="far.xlsx", sheet=LEAD, cell="H4",
                     unit=UNIT),)
    outs = {}
    for name, path in (("far", far), ("good", good.path)):
        outs[name] = Path(write_feedback(FeedbackJob(str(path), "xlsx", UNIT, f"{name}.xlsx", "2026年3月", "督查室",
                                                     found, str(tmp_path / f"{name}-退回.xlsx"))))
    wb = openpyxl.load_workbook(outs["far"])
    try:
        assert wb.sheetnames == [HINT_SHEET, "说明"] and "内部结构异常" in wb["说明"]["A1"].value
    finally:
        wb.close()
    wb = openpyxl.load_workbook(outs["good"])
    try:
        assert wb.sheetnames[0] == HINT_SHEET and LEAD in wb.sheetnames and wb[LEAD]["H4"].comment is not None
    finally:
        wb.close()


