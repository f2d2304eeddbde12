"""Text normalisation shared by every reader: widths, traditional characters, spaces, numbers in text."""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
import unicodedata

_FULLWIDTH = {i: i - 0xFEE0 for i in range(0xFF10, 0xFF1A)}  # ０-９
_FULLWIDTH.update({i: i - 0xFEE0 for i in range(0xFF21, 0xFF3B)})  # Ａ-Ｚ
_FULLWIDTH.update({i: i - 0xFEE0 for i in range(0xFF41, 0xFF5B)})  # ａ-ｚ
_FULLWIDTH.update({0xFF0E: ord("."), 0xFF05: ord("%"), 0x3000: ord(" "), 0xFF0B: ord("+"), 0xFF0D: ord("-"),
                   0xFF1D: ord("="), 0xFF1C: ord("<"), 0xFF1E: ord(">")})

_NEEDS_WIDTH = re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(_FULLWIDTH)) + "]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"[ \t\u00a0\u2002-\u200b\u3000]+")


@functools.lru_cache(maxsize=1)
def _t2s():
    import opencc  # slow to import: only when text is actually normalised

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional → simplified Chinese (opencc); ASCII-only text is returned as is."""
    if text.isascii():
        return text
    return _t2s().convert(text)


def clean(text: object) -> str:
    """Display form (see :func:`_clean`); strings are cached because returns repeat the same few thousand."""
    if isinstance(text, str):
        return _clean_str(text) if len(text) < 256 else _clean(text)
    return _clean(text)


@functools.lru_cache(maxsize=1 << 16)
def _clean_str(text: str) -> str:
    return _clean(text)


def _clean(text: object) -> str:
    """Display form: simplified characters, half-width digits/letters/%/., no control characters, single spaces.

    Chinese punctuation (，、：) is kept, because clerks expect it in what they read.
    """
    if text is None:
        return ""
    s = str(text)
    s = _CONTROL.sub("", s)
    if _NEEDS_WIDTH.search(s):  # translate looks up every character; most texts have nothing to translate
        s = s.translate(_FULLWIDTH)
    s = to_simplified(s)
    s = _SPACES.sub(" ", s)
    return s.strip()


def fold(text: object) -> str:
    """Matching form: :func:`clean` plus NFKC, no whitespace, no brackets' width difference."""
    if isinstance(text, str) and len(text) < 256:
        return _fold_str(text)
    return _fold(text)


@functools.lru_cache(maxsize=1 << 16)
def _fold_str(text: str) -> str:
    return _fold(text)


def _fold(text: object) -> str:
    s = unicodedata.normalize("NFKC", clean(text))
    return _WS.sub("", s)


_WS = re.compile(r"\s+")


def compact(text: object) -> str:
    """:func:`clean` with every space removed (for names that PDFs split: "区公共法律 服务中心")."""
    return _WS.sub("", clean(text))


def display_width(text: str) -> int:
    """Width in Excel column units: CJK and full-width characters count 2, others 1."""
    if text.isascii():
        return len(text)
    # Fast path: CJK is 3 bytes in UTF-8, Latin-1 supplement etc. 2 — close enough for column widths.
    return len(text) + (len(text.encode("utf-8")) - len(text)) // 2


def split_names(text: object) -> list[str]:
    """Split a list of unit names written as 区财政局、区水务局 / 区财政局，区水务局 / one per line / spaces."""
    s = clean(text)
    if not s or re.fullmatch(r"[—\-–/无、\s]*", s):
        return []
    parts = re.split(r"[、，,；;\n\r/]+|\s+", s)
    return [p.strip() for p in parts if p.strip() and not re.fullmatch(r"[—\-–]+", p.strip())]


_NUM_IN_TEXT = re.compile(r"[-+]?\d+(?:,\d{3})*(?:\.\d+)?")
_CN_NUM = re.compile(r"[零〇一二两三四五六七八九十百千万亿点]+")


def parse_number_text(text: str) -> tuple[float | None, str]:
    """Read a number a person typed as text: "500户", "约500", "1.2万", "五百", "100%", "1,200".

    Returns (value, how it was read) or (None, reason). 万/亿 multiply; % keeps the percentage number (100% → 100).
    """
    s = clean(text).replace("，", ",")
    if not s:
        return None, "空白"
    m = _NUM_IN_TEXT.search(s)
    if m:
        if len(_NUM_IN_TEXT.findall(s)) > 1:
            return None, f"含有多个数字「{s}」"
        value = float(m.group().replace(",", ""))
        rest = s[m.end():]
        if rest.startswith("万"):
            value *= 10_000
        elif rest.startswith("亿"):
            value *= 100_000_000
        return value, f"「{s}」读作 {format_number(value)}"
    m = _CN_NUM.search(s)
    if m and m.group() not in ("万", "亿", "点"):
        import cn2an

        try:
            value = float(cn2an.cn2an(m.group(), "smart"))
        except (ValueError, KeyError, IndexError):
            return None, f"无法识别「{s}」"
        return value, f"「{s}」读作 {format_number(value)}"
    return None, f"无法识别「{s}」"


def format_number(value: float | int | None, digits: int = 2) -> str:
    """12.0 → "12", 12.5 → "12.5", 1234567 → "1234567" (no grouping: official tables write plain numbers)."""
    if value is None:
        return ""
    if not math.isfinite(value):
        return "（无效数值）"
    if abs(value) >= 1e15:  # never a 16-digit (let alone 300-digit) figure in a message or a table
        return f"{value:.3g}"
    if float(value).is_integer():
        return str(int(value))
    text = f"{value:.{digits}f}"
    # Only a decimal part loses its trailing zeros: 19.98 to no decimals is "20", not "2".
    return text.rstrip("0").rstrip(".") if "." in text else text


def cn_date(day: dt.date) -> str:
    """2026年3月28日 (GB/T 9704: Arabic numerals, no leading zeros)."""
    return f"{day.year}年{day.month}月{day.day}日"
