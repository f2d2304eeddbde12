"""Intake, bytes: what a returned file really is and whether a parser may be given it, judged from its bytes alone
(format whatever the extension says, encryption, zip bombs, XML entities, cells far outside the template), then
its sheets' values through python-calamine with far-away cells refused.
"""

from __future__ import annotations

import io
import posixpath
import re
import struct
import zipfile
import zlib
from pathlib import Path
from typing import IO, Any

from xlsxwriter.utility import xl_col_to_name

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ZIP_MEMBERS = 500
MAX_UNCOMPRESSED = 80 * 1024 * 1024
MAX_RATIO = 200
MAX_ROW = 5_000
MAX_COL = 200  # column GR
_ENTITY = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_MODIFIED = re.compile(rb"<dcterms:modified[^>]*>([^<]+)</dcterms:modified>")
_ODF_DATE = re.compile(rb"<dc:date>([^<]+)</dc:date>")


def sniff(data: bytes) -> str:
    """What the bytes are: xlsx, xlsm, ods, ole (xls/et or encrypted OOXML), empty or unknown."""
    if not data:
        return "empty"
    if data.startswith(b"PK\x03\x04"):
        return "zip"
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    return "unknown"


def _ext_kind(name: str) -> str:
    ext = Path(name).suffix.lower()
    return {".xlsx": "xlsx", ".xltx": "xlsx", ".xlsm": "xlsm", ".xls": "xls", ".et": "xls", ".ett": "xls",
            ".ods": "ods"}.get(ext, "")


KIND_CN = {"xlsx": "Excel 工作簿（.xlsx）", "xlsm": "启用宏的 Excel 工作簿（.xlsm）", "xls": "Excel 97-2003 工作簿（.xls/.et）",
            "ods": "OpenDocument 表格（.ods）"}


