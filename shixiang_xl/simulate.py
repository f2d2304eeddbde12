"""Plausible filled returns, for the demo, the tests and the benchmark (never for real data).

Values follow the schedule: each indicator's cumulative value is near its target times the expected progress,
with a deterministic random spread, so that some projects come out ahead and some lag.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from pathlib import Path

from .generate import WorkbookJob, build_workbook, file_name
from .layout import unit_layouts
from .measures import KIND_CEILING, KIND_MILESTONE, completion, is_count
from .period import Period, expected_progress
from .projects import Indicator, ProjectList
from .spec import TemplateSpec
from .workspace import Context
from .xlsxout import atomic_write_bytes

PROGRESS_TEXTS = (
    "本期召开专题推进会议，细化任务分工和时间节点，已完成{done}，正在按计划推进后续工作，整体进展顺利。",
    "组织相关科室和镇街开展实地调度，逐项核对任务清单，本期新增完成{done}，资金已按进度拨付到位。",
    "按照实施方案倒排工期、挂图作战，本期完成{done}，对发现的问题已现场交办并限期整改。",
)
PROBLEMS = ("无", "部分项目审批手续办理周期较长，影响开工进度。", "个别点位群众意见不统一，正在做好沟通解释。")
NEXT_STEPS = ("加快推进剩余任务，确保按期完成。", "加强调度督导，每周通报进展。", "协调解决难点问题，争取提前完成。")


def simulated_values(plist: ProjectList, unit: str, period: Period, rng: random.Random, *, seed: int = 0,
                     factor: float = 1.0, spec: TemplateSpec | None = None,
                     previous: dict[tuple[str, str], float] | None = None
                     ) -> dict[tuple[str, str], dict[str, object]]:
    """Input values for every row a unit reports: (sheet kind, row key) → column key → value."""
    from .spec import load_spec

    spec = spec or load_spec()
    previous = previous or {}
    out: dict[tuple[str, str], dict[str, object]] = {}
    for sheet, layout, blocks in unit_layouts(spec, unit, plist):
        for block in blocks:
            expected = expected_progress(block.project, period.end_month)
            # The pace belongs to the project (lead and co-units see the same one), so co-units' shares add up.
            project_rng = random.Random(f"{seed}:{block.project.key}:{period.slug}")
            pace = min(1.0, max(0.0, expected / 100 * factor * project_rng.uniform(0.7, 1.25)))
            done_parts = []
            rates: list[float] = []
            for ind in block.indicators:
                if ind is None:
                    continue
                if ind.measure_kind == KIND_MILESTONE:  # a node: done (是) once the project is nearly through
                    done_node = pace >= 0.9
                    out[(sheet.kind, ind.key)] = {"cumulative": "是" if done_node else "否"}
                    if done_node:  # with its completion date, as the form asks
                        out[(sheet.kind, ind.key)]["current"] = dt.date(period.year, period.end_month, 10).isoformat()
                    rates.append(1.0 if done_node else 0.0)
                    continue
                if ind.is_level:  # a level (比率, 上限): its current value near the target, never added up
                    level = _simulated_level(ind, project_rng)
                    out[(sheet.kind, ind.key)] = {"cumulative": level}
                    done_parts.append(f"{ind.name}{level:g}{ind.unit}")
                    rate = completion(ind.measure_kind, ind.target, ind.comparator, level)
                    rates.append(min(1.0, rate) if rate is not None else pace)
                    continue
                last = previous.get((sheet.kind, ind.key), 0.0)
                cum = max(last, _simulated_cumulative(ind, block.project.co_units, unit, sheet.kind, pace))
                out[(sheet.kind, ind.key)] = {"current": round(cum - last, 2), "cumulative": cum}
                rate = completion(ind.measure_kind, ind.target, ind.comparator, cum)
                rates.append(min(1.0, rate) if rate is not None else pace)
                done_parts.append(f"{ind.name}{cum:g}{ind.unit}")
            # 总体进度 as a unit would judge it: the mean completion of its indicators (the schedule's pace without)
            progress = round(sum(rates) / len(rates) * 100) if rates else round(pace * 100)
            met = all(r >= 1 - 1e-9 for r in rates) if rates else progress >= 100
            progress = 100 if met else min(progress, 99)
            status = "已完成" if met else ("未启动" if progress == 0 else "推进中")
            done = "、".join(done_parts[:3]) or "阶段性任务"
            text = f"{period.label}：" + rng.choice(PROGRESS_TEXTS).format(done=done)
            row = {"progress_text": text, "problems": rng.choice(PROBLEMS)}
            if sheet.kind == "lead":
                row.update(progress=progress, status=status, next_steps=rng.choice(NEXT_STEPS))
            out[(sheet.kind, block.project.key)] = row
    return out


def _simulated_level(ind: Indicator, rng: random.Random) -> float:
    """A level's current value: around its target (a ceiling mostly within it), at most 100 for a percentage."""
    if ind.measure_kind == KIND_CEILING or ind.comparator == "≤":
        value = ind.target * rng.uniform(0.75, 1.05)
    else:
        value = ind.target * rng.uniform(0.93, 1.04)
    if ind.unit in ("%", "％"):
        value = min(100.0, value)
    return round(value, 1)


def _simulated_cumulative(ind: Indicator, co_units: tuple[str, ...], unit: str, kind: str, pace: float) -> float:
    """The cumulative figure at ``pace``: whole for counted things (家, 处, 人次), two decimals otherwise; a co-unit's
    share is its part of the lead's figure, whole shares adding up to the whole."""
    if not is_count(ind.unit):
        share = 1.0 if kind == "lead" else 1 / max(1, len(co_units))
        return round(ind.target * share * pace, 2)
    whole = math.floor(ind.target * pace + 0.5)
    if kind == "lead":
        return float(whole)
    n, k = max(1, len(co_units)), co_units.index(unit) if unit in co_units else 0
    return float(whole * (k + 1) // n - whole * k // n)


def write_simulated_return(ctx: Context, unit: str, period: Period, path: Path, *, seed: int = 0,
                           factor: float = 1.0, issued_at: str | None = None,
                           previous: dict[tuple[str, str], float] | None = None,
                           tweak=None) -> Path:
    """Write one filled return for ``unit`` (``tweak(values, fields)`` may plant faults)."""
    rng = random.Random(f"{seed}:{unit}:{period.slug}")
    values = simulated_values(ctx.projects, unit, period, rng, seed=seed, factor=factor, spec=ctx.spec,
                              previous=previous)
    directory = {u.name: u for u in ctx.directory.units}
    d = directory.get(unit)
    fields: dict[str, object] = {"reporter": d.contact if d and d.contact else "张明", "phone": "13905371234",
                                 "reviewer": "李华", "report_date": period.due(ctx.config.due_day) - dt.timedelta(days=2)}
    if tweak is not None:
        tweak(values, fields)
    job = WorkbookJob(unit, period, ctx.config, ctx.projects, ctx.spec, ctx.workspace.secret(),
                      ctx.workspace.workspace_id, issued_at or f"{period.start.isoformat()}T09:00:00+08:00",
                      dict(previous or {}), filled=values, filled_fields=fields)
    atomic_write_bytes(path, build_workbook(job))
    return path


def simulated_name(period: Period, unit: str) -> str:
    return file_name(period, unit)

