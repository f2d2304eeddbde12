"""The store: one SQLite file per workspace (``shixiang.db``), the embedded default.

It records every file received (by sha256), every return read, the accepted values per period, every finding,
each period's project completions, receipt times the clerk set, e-mails sent and collected and survey tallies.
Every table of the store is defined here, and created when the store is opened; every statement on those tables
is a function here, which the stages call with plain values (and, where they write, inside their own transaction).
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from .backup import backup_store, cut_short
from .faults import damaged, db_timeout, explain
from .sandbox import note_saved

SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    sha256        TEXT PRIMARY KEY,
    size          INTEGER NOT NULL,
    archive_path  TEXT NOT NULL,
    first_name    TEXT NOT NULL,
    first_seen    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS receipts (
    id            INTEGER PRIMARY KEY,
    sha256        TEXT NOT NULL REFERENCES files(sha256),
    original_name TEXT NOT NULL,
    source_path   TEXT NOT NULL,
    received_at   TEXT NOT NULL,
    period        TEXT NOT NULL,
    UNIQUE (sha256, source_path, period)
);
CREATE TABLE IF NOT EXISTS returns (
    sha256        TEXT NOT NULL REFERENCES files(sha256),
    period        TEXT NOT NULL,
    unit          TEXT NOT NULL,
    original_name TEXT NOT NULL,
    received_at   TEXT NOT NULL,
    issued_at     TEXT NOT NULL DEFAULT '',
    saved_at      TEXT NOT NULL DEFAULT '',
    status        TEXT NOT NULL,             -- accepted | rejected | superseded | unreadable
    errors        INTEGER NOT NULL DEFAULT 0,
    warnings      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (sha256, period)
);
CREATE TABLE IF NOT EXISTS entries (
    period        TEXT NOT NULL,
    unit          TEXT NOT NULL,
    sheet         TEXT NOT NULL,             -- lead | co | info
    row_key       TEXT NOT NULL,             -- P01 / P01-I02 / info
    column_key    TEXT NOT NULL,
    value_num     REAL,
    value_text    TEXT,
    sha256        TEXT NOT NULL,
    PRIMARY KEY (period, unit, sheet, row_key, column_key)
);
CREATE TABLE IF NOT EXISTS findings (
    period        TEXT NOT NULL,
    sha256        TEXT NOT NULL,
    code          TEXT NOT NULL,
    severity      TEXT NOT NULL,
    unit          TEXT NOT NULL,
    file          TEXT NOT NULL,
    sheet         TEXT NOT NULL,
    cell          TEXT NOT NULL,
    message       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS findings_period ON findings (period, sha256);
CREATE INDEX IF NOT EXISTS receipts_sha ON receipts (sha256);
CREATE INDEX IF NOT EXISTS returns_period ON returns (period, unit);
CREATE INDEX IF NOT EXISTS entries_unit ON entries (unit, period);
CREATE TABLE IF NOT EXISTS merges (
    period        TEXT PRIMARY KEY,
    merged_at     TEXT NOT NULL,
    content_hash  TEXT NOT NULL
);
-- progress: each merged period's project completions (merge)
CREATE TABLE IF NOT EXISTS progress (
    period      TEXT NOT NULL,
    project     INTEGER NOT NULL,
    completion  REAL,
    expected    REAL NOT NULL,
    status      TEXT NOT NULL,
    PRIMARY KEY (period, project)
);
-- receipt_corrections: receipt times set by the clerk (shixiang receipt)
CREATE TABLE IF NOT EXISTS receipt_corrections (
    id            INTEGER PRIMARY KEY,
    period        TEXT NOT NULL,
    unit          TEXT NOT NULL,
    received_at   TEXT NOT NULL,             -- the time the clerk set (ISO 8601, local time with offset)
    previous      TEXT NOT NULL DEFAULT '',  -- the receipt time it replaced
    changed_at    TEXT NOT NULL              -- when the correction was made
);
CREATE INDEX IF NOT EXISTS receipt_corrections_period ON receipt_corrections (period, unit);
-- sends: e-mails sent (shixiang send)
CREATE TABLE IF NOT EXISTS sends (
    id          INTEGER PRIMARY KEY,
    period      TEXT NOT NULL,
    kind        TEXT NOT NULL,              -- report | remind
    unit        TEXT NOT NULL,
    address     TEXT NOT NULL,              -- '' when the unit has no address
    file        TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    sent_at     TEXT NOT NULL,
    result      TEXT NOT NULL,              -- sent | refused | failed | no-address | draft
    message_id  TEXT NOT NULL DEFAULT '',
    detail      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS sends_lookup ON sends (period, kind, unit, sha256);
-- collected: attachments collected from mail (shixiang collect)
CREATE TABLE IF NOT EXISTS collected (
    id            INTEGER PRIMARY KEY,
    period        TEXT NOT NULL,
    source        TEXT NOT NULL,            -- the mail file (› message key in an mbox/Maildir)
    message_id    TEXT NOT NULL,
    sender        TEXT NOT NULL,
    unit          TEXT NOT NULL,            -- '' when the sender is not in the unit directory
    date          TEXT NOT NULL,            -- the Date header, ISO 8601 ('' when missing)
    original_name TEXT NOT NULL,
    saved_path    TEXT NOT NULL,
    sha256        TEXT NOT NULL,
    size          INTEGER NOT NULL,
    result        TEXT NOT NULL,            -- saved | duplicate | skipped | too-large | no-attachment | unreadable
    detail        TEXT NOT NULL DEFAULT '',
    collected_at  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS collected_sha ON collected (period, sha256);
-- survey_tallies, survey_results: the year's satisfaction survey (shixiang survey tally)
CREATE TABLE IF NOT EXISTS survey_tallies (
    year          INTEGER PRIMARY KEY,
    tallied_at    TEXT NOT NULL,
    threshold     REAL NOT NULL,
    issued        INTEGER NOT NULL,
    returned      INTEGER NOT NULL,
    counted       INTEGER NOT NULL,
    outside       INTEGER NOT NULL,
    files         TEXT NOT NULL,             -- JSON list of the entry files counted
    result_path   TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS survey_results (
    year          INTEGER NOT NULL,
    project       INTEGER NOT NULL,
    project_key   TEXT NOT NULL,
    name          TEXT NOT NULL,
    lead          TEXT NOT NULL,
    satisfied     INTEGER NOT NULL,
    basic         INTEGER NOT NULL,
    unsatisfied   INTEGER NOT NULL,
    abstain       INTEGER NOT NULL,
    invalid       INTEGER NOT NULL,
    rank          INTEGER,
    PRIMARY KEY (year, project)
);
"""


