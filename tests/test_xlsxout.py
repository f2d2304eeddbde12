"""xlsxout: the one-pass row writer gives the very XML xlsxwriter writes cell by cell."""

from __future__ import annotations

import io
import random
import zipfile

import python_calamine

from shixiang_xl.xlsxout import Formats, new_workbook, write_value

TRICKY = ["项目名称", " 前导空格", "尾随空格 ", "\u3000全角空格\u3000", "A&B <c> \"d\"", "控制\x01字符\x1f", "_x0041_",
          "非字符\ufffe", "多行\n文本", "\t", "=SUM(A1:A2)", "+86 0537", "x" * 20_000, "", None, 0, -3, 1 / 3, 1e20,
          -0.0, 123456789012345678, 2.5, True, False]


def _rows(seed: int) -> list[list[object]]:
    rng = random.Random(seed)
    return [[rng.choice(TRICKY) for _ in range(rng.randint(1, 14))] for _ in range(300)]


def _build(rows: list[list[object]], fast: bool) -> dict[str, bytes]:
    buffer = io.BytesIO()
    wb = new_workbook(buffer, constant_memory=True)
    fmt = Formats(wb)
    ws = wb.add_worksheet("表")
    ws.write_string(0, 0, "标题", fmt("title"))  # a row written the ordinary way before the fast ones
    formats = [fmt("text"), fmt("number"), None, fmt("center", bg_color="#FFC7CE"), fmt("percent")]
    for r, values in enumerate(rows, start=2):
        row_formats = [formats[c % len(formats)] for c in range(len(values))]
        height = 20.0 + r % 7 if r % 3 else None
        if fast:
            ws.write_cells(r, values, row_formats, height)
        else:
            if height is not None:
                ws.set_row(r, height)
            for c, (v, f) in enumerate(zip(values, row_formats)):
                if (v is None or v == "") and f is None:
                    continue
                write_value(ws, r, c, v, f, f)
    ws.write_string(len(rows) + 3, 0, "合计", fmt("plain", bold=True))
    wb.close()
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def test_write_cells_writes_the_xml_xlsxwriter_writes_cell_by_cell():
    for seed in range(3):
        rows = _rows(seed)
        fast, slow = _build(rows, fast=True), _build(rows, fast=False)
        assert fast.keys() == slow.keys()
        for name in fast:
            assert fast[name] == slow[name], (seed, name)


def test_write_cells_never_writes_text_as_markup_or_formula():
    buffer = io.BytesIO()
    wb = new_workbook(buffer, constant_memory=True)
    ws = wb.add_worksheet("表")
    text = ["<r><t>raw</t></r>", "=1+1", "a&b"]
    ws.write_cells(0, text, [None, None, None])
    wb.close()
    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(buffer.getvalue()))
    assert book.get_sheet_by_name("表").to_python() == [text]
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as zf:
        assert b"<f>" not in zf.read("xl/worksheets/sheet1.xml")


def _build_rows(rows: list[list[object]], split: int | None, *, declare: bool = True) -> dict[str, bytes]:
    """A sheet written with write_rows (split between two processes at ``split``), with a row above and below."""
    buffer = io.BytesIO()
    wb = new_workbook(buffer, constant_memory=True)
    fmt = Formats(wb)
    ws = wb.add_worksheet("表")
    ws.write_string(0, 0, "标题", fmt("title"))
    plain = [fmt("text"), fmt("number"), None, fmt("center", bg_color="#FFC7CE"), fmt("percent")]
    late = [fmt("text", italic=True)] * 14  # first used by rows in the second half only

    def make(item: tuple[int, list[object]]):
        k, values = item
        formats = late if k > len(rows) * 3 // 4 and k % 5 == 0 else plain * 3
        return values, formats[:len(values)], 20.0 + k % 7 if k % 3 else None

    ws.write_rows(2, list(enumerate(rows)), make, [plain * 3] + ([late] if declare else []), split=split)
    ws.write_string(len(rows) + 3, 0, "合计", fmt("plain", bold=True))
    wb.close()
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def test_rows_written_by_two_processes_give_the_same_workbook_as_by_one():
    rows = _rows(11)
    rows[149] = [True, "x" * 20_000]  # the last row of the first half and of the whole go through xlsxwriter's
    rows[-1] = ["y" * 17_000, False]  # own path, which holds a row back until the next one
    one = _build_rows(rows, split=None)
    for split in (1, 150, 299):
        assert _build_rows(rows, split=split) == one, split
    # a format the rows use but were not declared: the other process must not give it an index of its own;
    # its rows are written here instead, and the workbook is still the same
    undeclared = _build_rows(rows, split=None, declare=False)
    assert _build_rows(rows, split=150, declare=False) == undeclared
    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(_pack(one)))
    got = book.get_sheet_by_name("表").to_python()
    assert len(got) == len(rows) + 4 and got[-1][0] == "合计"
    assert got[2 + 149][:2] == ["是", "x" * 20_000] and got[2 + 299][:2] == ["y" * 17_000, "否"]


