"""Faults around the work, as a clerk meets them on an office machine: a damaged store (cut short by a copy, a
bad header, a damaged page), a store another program holds, a full disk, a run stopped by SIGTERM, and file names
made from what a unit sent. Each gives a clear Chinese message and exit code, and leaves nothing behind: no
traceback, no temporary file, no orphaned worker, the originals, the archive and the store as they were.

Real parts only: real SQLite files damaged on disk, a second real connection holding the lock, a real small
tmpfs filled up (simulated ENOSPC only where mounting is not permitted), a real ``shixiang`` process stopped with
a real signal.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from shixiang_xl.backup import list_backups, verify
from shixiang_xl.cli import main
from shixiang_xl.demo import simulate_period
from shixiang_xl.faults import sweep_stale
from shixiang_xl.generate import file_name
from shixiang_xl.merge import merge_returns
from shixiang_xl.period import Period
from shixiang_xl.safename import MAX_NAME_BYTES, joined_name, safe_name
from shixiang_xl.store import Store
from shixiang_xl.workspace import init_workspace, load_context

FEB, MAR = Period.parse("2026-02"), Period.parse("2026-03")


def run_cli(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, list(args), env=env)


def dump(db: Path) -> dict[str, list[tuple]]:
    """Every row of every table, read with the sqlite3 module directly (not through the package)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        tables = [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in tables}
    finally:
        conn.close()


