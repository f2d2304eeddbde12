"""Intake, files: find the returned files under the inbox (zip batches unpacked safely, links that lead out of the
inbox refused) and keep every original zip batch in the archive. Originals are only ever read.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from .findings import Finding, finding
from .intake_bytes import MAX_FILE_BYTES, MAX_RATIO, MAX_UNCOMPRESSED, MAX_ZIP_MEMBERS
from .safename import safe_name


@dataclass(frozen=True, slots=True)
class Source:
    """One file to take in: where it is, and the name to show (``batch.zip › a.xlsx`` for zip members)."""

    path: str
    name: str
    received_at: str
    converted: str = ""  # the LibreOffice .xlsx made from it, when python-calamine could not read the original


def discover(paths: Iterable[Path], workdir: Path, received_at: str | None = None) -> tuple[list[Source], list[Finding]]:
    """Every file under ``paths`` (recursively), with .zip batches unpacked safely into ``workdir``."""
    sources: list[Source] = []
    findings: list[Finding] = []
    now = dt.datetime.now().astimezone()
    for root in paths:
        folder = root.is_dir()
        inside = root.resolve() if folder else None
        found: list[tuple[tuple[str, ...], Path, float | None]] = []
        for p in root.rglob("*") if folder else [root]:
            try:  # one stat per file (a city-wide inbox has thousands)
                st = p.lstat() if folder else p.stat()
                if folder and stat.S_ISLNK(st.st_mode):
                    if _escapes(p, inside):
                        findings.append(finding(
                            "file-outside-inbox", f"「{os.path.join(*p.parts[len(root.parts):])}」是指向收件文件夹"
                            "以外的快捷方式（链接），已拒绝读取。请把单位报回的文件本身放入收件文件夹。",
                            file=os.path.join(*p.parts[len(root.parts):])))
                        continue
                    st = p.stat()
            except (OSError, RuntimeError):  # RuntimeError: a loop of links
                if folder:
                    continue
                st = None
            if folder and not stat.S_ISREG(st.st_mode):
                continue
            found.append((p.parts, p, st.st_mtime if st is not None else None))
        found.sort(key=lambda f: f[0])  # the order of the paths themselves
        skip = len(root.parts)
        for parts, p, mtime in found:
            if p.name.startswith("~$") or p.name.startswith(".~") or p.name in ("Thumbs.db", ".DS_Store"):
                continue  # Excel/WPS lock files and OS litter, not returns
            shown = os.path.join(*parts[skip:]) if folder else p.name
            stamp = received_at or _stamp(mtime, now)
            if p.suffix.lower() == ".zip":
                got, more = _unpack_zip(p, shown, workdir, stamp)
                sources += got
                findings += more
            else:
                sources.append(Source(str(p), shown, stamp))
    return sources, findings


def _escapes(path: Path, inside: Path) -> bool:
    """Whether ``path`` is a link leading out of the folder ``inside`` (or into a loop). A link is followed only to
    a place inside the inbox: never read or archive a file from elsewhere because a link to it was dropped there."""
    if not path.is_symlink():
        return False
    try:
        return not path.resolve(strict=True).is_relative_to(inside)
    except (OSError, RuntimeError):
        return True


def archive_containers(paths: Iterable[Path], archive_dir: str) -> list[tuple[str, int, str, str, str, str]]:
    """Archive every .zip batch found under ``paths`` too (its members are archived one by one as they are read).

    Returns (sha256, size, archive path, shown name, source path, received time) per zip.
    """
    out = []
    for root in paths:
        inside = root.resolve()
        files = sorted(p for p in root.rglob("*.zip") if p.is_file() and not _escapes(p, inside)) \
            if root.is_dir() else [root]
        for p in files:
            if p.suffix.lower() != ".zip":
                continue
            sha = hashlib.sha256()
            with open(p, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    sha.update(chunk)
            digest = sha.hexdigest()
            dest = Path(archive_dir) / digest[:2] / f"{digest}.zip"
            if not dest.exists():
                dest.parent.mkdir(parents=True, exist_ok=True)
                tmp = dest.with_name(f".~{digest}.tmp")
                try:
                    shutil.copyfile(p, tmp)
                    os.replace(tmp, dest)
                except BaseException:
                    unlink_quietly(tmp)
                    raise
            shown = str(p.relative_to(root)) if root.is_dir() else p.name
            out.append((digest, p.stat().st_size, str(dest), shown, str(p), _mtime(p)))
    return out


def _mtime(path: Path) -> str:
    """When a file arrived: its modification time (saving an attachment or ``collect`` sets it)."""
    try:
        mtime: float | None = path.stat().st_mtime
    except OSError:
        mtime = None
    return _stamp(mtime, dt.datetime.now().astimezone())


def _stamp(mtime: float | None, now: dt.datetime) -> str:
    """A modification time as the received time: never later than ``now`` (a clock set wrong), now if unknown."""
    try:
        stamp = dt.datetime.fromtimestamp(mtime).astimezone() if mtime is not None else None
    except (ValueError, OverflowError, OSError):
        stamp = None
    if stamp is None:
        return now_iso()
    return min(stamp, now).isoformat(timespec="seconds")


def _unpack_zip(path: Path, shown: str, workdir: Path, stamp: str) -> tuple[list[Source], list[Finding]]:
    """Members of a zip of returns, extracted under safe names with size, count and ratio limits."""
    out: list[Source] = []
    findings: list[Finding] = []
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        return [], [finding("file-corrupt", f"压缩包无法打开（{exc}）。请重新打包后发送。", file=shown)]
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        if len(infos) > MAX_ZIP_MEMBERS:
            return [], [finding("zip-bomb", f"压缩包内有 {len(infos)} 个文件，超过上限 {MAX_ZIP_MEMBERS}，未解压。", file=shown)]
        total = 0
        target = workdir / hashlib.sha256(str(path).encode()).hexdigest()[:12]
        for k, info in enumerate(infos):
            name = _zip_member_name(info)
            member = f"{shown} › {name}"
            if Path(name).suffix.lower() == ".zip":
                findings.append(finding("archive-member-skipped", "压缩包中嵌套的压缩包未解压，请直接发送填报表。", file=member))
                continue
            if info.flag_bits & 0x1:
                findings.append(finding("file-encrypted", "压缩包中的文件设置了密码，无法读取。请去掉密码后重新发送。", file=member))
                continue
            if info.file_size > MAX_FILE_BYTES or (info.compress_size and info.file_size / info.compress_size > MAX_RATIO
                                                   and info.file_size > 1024 * 1024):
                findings.append(finding("zip-bomb", "压缩包中的文件解压后过大，未解压。", file=member))
                continue
            try:
                with zf.open(info) as fh:
                    data = fh.read(MAX_FILE_BYTES + 1)
            except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as exc:
                findings.append(finding("file-corrupt", f"压缩包中的文件无法解压（{exc}）。", file=member))
                continue
            total += len(data)
            if len(data) > MAX_FILE_BYTES or total > MAX_UNCOMPRESSED:
                findings.append(finding("zip-bomb", "压缩包解压后的内容超过上限，其余文件未解压。", file=member))
                break
            dest = target / f"{k:04d}_{Path(name).name}"
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
            try:
                when = dt.datetime(*info.date_time).astimezone().isoformat(timespec="seconds")
            except ValueError:
                when = stamp
            out.append(Source(str(dest), member, min(when, stamp)))
    return out, findings


def _zip_member_name(info: zipfile.ZipInfo) -> str:
    name = info.filename
    if not info.flag_bits & 0x800:  # not flagged UTF-8: Chinese Windows zips use GBK
        try:
            name = name.encode("cp437").decode("gbk")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    return safe_name(name, fallback="unnamed")  # the one cleaner of names made from what a unit sent


def now_iso() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")



def unlink_quietly(path: str | Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
