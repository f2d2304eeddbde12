"""``make gallery``: the demo's every kind of output, rendered to PNG pages with an index page."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from shixiang_xl import office
from shixiang_xl.gallery import make_gallery

needs_tools = pytest.mark.skipif(office.soffice_path() is None or shutil.which("pdftoppm") is None,
                                 reason="LibreOffice or pdftoppm is not installed")


@needs_tools
def test_the_gallery_shows_every_kind_of_output(tmp_path: Path) -> None:
    index = make_gallery(tmp_path / "gallery", echo=lambda _line: None)
    page = index.read_text(encoding="utf-8")
    titles = re.findall(r'<h2>\d+\. ([^<]+)</h2>', page)
    for wanted in ("项目清单", "填报表（牵头单位）", "填报表（协办的镇街）", "校验报告", "退回修改意见", "修改提示",
                   "台账", "催报名单", "督查通报", "进展情况报告", "满意度测评票", "测评结果"):
        assert wanted in titles
    images = re.findall(r'<img src="(pages/[^"]+\.png)"', page)
    assert len(images) >= len(titles) * 1
    for src in images:
        png = (index.parent / src).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 2000  # a real, non-empty picture
    assert "（转换失败）" not in page
    from shixiang_xl.web.screens import PAGES, can_screenshot

    if can_screenshot():  # the serve pages too, on the same demo workspace
        captions = re.findall(r'<section id="web">.*?</section>', page, re.S)
        assert captions and all(f"<figcaption>{title}</figcaption>" in captions[0] for title, _ in PAGES)
