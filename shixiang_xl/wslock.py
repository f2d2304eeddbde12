"""One `check` or `merge` at a time in a workspace: a lock file the operating system releases with its holder.

Two merges at once (a second window, a scheduled task) would each read the store, each decide which return
counts and each write the 台账: the second's view would not include the first's work. The lock is taken on
``.shixiang/运行中.lock`` with ``fcntl.flock`` (``msvcrt.locking`` on Windows); the kernel drops it when the
process ends, however it ends, so a killed run never leaves the workspace locked. The file names its holder
(what, process id, since when) for the message the second run shows.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import time
from pathlib import Path
from typing import Iterator

from .errors import ShixiangError

LOCK_NAME = "运行中.lock"
POLL = 0.2

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]
    import msvcrt


def _try_lock(fd: int) -> bool:
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        else:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    except OSError:
        return False
    return True


def _holder(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return ""
    return f"（{text}）" if text else ""


@contextlib.contextmanager
def workspace_lock(state_dir: Path, what: str, *, wait: float = 60.0) -> Iterator[None]:
    """Hold the workspace's run lock for ``what`` (e.g. "汇总 2026-03"), waiting up to ``wait`` seconds for a
    run that holds it to end; then raise :class:`ShixiangError` saying clearly that another run is going on."""
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + max(0.0, wait)
        while not _try_lock(fd):
            if time.monotonic() >= deadline:
                raise ShixiangError(
                    f"这个工作区正在进行另一项校验或汇总{_holder(path)}，为避免两次汇总互相覆盖，本次未运行。"
                    f"请等它结束后再试（已等待 {wait:g} 秒；可用 --wait 秒数 设定等待时间）。")
            time.sleep(POLL)
        since = dt.datetime.now().astimezone().isoformat(timespec="seconds")
        note = f"{what}，进程 {os.getpid()}，开始于 {since}".encode("utf-8")
        if fcntl is not None:  # on Windows the locked byte cannot be rewritten; the message then names no holder
            os.ftruncate(fd, 0)
            os.pwrite(fd, note, 0)
        yield
    finally:
        os.close(fd)  # releases the lock
