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


@dataclass(frozen=True)
class Band:
    """One table row as printed: between two horizontal grid lines (PDF points, origin bottom left), the
    text runs it holds and how many lines of text the fullest cell of it has."""

    page: int
    top: float
    bottom: float
    runs: tuple[Run, ...]
    lines: int
    cells: tuple[str, ...]  # the text of each column's cell, its lines joined top to bottom

    @property
    def height(self) -> float:
        return self.top - self.bottom

    @property
    def size(self) -> float:
        """The font size of most of its text."""
        sizes = [r.size for r in self.runs]
        return max(set(sizes), key=sizes.count)


def grid(pdf: Path) -> dict[int, tuple[list[float], list[float]]]:
    """Per page, the y of every horizontal and the x of every vertical grid line LibreOffice drew (its cell
    borders are plain ``m``/``l`` strokes in page coordinates), each sorted, nearby duplicates merged."""
    from pypdf.generic import ContentStream

    reader = PdfReader(str(pdf))
    out = {}
    for k, page in enumerate(reader.pages, start=1):
        ys: list[float] = []
        xs: list[float] = []
        start = None
        for operands, op in ContentStream(page.get_contents(), reader).operations:
            if op == b"m":
                start = (float(operands[0]), float(operands[1]))
            elif op == b"l" and start is not None:
                end = (float(operands[0]), float(operands[1]))
                if abs(start[1] - end[1]) < 0.2 and abs(start[0] - end[0]) > 20:
                    ys.append(start[1])
                elif abs(start[0] - end[0]) < 0.2 and abs(start[1] - end[1]) > 5:
                    xs.append(start[0])
                start = end

        def merged(values: list[float]) -> list[float]:
            out_values: list[float] = []
            for v in sorted(values):
                if not out_values or v - out_values[-1] > 1.0:
                    out_values.append(v)
            return out_values

        out[k] = (merged(ys), merged(xs))
    return out


def bands(pdf: Path) -> list[Band]:
    """Every table row of a PDF that holds text, top to bottom and page by page."""
    found = []
    lines_of = grid(pdf)
    for page in pages(pdf):
        ys, xs = lines_of[page.number]
        for low, high in zip(ys, ys[1:]):
            runs = tuple(r for r in page.runs if low < r.y < high)
            if not runs:
                continue
            most, cells = 0, []
            for left, right in zip(xs, xs[1:]):
                inside = [r for r in runs if left <= r.x < right]
                most = max(most, len({round(r.y) for r in inside}))
                cells.append("".join(r.text for r in sorted(inside, key=lambda r: (-round(r.y), r.x))))
            found.append(Band(page.number, high, low, runs, max(1, most), tuple(cells)))
    return found


def clipped(band: Band) -> list[Run]:
    """Runs whose glyphs stick out of their row (a CJK glyph spans from 0.12 em below its baseline to 0.88 em
    above it): text the printed row cuts off at its top or bottom."""
    return [r for r in band.runs if r.y - 0.12 * r.size < band.bottom - 0.5 or r.y + 0.88 * r.size > band.top + 0.5]
