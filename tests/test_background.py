"""sandbox.Background: an output written by a forked child beside the main work, redone here when the child fails."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from shixiang_xl.sandbox import Background
from shixiang_xl.xlsxout import atomic_output

PARENT = os.getpid()


def _write_pid(path: Path) -> None:
    with atomic_output(path) as fh:
        fh.write(str(os.getpid()).encode())


def _fail_in_child(path: Path) -> None:
    if os.getpid() != PARENT:
        raise OSError("disk full (in the child only)")
    _write_pid(path)


def _always_fail(path: Path) -> None:
    raise ValueError(f"cannot write {path.name}")


def _slow(path: Path) -> None:
    with atomic_output(path) as fh:
        fh.write(b"partial")
        time.sleep(30)


def test_the_work_is_done_by_a_child(tmp_path):
    out = tmp_path / "a.bin"
    writer = Background(_write_pid, out)
    writer.wait()
    assert int(out.read_text()) != os.getpid()


def test_a_child_that_fails_is_redone_here(tmp_path):
    out = tmp_path / "a.bin"
    writer = Background(_fail_in_child, out)
    writer.wait()
    assert int(out.read_text()) == os.getpid()


def test_an_error_surfaces_as_usual(tmp_path):
    writer = Background(_always_fail, tmp_path / "a.bin")
    with pytest.raises(ValueError, match="cannot write a.bin"):
        writer.wait()


def test_cancel_stops_the_child_and_leaves_nothing(tmp_path):
    writer = Background(_slow, tmp_path / "a.bin")
    time.sleep(0.5)
    start = time.monotonic()
    writer.cancel()
    assert time.monotonic() - start < 5
    assert list(tmp_path.iterdir()) == []
    writer.wait()  # nothing left to wait for


def _pid_of(_: object) -> int:
    return os.getpid()


def test_no_fork_while_other_threads_run(tmp_path):
    """With another thread running (the web page's server), nothing is forked: Background does its work in this
    process and the isolated workers are spawned; both still give their results."""
    import threading

    from shixiang_xl.sandbox import can_fork, run_isolated

    assert can_fork()
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        assert not can_fork()
        out = tmp_path / "a.bin"
        Background(_write_pid, out).wait()
        assert out.read_text() == str(os.getpid())  # written here, not by a forked copy
        results = dict(run_isolated(_pid_of, [1, 2, 3], workers=2))
        assert sorted(results) == [0, 1, 2] and os.getpid() not in results.values()
    finally:
        stop.set()
        other.join()
    assert can_fork()
