"""One period's batch of returns: take every file in, decide which return counts for each unit, check across
units, record it all in the store, and write the 校验报告 and the feedback copies.

Used by ``check`` (which stops there) and ``merge`` (which goes on to the ledger).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import shutil
import sqlite3
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from .check import History, UnitReturn, check_batch
from .feedback import FeedbackJob, write_feedback
from .errors import ShixiangError
from .faults import sweep_stale
from .findings import Finding, Severity, finding, sort_key
from .intake import FileResult, IntakeContext, archive_containers, discover, take_in
from .period import Period
from .render import STATUS_CN
from .safename import joined_name, split_ext
from .sandbox import Failure, run_isolated
from .store import (Store, entries_before, open_store, record_files, record_receipts, record_returns,
                    replace_findings)
from .workspace import Context
from .wslock import workspace_lock

@dataclass
class BatchResult:
    period: Period
    files: list[FileResult]
    findings: list[Finding]
    expected_units: tuple[str, ...]
    report_path: Path | None = None
    feedback_paths: dict[str, Path] = field(default_factory=dict)
    # Zip batches kept whole in the archive: (sha256, size, archive path, shown name, source, received at).
    containers: list[tuple[str, int, str, str, str, str]] = field(default_factory=list)

    # Statuses are final once the batch is made, so these are computed once (a city batch asks per unit).
    @functools.cached_property
    def chosen(self) -> dict[str, FileResult]:
        """unit → the return that counts for it this period (accepted or rejected)."""
        return {r.unit: r for r in self.files if r.status in ("accepted", "rejected") and r.unit}

    @functools.cached_property
    def accepted(self) -> dict[str, FileResult]:
        return {u: r for u, r in self.chosen.items() if r.status == "accepted"}

    @functools.cached_property
    def by_unit(self) -> dict[str, list[FileResult]]:
        """unit → every file received from it this period, in the order found."""
        out: dict[str, list[FileResult]] = defaultdict(list)
        for r in self.files:
            out[r.unit].append(r)
        return dict(out)

    @property
    def missing(self) -> tuple[str, ...]:
        chosen = self.chosen
        return tuple(u for u in self.expected_units if u not in chosen)

    def summary(self) -> dict[str, Any]:
        counts = defaultdict(int)
        for r in self.files:
            counts[r.status] += 1
        return {"period": self.period.slug, "files": len(self.files), "accepted": counts["accepted"],
                "rejected": counts["rejected"], "unreadable": counts["unreadable"],
                "superseded": counts["superseded"], "duplicate": counts["duplicate"],
                "expected_units": len(self.expected_units), "reported_units": len(self.chosen),
                "missing_units": list(self.missing),
                "errors": sum(f.is_error for f in self.findings),
                "warnings": sum(f.severity is Severity.WARNING for f in self.findings),
                "infos": sum(f.severity is Severity.INFO for f in self.findings)}

    def unit_status(self, unit: str) -> str:
        r = self.chosen.get(unit)
        if r is None:
            return "missing"
        if r.status == "rejected":
            return "rejected"
        return "warned" if r.warnings else "accepted"


def load_history(store: Store, period: Period) -> dict[str, History]:
    """Each unit's last accepted cumulative values and texts before ``period`` (same year)."""
    rows = entries_before(store.conn, period.slug, period.year, ("cumulative", "progress_text"))
    cum: dict[str, dict] = defaultdict(dict)
    texts: dict[str, dict] = defaultdict(dict)
    for r in rows:
        key = (r["sheet"], r["row_key"])
        if r["column_key"] == "cumulative" and r["value_num"] is not None:
            cum[r["unit"]][key] = float(r["value_num"])
        elif r["column_key"] == "progress_text" and r["value_text"]:
            texts[r["unit"]][key] = r["value_text"]
    return {u: History(cum.get(u, {}), texts.get(u, {})) for u in set(cum) | set(texts)}


def _instant(text: str) -> float | None:
    """An ISO 8601 time as seconds since the epoch: "…Z", "+08:00", long fractions; naive times are local."""
    s = (text or "").strip()
    if not s:
        return None
    s = re.sub(r"(\.\d{6})\d+", r"\1", s[:-1] + "+00:00" if s.endswith(("Z", "z")) else s)
    try:
        when = dt.datetime.fromisoformat(s)
    except ValueError:
        return None
    return (when if when.tzinfo else when.astimezone()).timestamp()


