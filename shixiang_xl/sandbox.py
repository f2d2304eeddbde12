"""Isolated workers: run untrusted-file work in child processes with a memory limit and a time limit.

A hostile file can make a parser abort the whole process (python-calamine on a cell at XFD1048576), hang (openpyxl),
or eat memory (zip bombs). Each worker is a separate process with ``RLIMIT_AS`` set; a task that crashes its worker,
exceeds its time or runs out of memory becomes a :class:`Failure` for that item only, and the batch goes on.

Items are sent in small batches to keep the per-item overhead low; when a batch fails, its items are retried one
by one so the failure is pinned on the right file.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, Callable, Iterable, Iterator

DEFAULT_MEMORY_MB = 1024
DEFAULT_TIMEOUT = 30.0


# ------------------------------------------------------------------ stopping (a closed window, a stopped service)


class Stopped(KeyboardInterrupt):
    """The process was asked to stop (SIGTERM, SIGHUP): raised like Ctrl-C's KeyboardInterrupt, so every
    ``finally`` runs (workers ended, temporary files removed, the open transaction rolled back)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _stop_signals() -> list[int]:
    import signal

    return [getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)]


def _raise_stopped(signum: int, frame: Any) -> None:
    import signal

    for sig in _stop_signals():  # a second signal must not cut the clean-up short
        signal.signal(sig, signal.SIG_IGN)
    raise Stopped(signum)


_saved = False


def note_saved() -> None:
    """The store has committed this run's work: a stop from now on must not say the work was undone."""
    global _saved
    _saved = True


def saved() -> bool:
    """Whether the run inside :func:`stop_on_signals` has committed work to the store."""
    return _saved


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """While the block runs, SIGTERM and SIGHUP stop it as Ctrl-C does (:class:`Stopped`).
    The handlers before are put back afterwards."""
    import signal

    global _saved
    _saved = False
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {sig: signal.signal(sig, _raise_stopped) for sig in _stop_signals()}
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


def die_with_parent(parent: int, sig: int | None = None) -> None:
    """In a child process: have the kernel send ``sig`` (default SIGKILL) to it when ``parent`` ends, however
    it ends (Linux; elsewhere the parent's own clean-up ends its children). A child whose parent is already
    gone ends at once."""
    import signal

    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, int(sig if sig is not None else signal.SIGKILL))  # 1: PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:
        os._exit(1)


def worker_signals(parent: int) -> None:
    """How a worker process takes signals: it ends with its parent; Ctrl-C and a closed terminal are for the
    parent to handle (it ends its workers); SIGTERM (from the parent) raises :class:`Stopped` so the work in hand
    removes its temporary files."""
    import signal

    die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _raise_stopped)


_held = 0


def hold_heap() -> None:
    """Before a fork: keep the collector off the objects that exist now, until :func:`release_heap`.

    Forked processes share the parent's pages until either writes to them; the collector writes to every object it
    visits, which would copy the whole inherited heap (a city's project list) into each process.
    """
    global _held
    if _held == 0:
        gc.freeze()
    _held += 1


def release_heap() -> None:
    global _held
    _held -= 1
    if _held == 0:
        gc.unfreeze()


@dataclass(frozen=True)
class Failure:
    """Why an item could not be processed: "timeout", "memory" or "crash" (with detail)."""

    reason: str
    detail: str = ""


def _limit_memory(megabytes: int) -> None:
    try:
        import resource
    except ImportError:  # Windows: no rlimits; the timeout still applies
        return
    limit = megabytes * 1024 * 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _worker_main(conn: Connection, func: Callable[[Any], Any], memory_mb: int, parent: int) -> None:
    try:
        worker_signals(parent)
        _limit_memory(memory_mb)
        _serve(conn, func)
    except KeyboardInterrupt:  # stopped by the parent (Stopped): leave quietly, the parent reports
        return


def _serve(conn: Connection, func: Callable[[Any], Any]) -> None:
    while True:
        try:
            batch = conn.recv()
        except (EOFError, OSError):
            return
        if batch is None:
            return
        out = []
        for item in batch:
            try:
                out.append(("ok", func(item)))
            except MemoryError:
                out.append(("memory", ""))
            except Exception as exc:  # a bug or an unexpected parser error: report, keep serving
                out.append(("error", f"{type(exc).__name__}: {exc}"))
        try:
            conn.send(out)
        except MemoryError:
            conn.send([("memory", "")] * len(batch))


