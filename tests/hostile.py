"""Craft hostile and unusual returned files, deterministically, from a freshly simulated return.

Nothing here is committed as a binary fixture: every file is made in the test's tmp_path from a workbook the
package generated a moment before. Helpers edit the xlsx at the byte level (the zip members and their XML), the way
a malicious sender would, or through openpyxl, the way a careless clerk's spreadsheet program would.
"""

from __future__ import annotations

import copy
import dataclasses
import io
import json
import re
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Callable

import openpyxl

Edit = Callable[[bytes], bytes]


# ------------------------------------------------------------------ zip level


def rewrite_zip(src: Path, dst: Path, edits: dict[str, Edit | None] | None = None,
                add: dict[str, bytes] | None = None) -> Path:
    """Copy the zip ``src`` to ``dst``: ``edits`` maps a member to a function of its bytes (None drops it);
    ``add`` appends new members. Member order and compression are kept."""
    edits = edits or {}
    dst.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename in edits:
                edit = edits[info.filename]
                if edit is None:
                    continue
                data = edit(data)
            zout.writestr(info, data, compress_type=info.compress_type)
        for name, data in (add or {}).items():
            zout.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
    return dst


def sheet_member(path: Path, sheet: str) -> str:
    """The zip member (xl/worksheets/sheetN.xml) that holds the sheet called ``sheet``."""
    with zipfile.ZipFile(path) as zf:
        workbook = zf.read("xl/workbook.xml").decode("utf-8")
        rels = zf.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    m = re.search(r'<sheet [^>]*name="%s"[^>]*r:id="([^"]+)"' % re.escape(sheet), workbook)
    assert m, f"no sheet {sheet} in {path}"
    target = re.search(r'<Relationship [^>]*Id="%s"[^>]*Target="([^"]+)"' % m.group(1), rels) \
        or re.search(r'<Relationship [^>]*Target="([^"]+)"[^>]*Id="%s"' % m.group(1), rels)
    assert target
    name = target.group(1).lstrip("/")
    return name if name.startswith("xl/") else "xl/" + name


def append_row_xml(row_xml: bytes) -> Edit:
    """An edit adding raw ``<row>`` XML at the end of a sheet's ``<sheetData>``."""
    def edit(data: bytes) -> bytes:
        assert b"</sheetData>" in data
        return data.replace(b"</sheetData>", row_xml + b"</sheetData>", 1)
    return edit


def with_far_cell(src: Path, dst: Path, sheet: str, ref: str = "XFD1048576", *, style: str = "plain") -> Path:
    """A single cell far outside the template (the cell that makes python-calamine abort the process).

    ``style``: "plain" (``<row r="1048576"><c r="XFD1048576">``), "quoted" (single quotes, spaces around =,
    lower-case letters), "implicit-row" (the row has no r attribute, so only the cell says where it is),
    "merge" (a merged range reaching the cell: no cell at all, but openpyxl would create every cell in it),
    "merge-tab" (the same, written with a tab after the element name).
    """
    m = re.fullmatch(r"([A-Z]+)(\d+)", ref)
    assert m
    row = m.group(2).encode()
    if style == "plain":
        edit = append_row_xml(b'<row r="%s"><c r="%s"><v>1</v></c></row>' % (row, ref.encode()))
    elif style == "quoted":
        edit = append_row_xml(b"<row r = '%s'><c r = '%s' t='n'><v>1</v></c></row>" % (row, ref.lower().encode()))
    elif style == "implicit-row":
        edit = append_row_xml(b"<row><c r='%s'><v>1</v></c></row>" % ref.encode())
    elif style in ("merge", "merge-tab"):
        def edit(data: bytes) -> bytes:
            # "merge-tab": a tab where Excel writes a space, which a search for '<mergeCell ' does not see
            extra = (b'<mergeCell ref="A200:%s"/>' if style == "merge" else b'<mergeCell\tref="A200:%s"/>') % ref.encode()
            if b"</mergeCells>" in data:
                return data.replace(b"</mergeCells>", extra + b"</mergeCells>", 1)
            return data.replace(b"</sheetData>", b"</sheetData><mergeCells count=\"1\">" + extra + b"</mergeCells>", 1)
    else:
        raise ValueError(style)
    return rewrite_zip(src, dst, {sheet_member(src, sheet): edit})


