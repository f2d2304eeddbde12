"""Faults around the work, not in the returns: a damaged or locked store, a full disk, temporary files left by a
run that was stopped. :func:`explain` turns each into the Chinese message cli.py shows (exit code 2); the work
itself only has to leave nothing half-done behind (transactions, atomic writes).

Low level: imports only the configuration's error class and the store's backups.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import time
from pathlib import Path
from typing import Iterable

from .backup import backup_dir, list_backups
from .errors import ShixiangError

DB_TIMEOUT_ENV = "SHIXIANG_DB_TIMEOUT"  # seconds to wait for a store another program holds (default 30)
DEFAULT_DB_TIMEOUT = 30.0
STALE_SECONDS = 600  # a temporary file this old is no running process's: swept at the next run

_DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}  # no space; over the user's quota


class StoreDamaged(ShixiangError):
    """The store is damaged: the message says where the intact backups are and how to restore one."""


def db_timeout() -> float:
    """How long to wait for a store another program holds: ``SHIXIANG_DB_TIMEOUT`` seconds, else 30."""
    try:
        value = float(os.environ.get(DB_TIMEOUT_ENV, ""))
    except ValueError:
        return DEFAULT_DB_TIMEOUT
    return value if value >= 0 else DEFAULT_DB_TIMEOUT


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` says the disk (or the user's quota) is full."""
    if isinstance(exc, OSError):
        return exc.errno in _DISK_FULL
    if isinstance(exc, sqlite3.OperationalError):
        return "disk is full" in str(exc)
    return False


def damaged(db_path: Path, detail: str) -> StoreDamaged:
    """The error for a damaged store at ``db_path``: what happened, what is intact, how to restore."""
    backups = list_backups(db_path)
    head = (f"数据库 {db_path} 已损坏（{detail}），本次没有做任何修改。"
            "收到的原始文件（inbox/）、存档（archive/）和已生成的台账都完好。")
    if backups:
        how = (f"每次汇总前都会自动备份数据库，最近 {len(backups)} 份在 {backup_dir(db_path)}，最新一份：{backups[0].label}。\n"
               "恢复方法：运行 shixiang restore 查看备份，再运行 shixiang restore --yes 用最新的备份恢复"
               f"（损坏的文件改名保留为 {db_path.name}.恢复前-<时间>）；也可以关闭本程序后，把备份文件复制到工作区"
               f"并改名为 {db_path.name}。恢复后，对备份之后汇总过的报送期重新运行 shixiang merge --period <报送期>。")
    else:
        how = (f"还没有备份（每次汇总前才自动备份到 {backup_dir(db_path)}）。恢复方法：把 {db_path.name} 改名保留"
               f"（如 {db_path.name}.损坏），再对每个报送期依次运行 shixiang merge --period <报送期>，"
               "数据会从 inbox/ 中的原始文件重新汇总。")
    return StoreDamaged(head + "\n" + how)


def explain(exc: BaseException, db_path: Path) -> ShixiangError | None:
    """The Chinese error for a fault around the work (None when ``exc`` is not one): the store damaged or held
    by another program, a full disk."""
    text = str(exc)
    if is_disk_full(exc):
        where = f"：{exc.filename}" if isinstance(exc, OSError) and exc.filename else ""
        return ShixiangError(f"磁盘空间已满{where}。本次未完成：未完成的修改已撤销，临时文件已清除；收到的原始文件、"
                             "存档、数据库和上次的台账都完好。请清理磁盘（至少留出几百 MB）后重新运行。")
    if isinstance(exc, sqlite3.OperationalError) and "locked" in text:
        return ShixiangError(
            f"数据库 {db_path} 正被另一个程序占用（已等待 {db_timeout():g} 秒）：可能另开了一个窗口在运行 shixiang，"
            "或备份、同步、杀毒软件正在读取它。本次没有做任何修改。请等它结束（或关闭另一个窗口）后重试。")
    if isinstance(exc, sqlite3.DatabaseError) and ("malformed" in text or "not a database" in text):
        return damaged(db_path, _detail(text))
    return None


def _detail(text: str) -> str:
    if "not a database" in text:
        return "文件头不是 SQLite 数据库，可能被别的文件覆盖或被改写"
    if "(" in text and text.endswith(")"):  # our own: "… malformed (文件不完整：…)"
        return text[text.index("(") + 1:-1]
    return "数据库文件内容不完整或已被破坏，可能复制时中断"


def sweep_stale(folders: Iterable[Path], older_than: float = STALE_SECONDS) -> int:
    """Remove the temporary files (``.~….tmp``) a stopped or failed run left in ``folders`` (recursively), when
    older than ``older_than`` seconds (a younger one may be a running process's). Returns how many went."""
    cutoff = time.time() - older_than
    gone = 0
    for folder in folders:
        if not folder.is_dir():
            continue
        for p in folder.rglob(".~*.tmp"):
            try:
                if p.is_file() and not p.is_symlink() and p.stat().st_mtime < cutoff:
                    p.unlink()
                    gone += 1
            except OSError:
                continue
    return gone