class _Worker:
    def __init__(self, ctx, func: Callable, memory_mb: int) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child, func, memory_mb, os.getpid()), daemon=True)
        self.proc.start()
        child.close()
        self.batch: list[tuple[int, Any]] | None = None
        self.deadline = 0.0

    def kill(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(5)
        self.conn.close()

    def end(self) -> None:
        """Ask a busy worker to stop (it removes what it was writing), kill it if it does not within a second."""
        if self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(1)
        self.kill()

    def stop(self) -> None:
        try:
            self.conn.send(None)
        except (OSError, ValueError):
            pass
        self.proc.join(2)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(2)
        self.conn.close()


def can_fork() -> bool:
    """Whether a child process may be forked here: the platform has fork and this process runs no other thread.
    A fork while other threads run (the web page's server and its jobs) copies locks they may hold, and the child
    can hang on one; Python 3.12 warns of it. Otherwise children are spawned, or the work stays in this process."""
    return "fork" in multiprocessing.get_all_start_methods() and os.name != "nt" and threading.active_count() == 1


def run_isolated(func: Callable[[Any], Any], items: Iterable[Any], *, workers: int | None = None,
                 memory_mb: int = DEFAULT_MEMORY_MB, timeout: float = DEFAULT_TIMEOUT, batch_size: int = 8
                 ) -> Iterator[tuple[int, Any]]:
    """Yield (index, result or :class:`Failure`) for every item, in completion order.

    ``func`` must be a module-level function (it is inherited by forked workers, or pickled under spawn).
    """
    items = list(items)
    if not items:
        return
    n = max(1, min(workers or os.cpu_count() or 1, len(items)))
    method = "fork" if can_fork() else "spawn"
    ctx = multiprocessing.get_context(method)
    queue: list[list[tuple[int, Any]]] = []
    size = max(1, min(batch_size, len(items) // (n * 4) or 1))
    for start in range(0, len(items), size):
        queue.append([(i, items[i]) for i in range(start, min(start + size, len(items)))])
    queue.reverse()  # pop() from the end keeps the original order
    if method == "fork":
        hold_heap()
    pool = [_Worker(ctx, func, memory_mb) for _ in range(n)]

    def dispatch(w: _Worker) -> None:
        if w.batch is None and queue:
            batch = queue.pop()
            w.batch = batch
            w.deadline = time.monotonic() + timeout * len(batch)
            try:
                w.conn.send([item for _, item in batch])
            except (OSError, ValueError):
                pass  # a dead worker is noticed below

    try:
        while queue or any(w.batch is not None for w in pool):
            for w in pool:
                dispatch(w)
            busy = {w.conn: w for w in pool if w.batch is not None}
            ready = wait(list(busy), timeout=0.5)
            now = time.monotonic()
            for k, w in enumerate(pool):
                if w.batch is None:
                    continue
                failed: Failure | None = None
                if w.conn in ready:
                    try:
                        results = w.conn.recv()
                    except (EOFError, OSError):
                        failed = Failure("crash", _exit_detail(w))
                    else:
                        done, w.batch = w.batch, None
                        # The worker's next batch goes out before its results are handed over: whatever the
                        # caller does with them (unpickled values to store, a flush) is no time the worker waits.
                        dispatch(w)
                        for (i, _), (status, value) in zip(done, results):
                            if status == "ok":
                                yield i, value
                            else:
                                yield i, Failure(status, value)
                        continue
                elif now > w.deadline:
                    failed = Failure("timeout")
                elif not w.proc.is_alive():
                    failed = Failure("crash", _exit_detail(w))
                if failed is None:
                    continue
                batch, w.batch = w.batch, None
                w.kill()
                pool[k] = _Worker(ctx, func, memory_mb)
                if len(batch) == 1:
                    yield batch[0][0], failed
                else:  # retry alone, so only the guilty item fails
                    queue.extend([[entry] for entry in reversed(batch)])
    finally:
        for w in pool:
            if w.batch is not None:
                w.end()
            else:
                w.stop()
        if method == "fork":
            release_heap()


def _exit_detail(w: _Worker) -> str:
    w.proc.join(1)
    code = w.proc.exitcode
    if code is not None and code < 0:
        import signal

        try:
            return f"进程被信号 {signal.Signals(-code).name} 终止"
        except ValueError:
            return f"进程被信号 {-code} 终止"
    return f"进程退出码 {code}"


# ------------------------------------------------------------------ an output written beside the main work


class Background:
    """``func(*args)`` in a forked child process, so that a large output (the 台账, the 校验报告) is written on
    another core while this process goes on; :meth:`wait` waits for it.

    Should the child fail, :meth:`wait` does the work again in this process, so its error surfaces as any other
    (a full disk, a file open in Excel). Where a process cannot be forked (Windows; other threads running, see
    :func:`can_fork`) the work is done at once.
    """

    def __init__(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        self._call = (func, args, kwargs)
        self._proc: Any = None
        if not can_fork():
            func(*args, **kwargs)
            return
        hold_heap()  # the child reads the inherited data: the collector must not copy its pages
        try:
            self._proc = multiprocessing.get_context("fork").Process(target=_background_main,
                                                                     args=(os.getpid(), func, args, kwargs))
            self._proc.start()
        finally:
            release_heap()

    def wait(self) -> None:
        if self._proc is None:
            return
        proc, self._proc = self._proc, None
        try:
            proc.join()
        finally:
            if proc.is_alive():  # interrupted while waiting (Ctrl-C): the child goes too
                _end(proc)
        if proc.exitcode != 0:
            func, args, kwargs = self._call
            func(*args, **kwargs)

    def cancel(self) -> None:
        """Stop the child (it removes the file it was writing): the work is not wanted after all."""
        if self._proc is not None:
            proc, self._proc = self._proc, None
            _end(proc)


def _end(proc: Any) -> None:
    if proc.is_alive():
        proc.terminate()  # SIGTERM: Stopped is raised in the child, its temporary file is removed
        proc.join(2)
    if proc.is_alive():
        proc.kill()
    proc.join()


def _background_main(parent: int, func: Callable[..., Any], args: tuple, kwargs: dict) -> None:
    worker_signals(parent)
    try:
        func(*args, **kwargs)
    except Exception:  # noqa: BLE001 - the parent does the work again and reports the error itself
        sys.exit(1)
