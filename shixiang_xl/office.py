"""The one LibreOffice-headless wrapper: PDFs of workbooks and documents, and .xls/.et/.ods → .xlsx.

Every conversion in the project goes through :func:`convert`, which

* runs many files in one ``soffice`` call (≈0.2 s a file, against ≈2.3 s for a cold start per call);
* gives each call its own fresh profile (``-env:UserInstallation``), so concurrent runs never share one, with
  formulas recalculated on load (LibreOffice otherwise prints the 0 that xlsxwriter stores as every result) and
  macros disabled (returns come from outside);
* maps the official font names (仿宋_GB2312, 方正小标宋简体, 黑体 …), which Debian does not have, to Noto CJK SC
  through a fontconfig file, or the PDF may get Japanese glyph variants;
* trusts no exit code (``soffice`` exits 0 when a file failed to load) but looks at every output;
* kills the whole process group on timeout, and then retries the files one by one so that a single file that
  hangs LibreOffice costs only itself.

:func:`pdf_info` reads back what a PDF holds (pages, sizes, orientation, text) for sanity checks and tests.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from .errors import ShixiangError

log = logging.getLogger(__name__)

MISSING_MESSAGE = ("本机未安装 LibreOffice，无法生成 PDF。请安装 LibreOffice（Debian: apt-get install "
                   "libreoffice-calc-nogui fonts-noto-cjk）后重试。")

# Where installers put soffice when it is not on PATH (Debian/RPM, the upstream .deb/.rpm, snap, macOS, Windows).
_CANDIDATES: tuple[str, ...] = (
    "/usr/bin/soffice",
    "/usr/lib/libreoffice/program/soffice",
    "/usr/lib64/libreoffice/program/soffice",
    "/opt/libreoffice/program/soffice",
    "/snap/bin/libreoffice",
    "/Applications/LibreOffice.app/Contents/MacOS/soffice",
    r"C:\Program Files\LibreOffice\program\soffice.exe",
    r"C:\Program Files (x86)\LibreOffice\program\soffice.exe",
)
_OPT_GLOB = "/opt/libreoffice*/program/soffice"

# Official document fonts → the CJK fonts a Debian machine has (fonts-noto-cjk).
SERIF_ALIASES = ("仿宋_GB2312", "仿宋", "FangSong", "FangSong_GB2312", "楷体_GB2312", "楷体", "KaiTi",
                 "KaiTi_GB2312", "方正小标宋简体", "方正小标宋_GBK", "宋体", "SimSun", "新宋体", "NSimSun")
SANS_ALIASES = ("黑体", "SimHei", "微软雅黑", "Microsoft YaHei", "等线", "DengXian")
SERIF_FONT = "Noto Serif CJK SC"
SANS_FONT = "Noto Sans CJK SC"
# A workbook's column widths are counted in the width of "0" of its default font (Calibri 11 pt, what xlsxwriter
# and Excel write). LibreOffice measures that "0" itself: where Calibri is missing (Debian) fontconfig gave it
# DejaVu Sans, whose "0" is 7.0 pt against Calibri's 5.25–5.6 pt, so every column printed a third wider than in
# Excel/WPS and text that wraps there sat on one line in a row sized for two (issue 23). Carlito is Calibri's
# metric twin; Noto Sans Mono CJK SC (fonts-noto-cjk, already needed) has a 0.5 em "0", within 5% of Calibri's.
DEFAULT_FONT_ALIASES = ("Calibri",)
DEFAULT_FONT_SUBSTITUTES = ("Carlito", "Noto Sans Mono CJK SC")

_ZIP_FORMATS = {"xlsx", "xlsm", "ods", "odt", "docx", "pptx", "odp"}


def soffice_path() -> str | None:
    """The LibreOffice executable: ``$SHIXIANG_SOFFICE``, then PATH, then the usual install folders; else None."""
    override = os.environ.get("SHIXIANG_SOFFICE")
    if override and Path(override).is_file() and os.access(override, os.X_OK):
        return override
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    import glob

    for candidate in (*_CANDIDATES, *sorted(glob.glob(_OPT_GLOB), reverse=True)):
        if Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


# ------------------------------------------------------------------ profile and environment


def _registry(recalc: bool) -> str:
    """The profile's registrymodifications.xcu: recalculation on load, and no macros ever run."""
    mode = 0 if recalc else 1  # 0 = always recalculate, 1 = never

    def item(path: str, name: str, value: str) -> str:
        return (f'<item oor:path="{path}"><prop oor:name="{name}" oor:op="fuse">'
                f"<value>{value}</value></prop></item>")

    items = [
        item("/org.openoffice.Office.Calc/Formula/Load", "OOXMLRecalcMode", str(mode)),
        item("/org.openoffice.Office.Calc/Formula/Load", "ODFRecalcMode", str(mode)),
        item("/org.openoffice.Office.Common/Security/Scripting", "MacroSecurityLevel", "3"),
        item("/org.openoffice.Office.Common/Security/Scripting", "DisableMacrosExecution", "true"),
        # A returned workbook's links to other files or the web are never fetched (1 = never; default asks).
        item("/org.openoffice.Office.Calc/Content/Update", "Link", "1"),
    ]
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<oor:items xmlns:oor="http://openoffice.org/2001/registry" '
            'xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
            + "\n".join(items) + "\n</oor:items>\n")