def inspect(data: bytes, name: str, *, deep: bool = True) -> tuple[str, list[tuple[str, str]], str]:
    """(kind, problems as (code, message), saved_at) from the bytes alone, before any parser runs.

    ``deep=False`` is the hot path for .xlsx/.xlsm, which python-calamine then reads in an isolated worker: the
    format, encryption, member count and sizes (bombs, lying headers), but not the parts' content. What calamine
    is exposed to there costs at most that worker: it refuses DTDs and entities itself, :func:`parse_sheets`
    refuses far-away cells and merged ranges, and one cell at XFD1048576 aborts only the worker. Whenever calamine
    fails or the worker goes down, the deep inspection of that one file gives the exact finding
    (:func:`process_file`, :func:`_failure_result`); openpyxl (feedback copies) never opens a file without it.
    """
    problems: list[tuple[str, str]] = []
    head = sniff(data)
    if head == "empty":
        return "", [("file-empty", "文件是空的（0 字节），可能保存或发送失败。请重新保存后再发送。")], ""
    if head == "ole":
        if b"E\x00n\x00c\x00r\x00y\x00p\x00t\x00e\x00d\x00P\x00a\x00c\x00k\x00a\x00g\x00e" in data:
            return "", [("file-encrypted", "文件设置了打开密码，无法读取。请在 Excel/WPS 中取消密码（文件 › 信息 › 保护工作簿）后重新报送。")], ""
        if b"W\x00o\x00r\x00k\x00b\x00o\x00o\x00k" not in data and b"B\x00o\x00o\x00k" not in data:
            return "", [("file-not-spreadsheet", "这不是电子表格文件（可能是 Word 文档等）。请报送下发的填报表。")], ""
        kind = "xls"
        problem = _inspect_biff(data)
        if problem:
            return kind, [problem], ""
    elif head == "zip":
        try:
            zf = zipfile.ZipFile(io.BytesIO(data))
            names = set(zf.namelist())
        except (zipfile.BadZipFile, OSError, ValueError):
            return "", [("file-corrupt", "文件不完整或已损坏（可能传输中断）。请重新保存后再发送。")], ""
        with zf:
            if "xl/workbook.xml" in names or "xl/workbook.bin" in names:
                kind = "xlsm" if "xl/vbaProject.bin" in names else "xlsx"
                if "xl/workbook.bin" in names:
                    return "", [("file-not-spreadsheet", "这是 Excel 二进制工作簿（.xlsb），暂不支持。请另存为 .xlsx 后重新报送。")], ""
            elif "mimetype" in names and _head(zf, "mimetype", 60).startswith(b"application/vnd.oasis.opendocument.spreadsheet"):
                kind = "ods"
            elif "word/document.xml" in names:
                return "", [("file-not-spreadsheet", "这是 Word 文档，不是填报表。请报送下发的 Excel 填报表。")], ""
            else:
                return "", [("file-not-spreadsheet", "这是一个压缩文件，但不是电子表格。请报送下发的 Excel 填报表。")], ""
            problem = _inspect_zip(zf, kind, deep=deep or kind == "ods")
            if problem:
                return kind, [problem], ""
            saved_at = ""
            if "docProps/core.xml" in names:
                m = _MODIFIED.search(_head(zf, "docProps/core.xml", 20000))
                saved_at = m.group(1).decode("ascii", "replace").strip() if m else ""
            elif "meta.xml" in names:  # OpenDocument: <dc:date> is the last save
                m = _ODF_DATE.search(_head(zf, "meta.xml", 20000))
                saved_at = m.group(1).decode("ascii", "replace").strip() if m else ""
    else:
        text = data[:2000].lstrip().lower()
        if text.startswith(b"<html") or b"<table" in text:
            return "", [("file-not-spreadsheet", "这是网页（HTML）文件，只是扩展名像表格。请用 Excel/WPS 另存为 .xlsx 后重新报送。")], ""
        return "", [("file-not-spreadsheet", "这不是电子表格文件。请报送下发的 Excel 填报表（.xlsx）。")], ""
    claimed = _ext_kind(name)
    if claimed != kind and not (claimed == "xlsx" and kind == "xlsm"):
        shown = Path(name).suffix or "（无扩展名）"
        problems.append(("file-extension-mismatch", f"文件扩展名是「{shown}」，但实际是{KIND_CN[kind]}，已按实际格式读取。"))
    return kind, problems, saved_at if head == "zip" else ""


# BIFF8 records that hold a cell value, (row, column) in their first two 16-bit fields: NUMBER, RK, LABELSST,
# LABEL, RSTRING, FORMULA, BOOLERR and MULRK (whose last column is in its last two bytes).
_BIFF_CELLS = {0x0203, 0x027E, 0x00FD, 0x0204, 0x00D6, 0x0006, 0x0205, 0x00BD}
_BIFF_MULRK = 0x00BD


def _ole_stream(data: bytes, wanted: tuple[str, ...]) -> bytes | None:
    """The first top-level stream called one of ``wanted`` (any case) in a compound file (.xls/.et), or None
    (olefile; it guards against loops in the sector chains). Read so that the cells of an .xls can be looked at
    before python-calamine, which builds every sheet in full as it opens the file."""
    import olefile

    names = {w.lower() for w in wanted}
    try:
        if not olefile.isOleFile(data=data):
            return None
        with olefile.OleFileIO(data) as ole:
            for entry in ole.listdir(streams=True, storages=False):
                if len(entry) == 1 and entry[0].lower() in names:
                    with ole.openstream(entry) as stream:
                        return stream.read(MAX_FILE_BYTES)
    except Exception:  # noqa: BLE001 - a damaged compound file: python-calamine's own error will say so
        return None
    return None