def _pack(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def test_attributes_are_escaped_as_xlsxwriter_escapes_them():
    """The worksheet lets numbers and letters-and-digits through unsearched; everything else as xlsxwriter does."""
    from xlsxwriter.worksheet import Worksheet

    from shixiang_xl.xlsxout import _worksheet_class

    ours, stock = _worksheet_class()(), Worksheet()
    for value in [*TRICKY, "A1", "XFD1048576", "项目1", "a\"b", "1&2", "<x>", "行\n二", 7, 2.5, None]:
        assert ours._escape_attributes(value) == stock._escape_attributes(value), value

    def sheet_xml(escape_like_xlsxwriter: bool) -> bytes:
        buffer = io.BytesIO()
        wb = new_workbook(buffer)
        ws = wb.add_worksheet("表")
        if escape_like_xlsxwriter:
            ws._escape_attributes = lambda value: Worksheet._escape_attributes(ws, value)
        ws.data_validation(0, 0, 9, 2, {"validate": "decimal", "criteria": ">=", "value": 0,
                                        "input_title": "填\"写\"", "input_message": "A&B <c>\n第二行",
                                        "error_message": "请填数字 & 重试"})
        ws.write_string(0, 0, "x", wb.add_format({"num_format": '0.0"%"'}))
        wb.close()
        with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as zf:
            return zf.read("xl/worksheets/sheet1.xml")

    ours_xml = sheet_xml(False)
    assert ours_xml == sheet_xml(True)
    assert b"A&amp;B &lt;c&gt;&#xA;" in ours_xml and b"&quot;" in ours_xml


def test_row_sizes_behave_as_the_dict_xlsxwriter_keeps():
    """RowSizes (heights in an array) answers every question xlsxwriter asks as its dict of [height, hidden]."""
    from shixiang_xl.xlsxout import RowSizes

    rng = random.Random(5)
    sizes, model = RowSizes(), {}
    for _ in range(3000):
        op, row = rng.random(), rng.choice([rng.randint(0, 400), rng.randint(0, 5), 1_048_575, 70_000])
        if op < 0.5:
            pixels = rng.randint(1, 545)
            sizes.set_height(row, pixels)
            model[row] = [pixels, False]
        elif op < 0.8:
            value = [rng.choice([rng.randint(0, 545), 12.5]), rng.random() < 0.5]
            sizes[row] = value
            model[row] = value
        elif row in model:
            del sizes[row]
            del model[row]
        else:
            try:
                del sizes[row]
            except KeyError:
                pass
            else:
                raise AssertionError(f"row {row} was deleted without being there")
    assert dict(sizes) == model and len(sizes) == len(model) and list(sizes) == sorted(model)
    assert all((r in sizes) == (r in model) for r in range(-2, 500)) and "1" not in sizes
    assert bool(RowSizes()) is False and bool(sizes) is True


def _drawing(ours: bool) -> bytes:
    """A sheet of rows of many heights (one hidden) with a chart over some of them, written by our worksheet
    (write_cells) or by plain xlsxwriter (set_row); where the chart ends depends on the heights of the rows it
    covers."""
    import xlsxwriter

    buffer = io.BytesIO()
    wb = new_workbook(buffer, constant_memory=True) if ours else \
        xlsxwriter.Workbook(buffer, {"constant_memory": True, "in_memory": True})
    ws = wb.add_worksheet("表")
    for r in range(500):
        height = 15.0 + (r * 7) % 40
        if r == 250:
            ws.set_row(r, height, None, {"hidden": True})
            ws.write_string(r, 0, "隐藏")
        elif ours:
            ws.write_cells(r, ["文本", r], [None, None], height)
        else:
            ws.set_row(r, height)
            ws.write_string(r, 0, "文本")
            ws.write_number(r, 1, r)
    chart = wb.add_chart({"type": "column"})
    chart.add_series({"values": ["表", 0, 1, 499, 1]})
    ws.insert_chart(245, 1, chart)
    wb.close()
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as zf:
        return zf.read("xl/drawings/drawing1.xml")


def test_a_chart_over_rows_written_in_one_pass_sits_where_xlsxwriter_puts_it():
    ours, theirs = _drawing(True), _drawing(False)
    assert b"<xdr:row>245</xdr:row>" in ours and ours == theirs
