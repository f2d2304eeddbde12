"""Screenshots of the ``serve`` pages of a workspace (for ``make gallery`` and the README), taken with the system's
chromium through Selenium. Optional: without chromium, chromedriver or Selenium there are simply no screenshots."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from ..period import Period

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
PAGES = (("工作台", "/"), ("项目清单", "/projects"), ("下发", "/issue"), ("回收与校验", "/returns"),
         ("台账", "/ledger"), ("公文", "/documents"), ("满意度测评", "/survey"))


def can_screenshot() -> bool:
    """Whether chromium, chromedriver and Selenium are all here."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return False
    return CHROMIUM.exists() and CHROMEDRIVER.exists()


def screenshot_pages(root: Path, outdir: Path, period: Period, *, width: int = 1400, height: int = 900
                     ) -> list[tuple[str, Path]]:
    """Serve the workspace ``root`` on a free local port and save each page for ``period`` as
    ``outdir/web-<n>-<page>.png``; returns (page title, file) in the order of the pages' tabs."""
    if not can_screenshot():
        return []
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    from .app import start

    outdir.mkdir(parents=True, exist_ok=True)
    profile = Path(tempfile.mkdtemp(prefix="shixiang-chromium-"))
    server = start(root)
    driver = None
    try:
        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                    f"--user-data-dir={profile}", f"--window-size={width},{height}", "--lang=zh-CN"):
            options.add_argument(arg)
        driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
        driver.get(server.url)  # the token becomes the session's cookie
        shots = []
        for n, (title, path) in enumerate(PAGES, start=1):
            driver.get(f"{server.base}{path}?period={period.slug}")
            target = outdir / f"web-{n:02d}-{title}.png"
            driver.save_screenshot(str(target))
            shots.append((title, target))
        return shots
    finally:
        if driver is not None:
            driver.quit()
        server.stop()
        shutil.rmtree(profile, ignore_errors=True)
