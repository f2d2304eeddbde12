"""The hidden ``_meta`` sheet: what a workbook is, for whom and which period, signed with the workspace secret.

A workbook we issue carries its identity (kind, workspace id, unit, period, template version, the key and place of
every row, a digest of the locked content) as canonical JSON plus an HMAC-SHA256 over it. A return can then be
proven to be the one issued to that unit for that period, and rows can be re-mapped when a unit moves them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

META_SHEET = "_meta"
MAGIC = "shixiang-meta/1"
_CHUNK = 30_000  # below the 32,767-character cell limit


def canonical(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def sign(payload: dict[str, Any], secret: bytes) -> str:
    """HMAC-SHA256 (hex) of the payload's canonical JSON."""
    return _mac(canonical(payload), secret)


def _mac(data: bytes, secret: bytes) -> str:
    return hmac.new(secret, data, hashlib.sha256).hexdigest()


def digest(values: Any) -> str:
    """SHA-256 of any JSON-able structure (used for the locked content)."""
    return hashlib.sha256(canonical({"v": values})).hexdigest()


def write_meta(workbook, payload: dict[str, Any], secret: bytes, password: str = "") -> None:
    """Add the very hidden, protected ``_meta`` sheet to an xlsxwriter workbook."""
    ws = workbook.add_worksheet(META_SHEET)
    text = canonical(payload).decode("utf-8")
    ws.write_string(0, 0, MAGIC)
    ws.write_string(1, 0, "payload")
    for i in range(0, max(1, len(text)), _CHUNK):
        ws.write_string(1, 1 + i // _CHUNK, text[i:i + _CHUNK])
    ws.write_string(2, 0, "hmac")
    ws.write_string(2, 1, sign(payload, secret))
    ws.protect(password)
    ws.very_hidden()


@dataclass(frozen=True)
class Meta:
    """A ``_meta`` sheet as read back: the payload, and whether its signature holds."""

    payload: dict[str, Any]
    signature: str
    valid: bool

    def get(self, key: str, default: Any = None) -> Any:
        return self.payload.get(key, default)


def read_meta(rows: list[list[object]], secret: bytes) -> Meta | None:
    """Parse the rows of a ``_meta`` sheet; None when it is not ours or is unreadable."""
    if len(rows) < 3 or not rows[0] or rows[0][0] != MAGIC:
        return None
    text = "".join(str(v) for v in rows[1][1:] if isinstance(v, str))
    signature = str(rows[2][1]) if len(rows[2]) > 1 else ""
    try:
        payload = json.loads(text)
    except (json.JSONDecodeError, ValueError):
        return None
    if not isinstance(payload, dict):
        return None
    # What we wrote is the canonical JSON itself: its MAC verifies without encoding the payload again. Re-encoding
    # is the fallback for a text some program changed without changing its content.
    valid = (hmac.compare_digest(_mac(text.encode("utf-8"), secret), signature)
             or hmac.compare_digest(sign(payload, secret), signature))
    return Meta(payload, signature, valid)
