"""``shixiang collect``: take the returned workbooks out of saved e-mails and into ``inbox/<period>/``.

E-mails are untrusted like the files they carry. Sizes and counts are capped before anything is decoded, an
attachment is kept only when both its extension and its first bytes say spreadsheet, its name is reduced to a
safe base name, and nothing already in the inbox is ever overwritten. Each saved file's modification time is
the time the office's mail server received the message (its topmost Received header; else the Date header), because
``check`` and ``merge`` take a file's mtime as the time it was received.
"""

from __future__ import annotations

import datetime as dt
import email
import email.utils
import hashlib
import mailbox
import os
import re
from dataclasses import dataclass
from email import policy
from email.header import decode_header, make_header
from email.message import Message
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from .errors import ShixiangError
from .findings import Finding, finding
from .period import Period
from .safename import MAX_NAME_BYTES, safe_name  # noqa: F401 - MAX_NAME_BYTES: the cap on saved names
from .safename import split_ext as _split
from .store import collected_copies, open_store, period_rows, record_collected
from .workspace import Context

MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024  # the same cap intake puts on a return
MAX_MESSAGE_BYTES = 64 * 1024 * 1024  # base64 grows by a third: room for two attachments at the cap
MAX_MESSAGES = 5000
MAX_ATTACHMENTS = 50  # per message
SPREADSHEET_EXTENSIONS = frozenset({".xlsx", ".xlsm", ".xls", ".et", ".ods", ".xltx", ".ett"})
ARCHIVE_EXTENSIONS = frozenset({".zip"})  # a zip of returns: check/merge unpack it safely
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"

RESULT_CN = {"saved": "已保存", "duplicate": "重复，未再保存", "skipped": "不是表格，已跳过", "too-large": "过大，未保存",
             "no-attachment": "没有附件", "unreadable": "无法读取"}

_TYPE_EXT = {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
             "application/vnd.ms-excel": ".xls", "application/vnd.oasis.opendocument.spreadsheet": ".ods",
             "application/zip": ".zip"}


@dataclass(frozen=True)
class CollectedItem:
    """One attachment (or one message without a usable attachment) and what became of it."""

    source: str
    message_id: str
    sender: str
    unit: str
    date: str
    original_name: str
    saved_path: Path | None
    sha256: str
    size: int
    result: str
    detail: str = ""

    @property
    def result_cn(self) -> str:
        return RESULT_CN.get(self.result, self.result)


@dataclass(frozen=True)
class CollectResult:
    """Everything one ``collect_returns`` run found, saved and skipped."""

    period: Period
    inbox: Path
    messages: int
    items: tuple[CollectedItem, ...]
    findings: tuple[Finding, ...]

    def count(self, *results: str) -> int:
        return sum(i.result in results for i in self.items)

    @property
    def saved(self) -> tuple[CollectedItem, ...]:
        return tuple(i for i in self.items if i.result == "saved")

    def summary(self) -> str:
        """One Chinese line for the terminal."""
        unknown = len({i.sender for i in self.items if not i.unit and i.sender})
        return (f"{self.period.label}：读取邮件 {self.messages} 封，保存附件 {self.count('saved')} 个到 {self.inbox}，"
                f"重复 {self.count('duplicate')} 个，跳过 {self.count('skipped', 'too-large')} 个"
                + (f"，发件人不在单位名录中的 {unknown} 个" if unknown else "") + "。")


# ------------------------------------------------------------------ names


def _shown(text: str, limit: int = 120) -> str:
    """A name as it may be printed: control characters made visible, length capped."""
    s = re.sub(r"[\x00-\x1f\x7f]", "?", text)
    return s if len(s) <= limit else s[:limit] + "…"


def _decode_words(text: str) -> str:
    """RFC 2047 words left inside a parameter (Outlook, Gmail and Foxmail all write them) decoded."""
    if "=?" not in text:
        return text
    try:
        return str(make_header(decode_header(text)))
    except (ValueError, LookupError, UnicodeError):
        return text