def _order_key(r: FileResult, index: int) -> tuple:
    # Latest by save time (a file that does not say, such as an .xls: when it arrived), then issue time, then the
    # order the files were found. As instants: Excel writes "…Z", LibreOffice local time, _meta "+08:00".
    saved = _instant(r.saved_at) or _instant(r.source.received_at) or 0.0
    return (saved, _instant(r.issued_at) or 0.0, index)


def run_batch(ctx: Context, store: Store, paths: Iterable[Path], period: Period, *, strict: bool = False,
              workers: int | None = None, memory_mb: int = 1024, timeout: float = 30.0,
              progress: Callable[[int], None] | None = None) -> BatchResult:
    """Take in and check every file under ``paths`` for ``period``. Nothing is recorded: the caller records the
    batch (:func:`record_batch`) in the transaction that also holds what it writes from it."""
    paths = list(paths)
    ws = ctx.workspace
    archive_dir = ws.folder("archive")
    archive_dir.mkdir(parents=True, exist_ok=True)
    # What an earlier run stopped by force (or by a full disk) left half-written.
    sweep_stale([archive_dir, ws.folder("reports", period.slug), ws.folder("feedback", period.slug)])
    ictx = IntakeContext(spec=ctx.spec, projects=ctx.projects, units=frozenset(u.name for u in ctx.directory.units),
                         period=period, secret=ws.secret(), workspace_id=ws.workspace_id,
                         archive_dir=str(archive_dir), history=load_history(store, period))
    tmp = Path(tempfile.mkdtemp(prefix="shixiang-intake-"))
    try:
        sources, early = discover(paths, tmp)
        containers = archive_containers(paths, str(archive_dir))
        results: list[FileResult] = []
        for r in take_in(ictx, sources, workers=workers, memory_mb=memory_mb, timeout=timeout):
            results.append(r)
            if progress:
                progress(1)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _decide(results, strict)
    batch_findings = check_batch(
        (UnitReturn(r.unit, r.source.name, r.values, r.cells) for r in results if r.status == "accepted"),
        ctx.projects)
    by_unit = {r.unit: r for r in results if r.status == "accepted"}
    for f in batch_findings:
        if f.unit in by_unit:
            by_unit[f.unit].findings.append(f)
    findings = sorted(early + [f for r in results for f in r.findings], key=sort_key)
    return BatchResult(period, results, findings, ctx.projects.units, containers=containers)


def _decide(results: list[FileResult], strict: bool) -> None:
    """Status of every file: duplicates, superseded resubmissions, and accepted / rejected / unreadable."""
    seen: dict[str, FileResult] = {}
    for r in results:
        if not r.sha256:
            r.status = "unreadable"
            continue
        if r.sha256 in seen:
            first = seen[r.sha256]
            r.status = "duplicate"
            r.findings = [finding("duplicate-file", f"与「{first.source.name}」是同一个文件（内容完全相同），只计一次。",
                                  file=r.source.name, unit=r.unit)]
            continue
        seen[r.sha256] = r
        if not r.readable or not r.unit:
            r.status = "unreadable"
        else:
            has_errors = any(f.is_error for f in r.findings)
            has_warnings = any(f.severity is Severity.WARNING for f in r.findings)
            r.status = "rejected" if has_errors or (strict and has_warnings) else "accepted"
    groups: dict[str, list[tuple[int, FileResult]]] = defaultdict(list)
    for i, r in enumerate(results):
        if r.status in ("accepted", "rejected") and r.unit:
            groups[r.unit].append((i, r))
    for unit, items in groups.items():
        if len(items) < 2:
            continue
        items.sort(key=lambda ir: _order_key(ir[1], ir[0]))
        latest = items[-1][1]
        for _, r in items[:-1]:
            r.status = "superseded"
            r.findings.append(finding("superseded", f"「{unit}」本期还报送了更新的「{latest.source.name}」，"
                                      "本文件未采用（已存档）。", file=r.source.name, unit=unit))


