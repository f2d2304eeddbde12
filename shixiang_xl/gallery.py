"""``make gallery``: every kind of output of the demo rendered to PNG pages in one folder, with an index page.

Runs the demo in ``<folder>/演示工作区``, converts every workbook and document it made to PDF with LibreOffice (one
call), renders each PDF's pages to PNG with pdftoppm, and writes ``<folder>/index.html`` showing them all, so anyone
can look at every page a 督查室 hands up in a minute. Usage: ``python -m shixiang_xl.gallery [FOLDER]``.
"""

from __future__ import annotations

import html
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .xlsxout import atomic_write_bytes

DPI = 60


@dataclass(frozen=True)
class Exhibit:
    """One output of the demo: what it is, and the file."""

    title: str
    path: Path


def demo_outputs(root: Path) -> list[Exhibit]:
    """Every kind of output the demo workspace ``root`` holds, one file of each kind, in the cycle's order."""
    def first(pattern: str) -> Path | None:
        return next(iter(sorted(root.glob(pattern))), None)

    wanted = [
        ("项目清单", "项目清单.xlsx"),
        ("单位名录", "单位名录.xlsx"),
        ("填报表（牵头单位）", "outbox/*-03/*区卫生健康局*.xlsx"),
        ("填报表（协办的镇街）", "outbox/*-03/*街道*.xlsx"),
        ("校验报告", "reports/*-03/校验报告.xlsx"),
        ("退回修改意见", "feedback/*-03/*退回修改意见*.xlsx"),
        ("修改提示", "feedback/*-03/*修改提示*.xlsx"),
        ("台账", "reports/*-03/台账.xlsx"),
        ("催报名单", "reports/*-03/催报名单.xlsx"),
        ("督查通报", "reports/*-03/*通报*.docx"),
        ("进展情况报告", "reports/*-03/*进展情况报告*.docx"),
        ("满意度测评票", "outbox/*满意度测评/*测评票*.xlsx"),
        ("测评录入表", "outbox/*满意度测评/*录入表*.xlsx"),
        ("测评录入核对", "reports/[0-9][0-9][0-9][0-9]/*录入核对*.xlsx"),
        ("测评结果", "reports/[0-9][0-9][0-9][0-9]/*测评结果*.xlsx"),
    ]
    out = []
    for title, pattern in wanted:
        path = first(pattern)
        if path is not None:
            out.append(Exhibit(title, path))
    return out


def render_pages(pdf: Path, outdir: Path, stem: str) -> list[Path]:
    """Each page of ``pdf`` as ``outdir/<stem>-N.png`` (pdftoppm)."""
    outdir.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-png", "-r", str(DPI), str(pdf), str(outdir / stem)], check=True,
                   capture_output=True, timeout=300)
    return sorted(outdir.glob(f"{stem}-*.png"), key=lambda p: int(p.stem.rpartition("-")[2]))


def make_gallery(folder: Path, echo=print) -> Path:
    """Run the demo in ``folder`` and render all it made; returns the index page."""
    from .demo import run_demo
    from .office import convert

    folder = folder.absolute()
    root = folder / "演示工作区"
    if root.exists():
        shutil.rmtree(root)
    log: list[str] = []
    run_demo(root, log.append)
    exhibits = demo_outputs(root)
    echo(f"演示已完成，共 {len(exhibits)} 种输出，正在转换为 PDF …")
    pdfs = convert([e.path for e in exhibits], "pdf", folder / "pdf")
    pages_dir = folder / "pages"
    if pages_dir.exists():
        shutil.rmtree(pages_dir)
    sections = []
    for k, exhibit in enumerate(exhibits, start=1):
        pdf = pdfs.get(exhibit.path)
        pages = render_pages(pdf, pages_dir, f"{k:02d}") if pdf else []
        images = "".join(f'<figure><img src="pages/{p.name}" alt="{html.escape(exhibit.title)} 第{i}页">'
                         f"<figcaption>第 {i} 页</figcaption></figure>" for i, p in enumerate(pages, start=1))
        note = "" if pages else "<p>（转换失败）</p>"
        sections.append(f'<section id="s{k}"><h2>{k}. {html.escape(exhibit.title)}</h2>'
                        f"<p>{html.escape(str(exhibit.path.relative_to(root)))} · {len(pages)} 页</p>{note}{images}"
                        "</section>")
        echo(f"  {exhibit.title}：{len(pages)} 页")
    toc = "".join(f'<li><a href="#s{k}">{html.escape(e.title)}</a></li>' for k, e in enumerate(exhibits, start=1))
    shots = _web_pages(root, pages_dir)
    if shots:
        images = "".join(f'<figure><img src="pages/{p.name}" alt="{html.escape(t)}"><figcaption>{html.escape(t)}'
                         "</figcaption></figure>" for t, p in shots)
        sections.append(f'<section id="web"><h2>网页（shixiang serve）</h2>{images}</section>')
        toc += '<li><a href="#web">网页（shixiang serve）</a></li>'
        echo(f"  网页：{len(shots)} 页")
    page = ("<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><title>实事通 输出一览</title>"
            "<style>body{font-family:sans-serif;margin:2em}figure{display:inline-block;margin:.5em;"
            "vertical-align:top}img{border:1px solid #999;max-width:600px}figcaption{text-align:center}</style>"
            f"<h1>实事通 输出一览（内置示例的演示）</h1><ol>{toc}</ol>{''.join(sections)}</html>")
    index = folder / "index.html"
    atomic_write_bytes(index, page.encode("utf-8"))
    return index


def _web_pages(root: Path, outdir: Path) -> list[tuple[str, Path]]:
    """Screenshots of the ``serve`` pages on the demo workspace (its second period), when chromium is here."""
    from .period import Period
    from .web.screens import screenshot_pages

    merged = sorted(root.glob("reports/*-03"))
    return screenshot_pages(root, outdir, Period.parse(merged[0].name)) if merged else []


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    index = make_gallery(Path(args[0] if args else "gallery"))
    print(f"输出一览：{index}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