def _inspect_biff(data: bytes) -> tuple[str, str] | None:
    """An .xls/.et that is encrypted, or holds a cell far outside the template (python-calamine would build the
    whole sheet, up to 65,536 × 256 cells, as it opens the file)."""
    stream = _ole_stream(data, ("Workbook", "Book"))
    if stream is None:
        return None
    names: dict[int, str] = {}
    current = ""
    pos, end = 0, len(stream)
    while pos + 4 <= end:
        rtype, length = struct.unpack_from("<HH", stream, pos)
        body = stream[pos + 4:pos + 4 + length]
        if rtype == 0x002F:  # FILEPASS: everything after it is encrypted
            return "file-encrypted", "文件设置了密码，无法读取。请在 Excel/WPS 中取消密码后重新报送。"
        if rtype == 0x0085 and length >= 8:  # BOUNDSHEET: where each sheet's records start, and its name
            cch, high = body[6], body[7]
            raw = body[8:8 + cch * (2 if high & 1 else 1)]
            names[struct.unpack_from("<I", body, 0)[0]] = raw.decode("utf-16-le" if high & 1 else "latin-1", "replace")
        elif rtype == 0x0809:  # BOF of a sheet
            current = names.get(pos, current)
        elif rtype in _BIFF_CELLS and length >= 4:
            row, col = struct.unpack_from("<HH", body, 0)
            if rtype == _BIFF_MULRK and length >= 6:
                col = struct.unpack_from("<H", body, length - 2)[0]
            if row + 1 > MAX_ROW or col + 1 > MAX_COL:
                where = f"工作表「{current}」的" if current else ""
                return "cell-out-of-range", (f"{where}单元格 {_a1_text(row + 1, col + 1)} 远超填报表的范围，已拒绝读取。"
                                             "请删除表格以外的内容后重新报送。")
        pos += 4 + length
    return None


def _head(zf: zipfile.ZipFile, name: str, size: int) -> bytes:
    """The first ``size`` bytes of a member (never the whole of a member that may be a bomb); b"" if unreadable."""
    try:
        with zf.open(zf.getinfo(name)) as fh:
            return fh.read(size)
    except (KeyError, zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError, zlib.error):
        return b""


_CORRUPT_PART = ("file-corrupt", "文件内部部件已损坏（可能传输中断）。请重新保存后再发送。")
_BOMB = ("zip-bomb", "文件解压后的内容异常巨大（疑似压缩炸弹），已拒绝读取。请用下发的填报表重新填写。")
_DTD = ("xml-entity", "文件内部含有 XML 实体声明（可被用来攻击读取程序），已拒绝读取。请用下发的填报表重新填写。")
_TARGET = re.compile(rb"""\bTarget\s*=\s*["']([^"']+)["']""")
_SHEETISH = re.compile(rb"<(?:[\w.-]+:)?(?:c|row|dimension|mergeCell)[\s/>]")


def _sheet_parts(zf: zipfile.ZipFile, kind: str) -> set[str]:
    """Members a parser reads as sheets (lower-cased): xl/worksheets/*, whatever the workbook's relationships
    point at (a hostile file may keep its sheet anywhere, under any extension), or ODS content.xml."""
    if kind == "ods":
        return {"content.xml"}
    parts = {i.filename.lower() for i in zf.infolist() if i.filename.lower().startswith("xl/worksheets/")}
    for target in _TARGET.findall(_head(zf, "xl/_rels/workbook.xml.rels", 1 << 20)):
        t = target.decode("utf-8", "replace").replace("\\", "/")
        t = t.lstrip("/") if t.startswith("/") else "xl/" + t
        parts.add(posixpath.normpath(t).lower())
    return parts