class Store:
    """A connection to the workspace's SQLite file with the schema in place."""

    def __init__(self, path: Path) -> None:
        self.path = path
        problem = cut_short(path)  # a copy cut short: SQLite itself would read the missing pages as empty
        if problem:
            raise damaged(path, problem)
        # Another program (a second window, a backup tool) may hold the file for a while: wait that long.
        self.conn = sqlite3.connect(str(path), timeout=db_timeout(), isolation_level=None)
        try:
            self.conn.row_factory = sqlite3.Row
            self.conn.execute("PRAGMA foreign_keys = ON")
            self.conn.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            self.conn.close()
            problem_error = explain(exc, path)
            if problem_error is not None:
                raise problem_error from exc
            raise

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic unit of work: everything or nothing."""
        self.conn.execute("BEGIN IMMEDIATE")
        committing = False
        try:
            yield self.conn
            committing = True
            self.conn.execute("COMMIT")
        except BaseException as exc:
            if committing and isinstance(exc, KeyboardInterrupt) and not self.conn.in_transaction:
                note_saved()  # the stop came just as COMMIT ended: the work is saved
            # SQLite may have rolled back already (a full disk does): a second ROLLBACK would fail and hide the
            # error that got us here, which is the one to report.
            if self.conn.in_transaction:
                try:
                    self.conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
            raise
        note_saved()

    def backup(self) -> Path:
        """A checked copy of the store in ``.shixiang/backups/`` (the newest few kept); see :mod:`.backup`."""
        return backup_store(self.conn, self.path)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def period_rows(db_path: Path, table: str, period: str) -> list[dict]:
    """Every row of a module's own ``table`` for ``period`` (oldest first), as plain dicts; none without a store."""
    if not db_path.exists():
        return []
    with open_store(db_path) as store:
        return [dict(r) for r in store.conn.execute(f"SELECT * FROM {table} WHERE period = ? ORDER BY id", (period,))]


