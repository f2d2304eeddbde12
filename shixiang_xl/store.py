"""The store: one SQLite file per workspace (``shixiang.db``), the embedded default.

It records every file received (by sha256), every return read, the accepted values per period, every finding,
each period's project completions, receipt times the clerk set, e-mails sent and collected and survey tallies.
Every table of the store is defined here, and created when the store is opened.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

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