def _inspect_zip(zf: zipfile.ZipFile, kind: str, *, deep: bool = True) -> tuple[str, str] | None:
    infos = zf.infolist()
    if len(infos) > MAX_ZIP_MEMBERS:
        return "zip-bomb", f"文件内部含有 {len(infos)} 个部件，远超正常填报表，已拒绝读取。"
    total = 0
    for info in infos:
        total += info.file_size
        ratio = info.file_size / max(1, info.compress_size)
        if info.file_size > MAX_UNCOMPRESSED or total > MAX_UNCOMPRESSED or (info.file_size > 1024 * 1024
                                                                              and ratio > MAX_RATIO):
            return _BOMB
        # Deflate never grows data by more than a fraction of a percent: a member whose compressed data is much
        # bigger than its declared size lies about its size (a bomb in disguise; parsers inflate all of it).
        if info.compress_size > info.file_size + info.file_size // 100 + 1024:
            return _BOMB
    sheets = _sheet_parts(zf, kind)
    for info in infos:
        lower = info.filename.lower()
        sheet = lower in sheets
        if not (sheet or lower.endswith(".xml") or lower.endswith(".rels")):
            continue
        try:
            with zf.open(info) as fh:
                # A DTD can only stand in the prolog, before the root element: but for the deep inspection of
                # sheets, every part is judged by its head.
                xml = fh.read(MAX_UNCOMPRESSED + 1) if sheet and deep else _read_prolog(fh)
        except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError, zlib.error):
            return _CORRUPT_PART
        if len(xml) > MAX_UNCOMPRESSED:
            return _BOMB
        if not deep:
            if _has_dtd(xml[:_PROLOG_BYTES]):
                return _DTD
            # The dimension, where every program writes it (in the head). Cells and merged ranges are for
            # parse_sheets, which sees them as python-calamine does.
            if sheet and (m := _HEAD_DIMENSION.search(xml)):
                try:
                    _refuse_far_ranges([(b"dimension", m.group(1))])
                except Refused as refused:
                    return refused.code, refused.message
            continue
        # Parts a relationship names (shared strings, styles …) are scanned like sheets only when they look like
        # one (or are not UTF-8): a sheet hidden under another name is still seen, the usual parts stay cheap.
        if sheet and (lower.startswith("xl/worksheets/") or kind == "ods" or b"\x00" in xml[:64]
                      or _SHEETISH.search(xml)):
            if not _looks_like_xml(xml):
                continue  # not XML at all (an image named in a relationship): the parser will refuse it
            problem = _scan_sheet_xml(xml, ods=kind == "ods")
            if problem:
                return problem
        elif _has_dtd(xml[:_PROLOG_BYTES]):
            return _DTD
    return None


def explain(data: bytes, name: str) -> tuple[str, list[tuple[str, str]]]:
    """(kind, problems) the deep inspection finds, less the note about the extension: why a parser failed on a
    file, or must not be given it."""
    kind, problems, _ = inspect(data, name, deep=True)
    return kind, [(code, message) for code, message in problems if code != "file-extension-mismatch"]


def _looks_like_xml(data: bytes) -> bool:
    return data[:64].lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n").startswith(b"<")


class Refused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


_REF = re.compile(r"\s*\$?([A-Za-z]+)\$?([0-9]+)\s*")


def _ref_place(ref: str) -> tuple[int, int] | None:
    """(row, column), both 1-based, of an A1 reference (any case, $ allowed); None when it is not one."""
    m = _REF.fullmatch(ref)
    if not m:
        return None
    col = 0
    for ch in m.group(1).upper():
        col = col * 26 + ord(ch) - 64
    return int(m.group(2)), col


def _far(row: int, col: int) -> bool:
    return row > MAX_ROW or col > MAX_COL


def _a1_text(row: int, col: int) -> str:
    """The A1 text of a 1-based cell a file names, however far out (a column past ZZZZZZZZ is shown as that)."""
    return f"{xl_col_to_name(min(col, 26 ** 8) - 1) if col > 0 else ''}{row}"


def _local(name: str) -> str:
    return name.rpartition(":")[2]


def _attr(attrs: dict[str, str], local: str) -> str | None:
    """An attribute by its local name, whatever prefix a file gives it."""
    value = attrs.get(local)
    if value is None:
        for key, v in attrs.items():
            if key.rpartition(":")[2] == local:
                return v
    return value