def _raw_param(part: Message, params: Sequence[str]) -> str:
    """A name parameter read from the raw header bytes, for names sent as bare 8-bit GBK or UTF-8."""
    for header, value in part.raw_items():
        if header.lower() not in ("content-disposition", "content-type"):
            continue
        raw = value.encode("ascii", "surrogateescape") if isinstance(value, str) else bytes(value)
        for p in params:
            m = re.search(rb'(?i)\b' + p.encode() + rb'\s*=\s*"([^"]*)"', raw) or \
                re.search(rb'(?i)\b' + p.encode() + rb'\s*=\s*([^;\s]+)', raw)
            if m:
                for charset in ("utf-8", "gb18030"):
                    try:
                        return _decode_words(m.group(1).decode(charset))
                    except UnicodeDecodeError:
                        continue
    return ""


def _part_name(part: Message) -> str:
    """The attachment's name as the sender meant it (RFC 2231, RFC 2047 and bare 8-bit names decoded)."""
    try:
        name = part.get_filename() or part.get_param("name") or ""
    except (ValueError, LookupError, UnicodeError, IndexError, TypeError):
        name = ""
    if isinstance(name, tuple):  # an RFC 2231 triple the policy could not collapse
        name = email.utils.collapse_rfc2231_value(name)
    name = _decode_words(str(name))
    if "\ufffd" in name or any("\udc80" <= ch <= "\udcff" for ch in name):
        name = _raw_param(part, ("filename", "name")) or name
    return name


# ------------------------------------------------------------------ reading mail


@dataclass(frozen=True)
class _Raw:
    shown: str
    data: bytes | None
    problem: Finding | None = None


def _read_limited(fh, shown: str) -> _Raw:
    data = fh.read(MAX_MESSAGE_BYTES + 1)
    if len(data) > MAX_MESSAGE_BYTES:
        return _Raw(shown, None, finding("mail-too-large", f"邮件超过 {MAX_MESSAGE_BYTES // 1024 // 1024} MB，未处理。"
                                         "请让单位只附填报表重新发送。", file=shown))
    return _Raw(shown, data)


def _sources(paths: Iterable[Path]) -> Iterator[_Raw]:
    """Every message under ``paths``: .eml files, mbox files and Maildir folders (folders are walked)."""
    for path in paths:
        if path.is_dir():
            if (path / "cur").is_dir() and (path / "new").is_dir():
                yield from _maildir(path)
            else:
                for child in sorted(path.iterdir()):
                    if not child.name.startswith("."):
                        yield from _sources([child])
        elif path.is_file():
            yield from _file(path)
        else:
            yield _Raw(str(path), None, finding("mail-unreadable", "找不到这个文件或文件夹。", file=str(path)))


def _file(path: Path) -> Iterator[_Raw]:
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
            fh.seek(0)
            if head.startswith(b"From "):
                pass  # an mbox: read below message by message
            elif head.startswith(OLE_MAGIC):
                yield _Raw(path.name, None, finding(
                    "mail-unreadable", "这是 Outlook 的 .msg 文件或 Office 文档，不是可读取的邮件。请在 Outlook 中把邮件"
                    "另存为 .eml 再收取；报回的表格可直接放入 inbox 对应的报送期文件夹。", file=path.name))
                return
            elif head.startswith(ZIP_MAGIC):
                yield _Raw(path.name, None, finding(
                    "mail-unreadable", "这是表格或压缩包，不是邮件文件。报回的表格可直接放入 inbox 对应的报送期文件夹。",
                    file=path.name))
                return
            else:
                yield _read_limited(fh, path.name)
                return
    except OSError as exc:
        yield _Raw(path.name, None, finding("mail-unreadable", f"无法打开（{exc.strerror or exc}）。", file=path.name))
        return
    yield from _mbox(path)


def _mbox(path: Path) -> Iterator[_Raw]:
    try:
        box = mailbox.mbox(str(path), create=False)
    except (OSError, mailbox.Error) as exc:
        yield _Raw(path.name, None, finding("mail-unreadable", f"邮箱文件无法打开（{exc}）。", file=path.name))
        return
    try:
        for n, key in enumerate(box.iterkeys(), start=1):
            fh = box.get_file(key)
            try:
                yield _read_limited(fh, f"{path.name} › 第{n}封")
            finally:
                fh.close()
    finally:
        box.close()


