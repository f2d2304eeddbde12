"""``shixiang demo``: the whole cycle on the built-in example, in a new folder, saying where everything is.

generate → simulated returns (plausible values, a few faulty ones, one missing unit) → check → merge over two
periods → ledger (+PDF when LibreOffice is present) → status → survey.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from .findings import has_errors
from .period import Period
from .render import render_batch, render_ledger, render_projects, render_table
from .workspace import Context, init_workspace, load_context

if TYPE_CHECKING:
    from .tally import TallyResult

Echo = Callable[[str], None]
DEMO_SEED = 2026


def _stamp(path: Path, when: dt.datetime) -> None:
    ts = when.timestamp()
    os.utime(path, (ts, ts))


def simulate_period(ctx: Context, period: Period, *, missing: str = "", broken: str = "", sloppy: str = "",
                    late: str = "") -> list[Path]:
    """Write plausible filled returns into ``inbox/<period>/``; plant the named faults."""
    from .generate import file_name
    from .history import previous_cumulatives
    from .simulate import write_simulated_return

    inbox = ctx.workspace.folder("inbox", period.slug)
    inbox.mkdir(parents=True, exist_ok=True)
    previous = previous_cumulatives(ctx.workspace, period, ctx.projects.units)
    due = dt.datetime.combine(period.due(ctx.config.due_day), dt.time(17, 0))
    written = []
    for k, unit in enumerate(ctx.projects.units):
        if unit == missing:
            continue

        def tweak(values: dict, fields: dict, unit: str = unit) -> None:
            rows = [key for key in values if "-" in key[1] and key[0] == "lead"]
            if unit == broken and rows:
                values[rows[0]]["cumulative"] = None  # a required number left empty: an error
                fields["phone"] = "12345"
            if unit == sloppy and rows:
                values[rows[-1]]["cumulative"] = f"约{values[rows[-1]]['cumulative']:g}"  # text in a number cell
                project = next(key for key in values if "-" not in key[1] and key[0] == "lead")
                values[project]["progress_text"] = "按计划推进。"

        name = file_name(period, unit)
        if unit == sloppy:
            name = name.replace(".xlsx", "（最终版）.xlsx")  # units rename files; any name works
        path = write_simulated_return(ctx, unit, period, inbox / name, seed=DEMO_SEED,
                                      previous=previous.get(unit), tweak=tweak)
        _stamp(path, due + dt.timedelta(days=3) if unit == late else due - dt.timedelta(days=3, hours=k))
        written.append(path)
    return written


DEMO_CEILING = ("院前急救平均响应时间", 12.0, "分钟")


def _with_demo_ceiling(ctx: Context) -> Context:
    """The demo's list with one ceiling (上限) indicator added to project 1, written to 项目清单.xlsx as a clerk
    would add it, so that the demo shows each kind of indicator handled as such."""
    import dataclasses

    from .projects import Indicator, ProjectList, write_project_list

    projects = list(ctx.projects.projects)
    first = projects[0]
    name, target, unit = DEMO_CEILING
    extra = Indicator(project=first.number, number=len(first.indicators) + 1, name=name, target=target, unit=unit,
                      comparator="≤", note="演示：督查室补充的考核指标（上限类）")
    projects[0] = dataclasses.replace(first, indicators=first.indicators + (extra,))
    write_project_list(ctx.workspace.project_list_path, ProjectList(tuple(projects)))
    return load_context(ctx.workspace.root)


def run_demo(directory: Path | None, echo: Echo) -> Path:
    """Run every stage on the built-in 2026 example in ``directory`` (default: a new ``demo-<time>`` folder)."""
    from .batch import check_returns
    from .generate import generate_workbooks
    from .merge import merge_returns
    from .status import report_status

    root = directory or Path.cwd() / f"demo-{dt.datetime.now():%Y%m%d-%H%M%S}"
    echo(f"== 1. 创建工作区：{root}")
    init_workspace(root, "yanzhou-2026")
    ctx = _with_demo_ceiling(load_context(root))
    echo("   shixiang.toml、项目清单.xlsx、单位名录.xlsx 和 outbox/ inbox/ archive/ feedback/ reports/ 已就绪。")
    echo("")
    echo("== 2. 项目清单（已校验，单位已按名录解析，各镇街已展开）")
    echo(f"   演示：在第1号项目中补充一项上限类考核指标“{DEMO_CEILING[0]}≤{DEMO_CEILING[1]:g}{DEMO_CEILING[2]}”。")
    echo(render_projects(ctx.projects, ctx.directory))
    kinds = [(i.key, i.name, i.target_text, i.measure_kind) for i in ctx.projects.indicators if i.is_level]
    echo("   比率、上限类指标（填当前值，不累加）：" + "；".join(f"{k} {n}（{t}，{kind}）" for k, n, t, kind in kinds))
    for f in ctx.findings:
        echo("   " + f.line())
    if has_errors(ctx.findings):
        echo("   项目清单有错误，演示到此为止。")
        return root

    feb, mar = Period.parse(f"{ctx.config.year}-02"), Period.parse(f"{ctx.config.year}-03")
    echo("")
    echo(f"== 3. 生成 {feb.label} 填报表，模拟各单位按时报回，汇总")
    result = generate_workbooks(ctx, feb)
    echo(f"   已生成 {len(result.files)} 份填报表：{result.outdir}")
    simulate_period(ctx, feb)
    merged = merge_returns(ctx, feb)
    echo(f"   {feb.label}台账：{merged.ledger_path}")

    echo("")
    echo(f"== 4. 生成 {mar.label} 填报表（“上期累计”已预填 {feb.label} 数据）")
    result = generate_workbooks(ctx, mar)
    rows = [[i, f.unit, f.lead_projects, f.co_projects, f.path.name] for i, f in enumerate(result.files, start=1)]
    echo(render_table(["序号", "单位", "牵头项目", "协办项目", "文件"], rows, max_width=80))
    echo(f"   输出文件夹：{result.outdir}")
    _send_dry_run(ctx, mar, echo)

    units = ctx.projects.units
    lead_units = [u for u in units if ctx.projects.led_by(u)]
    missing, broken, sloppy, late = lead_units[4], lead_units[7], lead_units[1], lead_units[8]
    echo("")
    echo(f"== 5. 模拟 {mar.label} 报回：{missing} 未报送，{broken} 漏填必填项，{sloppy} 在数字格里写了文字、"
         f"进展写得过简，{late} 逾期报送")
    simulate_period(ctx, mar, missing=missing, broken=broken, sloppy=sloppy, late=late)
    run = check_returns(ctx, None, mar)
    echo("")
    echo(f"== 6. 校验（shixiang check --period {mar.slug}）")
    echo(render_batch(run.batch))
    echo(f"   校验报告：{run.report}")
    for unit, path in run.feedback.items():
        echo(f"   退回修改标注件（{unit}）：{path}")

    echo("")
    echo(f"== 7. 汇总生成台账（shixiang merge --period {mar.slug} --pdf）")
    from .office import soffice_path

    pdf = soffice_path() is not None
    merged = merge_returns(ctx, mar, pdf=pdf)
    echo(render_ledger(merged.ledger))
    echo(f"   台账：{merged.ledger_path}")
    echo(f"   台账 PDF：{merged.pdf_path}" if merged.pdf_path else "   （本机未安装 LibreOffice，跳过 PDF。）")

    echo("")
    echo(f"== 8. 报送情况（shixiang status --period {mar.slug} --xlsx）")
    report = report_status(ctx, mar, xlsx=True)
    echo(f"   {report.figures.sentence()}")
    echo("   需催报的单位：" + "、".join(f"{u.unit}（{u.state}）" for u in report.chase))
    echo(f"   催报名单：{report.xlsx}")
    _survey(ctx, echo)
    _reports(ctx, mar, echo)
    echo("")
    echo(f"演示完成。工作区：{root}")
    echo(f"在浏览器中打开：shixiang -w {root} serve（Windows 下也可双击该文件夹中的 启动实事通.bat）")
    return root


def _send_dry_run(ctx: Context, period: Period, echo: Echo) -> None:
    from .send import send_workbooks

    echo("")
    echo(f"== 4b. 邮件下发预览（shixiang send --period {period.slug}，不加 --yes 时只预览）")
    result = send_workbooks(ctx, period)
    for line in result.preview_lines()[:8]:
        echo("   " + line)


def _survey(ctx: Context, echo: Echo) -> None:
    echo("")
    echo("== 9. 年终满意度测评（shixiang survey ballots / tally）")
    demo_survey(ctx, echo)


def demo_survey(ctx: Context, echo: Echo, *, count: int = 30, seed: int = 2026) -> TallyResult:
    """The survey in the demo: ballots, two clerks' entries with one disagreement, its correction, the tally."""
    import random

    from . import office
    from .ballots import CHOICES, DROPDOWN, make_ballots, survey_items, survey_title, write_entry_workbook
    from .findings import Severity
    from .tally import tally_survey

    with_pdf = office.soffice_path() is not None
    made = make_ballots(ctx, count, pdf=with_pdf)
    echo(f"   测评票 {made.count} 张（每张一页 A4）：{made.ballots}")
    if made.pdf:
        echo(f"   测评票 PDF（可直接打印）：{made.pdf}")
    echo(f"   录入表（发给两名录入员）：{made.entry}")
    rng = random.Random(seed)
    items = survey_items(ctx)
    weights = (0.72, 0.2, 0.05, 0.03)
    entries: dict[int, list[str]] = {}
    for number in range(made.first, made.last + 1):
        if rng.random() < 0.1:
            continue  # this deputy's ballot did not come back
        entries[number] = [rng.choices(DROPDOWN, weights)[0] for _ in items]
    # One deputy ticked two boxes for the last project: clerks enter it as it is and it becomes invalid.
    shown_ballot = min(entries)
    entries[shown_ballot][-1] = "满意、基本满意"
    inbox = ctx.workspace.folder("inbox") / f"{ctx.config.year}年满意度测评"
    clerk_a, clerk_b = inbox / "录入表-张敏.xlsx", inbox / "录入表-李华.xlsx"
    write_entry_workbook(ctx, clerk_a, made.first, made.last, entries=entries, clerk="张敏")
    slip_ballot = sorted(entries)[len(entries) // 2]
    slipped = {k: list(v) for k, v in entries.items()}
    slip_item = rng.randrange(len(items))
    right = slipped[slip_ballot][slip_item]
    slipped[slip_ballot][slip_item] = next(c for c in CHOICES if c != right)
    write_entry_workbook(ctx, clerk_b, made.first, made.last, entries=slipped, clerk="李华")
    echo(f"   两名录入员分别录入了收回的 {len(entries)} 张票：{clerk_a.name}、{clerk_b.name}（在 {inbox}）")
    first = tally_survey(ctx, [clerk_a, clerk_b])
    for d in (first.tally.unresolved if first.tally else ()):
        echo(f"   比对发现不一致：第 {d.ballot} 号票「{d.item_name}」：{d.describe()}")
    if first.check_path:
        echo(f"   核对清单：{first.check_path}；计票暂停，等待核对纸质票。")
    echo(f"   核对纸质票后，{clerk_b.name} 改正了录错的一项（也可以用 --prefer {clerk_a.name} 以另一份为准）。")
    write_entry_workbook(ctx, clerk_b, made.first, made.last, entries=entries, clerk="李华")
    result = tally_survey(ctx, [clerk_a, clerk_b])
    for f in result.findings:
        if f.severity is not Severity.INFO:
            echo("   " + f.line())
    echo(result.summary(survey_title(ctx)))
    return result


def _reports(ctx: Context, period: Period, echo: Echo) -> None:
    from .report import write_reports

    echo("")
    echo(f"== 10. 公文草稿（shixiang report --period {period.slug}）")
    for path in write_reports(ctx, period).paths:
        echo(f"   {path}")