def _scan_sheet_xml(xml: bytes, *, ods: bool = False) -> tuple[str, str] | None:
    """Refuse a sheet (xlsx worksheet or ODS content.xml) with a DTD, or with a dimension, merged range or any cell
    far outside the template — the one cell at XFD1048576 that makes python-calamine abort the process.

    expat sees what a parser sees: either quote, spaces around ``=``, character references, any prefix or
    encoding, rows and cells without a reference (placed after the previous one), ODS repeat counts.
    """
    if not ods:
        try:
            if _fast_sheet_scan(xml):
                return None
        except Refused as refused:
            return refused.code, refused.message
    from xml.parsers import expat

    parser = expat.ParserCreate()

    def doctype(*_args: object) -> None:
        raise Refused(*_DTD)

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = doctype
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    tracker = _OdsCells() if ods else _XlsxCells()
    parser.StartElementHandler = tracker.start
    if isinstance(tracker, _OdsCells):
        parser.EndElementHandler = tracker.end
    try:
        parser.Parse(xml, True)
    except Refused as refused:
        return refused.code, refused.message
    except (expat.ExpatError, ValueError, OverflowError):
        # Not well-formed: Excel, WPS and LibreOffice never write that, and lenient parsers disagree on what such
        # XML means (a repeated attribute: the first or the last?), so nothing here can be vouched for.
        return "file-corrupt", ("工作表的内部格式不规范（XML 有误），无法安全读取。"
                                "请用 Excel/WPS 打开后重新保存，或使用下发的填报表重新填写后报送。")
    return None


_FAST_CELL = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,7})"')
_FAST_ROW = re.compile(rb'<row r="([0-9]{1,7})"')
_HEAD_DIMENSION = re.compile(rb'<dimension ref="([A-Z]{1,3}[0-9]{1,10}(?::[A-Z]{1,3}[0-9]{1,10})?)"')
_FAST_RANGE = re.compile(rb'<(dimension|mergeCell) ref="([A-Z]{1,3}[0-9]{1,7}(?::[A-Z]{1,3}[0-9]{1,7})?)"')


def _fast_sheet_scan(xml: bytes) -> bool:
    """The common case in a fraction of expat's time: a sheet as Excel, WPS, LibreOffice and xlsxwriter write it
    (UTF-8, no prefixes, no DTD or comments, every row and cell with a plain ``r="A1"`` as its first attribute).

    Every ``r="`` in the file must be one of those references, so a duplicated or oddly written attribute sends the
    sheet to the full expat scan instead. True when the sheet is fine; False when only the full scan can tell.
    Raises :class:`Refused` for a far-away cell found here.
    """
    if b"<!" in xml or b"\x00" in xml[:64] or b"<worksheet" not in xml[:4096]:
        return False
    # Every mention of a merged range or the dimension must be one in the regular form (else the full scan).
    ranges = _FAST_RANGE.findall(xml) if b"mergeCell" in xml or b"dimension" in xml else []
    if len(ranges) != xml.count(b"mergeCell") - xml.count(b"mergeCells") + xml.count(b"dimension"):
        return False
    cells = _FAST_CELL.findall(xml)
    rows = _FAST_ROW.findall(xml)
    n_cells = xml.count(b"<c ") + xml.count(b"<c>") + xml.count(b"<c/")
    n_rows = xml.count(b"<row ") + xml.count(b"<row>") + xml.count(b"<row/")
    if len(cells) != n_cells or len(rows) != n_rows or xml.count(b' r="') != n_cells + n_rows:
        return False
    _refuse_far_ranges(ranges)
    for r in rows:
        if int(r) > MAX_ROW:
            _refuse_far("row", int(r), 1)
    for letters, digits in cells:
        col = 0
        for ch in letters:
            col = col * 26 + ch - 64
        if col > MAX_COL or int(digits) > MAX_ROW:
            _refuse_far("cell", int(digits), col)
    return True


def _refuse_far_ranges(ranges: list[tuple[bytes, bytes]]) -> None:
    """Refuse the first far-away corner among (element, b"A1:B2") pairs in their regular form (``_FAST_RANGE``)."""
    for what, ref in ranges:
        for part in ref.decode("ascii").split(":"):
            place = _ref_place(part)
            if place and _far(*place):
                _refuse_far("dimension" if what == b"dimension" else "merge", *place)


