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
