"""``shixiang merge``: the period's accepted returns into the store, and the office's 台账 out of it.

Idempotent: the same inputs give the same store rows and the same ledger. A corrected resubmission replaces the
unit's values for the period; a return with errors is not merged (the unit shows as 退回修改, with its last accepted
figures marked as such).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
import sqlite3
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from .batch import BatchResult, load_history, record_batch, run_batch, write_check_report, write_feedback_copies
from .findings import Finding
from .intake import FileResult
from .ledger import LedgerData, LedgerInput, UnitSubmission, build_ledger, write_ledger
from .period import Period
from .projects import field_names
from .sandbox import Background
from .store import (Store, entries_of, entry_units, first_receipts, latest_period_before, merge_hash, open_store,
                    progress_before, record_merge, replace_entries, replace_progress)
from .submissions import corrected, corrections
from .tally import load_tally
from .workspace import Context
from .wslock import workspace_lock
from .xlsxout import atomic_write_bytes
from .errors import ShixiangError

@dataclass
class MergeResult:
    batch: BatchResult
    ledger: LedgerData
    ledger_path: Path
    pdf_path: Path | None
    report_path: Path
    feedback: dict[str, Path]
    changed: bool


def _value_rows(r: FileResult) -> list[tuple[str, str, str, float | None, str | None]]:
    """(sheet, row key, column key, number, text) for every value and field of a return."""
    out: list[tuple[str, str, str, float | None, str | None]] = []
    append = out.append
    for (kind, row_key), cols in (*r.values.items(), (("info", "info"), r.fields)):
        for col, value in cols.items():
            cls = value.__class__
            if value is None:
                append((kind, row_key, col, None, None))
            elif cls is float or (cls is not bool and isinstance(value, (int, float))):
                append((kind, row_key, col, float(value), None))
            else:
                append((kind, row_key, col, None, str(value)))
    return out


def store_values(store: Store, batch: BatchResult) -> None:
    """Replace each accepted unit's values for the period with its counted return's values."""
    with store.transaction() as conn:
        _store_values(conn, batch)


def _store_values(conn: sqlite3.Connection, batch: BatchResult) -> None:
    accepted = sorted(batch.accepted.items())
    replace_entries(conn, batch.period.slug, [unit for unit, _ in accepted],
                    ((unit, *row, r.sha256) for unit, r in accepted for row in _value_rows(r)))


def _grouped(rows: Iterable[tuple]) -> dict[str, dict[tuple[str, str], dict[str, Any]]]:
    """(unit, sheet, row key, column key, number, text) rows as unit → (sheet, row key) → column key → value."""
    out: dict[str, dict[tuple[str, str], dict[str, Any]]] = {}
    for unit, sheet, row_key, column_key, value_num, value_text in rows:
        out.setdefault(unit, {}).setdefault((sheet, row_key), {})[column_key] = \
            value_num if value_num is not None else value_text
    return out


def units_values(conn: sqlite3.Connection, period: str, units: Sequence[str]
                 ) -> dict[str, dict[tuple[str, str], dict[str, Any]]]:
    """Some units' values for a period: unit → (sheet, row key) → column key → number or text."""
    return _grouped(entries_of(conn, period, units))


def load_values(store: Store, period: str) -> dict[str, dict[tuple[str, str], dict[str, Any]]]:
    """Every unit's values for a period: unit → (sheet, row key) → column key → number or text."""
    return units_values(store.conn, period, entry_units(store.conn, period))


def ledger_input(ctx: Context, store: Store, batch: BatchResult) -> LedgerInput:
    """Everything the ledger needs, read from the store (which holds the batch's accepted values) and the batch."""
    submissions: dict[str, UnitSubmission] = {}
    first = first_receipts(store.conn, batch.period.slug)
    for unit in ctx.projects.units:
        status = batch.unit_status(unit)
        r = batch.chosen.get(unit)
        received = ""
        if r is not None:
            received = first.get(r.sha256) or r.source.received_at
        submissions[unit] = UnitSubmission(unit, "missing" if status == "missing" else
                                           ("rejected" if status == "rejected" else "accepted"),
                                           received, r.source.name if r else "", r.errors if r else 0,
                                           r.warnings if r else 0)
    submissions = corrected(submissions, corrections(store, batch.period))  # the clerk's receipt times count
    return ledger_input_from(ctx, store, batch.period, submissions, batch.findings)


