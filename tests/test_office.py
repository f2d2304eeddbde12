"""The LibreOffice wrapper: recalculation, Chinese PDFs, broken inputs, a missing or hanging soffice."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import xlsxwriter

from shixiang_xl import office
from shixiang_xl.errors import ShixiangError
from shixiang_xl.xlsxout import FONT_BODY, print_setup

needs_soffice = pytest.mark.skipif(office.soffice_path() is None, reason="LibreOffice is not installed")


def _formula_workbook(path: Path) -> Path:
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("计算")
    ws.write_number(0, 0, 2)
    ws.write_number(1, 0, 3)
    ws.write_formula(2, 0, "=A1*10+A2")  # xlsxwriter stores 0 as the result
    wb.close()
    return path


def _chinese_workbook(path: Path, *, landscape: bool) -> Path:
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("台账")
    fmt = wb.add_format({"font_name": FONT_BODY, "font_size": 14})
    ws.set_column(0, 0, 60)
    ws.write_string(0, 0, "为民办十件实事满意度测评", fmt)
    ws.write_string(1, 0, "区卫健局：新建中心村卫生室十家", fmt)
    print_setup(ws, landscape=landscape)
    wb.close()
    return path


def _read_first_column(path: Path) -> list[object]:
    import python_calamine

    with python_calamine.CalamineWorkbook.from_path(str(path)) as wb:
        rows = wb.get_sheet_by_index(0).to_python()
    return [r[0] for r in rows]


@needs_soffice
def test_convert_to_xlsx_recalculates_formulas(tmp_path: Path) -> None:
    src = _formula_workbook(tmp_path / "公式.xlsx")
    before = src.read_bytes()
    assert _read_first_column(src)[2] == 0  # what every reader sees in an xlsxwriter file

    out = office.convert([src], "xlsx", tmp_path / "out")[src]
    assert out == tmp_path / "out" / "公式.xlsx"
    assert _read_first_column(out) == [2.0, 3.0, 23.0]

    kept = office.convert([src], "xlsx:Calc MS Excel 2007 XML", tmp_path / "norecalc", recalc=False)[src]
    assert kept is not None and _read_first_column(kept)[2] == 0
    assert src.read_bytes() == before


@needs_soffice
def test_pdf_of_chinese_workbooks_in_one_call(tmp_path: Path) -> None:
    wide = _chinese_workbook(tmp_path / "横向.xlsx", landscape=True)
    tall = _chinese_workbook(tmp_path / "纵向.xlsx", landscape=False)
    result = office.convert([wide, tall], "pdf", tmp_path / "pdf")
    assert set(result) == {wide, tall} and all(result.values())

    info = office.pdf_info(result[wide])
    assert info.pages == 1
    assert info.paper(0) == "A4" and info.landscape == (True,)
    assert info.all_pages("A4", landscape=True)
    assert "为民办十件实事满意度测评" in info.text.replace(" ", "")
    assert "新建中心村卫生室十家" in info.text.replace(" ", "")

    portrait = office.pdf_info(result[tall])
    assert portrait.all_pages("A4", landscape=False) and not portrait.all_pages("A4", landscape=True)

    if shutil.which("pdfinfo") and shutil.which("pdftotext"):
        poppler = office._pdf_info_poppler(result[wide])
        assert (poppler.pages, poppler.landscape) == (info.pages, info.landscape)
        assert "为民办十件实事满意度测评" in poppler.text.replace(" ", "")
    if shutil.which("pdffonts"):
        # 仿宋_GB2312 does not exist on Debian: the alias must give the serif CJK face, not the sans fallback.
        fonts = subprocess.run(["pdffonts", str(result[wide])], capture_output=True, text=True).stdout
        assert "NotoSerifCJK" in fonts, fonts


@needs_soffice
def test_broken_input_maps_to_none_without_raising(tmp_path: Path) -> None:
    good = _formula_workbook(tmp_path / "good.xlsx")
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04" + b"not really a workbook" * 50)
    empty = tmp_path / "empty.xlsx"
    empty.write_bytes(b"")
    missing = tmp_path / "missing.xlsx"
    result = office.convert([broken, good, empty, missing], "pdf", tmp_path)
    assert result[broken] is None and result[empty] is None and result[missing] is None
    assert result[good] == tmp_path / "good.pdf"
    assert office.pdf_info(result[good]).pages >= 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.xlsx", "empty.xlsx", "good.pdf", "good.xlsx"]


@needs_soffice
def test_same_format_into_the_inputs_folder_keeps_the_input(tmp_path: Path) -> None:
    src = _formula_workbook(tmp_path / "表.xlsx")
    before = src.read_bytes()
    out = office.convert([src], "xlsx", tmp_path)[src]
    assert out == tmp_path / "表(2).xlsx"
    assert src.read_bytes() == before
    assert _read_first_column(out)[2] == 23.0


def _no_soffice(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.delenv("SHIXIANG_SOFFICE", raising=False)
    monkeypatch.setattr(office, "_CANDIDATES", ())
    monkeypatch.setattr(office, "_OPT_GLOB", str(tmp_path / "nowhere" / "soffice"))


def test_absent_soffice_raises_the_chinese_message(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _no_soffice(monkeypatch, tmp_path)
    assert office.soffice_path() is None
    src = _formula_workbook(tmp_path / "a.xlsx")
    with pytest.raises(ShixiangError) as err:
        office.convert([src], "pdf", tmp_path / "out")
    assert str(err.value) == ("本机未安装 LibreOffice，无法生成 PDF。请安装 LibreOffice（Debian: apt-get install "
                              "libreoffice-calc-nogui fonts-noto-cjk）后重试。")


def _fake_soffice(tmp_path: Path, body: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    script = tmp_path / "fake-soffice"
    script.write_text("#!/bin/sh\n" + body, encoding="utf-8")
    script.chmod(0o755)
    monkeypatch.setenv("SHIXIANG_SOFFICE", str(script))
    return script


# Writes "<outdir>/<stem>.pdf" for each input: a real PDF header, nothing for bad*, an empty file for empty*,
# and records the environment it was given.
_FAKE_CONVERTER = r"""
out=""; prev=""
for a in "$@"; do
  if [ "$prev" = "--outdir" ]; then out="$a"; fi
  prev="$a"