def ods_with_far_cell(src: Path, dst: Path) -> Path:
    """An .ods (as LibreOffice writes it) whose trailing run of empty rows × columns — a million rows repeated,
    16,384 cells each — is given a value: every one of those cells now holds 1."""
    def edit(data: bytes) -> bytes:
        out, n = re.subn(rb'(<table:table-row [^>]*table:number-rows-repeated="\d{5,}"[^>]*>)<table:table-cell ',
                         rb'\1<table:table-cell office:value-type="float" office:value="1" ', data, count=1)
        assert n == 1
        return out
    return rewrite_zip(src, dst, {"content.xml": edit})


def with_dimension(src: Path, dst: Path, sheet: str, ref: str = "A1:A1") -> Path:
    """The sheet's stored ``<dimension>`` replaced (WPS writes A1:A1 whatever the sheet holds)."""
    def edit(data: bytes) -> bytes:
        out, n = re.subn(rb'<dimension ref="[^"]*"/>', b'<dimension ref="%s"/>' % ref.encode(), data)
        assert n == 1
        return out
    return rewrite_zip(src, dst, {sheet_member(src, sheet): edit})


BILLION_LAUGHS = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                  b'<!DOCTYPE sst [\n <!ENTITY lol "lol">\n'
                  + b"".join(b' <!ENTITY lol%d "%s">\n' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                             for i in range(1, 10))
                  + b"]>\n")


def with_billion_laughs(src: Path, dst: Path, member: str = "xl/sharedStrings.xml", *,
                        encoding: str = "utf-8", padding: int = 0) -> Path:
    """The classic billion-laughs entity expansion declared in a member's DOCTYPE and used in its first string.

    With ``encoding="utf-16"`` the whole member is re-encoded (a byte search for ``<!ENTITY`` no longer sees it);
    ``padding`` puts a comment that long between the XML declaration and the DOCTYPE.
    """
    def edit(data: bytes) -> bytes:
        body = re.sub(rb"^<\?xml[^>]*\?>\s*", b"", data)
        body = body.replace(b"<t>", b"<t>&lol9;", 1) if b"<t>" in body else body
        decl, _, doctype = BILLION_LAUGHS.partition(b"?>")
        pad = b"<!--" + b"x" * padding + b"-->" if padding else b""
        xml = decl + b"?>" + pad + doctype + body
        if encoding != "utf-8":
            xml = xml.replace(b'encoding="UTF-8"', b'encoding="UTF-16"', 1).decode("utf-8").encode(encoding)
        return xml
    return rewrite_zip(src, dst, {member: edit})


def with_external_entity(src: Path, dst: Path, member: str = "xl/sharedStrings.xml") -> Path:
    """An external entity (XXE) pointing at a local file."""
    def edit(data: bytes) -> bytes:
        body = re.sub(rb"^<\?xml[^>]*\?>\s*", b"", data)
        body = body.replace(b"<t>", b"<t>&xxe;", 1)
        return (b'<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
                b'<!DOCTYPE sst [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n' + body)
    return rewrite_zip(src, dst, {member: edit})


def with_macros(src: Path, dst: Path) -> Path:
    """An .xlsm: the workbook gains xl/vbaProject.bin (a stand-in OLE blob), its relationship and content type."""
    vba = ole_file({"PROJECT": b"ID=\"{00000000-0000-0000-0000-000000000000}\"\r\nDocument=ThisWorkbook/&H00000000\r\n"
                    + b" " * 4096,
                    "dir": b"\x01" * 4096}, root_name="Root Entry")

    def types(data: bytes) -> bytes:
        data = data.replace(b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                            b"application/vnd.ms-excel.sheet.macroEnabled.main+xml")
        return data.replace(b"</Types>", b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
                            b"</Types>")

    def rels(data: bytes) -> bytes:
        return data.replace(b"</Relationships>", b'<Relationship Id="rIdVba" Type="http://schemas.microsoft.com/'
                            b'office/2006/relationships/vbaProject" Target="vbaProject.bin"/></Relationships>')

    return rewrite_zip(src, dst, {"[Content_Types].xml": types, "xl/_rels/workbook.xml.rels": rels},
                       add={"xl/vbaProject.bin": vba})


_MB = 1 << 20


def _bomb_stream(head: bytes, fill: bytes, megabytes: int, tail: bytes) -> tuple[bytes, int, int]:
    """A raw deflate stream of ``head`` + ``megabytes`` MiB of ``fill`` + ``tail``: (stream, crc32, size).

    Each MiB is compressed independently (full flush), so its ~1 KB of output is simply repeated: a 1 GiB member
    costs a second to make, not a minute.
    """
    block = fill * _MB

    def segment(data: bytes, mode: int) -> bytes:
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        return c.compress(data) + c.flush(mode)

    piece = segment(block, zlib.Z_FULL_FLUSH)
    crc = zlib.crc32(head)
    for _ in range(megabytes):
        crc = zlib.crc32(block, crc)
    crc = zlib.crc32(tail, crc)
    stream = segment(head, zlib.Z_FULL_FLUSH) + piece * megabytes + segment(tail, zlib.Z_FINISH)
    return stream, crc, len(head) + megabytes * _MB + len(tail)


