"""File names made from what others wrote (an attachment's name, a return's file name, a unit's name): one
cleaner for every output name built from input text, so none can hold a newline, a path, a reserved device name
or a trailing dot that Windows silently drops.

The lowest stage there is: it imports nothing of the package, so every stage may use it.
"""

from __future__ import annotations

import re
import unicodedata

MAX_NAME_BYTES = 150  # UTF-8 bytes; leaves room for "(12)" and the temporary-file prefix under 255

_WINDOWS_BAD = re.compile(r'[<>:"|?*\x00-\x1f\x7f]')
_RESERVED = frozenset({"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", *(f"COM{i}" for i in range(1, 10)),
                       *(f"LPT{i}" for i in range(1, 10))})


def split_ext(name: str) -> tuple[str, str]:
    """(stem, ".ext") when ``name`` ends in a plausible extension (short, ASCII letters and digits), else (name, "")."""
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or len(ext) > 8 or not ext.isascii() or not ext.isalnum():
        return name, ""
    return stem, "." + ext


def clean_text(text: str, replacement: str = "_") -> str:
    """A piece of a file name (not a whole one): bidirectional and zero-width characters dropped; control
    characters (a line break between two words keeps them apart), characters Windows forbids and path separators
    replaced; runs of spaces made one."""
    s = unicodedata.normalize("NFC", text)
    s = "".join(ch for ch in s if unicodedata.category(ch) not in ("Cf", "Cs", "Co"))
    s = _WINDOWS_BAD.sub(replacement, s)  # control characters among them
    s = re.sub(r"[\\/]", replacement, s)
    return re.sub(r" {2,}", " ", s)


def safe_name(name: str, fallback: str = "附件", max_bytes: int = MAX_NAME_BYTES) -> str:
    """A base name that is safe to create on Windows, macOS and Linux.

    Only the last path component survives (``../../etc/passwd`` → ``passwd``); control, bidirectional and
    zero-width characters are dropped (``U+202E`` can disguise ``.exe`` as ``.xlsx``); characters Windows
    forbids become ``_``; leading dots and Excel's ``~$`` lock-file prefix go (``check`` would ignore the file);
    reserved device names get a ``_`` prefix; trailing dots and spaces go (Windows drops them, so two names would
    be one); the length is capped at ``max_bytes`` UTF-8 bytes with the extension kept.
    """
    s = unicodedata.normalize("NFC", name)
    s = "".join(ch for ch in s if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co"))
    s = re.split(r"[\\/]", s)[-1]
    s = _WINDOWS_BAD.sub("_", s).strip(" .\u3000")
    while s.startswith(("~$", "~", "$")):
        s = s.lstrip("~$").strip(" .")
    stem, ext = split_ext(s)
    if stem.upper() in _RESERVED or stem.split(".")[0].upper() in _RESERVED:
        stem = "_" + stem
    while stem and len((stem + ext).encode("utf-8")) > max_bytes:
        stem = stem[:-1]
    stem = stem.rstrip(" .\u3000")
    return (stem or fallback) + ext


def joined_name(parts: list[str] | tuple[str, ...], ext: str, *, fallback: str = "文件",
                max_bytes: int = MAX_NAME_BYTES) -> str:
    """A file name made of several texts joined by ``_`` (e.g. unit, "退回修改意见", the return's name), each
    cleaned, the whole cleaned again and capped: ``("区民政局", "回传\\n换行")`` → ``区民政局_回传_换行.xlsx``."""
    stem = "_".join(p for p in (clean_text(part).strip(" .\u3000") for part in parts) if p)
    return safe_name((stem or fallback) + ext, fallback=fallback, max_bytes=max_bytes)
