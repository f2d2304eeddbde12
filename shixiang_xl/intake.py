"""Intake: find returned files, archive every original, inspect bytes before parsing, read in isolated workers.

Returns are untrusted. Before any parser sees a file we look at its bytes: what it really is (whatever its
extension says), whether it is encrypted, whether its zip members are a bomb, whether its XML declares entities,
whether any cell lies far outside the template. Parsing then runs in worker processes with memory and time limits
(:mod:`shixiang_xl.sandbox`), so one bad file can never take the batch down. Originals are only ever read.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import io
import os
import posixpath
import re
import shutil
import stat
import struct
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Iterable, Iterator

from xlsxwriter.utility import xl_col_to_name

from .check import Checked, History, check_values
from .faults import is_disk_full
from .findings import Finding, finding
from .formulas import marked_cells
from .layout import SheetLayout, computed_locked, unit_layouts
from .meta import META_SHEET, Meta, read_meta
from .period import Period
from .projects import ProjectList
from .reader import CellValue, ReadResult, check_frame, expected_locked_values, locate_sheet, read_fields, read_sheet
from .safename import safe_name
from .sandbox import Failure, run_isolated
from .spec import TemplateSpec
from .errors import ShixiangError

SPREADSHEET_EXTENSIONS = {".xlsx", ".xlsm", ".xls", ".et", ".ods", ".xltx", ".ett"}
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ZIP_MEMBERS = 500
MAX_UNCOMPRESSED = 80 * 1024 * 1024
MAX_RATIO = 200
MAX_ROW = 5_000
MAX_COL = 200  # column GR
_ENTITY = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_MODIFIED = re.compile(rb"<dcterms:modified[^>]*>([^<]+)</dcterms:modified>")
_ODF_DATE = re.compile(rb"<dc:date>([^<]+)</dc:date>")
_UNIT_IN_TITLE = re.compile(r"填报单位[:：]\s*([^\s　]+)")
_PERIOD_IN_TITLE = re.compile(r"报送期[:：]\s*(\d{4}年(?:\d{1,2}月|第[一二三四]季度))")


@dataclass(frozen=True, slots=True)
class Source:
    """One file to take in: where it is, and the name to show (``batch.zip › a.xlsx`` for zip members)."""

    path: str
    name: str
    received_at: str
    converted: str = ""  # the LibreOffice .xlsx made from it, when python-calamine could not read the original


@dataclass(frozen=True)
class IntakeContext:
    """Everything a worker needs, as plain picklable data."""

    spec: TemplateSpec
    projects: ProjectList
    units: frozenset[str]
    period: Period | None
    secret: bytes
    workspace_id: str
    archive_dir: str
    history: dict[str, History] = field(default_factory=dict)


@dataclass(slots=True)  # without slots, each of a city batch's thousands carried a dict of its own
class FileResult:
    """What intake and the per-file checks made of one file."""

    source: Source
    sha256: str = ""
    size: int = 0
    archive_path: str = ""
    kind: str = ""
    saved_at: str = ""
    issued_at: str = ""
    unit: str = ""
    period: str = ""
    meta_valid: bool = False
    readable: bool = False
    findings: list[Finding] = field(default_factory=list)
    values: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    fields: dict[str, Any] = field(default_factory=dict)
    cells: dict[tuple[str, str], dict[str, CellValue]] = field(default_factory=dict)
    status: str = ""  # accepted | rejected | superseded | duplicate | unreadable (set by the batch)
    needs_conversion: bool = False  # an .xls/.et/.ods python-calamine could not read: take_in tries LibreOffice

    @property
    def errors(self) -> int:
        return sum(f.is_error for f in self.findings)

    @property
    def warnings(self) -> int:
        return sum(f.severity.value == "警告" for f in self.findings)


# ------------------------------------------------------------------ discovery


def discover(paths: Iterable[Path], workdir: Path, received_at: str | None = None) -> tuple[list[Source], list[Finding]]:
    """Every file under ``paths`` (recursively), with .zip batches unpacked safely into ``workdir``."""
    sources: list[Source] = []
    findings: list[Finding] = []
    now = dt.datetime.now().astimezone()
    for root in paths:
        folder = root.is_dir()
        inside = root.resolve() if folder else None
        found: list[tuple[tuple[str, ...], Path, float | None]] = []
        for p in root.rglob("*") if folder else [root]:
            try:  # one stat per file (a city-wide inbox has thousands)
                st = p.lstat() if folder else p.stat()
                if folder and stat.S_ISLNK(st.st_mode):
                    if _escapes(p, inside):
                        findings.append(finding(
                            "file-outside-inbox", f"「{os.path.join(*p.parts[len(root.parts):])}」是指向收件文件夹"
                            "以外的快捷方式（链接），已拒绝读取。请把单位报回的文件本身放入收件文件夹。",
                            file=os.path.join(*p.parts[len(root.parts):])))
                        continue
                    st = p.stat()
            except (OSError, RuntimeError):  # RuntimeError: a loop of links
                if folder:
                    continue
                st = None
            if folder and not stat.S_ISREG(st.st_mode):
                continue
            found.append((p.parts, p, st.st_mtime if st is not None else None))
        found.sort(key=lambda f: f[0])  # the order of the paths themselves
        skip = len(root.parts)
        for parts, p, mtime in found:
            if p.name.startswith("~$") or p.name.startswith(".~") or p.name in ("Thumbs.db", ".DS_Store"):
                continue  # Excel/WPS lock files and OS litter, not returns
            shown = os.path.join(*parts[skip:]) if folder else p.name
            stamp = received_at or _stamp(mtime, now)
            if p.suffix.lower() == ".zip":
                got, more = _unpack_zip(p, shown, workdir, stamp)
                sources += got
                findings += more
            else:
                sources.append(Source(str(p), shown, stamp))
    return sources, findings


def _escapes(path: Path, inside: Path) -> bool:
    """Whether ``path`` is a link leading out of the folder ``inside`` (or into a loop). A link is followed only to
    a place inside the inbox: never read or archive a file from elsewhere because a link to it was dropped there."""
    if not path.is_symlink():
        return False
    try:
        return not path.resolve(strict=True).is_relative_to(inside)
    except (OSError, RuntimeError):
        return True


def archive_containers(paths: Iterable[Path], archive_dir: str) -> list[tuple[str, int, str, str, str, str]]:
    """Archive every .zip batch found under ``paths`` too (its members are archived one by one as they are read).

    Returns (sha256, size, archive path, shown name, source path, received time) per zip.
    """
    out = []
    for root in paths:
        inside = root.resolve()
        files = sorted(p for p in root.rglob("*.zip") if p.is_file() and not _escapes(p, inside)) \
            if root.is_dir() else [root]
        for p in files:
            if p.suffix.lower() != ".zip":
                continue
            sha = hashlib.sha256()
            with open(p, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    sha.update(chunk)
            digest = sha.hexdigest()
            dest = Path(archive_dir) / digest[:2] / f"{digest}.zip"
            if not dest.exists():
                dest.parent.mkdir(parents=True, exist_ok=True)
                tmp = dest.with_name(f".~{digest}.tmp")
                try:
                    shutil.copyfile(p, tmp)
                    os.replace(tmp, dest)
                except BaseException:
                    _unlink(tmp)
                    raise
            shown = str(p.relative_to(root)) if root.is_dir() else p.name
            out.append((digest, p.stat().st_size, str(dest), shown, str(p), _mtime(p)))
    return out


def _mtime(path: Path) -> str:
    """When a file arrived: its modification time (saving an attachment or ``collect`` sets it)."""
    try:
        mtime: float | None = path.stat().st_mtime
    except OSError:
        mtime = None
    return _stamp(mtime, dt.datetime.now().astimezone())


def _stamp(mtime: float | None, now: dt.datetime) -> str:
    """A modification time as the received time: never later than ``now`` (a clock set wrong), now if unknown."""
    try:
        stamp = dt.datetime.fromtimestamp(mtime).astimezone() if mtime is not None else None
    except (ValueError, OverflowError, OSError):
        stamp = None
    if stamp is None:
        return now_iso()
    return min(stamp, now).isoformat(timespec="seconds")


def _unpack_zip(path: Path, shown: str, workdir: Path, stamp: str) -> tuple[list[Source], list[Finding]]:
    """Members of a zip of returns, extracted under safe names with size, count and ratio limits."""
    out: list[Source] = []
    findings: list[Finding] = []
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        return [], [finding("file-corrupt", f"压缩包无法打开（{exc}）。请重新打包后发送。", file=shown)]
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        if len(infos) > MAX_ZIP_MEMBERS:
            return [], [finding("zip-bomb", f"压缩包内有 {len(infos)} 个文件，超过上限 {MAX_ZIP_MEMBERS}，未解压。", file=shown)]
        total = 0
        target = workdir / hashlib.sha256(str(path).encode()).hexdigest()[:12]
        for k, info in enumerate(infos):
            name = _zip_member_name(info)
            member = f"{shown} › {name}"
            if Path(name).suffix.lower() == ".zip":
                findings.append(finding("archive-member-skipped", "压缩包中嵌套的压缩包未解压，请直接发送填报表。", file=member))
                continue
            if info.flag_bits & 0x1:
                findings.append(finding("file-encrypted", "压缩包中的文件设置了密码，无法读取。请去掉密码后重新发送。", file=member))
                continue
            if info.file_size > MAX_FILE_BYTES or (info.compress_size and info.file_size / info.compress_size > MAX_RATIO
                                                   and info.file_size > 1024 * 1024):
                findings.append(finding("zip-bomb", "压缩包中的文件解压后过大，未解压。", file=member))
                continue
            try:
                with zf.open(info) as fh:
                    data = fh.read(MAX_FILE_BYTES + 1)
            except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as exc:
                findings.append(finding("file-corrupt", f"压缩包中的文件无法解压（{exc}）。", file=member))
                continue
            total += len(data)
            if len(data) > MAX_FILE_BYTES or total > MAX_UNCOMPRESSED:
                findings.append(finding("zip-bomb", "压缩包解压后的内容超过上限，其余文件未解压。", file=member))
                break
            dest = target / f"{k:04d}_{Path(name).name}"
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
            try:
                when = dt.datetime(*info.date_time).astimezone().isoformat(timespec="seconds")
            except ValueError:
                when = stamp
            out.append(Source(str(dest), member, min(when, stamp)))
    return out, findings


def _zip_member_name(info: zipfile.ZipInfo) -> str:
    name = info.filename
    if not info.flag_bits & 0x800:  # not flagged UTF-8: Chinese Windows zips use GBK
        try:
            name = name.encode("cp437").decode("gbk")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    return safe_name(name, fallback="unnamed")  # the one cleaner of names made from what a unit sent


def now_iso() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


# ------------------------------------------------------------------ per-file work (runs in a worker)


def archive_copy(data: bytes, sha: str, ext: str, archive_dir: str) -> str:
    """Copy an original into the archive under its sha256 (once); return the archive path."""
    dest = Path(archive_dir) / sha[:2] / f"{sha}{ext}"
    if not dest.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".~", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, dest)
        except BaseException:  # a full disk, a stop: no half-written copy left in the archive
            _unlink(tmp)
            raise
    return str(dest)


def _unlink(path: str | Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


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


_KIND_CN = {"xlsx": "Excel 工作簿（.xlsx）", "xlsm": "启用宏的 Excel 工作簿（.xlsm）", "xls": "Excel 97-2003 工作簿（.xls/.et）",
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
        problems.append(("file-extension-mismatch", f"文件扩展名是「{shown}」，但实际是{_KIND_CN[kind]}，已按实际格式读取。"))
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
                except _Refused as refused:
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


class _Refused(Exception):
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
        except _Refused as refused:
            return refused.code, refused.message
    from xml.parsers import expat

    parser = expat.ParserCreate()

    def doctype(*_args: object) -> None:
        raise _Refused(*_DTD)

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = doctype
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    tracker = _OdsCells() if ods else _XlsxCells()
    parser.StartElementHandler = tracker.start
    if isinstance(tracker, _OdsCells):
        parser.EndElementHandler = tracker.end
    try:
        parser.Parse(xml, True)
    except _Refused as refused:
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
    Raises :class:`_Refused` for a far-away cell found here.
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
    raise _Refused("cell-out-of-range", message)


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
                raise _Refused("cell-out-of-range", f"工作表「{name}」的单元格 {_a1_text(end[0] + 1, end[1] + 1)} "
                               "远超填报表的范围，已拒绝读取。请删除表格以外的内容后重新报送。")
            for (top, left), (bottom, right) in sheet.merged_cell_ranges or ():
                if _far(bottom + 1, right + 1):
                    _refuse_far("merge", bottom + 1, right + 1)
            out[name] = sheet.to_python(skip_empty_area=False)
    return out


def _guess_identity(sheets: dict[str, list[list[Any]]]) -> tuple[str, str]:
    unit = period = ""
    for name, rows in sheets.items():
        for row in rows[:4]:
            for v in row[:20]:
                if not isinstance(v, str):
                    continue
                if not unit and (m := _UNIT_IN_TITLE.search(v)):
                    unit = m.group(1)
                if not period and (m := _PERIOD_IN_TITLE.search(v)):
                    period = m.group(1)
    return unit, period


def process_file(ictx: IntakeContext, source: Source) -> FileResult:
    """Take in one file: hash, archive, inspect, parse, identify, map its structure and check its values."""
    res = FileResult(source)
    name = source.name

    def add(code: str, message: str, **where: str) -> None:
        res.findings.append(finding(code, message, file=name, unit=res.unit, **where))

    path = Path(source.path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        add("read-failed", f"文件无法打开（{exc}）。")
        return res
    res.size = size
    ext = "".join(path.suffixes[-1:]).lower()[:8]
    if size > MAX_FILE_BYTES:
        sha = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                sha.update(chunk)
        res.sha256 = sha.hexdigest()
        dest = Path(ictx.archive_dir) / res.sha256[:2] / f"{res.sha256}{ext}"
        if not dest.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest)
        res.archive_path = str(dest)
        add("file-too-large", f"文件有 {size / 1024 / 1024:.1f} MB，远超正常填报表（通常小于 1 MB），已拒绝读取。"
            "请删除多余内容、图片后重新报送。")
        return res
    data = path.read_bytes()
    res.sha256 = hashlib.sha256(data).hexdigest()
    res.archive_path = archive_copy(data, res.sha256, ext, ictx.archive_dir)
    kind, problems, saved_at = inspect(data, name, deep=False)
    res.kind, res.saved_at = kind, saved_at
    for code, message in problems:
        add(code, message)
    if not kind or any(code != "file-extension-mismatch" for code, _ in problems):
        return res
    if kind == "xlsm":
        add("macros-ignored", "文件含有宏（VBA），宏不会被执行，只读取单元格内容。请报送不含宏的 .xlsx 文件。")
    if source.converted:
        # LibreOffice's output is checked like any other file before python-calamine reads it.
        data = Path(source.converted).read_bytes()
        _, converted_problems, _ = inspect(data, "converted.xlsx")
        for code, message in converted_problems:
            add(code, f"{message}（LibreOffice 转换后的文件）")
        if converted_problems:
            return res
    try:
        sheets = parse_sheets(data)
    except MemoryError:
        raise
    except _Refused as refused:
        add(refused.code, refused.message)
        return res
    except Exception as exc:  # calamine raises several unrelated types for broken or locked files
        text = f"{type(exc).__name__}: {exc}"
        # The deep inspection the hot path left out says exactly what is wrong, when it can.
        deep_problems = [] if source.converted or kind not in ("xlsx", "xlsm") else explain(data, name)[1]
        if deep_problems:
            for code, message in deep_problems:
                add(code, message)
        elif "Password" in text or "password" in text or "encrypt" in text.lower():
            add("file-encrypted", "文件设置了密码，无法读取。请在 Excel/WPS 中取消密码后重新报送。")
        elif kind in ("xls", "ods") and not source.converted:
            res.needs_conversion = True  # take_in converts it with LibreOffice and reads it again
        else:
            add("file-corrupt", f"文件已损坏，无法读取（{text[:120]}）。请重新保存后再发送。")
        return res
    if source.converted:
        add("converted", f"本程序无法直接读取这个{_KIND_CN[kind]}，已用 LibreOffice 转换为 .xlsx 后读取。"
            "如发现数值与原表不符，请另存为 .xlsx 后重新报送。")
    res.readable = True
    try:
        marked = marked_cells(data, "xlsx" if source.converted else kind)
    except Exception:  # noqa: BLE001 - calamine read the file; a part only expat finds odd hides no formula
        marked = {}
    read_return(ictx, res, sheets, marked)
    return res


def read_return(ictx: IntakeContext, res: FileResult, sheets: dict[str, list[list[Any]]],
                marked: dict[str, dict[str, str]] | None = None) -> None:
    """Identity from ``_meta``, then structure and values (pure: works on parsed sheets and, by sheet and A1
    cell, the formulas and error values found in the file: :func:`~shixiang_xl.formulas.marked_cells`)."""
    marked = marked or {}
    name = res.source.name

    def add(code: str, message: str, **where: str) -> None:
        res.findings.append(finding(code, message, file=name, unit=res.unit, **where))

    meta: Meta | None = read_meta(sheets[META_SHEET], ictx.secret) if META_SHEET in sheets else None
    guessed_unit, guessed_period = _guess_identity(sheets)
    trusted = False
    if meta is None:
        res.unit = guessed_unit
        hint = f"（从表头看像是「{guessed_unit}」{guessed_period}的填报表）" if guessed_unit else ""
        add("meta-missing", f"文件缺少填报表的身份信息{hint}，可能是把内容复制到了新表或用了旧模板。"
            "请使用督查室本期下发的填报表填写后重新报送。")
    elif not meta.valid:
        res.unit = str(meta.get("unit", "")) or guessed_unit
        if meta.get("workspace") != ictx.workspace_id:
            add("meta-other-workspace", "这份填报表不是本督查室下发的（可能是其他年度或其他区县的表）。"
                "请使用督查室本期下发的填报表。", sheet=META_SHEET)
        else:
            add("meta-forged", "填报表的身份信息校验失败，可能被修改过。请使用督查室本期下发的填报表重新填写。",
                sheet=META_SHEET)
    else:
        trusted = True
        res.meta_valid = True
        res.unit = str(meta.get("unit", ""))
        res.issued_at = str(meta.get("issued_at", ""))
    res.period = str(meta.get("period", "")) if trusted and meta else _period_slug(guessed_period)
    if res.unit and res.unit not in ictx.units:
        add("unit-unknown-return", f"填报单位「{res.unit}」不在单位名录中，无法对应。请核对单位名录。")
        return
    if not res.unit:
        add("unit-unknown-return", "无法确定这份文件是哪个单位的填报表。请使用督查室下发的填报表。")
        return
    if ictx.period is not None and res.period and res.period != ictx.period.slug:
        add("period-mismatch", f"这是「{res.period}」期的填报表，不是本期（{ictx.period.label}）的。"
            "请使用本期下发的填报表填写后重新报送。")
    if trusted and meta is not None and meta.get("spec_digest") != ictx.spec.digest:
        add("meta-spec-version", f"填报表模板版本（{meta.get('spec_version')}）与当前（{ictx.spec.version}）不同，"
            "已按列标题读取。")
    layouts = unit_layouts(ictx.spec, res.unit, ictx.projects)
    if not layouts:
        add("unit-nothing-to-report", f"「{res.unit}」本期没有需要填报的牵头或协办项目，这份文件不需要报送。")
        return
    read = ReadResult()
    taken: set[str] = set()
    issued_names: dict[str, str] = {}  # issued sheet name → the sheet it was found as
    issued: dict[str, dict] = {}
    if trusted and meta is not None:
        issued = {s["kind"]: s for s in meta.get("sheets", [])}
    for sheet_spec, computed_layout, blocks in layouts:
        layout = SheetLayout.from_json(issued[sheet_spec.kind]) if sheet_spec.kind in issued else computed_layout
        sheet_name, renamed = locate_sheet(sheets, sheet_spec, layout.name, taken)
        if sheet_name is None:
            add("sheet-missing-return", f"找不到工作表「{layout.name}」，无法读取该部分内容。请不要删除或改动工作表，"
                "使用下发的填报表重新填写。", sheet=layout.name)
            continue
        taken.add(sheet_name)
        issued_names[layout.name] = sheet_name
        read.sheet_names[sheet_spec.kind] = sheet_name
        if renamed:
            add("sheet-renamed", f"工作表「{layout.name}」被改名为「{sheet_name}」，已按内容识别。请不要修改工作表名称。",
                sheet=sheet_name)
        locked = meta.get("locked") if trusted and meta is not None else None
        expected = expected_locked_values(layout, sheet_spec, locked,
                                          functools.partial(computed_locked, sheet_spec, computed_layout, blocks))
        read_sheet(sheets[sheet_name], sheet_spec, layout, expected, sheet_name, name, res.unit, read,
                   marked.get(sheet_name, {}))
    info_name = ictx.spec.info_sheet
    info_rows = sheets.get(info_name) or next((rows for n, rows in sheets.items() if n not in taken and n != META_SHEET), [])
    fields_cells = meta.get("fields", {}) if trusted and meta is not None else {}
    read_fields(info_rows, ictx.spec, fields_cells, info_name, read, marked.get(info_name, {}), name, res.unit)
    if trusted and meta is not None:
        names = dict(issued_names)
        if info_name in sheets:
            names[info_name] = info_name
        check_frame(sheets, meta.get("frame") or [], names, name, res.unit, read)
    res.findings += read.findings
    period = ictx.period or (Period.parse(res.period) if res.period else None)
    if period is None:
        return
    checked: Checked = check_values(read, spec=ictx.spec, plist=ictx.projects, period=period, unit=res.unit,
                                    fname=name, history=ictx.history.get(res.unit))
    res.findings += checked.findings
    res.values, res.fields = checked.values, checked.fields
    res.cells = read.values


def _period_slug(label: str) -> str:
    if not label:
        return ""
    try:
        return Period.parse(label).slug
    except ValueError:
        return ""


def _failure_result(source: Source, failure: Failure, ictx: IntakeContext) -> FileResult:
    res = FileResult(source)
    data = b""
    try:
        data = Path(source.path).read_bytes() if Path(source.path).stat().st_size <= MAX_FILE_BYTES else b""
        if data:
            res.sha256 = hashlib.sha256(data).hexdigest()
            res.size = len(data)
            res.archive_path = archive_copy(data, res.sha256, Path(source.path).suffix.lower()[:8], ictx.archive_dir)
    except OSError as exc:
        if is_disk_full(exc):  # not this file's fault: the run cannot go on (cli.py says so in Chinese)
            raise
    if data:
        # The worker went down on this file: the deep inspection (every cell reference, expat on every sheet)
        # usually says exactly why, e.g. one cell at XFD1048576. It reads bytes only, so it is safe here.
        try:
            kind, explained = explain(data, source.name)
        except Exception:  # never let the explanation fail the batch
            kind, explained = "", []
        res.kind = kind
        if explained:
            res.findings += [finding(code, message, file=source.name) for code, message in explained]
            return res
    if failure.reason == "timeout":
        res.findings.append(finding("read-timeout", "读取这个文件超时（内容异常复杂或已损坏），已跳过。"
                                    "请用下发的填报表重新填写后报送。", file=source.name))
    elif failure.reason == "memory":
        res.findings.append(finding("read-memory", "读取这个文件时占用内存超过上限（内容异常），已跳过。"
                                    "请用下发的填报表重新填写后报送。", file=source.name))
    else:
        res.findings.append(finding("read-failed", f"读取这个文件失败（{failure.detail or '文件内容异常'}），已跳过。"
                                    "请重新保存后再报送。", file=source.name))
    return res


def take_in(ictx: IntakeContext, sources: list[Source], *, workers: int | None = None, memory_mb: int = 1024,
            timeout: float = 30.0) -> Iterator[FileResult]:
    """Process every source in isolated workers; yields results in the sources' order.

    An .xls/.et/.ods that python-calamine cannot read is converted with LibreOffice (when installed) and read again;
    those results come once all conversions are done.
    """
    func = functools.partial(process_file, ictx)
    results: dict[int, FileResult] = {}
    nxt = 0
    for i, value in run_isolated(func, sources, workers=workers, memory_mb=memory_mb, timeout=timeout):
        results[i] = _failure_result(sources[i], value, ictx) if isinstance(value, Failure) else value
        while nxt in results and not results[nxt].needs_conversion:
            yield results.pop(nxt)
            nxt += 1
    pending = sorted(i for i, r in results.items() if r.needs_conversion)
    if pending:
        _convert_and_retry(ictx, sources, results, pending, workers=workers, memory_mb=memory_mb, timeout=timeout)
    while nxt in results:
        yield results.pop(nxt)
        nxt += 1


def _convert_and_retry(ictx: IntakeContext, sources: list[Source], results: dict[int, FileResult],
                       pending: list[int], *, workers: int | None, memory_mb: int, timeout: float) -> None:
    """Convert the archived copies of ``pending`` to .xlsx in one LibreOffice call; process them again."""
    from . import office
    def give_up(i: int, code: str, message: str) -> None:
        r = results[i]
        r.needs_conversion = False
        r.findings.append(finding(code, message, file=r.source.name, unit=r.unit))

    if office.soffice_path() is None:
        for i in pending:
            give_up(i, "converter-missing", f"本程序无法直接读取这个{_KIND_CN.get(results[i].kind, '文件')}，需要用 LibreOffice "
                    "转换，但本机未安装 LibreOffice。请安装 LibreOffice 后重新校验，或请报送单位另存为 .xlsx 后重新报送。")
        return
    with tempfile.TemporaryDirectory(prefix="shixiang-convert-") as tmp:
        staged: dict[int, Path] = {}
        for i in pending:  # the archived copy, named by its real format (originals are never handed out)
            r = results[i]
            src = Path(tmp) / "in" / f"{i:05d}.{'ods' if r.kind == 'ods' else 'xls'}"
            src.parent.mkdir(exist_ok=True)
            try:
                shutil.copyfile(r.archive_path, src)
            except OSError:
                continue
            staged[i] = src
        try:
            outputs = office.convert(list(staged.values()), "xlsx", Path(tmp) / "out",
                                     timeout=max(60.0, timeout * 2), recalc=False)
        except (ShixiangError, OSError):
            outputs = {}
        redo: list[tuple[int, Source]] = []
        for i in pending:
            out = outputs.get(staged[i]) if i in staged else None
            if out is None:
                give_up(i, "file-corrupt", "文件已损坏，本程序和 LibreOffice 都无法读取。请用 Excel/WPS 打开后另存为 .xlsx 再报送。")
            else:
                redo.append((i, dataclasses.replace(sources[i], converted=str(out))))
        if not redo:
            return
        func = functools.partial(process_file, ictx)
        for k, value in run_isolated(func, [s for _, s in redo], workers=workers, memory_mb=memory_mb,
                                     timeout=timeout):
            i = redo[k][0]
            results[i] = _failure_result(sources[i], value, ictx) if isinstance(value, Failure) else value
            results[i].needs_conversion = False