def open_store(path: Path) -> Store:
    """Open (and create when needed) the store at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return Store(path)


# ------------------------------------------------------------------ statements, by table
# Every statement on the store's tables is here: the stages call these with plain values and get rows back
# (sqlite3.Row: by name or by position), inside a transaction of theirs where they write.

_FILE = "INSERT OR IGNORE INTO files (sha256, size, archive_path, first_name, first_seen) VALUES (?, ?, ?, ?, ?)"
_RECEIPT = ("INSERT OR IGNORE INTO receipts (sha256, original_name, source_path, received_at, period) "
            "VALUES (?, ?, ?, ?, ?)")


def record_files(conn: sqlite3.Connection, rows: Iterable[tuple[str, int, str, str, str]]) -> None:
    """Files received, as (sha256, size, archive path, name, first seen); a file known already is kept as it is."""
    conn.executemany(_FILE, rows)


def record_receipts(conn: sqlite3.Connection, rows: Iterable[tuple[str, str, str, str, str]]) -> None:
    """Receipts, as (sha256, name, source path, received at, period): one per file, path and period."""
    conn.executemany(_RECEIPT, rows)


def record_returns(conn: sqlite3.Connection, period: str,
                   rows: Iterable[tuple[str, str, str, str, str, str, str, int, int]]) -> None:
    """The returns read for ``period``, as (sha256, unit, name, received at, issued at, saved at, status, errors,
    warnings); a return's received time is the earliest receipt of its bytes (``received at`` when none)."""
    conn.executemany(
        "INSERT INTO returns (sha256, period, unit, original_name, received_at, issued_at, saved_at, status, "
        "errors, warnings) VALUES (?, ?, ?, ?, COALESCE((SELECT MIN(received_at) FROM receipts WHERE sha256 = ?), "
        "?), ?, ?, ?, ?, ?) ON CONFLICT (sha256, period) DO UPDATE SET "
        "unit = excluded.unit, status = excluded.status, errors = excluded.errors, "
        "warnings = excluded.warnings, saved_at = excluded.saved_at, issued_at = excluded.issued_at",
        ((sha, period, unit, name, sha, received, issued, saved, status, errors, warnings)
         for sha, unit, name, received, issued, saved, status, errors, warnings in rows))


def counted_returns(conn: sqlite3.Connection, period: str) -> list[sqlite3.Row]:
    """The period's accepted and rejected returns, oldest save first (unit, status, original_name, errors,
    warnings, received_at, first_received: the first receipt of its bytes)."""
    return conn.execute(
        "SELECT r.unit, r.status, r.original_name, r.errors, r.warnings, r.received_at, "
        "(SELECT MIN(received_at) FROM receipts c WHERE c.sha256 = r.sha256) AS first_received "
        "FROM returns r WHERE r.period = ? AND r.status IN ('accepted', 'rejected') "
        "ORDER BY r.saved_at, r.issued_at, r.original_name", (period,)).fetchall()


def first_receipts(conn: sqlite3.Connection, period: str) -> dict[str, str]:
    """sha256 → the first time its bytes were received, for every return of ``period``."""
    return dict(conn.execute(
        "SELECT sha256, MIN(received_at) FROM receipts WHERE sha256 IN (SELECT sha256 FROM returns WHERE period = ?) "
        "GROUP BY sha256", (period,)).fetchall())


def replace_findings(conn: sqlite3.Connection, period: str,
                     rows: Iterable[tuple[str, str, str, str, str, str, str, str]]) -> None:
    """The period's findings, replaced by (sha256, code, severity, unit, file, sheet, cell, message) rows."""
    conn.execute("DELETE FROM findings WHERE period = ?", (period,))
    conn.executemany("INSERT INTO findings (period, sha256, code, severity, unit, file, sheet, cell, message) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", ((period, *row) for row in rows))


def period_findings(conn: sqlite3.Connection, period: str) -> list[sqlite3.Row]:
    """The findings of the period's last check or merge (code, severity, message, file, sheet, cell, unit)."""
    return conn.execute("SELECT code, severity, message, file, sheet, cell, unit FROM findings WHERE period = ?",
                        (period,)).fetchall()