def digest_tree(root: Path) -> dict[str, str]:
    """sha256 of every regular file under ``root``, by relative path."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def leftovers(root: Path) -> list[Path]:
    """Temporary files a run may leave: ``.~….tmp`` (atomic writes, the archive, backups)."""
    return sorted(p for p in root.rglob(".~*") if p.is_file())


@pytest.fixture()
def merged_feb(tmp_path):
    """A workspace with February merged and March's returns in the inbox (one unit's with an error)."""
    ws = init_workspace(tmp_path / "ws", "yanzhou-2026")
    ctx = load_context(ws.root)
    simulate_period(ctx, FEB)
    merge_returns(ctx, FEB)
    leads = [u for u in ctx.projects.units if ctx.projects.led_by(u)]
    simulate_period(ctx, MAR, broken=leads[2])
    return ctx, leads[2]


def assert_clean_error(res, *fragments: str) -> None:
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    for fragment in fragments:
        assert fragment in res.output, res.output


# ------------------------------------------------------------------ names made from what a unit sent


def test_feedback_copy_of_a_return_named_with_a_newline_has_a_clean_name(merged_feb):
    ctx, broken = merged_feb
    inbox = ctx.workspace.folder("inbox", MAR.slug)
    original = inbox / file_name(MAR, broken)
    odd = inbox / "回传\n换行.xlsx"  # a real file whose name holds a newline, as a unit's mail client made it
    original.rename(odd)
    res = run_cli("-w", str(ctx.workspace.root), "check", "--period", MAR.slug)
    assert res.exit_code == 1, res.output  # the return has an error: sent back
    copies = sorted(ctx.workspace.folder("feedback", MAR.slug).iterdir())
    assert copies
    for p in copies:
        assert not any(ord(ch) < 32 or ord(ch) == 127 for ch in p.name), repr(p.name)
        assert len(p.name.encode()) <= MAX_NAME_BYTES
    mine = [p for p in copies if p.name.startswith(broken)]
    assert [p.name for p in mine] == [f"{broken}_退回修改意见_回传_换行.xlsx"]
    assert odd.exists()  # the original as it came


@pytest.mark.parametrize("parts, ext, expected", [
    (("区民政局", "退回修改意见", "回传\n换行"), ".xlsx", "区民政局_退回修改意见_回传_换行.xlsx"),
    (("CON",), ".xlsx", "_CON.xlsx"),
    (("aux",), ".eml", "_aux.eml"),
    (("报表. . ",), ".xlsx", "报表.xlsx"),
    (("区民政局", "..\\..\\etc/passwd"), ".xlsx", "区民政局__.._etc_passwd.xlsx"),
    (("区民政局", "a\u202eslx.exe"), ".xlsx", "区民政局_aslx.exe.xlsx"),
    (("2026-03", "区\t民政局"), ".催报.eml", "2026-03_区_民政局.催报.eml"),
    (("", "  "), ".xlsx", "文件.xlsx"),
])
def test_joined_name_cleans_every_part(parts, ext, expected):
    assert joined_name(parts, ext) == expected


def test_names_made_from_input_text_are_capped_and_keep_their_extension():
    long = joined_name(("区民政局", "表" * 300), ".xlsx")
    assert long.endswith(".xlsx") and len(long.encode()) <= MAX_NAME_BYTES
    assert file_name(MAR, "区\n民政局") == "2026年3月_区_民政局_十件实事进度填报表.xlsx"
    assert safe_name("CON.xlsx") == "_CON.xlsx" and safe_name("报表 .") == "报表"


# ------------------------------------------------------------------ a damaged store


@pytest.mark.parametrize("damage", ["header", "truncated"])
@pytest.mark.parametrize("command", ["check", "merge"])
def test_a_damaged_store_is_reported_with_how_to_restore(merged_feb, damage, command):
    ctx, _ = merged_feb
    db = ctx.workspace.db_path
    if damage == "header":
        with open(db, "r+b") as fh:
            fh.write(b"this is not sqlite")  # overwritten by another program
    else:
        with open(db, "r+b") as fh:
            fh.truncate(db.stat().st_size // 2)  # a copy cut short
    before_db = db.read_bytes()
    inbox = digest_tree(ctx.workspace.folder("inbox"))
    archive = digest_tree(ctx.workspace.folder("archive"))
    res = run_cli("-w", str(ctx.workspace.root), command, "--period", MAR.slug)
    assert_clean_error(res, "已损坏", "shixiang restore", str(db))
    assert str(ctx.workspace.root / ".shixiang" / "backups") in res.output  # where the intact copy is
    assert db.read_bytes() == before_db
    assert digest_tree(ctx.workspace.folder("inbox")) == inbox
    assert digest_tree(ctx.workspace.folder("archive")) == archive
    assert (ctx.workspace.folder("reports", FEB.slug) / "台账.xlsx").exists()


def test_merge_finds_a_damaged_page_before_writing_anything(merged_feb):
    ctx, _ = merged_feb
    db = ctx.workspace.db_path
    size = db.stat().st_size
    with open(db, "r+b") as fh:  # pages in the middle overwritten: the header and the length are fine
        fh.seek(size // 2 - (size // 2) % 4096)
        fh.write(b"\xff" * 8192)
    before = db.read_bytes()
    backups = [b.path.name for b in list_backups(db)]
    res = run_cli("-w", str(ctx.workspace.root), "merge", "--period", MAR.slug)
    assert_clean_error(res, "已损坏", "shixiang restore --yes")
    assert db.read_bytes() == before
    assert [b.path.name for b in list_backups(db)] == backups  # no damaged copy among the backups
    assert not leftovers(ctx.workspace.root)


def test_restore_lists_then_puts_back_the_newest_backup(merged_feb):
    ctx, _ = merged_feb
    db = ctx.workspace.db_path
    after_feb = dump(db)
    assert merge_returns(ctx, MAR).batch.files  # backs up the store as it was after February
    after_mar = dump(db)
    assert after_mar != after_feb
    with open(db, "r+b") as fh:
        fh.truncate(db.stat().st_size // 3)
    damaged = db.read_bytes()

    listing = run_cli("-w", str(ctx.workspace.root), "restore")
    assert listing.exit_code == 0, listing.output
    newest = list_backups(db)[0]
    assert newest.path.name in listing.output and "--yes" in listing.output
    assert db.read_bytes() == damaged  # listing changes nothing

    res = run_cli("-w", str(ctx.workspace.root), "restore", "--yes")
    assert res.exit_code == 0, res.output
    assert dump(db) == after_feb
    kept = sorted(db.parent.glob("shixiang.db.恢复前-*"))
    assert [p.read_bytes() for p in kept] == [damaged]  # the damaged store is kept, never deleted
    # and the work goes on: March merges again from the originals
    res = run_cli("-w", str(ctx.workspace.root), "merge", "--period", MAR.slug)
    assert res.exit_code == 0, res.output
    assert {t: rows for t, rows in dump(db).items() if t != "merges"} == \
        {t: rows for t, rows in after_mar.items() if t != "merges"}


def test_restore_a_named_backup_and_refuse_an_unknown_one(merged_feb, tmp_path):
    ctx, _ = merged_feb
    db = ctx.workspace.db_path
    oldest = list_backups(db)[-1]
    res = run_cli("-w", str(ctx.workspace.root), "restore", "--from", "nope.db", "--yes")
    assert_clean_error(res, "nope.db")
    res = run_cli("-w", str(ctx.workspace.root), "restore", "--from", oldest.path.name, "--yes")
    assert res.exit_code == 0, res.output
    assert dump(db) == dump(oldest.path)
    empty = init_workspace(tmp_path / "fresh", "yanzhou-2026")
    assert_clean_error(run_cli("-w", str(empty.root), "restore"), "没有数据库备份")


def test_backups_are_sound_and_only_the_newest_five_kept(tmp_path):
    db = tmp_path / "shixiang.db"
    with Store(db) as store:
        made = []
        for k in range(7):
            store.conn.execute("INSERT INTO merges VALUES (?, 'now', 'x')", (f"2026-{k:02d}",))
            made.append(store.backup())
    kept = list_backups(db)
    assert [b.path for b in kept] == made[::-1][:5]  # newest first, even within one second
    for b in kept:
        assert verify(b.path) == ""
    conn = sqlite3.connect(kept[0].path)
    try:
        assert conn.execute("SELECT COUNT(*) FROM merges").fetchone()[0] == 7
    finally:
        conn.close()
    assert not leftovers(tmp_path)


# ------------------------------------------------------------------ a store another program holds


@pytest.mark.parametrize("command", ["check", "merge"])
def test_a_store_held_by_another_program_says_so(merged_feb, command):
    ctx, _ = merged_feb
    db = ctx.workspace.db_path
    before = dump(db)
    other = sqlite3.connect(db, isolation_level=None)  # a second window, a backup tool
    try:
        other.execute("BEGIN IMMEDIATE")
        start = time.monotonic()
        res = run_cli("-w", str(ctx.workspace.root), command, "--period", MAR.slug,
                      env={"SHIXIANG_DB_TIMEOUT": "0.3"})
        assert time.monotonic() - start < 60
        assert_clean_error(res, "另一个程序", "重试")
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert {t: r for t, r in dump(db).items()} == before
    assert not leftovers(ctx.workspace.root)


# ------------------------------------------------------------------ a full disk


class SmallDisk:
    """A directory on a small filesystem that can be filled: a real tmpfs when this process may mount one
    (tests run as root in CI), else a plain directory where writes in the archive fail with ENOSPC."""

    def __init__(self, path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.path = path
        path.mkdir()
        self.mounted = False
        if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("mount"):
            proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(path)],
                                  capture_output=True)
            self.mounted = proc.returncode == 0
        self.monkeypatch = monkeypatch

    def fill(self) -> None:
        """Leave (next to) no room."""
        if not self.mounted:
            self._simulate()
            return
        with open(self.path / "filler.bin", "wb", buffering=0) as fh:
            for chunk in (65536, 4096, 512):
                try:
                    while True:
                        fh.write(b"\0" * chunk)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC

    def _simulate(self) -> None:
        # Not permitted to mount: the archive's writes fail as on a full disk, after the temporary file exists.
        import shixiang_xl.intake as intake

        real = os.fdopen

        class FullFile:
            def __init__(self, fd: int, mode: str) -> None:
                self._fh = real(fd, mode)

            def __enter__(self):
                return self

            def __exit__(self, *exc) -> None:
                self._fh.close()

            def write(self, data: bytes) -> int:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        class Os:
            def __getattr__(self, name: str):
                return getattr(os, name)

            @staticmethod
            def fdopen(fd: int, mode: str = "r", *args, **kwargs):
                return FullFile(fd, mode)

        self.monkeypatch.setattr(intake, "os", Os())

    def close(self) -> None:
        if self.mounted:
            subprocess.run(["umount", "-l", str(self.path)], check=False)


@pytest.fixture()
def small_disk(tmp_path, monkeypatch):
    disk = SmallDisk(tmp_path / "disk", monkeypatch)
    try:
        yield disk
    finally:
        disk.close()


@pytest.fixture()
def workspace_on_small_disk(tmp_path, small_disk):
    """A workspace with February merged, on the small disk; March's returns in an inbox elsewhere."""
    src = init_workspace(tmp_path / "src", "yanzhou-2026")
    ctx = load_context(src.root)
    simulate_period(ctx, FEB)
    merge_returns(ctx, FEB)
    simulate_period(ctx, MAR)
    root = small_disk.path / "ws"
    shutil.copytree(src.root, root, ignore=shutil.ignore_patterns("inbox"))
    return root, src.folder("inbox", MAR.slug)