def record_batch(conn: sqlite3.Connection, result: BatchResult) -> None:
    """Record the batch's files, receipts, returns and findings, in the caller's transaction."""
    period = result.period.slug
    # One statement per table for the whole batch (a city-wide one has thousands of files); zip batches are kept
    # whole, as files of their own.
    files = [r for r in result.files if r.sha256]
    record_files(conn, [(sha, size, archive_path, shown, received)
                        for sha, size, archive_path, shown, source, received in result.containers])
    record_receipts(conn, [(sha, shown, source, received, period)
                           for sha, size, archive_path, shown, source, received in result.containers])
    record_files(conn, [(r.sha256, r.size, r.archive_path, r.source.name, r.source.received_at) for r in files])
    record_receipts(conn, [(r.sha256, r.source.name, r.source.path, r.source.received_at, period) for r in files])
    record_returns(conn, period, [(r.sha256, r.unit, r.source.name, r.source.received_at, r.issued_at, r.saved_at,
                                   r.status, r.errors, r.warnings) for r in files if r.status != "duplicate"])
    replace_findings(conn, period, [(r.sha256, f.code, f.severity.value, f.unit, f.file, f.sheet, f.cell, f.message)
                                    for r in result.files for f in r.findings])


# ------------------------------------------------------------------ outputs


def write_feedback_copies(ctx: Context, result: BatchResult, *, memory_mb: int = 1024) -> dict[str, Path]:
    """For every unit whose counted return has errors or warnings: its annotated copy in ``feedback/<period>/``."""
    outdir = ctx.workspace.folder("feedback", result.period.slug)
    jobs: list[FeedbackJob] = []
    for unit, r in sorted(result.chosen.items()):
        shown = [f for f in r.findings if f.severity in (Severity.ERROR, Severity.WARNING)]
        if not shown or not r.archive_path or not r.readable:
            continue
        # The unit's own file name: cleaned like every name made from what a unit sent (a newline, CON, a
        # trailing dot), in one place.
        stem = split_ext(r.source.name.split(" › ")[-1].replace("\\", "/").split("/")[-1])[0][:60]
        what = "退回修改意见" if any(f.is_error for f in shown) else "修改提示"
        out = outdir / joined_name((unit, what, stem), ".xlsx")
        jobs.append(FeedbackJob(r.archive_path, r.kind, unit, r.source.name, result.period.label, ctx.config.office,
                                tuple(sorted(r.findings, key=sort_key)), str(out)))
    if not jobs:
        return {}
    outdir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for i, value in run_isolated(write_feedback, jobs, memory_mb=memory_mb, timeout=60, batch_size=1):
        if not isinstance(value, Failure):
            paths[jobs[i].unit] = Path(value)
    result.feedback_paths = paths
    return paths