def ledger_input_from(ctx: Context, store: Store, period: Period, submissions: Mapping[str, UnitSubmission],
                      findings: Sequence[Finding]) -> LedgerInput:
    """Everything the ledger needs, from the store plus each unit's submission this period (from a batch, or
    rebuilt from the store's ``returns`` by :func:`shixiang_xl.report.ledger_for`)."""
    values = load_values(store, period.slug)
    stale: dict[str, str] = {}
    for unit in ctx.projects.units:
        s = submissions.get(unit)
        if s is not None and s.status == "rejected":
            if unit in values:
                stale[unit] = "本期报送被退回修改，显示本期此前通过的数据"
            else:
                earlier = latest_period_before(store.conn, unit, period.slug, period.year)
                if earlier:
                    values[unit] = units_values(store.conn, earlier, [unit]).get(unit, {})
                    stale[unit] = f"本期报送被退回修改，显示{Period.parse(earlier).label}的数据"
                else:
                    stale[unit] = "本期报送被退回修改，尚无通过审核的数据"
    history: dict[str, dict[int, float]] = defaultdict(dict)
    for r in progress_before(store.conn, period.slug, period.year):
        history[r["period"]][r["project"]] = r["completion"]
    contacts = {u.name: (u.contact, u.phone) for u in ctx.directory.units}
    survey: dict[int, dict[str, Any]] = {}
    if period.end_month == 12:
        survey = _survey_results(ctx, store)
    last = {u: dict(h.cumulative) for u, h in load_history(store, period).items()}
    return LedgerInput(ctx.config, ctx.spec, ctx.projects, period, values, stale, last, dict(submissions), contacts,
                       dict(history), tuple(findings), survey)


def _survey_results(ctx: Context, store: Store) -> dict[int, dict[str, Any]]:
    """The year's survey tally beside each project (the year-end ledger), when one exists."""
    return {number: {"rate": rate.satisfaction_rate, "text": rate.text}
            for number, rate in load_tally(store, ctx.config.year).items()}


def ledger_digest(data: LedgerData) -> str:
    """The fingerprint of a ledger's content, kept in ``merges.content_hash`` (same content, same digest).

    Row by row: the repr of a whole city's ledger at once would be tens of megabytes.
    """
    digest = hashlib.sha256()
    for f in dataclasses.fields(data):
        value = getattr(data, f.name)
        for item in value if isinstance(value, tuple) else (value,):
            # repr, not pickle: its bytes depend on object identity (shared strings).
            digest.update(repr(_plain(item)).encode("utf-8"))
            digest.update(b"\x1e")
        digest.update(f.name.encode("ascii") + b"\x1d")
    return digest.hexdigest()


def _plain(item: Any) -> Any:
    """A row's field values as a tuple (what the dataclass's repr would say, without its cost)."""
    if isinstance(item, tuple):  # a NamedTuple row, or a plain tuple (its repr without the class's name)
        return tuple(item)
    if not dataclasses.is_dataclass(item) or isinstance(item, type):
        return item
    return tuple(getattr(item, name) for name in field_names(item.__class__))


def merge_returns(ctx: Context, period: Period, paths: Sequence[Path] | None = None, *, strict: bool = False,
                  pdf: bool = False, a3: bool = False, feedback: bool = True, workers: int | None = None,
                  progress: Callable[[int], None] | None = None, wait: float = 60.0) -> MergeResult:
    """Check and merge the period's returns; write 校验报告, feedback copies, 台账.xlsx (and 台账.pdf).

    One check or merge runs in a workspace at a time: a second waits up to ``wait`` seconds, then says so."""
    with workspace_lock(ctx.workspace.secret_path.parent, f"汇总 {period.slug}", wait=wait):
        return _merge_returns(ctx, period, paths, strict=strict, pdf=pdf, a3=a3, feedback=feedback,
                              workers=workers, progress=progress)


