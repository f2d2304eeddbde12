"""Backups of the store (``shixiang.db``): one before each merge, the last few kept in ``.shixiang/backups/``,
and ``shixiang restore`` to put one back.

A backup is made with SQLite's own online-backup API into a temporary file, checked (``PRAGMA quick_check``),
then renamed into place: a backup is either whole and sound or not there. A store that fails the check is not
backed up (and the merge does not go on): the backups only ever hold intact copies.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .errors import ShixiangError

BACKUP_DIR = ".shixiang/backups"
KEEP = 5  # backups kept; the oldest go first
_NAME = re.compile(r"^shixiang-(\d{8}-\d{6})(?:-(\d+))?\.db$")


@dataclass(frozen=True)
class Backup:
    """One backup file and when it was made (from its name, which sorts by time)."""

    path: Path
    made: dt.datetime

    @property
    def label(self) -> str:
        return f"{self.path.name}（{self.made:%Y-%m-%d %H:%M:%S}，{self.path.stat().st_size / 1024:.0f} KB）"


def backup_dir(db_path: Path) -> Path:
    """Where the backups of the store at ``db_path`` go (next to it, in the workspace's ``.shixiang/``)."""
    return db_path.parent / BACKUP_DIR


def cut_short(db_path: Path) -> str:
    """Why the file at ``db_path`` is not a whole SQLite database from its header alone ("" when it looks whole).

    A copy cut short (a full USB stick, an interrupted network copy) keeps a valid header: SQLite then reads the
    missing pages as empty and answers queries wrongly or late. The header says how many pages there are.
    Not judged while a rollback journal is next to it (SQLite puts the file right when it opens it).
    """
    journal = db_path.with_name(db_path.name + "-journal")
    try:
        if journal.exists() and journal.stat().st_size > 0:
            return ""
        size = db_path.stat().st_size
        with open(db_path, "rb") as fh:
            head = fh.read(100)
    except OSError:
        return ""
    if size == 0:
        return ""  # a new store
    if len(head) < 100 or not head.startswith(b"SQLite format 3\x00"):
        return "文件头不是 SQLite 数据库"
    page_size = int.from_bytes(head[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(head[28:32], "big")
    valid = head[24:28] == head[92:96]  # the header's page count is trusted only then (SQLite's own rule)
    if valid and pages and size < pages * page_size:
        return f"文件不完整：应有 {pages * page_size:,} 字节，只有 {size:,} 字节"
    if size % page_size:
        return f"文件不完整：大小 {size:,} 字节不是整页"
    return ""


def verify(db_path: Path) -> str:
    """What is wrong with the SQLite file at ``db_path`` ("" when it is sound): its length, then SQLite's own
    ``PRAGMA quick_check`` (every page read, without the slower index cross-checks)."""
    problem = cut_short(db_path)
    if problem:
        return problem
    try:
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        try:
            rows = [r[0] for r in conn.execute("PRAGMA quick_check")]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    return "" if rows == ["ok"] else "；".join(rows[:3])


def list_backups(db_path: Path) -> list[Backup]:
    """The store's backups, newest first."""
    folder = backup_dir(db_path)
    found = []
    if folder.is_dir():
        for p in folder.iterdir():
            m = _NAME.match(p.name)
            if m and p.is_file():
                try:
                    made = dt.datetime.strptime(m.group(1), "%Y%m%d-%H%M%S")
                except ValueError:
                    continue
                found.append(((m.group(1), int(m.group(2) or 1)), Backup(p, made)))
    found.sort(key=lambda kb: kb[0], reverse=True)  # by time, then by the number of a second one that second
    return [b for _, b in found]


def backup_store(conn: sqlite3.Connection, db_path: Path, *, keep: int = KEEP) -> Path:
    """Copy the open store into a new backup (atomically), check it, and keep the newest ``keep`` backups.

    Raises :class:`sqlite3.DatabaseError` ("database disk image is malformed") when the store is damaged, before
    anything is written to it; the damaged copy is not kept.
    """
    folder = backup_dir(db_path)
    folder.mkdir(parents=True, exist_ok=True)
    problem = cut_short(db_path)
    if problem:
        raise sqlite3.DatabaseError(f"database disk image is malformed ({problem})")
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    # A second backup within the same second is numbered after the last one (never reusing a pruned name).
    taken = [int(m.group(2) or 1) for m in map(_NAME.match, os.listdir(folder)) if m and m.group(1) == stamp]
    n = max(taken, default=0) + 1
    dest = folder / (f"shixiang-{stamp}.db" if n == 1 else f"shixiang-{stamp}-{n}.db")
    with _store_copy(conn, folder, ".~backup-") as tmp:
        problem = verify(tmp)
        if problem:
            raise sqlite3.DatabaseError(f"database disk image is malformed ({problem})")
        os.replace(tmp, dest)
    for old in list_backups(db_path)[keep:]:
        try:
            old.path.unlink()
        except OSError:
            pass
    return dest


@contextlib.contextmanager
def _store_copy(source: sqlite3.Connection, folder: Path, prefix: str) -> Iterator[Path]:
    """A copy of ``source`` (SQLite's online backup), on disk, in a temporary file in ``folder`` for the block to
    check and rename into place; removed when the block fails."""
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=folder)
    os.close(fd)
    try:
        target = sqlite3.connect(tmp)
        try:
            source.backup(target)
        finally:
            target.close()
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        yield Path(tmp)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@dataclass(frozen=True)
class Restored:
    backup: Backup
    kept: Path | None  # where the store that was replaced now is (None when there was none)


def restore_store(db_path: Path, backup: Backup) -> Restored:
    """Put ``backup`` back as the store. The store it replaces (and its journal) is renamed, never deleted."""
    problem = verify(backup.path)
    if problem:
        raise ShixiangError(f"备份 {backup.path.name} 也不完整（{problem}），不能用来恢复。请运行 shixiang restore "
                            "查看其他备份，用 --from 指定一份。")
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    kept = None
    source = sqlite3.connect(f"file:{backup.path}?mode=ro", uri=True)
    try:
        with _store_copy(source, db_path.parent, ".~restore-") as tmp:
            source.close()
            if db_path.exists():
                kept = db_path.with_name(f"{db_path.name}.恢复前-{stamp}")
                try:
                    os.replace(db_path, kept)
                except PermissionError:  # Windows: another program has it open
                    raise ShixiangError(f"数据库 {db_path} 正被另一个程序占用（另一个 shixiang 窗口，或备份、杀毒软件），"
                                        "没有恢复。请关闭它后重试。") from None
            # A journal left by the damaged store would be "rolled back" into the restored one: it goes with it.
            for suffix in ("-journal", "-wal", "-shm"):
                extra = db_path.with_name(db_path.name + suffix)
                if extra.exists():
                    os.replace(extra, db_path.with_name(f"{db_path.name}.恢复前-{stamp}{suffix}"))
            os.replace(tmp, db_path)
    finally:
        source.close()
    return Restored(backup, kept)