def _patch_member(data: bytearray, member: str, **fields: int) -> None:
    """Set ``method``, ``crc`` and/or ``size`` (uncompressed) of ``member`` in its local and central headers."""
    name = member.encode("utf-8")
    offsets = {b"PK\x03\x04": {"method": 8, "crc": 14, "size": 22, "name_len": 26, "fixed": 30},
               b"PK\x01\x02": {"method": 10, "crc": 16, "size": 24, "name_len": 28, "fixed": 46}}
    patched = 0
    for sig, at in offsets.items():
        pos = 0
        while (pos := data.find(sig, pos)) >= 0:
            (n_len,) = struct.unpack_from("<H", data, pos + at["name_len"])
            if bytes(data[pos + at["fixed"]:pos + at["fixed"] + n_len]) == name:
                for key, value in fields.items():
                    struct.pack_into("<H" if key == "method" else "<I", data, pos + at[key], value)
                patched += 1
            pos += 4
    assert patched == 2, f"{member}: {patched} headers patched"


def _zip_with_bomb(dst: Path, members: list[tuple[zipfile.ZipInfo, bytes]], bomb_name: str,
                   bomb: tuple[bytes, int, int], claimed: int | None = None) -> Path:
    """Write ``members`` as they are, and ``bomb_name`` as a precompressed deflate member (headers patched)."""
    stream, crc, size = bomb
    with zipfile.ZipFile(dst, "w") as zout:
        for info, data in members:
            if info.filename == bomb_name:
                stored = zipfile.ZipInfo(bomb_name, date_time=info.date_time)
                stored.flag_bits |= 0x800
                zout.writestr(stored, stream, compress_type=zipfile.ZIP_STORED)
            else:
                zout.writestr(info, data, compress_type=info.compress_type)
    data = bytearray(dst.read_bytes())
    _patch_member(data, bomb_name, method=zipfile.ZIP_DEFLATED, crc=crc, size=size if claimed is None else claimed)
    dst.write_bytes(bytes(data))
    return dst


def zip_bomb_xlsx(src: Path, dst: Path, sheet: str, megabytes: int = 1024, *, lie: bool = False) -> Path:
    """A return whose sheet XML expands to ~``megabytes`` MiB: a huge run of spaces inside the XML (~1000:1).

    The zip's headers tell the truth (uncompressed size and all) unless ``lie``: then both headers claim the
    member is as small as the original sheet, and only decompressing shows otherwise.
    """
    member = sheet_member(src, sheet)
    with zipfile.ZipFile(src) as zin:
        members = [(info, zin.read(info.filename)) for info in zin.infolist()]
    original = next(data for info, data in members if info.filename == member)
    head, tail = original.split(b"<sheetData>", 1)
    bomb = _bomb_stream(head + b"<sheetData>", b" ", megabytes, tail)
    return _zip_with_bomb(dst, members, member, bomb, claimed=len(original) if lie else None)


def zip_bomb_archive(dst: Path, member: str = "2026年3月_区卫生健康局_填报表.xlsx", megabytes: int = 1024) -> Path:
    """A .zip of "returns" whose one member expands to ~``megabytes`` MiB of zeros."""
    info = zipfile.ZipInfo(member, date_time=(2026, 3, 20, 9, 0, 0))
    return _zip_with_bomb(dst, [(info, b"")], member, _bomb_stream(b"PK\x03\x04", b"\0", megabytes, b""))


def xls_with_filepass(src: Path, dst: Path) -> Path:
    """An .xls that says it is encrypted: a FILEPASS record (XOR obfuscation) right after the workbook's BOF, in
    place of INTERFACEHDR, MMS and INTERFACEEND (16 bytes: FILEPASS and a 2-byte INTERFACEEND fill them)."""
    data = bytearray(src.read_bytes())
    bof = data.find(b"\x09\x08\x10\x00\x00\x06\x05\x00")  # BIFF8 BOF of the workbook globals
    assert bof > 0
    start = bof + 4 + 16
    pos, seen = start, []
    for _ in range(3):
        rtype, length = struct.unpack_from("<HH", data, pos)
        seen.append(rtype)
        pos += 4 + length
    assert seen == [0x00E1, 0x00C1, 0x00E2] and pos - start == 16, seen
    data[start:pos] = (struct.pack("<HHHHH", 0x002F, 6, 0, 0x1234, 0x5678)  # FILEPASS: XOR, key, verifier
                       + struct.pack("<HH", 0x00E2, 2) + b"\0\0")
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_bytes(bytes(data))
    return dst