def _maildir(path: Path) -> Iterator[_Raw]:
    try:
        box = mailbox.Maildir(str(path), factory=None, create=False)
        keys = sorted(box.iterkeys())
    except (OSError, mailbox.Error) as exc:
        yield _Raw(path.name, None, finding("mail-unreadable", f"Maildir 邮箱无法打开（{exc}）。", file=path.name))
        return
    for key in keys:
        try:
            fh = box.get_file(key)
        except (OSError, KeyError):
            continue  # removed by the mail client while we read
        try:
            yield _read_limited(fh, f"{path.name} › {key}")
        finally:
            fh.close()


def _header(msg: Message, name: str) -> str:
    """A header as text; a malformed one is returned raw rather than stopping the message."""
    try:
        value = msg.get(name)
    except Exception:  # noqa: BLE001 - the header parser has many ways to fail on hostile input
        value = next((v for k, v in msg.raw_items() if k.lower() == name.lower()), None)
    return "" if value is None else " ".join(_decode_words(str(value)).split())


def _date(msg: Message, now: dt.datetime) -> dt.datetime | None:
    """When the return arrived: the time stamp the office's own mail server wrote in the topmost Received header
    (a sender cannot forge it), else the sender's Date header."""
    when = _parse_date(_received_stamp(msg)) or _parse_date(_header(msg, "Date"))
    if when is None:
        return None
    return min(when, now)  # a clock set in the future is clamped, as intake clamps mtimes


def _received_stamp(msg: Message) -> str:
    try:
        first = next((str(v) for k, v in msg.raw_items() if k.lower() == "received"), "")
    except Exception:  # noqa: BLE001 - hostile headers
        return ""
    return first.rpartition(";")[2].strip() if ";" in first else ""


def _parse_date(text: str) -> dt.datetime | None:
    if not text:
        return None
    try:
        when = parsedate_to_datetime(" ".join(text.split()))
    except (TypeError, ValueError, IndexError):
        return None
    return when.astimezone() if when.tzinfo is None else when


# ------------------------------------------------------------------ the run


def _sha_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _place(inbox: Path, name: str, sha: str) -> tuple[Path, str]:
    """Where to save: the name itself, or name(1), name(2)… — or an existing file with the same bytes."""
    stem, ext = _split(name)
    for k in range(0, 1000):
        candidate = inbox / (name if k == 0 else f"{stem}({k}){ext}")
        if not os.path.lexists(candidate):
            return candidate, "saved"
        if candidate.is_file() and not candidate.is_symlink() and _sha_file(candidate) == sha:
            return candidate, "duplicate"
    raise ShixiangError(f"{inbox} 中已有太多名为「{name}」的文件，请先整理该文件夹。")


def _kind(data: bytes) -> str:
    if data.startswith(ZIP_MAGIC):
        return "zip"
    if data.startswith(OLE_MAGIC):
        return "ole"
    return ""


