"""Golden files for every output of a check-and-merge cycle: 台账.xlsx, 校验报告.xlsx, a feedback copy and the text
of the two .docx drafts (督查通报, 进展情况报告).

They are the safety net for refactoring: the writers' code may change, what they write may not (unless intended).
The workspace is the built-in 2026 example with a fixed secret; the returns are the demo's simulated ones (fixed
seed, fixed issue and modification times), with the demo's planted faults in the second period; documents carry a
fixed date. Each xlsx part is normalised as for the report workbook (``tests/test_generate.py``); the merge time
stored in the database is not part of any output. After an intended change to an output, regenerate and review::

    UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_golden_outputs.py -q
    git diff --stat tests/golden/
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import docx

from shixiang_xl.demo import simulate_period
from shixiang_xl.merge import merge_returns
from shixiang_xl.period import Period
from shixiang_xl.report import write_reports
from shixiang_xl.workspace import Workspace, init_workspace, load_context
from test_generate import FIXED_SECRET, assert_golden, normalise_xml

GOLDEN = Path(__file__).resolve().parent / "golden" / "cycle_2026-03"
DOCUMENT_DATE = dt.date(2026, 4, 8)


def _xlsx_parts(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: normalise_xml(name, zf.read(name)) for name in sorted(zf.namelist())
                if name.endswith((".xml", ".rels"))}


def _docx_text(path: Path) -> str:
    """The document's text as python-docx reads it: every paragraph (with its style) and every table cell."""
    document = docx.Document(str(path))
    lines = [f"[{p.style.name}] {p.text}" for p in document.paragraphs]
    for t, table in enumerate(document.tables):
        for row in table.rows:
            lines.append(f"table{t}: " + " | ".join(cell.text for cell in row.cells))
    for section in document.sections:
        lines.append("header: " + " / ".join(p.text for p in section.header.paragraphs))
        lines.append("footer: " + " / ".join(p.text for p in section.footer.paragraphs))
    return "\n".join(lines) + "\n"


def _cycle(root: Path) -> dict[str, str]:
    """Run the demo's two periods in a fresh workspace at ``root``; return output name → normalised text."""
    init_workspace(root, "yanzhou-2026")
    ctx = load_context(root)
    feb, mar = Period.parse("2026-02"), Period.parse("2026-03")
    simulate_period(ctx, feb)
    merge_returns(ctx, feb, workers=1)
    units = [u for u in ctx.projects.units if ctx.projects.led_by(u)]
    simulate_period(ctx, mar, missing=units[4], broken=units[7], sloppy=units[1], late=units[8])
    merged = merge_returns(ctx, mar, workers=1)
    reports = write_reports(ctx, mar, on=DOCUMENT_DATE)
    out: dict[str, str] = {}
    for name, data in (("台账", merged.ledger_path.read_bytes()), ("校验报告", merged.report_path.read_bytes())):
        out.update({f"{name}/{part}": text for part, text in _xlsx_parts(data).items()})
    assert merged.feedback, "the faulty returns must get feedback copies"
    unit = units[7]  # the return with a required number left empty
    out.update({f"feedback/{part}": text for part, text in _xlsx_parts(merged.feedback[unit].read_bytes()).items()})
    for kind, path in sorted(reports.documents.items()):
        out[f"{path.stem}.txt"] = _docx_text(path)
    # Nothing of the machine (temporary folders) reaches an output.
    for name, text in out.items():
        assert str(root) not in text, name
    return out


def test_golden_cycle_outputs(tmp_path, monkeypatch):
    monkeypatch.setattr(Workspace, "secret", lambda self: FIXED_SECRET)
    actual = _cycle(tmp_path / "ws")
    assert_golden(actual, GOLDEN, "pytest tests/test_golden_outputs.py")


def test_golden_cycle_is_deterministic(tmp_path, monkeypatch):
    """Two runs in different folders give the same outputs (what makes the golden comparison meaningful)."""
    monkeypatch.setattr(Workspace, "secret", lambda self: FIXED_SECRET)
    assert _cycle(tmp_path / "a") == _cycle(tmp_path / "b")