def _system_fonts_conf() -> str | None:
    current = os.environ.get("FONTCONFIG_FILE")
    for candidate in (current, "/etc/fonts/fonts.conf", "/usr/local/etc/fonts/fonts.conf",
                      "/opt/homebrew/etc/fonts/fonts.conf"):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def fontconfig_text() -> str:
    """A fontconfig file: the system configuration plus aliases for the official Chinese font names."""
    parts = ['<?xml version="1.0"?>', '<!DOCTYPE fontconfig SYSTEM "fonts.dtd">', "<fontconfig>"]
    system = _system_fonts_conf()
    if system:
        parts.append(f'  <include ignore_missing="yes">{escape(system)}</include>')
    for names, target in ((SERIF_ALIASES, SERIF_FONT), (SANS_ALIASES, SANS_FONT)):
        for name in names:
            # binding="same" makes the substitute as strong as the requested name, so fontconfig does not
            # fall back to its default CJK choice (often the JP variant) before reaching it.
            parts.append(f'  <alias binding="same"><family>{escape(name)}</family>'
                         f"<prefer><family>{target}</family></prefer></alias>")
    for name in DEFAULT_FONT_ALIASES:
        # Calibri itself first when a machine has it; then its twin, then a font with its digit width.
        prefer = "".join(f"<family>{family}</family>" for family in (name, *DEFAULT_FONT_SUBSTITUTES))
        parts.append(f'  <alias binding="same"><family>{escape(name)}</family><prefer>{prefer}</prefer></alias>')
    parts.append("</fontconfig>")
    return "\n".join(parts) + "\n"


def _environment(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    home = tmp / "home"
    home.mkdir()
    fonts = tmp / "fonts.conf"
    fonts.write_text(fontconfig_text(), encoding="utf-8")
    env["HOME"] = str(home)  # soffice writes caches and lock files under HOME; keep them out of the user's
    env["FONTCONFIG_FILE"] = str(fonts)
    # Without a UTF-8 locale soffice mangles non-ASCII file names (项目清单.xlsx) on a bare CI machine.
    if sys.platform != "win32":
        env["LC_ALL"] = "C.UTF-8" if sys.platform.startswith("linux") else "en_US.UTF-8"
    env.pop("PYTHONPATH", None)  # LibreOffice's bundled Python must not pick up ours
    return env


# ------------------------------------------------------------------ convert


def _extension(fmt: str) -> str:
    return fmt.split(":", 1)[0].strip().lower()


def _output_ok(path: Path, ext: str) -> bool:
    try:
        if not path.is_file() or path.stat().st_size == 0:
            return False
        with open(path, "rb") as fh:
            head = fh.read(5)
    except OSError:
        return False
    if ext == "pdf":
        return head.startswith(b"%PDF")
    if ext in _ZIP_FORMATS:
        return head.startswith(b"PK\x03\x04")
    return True


class _Timeout(Exception):
    pass


def _run(soffice: str, inputs: list[Path], fmt: str, outdir: Path, timeout: float, recalc: bool) -> None:
    """One soffice call on ``inputs`` with a fresh profile; raises :class:`_Timeout` after killing it."""
    with tempfile.TemporaryDirectory(prefix="shixiang-soffice-") as tmp_name:
        tmp = Path(tmp_name)
        profile = tmp / "profile"
        (profile / "user").mkdir(parents=True)
        (profile / "user" / "registrymodifications.xcu").write_text(_registry(recalc), encoding="utf-8")
        args = [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--invisible", "--nologo",
                "--nodefault", "--nofirststartwizard", "--nolockcheck", "--norestore",
                "--convert-to", fmt, "--outdir", str(outdir), *(str(p) for p in inputs)]
        posix = os.name == "posix"
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=_environment(tmp), cwd=tmp, start_new_session=posix)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            proc.communicate()
            raise _Timeout()
        finally:
            if proc.poll() is None:  # an exception other than the timeout (KeyboardInterrupt): leave no orphan
                _kill_group(proc)
                proc.wait()
        log.debug("soffice exit %s\nstdout: %s\nstderr: %s", proc.returncode,
                  out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))


