"""Intake: find returned files, archive every original, inspect bytes before parsing, read in isolated workers.

This module is the worker: each file is hashed, archived, inspected (:mod:`shixiang_xl.intake_bytes`), parsed and
checked, in isolated processes; :mod:`shixiang_xl.intake_files` finds the files. The rest of the package takes the
stage's names from here.

Returns are untrusted. Before any parser sees a file we look at its bytes: what it really is (whatever its
extension says), whether it is encrypted, whether its zip members are a bomb, whether its XML declares entities,
whether any cell lies far outside the template. Parsing then runs in worker processes with memory and time limits
(:mod:`shixiang_xl.sandbox`), so one bad file can never take the batch down. Originals are only ever read.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from .check import Checked, History, check_values
from .errors import ShixiangError
from .faults import is_disk_full
from .findings import Finding, finding
from .formulas import marked_cells
from .intake_bytes import KIND_CN, MAX_FILE_BYTES, Refused, explain, inspect, parse_sheets, sniff
from .intake_files import Source, archive_containers, discover, now_iso, unlink_quietly
from .layout import SheetLayout, computed_locked, unit_layouts
from .meta import META_SHEET, Meta, read_meta
from .period import Period
from .projects import ProjectList
from .reader import CellValue, ReadResult, check_frame, expected_locked_values, locate_sheet, read_fields, read_sheet
from .sandbox import Failure, run_isolated
from .spec import TemplateSpec

# The stage's names, as the rest of the package takes them from here.
__all__ = ["FileResult", "IntakeContext", "MAX_FILE_BYTES", "Source", "archive_containers", "archive_copy",
           "discover", "explain", "inspect", "now_iso", "parse_sheets", "process_file", "read_return", "sniff",
           "take_in"]

_UNIT_IN_TITLE = re.compile(r"填报单位[:：]\s*([^\s　]+)")
_PERIOD_IN_TITLE = re.compile(r"报送期[:：]\s*(\d{4}年(?:\d{1,2}月|第[一二三四]季度))")


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
            unlink_quietly(tmp)
            raise
    return str(dest)


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
    except Refused as refused:
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
        add("converted", f"本程序无法直接读取这个{KIND_CN[kind]}，已用 LibreOffice 转换为 .xlsx 后读取。"
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
            give_up(i, "converter-missing", f"本程序无法直接读取这个{KIND_CN.get(results[i].kind, '文件')}，需要用 LibreOffice "
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