def zip_of(dst: Path, files: dict[str, Path | bytes], *, gbk_names: bool = False) -> Path:
    """A .zip of returns (names as a Chinese Windows zipper writes them when ``gbk_names``)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    raw_names: dict[bytes, bytes] = {}
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for k, (name, content) in enumerate(files.items()):
            data = content.read_bytes() if isinstance(content, Path) else content
            if gbk_names:  # an ASCII stand-in of the same length, replaced by the GBK bytes below
                gbk = name.encode("gbk")
                stand_in = f"@{k}@".ljust(len(gbk), "@")
                assert len(stand_in) == len(gbk)
                raw_names[stand_in.encode("ascii")] = gbk
                info = zipfile.ZipInfo(stand_in, date_time=(2026, 3, 20, 9, 0, 0))
            else:
                info = zipfile.ZipInfo(name, date_time=(2026, 3, 20, 9, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zout.writestr(info, data)
    if raw_names:
        raw = dst.read_bytes()
        for stand_in, gbk in raw_names.items():
            assert raw.count(stand_in) == 2  # local header and central directory
            raw = raw.replace(stand_in, gbk)
        dst.write_bytes(raw)
    return dst


def truncated(src: Path, dst: Path, fraction: float = 0.6) -> Path:
    """The first part of a file only (a download or e-mail attachment cut short)."""
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * fraction)])
    return dst


# ------------------------------------------------------------------ OLE2 (compound file) writer


def ole_file(streams: dict[str, bytes], root_name: str = "Root Entry") -> bytes:
    """A minimal but valid compound file (CFB v3, 512-byte sectors) holding ``streams`` in the root storage.

    Streams shorter than 4096 bytes are padded to 4096, so no mini stream is needed.
    """
    SECTOR = 512
    FREE, END, FATSECT = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD
    items = [(name, data.ljust(4096, b"\0")) for name, data in streams.items()]
    assert len(items) <= 3
    stream_sectors = [(len(data) + SECTOR - 1) // SECTOR for _, data in items]
    n_dir = 1  # 4 entries of 128 bytes
    n_data = sum(stream_sectors)
    n_fat = 1
    while (n_fat + n_dir + n_data) > n_fat * (SECTOR // 4):
        n_fat += 1
    assert n_fat <= 109
    fat: list[int] = [FATSECT] * n_fat
    dir_start = len(fat)
    fat.append(END)
    starts = []
    for count in stream_sectors:
        starts.append(len(fat))
        fat.extend(range(len(fat) + 1, len(fat) + count))
        fat.append(END)
    fat.extend([FREE] * (n_fat * (SECTOR // 4) - len(fat)))

    def entry(name: str, kind: int, left: int, right: int, child: int, start: int, size: int) -> bytes:
        raw = name.encode("utf-16-le") + b"\0\0"
        return (raw.ljust(64, b"\0") + struct.pack("<HBB", len(raw), kind, 1) + struct.pack("<III", left, right, child)
                + b"\0" * 16 + struct.pack("<I", 0) + b"\0" * 16 + struct.pack("<IQ", start, size))

    # Siblings as a chain ordered by (length, upper-case name), all black: a valid red-black tree for ≤3 entries.
    order = sorted(range(len(items)), key=lambda k: (len(items[k][0]), items[k][0].upper()))
    entries = [b""] * (len(items) + 1)
    for pos, k in enumerate(order):
        right = order[pos + 1] + 1 if pos + 1 < len(order) else FREE
        entries[k + 1] = entry(items[k][0], 2, FREE, right, FREE, starts[k], len(streams[items[k][0]]))
    entries[0] = entry(root_name, 5, FREE, FREE, order[0] + 1 if order else FREE, END, 0)
    directory = b"".join(entries).ljust(SECTOR * n_dir, b"\0")
    if len(entries) < 4:  # unused entries must be empty with FREE links
        directory = b"".join(entries) + b"".join(
            b"\0" * 64 + struct.pack("<HBB", 0, 0, 0) + struct.pack("<III", FREE, FREE, FREE) + b"\0" * 48
            for _ in range(4 - len(entries)))
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16 + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
              + b"\0" * 6 + struct.pack("<IIIIIIIII", 0, n_fat, dir_start, 0, 4096, END, 0, END, 0)
              + b"".join(struct.pack("<I", k) for k in range(n_fat)) + struct.pack("<I", FREE) * (109 - n_fat))
    assert len(header) == SECTOR
    body = b"".join(struct.pack("<I", v) for v in fat) + directory
    for _, data in items:
        body += data.ljust(((len(data) + SECTOR - 1) // SECTOR) * SECTOR, b"\0")
    return header + body


def encrypted_ooxml(dst: Path, seed: int = 7) -> Path:
    """What Excel/WPS write for an xlsx with an open password: an OLE2 file with EncryptionInfo (agile, 4.4)
    and EncryptedPackage streams (the package bytes here are deterministic noise)."""
    import random

    rng = random.Random(seed)
    info = struct.pack("<HHI", 4, 4, 0x40) + (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n<encryption xmlns="http://schemas.microsoft.com/'
        b'office/2006/encryption"><keyData saltSize="16" blockSize="16" keyBits="256" hashSize="64" '
        b'cipherAlgorithm="AES" cipherChaining="ChainingModeCBC" hashAlgorithm="SHA512" saltValue="AAAAAAAAAAAAAAAA'
        b'AAAAAA=="/></encryption>')
    package = struct.pack("<Q", 12000) + bytes(rng.randrange(256) for _ in range(12288))
    dst.write_bytes(ole_file({"EncryptionInfo": info, "EncryptedPackage": package}))
    return dst


# ------------------------------------------------------------------ openpyxl level (a clerk's spreadsheet program)


def edit_workbook(src: Path, dst: Path, fn: Callable[[openpyxl.Workbook], None]) -> Path:
    """Load with openpyxl, let ``fn`` change the workbook, save to ``dst`` (keeps _meta, drops nothing we read)."""
    wb = openpyxl.load_workbook(src)
    try:
        fn(wb)
        wb.save(dst)
    finally:
        wb.close()
    return dst


def unmerge_all(ws) -> None:
    for rng in list(ws.merged_cells.ranges):
        ws.unmerge_cells(str(rng))


def meta_payload(wb: openpyxl.Workbook) -> dict:
    ws = wb["_meta"]
    text = "".join(str(c.value) for c in ws[2][1:] if isinstance(c.value, str))
    return json.loads(text)


def set_meta_payload(wb: openpyxl.Workbook, payload: dict, signature: str | None = None) -> None:
    """Write a new payload into _meta (as one who edits the hidden sheet would), keeping or replacing the HMAC."""
    ws = wb["_meta"]
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    for cell in ws[2][1:]:
        cell.value = None
    for i in range(0, len(text), 30000):
        ws.cell(row=2, column=2 + i // 30000, value=text[i:i + 30000])
    if signature is not None:
        ws["B3"] = signature


def copy_without_meta(src: Path, dst: Path) -> Path:
    """Every visible sheet's values pasted into a fresh workbook (what "copy into a new file" leaves): no _meta."""
    wb = openpyxl.load_workbook(src)
    out = openpyxl.Workbook()
    try:
        out.remove(out.active)
        for ws in wb.worksheets:
            if ws.sheet_state != "visible":
                continue
            new = out.create_sheet(ws.title)
            for row in ws.iter_rows():
                for cell in row:
                    if cell.value is not None and type(cell).__name__ != "MergedCell":
                        new.cell(row=cell.row, column=cell.column, value=cell.value)
        out.save(dst)
    finally:
        wb.close()
        out.close()
    return dst


def sheet_values(path: Path, sheet: str) -> list[list[object]]:
    """A sheet's values as python-calamine reads them (for the tests' own expectations)."""
    import python_calamine

    with python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(path.read_bytes())) as wb:
        return wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)


# ------------------------------------------------------------------ filled returns


@dataclasses.dataclass
class Simulated:
    """A filled return written by the package, with the values and fields it holds."""

    path: Path
    values: dict
    fields: dict


def simulate(ctx, path: Path, unit: str = "区卫生健康局", period=None, tweak=None, **kw) -> Simulated:
    """Write a filled return for ``unit`` (March 2026 unless ``period``); ``tweak(values, fields)`` plants faults."""
    from shixiang_xl.period import Period
    from shixiang_xl.simulate import write_simulated_return

    seen: dict = {}

    def capture(values: dict, fields: dict) -> None:
        if tweak is not None:
            tweak(values, fields)
        seen["values"], seen["fields"] = copy.deepcopy(values), dict(fields)

    write_simulated_return(ctx, unit, period or Period.parse("2026-03"), path, tweak=capture, **kw)
    return Simulated(path, seen["values"], seen["fields"])
