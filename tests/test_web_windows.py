"""Windows: the whole cycle with no ``os.fork`` and no ``resource`` (simulated in a child process, as on Windows:
workers are spawned, memory limits are skipped), with the console's encoding GBK; the launcher ``init`` writes; and
``shixiang serve`` as a real process (prints its link, serves it, opens the browser with it, stops on a signal)."""

from __future__ import annotations

import http.cookiejar
import os
import signal
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

from docx import Document
from openpyxl import load_workbook

from shixiang_xl.workspace import LAUNCHER_FILE, init_workspace

WINDOWS_LIKE = textwrap.dedent("""
    import multiprocessing, os, sys
    del os.fork  # Windows has no fork: the package must spawn its workers
    sys.modules["resource"] = None  # nor the resource module (no memory limits)
    multiprocessing.get_all_start_methods = lambda: ["spawn"]
    multiprocessing.set_start_method("spawn", force=True)
""")

CYCLE = WINDOWS_LIKE + textwrap.dedent("""
    def run(*args):
        from shixiang_xl.cli import main
        try:
            main(list(args))
        except SystemExit as exc:
            print(f"[退出码 {exc.code}]", flush=True)

    if __name__ == "__main__":
        import json, time
        from pathlib import Path
        root = sys.argv[1]
        assert not hasattr(os, "fork")
        run("demo", root)
        run("-w", root, "check", "--period", "2026-03")
        run("-w", root, "merge", "--period", "2026-03")
        run("-w", root, "status", "--period", "2026-03", "--xlsx")
        run("-w", root, "report", "--period", "2026-03", "--kind", "通报")
        # The web page's merge, as the clerk's click runs it (a job on a thread of the server process).
        from shixiang_xl.web import create_app
        client = create_app(Path(root), "t").test_client()
        client.get("/?token=t")
        page = client.get("/ledger?period=2026-03").get_data(as_text=True)
        csrf = page.split('name="csrf-token" content="')[1].split('"')[0]
        job = client.post("/ledger/merge", data={"csrf": csrf, "period": "2026-03"}).headers["Location"]
        for _ in range(600):
            state = json.loads(client.get(job.rstrip("/") + ".json").get_data(as_text=True))
            if state["state"] != "running":
                break
            time.sleep(0.1)
        print("网页汇总：" + state["state"] + state["error"], flush=True)
        print("总表：" + ("有" if "summary-table" in client.get("/ledger?period=2026-03").get_data(as_text=True)
                         else "无"), flush=True)
""")


def test_cycle_without_fork_or_resource_and_with_a_gbk_console(tmp_path: Path) -> None:
    script = tmp_path / "windows_like.py"
    script.write_text(CYCLE, encoding="utf-8")
    root = tmp_path / "兖州区工作区"
    env = {**os.environ, "PYTHONIOENCODING": "gbk", "PYTHONUTF8": "0"}
    proc = subprocess.run([sys.executable, str(script), str(root)], capture_output=True, env=env, timeout=900,
                          cwd=tmp_path)
    out, err = proc.stdout.decode("gbk"), proc.stderr.decode("gbk")  # strict: any other bytes would raise
    assert proc.returncode == 0, err[-3000:]
    assert "Traceback" not in err and "Traceback" not in out, err[-3000:]
    assert "\ufffd" not in out + err
    assert "演示完成。工作区" in out and "shixiang -w" in out and "serve" in out
    codes = [line for line in out.splitlines() if line.startswith("[退出码")]
    # demo 0; check 1 (the demo's planted errors); merge 0; status 1 (a unit missing); report 0
    assert codes == ["[退出码 0]", "[退出码 1]", "[退出码 0]", "[退出码 1]", "[退出码 0]"], out[-2000:]
    assert "网页汇总：done" in out and "总表：有" in out
    # Files: Chinese intact in what we wrote, read back by independent readers.
    ledger = load_workbook(root / "reports" / "2026-03" / "台账.xlsx")
    assert "十件民生实事" in ledger["总表"]["A1"].value
    names = [ledger["总表"].cell(r, 2).value for r in range(4, 8)]
    assert "提升乡村医疗服务能力" in names
    chase = load_workbook(root / "reports" / "2026-03" / "催报名单.xlsx")
    assert "催报名单" in chase.active["A1"].value
    text = "\n".join(p.text for p in Document(str(root / "reports" / "2026-03" / "督查通报.docx")).paragraphs)
    assert "督查" in text and "\ufffd" not in text
    assert (root / "说明.txt").read_text(encoding="utf-8").startswith("实事通")
    assert (root / LAUNCHER_FILE).read_bytes().decode("utf-8")
    assert {p.name for p in (root / "feedback" / "2026-03").iterdir()}  # feedback copies written by spawned workers


def test_init_writes_the_windows_launcher(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "工作区", "yanzhou-2026")
    data = (ws.root / LAUNCHER_FILE).read_bytes()
    text = data.decode("utf-8")
    lines = text.split("\r\n")
    assert lines[0] == "@echo off" and lines[1] == "chcp 65001 >nul"  # ASCII before the code page switch
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")  # CRLF only, as cmd.exe expects
    assert f'set "PY={sys.executable}"' in lines
    assert '"%PY%" -m shixiang_xl -w . serve' in lines
    assert 'cd /d "%~dp0"' in lines  # the launcher's own folder: the workspace may be moved


def test_serve_process_prints_its_link_serves_and_stops(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "工作区", "yanzhou-2026")
    lines = (ws.root / LAUNCHER_FILE).read_bytes().decode("utf-8").split("\r\n")
    python = next(line for line in lines if line.startswith('set "PY=')).split("=", 1)[1].rstrip('"')
    command = next(line for line in lines if line.startswith('"%PY%"')).replace('"%PY%"', "").split()
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser"  # the "default browser": writes down what it was asked to open
    browser.write_text(f"#!{sys.executable}\nimport sys\nopen({str(opened)!r}, 'w').write(sys.argv[-1])\n")
    browser.chmod(0o755)
    env = {**os.environ, "PYTHONIOENCODING": "gbk", "BROWSER": str(browser)}
    proc = subprocess.Popen([python, *command, "--port", "0"], cwd=ws.root, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    try:
        url = ""
        deadline = time.monotonic() + 60
        while not url and time.monotonic() < deadline:
            line = proc.stdout.readline().decode("gbk")
            assert line or proc.poll() is None, proc.stderr.read().decode("gbk")
            if "http://127.0.0.1:" in line:
                url = line.strip()
        assert "?token=" in url and len(url.split("token=")[1]) >= 24
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        page = opener.open(url, timeout=30).read().decode("utf-8")
        assert "工作台" in page and "兖州区" in page
        assert _status(url.split("?")[0]) == 403  # the address without the token
        for _ in range(100):
            if opened.exists() and opened.read_text():
                break
            time.sleep(0.1)
        assert opened.read_text() == url  # the default browser was opened on the printed link
    finally:
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=30)  # closes the pipes
    assert proc.returncode == 0  # stopping the page is no failure
    assert "实事通已停止" in rest.decode("gbk")


def _status(url: str) -> int:
    """The HTTP status of a GET (urllib raises HTTPError for 4xx)."""
    import urllib.error

    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code