def _refuse_far(what: str, row: int, col: int) -> None:
    ref = _a1_text(row, col)
    if what == "dimension":
        message = (f"工作表的使用范围延伸到 {ref}，远超填报表的范围（约 {MAX_ROW} 行、{MAX_COL} 列以内），已拒绝读取。"
                   "请删除表格以外的内容（或复制填报内容到下发的新表中）后重新报送。")
    elif what == "merge":
        message = f"工作表中的合并单元格延伸到 {ref}，远超填报表的范围，已拒绝读取。请取消该合并后重新报送。"
    elif what == "row":
        message = f"工作表第 {row} 行有内容，远超填报表的范围，已拒绝读取。请删除表格以外的内容后重新报送。"
    else:
        message = f"单元格 {ref} 远超填报表的范围，已拒绝读取。请删除该单元格的内容后重新报送。"
    raise Refused("cell-out-of-range", message)


class _XlsxCells:
    """Tracks where every row and cell of a worksheet lands (the same way readers place unreferenced ones)."""

    def __init__(self) -> None:
        self.row = 0
        self.col = 0

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if ":" in name:
            name = name.rpartition(":")[2]
        if name == "c":
            ref = attrs.get("r")
            if ref is None:
                ref = _attr(attrs, "r")
            m = _REF.fullmatch(ref) if ref else None
            if m:
                letters = m.group(1)
                if len(letters) == 1:
                    self.col = ord(letters.upper()) - 64
                else:
                    self.col = 0
                    for ch in letters.upper():
                        self.col = self.col * 26 + ord(ch) - 64
                row = int(m.group(2))
            else:
                self.col += 1
                row = self.row
            if row > MAX_ROW or self.col > MAX_COL:
                _refuse_far("cell", row, self.col)
        elif name == "row":
            r = attrs.get("r")
            if r is None:
                r = _attr(attrs, "r")
            self.row = int(r) if r and r.strip().isdigit() else self.row + 1
            self.col = 0
            if self.row > MAX_ROW:
                _refuse_far("row", self.row, 1)
        elif name == "dimension" or name == "mergeCell":
            for part in (_attr(attrs, "ref") or "").split(":")[:2]:
                place = _ref_place(part)
                if place and _far(*place):
                    _refuse_far("dimension" if name == "dimension" else "merge", *place)


class _OdsCells:
    """Tracks ODS rows and cells with their repeat counts; only cells with content count (LibreOffice writes
    empty cells repeated to the sheet's very end). A table inside a cell is tracked on its own and then left."""

    def __init__(self) -> None:
        self.row = 0  # rows before the current one
        self.rows = 0  # repeat count of the current row
        self.col = 0
        self.cell: tuple[int, int] | None = None  # (first column, repeat count) of the open cell
        self.outer: list[tuple[int, int, int, tuple[int, int] | None]] = []

    def start(self, name: str, attrs: dict[str, str]) -> None:
        local = _local(name)
        if local == "table":
            if self.cell is not None:
                self.content()
            self.outer.append((self.row, self.rows, self.col, self.cell))
            self.row, self.rows, self.col, self.cell = 0, 0, 0, None
        elif local == "table-row":
            self.row += self.rows
            self.rows = _count(_attr(attrs, "number-rows-repeated"))
            self.col, self.cell = 0, None
        elif local in ("table-cell", "covered-table-cell"):
            cols = _count(_attr(attrs, "number-columns-repeated"))
            self.cell = (self.col, cols)
            self.col += cols
            if _attr(attrs, "value-type") or _attr(attrs, "formula"):
                self.content()
        elif self.cell is not None:  # text or anything else inside a cell
            self.content()

    def end(self, name: str) -> None:
        local = _local(name)
        if local in ("table-cell", "covered-table-cell"):
            self.cell = None
        elif local == "table" and self.outer:
            self.row, self.rows, self.col, self.cell = self.outer.pop()

    def content(self) -> None:
        assert self.cell is not None
        first, cols = self.cell
        last_row, last_col = self.row + self.rows, first + cols
        if _far(last_row, last_col):
            _refuse_far("cell", last_row, last_col)
        self.cell = None  # checked once


