"""Looking at printed pages as a clerk would, with pypdf's text positions: what is cut off, what is missing,
what page holds nothing but a repeated header row. Used by the print-quality tests on LibreOffice's PDFs."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path

from pypdf import PdfReader


@dataclass(frozen=True)
class Run:
    """One piece of text as placed on a page (PDF points, origin bottom left)."""

    page: int
    text: str
    x: float
    y: float
    size: float

    @property
    def width(self) -> float:
        """Its width, estimated: a Chinese character is as wide as the font size, other characters half."""
        return sum(self.size if unicodedata.east_asian_width(ch) in "WF" else self.size / 2 for ch in self.text)


@dataclass(frozen=True)
class Page:
    number: int
    width: float
    height: float
    runs: tuple[Run, ...]

    @property
    def text(self) -> str:
        return "".join(r.text for r in self.runs)

    def lines(self) -> list[str]:
        """The page's text as lines (runs grouped by their baseline), top to bottom."""
        rows: dict[int, list[Run]] = {}
        for run in self.runs:
            rows.setdefault(round(run.y / 3), []).append(run)
        return ["".join(r.text for r in sorted(rs, key=lambda r: r.x)) for _, rs in sorted(rows.items(), reverse=True)]


def pages(pdf: Path) -> list[Page]:
    out = []
    for k, page in enumerate(PdfReader(str(pdf)).pages, start=1):
        runs: list[Run] = []

        def visit(text: str, cm: list[float], tm: list[float], _font: object, size: float) -> None:
            if text.strip():
                scale = abs(cm[0] * tm[0]) or 1.0
                runs.append(Run(k, text.strip(), cm[4] + tm[4] * cm[0], cm[5] + tm[5] * cm[3], size * scale))

        page.extract_text(visitor_text=visit)
        box = page.mediabox
        out.append(Page(k, float(box.width), float(box.height), tuple(runs)))
    return out


def outside(page: Page, margin: float = 0.0) -> list[Run]:
    """Runs that start left of, or end right of, the page (less ``margin``): text cut off in print."""
    return [r for r in page.runs if r.x < margin - 0.5 or r.x + r.width > page.width - margin + 0.5
            or r.y < 0 or r.y > page.height]


def header_only(page: Page, header: list[str], footer: str = "页") -> bool:
    """Whether a page holds nothing but a repeated header row (and its page number)."""
    body = [line for line in page.lines() if footer not in line or not line.startswith("第")]
    text = "".join(body)
    for heading in header:
        text = text.replace(heading, "", 1)
    return not text.strip()