def replace_entries(conn: sqlite3.Connection, period: str, units: Sequence[str],
                    rows: Iterable[tuple[str, str, str, str, float | None, str | None, str]]) -> None:
    """``units``' values for ``period``, replaced by (unit, sheet, row key, column key, number, text, sha256) rows
    (one statement for all of them)."""
    conn.executemany("DELETE FROM entries WHERE period = ? AND unit = ?", [(period, unit) for unit in units])
    conn.executemany("INSERT INTO entries (period, unit, sheet, row_key, column_key, value_num, value_text, sha256) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", ((period, *row) for row in rows))


def entries_of(conn: sqlite3.Connection, period: str, units: Sequence[str]) -> Iterator[tuple]:
    """Some units' values for ``period`` as plain (unit, sheet, row key, column key, number, text) tuples."""
    cursor = conn.cursor()
    cursor.row_factory = None  # plain tuples: a city-wide period has hundreds of thousands of values
    for start in range(0, len(units), 500):  # well under SQLite's limit on parameters
        part = list(units[start:start + 500])
        yield from cursor.execute("SELECT unit, sheet, row_key, column_key, value_num, value_text FROM entries "
                                  f"WHERE period = ? AND unit IN ({', '.join('?' * len(part))})", (period, *part))


def entry_units(conn: sqlite3.Connection, period: str) -> list[str]:
    """The units that have values for ``period``."""
    return [u for (u,) in conn.execute("SELECT DISTINCT unit FROM entries WHERE period = ?", (period,))]


def entries_before(conn: sqlite3.Connection, period: str, year: int, columns: Sequence[str]) -> list[sqlite3.Row]:
    """The values of ``columns`` in the periods of ``year`` before ``period``, oldest period first (unit, sheet,
    row_key, column_key, value_num, value_text)."""
    marks = ", ".join("?" * len(columns))
    return conn.execute("SELECT unit, sheet, row_key, column_key, value_num, value_text FROM entries "
                        f"WHERE period < ? AND period LIKE ? AND column_key IN ({marks}) ORDER BY period",
                        (period, f"{year}-%", *columns)).fetchall()


def latest_period_before(conn: sqlite3.Connection, unit: str, period: str, year: int) -> str | None:
    """The latest period of ``year`` before ``period`` that has values of ``unit``."""
    return conn.execute("SELECT MAX(period) FROM entries WHERE unit = ? AND period < ? AND period LIKE ?",
                        (unit, period, f"{year}-%")).fetchone()[0]


def merge_hash(conn: sqlite3.Connection, period: str) -> str | None:
    """The content hash the period's last merge recorded (None when it was never merged)."""
    row = conn.execute("SELECT content_hash FROM merges WHERE period = ?", (period,)).fetchone()
    return row[0] if row else None


def record_merge(conn: sqlite3.Connection, period: str, merged_at: str, content_hash: str) -> None:
    """That ``period`` was merged at ``merged_at`` into a ledger with this content hash."""
    conn.execute("INSERT INTO merges (period, merged_at, content_hash) VALUES (?, ?, ?) ON CONFLICT (period) DO "
                 "UPDATE SET merged_at = excluded.merged_at, content_hash = excluded.content_hash",
                 (period, merged_at, content_hash))


def merged_slugs(conn: sqlite3.Connection, year: int) -> list[str]:
    """The merged periods of ``year`` (slugs, in text order)."""
    return [r[0] for r in conn.execute("SELECT period FROM merges WHERE period LIKE ? ORDER BY period",
                                       (f"{year}-%",))]


def replace_progress(conn: sqlite3.Connection, period: str,
                     rows: Iterable[tuple[int, float | None, float, str]]) -> None:
    """The period's project completions, replaced by (project, completion, expected, status) rows."""
    conn.execute("DELETE FROM progress WHERE period = ?", (period,))
    conn.executemany("INSERT INTO progress (period, project, completion, expected, status) VALUES (?, ?, ?, ?, ?)",
                     ((period, *row) for row in rows))


def progress_before(conn: sqlite3.Connection, period: str, year: int) -> list[sqlite3.Row]:
    """The project completions of the merged periods of ``year`` before ``period`` (period, project,
    completion)."""
    return conn.execute("SELECT period, project, completion FROM progress WHERE period < ? AND period LIKE ?",
                        (period, f"{year}-%")).fetchall()


