"""``shixiang serve``: the pages in a real browser (Debian's chromium through Selenium), and the safety list tried
with plain HTTP requests (no token, wrong token, cross-site POST, ``../`` names, oversized uploads, foreign hosts).

One browser session and one demo-sized workspace per module: the browser drives a whole period (generate → download
→ upload returns → findings → merge → ledger → documents), and what it downloads is read with openpyxl/python-docx.
"""

from __future__ import annotations

import io
import json
import re
import os
import shutil
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from shixiang_xl.demo import simulate_period
from shixiang_xl.period import Period
from shixiang_xl.web import create_app, start
from shixiang_xl.web.app import current_period
from shixiang_xl.workspace import init_workspace, load_context

NOTICE_2024 = Path(__file__).parent.parent / "examples" / "yanzhou-2024" / "notice.txt"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
PERIOD = Period.parse("2026-03")


def _faults(ctx) -> dict[str, str]:
    """The demo's planted faults (the same choice as ``run_demo``)."""
    lead_units = [u for u in ctx.projects.units if ctx.projects.led_by(u)]
    return {"missing": lead_units[4], "broken": lead_units[7], "sloppy": lead_units[1], "late": lead_units[8]}


# ------------------------------------------------------------------ plain HTTP: the safety list


@pytest.fixture(scope="module")
def safety_ws(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("web-safety") / "区县"
    init_workspace(root, "yanzhou-2026")
    return root


def _client(root: Path, token: str = "secret-token", **limits):
    app = create_app(root, token, **limits)
    client = app.test_client()
    assert client.get(f"/?token={token}").status_code == 302  # sets the cookie
    return app, client


def _csrf(client) -> str:
    page = client.get("/").get_data(as_text=True)
    return page.split('name="csrf-token" content="')[1].split('"')[0]


def test_no_token_and_wrong_token_are_refused(safety_ws: Path) -> None:
    app = create_app(safety_ws, "right-token")
    client = app.test_client()
    for path in ("/", "/projects", "/ledger", "/static/app.js", "/download/reports/2026-03/台账.xlsx"):
        resp = client.get(path)
        assert resp.status_code == 403, path
        assert "访问令牌" in resp.get_data(as_text=True)
    resp = client.get("/?token=wrong-token")
    assert resp.status_code == 403
    assert "令牌不对" in resp.get_data(as_text=True)
    assert client.get("/").status_code == 403  # a wrong token sets no cookie
    client.set_cookie("shixiang_token", "wrong-token", domain="localhost")
    assert client.get("/").status_code == 403
    # The right token: a cookie, then the token leaves the address bar.
    resp = client.get("/?token=right-token&period=2026-03")
    assert resp.status_code == 302 and "token" not in resp.headers["Location"]
    assert "HttpOnly" in resp.headers["Set-Cookie"] and "SameSite=Strict" in resp.headers["Set-Cookie"]
    page = client.get("/")
    assert page.status_code == 200 and "工作台" in page.get_data(as_text=True)


def test_headers_and_foreign_host(safety_ws: Path) -> None:
    _, client = _client(safety_ws)
    resp = client.get("/")
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert resp.headers["X-Frame-Options"] == "DENY"
    body = resp.get_data(as_text=True)
    assert "http://" not in body.replace('content="', "") and "https://" not in body  # nothing from outside
    # DNS rebinding: a page of another site that resolves its name to 127.0.0.1 is refused.
    resp = client.get("/?token=secret-token", headers={"Host": "evil.example:8765"})  # even with the token
    assert resp.status_code == 403 and "只接受本机访问" in resp.get_data(as_text=True)
    assert client.get("/", headers={"Host": "localhost:8765"}).status_code == 200


def test_post_needs_csrf_and_same_site(safety_ws: Path) -> None:
    _, client = _client(safety_ws)
    csrf = _csrf(client)
    form = {"period": "2026-03"}
    assert client.post("/ledger/chase", data=form).status_code == 403  # no CSRF token
    assert client.post("/ledger/chase", data={**form, "csrf": "forged"}).status_code == 403
    cross = client.post("/ledger/chase", data={**form, "csrf": csrf}, headers={"Origin": "http://evil.example"})
    assert cross.status_code == 403 and "其他网站" in cross.get_data(as_text=True)
    cross = client.post("/ledger/chase", data={**form, "csrf": csrf}, headers={"Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403
    chase = safety_ws / "reports" / "2026-03" / "催报名单.xlsx"
    assert not chase.exists()
    ok = client.post("/ledger/chase", data={**form, "csrf": csrf}, headers={"Origin": "http://localhost"})
    assert ok.status_code == 302 and chase.exists()


def _wait_job(client, location: str) -> dict:
    job_id = location.rstrip("/").split("/")[-1]
    for _ in range(600):
        state = json.loads(client.get(f"/jobs/{job_id}.json").get_data(as_text=True))
        if state["state"] != "running":
            return state
        time.sleep(0.1)
    raise AssertionError("job did not end")


def test_upload_names_never_reach_the_file_system_unsanitised(safety_ws: Path, tmp_path: Path) -> None:
    _, client = _client(safety_ws)
    csrf = _csrf(client)
    payload = b"PK\x03\x04 not really a workbook"
    files = [(io.BytesIO(payload), "../../逃逸.xlsx"), (io.BytesIO(payload + b"2"), "..\\..\\..\\反斜杠.xlsx"),
             (io.BytesIO(payload + b"3"), f"{tmp_path}/绝对路径.xlsx"), (io.BytesIO(payload + b"4"), "CON.xlsx")]
    resp = client.post("/returns/upload", data={"csrf": csrf, "period": "2026-03", "files": files},
                       content_type="multipart/form-data")
    assert resp.status_code == 302
    state = _wait_job(client, resp.headers["Location"])
    assert state["state"] in ("done", "failed")
    inbox = safety_ws / "inbox" / "2026-03"
    assert sorted(p.name for p in inbox.iterdir()) == sorted(["逃逸.xlsx", "反斜杠.xlsx", "绝对路径.xlsx", "_CON.xlsx"])
    assert not (safety_ws / "逃逸.xlsx").exists() and not (safety_ws.parent / "逃逸.xlsx").exists()
    assert not (tmp_path / "绝对路径.xlsx").exists()  # an absolute name (a place of our own, should it be obeyed)
    # The same bytes again are not saved twice; other bytes under a taken name get a new name.
    resp = client.post("/returns/upload", data={"csrf": csrf, "period": "2026-03",
                                                "files": [(io.BytesIO(payload), "逃逸.xlsx"),
                                                          (io.BytesIO(b"PK\x03\x04 other"), "逃逸.xlsx")]},
                       content_type="multipart/form-data")
    _wait_job(client, resp.headers["Location"])
    assert sorted(p.name for p in inbox.iterdir() if p.name.startswith("逃逸")) == ["逃逸.xlsx", "逃逸（2）.xlsx"]
    # The page shows what was made of the unreadable files: findings naming them.
    page = client.get("/returns?period=2026-03").get_data(as_text=True)
    assert "逃逸.xlsx" in page and 'class="findings"' in page


def _multipart(client, path: str, fields: dict, files: list[tuple[str, bytes]], field: str = "files"):
    """A multipart POST built in memory (werkzeug's public encoder), as a browser sends it."""
    from werkzeug.datastructures import FileStorage, MultiDict
    from werkzeug.test import encode_multipart

    values = MultiDict(fields)
    for name, data in files:
        values.add(field, FileStorage(io.BytesIO(data), filename=name))
    boundary, body = encode_multipart(values)
    return client.post(path, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def test_oversized_and_too_many_uploads_are_refused(safety_ws: Path) -> None:
    _, client = _client(safety_ws, max_upload_mb=1, max_files=3)
    csrf = _csrf(client)
    inbox = safety_ws / "inbox" / "2026-02"
    form = {"csrf": csrf, "period": "2026-02"}
    resp = _multipart(client, "/returns/upload", form, [("大.xlsx", b"x" * (1024 * 1024 + 10))])
    assert resp.status_code == 413 and "太大" in resp.get_data(as_text=True)
    resp = _multipart(client, "/returns/upload", form, [(f"{i}.xlsx", b"PK%d" % i) for i in range(4)])
    assert resp.status_code == 413 and "最多上传 3 个" in resp.get_data(as_text=True)
    assert not inbox.exists() or not any(inbox.iterdir())
    resp = _multipart(client, "/returns/upload", form, [(f"{i}.xlsx", b"PK%d" % i) for i in range(3)])
    assert resp.status_code == 302  # within both limits: taken
    _wait_job(client, resp.headers["Location"])
    assert sorted(p.name for p in inbox.iterdir()) == ["0.xlsx", "1.xlsx", "2.xlsx"]


def test_downloads_only_from_our_listings(safety_ws: Path) -> None:
    _, client = _client(safety_ws)
    (safety_ws / "outbox" / "2026-03").mkdir(parents=True, exist_ok=True)
    (safety_ws / "outbox" / "2026-03" / "表.xlsx").write_bytes(b"PK-ours")
    with client.get("/download/outbox/2026-03/表.xlsx") as resp:
        assert resp.get_data() == b"PK-ours"
    for path in ("/download/outbox/2026-03/..%2F..%2Fshixiang.toml", "/download/outbox/2026-03/../../shixiang.toml",
                 "/download/outbox/..%2F..%2F/shixiang.toml", "/download/outbox/2026-3/表.xlsx",
                 "/download/config/2026-03/shixiang.toml", "/download/outbox/2026-03/.shixiang",
                 "/download/reports/2026-03/%2Fetc%2Fpasswd", "/download-all/..%2F/x"):
        with client.get(path, follow_redirects=True) as resp:  # werkzeug may first tidy the slashes
            assert resp.status_code == 404, path
            assert b"[district]" not in resp.get_data() and b"root:" not in resp.get_data()


def test_library_errors_are_chinese_pages(safety_ws: Path) -> None:
    _, client = _client(safety_ws)
    csrf = _csrf(client)
    # Documents for a period never merged: the library says why, the page shows it (not a 500 in English).
    resp = client.post("/documents/make", data={"csrf": csrf, "period": "2026-07", "kind": "all"})
    assert resp.status_code == 409
    body = resp.get_data(as_text=True)
    assert "无法完成" in body and "Traceback" not in body and "Internal Server Error" not in body
    assert not (safety_ws / "reports" / "2026-07" / "督查通报.docx").exists()
    resp = client.get("/no-such-page")
    assert resp.status_code == 404 and "找不到" in resp.get_data(as_text=True)
    resp = client.get("/?period=2026-13")
    assert resp.status_code == 400 and "无法识别" in resp.get_data(as_text=True)


def test_mail_from_the_page_preview_drafts_send_and_the_workbench_counts(tmp_path: Path) -> None:
    from test_mail import Recorder, Server, use_server

    root = init_workspace(tmp_path / "ws", "yanzhou-2026").root
    smtp = Server(Recorder())
    try:
        ctx = use_server(root, smtp.port)
        n = len(ctx.projects.units)
        _, client = _client(root)
        csrf = _csrf(client)
        form = {"csrf": csrf, "period": "2026-03"}
        page = client.post("/issue/send", data={**form, "mode": "preview"}).get_data(as_text=True)
        assert "未发送任何邮件" in page and not smtp.handler.received
        with client.post("/issue/send", data={**form, "mode": "eml"}) as resp:
            drafts = zipfile.ZipFile(io.BytesIO(resp.get_data()))
        assert len([name for name in drafts.namelist() if name.endswith(".eml")]) == n
        assert not smtp.handler.received
        page = client.post("/issue/send", data={**form, "mode": "send"}).get_data(as_text=True)
        assert "发送结果" in page
        assert sorted(smtp.handler.by_unit()) == sorted(ctx.projects.units)
        overview = client.get("/?period=2026-03").get_data(as_text=True)
        assert f"已发送 {n}/{n}" in overview and f"填报表已生成 {n} 份" in overview
    finally:
        smtp.stop()


def test_lists_are_checked_before_they_replace_the_workspace_files(tmp_path: Path) -> None:
    root = init_workspace(tmp_path / "ws", "yanzhou-2026").root
    _, client = _client(root)
    csrf = _csrf(client)
    original = (root / "项目清单.xlsx").read_bytes()
    # A notice: what was read is shown; nothing is written until the clerk confirms.
    notice = NOTICE_2024.read_bytes()  # the 2024 notice, into the 2026 workspace
    resp = _multipart(client, "/projects/notice", {"csrf": csrf}, [("../通知.txt", notice)], field="notice")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "尚未写入" in page
    shown = re.findall(r'<tr class="(?:review)?"><td>(\d+)</td>', page.split('id="notice-indicators"')[1])
    assert len(shown) >= 10  # indicators of the ten projects, listed before anything is written
    assert (root / "项目清单.xlsx").read_bytes() == original
    preview = page.split('name="id" value="')[1].split('"')[0]
    resp = client.post("/projects/notice/confirm", data={"csrf": csrf, "id": preview})
    assert resp.status_code == 302
    names = [r[1] for r in load_workbook(root / "项目清单.xlsx")["项目"].iter_rows(min_row=2, values_only=True)]
    old_names = [r[1] for r in load_workbook(io.BytesIO(original))["项目"].iter_rows(min_row=2, values_only=True)]
    assert len(names) == 10 and names != old_names
    assert all(name in page for name in names)  # what is written is what was shown
    assert client.post("/projects/notice/confirm", data={"csrf": csrf, "id": preview}).status_code == 400  # once
    # A 项目清单.xlsx with an error is refused with its findings; the workspace's file stays as it was.
    (tmp_path / "good.xlsx").write_bytes(original)
    wb = load_workbook(tmp_path / "good.xlsx")
    sheet = wb["指标"]
    target = next(c for c in sheet[1] if c.value == "目标值").column
    sheet.cell(2, target).value = "约100"
    wb.save(tmp_path / "bad.xlsx")
    before = (root / "项目清单.xlsx").read_bytes()
    resp = _multipart(client, "/projects/list", {"csrf": csrf, "kind": "项目清单.xlsx"},
                      [("项目清单.xlsx", (tmp_path / "bad.xlsx").read_bytes())], field="file")
    page = resp.get_data(as_text=True)
    assert "未替换" in page and 'id="upload-findings"' in page and "约100" in page
    assert (root / "项目清单.xlsx").read_bytes() == before
    resp = _multipart(client, "/projects/list", {"csrf": csrf, "kind": "项目清单.xlsx"},
                      [("随便什么名字.xlsx", original)], field="file")
    assert "已更新 项目清单.xlsx" in resp.get_data(as_text=True)
    assert (root / "项目清单.xlsx").read_bytes() == original
    assert not any((root / ".shixiang" / "web").iterdir())  # nothing of the uploads is left behind


def test_a_zip_of_returns_goes_through_the_same_intake(tmp_path: Path) -> None:
    from shixiang_xl.generate import generate_workbooks

    root = init_workspace(tmp_path / "ws", "yanzhou-2026").root
    ctx = load_context(root)
    generate_workbooks(ctx, PERIOD)
    missing = _faults(ctx)["missing"]
    returns = simulate_period(ctx, PERIOD, missing=missing)
    bundle = io.BytesIO()
    with zipfile.ZipFile(bundle, "w") as z:
        for path in returns:
            z.write(path, f"各单位报回/{path.name}")
        z.writestr("../../出逃.xlsx", b"PK\x03\x04 not a workbook")  # a member's path never leaves the intake
    shutil.rmtree(ctx.workspace.folder("inbox", PERIOD.slug))
    _, client = _client(root)
    csrf = _csrf(client)
    resp = _multipart(client, "/returns/upload", {"csrf": csrf, "period": PERIOD.slug},
                      [("三月报表.zip", bundle.getvalue())])
    assert _wait_job(client, resp.headers["Location"])["state"] == "done"
    assert [p.name for p in ctx.workspace.folder("inbox", PERIOD.slug).iterdir()] == ["三月报表.zip"]
    assert not (tmp_path / "出逃.xlsx").exists() and not (root / "出逃.xlsx").exists()
    page = client.get(f"/returns?period={PERIOD.slug}").get_data(as_text=True)
    table = page.split('id="unit-table"')[1].split("</table>")[0]
    states = re.findall(r'<td class="state">([^<]+)</td>', table)
    assert len(states) == len(ctx.projects.units)
    assert states.count("未报送") == 1 and states.count("按时报送") + states.count("逾期报送") == len(returns)
    assert "出逃.xlsx" in page  # the bad member is a finding on the page


def test_current_period_is_the_nearest_deadline(safety_ws: Path) -> None:
    import datetime as dt

    ctx = load_context(safety_ws)
    assert current_period(ctx, dt.date(2026, 3, 20)).slug == "2026-03"
    assert current_period(ctx, dt.date(2026, 4, 9)).slug == "2026-03"  # 15 days after 3/25, 16 before 4/25
    assert current_period(ctx, dt.date(2026, 4, 12)).slug == "2026-04"
    assert current_period(ctx, dt.date(2027, 2, 1)).slug == "2026-12"


# ------------------------------------------------------------------ a real browser


def _browser(download_dir: Path, profile: Path):
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                f"--user-data-dir={profile}", "--window-size=1400,1000", "--lang=zh-CN"):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"download.default_directory": str(download_dir),
                                              "download.prompt_for_download": False})
    return webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A demo-sized workspace (the built-in example) served on a free port, and one browser session."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.fail("Debian chromium and chromium-driver are needed (.ci/run installs them).")
    base = tmp_path_factory.mktemp("web")
    root = base / "兖州区"
    init_workspace(root, "yanzhou-2026")
    server = start(root)
    driver = _browser(base / "downloads", base / "profile")
    driver.set_page_load_timeout(60)
    driver.get(server.url)  # each test may run alone: the session starts with the printed link
    try:
        yield {"root": root, "server": server, "driver": driver, "base": base,
               # SHIXIANG_WEB_SHOTS=<folder> keeps the pages' screenshots (README, gallery)
               "shots": Path(os.environ.get("SHIXIANG_WEB_SHOTS") or base / "shots")}
    finally:
        driver.quit()
        server.stop()


def _open(site, path: str):
    site["driver"].get(site["server"].base + path)
    return site["driver"]


def _shot(site, name: str) -> Path:
    site["shots"].mkdir(exist_ok=True)
    path = site["shots"] / f"{name}.png"
    site["driver"].save_screenshot(str(path))
    return path


def _fetch(site, href: str) -> bytes:
    """What a link on the page downloads, fetched with the browser's own cookie (the link must work as shown)."""
    cookie = site["driver"].get_cookie("shixiang_token")
    req = urllib.request.Request(href, headers={"Cookie": f"shixiang_token={cookie['value']}"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return resp.read()


def _wait(driver, condition, timeout: float = 120.0):
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    # While a page is replaced chromedriver may answer "node does not belong to the document": ask again.
    return WebDriverWait(driver, timeout, poll_frequency=0.2, ignored_exceptions=(WebDriverException,)).until(condition)


def _click(driver, element, until) -> None:
    """Click what submits a form or follows a link, wait for the old page to go, then for ``until``."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.expected_conditions import staleness_of

    old = driver.find_element(By.TAG_NAME, "html")
    element.click()
    _wait(driver, staleness_of(old))
    _wait(driver, until)


def _text(driver, css: str) -> str:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, css).text


def test_browser_runs_a_period_end_to_end(site) -> None:
    from selenium.webdriver.common.by import By

    site["driver"].delete_all_cookies()
    driver = _open(site, "/")
    assert "需要访问令牌" in driver.page_source  # the bare address, without the printed link, is refused
    driver.get(site["server"].url)  # the link `shixiang serve` prints and opens
    assert "token=" not in driver.current_url
    assert _text(driver, "h1").startswith("工作台")
    assert "兖州区" in _text(driver, "header .ws")
    p = f"?period={PERIOD.slug}"

    # 工作台 for 2026-03: nothing generated yet; the next step is the list check passed, then generate.
    driver = _open(site, "/" + p)
    assert "清单已校验" in _text(driver, "#step-projects")
    assert "填报表未生成" in _text(driver, "#step-generate")
    assert driver.find_element(By.ID, "next-step").text == "生成填报表"
    _click(driver, driver.find_element(By.ID, "next-step"), lambda d: d.find_elements(By.ID, "generate"))

    # 下发: generate (a job with a progress bar), then the list of workbooks to download.
    _click(driver, driver.find_element(By.ID, "generate"), lambda d: d.find_elements(By.ID, "outbox-files"))
    ctx = load_context(site["root"])
    n = len(ctx.projects.units)
    assert int(_text(driver, "#file-count")) == n
    links = driver.find_elements(By.CSS_SELECTOR, "#outbox-files a")
    assert len(links) == n
    one = _fetch(site, links[0].get_attribute("href"))
    wb = load_workbook(io.BytesIO(one))
    assert wb.sheetnames  # a real workbook
    bundle = zipfile.ZipFile(io.BytesIO(_fetch(site, driver.find_element(By.ID, "download-all").get_attribute("href"))))
    assert sorted(bundle.namelist()) == sorted(a.text for a in links)
    _click(driver, driver.find_element(By.ID, "send-preview"), lambda d: d.find_elements(By.ID, "send-table"))
    assert "未发送任何邮件" in driver.page_source
    assert len(driver.find_elements(By.CSS_SELECTOR, "#send-table tbody tr")) == n
    _shot(site, "下发")

    # Returns made by the units (the demo's simulation, with its planted faults), handed over outside the workspace.
    faults = _faults(ctx)
    simulate_period(ctx, PERIOD, **faults)
    handed = site["base"] / "收到的文件"
    shutil.move(str(ctx.workspace.folder("inbox", PERIOD.slug)), handed)
    returned = sorted(handed.iterdir())
    assert len(returned) == n - 1

    # 回收与校验: upload all (the file input behind the drop zone), see the findings at their cells.
    driver = _open(site, "/returns" + p)
    driver.find_element(By.ID, "return-files").send_keys("\n".join(str(f) for f in returned))
    assert f"已选择 {len(returned)} 个文件" in _text(driver, "#chosen")
    _click(driver, driver.find_element(By.ID, "upload"),
           lambda d: d.find_elements(By.CSS_SELECTOR, "section.file") and "/jobs/" not in d.current_url)
    rows = {r.find_elements(By.TAG_NAME, "td")[1].text: r.find_elements(By.TAG_NAME, "td")[3].text
            for r in driver.find_elements(By.CSS_SELECTOR, "#unit-table tbody tr")}
    assert len(rows) == n
    assert rows[faults["missing"]] == "未报送"
    assert rows[faults["broken"]] == "退回修改"
    assert rows[faults["late"]] == "逾期报送"  # received when the unit's file was saved, not at the upload
    on_time = [u for u in rows if u not in faults.values()]
    assert on_time and all(rows[u] == "按时报送" for u in on_time), rows
    # The late unit says it sent the file on time: the clerk corrects the receipt time (shixiang receipt).
    late_row = next(r for r in driver.find_elements(By.CSS_SELECTOR, "#unit-table tbody tr")
                    if r.find_elements(By.TAG_NAME, "td")[1].text == faults["late"])
    driver.execute_script("arguments[0].value = '2026-03-24T16:00'", late_row.find_element(By.CSS_SELECTOR, "input.at"))
    _click(driver, late_row.find_element(By.TAG_NAME, "button"), lambda d: "已记录" in d.page_source)
    rows = {r.find_elements(By.TAG_NAME, "td")[1].text: (r.find_elements(By.TAG_NAME, "td")[3].text,
                                                          r.find_elements(By.TAG_NAME, "td")[4].text)
            for r in driver.find_elements(By.CSS_SELECTOR, "#unit-table tbody tr")}
    assert rows[faults["late"]] == ("按时报送", "2026-03-24 16:00")
    _click(driver, driver.find_element(By.ID, "nav-returns"), lambda d: d.find_elements(By.ID, "unit-table"))
    broken = [s for s in driver.find_elements(By.CSS_SELECTOR, "section.file.bad") if faults["broken"] in s.text]
    assert broken, "the unit with an empty required cell has its findings on the page"
    cells = [c.text for c in broken[0].find_elements(By.CSS_SELECTOR, "td.cell") if c.text]
    assert cells and all(c[0].isalpha() and c[-1].isdigit() for c in cells)  # A1 references
    feedback = driver.find_elements(By.CSS_SELECTOR, "#feedback-files a")
    assert any(faults["broken"] in a.text for a in feedback)
    copy = load_workbook(io.BytesIO(_fetch(site, next(a for a in feedback if faults["broken"] in a.text)
                                           .get_attribute("href"))))
    assert copy.sheetnames
    _shot(site, "回收与校验")

    # 工作台 now says what came back.
    driver = _open(site, "/" + p)
    assert f"已收回 {n - 1}/{n}" in _text(driver, "#step-collect")
    assert "退回修改 1" in _text(driver, "#step-back")

    # 台账: merge with its progress page, then the 总表 as a page, the chart, downloads.
    driver = _open(site, "/ledger" + p)
    assert driver.find_elements(By.ID, "no-ledger")
    from shixiang_xl.office import soffice_path

    with_pdf = soffice_path() is not None  # .ci/run installs LibreOffice
    if with_pdf:
        driver.find_element(By.CSS_SELECTOR, "#merge-form input[name=pdf]").click()
    _click(driver, driver.find_element(By.ID, "merge"), lambda d: d.find_elements(By.ID, "summary-table"))
    page_rows = [[td.text for td in r.find_elements(By.TAG_NAME, "td")]
                 for r in driver.find_elements(By.CSS_SELECTOR, "#summary-table tbody tr")]
    assert len(page_rows) == len(ctx.projects.projects)
    assert len(driver.find_elements(By.CSS_SELECTOR, "#chart rect.bar")) == len(ctx.projects.projects)
    href = driver.find_element(By.ID, "dl-台账-xlsx").get_attribute("href")
    ledger = load_workbook(io.BytesIO(_fetch(site, href)))
    total = ledger["总表"]
    assert total["A1"].value == _text(driver, "#ledger-title")
    rows = list(total.iter_rows(values_only=True))
    heading = next(r for r in rows if r[0] == "序号")  # columns found by their headings, as a reader would
    name_col, status_col = heading.index("项目名称"), heading.index("状态")
    sheet_rows = [r for r in rows if isinstance(r[0], int)]
    assert [(r[0], r[name_col], r[status_col]) for r in sheet_rows] == [(int(r[0]), r[1], r[7]) for r in page_rows]
    if with_pdf:
        from pypdf import PdfReader

        pdf = PdfReader(io.BytesIO(_fetch(site, driver.find_element(By.ID, "dl-台账-pdf").get_attribute("href"))))
        text = "".join(page.extract_text() for page in pdf.pages)
        assert sum(p.name in text for p in ctx.projects.projects) >= len(ctx.projects.projects) // 2  # (some wrap)
    chase = [r.find_elements(By.TAG_NAME, "td")[1].text for r in driver.find_elements(By.CSS_SELECTOR,
                                                                                      "#chase-table tbody tr")]
    assert sorted(chase) == sorted([faults["missing"], faults["broken"]])
    _shot(site, "台账")

    # 公文: draft both; the bulletin names the same period and is a real Word file.
    driver = _open(site, "/documents" + p)
    _click(driver, driver.find_element(By.ID, "make-documents"), lambda d: d.find_elements(By.ID, "made"))
    docs = {a.text: a.get_attribute("href") for a in driver.find_elements(By.CSS_SELECTOR, "#document-files a")}
    assert "督查通报.docx" in docs
    from docx import Document

    text = "\n".join(par.text for par in Document(io.BytesIO(_fetch(site, docs["督查通报.docx"]))).paragraphs)
    assert "3月" in text and ctx.config.title in text
    _shot(site, "公文")

    driver = _open(site, "/" + p)
    assert "台账已汇总" in _text(driver, "#step-merge")
    _shot(site, "工作台")


def test_browser_projects_and_notice_preview(site) -> None:
    from selenium.webdriver.common.by import By

    driver = _open(site, "/projects")
    ctx = load_context(site["root"])
    assert f"{len(ctx.projects.projects)} 个项目" in _text(driver, "h1")
    assert ctx.projects.projects[0].name in _text(driver, "#project-table")
    kinds = [k.text.split()[0] for k in driver.find_elements(By.CSS_SELECTOR, "#project-table td.kind") if k.text]
    assert len(kinds) == len(ctx.projects.indicators)
    assert set(kinds) <= {"累计数", "比率", "上限", "节点"} and "累计数" in kinds
    before = (site["root"] / "项目清单.xlsx").read_bytes()
    driver.find_element(By.ID, "notice-file").send_keys(str(NOTICE_2024))
    _click(driver, driver.find_element(By.CSS_SELECTOR, "#notice-form button"),
           lambda d: d.find_elements(By.ID, "notice-preview"))
    assert "尚未写入" in _text(driver, "#notice-preview")
    assert len(driver.find_elements(By.CSS_SELECTOR, "#notice-indicators tbody tr")) >= 10
    assert (site["root"] / "项目清单.xlsx").read_bytes() == before  # shown, not written
    _shot(site, "项目清单")


def test_browser_survey_ballots_and_tally(site) -> None:
    from selenium.webdriver.common.by import By

    driver = _open(site, "/survey")
    count = driver.find_element(By.ID, "ballot-count")
    count.clear()
    count.send_keys("12")
    _click(driver, driver.find_element(By.ID, "make-ballots"), lambda d: d.find_elements(By.ID, "survey-files"))
    names = [a.text for a in driver.find_elements(By.CSS_SELECTOR, "#survey-files a")]
    entry_name = next(n for n in names if "录入表" in n)
    entry = next(a for a in driver.find_elements(By.CSS_SELECTOR, "#survey-files a") if a.text == entry_name)
    data = _fetch(site, entry.get_attribute("href"))
    first, second = site["base"] / "录入表_甲.xlsx", site["base"] / "录入表_乙.xlsx"
    first.write_bytes(data)
    second.write_bytes(data)
    driver.find_element(By.ID, "entry-files").send_keys(f"{first}\n{second}")
    _click(driver, driver.find_element(By.ID, "tally"), lambda d: d.find_elements(By.ID, "tally-summary"))
    assert "发出测评票 12 张" in _text(driver, "#tally-summary")
    # Files dragged onto the drop zone become the form's files (a drop event as the browser fires it).
    zone = driver.find_element(By.CSS_SELECTOR, "#tally-form .dropzone")
    driver.execute_script("""
        const dt = new DataTransfer();
        dt.items.add(new File(["甲"], "拖入的录入表1.xlsx"));
        dt.items.add(new File(["乙"], "拖入的录入表2.xlsx"));
        arguments[0].dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true}));
    """, zone)
    assert _text(driver, "#tally-form .chosen") == "已选择 2 个文件：拖入的录入表1.xlsx、拖入的录入表2.xlsx"
    assert driver.execute_script("return document.getElementById('entry-files').files.length") == 2
    _shot(site, "满意度测评")


def test_the_ledger_page_exports_every_period_s_values(tmp_path: Path) -> None:
    """导出全年各期指标数值: before any merge a Chinese refusal; after one, the long table downloads and reads back
    with openpyxl, one row per indicator and reporting unit, the period's label on each."""
    from shixiang_xl.export import VALUES_SHEET
    from shixiang_xl.merge import merge_returns

    root = init_workspace(tmp_path / "ws", "yanzhou-2026").root
    _, client = _client(root)
    csrf = _csrf(client)
    refused = client.post("/ledger/export", data={"csrf": csrf, "period": PERIOD.slug})
    assert refused.status_code == 409 and "还没有汇总过的报送期" in refused.get_data(as_text=True)
    ctx = load_context(root)
    simulate_period(ctx, PERIOD)
    merge_returns(ctx, PERIOD)
    assert 'id="export"' in client.get(f"/ledger?period={PERIOD.slug}").get_data(as_text=True)
    resp = client.post("/ledger/export", data={"csrf": csrf, "period": PERIOD.slug})
    assert resp.status_code == 302
    with client.get(resp.headers["Location"]) as download:
        assert download.status_code == 200
        wb = load_workbook(io.BytesIO(download.get_data()), read_only=True)
    try:
        rows = [r for r in wb[VALUES_SHEET].iter_rows(values_only=True) if any(v is not None for v in r)]
    finally:
        wb.close()
    header = next(k for k, r in enumerate(rows) if "指标" in [str(v).replace("\n", "") for v in r])
    body = rows[header + 1:]
    assert len(body) >= len(ctx.projects.indicators)
    assert all(PERIOD.label in str(r[0]) or PERIOD.slug in str(r[0]) for r in body)
