"""xlsxout: rows written through xlsxwriter's public API (text never a formula), and the locked structure."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import python_calamine

from shixiang_xl.xlsxout import Formats, new_workbook, write_cells, write_rows

TRICKY = ["项目名称", " 前导空格", "尾随空格 ", "A&B <c> \"d\"", "控制\x01字符\x1f", "_x0041_", "多行\n文本",
          "=SUM(A1:A2)", "+86 0537", "x" * 20_000, "", None, 0, -3, 1 / 3, 1e20, 2.5, True, False]
# What a reader sees for each of them (control characters dropped, booleans in words, blanks as "").
SEEN = ["项目名称", " 前导空格", "尾随空格 ", "A&B <c> \"d\"", "控制字符", "_x0041_", "多行\n文本",
        "=SUM(A1:A2)", "+86 0537", "x" * 20_000, "", "", 0, -3, 1 / 3, 1e20, 2.5, "是", "否"]


def _sheet(constant_memory: bool, rows_api: bool) -> tuple[bytes, list[list[object]]]:
    buffer = io.BytesIO()
    wb = new_workbook(buffer, constant_memory=constant_memory)
    fmt = Formats(wb)
    ws = wb.add_worksheet("表")
    ws.write_string(0, 0, "标题", fmt("title"))
    formats = [fmt("text") if isinstance(v, str) else fmt("number") for v in TRICKY]
    rows = [TRICKY, list(reversed(TRICKY))]
    if rows_api:
        write_rows(ws, 1, rows, lambda values: (values, formats if values is TRICKY else formats[::-1], 30.0))
    else:
        for k, values in enumerate(rows):
            write_cells(ws, 1 + k, values, formats if values is TRICKY else formats[::-1], 30.0)
    wb.close()
    return buffer.getvalue(), rows


def test_cells_are_written_as_what_they_are_never_as_formulas():
    for constant_memory in (False, True):
        for rows_api in (False, True):
            data, _ = _sheet(constant_memory, rows_api)
            got = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name("表").to_python()
            assert got[1] == SEEN and got[2] == SEEN[::-1], (constant_memory, rows_api)
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                assert b"<f>" not in zf.read("xl/worksheets/sheet1.xml")
            wb = openpyxl.load_workbook(io.BytesIO(data))
            ws = wb["表"]
            assert ws.row_dimensions[2].height == 30.0 and ws.row_dimensions[3].height == 30.0
            assert ws["A2"].number_format == "General" and ws["M2"].number_format == "#,##0.##"
            wb.close()


def _parts(lock_structure: bool) -> dict[str, bytes]:
    buffer = io.BytesIO()
    wb = new_workbook(buffer, lock_structure=lock_structure)
    wb.add_worksheet("表").write_string(0, 0, "x")
    wb.close()
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def test_locked_structure_changes_nothing_but_the_protection():
    locked, open_ = _parts(True), _parts(False)
    assert locked.keys() == open_.keys()
    assert {n for n in locked if locked[n] != open_[n]} == {"xl/workbook.xml"}
    assert locked["xl/workbook.xml"] == open_["xl/workbook.xml"].replace(
        b"<bookViews>", b'<workbookProtection lockStructure="1"/><bookViews>')
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in locked.items():
            zf.writestr(name, data)
    wb = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))
    assert wb.security is not None and wb.security.lockStructure
    wb.close()