def collect_returns(ctx: Context, paths: Sequence[Path], period: Period, *,
                    now: dt.datetime | None = None) -> CollectResult:
    """Save the spreadsheet attachments of the e-mails under ``paths`` into ``inbox/<period>/``.

    ``paths`` may be .eml files, mbox files or Maildir folders (other folders are walked). Every attachment
    is recorded in the ``collected`` table with its sender, matched unit ('' when unknown), Date and original
    name; unknown senders are kept and reported, never dropped. Re-running on the same mail saves nothing twice.
    """
    from .xlsxout import atomic_write_bytes

    if period.year != ctx.config.year:
        raise ShixiangError(f"报送期 {period.label} 不属于工作区的年度 {ctx.config.year} 年。")
    now = now or dt.datetime.now().astimezone()
    inbox = ctx.workspace.folder("inbox", period.slug)
    by_address = {a.strip().lower(): u.name for u in ctx.directory.units for a in u.emails}
    items: list[CollectedItem] = []
    findings: list[Finding] = []
    messages = 0
    with open_store(ctx.workspace.db_path) as store:

        def record(item: CollectedItem) -> None:
            record_collected(store.conn, period.slug, item.source, item.message_id, item.sender, item.unit, item.date,
                             item.original_name, str(item.saved_path or ""), item.sha256, item.size, item.result,
                             item.detail, dt.datetime.now().astimezone().isoformat(timespec="seconds"))
            items.append(item)

        def known_copy(sha: str) -> Path | None:
            """A file with these bytes that an earlier collect saved and that is still there unchanged."""
            for saved in collected_copies(store.conn, period.slug, sha):
                p = Path(saved)
                if p.is_file() and _sha_file(p) == sha:
                    return p
            return None

        for raw in _sources(paths):
            if raw.data is None:
                assert raw.problem is not None
                findings.append(raw.problem)
                result = "too-large" if raw.problem.code == "mail-too-large" else "unreadable"
                record(CollectedItem(raw.shown, "", "", "", "", "", None, "", 0, result, raw.problem.message))
                continue
            messages += 1
            if messages > MAX_MESSAGES:
                findings.append(finding("mail-too-many", f"一次最多处理 {MAX_MESSAGES} 封邮件，其余未处理。请分批收取。",
                                        file=raw.shown))
                break
            try:
                msg = email.message_from_bytes(raw.data, policy=policy.default)
                if not any(_header(msg, h) for h in ("From", "Date", "Subject", "Message-ID", "Received",
                                                       "Content-Type")):
                    problem = finding("mail-unreadable", "不是邮件文件（没有邮件头），未处理。", file=raw.shown)
                    findings.append(problem)
                    record(CollectedItem(raw.shown, "", "", "", "", "", None, "", 0, "unreadable", problem.message))
                    continue
                sender = parseaddr(_header(msg, "From"))[1].strip().lower()
                unit = by_address.get(sender, "")
                when = _date(msg, now)
                date = when.isoformat(timespec="seconds") if when else ""
                message_id = _header(msg, "Message-ID")[:200]
                base = dict(source=raw.shown, message_id=message_id, sender=sender, unit=unit, date=date)
                if not unit:
                    findings.append(finding(
                        "sender-unknown", f"发件人 {sender or '（无）'} 不在单位名录中，附件照常收取，请核对是哪个单位报送的"
                        "（或在 单位名录.xlsx 中补充该邮箱）。", file=raw.shown))
                found = 0
                for part in msg.walk():
                    if part.is_multipart():
                        continue
                    name = _part_name(part)
                    try:
                        disposition = part.get_content_disposition()
                    except Exception:  # noqa: BLE001 - hostile header
                        disposition = None
                    if not name and disposition != "attachment":
                        continue  # the message text, not an attachment
                    found += 1
                    if found > MAX_ATTACHMENTS:
                        findings.append(finding("mail-too-many", f"一封邮件最多处理 {MAX_ATTACHMENTS} 个附件，其余未处理。",
                                                file=raw.shown))
                        break
                    if not name:
                        name = f"附件{found}" + _TYPE_EXT.get(part.get_content_type(), "")
                    item, problems = _attachment(part, name, inbox, base, known_copy, atomic_write_bytes, when)
                    findings += problems
                    record(item)
                if not found:
                    record(CollectedItem(**base, original_name="", saved_path=None, sha256="", size=0,
                                         result="no-attachment", detail="邮件中没有附件"))
            except (RecursionError, ValueError, LookupError, UnicodeError, IndexError) as exc:
                # The email package's ways of failing on a malformed message: this one is recorded, the rest go on.
                problem = finding("mail-unreadable", f"邮件结构异常，无法读取（{type(exc).__name__}），其余部分未处理。",
                                  file=raw.shown)
                findings.append(problem)
                record(CollectedItem(raw.shown, "", "", "", "", "", None, "", 0, "unreadable", problem.message))
    return CollectResult(period, inbox, messages, tuple(items), tuple(findings))