@pytest.mark.parametrize("command", ["check", "merge"])
def test_a_full_disk_is_reported_and_leaves_nothing_behind(workspace_on_small_disk, small_disk, command):
    root, inbox = workspace_on_small_disk
    db = root / "shixiang.db"
    before = dump(db)
    originals = digest_tree(inbox)
    archive = digest_tree(root / "archive")
    small_disk.fill()
    res = run_cli("-w", str(root), command, "--period", MAR.slug, str(inbox))
    assert_clean_error(res, "磁盘空间已满")
    assert not leftovers(root), leftovers(root)
    assert dump(db) == before
    assert digest_tree(inbox) == originals
    assert {k: v for k, v in digest_tree(root / "archive").items() if k in archive} == archive
    assert (root / "reports" / FEB.slug / "台账.xlsx").exists()


def test_a_failed_transaction_on_a_full_disk_reports_the_full_disk(small_disk):
    if not small_disk.mounted:
        pytest.skip("needs a real small filesystem (mount as root): SQLite writes through its own VFS")
    with Store(small_disk.path / "x.db") as store:
        small_disk.fill()
        with pytest.raises(sqlite3.OperationalError, match="disk is full"):
            with store.transaction() as conn:
                for k in range(10_000):
                    conn.execute("INSERT INTO merges VALUES (?, ?, 'x')", (str(k), "x" * 4000))
        assert not store.conn.in_transaction