done
echo "HOME=$HOME FONTCONFIG_FILE=$FONTCONFIG_FILE" > "$FAKE_LOG"
for a in "$@"; do
  case "$a" in
    -*|pdf) ;;
    *) [ "$a" = "$out" ] && continue
       stem=$(basename "$a"); stem="${stem%.*}"
       case "$stem" in
         bad*) ;;
         empty*) : > "$out/$stem.pdf" ;;
         *) printf '%%PDF-1.4 fake\n' > "$out/$stem.pdf" ;;
       esac ;;
  esac
done
exit 0
"""


@pytest.mark.skipif(os.name != "posix", reason="shell script stands in for soffice")
def test_outputs_are_checked_and_names_never_collide(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_soffice(tmp_path, _FAKE_CONVERTER, monkeypatch)
    log = tmp_path / "fake.log"
    monkeypatch.setenv("FAKE_LOG", str(log))
    (tmp_path / "sub").mkdir()
    files = [tmp_path / "a.xlsx", tmp_path / "sub" / "a.xlsx", tmp_path / "a.xls", tmp_path / "bad.xlsx",
             tmp_path / "empty.xlsx"]
    for f in files:
        f.write_bytes(b"PK\x03\x04 input")
    result = office.convert(files, "pdf", tmp_path / "out")
    out = tmp_path / "out"
    assert result == {files[0]: out / "a.pdf", files[1]: out / "a(2).pdf", files[2]: out / "a(3).pdf",
                      files[3]: None, files[4]: None}
    assert sorted(p.name for p in out.iterdir()) == ["a(2).pdf", "a(3).pdf", "a.pdf"]  # no staging left
    env = log.read_text(encoding="utf-8")
    assert f"HOME={Path.home()}" not in env and "FONTCONFIG_FILE=/" in env


@pytest.mark.skipif(os.name != "posix", reason="process groups")
def test_timeout_kills_the_whole_process_group(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pids = tmp_path / "pids"
    monkeypatch.setenv("FAKE_PIDS", str(pids))
    # Like soffice → soffice.bin: the script starts a child that would outlive a kill of the script alone.
    _fake_soffice(tmp_path, 'sleep 60 &\necho $! >> "$FAKE_PIDS"\nwait\n', monkeypatch)
    src = tmp_path / "hangs.xlsx"
    src.write_bytes(b"PK\x03\x04")
    started = time.monotonic()
    assert office.convert([src], "pdf", tmp_path / "out", timeout=1) == {src: None}
    assert time.monotonic() - started < 10
    for pid in map(int, pids.read_text().split()):
        assert _gone(pid), f"child {pid} survived the timeout"


def _gone(pid: int, wait: float = 5.0) -> bool:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
        except FileNotFoundError:
            return True
        except OSError:
            return False
        if state == "Z":  # killed, waiting for init to reap it
            return True
        time.sleep(0.1)
    return False


def test_fontconfig_file_keeps_system_fonts_and_maps_official_names() -> None:
    text = office.fontconfig_text()
    if Path("/etc/fonts/fonts.conf").is_file():
        assert "<include ignore_missing=\"yes\">/etc/fonts/fonts.conf</include>" in text
    for name, target in (("仿宋_GB2312", "Noto Serif CJK SC"), ("方正小标宋简体", "Noto Serif CJK SC"),
                         ("楷体_GB2312", "Noto Serif CJK SC"), ("黑体", "Noto Sans CJK SC"),
                         ("微软雅黑", "Noto Sans CJK SC")):
        assert f"<family>{name}</family><prefer><family>{target}</family>" in text


def test_pdf_info_rejects_a_file_that_is_not_a_pdf(tmp_path: Path) -> None:
    bad = tmp_path / "x.pdf"
    bad.write_bytes(b"not a pdf")
    with pytest.raises(ShixiangError):
        office.pdf_info(bad)