def write_check_report(ctx: Context, result: BatchResult, path: Path) -> Path:
    """``校验报告.xlsx``: per unit (通过 / 有警告 / 退回修改 / 无法读取 / 未报送), then every finding, filterable."""
    from .xlsxout import OfficeBook, print_setup

    cfg = ctx.config
    # Rows are written in order, so a city-wide report streams (constant memory) instead of piling up.
    with OfficeBook(path, constant_memory=len(result.files) + len(result.findings) > 2000) as book:
        fmt = book.fmt
        ws = book.sheet("单位汇总")
        headings = ["序号", "单位", "状态", "错误", "警告", "提示", "文件", "收到时间", "联系人", "联系电话"]
        widths = [6, 24, 12, 6, 6, 6, 60, 22, 10, 16]  # 文件: a 2026年3月_<11-character unit>_….xlsx on one line
        ws.merge_range(0, 0, 0, len(headings) - 1, f"{cfg.full_title}填报表校验报告（{result.period.label}）",
                       fmt("title", font_size=16))
        ws.set_row(0, 30)
        s = result.summary()
        ws.merge_range(1, 0, 1, len(headings) - 1,
                       f"应报 {s['expected_units']} 个单位，已报 {s['reported_units']} 个，未报 {len(s['missing_units'])} 个；"
                       f"收到文件 {s['files']} 个：通过 {s['accepted']}，退回修改 {s['rejected']}，无法读取 {s['unreadable']}，"
                       f"重复 {s['duplicate']}，被替代 {s['superseded']}。制表：{cfg.office}", fmt("subtitle"))
        book.header(ws, 2, headings, widths)
        row = 3
        units = list(result.expected_units) + sorted({r.unit for r in result.files if r.unit} - set(result.expected_units))
        directory = {u.name: u for u in ctx.directory.units}
        for unit in units:
            files = result.by_unit.get(unit, [])
            d = directory.get(unit)
            if not files:
                book.text_row(ws, row, [row - 2, unit, "未报送", 0, 0, 0, "", "", d.contact if d else "",
                                        d.phone if d else ""], widths)
                row += 1
                continue
            for r in files:
                status = STATUS_CN["warned"] if r.status == "accepted" and r.warnings else STATUS_CN.get(r.status, r.status)
                infos = len(r.findings) - r.errors - r.warnings
                book.text_row(ws, row, [row - 2, unit, status, r.errors, r.warnings, infos, r.source.name,
                                        r.source.received_at[:19].replace("T", " "), d.contact if d else "",
                                        d.phone if d else ""], widths)
                row += 1
        for r in result.files:
            if not r.unit:
                book.text_row(ws, row, [row - 2, "（无法识别）", STATUS_CN.get(r.status, r.status), r.errors, r.warnings,
                                        len(r.findings) - r.errors - r.warnings, r.source.name,
                                        r.source.received_at[:19].replace("T", " "), "", ""], widths)
                row += 1
        ws.autofilter(2, 0, max(3, row - 1), len(headings) - 1)
        ws.freeze_panes(3, 2)
        print_setup(ws, repeat=(2, 2))

        ws = book.sheet("问题明细")
        headings = ["级别", "单位", "文件", "工作表", "单元格", "问题", "问题和修改要求", "代码"]
        widths = [6, 20, 30, 10, 8, 18, 60, 22]
        ws.merge_range(0, 0, 0, len(headings) - 2, f"{cfg.full_title}填报表校验问题明细（{result.period.label}）",
                       fmt("title", font_size=16))
        ws.set_row(0, 30)
        book.header(ws, 1, headings, widths)
        ws.set_column(len(headings) - 1, len(headings) - 1, widths[-1], None, {"hidden": True})  # for tools
        for i, f in enumerate(result.findings, start=2):
            book.text_row(ws, i, [f.severity.value, f.unit, f.file, f.sheet, f.cell, f.title, f.message, f.code],
                          widths)
        ws.autofilter(1, 0, max(2, len(result.findings) + 1), len(headings) - 1)
        ws.freeze_panes(2, 0)
        print_setup(ws, repeat=(1, 1))
        ws.print_area(0, 0, max(2, len(result.findings) + 1), len(headings) - 2)
    result.report_path = path
    return path


def batch_json(result: BatchResult) -> str:
    """The ``--format json`` document."""
    doc = {
        "files": [{"file": r.source.name, "sha256": r.sha256, "unit": r.unit, "period": r.period, "status": r.status,
                   "errors": r.errors, "warnings": r.warnings} for r in result.files],
        "findings": [{"code": f.code, "severity": f.severity.value, "unit": f.unit, "file": f.file, "sheet": f.sheet,
                      "cell": f.cell, "message": f.message} for f in result.findings],
        "summary": result.summary(),
    }
    return json.dumps(doc, ensure_ascii=False, indent=2)


@dataclass
class CheckRun:
    """The result of ``shixiang check``: the batch and where its outputs went."""

    batch: BatchResult
    report: Path
    feedback: dict[str, Path]


def check_returns(ctx: Context, paths: Sequence[Path] | None, period: Period, *, strict: bool = False,
                  feedback: bool = True, workers: int | None = None, memory_mb: int = 1024, timeout: float = 30.0,
                  progress: Any = None, wait: float = 60.0) -> CheckRun:
    """Take in and check every return under ``paths`` (default ``inbox/<period>/``); write 校验报告.xlsx and
    the feedback copies. The store records every file; nothing is merged."""
    ws = ctx.workspace
    paths = list(paths) if paths else [ws.folder("inbox", period.slug)]
    for p in paths:
        if not p.exists():
            raise ShixiangError(f"找不到 {p}。请把各单位报回的文件放到 inbox/{period.slug}/ 文件夹，或指定文件/文件夹。")
    with workspace_lock(ws.secret_path.parent, f"校验 {period.slug}", wait=wait):
        with open_store(ws.db_path) as store:
            batch = run_batch(ctx, store, paths, period, strict=strict, workers=workers, memory_mb=memory_mb,
                              timeout=timeout, progress=progress)
            # The record is committed last, after everything written from it: a run stopped before then leaves
            # the store as it was.
            with store.transaction() as conn:
                record_batch(conn, batch)
                report = write_check_report(ctx, batch, ws.folder("reports", period.slug) / "校验报告.xlsx")
                copies = write_feedback_copies(ctx, batch, memory_mb=memory_mb) if feedback else {}
    return CheckRun(batch, report, copies)