def test_stale_temporary_files_are_swept_at_the_next_run(merged_feb):
    ctx, _ = merged_feb
    archive = ctx.workspace.folder("archive")
    old, fresh = archive / "ab" / ".~old.tmp", archive / "cd" / ".~fresh.tmp"
    for p in (old, fresh):
        p.parent.mkdir(exist_ok=True)
        p.write_bytes(b"half")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    res = run_cli("-w", str(ctx.workspace.root), "check", "--period", MAR.slug)
    assert res.exit_code == 1, res.output
    assert not old.exists() and fresh.exists()  # a fresh one may be another run's, still writing
    assert sweep_stale([archive], older_than=0) == 1 and not fresh.exists()


# ------------------------------------------------------------------ a stopped process


def _descendants(pid: int) -> set[int]:
    out: set[int] = set()
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for t in tasks:
            try:
                kids = Path(f"/proc/{p}/task/{t}/children").read_text().split()
            except OSError:
                continue
            for k in map(int, kids):
                if k not in out:
                    out.add(k)
                    todo.append(k)
    return out


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended (only its parent has not waited)


def _busy_run(ctx, tmp_path: Path, command: str) -> tuple[subprocess.Popen, set[int], Path]:
    """A real ``shixiang`` process at work on a large inbox, once its workers run: (process, its children, its
    TMPDIR)."""
    inbox = ctx.workspace.folder("inbox", MAR.slug)
    returns = sorted(inbox.glob("*.xlsx"))
    for k in range(24):  # enough work to be stopped in the middle of it, on a busy machine too
        copies = inbox / f"副本{k}"
        copies.mkdir()
        for p in returns:
            shutil.copyfile(p, copies / p.name)
    tmp = tmp_path / "tmpdir"
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp)}
    proc = subprocess.Popen([sys.executable, "-m", "shixiang_xl", "-w", str(ctx.workspace.root), command,
                             "--period", MAR.slug], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    deadline = time.monotonic() + 60
    children: set[int] = set()
    while time.monotonic() < deadline and proc.poll() is None:
        children = _descendants(proc.pid)
        if children:
            break
        time.sleep(0.05)
    if proc.poll() is not None or not children:
        proc.kill()
        proc.wait()
        pytest.fail("the run ended before it could be stopped")
    time.sleep(0.1)  # the workers are at work
    return proc, children | _descendants(proc.pid), tmp


def _assert_all_ended(children: set[int]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(c) for c in children):
        time.sleep(0.1)
    assert not [c for c in children if _alive(c)], "workers outlived the stopped process"


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads the process tree from /proc")
@pytest.mark.parametrize("command", ["check", "merge"])
def test_sigterm_ends_the_workers_and_removes_temporary_files(merged_feb, tmp_path, command):
    ctx, _ = merged_feb
    before = dump(ctx.workspace.db_path)
    proc, children, tmp = _busy_run(ctx, tmp_path, command)
    try:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = err.decode("utf-8", "replace")
    assert proc.returncode == 128 + signal.SIGTERM, text
    assert "已中止" in text and "Traceback" not in text, text
    _assert_all_ended(children)
    assert not list(tmp.iterdir()), list(tmp.iterdir())  # the run's temporary folders are gone
    assert not leftovers(ctx.workspace.root)
    assert dump(ctx.workspace.db_path) == before  # the stopped run's transaction never committed


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_workers_end_even_when_their_parent_is_killed(merged_feb, tmp_path):
    ctx, _ = merged_feb
    proc, children, _ = _busy_run(ctx, tmp_path, "check")
    try:
        proc.send_signal(signal.SIGKILL)  # no clean-up at all in the parent
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    _assert_all_ended(children)


# A stop at a known point of the work, by a real signal the process sends itself from inside the step.


def _stop_inside(monkeypatch, module: str, name: str) -> None:
    """Make ``module.name`` send this process SIGTERM as it starts, then do its work."""
    import importlib

    mod = importlib.import_module(module)
    real = getattr(mod, name)

    def stopped_here(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)
        return real(*args, **kwargs)

    monkeypatch.setattr(mod, name, stopped_here)


@pytest.mark.parametrize("command, module", [("check", "shixiang_xl.batch"), ("merge", "shixiang_xl.merge")])
def test_a_stop_before_the_commit_leaves_store_and_ledger_as_they_were(merged_feb, monkeypatch, command, module):
    ctx, _ = merged_feb
    db = ctx.workspace.db_path
    before = dump(db)
    ledger = ctx.workspace.folder("reports", FEB.slug) / "台账.xlsx"
    ledgers = digest_tree(ledger.parent.parent)
    # The last step written inside the store's transaction: the feedback copies (every other file is written by then).
    _stop_inside(monkeypatch, module, "write_feedback_copies")
    res = run_cli("-w", str(ctx.workspace.root), command, "--period", MAR.slug)
    assert res.exit_code == 128 + signal.SIGTERM, res.output
    assert "本次未完成的修改已撤销" in res.output, res.output
    assert dump(db) == before
    assert not (ctx.workspace.folder("reports", MAR.slug) / "台账.xlsx").exists()  # no 台账 for what was not stored
    assert {k: v for k, v in digest_tree(ledger.parent.parent).items() if "台账" in k} == \
        {k: v for k, v in ledgers.items() if "台账" in k}
    assert not leftovers(ctx.workspace.root)


def test_a_stop_after_the_commit_says_the_work_was_saved(merged_feb, monkeypatch):
    ctx, _ = merged_feb
    db = ctx.workspace.db_path
    before = dump(db)
    _stop_inside(monkeypatch, "shixiang_xl.cli", "render_batch")  # the results are printed after the commit
    res = run_cli("-w", str(ctx.workspace.root), "check", "--period", MAR.slug)
    assert res.exit_code == 128 + signal.SIGTERM, res.output
    assert "中止前本次结果已保存到数据库" in res.output and "已撤销" not in res.output, res.output
    after = dump(db)
    assert after != before and {r[1] for r in after["returns"]} == {FEB.slug, MAR.slug}
    assert (ctx.workspace.folder("reports", MAR.slug) / "校验报告.xlsx").exists()
    assert not leftovers(ctx.workspace.root)