def _kill_group(proc: subprocess.Popen) -> None:
    # soffice.bin runs as a child of the soffice script: kill the whole group, not just the script.
    try:
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGKILL)
        else:  # pragma: no cover - Windows
            proc.kill()
    except (ProcessLookupError, PermissionError):
        pass


def _staged_names(files: list[Path]) -> list[str]:
    """File names for the staging folder: the original names, made unique by stem (soffice names its output
    after the input's stem, so a.xls and a.xlsx would otherwise write the same a.pdf)."""
    names: list[str] = []
    seen: set[str] = set()
    for i, path in enumerate(files):
        name = path.name
        if path.stem.casefold() in seen:
            name = f"{path.stem}~{i}{path.suffix}"
        seen.add(Path(name).stem.casefold())
        names.append(name)
    return names


def _unique_target(outdir: Path, stem: str, ext: str, taken: set[Path]) -> Path:
    target = outdir / f"{stem}.{ext}"
    n = 2
    while target in taken:
        target = outdir / f"{stem}({n}).{ext}"
        n += 1
    taken.add(target)
    return target


def convert(files: list[Path], fmt: str, outdir: Path, *, timeout: float = 180,
            recalc: bool = True) -> dict[Path, Path | None]:
    """Convert ``files`` to ``fmt`` ("pdf", "xlsx", "ods", "xlsx:Calc MS Excel 2007 XML", …) into ``outdir``.

    Returns each input mapped to its output (``outdir/<stem>.<ext>``; ``<stem>(2).<ext>`` when two inputs share a
    stem or the name is an input's) or to None when that file could not be converted (missing, empty, broken,
    encrypted, timed out). Inputs are never modified. With ``recalc`` every formula is recalculated on load.
    ``timeout`` is per soffice call; on timeout the files are retried one by one.
    Raises :class:`ShixiangError` when LibreOffice is not installed.
    """
    soffice = soffice_path()
    if soffice is None:
        raise ShixiangError(MISSING_MESSAGE)
    files = [Path(f) for f in files]
    ext = _extension(fmt)
    if not ext:
        raise ValueError(f"no output format in {fmt!r}")
    outdir = Path(outdir).absolute()  # soffice runs in its own temporary folder: relative paths would break
    outdir.mkdir(parents=True, exist_ok=True)
    result: dict[Path, Path | None] = {f: None for f in files}
    # soffice opens a 0-byte file as a new blank document and "converts" it: there is nothing to convert.
    readable = [f for f in dict.fromkeys(files) if f.is_file() and f.stat().st_size > 0]
    if not readable:
        return result
    # Stage copies inside outdir: same filesystem, so finished outputs move into place with an atomic rename,
    # and an .xlsx → .xlsx conversion cannot write over its own input.
    stage = Path(tempfile.mkdtemp(prefix=".~soffice-", dir=outdir))
    try:
        src, dst = stage / "in", stage / "out"
        src.mkdir()
        dst.mkdir()
        staged: dict[Path, Path] = {}
        for path, name in zip(readable, _staged_names(readable)):
            try:
                shutil.copyfile(path, src / name)
            except OSError:
                continue
            staged[path] = src / name
        produced = _convert_staged(soffice, staged, fmt, ext, dst, timeout, recalc)
        taken: set[Path] = {p.absolute() for p in files}  # an output never replaces an input
        for path in readable:
            out = produced.get(path)
            if out is None:
                continue
            target = _unique_target(outdir, path.stem, ext, taken)
            os.replace(out, target)
            result[path] = target
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return result


def _convert_staged(soffice: str, staged: dict[Path, Path], fmt: str, ext: str, dst: Path, timeout: float,
                    recalc: bool) -> dict[Path, Path]:
    def outputs(paths: list[Path]) -> dict[Path, Path]:
        found = {}
        for p in paths:
            out = dst / f"{staged[p].stem}.{ext}"
            if _output_ok(out, ext):
                found[p] = out
        return found

    paths = list(staged)
    if not paths:
        return {}
    try:
        _run(soffice, [staged[p] for p in paths], fmt, dst, timeout, recalc)
        return outputs(paths)
    except _Timeout:
        log.warning("LibreOffice timed out after %ss on %d files", timeout, len(paths))
        if len(paths) == 1:
            return {}
    # Outputs written before the kill may be cut short: start again, one file per call.
    for p in paths:
        (dst / f"{staged[p].stem}.{ext}").unlink(missing_ok=True)
    done: dict[Path, Path] = {}
    for p in paths:
        try:
            _run(soffice, [staged[p]], fmt, dst, timeout, recalc)
        except _Timeout:
            log.warning("LibreOffice timed out on %s", p)
            (dst / f"{staged[p].stem}.{ext}").unlink(missing_ok=True)
            continue
        done.update(outputs([p]))
    return done