def _attachment(part: Message, name: str, inbox: Path, base: dict, known_copy, write, when: dt.datetime | None
                ) -> tuple[CollectedItem, list[Finding]]:
    """Check one attachment and save it when it is a spreadsheet; never raise for anything in the mail."""
    shown = f"{base['source']} › {_shown(name)}"

    def item(result: str, detail: str, path: Path | None = None, sha: str = "", size: int = 0) -> CollectedItem:
        return CollectedItem(**base, original_name=name, saved_path=path, sha256=sha, size=size, result=result,
                             detail=detail)

    limit_mb = MAX_ATTACHMENT_BYTES // 1024 // 1024
    too_large = f"附件超过 {limit_mb} MB，未保存。填报表通常只有几十 KB，请让单位只附填报表重新发送。"
    payload = part.get_payload()
    encoded = len(payload) if isinstance(payload, (str, bytes)) else 0
    # Judge the size from the encoded text first, so an oversized attachment is never decoded into memory.
    if encoded * 3 // 4 > MAX_ATTACHMENT_BYTES * 1.01 + 4096:
        return item("too-large", too_large, size=encoded * 3 // 4), [
            finding("attachment-too-large", too_large, file=shown)]
    try:
        data = part.get_payload(decode=True) or b""
    except Exception:  # noqa: BLE001 - broken transfer encodings
        data = b""
    if len(data) > MAX_ATTACHMENT_BYTES:
        return item("too-large", too_large, size=len(data)), [finding("attachment-too-large", too_large, file=shown)]
    safe = safe_name(name)
    ext = _split(safe)[1].lower()
    kind = _kind(data)
    ok = (ext in SPREADSHEET_EXTENSIONS and kind in ("zip", "ole")) or (ext in ARCHIVE_EXTENSIONS and kind == "zip")
    if not ok:
        if not data:
            why = "附件是空的（0 字节），未保存。"
        elif ext in SPREADSHEET_EXTENSIONS | ARCHIVE_EXTENSIONS:
            why = "附件的扩展名是表格，但内容不是 Excel/WPS 表格（可能已损坏或被改了扩展名），未保存。请让单位重新发送原表格。"
        else:
            why = "附件不是电子表格，未保存。如果单位把填报表转成了 PDF、图片或 Word，请联系其报送原表格。"
        return item("skipped", why, size=len(data)), [finding("attachment-not-spreadsheet", why, file=shown)]
    sha = hashlib.sha256(data).hexdigest()
    problems: list[Finding] = []
    earlier = known_copy(sha)
    if earlier is not None:
        note = f"与已收取的 {earlier.name} 内容相同，未重复保存。"
        return item("duplicate", note, earlier, sha, len(data)), [finding("duplicate-file", note, file=shown)]
    inbox.mkdir(parents=True, exist_ok=True)
    path, how = _place(inbox, safe, sha)
    if how == "duplicate":
        note = f"收件箱中已有内容相同的 {path.name}，未重复保存。"
        return item("duplicate", note, path, sha, len(data)), [finding("duplicate-file", note, file=shown)]
    if safe != name:
        problems.append(finding("attachment-unsafe-name", f"附件名「{_shown(name)}」含有路径或不能用作文件名的字符，"
                                f"已保存为「{safe}」。", file=shown))
    if path.name != safe:
        problems.append(finding("attachment-renamed", f"收件箱中已有同名但内容不同的文件，本附件保存为「{path.name}」。",
                                file=shown))
    write(path, data)
    if when is not None:
        stamp = when.timestamp()
        os.utime(path, (stamp, stamp))  # check/merge read the received time from the mtime
    detail = "" if path.name == name else f"保存为 {path.name}"
    return item("saved", detail, path, sha, len(data)), problems


def collected_records(ctx: Context, period: Period) -> list[dict]:
    """Every recorded attachment for ``period`` (oldest first), as plain dicts."""
    return period_rows(ctx.workspace.db_path, "collected", period.slug)