def corrections_of(conn: sqlite3.Connection, period: str) -> list[sqlite3.Row]:
    """The receipt times the clerk set for ``period``, oldest first (period, unit, received_at, previous,
    changed_at)."""
    return conn.execute("SELECT period, unit, received_at, previous, changed_at FROM receipt_corrections "
                        "WHERE period = ? ORDER BY id", (period,)).fetchall()


def add_correction(conn: sqlite3.Connection, period: str, unit: str, received_at: str, previous: str,
                   changed_at: str) -> None:
    """A receipt time set by the clerk, with the time it replaces and when it was set."""
    conn.execute("INSERT INTO receipt_corrections (period, unit, received_at, previous, changed_at) "
                 "VALUES (?, ?, ?, ?, ?)", (period, unit, received_at, previous, changed_at))


def record_send(conn: sqlite3.Connection, period: str, kind: str, unit: str, address: str, file: str, sha256: str,
                sent_at: str, result: str, message_id: str = "", detail: str = "") -> None:
    """One e-mail sent, refused or drafted (see the ``sends`` table)."""
    conn.execute("INSERT INTO sends (period, kind, unit, address, file, sha256, sent_at, result, message_id, "
                 "detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 (period, kind, unit, address, file, sha256, sent_at, result, message_id, detail))


def sends_of(conn: sqlite3.Connection, period: str, kind: str, unit: str, sha256: str, day: str = ""
             ) -> list[sqlite3.Row]:
    """The e-mails of this kind sent to ``unit`` with this file (address, result, sent_at), oldest first; with
    ``day`` (YYYY-MM-DD) only those of that day."""
    sql = "SELECT address, result, sent_at FROM sends WHERE period = ? AND kind = ? AND unit = ? AND sha256 = ?"
    args: list = [period, kind, unit, sha256]
    if day:
        sql += " AND substr(sent_at, 1, 10) = ?"
        args.append(day)
    return conn.execute(sql + " ORDER BY id", args).fetchall()


def record_collected(conn: sqlite3.Connection, period: str, source: str, message_id: str, sender: str, unit: str,
                     date: str, original_name: str, saved_path: str, sha256: str, size: int, result: str,
                     detail: str, collected_at: str) -> None:
    """One attachment (or mail without one) met by ``collect`` (see the ``collected`` table)."""
    conn.execute("INSERT INTO collected (period, source, message_id, sender, unit, date, original_name, saved_path, "
                 "sha256, size, result, detail, collected_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 (period, source, message_id, sender, unit, date, original_name, saved_path, sha256, size, result,
                  detail, collected_at))


def collected_copies(conn: sqlite3.Connection, period: str, sha256: str) -> list[str]:
    """Where earlier collects of ``period`` saved a file with these bytes, oldest first."""
    return [r[0] for r in conn.execute("SELECT saved_path FROM collected WHERE period = ? AND sha256 = ? AND "
                                       "result = 'saved' ORDER BY id", (period, sha256))]


def save_survey(conn: sqlite3.Connection, year: int, tally: tuple, results: Iterable[tuple]) -> None:
    """The year's survey tally, replaced: ``tally`` as the ``survey_tallies`` columns after ``year``, ``results``
    one row per project as the ``survey_results`` columns after ``year``."""
    conn.execute("DELETE FROM survey_results WHERE year = ?", (year,))
    conn.execute("INSERT OR REPLACE INTO survey_tallies VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", (year, *tally))
    conn.executemany("INSERT INTO survey_results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     ((year, *row) for row in results))


def survey_threshold(conn: sqlite3.Connection, year: int) -> float | None:
    """The threshold of the year's saved survey tally (None when the year was never tallied)."""
    row = conn.execute("SELECT threshold FROM survey_tallies WHERE year = ?", (year,)).fetchone()
    return None if row is None else float(row[0])


def survey_results(conn: sqlite3.Connection, year: int) -> list[sqlite3.Row]:
    """The year's saved survey counts, one row per project (the ``survey_results`` columns)."""
    return conn.execute("SELECT * FROM survey_results WHERE year = ? ORDER BY project", (year,)).fetchall()