def _count(text: str | None) -> int:
    if not text:
        return 1
    try:
        return max(1, int(text.strip()))
    except ValueError:
        return 1


_PROLOG_BYTES = 64 * 1024
_PROLOG_SKIP = re.compile(rb"\s*(?:<\?.*?\?>|<!--.*?-->)", re.DOTALL)


_SHORT_HEAD = 4096


def _prolog_end(xml: bytes) -> int:
    """Where the XML declaration, processing instructions and comments before the root element end."""
    pos = 3 if xml.startswith(b"\xef\xbb\xbf") else 0
    while m := _PROLOG_SKIP.match(xml, pos):
        pos = m.end()
    return pos


def _read_prolog(fh: IO[bytes]) -> bytes:
    """A part's head, long enough for :func:`_has_dtd` to give the answer it gives on ``_PROLOG_BYTES``: mostly the
    first 4 KB (the prolog, the root element's start), more only when the prolog may run on past them."""
    head = fh.read(_SHORT_HEAD)
    if len(head) < _SHORT_HEAD:
        return head
    if head[:2] not in (b"\xff\xfe", b"\xfe\xff") and b"\x00" not in head[:4]:
        rest = head[_prolog_end(head):].lstrip()
        if len(rest) >= 64 and rest.startswith(b"<") and not rest.startswith((b"<?", b"<!--")):
            return head
    return head + fh.read(_PROLOG_BYTES - _SHORT_HEAD)


def _has_dtd(xml: bytes) -> bool:
    """True when the XML's prolog declares a DOCTYPE (the only place entities can be declared)."""
    if xml[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in xml[:4]:  # UTF-16 (or worse): look at it as text
        for codec in ("utf-16", "utf-16-le", "utf-16-be"):
            try:
                text = xml[: len(xml) // 2 * 2].decode(codec)
            except UnicodeDecodeError:
                continue
            if text.lstrip("\ufeff").lstrip().startswith("<"):
                return _has_dtd(text.lstrip("\ufeff").encode("utf-8"))
        return True  # neither UTF-8 nor UTF-16: no report workbook looks like this
    pos = _prolog_end(xml)
    head = xml[pos:pos + 16].lstrip()
    if head[:9].upper() == b"<!DOCTYPE" or head[:8].upper() == b"<!ENTITY":
        return True
    if not head.startswith(b"<") and len(xml) >= _PROLOG_BYTES:
        return True  # a prolog longer than we read is itself suspicious
    return bool(_ENTITY.search(xml[:pos + 16])) if pos >= _PROLOG_BYTES - 16 else False


def parse_sheets(data: bytes) -> dict[str, list[list[Any]]]:
    """Every sheet's cell values (python-calamine; it sniffs the format from the bytes)."""
    import python_calamine

    out: dict[str, list[list[Any]]] = {}
    with python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data)) as wb:
        for name in wb.sheet_names:
            sheet = wb.get_sheet_by_name(name)
            # .xls/.ods cells are not scanned before parsing: refuse a far-away cell before making Python rows
            end = sheet.end
            if end is not None and (end[0] + 1 > MAX_ROW or end[1] + 1 > MAX_COL):
                raise Refused("cell-out-of-range", f"工作表「{name}」的单元格 {_a1_text(end[0] + 1, end[1] + 1)} "
                               "远超填报表的范围，已拒绝读取。请删除表格以外的内容后重新报送。")
            for (top, left), (bottom, right) in sheet.merged_cell_ranges or ():
                if _far(bottom + 1, right + 1):
                    _refuse_far("merge", bottom + 1, right + 1)
            out[name] = sheet.to_python(skip_empty_area=False)
    return out