# ------------------------------------------------------------------ PDF sanity


MM_PER_POINT = 25.4 / 72
PAPERS: dict[str, tuple[float, float]] = {"A4": (210.0, 297.0), "A3": (297.0, 420.0)}


@dataclass(frozen=True)
class PdfInfo:
    """What a PDF holds: page count, each page's size in mm (as displayed), orientation and text."""

    pages: int
    sizes_mm: tuple[tuple[float, float], ...]
    landscape: tuple[bool, ...]
    texts: tuple[str, ...]

    def paper(self, page: int = 0) -> str | None:
        """'A4' or 'A3' when the page is that size (either orientation, ±2 mm), else None."""
        w, h = sorted(self.sizes_mm[page])
        for name, (pw, ph) in PAPERS.items():
            if abs(w - pw) <= 2 and abs(h - ph) <= 2:
                return name
        return None

    def all_pages(self, paper: str, landscape: bool | None = None) -> bool:
        """True when every page is ``paper`` (and, if given, in that orientation)."""
        return self.pages > 0 and all(
            self.paper(i) == paper and (landscape is None or self.landscape[i] == landscape)
            for i in range(self.pages))

    @property
    def text(self) -> str:
        return "\n".join(self.texts)


def pdf_info(path: Path) -> PdfInfo:
    """Pages, sizes (mm), landscape flags and text of the PDF at ``path`` (pypdf, else poppler's tools).

    Raises :class:`ShixiangError` when the file is not a readable PDF.
    """
    try:
        import pypdf  # noqa: F401
    except ImportError:
        return _pdf_info_poppler(path)
    return _pdf_info_pypdf(path)


def _info(sizes: list[tuple[float, float]], texts: list[str]) -> PdfInfo:
    sizes_mm = tuple((round(w * MM_PER_POINT, 1), round(h * MM_PER_POINT, 1)) for w, h in sizes)
    return PdfInfo(len(sizes_mm), sizes_mm, tuple(w > h for w, h in sizes_mm), tuple(texts))


def _pdf_info_pypdf(path: Path) -> PdfInfo:
    import pypdf
    from pypdf.errors import PyPdfError

    try:
        data = Path(path).read_bytes()
        reader = pypdf.PdfReader(io.BytesIO(data))
        sizes, texts = [], []
        for page in reader.pages:
            box = page.mediabox
            w, h = float(box.width), float(box.height)
            if int(page.get("/Rotate", 0) or 0) % 180:
                w, h = h, w
            sizes.append((w, h))
            texts.append(page.extract_text() or "")
    except (OSError, PyPdfError, ValueError, KeyError, TypeError) as exc:
        raise ShixiangError(f"PDF 文件 {Path(path).name} 无法读取：{exc}")
    return _info(sizes, texts)


def _pdf_info_poppler(path: Path) -> PdfInfo:
    pdfinfo, pdftotext = shutil.which("pdfinfo"), shutil.which("pdftotext")
    if not pdfinfo or not pdftotext:
        raise ShixiangError("无法检查 PDF：请安装 pypdf（pip install pypdf）或 poppler-utils。")
    import re

    run = {"capture_output": True, "timeout": 60, "stdin": subprocess.DEVNULL}
    first = subprocess.run([pdfinfo, str(path)], **run)
    m = re.search(rb"^Pages:\s+(\d+)", first.stdout, re.M)
    if first.returncode != 0 or not m:
        raise ShixiangError(f"PDF 文件 {Path(path).name} 无法读取：{first.stderr.decode('utf-8', 'replace')}")
    pages = int(m.group(1))
    detail = subprocess.run([pdfinfo, "-f", "1", "-l", str(pages), str(path)], **run).stdout.decode()
    sizes_by_page = {int(n): (float(w), float(h)) for n, w, h in
                     re.findall(r"^Page\s+(\d+) size:\s+([\d.]+) x ([\d.]+)", detail, re.M)}
    rotations = {int(n): int(r) for n, r in re.findall(r"^Page\s+(\d+) rot:\s+(\d+)", detail, re.M)}
    sizes = []
    for n in range(1, pages + 1):
        w, h = sizes_by_page.get(n, (0.0, 0.0))
        sizes.append((h, w) if rotations.get(n, 0) % 180 else (w, h))
    text = subprocess.run([pdftotext, "-enc", "UTF-8", str(path), "-"], **run).stdout.decode("utf-8", "replace")
    texts = text.split("\f")[:pages]
    texts += [""] * (pages - len(texts))
    return _info(sizes, texts)