def _merge_returns(ctx: Context, period: Period, paths: Sequence[Path] | None, *, strict: bool, pdf: bool, a3: bool,
                   feedback: bool, workers: int | None, progress: Callable[[int], None] | None) -> MergeResult:
    ws = ctx.workspace
    paths = list(paths) if paths else [ws.folder("inbox", period.slug)]
    for p in paths:
        p.mkdir(parents=True, exist_ok=True) if p == ws.folder("inbox", period.slug) else None
    with open_store(ws.db_path) as store:
        # Before anything is written: a checked copy to restore from (a damaged store stops the merge here).
        store.backup()
        batch = run_batch(ctx, store, paths, period, strict=strict, workers=workers, progress=progress)
        outdir = ws.folder("reports", period.slug)
        outdir.mkdir(parents=True, exist_ok=True)
        report = outdir / "校验报告.xlsx"
        ledger_path = outdir / "台账.xlsx"
        # The new 台账 takes the old one's place only once the store has committed what it shows.
        staged = outdir / f".~台账.{os.getpid()}.tmp"
        # The two workbooks are written by child processes, on the other core, while this one stores the values.
        report_writer = Background(write_check_report, ctx, batch, report)
        ledger_writer: Background | None = None
        try:
            # The batch has decided: it is recorded, its accepted values are stored, then the ledger is built from
            # the store, all in one transaction committed after every file written from it (a failure or a stop,
            # the report's included, leaves the store as it was).
            with store.transaction() as conn:
                record_batch(conn, batch)
                _store_values(conn, batch)
                data = build_ledger(ledger_input(ctx, store, batch))
                ledger_writer = Background(write_ledger, data, staged, a3=a3)
                digest = ledger_digest(data)
                changed = merge_hash(conn, period.slug) != digest
                if changed:
                    record_merge(conn, period.slug, dt.datetime.now().astimezone().isoformat(timespec="seconds"),
                                 digest)
                replace_progress(conn, period.slug,
                                 [(p.number, p.progress, p.expected, p.status) for p in data.projects])
                report_writer.wait()
                copies = write_feedback_copies(ctx, batch) if feedback else {}
                ledger_writer.wait()
        except BaseException:
            report_writer.cancel()
            if ledger_writer is not None:
                ledger_writer.cancel()
            staged.unlink(missing_ok=True)
            raise
        os.replace(staged, ledger_path)
        batch.report_path = report
    pdf_path = ledger_pdf(ledger_path, a3=a3) if pdf else None
    return MergeResult(batch, data, ledger_path, pdf_path, report, copies, changed)


def ledger_pdf(xlsx: Path, *, a3: bool = False) -> Path:
    """台账.pdf through LibreOffice headless, checked after conversion (soffice exits 0 even when it fails)."""
    import shutil
    import tempfile

    from .office import convert, pdf_info

    tmp = Path(tempfile.mkdtemp(prefix="shixiang-pdf-"))
    try:
        out = convert([xlsx], "pdf", tmp).get(xlsx)
        if out is None:
            raise ShixiangError(f"LibreOffice 未能把 {xlsx.name} 转换为 PDF。请用 Excel/WPS 打开台账后另存为 PDF。")
        info = pdf_info(out)
        if info.pages <= 0 or not all(info.landscape):
            raise ShixiangError(f"转换出的 PDF 不正常（{info.pages} 页），请用 Excel/WPS 打开台账后另存为 PDF。")
        dest = xlsx.with_suffix(".pdf")
        atomic_write_bytes(dest, out.read_bytes())
        return dest
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
