"""``shixiang generate``: one standard, protected, self-checking report workbook per unit and period.

Every column comes from the template spec; every text from the project list is written with ``write_string``;
the hidden ``_meta`` sheet records identity, layout and a digest of the locked content, signed per workspace.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

from xlsxwriter.utility import xl_rowcol_to_cell, xl_col_to_name

from .config import Config
from .errors import ShixiangError
from .layout import FIRST_DATA_ROW, HEADER_ROW, SUBTITLE_ROW, TITLE_ROW, Block, SheetLayout, locked_value, unit_layouts
from .meta import digest, write_meta
from .period import Period
from .measures import KIND_CEILING, KIND_COUNT, KIND_MILESTONE
from .projects import Indicator, ProjectList
from .safename import joined_name
from .spec import STATUSES, Column, SheetSpec, TemplateSpec
from .textnorm import cn_date, format_number
from .workspace import Context
from .xlsxout import FONT_HEAD, Formats, atomic_write_bytes, fit_heading, new_workbook, print_setup, \
    row_height, safe_text

KIND = "report"
LEVEL_UNUSED = ("current",)  # columns a level (比率, 上限) does not fill in
LEVEL_LABEL = "不累加，右格填当前值"
LEVEL_PROMPT = ("当前值", "比率、上限类指标填本期末的实际水平（当前值，只填数字），不是累加数。")
LEVEL_RATE_FORMULA = '=IF(AND(ISNUMBER({cumulative}),N({target})>0),MIN(1,{cumulative}/{target}),"")'
NODE_LABEL = "节点：右填完成日期，再右选是/否"
NODE_PROMPT = ("是否完成", "节点类指标：已完成选“是”，未完成选“否”；已完成的，在左格填完成日期。")
NODE_DATE_PROMPT = ("完成日期", "节点类指标：已完成的，在此填完成日期（如 2026-3-20）；未完成的不填。是否完成在右格选择。")
NODE_FORMULA = '=IF({cumulative}="是",1,IF({cumulative}="否",0,""))'
LEVEL_CEILING_FORMULA = '=IF(ISNUMBER({cumulative}),IF({cumulative}<=N({target}),"达标","未达标"),"")'
INPUT_FILL = "#FFF2CC"
FREE_TEXT_ROOM = 60  # characters of free text (进展情况 …) a form shows whole before its row grows
LOCKED_FILL = "#F2F2F2"
# Hidden helper cells on the instructions sheet that the self-check banner reads.
CHECK_COL = 9  # column J
BANNER_ROW = 3
FIELDS_ROW = 5

_PLACEHOLDER = re.compile(r"\{(\w+)\}")  # a column key in a spec formula

PreviousValues = Mapping[tuple[str, str], float]  # (sheet kind, row key) → last cumulative


@dataclass(frozen=True)
class GeneratedFile:
    unit: str
    path: Path
    sha256: str
    lead_projects: int
    co_projects: int


@dataclass(frozen=True)
class GenerateResult:
    period: Period
    outdir: Path
    files: tuple[GeneratedFile, ...]


@dataclass(frozen=True)
class WorkbookJob:
    """Everything needed to build one workbook; plain data so it can cross into a worker process."""

    unit: str
    period: Period
    config: Config
    projects: ProjectList
    spec: TemplateSpec
    secret: bytes
    workspace_id: str
    issued_at: str
    previous: dict[tuple[str, str], float]
    # Values to write into the input cells (used to simulate returns for the demo, tests and benchmark).
    filled: dict[tuple[str, str], dict[str, object]] | None = None
    filled_fields: dict[str, object] | None = None


def file_name(period: Period, unit: str) -> str:
    """e.g. 2026年3月_区卫生健康局_十件实事进度填报表.xlsx — safe to e-mail and valid on Windows."""
    return joined_name((period.label, unit, "十件实事进度填报表"), ".xlsx")


def _validation(col: Column, period: Period) -> dict:
    """Data validation for an input of this type, with a Chinese prompt and error message."""
    v: dict = {"ignore_blank": True, "error_type": "stop", "error_title": "填写有误"}
    if col.type in ("number", "integer"):
        v.update(validate="decimal" if col.type == "number" else "integer", criteria=">=", value=0,
                 error_message="请填写不小于 0 的数字，不要带单位或文字。")
    elif col.type == "percent":
        v.update(validate="decimal", criteria="between", minimum=0, maximum=100,
                 error_message="请填写 0–100 之间的数字，不带 % 号。")
    elif col.type == "status":
        v.update(validate="list", source=list(STATUSES), error_message="请从下拉列表中选择：未启动、推进中、已完成。")
    elif col.type == "date":
        v.update(validate="date", criteria="between", minimum=dt.datetime.combine(period.start, dt.time()),
                 maximum=dt.datetime.combine(period.end + dt.timedelta(days=92), dt.time()),
                 error_message=f"请填写日期，如 {period.due(25).isoformat()}。")
    elif col.type == "phone":
        v.update(validate="length", criteria="between", minimum=7, maximum=30,
                 error_message="请填写手机号或座机号码，如 13812345678 或 0537-3412345。")
    else:
        v.update(validate="length", criteria="<=", value=2000, error_message="内容过长，请精简到 2000 字以内。")
    if col.help:
        v.update(input_title=col.heading[:32], input_message=col.help[:255])
    return v


def _as_day(value: object) -> dt.date | None:
    """A stored completion date (ISO text) as a date to write back into a resubmission form."""
    try:
        return dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


class _Builder:
    """Builds one unit's workbook in memory."""

    def __init__(self, job: WorkbookJob) -> None:
        self.job = job
        self.buffer = io.BytesIO()
        issued = dt.datetime.fromisoformat(job.issued_at)
        if issued.tzinfo is not None:  # xlsxwriter writes the time as UTC ("…Z"): convert, don't just drop the zone
            issued = issued.astimezone(dt.timezone.utc).replace(tzinfo=None)
        self.wb = new_workbook(self.buffer, lock_structure=True, created=issued)
        self.fmt = Formats(self.wb)
        self.locked: list[list] = []  # (sheet, cell, value) of every locked content cell, for the digest
        self.required: list[str] = []  # references of required input cells/ranges, for the banner
        self.invalid: list[str] = []  # formula terms counting invalid inputs, for the banner
        self.field_cells: dict[str, str] = {}
        self.frame: list[list] = []  # (sheet, cell, text) of titles, headings and labels: locked content too
        self._locked: dict[str, object] = {}
        self._inputs: dict[str, object] = {}

    # -- formats (looked up for every cell: cached per type)
    def locked_fmt(self, col_type: str = "text"):
        fmt = self._locked.get(col_type)
        if fmt is None:
            base = {"number": "number", "integer": "center", "percent": "percent"}.get(col_type, "text")
            fmt = self._locked[col_type] = self.fmt(base, bg_color=LOCKED_FILL)
        return fmt

    def input_fmt(self, col_type: str, measure: str = ""):
        """An input cell's format; a number input shows its measure word (7000 万户, 96 %, 3 家) as it is typed."""
        fmt = self._inputs.get((col_type, measure))
        if fmt is None:
            base = {"number": "number", "integer": "number", "percent": "number"}.get(col_type, "text")
            extra = {"num_format": "0.##"} if col_type == "percent" else {}
            word = re.sub(r'["\\]', "", measure)[:12]
            if word and col_type in ("number", "integer"):
                extra = {"num_format": f'#,##0.##" {word}"'}
            if col_type == "date":
                extra = {"num_format": "yyyy-mm-dd", "align": "center"}
            if col_type in ("status", "phone"):
                extra = {"align": "center"}
            fmt = self._inputs[(col_type, measure)] = self.fmt(base, bg_color=INPUT_FILL, locked=False, **extra)
        return fmt

    def build(self) -> bytes:
        job = self.job
        layouts = unit_layouts(job.spec, job.unit, job.projects)
        if not layouts:
            raise ShixiangError(f"「{job.unit}」没有牵头或协办的项目，无需生成填报表。")
        info = self.wb.add_worksheet(job.spec.info_sheet)
        sheets_meta = []
        for sheet_spec, layout, blocks in layouts:
            self.write_sheet(sheet_spec, layout, blocks)
            sheets_meta.append(layout.to_json())
        self.write_info(info)
        payload = {
            "kind": KIND, "workspace": job.workspace_id, "unit": job.unit, "period": job.period.slug,
            "spec_version": job.spec.version, "spec_digest": job.spec.digest, "issued_at": job.issued_at,
            "info_sheet": job.spec.info_sheet, "fields": self.field_cells, "sheets": sheets_meta,
            "locked_digest": digest(self.locked), "locked": self.locked, "frame": self.frame,
        }
        write_meta(self.wb, payload, job.secret, job.config.sheet_password)
        self.wb.close()
        return self.buffer.getvalue()

    # -- data sheets
    def write_sheet(self, spec: SheetSpec, layout: SheetLayout, blocks: tuple[Block, ...]) -> None:
        job = self.job
        ws = self.wb.add_worksheet(spec.sheet)
        ncols = len(spec.columns)
        title = spec.title.format(title=job.config.full_title)
        ws.merge_range(TITLE_ROW, 0, TITLE_ROW, ncols - 1, self.framed(spec.sheet, TITLE_ROW, 0, title),
                       self.fmt("title", font_size=16))
        ws.set_row(TITLE_ROW, 32)
        sub = f"填报单位：{job.unit}　　报送期：{job.period.label}（{job.period.cutoff(job.config.due_day)}）　　" \
              f"报送截止：{self._due_text()}　　黄色单元格为填报项"
        ws.merge_range(SUBTITLE_ROW, 0, SUBTITLE_ROW, ncols - 1, self.framed(spec.sheet, SUBTITLE_ROW, 0, sub),
                       self.fmt("subtitle"))
        ws.set_row(SUBTITLE_ROW, 22)
        # Headings wrap between words (the reader folds the line break away); a column is as wide as its words.
        fitted = [fit_heading(col.heading, col.width) for col in spec.columns]
        for c, (heading, width) in enumerate(fitted):
            ws.set_column(c, c, width)
            ws.write_string(HEADER_ROW, c, heading, self.fmt("header"))  # headings: the reader's own checks
        ws.set_row(HEADER_ROW, row_height(fitted, minimum=30))

        slots = iter(layout.rows)
        self.validations: dict[tuple[int, str], list[tuple[int, int]]] = {}
        for block in blocks:
            block_slots = [next(slots) for _ in block.indicators]
            self.write_block(ws, spec, block, block_slots)
        # One validation per column (over all its input ranges) keeps the sheet XML small and writing fast.
        for (c, variant), ranges in self.validations.items():
            options = _validation(spec.columns[c], job.period)
            if variant == "node":  # a node's 是/否, from a list
                options = {"validate": "list", "source": ["是", "否"], "input_title": NODE_PROMPT[0],
                           "input_message": NODE_PROMPT[1], "error_title": "是否完成", "error_message": "请选择“是”或“否”。"}
            elif variant == "node-date":  # a node's completion date: this year, up to the report's latest date
                first, last = dt.date(job.period.year, 1, 1), job.period.end + dt.timedelta(days=92)
                options = {"validate": "date", "criteria": "between", "ignore_blank": True, "error_type": "stop",
                           "minimum": dt.datetime.combine(first, dt.time()),
                           "maximum": dt.datetime.combine(last, dt.time()), "input_title": NODE_DATE_PROMPT[0],
                           "input_message": NODE_DATE_PROMPT[1], "error_title": "填写有误",
                           "error_message": f"请填写完成日期（{first.year} 年内），如 {job.period.due(25).isoformat()}。"}
            elif variant:
                options.update(input_title=LEVEL_PROMPT[0], input_message=LEVEL_PROMPT[1])
            runs = _runs(sorted({r for a, b in ranges for r in range(a, b + 1)}))
            options["multi_range"] = " ".join(f"{xl_rowcol_to_cell(a, c)}:{xl_rowcol_to_cell(b, c)}" if a != b else xl_rowcol_to_cell(a, c) for a, b in runs)
            ws.data_validation(runs[0][0], c, runs[0][1], c, options)
        self.add_checks(spec, layout)

        last = layout.last_row
        ws.freeze_panes(FIRST_DATA_ROW, 2)
        print_setup(ws, landscape=True, repeat=(HEADER_ROW, HEADER_ROW))
        ws.print_area(0, 0, last, ncols - 1)
        ws.protect(job.config.sheet_password, {"format_columns": True, "format_rows": True,
                                               "select_locked_cells": True, "select_unlocked_cells": True})
        ws.set_default_row(20)

    def write_block(self, ws, spec: SheetSpec, block: Block, slots: list) -> None:
        job = self.job
        span = len(slots)
        heights = []
        for slot, ind in zip(slots, block.indicators):
            cells_for_height = []
            # The row's kind, once (not per column): a level or a node has one input, and labels in the others.
            one_value = ind is not None and ind.one_value
            row_node = one_value and ind is not None and ind.measure_kind == KIND_MILESTONE
            for c, col in enumerate(spec.columns):
                if col.scope == "project" and not slot.first:
                    continue
                ref_rows = (slot.row, slot.row + span - 1) if col.scope == "project" else (slot.row, slot.row)
                value: object = None
                level = one_value and col.scope == "indicator"
                node = row_node and level
                if col.role == "locked":
                    previous = job.previous.get((spec.kind, slot.key), 0.0)
                    value = locked_value(col, block.project, ind, previous)
                    fmt = self.locked_fmt(col.type)
                    if level and col.source == "previous.cumulative":
                        # A level (比率, 上限) is not added up: there is no 上期累计. A node's two inputs are named here.
                        value = NODE_LABEL if node else "—"
                        if node:
                            fmt = self.locked_fmt("text")  # a label, wrapped like one
                    if value is not None:
                        self.locked.append([spec.sheet, xl_rowcol_to_cell(slot.row, c), _json_value(value)])
                elif col.role == "input":
                    if col.scope == "indicator" and ind is None:
                        fmt = self.locked_fmt(col.type)  # no indicator on this row: nothing to fill in
                    elif node and col.key in LEVEL_UNUSED:  # a node's completion date (its 是/否 is the next column)
                        fmt = self.input_fmt("date")
                        self.validations.setdefault((c, "node-date"), []).append(ref_rows)
                        if job.filled:
                            value = _as_day(job.filled.get((spec.kind, slot.key), {}).get(col.key))
                    elif level and col.key in LEVEL_UNUSED:
                        # The one input of a level is its current value (the next column): say so here.
                        value, fmt = LEVEL_LABEL, self.locked_fmt("text")
                        self.locked.append([spec.sheet, xl_rowcol_to_cell(slot.row, c), value])
                    else:
                        measure = ind.unit if ind is not None and col.scope == "indicator" and col.is_numeric else ""
                        fmt = self.input_fmt("text" if node else col.type, "" if node else measure)
                        variant = ("node" if node else "level") if level and col.key == "cumulative" else ""
                        self.validations.setdefault((c, variant), []).append(ref_rows)
                        if job.filled:
                            key = slot.key if col.scope == "indicator" else block.project.key
                            value = job.filled.get((spec.kind, key), {}).get(col.key)
                else:  # formula
                    fmt = self.locked_fmt(col.type)
                    if col.scope == "indicator" and ind is None:
                        value = None
                    else:
                        formula = self._formula(spec, col, slot.row, ind if level else None)
                        self._write(ws, ref_rows, c, None, fmt)
                        ws.write_formula(slot.row, c, formula, fmt, "")
                        continue
                self._write(ws, ref_rows, c, value, fmt)
                if value is not None and col.role in ("locked", "input"):
                    # Rows grow with every text they hold: the locked ones, and what a unit wrote when its return
                    # is written again (a resubmission form), so nothing prints clipped.
                    text = format_number(value) if isinstance(value, float) else str(value)
                    cells_for_height.append((text, col.width, col.scope))
            heights.append(cells_for_height)
        # Project-scope text is merged over the block's rows: share its height among them.
        project_lines = max((row_height([(t, w)]) for hs in heights[:1] for t, w, s in hs if s == "project"),
                            default=20)
        # Free text (进展情况 …) is typed after we write the form: its rows leave room for FREE_TEXT_ROOM characters
        # in the widest free-text column (the main one; 存在问题 and the like are short), and a row of its own (a
        # one-row project) keeps that height without customHeight, so that Excel/WPS fit it to what the unit
        # types. Merged cells never grow in any spreadsheet: there the room is all there is, and the rows stay
        # custom (fitting them to their own cells would shrink the merged text's room).
        free = [col for col in spec.columns if col.role == "input" and col.type == "text"]
        widest = max((col.width for col in free), default=0.0)
        room = row_height([("字" * FREE_TEXT_ROOM, widest)]) if free else 0.0
        share = max(project_lines, room) / span
        for slot, hs in zip(slots, heights):
            own = row_height([(t, w) for t, w, s in hs if s == "indicator"], minimum=20)
            ws.set_row(slot.row, max(own, share, 36.0))
            if free and span == 1:
                self.wb.grow_row(ws, slot.row)

    def framed(self, sheet: str, row: int, col: int, text: str) -> str:
        """Record a title, heading or label as locked content (``_meta``'s frame), and give it back to write."""
        self.frame.append([sheet, xl_rowcol_to_cell(row, col), text])
        return text

    def _write(self, ws, rows: tuple[int, int], col: int, value: object, fmt) -> None:
        if rows[0] != rows[1]:
            ws.merge_range(rows[0], col, rows[1], col, None, fmt)
        if value is None:
            ws.write_blank(rows[0], col, None, fmt)
        elif isinstance(value, dt.date):
            ws.write_datetime(rows[0], col, dt.datetime.combine(value, dt.time()), fmt)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            ws.write_number(rows[0], col, value, fmt)
        else:
            ws.write_string(rows[0], col, safe_text(value), fmt)

    def _formula(self, spec: SheetSpec, col: Column, row: int, level: Indicator | None = None) -> str:
        def ref(m: re.Match) -> str:
            return xl_rowcol_to_cell(row, spec.index(m.group(1)))

        formula = col.formula
        if level is not None and level.measure_kind == KIND_MILESTONE and col.key == "rate" \
                and spec.column("cumulative"):
            formula = NODE_FORMULA
        elif level is not None and col.key == "rate" and spec.column("cumulative") and spec.column("target"):
            # A level's completion: met or not for a ceiling, the level against its target (at most 100 %).
            formula = (LEVEL_CEILING_FORMULA if level.measure_kind == KIND_CEILING or level.comparator == "≤"
                       else LEVEL_RATE_FORMULA)
        return _PLACEHOLDER.sub(ref, formula)

    def add_checks(self, spec: SheetSpec, layout: SheetLayout) -> None:
        """Terms for the self-check banner: blank required inputs and invalid values on this sheet."""
        q = "'" + spec.sheet.replace("'", "''") + "'!"
        indicator_rows = [s.row for s in layout.rows if s.indicator is not None]
        runs = _runs(indicator_rows)
        plist = self.job.projects

        def kind(slot) -> str:
            ind = plist.indicator(slot.project, slot.indicator)
            return ind.measure_kind if ind is not None and ind.one_value else KIND_COUNT

        # A level's 本期完成值 holds a label and a node's its completion date (a date validation of its own):
        # neither required nor text to be counted; a node's 累计完成值 is 是/否 (text by design).
        count_runs = _runs([s.row for s in layout.rows if s.indicator is not None and kind(s) == KIND_COUNT])
        number_runs = _runs([s.row for s in layout.rows if s.indicator is not None and kind(s) != KIND_MILESTONE])
        for c, col in enumerate(spec.columns):
            if not col.is_input:
                continue
            letter = xl_col_to_name(c)
            if col.scope == "indicator":
                col_runs = count_runs if col.key in LEVEL_UNUSED else runs
                ranges = [f"{q}{letter}{a + 1}:{letter}{b + 1}" for a, b in col_runs]
                numeric = [f"{q}{letter}{a + 1}:{letter}{b + 1}" for a, b in
                           (count_runs if col.key in LEVEL_UNUSED else number_runs)]
            else:
                ranges = [f"{q}{letter}{s.row + 1}" for s in layout.rows if s.first]
                numeric = ranges
            if col.required:
                self.required += ranges
            for rng in ranges:
                if col.is_numeric:
                    if rng in numeric:
                        self.invalid.append(f"SUMPRODUCT(--ISTEXT({rng}))")
                    self.invalid.append(f'COUNTIF({rng},"<0")')
                if col.type == "percent":
                    self.invalid.append(f'COUNTIF({rng},">100")')
                if col.type == "status":
                    choices = ",".join(f'"{s}"' for s in STATUSES)
                    self.invalid.append(f'SUMPRODUCT(--({rng}<>""),--ISNA(MATCH({rng},{{{choices}}},0)))')
            for rng in numeric if col.is_numeric else ():
                if rng not in ranges:  # a run split by a node's 是/否 cell
                    self.invalid.append(f"SUMPRODUCT(--ISTEXT({rng}))")
        # Cumulative below last period's cumulative is a mistake a unit can see for itself.
        if spec.column("cumulative") and spec.column("last_cumulative"):
            cum, last = xl_col_to_name(spec.index("cumulative")), xl_col_to_name(spec.index("last_cumulative"))
            for a, b in runs:
                # A negative value is already counted as invalid above: count it once.
                rng = f"{q}{cum}{a + 1}:{cum}{b + 1}"
                self.invalid.append(f"SUMPRODUCT(--ISNUMBER({rng}),--({rng}>=0),"
                                    f"--({rng}<{q}{last}{a + 1}:{last}{b + 1}))")

    # -- instructions sheet
    def _due_text(self) -> str:
        return cn_date(self.job.period.due(self.job.config.due_day))

    def write_info(self, ws) -> None:
        job, fmt, cfg = self.job, self.fmt, self.job.config
        ws.set_column(0, 0, 22)
        ws.set_column(1, 1, 30)
        ws.set_column(2, 8, 12)
        ws.set_column(CHECK_COL, CHECK_COL + 1, 8, None, {"hidden": True})
        info = job.spec.info_sheet
        ws.merge_range(0, 0, 0, 8, self.framed(info, 0, 0, f"{cfg.full_title}进度填报表"), fmt("title", font_size=18))
        ws.set_row(0, 36)
        ws.merge_range(1, 0, 1, 8, self.framed(info, 1, 0, f"填报单位：{job.unit}"),
                       fmt("subtitle", font_name=FONT_HEAD, font_size=14))
        ws.merge_range(2, 0, 2, 8, self.framed(info, 2, 0, f"报送期：{job.period.label}（{job.period.cutoff(job.config.due_day)}）　　"
                                               f"报送截止：{self._due_text()}"),
                       fmt("subtitle", font_size=12))
        # Fields block (填报人, 联系电话, …)
        ws.merge_range(FIELDS_ROW - 1, 0, FIELDS_ROW - 1, 1,
                       self.framed(info, FIELDS_ROW - 1, 0, "一、填报单位信息（黄色单元格必填项请填写完整）"),
                       fmt("subtitle", font_name=FONT_HEAD, font_size=12))
        for k, field in enumerate(job.spec.fields):
            r = FIELDS_ROW + k
            label = field.heading + ("（必填）" if field.required else "")
            ws.write_string(r, 0, self.framed(info, r, 0, label), self.locked_fmt())
            col = Column(key=field.key, heading=field.heading, scope="project", role="input", type=field.type,
                         required=field.required)
            filled = (job.filled_fields or {}).get(field.key)
            if isinstance(filled, dt.date):
                ws.write_datetime(r, 1, dt.datetime.combine(filled, dt.time()), self.input_fmt(field.type))
            elif filled is not None:
                ws.write_string(r, 1, safe_text(filled), self.input_fmt(field.type))
            else:
                ws.write_blank(r, 1, None, self.input_fmt(field.type))
            ws.data_validation(r, 1, r, 1, _validation(col, job.period))
            ws.set_row(r, 24)
            cell = xl_rowcol_to_cell(r, 1)
            self.field_cells[field.key] = cell
            q = "'" + job.spec.info_sheet.replace("'", "''") + "'!"
            if field.required:
                self.required.append(q + cell)
        r = FIELDS_ROW + len(job.spec.fields) + 1
        ws.merge_range(r, 0, r, 8, self.framed(info, r, 0, "二、填报说明"), fmt("subtitle", font_name=FONT_HEAD, font_size=12))
        for k, line in enumerate(self._instructions(), start=1):
            ws.merge_range(r + k, 0, r + k, 8, self.framed(info, r + k, 0, line), fmt("plain"))
            ws.set_row(r + k, row_height([(line, 150)], minimum=20))
        # Self-check banner: counts in hidden helper cells, coloured by conditional formatting.
        missing = "+".join(f"COUNTBLANK({x})" for x in self.required) or "0"
        invalid = "+".join(self.invalid) or "0"
        n_required = self._required_count()
        ws.write_formula(0, CHECK_COL, f"={missing}", None, n_required)
        ws.write_formula(1, CHECK_COL, f"={invalid}", None, 0)
        m, i = f"${xl_col_to_name(CHECK_COL)}$1", f"${xl_col_to_name(CHECK_COL)}$2"
        # Only what is wrong is named: "还有3项必填内容未填写", not "…，0项填写有误".
        banner = (f'=IF({m}+{i}=0,"✔ 自检通过：必填项已全部填写，可以报送。","✘ 自检未通过："'
                  f'&IF({m}>0,"还有"&{m}&"项必填内容未填写","")&IF(AND({m}>0,{i}>0),"，","")'
                  f'&IF({i}>0,{i}&"项填写有误","")&"。请补充或改正黄色单元格后再报送。")')
        banner_fmt = fmt("title", font_name=FONT_HEAD, font_size=13, bold=True, font_color="#FFFFFF",
                         bg_color="#C00000", text_wrap=True, border=1)
        ws.merge_range(BANNER_ROW, 0, BANNER_ROW, 8, None, banner_fmt)
        ws.write_formula(BANNER_ROW, 0, banner, banner_fmt,
                         f"✘ 自检未通过：还有{n_required}项必填内容未填写。请补充或改正黄色单元格后再报送。"
                         if n_required else "✔ 自检通过：必填项已全部填写，可以报送。")
        ws.conditional_format(BANNER_ROW, 0, BANNER_ROW, 8, {
            "type": "formula", "criteria": f"={m}+{i}=0",
            "format": self.wb.add_format({"bg_color": "#00B050", "font_color": "#FFFFFF"})})
        ws.set_row(BANNER_ROW, 40)
        print_setup(ws, landscape=True)
        ws.protect(job.config.sheet_password, {"select_locked_cells": True, "select_unlocked_cells": True})
        ws.activate()

    def _required_count(self) -> int:
        total = 0
        for ref in self.required:
            rng = ref.split("!")[-1]
            if ":" in rng:
                a, b = rng.split(":")
                total += int(re.sub(r"\D", "", b)) - int(re.sub(r"\D", "", a)) + 1
            else:
                total += 1
        return total

    def _instructions(self) -> list[str]:
        cfg = self.job.config
        contact = "，".join(x for x in (cfg.contact, cfg.phone, cfg.email) if x)
        return [
            "1. 黄色单元格为填报项，灰色单元格为下发内容（已锁定，请勿改动）。请不要插入或删除行列、修改工作表名称。",
            "2. “本期完成值”填本报送期内新完成的数量，“累计完成值”填年初至本期末累计完成的数量，只填数字，不带单位；"
            "累计完成值应等于“上期累计”加“本期完成值”。",
            "3. “总体进度(%)”填项目整体完成的百分比（0–100 的数字）。状态：未启动＝尚未开工；推进中＝已启动尚未完成；"
            "已完成＝全部目标任务已完成（总体进度应为 100）。",
            "4. “进展情况”写明本期做了什么、完成了多少（不少于 15 个字）；“存在问题”“下步计划”据实填写，没有可填“无”。",
            f"5. 填写完成后，请确认本页上方的自检提示变为绿色，经分管负责人审核后，于{self._due_text()}前报送{cfg.office}。",
            f"6. 联系方式：{cfg.office}" + (f"（{contact}）" if contact else "") + "。请直接回传本文件，文件名可保留原样。",
        ]


def _json_value(value: object) -> object:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _runs(rows: Sequence[int]) -> list[tuple[int, int]]:
    """Contiguous runs of row numbers: [3,4,5,8] → [(3,5),(8,8)]."""
    out: list[tuple[int, int]] = []
    for r in rows:
        if out and out[-1][1] == r - 1:
            out[-1] = (out[-1][0], r)
        else:
            out.append((r, r))
    return out


def build_workbook(job: WorkbookJob) -> bytes:
    """The workbook for one unit and period, as xlsx bytes (pure: no file I/O)."""
    return _Builder(job).build()


_SHARED: dict[str, object] = {}


def _init_worker(shared: dict[str, object], parent: int | None = None) -> None:
    if parent is not None:  # a pool worker: it ends with its parent; Ctrl-C and a closed terminal are the parent's
        import signal

        from .sandbox import die_with_parent

        die_with_parent(parent)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if hasattr(signal, "SIGHUP"):
            signal.signal(signal.SIGHUP, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # The project list, spec and secret reach each worker once, not with every task.
    _SHARED.clear()
    _SHARED.update(shared)


def _build_and_save(task: tuple[str, dict, str]) -> tuple[str, str]:
    unit, previous, path = task
    sh = _SHARED
    job = WorkbookJob(unit, sh["period"], sh["config"], sh["projects"], sh["spec"], sh["secret"],  # type: ignore[arg-type]
                      sh["workspace_id"], sh["issued_at"], previous)  # type: ignore[arg-type]
    data = build_workbook(job)
    # Not fsync'ed: an outbox workbook can always be generated again; the rename still makes it all-or-nothing.
    atomic_write_bytes(Path(path), data, durable=False)
    return unit, hashlib.sha256(data).hexdigest()


def generate_workbooks(ctx: Context, period: Period, units: Sequence[str] | None = None, out: Path | None = None,
                       *, issued_at: str | None = None, previous: Mapping[str, PreviousValues] | None = None,
                       progress: Callable[[int], None] | None = None, processes: int | None = None
                       ) -> GenerateResult:
    """Write the report workbook of every unit that leads or co-leads a project (or only ``units``).

    ``previous`` maps unit → {(sheet kind, row key): last cumulative}; by default it comes from the store.
    Many workbooks are built in a pool of worker processes (xlsxwriter is CPU-bound).
    """
    plist = ctx.projects
    wanted = _resolve_units(ctx, units) if units else list(plist.units)
    outdir = out or ctx.workspace.folder("outbox", period.slug)
    if period.year != ctx.config.year:
        raise ShixiangError(f"报送期 {period.label} 不属于工作区的年度 {ctx.config.year} 年。")
    issued = issued_at or dt.datetime.now().astimezone().isoformat(timespec="seconds")
    if previous is None:
        from .history import previous_cumulatives

        previous = previous_cumulatives(ctx.workspace, period, wanted)
    shared = {"period": period, "config": ctx.config, "projects": plist, "spec": ctx.spec,
              "secret": ctx.workspace.secret(), "workspace_id": ctx.workspace.workspace_id, "issued_at": issued}
    paths = {u: outdir / file_name(period, u) for u in wanted}
    tasks = [(u, dict(previous.get(u, {})), str(paths[u])) for u in wanted]
    outdir.mkdir(parents=True, exist_ok=True)
    digests: dict[str, str] = {}
    for unit, sha in _run(tasks, shared, processes):
        digests[unit] = sha
        if progress:
            progress(1)
    files = tuple(GeneratedFile(u, paths[u], digests[u], len(plist.led_by(u)), len(plist.co_led_by(u)))
                  for u in wanted)
    return GenerateResult(period, outdir, files)


def _run(tasks: list, shared: dict[str, object], processes: int | None) -> Iterable[tuple[str, str]]:
    n = processes if processes is not None else (2 if len(tasks) >= 40 else 1)
    if n <= 1:
        _init_worker(shared)
        yield from map(_build_and_save, tasks)
        return
    import multiprocessing
    import os

    from .sandbox import can_fork, hold_heap, release_heap

    method = "fork" if can_fork() else "spawn"
    hold_heap()  # forked workers: the collector leaves the inherited project list alone (no copies, no rescans)
    try:
        with multiprocessing.get_context(method).Pool(n, initializer=_init_worker,
                                                        initargs=(shared, os.getpid())) as pool:
            yield from pool.imap_unordered(_build_and_save, tasks, chunksize=16)
    finally:
        release_heap()


def _resolve_units(ctx: Context, names: Sequence[str]) -> list[str]:
    out: list[str] = []
    involved = set(ctx.projects.units)
    for name in names:
        res = ctx.directory.resolve(name)
        if not res.units:
            hint = f"您是否要找「{'」或「'.join(res.suggestions)}」？" if res.suggestions else ""
            raise ShixiangError(f"单位「{name}」不在单位名录中。{hint}")
        for u in res.units:
            if u.name not in involved:
                raise ShixiangError(f"「{u.name}」没有牵头或协办任何项目，无需生成填报表。")
            if u.name not in out:
                out.append(u.name)
    return out


