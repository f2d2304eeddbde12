"""The command line. The only module that imports click: each command parses options, calls one library
function, and renders its result. Heavy libraries are imported inside the commands so ``--help`` stays fast."""

from __future__ import annotations

import difflib
import json
import re
import sqlite3
import sys
import unicodedata
from pathlib import Path

import click

from .errors import ShixiangError
from .render import render_batch, render_ledger, render_projects, render_table


HELP_TEXT = "显示本帮助并退出。"


class _Formatter(click.HelpFormatter):
    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{heading}：\n")


class _Context(click.Context):
    formatter_class = _Formatter


class _Chinese:
    """Click's own words in Chinese (用法, 选项, 命令, the help option), through click's public hooks."""

    context_class = _Context

    def get_help_option(self, ctx: click.Context):
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.help = HELP_TEXT
        return option

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        pieces = self.collect_usage_pieces(ctx)  # type: ignore[attr-defined]
        formatter.write_usage(ctx.command_path, " ".join(pieces), prefix="用法：")

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        records = [_chinese_record(r) for p in self.get_params(ctx)  # type: ignore[attr-defined]
                   if not isinstance(p, click.Argument) and (r := p.get_help_record(ctx)) is not None]
        if records:
            with formatter.section("选项"):
                _write_dl(formatter, records)
        if isinstance(self, click.Group):
            self.format_commands(ctx, formatter)


_METAVARS = {"TEXT": "文字", "FLOAT": "数字", "INTEGER RANGE": "整数", "INTEGER": "整数", "DIRECTORY": "文件夹",
             "FILE": "文件", "PATH": "路径"}
_METAVAR = re.compile("|".join(rf"\b{m}\b" for m in _METAVARS))


def _chinese_record(record: tuple[str, str]) -> tuple[str, str]:
    """An option's help line with click's English extras and type names in Chinese."""
    names, text = record
    text = re.sub(r"\s*\[required\]", "（必填）", text)
    text = re.sub(r"\s*\[default: ([^\]]*)\]", r"（默认：\1）", text)
    text = re.sub(r"\s*\[(\S+)<=x<=(\S+)\]", r"（\1–\2）", text)
    return _METAVAR.sub(lambda m: _METAVARS[m.group(0)], names), text


def _width(text: str) -> int:
    """Columns a text takes in a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _write_dl(formatter: click.HelpFormatter, rows: list[tuple[str, str]]) -> None:
    """Two aligned columns, measured as a terminal shows Chinese (click's own measure counts characters)."""
    first = min(30, max(_width(a) for a, _ in rows)) + 2
    for a, b in rows:
        pad = first - _width(a)
        line = f"{a}{' ' * pad}{b}" if pad > 0 else f"{a}\n{' ' * (first + formatter.current_indent)}{b}"
        formatter.write(f"{'':>{formatter.current_indent}}{line}\n")


class _Command(_Chinese, click.Command):
    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("options_metavar", "[选项]")
        super().__init__(*args, **kwargs)


def _error(message: str) -> click.ClickException:
    error = click.ClickException(message)
    error.exit_code = 2
    return error


class _Group(_Chinese, click.Group):
    """The ``shixiang`` command: Chinese usage, help and errors; :class:`ShixiangError` (work cannot continue),
    faults around the work (a damaged or locked store, a full disk) and a stop (Ctrl-C, SIGTERM, a closed
    terminal) turned into a clean Chinese message, in this one place."""

    command_class = _Command
    group_class = type  # subgroups (survey) are Chinese too

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("options_metavar", "[选项]")
        kwargs.setdefault("subcommand_metavar", "命令 [参数]...")
        super().__init__(*args, **kwargs)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, cmd.get_short_help_str(limit=60)) for name in self.list_commands(ctx)
                if (cmd := self.get_command(ctx, name)) is not None and not cmd.hidden]
        if rows:
            with formatter.section("命令"):
                _write_dl(formatter, rows)

    def resolve_command(self, ctx: click.Context, args: list[str]):
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            close = difflib.get_close_matches(name, self.list_commands(ctx), n=1)
            hint = f"是不是要用「{close[0]}」？" if close else ""
            raise click.UsageError(f"没有「{name}」这个命令。{hint}", ctx)
        return super().resolve_command(ctx, args)

    def invoke(self, ctx: click.Context):
        from .sandbox import Stopped, saved, stop_on_signals

        try:
            with stop_on_signals():
                return super().invoke(ctx)
        except ShixiangError as exc:
            raise _error(str(exc))
        except (OSError, sqlite3.Error) as exc:
            from .faults import explain
            from .workspace import DB_FILE

            problem = explain(exc, Path(ctx.obj["workspace"] if ctx.obj else ".") / DB_FILE)
            if problem is None:
                raise
            raise _error(str(problem)) from exc
        except KeyboardInterrupt as exc:
            signum = exc.signum if isinstance(exc, Stopped) else 2
            if saved():
                click.echo("\n已中止：中止前本次结果已保存到数据库；未写完的文件、临时文件和后台进程已清除，收到的原始"
                           "文件和存档都完好。请重新运行一次，补齐未写完的文件。", err=True)
            else:
                click.echo("\n已中止：本次未完成的修改已撤销，临时文件和后台进程已清除；收到的原始文件、存档、数据库和"
                           "上次的台账都完好。需要时请重新运行。", err=True)
            ctx.exit(128 + signum)

    def main(self, args=None, prog_name=None, **extra):  # type: ignore[override]
        """Run with click's own error printing replaced by Chinese messages (exit codes as click's)."""
        extra.pop("standalone_mode", None)
        _tolerant_console()
        try:
            result = super().main(args, prog_name, standalone_mode=False, **extra)
        except click.exceptions.Abort:
            click.echo("已取消。", err=True)
            sys.exit(1)
        except click.UsageError as exc:
            if exc.ctx is not None:
                click.echo(exc.ctx.get_usage(), err=True)
                path = exc.ctx.command_path
                click.echo(f"运行「{path} -h」查看用法。", err=True)
            click.echo(f"错误：{_usage_message(exc)}", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            click.echo(f"错误：{exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        sys.exit(result if isinstance(result, int) else 0)


def _tolerant_console() -> None:
    """A console that cannot show a character (a GBK console and a unit's file name with "›" or an emoji) shows
    "?" for it instead of stopping the command half-way; files are always UTF-8 and unaffected."""
    for stream in (sys.stdout, sys.stderr):
        if getattr(stream, "errors", None) == "strict" and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")


def _param_name(param: click.Parameter | None, hint: object = None) -> str:
    if hint:
        return " / ".join(hint) if isinstance(hint, (list, tuple)) else str(hint)
    if param is None:
        return ""
    if isinstance(param, click.Option):
        return " / ".join(param.opts)
    return (param.human_readable_name or "").upper()


_BAD_VALUE = ((re.compile(r"does not exist"), "不存在"), (re.compile(r"is a directory"), "是文件夹，这里要的是文件"),
              (re.compile(r"is a file"), "是文件，这里要的是文件夹"),
              (re.compile(r"is not a valid (float|integer)"), "不是有效的数字"),
              (re.compile(r"is not (one of|in the range)"), "不在可选范围内"))


def _usage_message(exc: click.UsageError) -> str:
    """A usage error in Chinese: what was wrong, and with which option or argument."""
    if isinstance(exc, click.NoSuchOption):
        close = f"是不是要用 {'、'.join(exc.possibilities)}？" if exc.possibilities else ""
        return f"没有 {exc.option_name} 这个选项。{close}"
    if isinstance(exc, click.MissingParameter):
        kind = "参数" if isinstance(exc.param, click.Argument) else "选项"
        return f"缺少{kind} {_param_name(exc.param, exc.param_hint)}。"
    if isinstance(exc, click.BadOptionUsage):
        return f"选项 {exc.option_name} 的用法不对（后面要跟一个值吗？）。"
    if isinstance(exc, click.BadParameter):
        why = next((cn for pattern, cn in _BAD_VALUE if pattern.search(exc.message)), "")
        shown = f"：{why}" if why else f"（{exc.message}）"
        return f"{_param_name(exc.param, exc.param_hint)} 的值不对{shown}。"
    message = exc.format_message()
    if re.search(r"[\u4e00-\u9fff]", message):
        return message
    return f"命令用法不对（{message}）。"


def _echo_findings(findings, err: bool = True) -> None:
    for f in findings:
        click.echo(f.line(), err=err)


def _context(ctx: click.Context):
    from .workspace import load_context

    return load_context(ctx.obj["workspace"])


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-w", "--workspace", type=click.Path(file_okay=False, path_type=Path), default=".",
              help="工作区文件夹（默认当前文件夹）。")
@click.version_option(package_name="shixiang-xl", help="显示版本并退出。")
@click.pass_context
def main(ctx: click.Context, workspace: Path) -> None:
    """实事通 shixiang-xl：为民办十件实事的填报、回收、校验、台账与测评工具。"""
    ctx.ensure_object(dict)
    ctx.obj["workspace"] = workspace


# ------------------------------------------------------------------ init


@main.command()
@click.argument("directory", metavar="文件夹", type=click.Path(file_okay=False, path_type=Path))
@click.option("--example", default="yanzhou-2026",
              help="内置示例：yanzhou-2026（默认）或 yanzhou-2024。")
@click.option("--from", "notice", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="从发布的通知（.docx/.md/.txt/.xlsx/.csv）导入项目清单。")
@click.option("--units", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="与 --from 同用：按这份单位名录.xlsx 解析单位（不给时，单位名录按通知中出现的单位新建）。")
@click.option("--blank", is_flag=True, help="创建空白工作区（项目清单和单位名录为空，自行填写）。")
@click.option("--district", default="", help="区县名称（通知中没有或识别不准时指定）。")
@click.option("--year", type=int, default=None, help="年度（通知中没有或识别不准时指定）。")
def init(directory: Path, example: str, notice: Path | None, units: Path | None, blank: bool, district: str,
         year: int | None) -> None:
    """创建工作区文件夹（配置、项目清单、单位名录和各文件夹）。"""
    from .workspace import init_workspace, load_context

    if units is not None and notice is None:
        raise click.UsageError("--units 只能与 --from 一起使用。")
    if blank and notice is not None:
        raise click.UsageError("--blank 与 --from 不能同时使用。")
    ws = init_workspace(directory, example=example, notice=notice, units=units, blank=blank, district=district,
                        year=year)
    click.echo(f"已创建工作区：{ws.root}")
    click.echo("  请先打开 shixiang.toml 核对区县名称、年度、督查室联系人，再核对 项目清单.xlsx 和 单位名录.xlsx。")
    if notice is not None or blank:
        _echo_init_notes(ws.root, notice, district, year)
    if notice is not None:
        problems = [f for f in load_context(ws.root).findings if f.is_error]
        if problems:
            click.echo(f"  从通知导入后还有 {len(problems)} 处需要补充（多为单位名录中尚无的单位或分组成员）：")
            _echo_findings(problems, err=False)
    click.echo(f"  然后运行：shixiang -w {ws.root} projects")


def _echo_init_notes(root: Path, notice: Path | None, district: str, year: int | None) -> None:
    """What init --from / --blank could not fill in: the projects, the place, the year, the towns of a group."""
    from .workspace import load_context

    c = load_context(root)
    found_district, found_year = "", None
    if notice is not None:
        from .notice import notice_particulars, read_notice

        found_district, found_year, _ = notice_particulars(read_notice(notice).text)
    if not c.projects.projects:
        what = f"没有从 {notice.name} 中识别出项目" if notice is not None else "空白工作区"
        click.echo(f"  {what}：项目清单.xlsx 为空，请按表头逐项填写（或用 shixiang import 另一份通知）。")
    if not district and not found_district:
        why = "未从通知中识别出区县名称，" if notice is not None else ""
        click.echo(f"  {why}shixiang.toml 中区县名称暂填“{c.config.district}”：请修改，或重新 init 并加 --district。")
    if year is None and found_year is None:
        why = "未从通知中识别出年度，" if notice is not None else ""
        click.echo(f"  {why}年度暂填 {c.config.year}：如不对，请在 shixiang.toml 中修改，或重新 init 并加 --year。")
    towns = [u.name for u in c.directory.units if not u.group and u.name.endswith(("镇", "乡", "街道"))]
    if towns and any(f.code == "unit-unknown" and "分组" in f.message for f in c.findings):
        click.echo(f"  通知中出现的镇街（{'、'.join(towns)}）已列入单位名录：请为它们和其余各镇街在「分组」列填写分组名，"
                   "“各镇街”才会展开为全部镇街。")


# ------------------------------------------------------------------ projects


@main.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              help="输出格式：table 表格（默认）或 json。")
@click.pass_context
def projects(ctx: click.Context, fmt: str) -> None:
    """显示项目清单（项目、指标、牵头和协办单位）；有误时列出全部问题并以 1 退出。"""
    from .findings import has_errors

    c = _context(ctx)
    if fmt == "json":
        click.echo(json.dumps(_projects_json(c.projects), ensure_ascii=False, indent=2))
    else:
        click.echo(render_projects(c.projects, c.directory))
    if c.findings:
        click.echo("", err=True)
        _echo_findings(c.findings)
    if has_errors(c.findings):
        click.echo(f"\n项目清单或单位名录有 {sum(f.is_error for f in c.findings)} 处错误，请按上面的提示修改。", err=True)
        sys.exit(1)


def _projects_json(plist) -> dict:
    return {"projects": [{"number": p.number, "name": p.name, "content": p.content, "lead": list(p.leads),
                          "co_units": list(p.co_units), "due_month": p.due_month,
                          "indicators": [{"name": i.name, "value": i.target, "unit": i.unit,
                                          "comparator": i.comparator, "split": i.split, "text": i.text,
                                          "kind": i.measure_kind}
                                         for i in p.indicators]} for p in plist.projects]}


# ------------------------------------------------------------------ import


@main.command(name="import")
@click.argument("notice", metavar="通知文件", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="把识别出的项目清单写入此文件（如 项目清单.xlsx）；不加则只显示识别结果。")
@click.option("--units", "units_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="用来解析单位名称的单位名录（默认：工作区中的 单位名录.xlsx）。")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              help="输出格式：table 表格（默认）或 json。")
@click.option("--force", is_flag=True, help="-o 指定的文件已存在时覆盖它。")
@click.option("--district", default="", help="区县名称（通知中没有或识别不准时指定）。")
@click.option("--year", type=int, default=None, help="年度（通知中没有或识别不准时指定）。")
@click.pass_context
def import_(ctx: click.Context, notice: Path, output: Path | None, units_path: Path | None, fmt: str,
            force: bool, district: str, year: int | None) -> None:
    """从发布的通知（.docx/.md/.txt/.xlsx/.csv）识别项目、单位和量化指标，生成项目清单。"""
    from .findings import has_errors
    from .notice import import_json, import_notice, render_import, units_for_import
    from .projects import write_project_list

    directory, unit_findings = units_for_import(units_path, ctx.obj["workspace"])
    result = import_notice(notice, directory, district=district, year=year)
    if output is not None and output.exists() and not force:
        raise ShixiangError(f"{output} 已存在。如要覆盖，请加 --force；或换一个文件名。")
    if fmt == "json":
        click.echo(json.dumps(import_json(result), ensure_ascii=False, indent=2))
    else:
        click.echo(render_import(result))
    if output is not None and result.projects.projects:
        write_project_list(output, result.projects)
        click.echo(f"\n已写入项目清单：{output}（标“待核对”的指标请对照通知逐条核对）", err=fmt == "json")
    _echo_findings(unit_findings + result.findings)
    if has_errors(unit_findings + result.findings):
        sys.exit(1)


# ------------------------------------------------------------------ generate


def _period(text: str):
    from .period import Period, PeriodError

    try:
        return Period.parse(text)
    except PeriodError as exc:
        raise click.BadParameter(str(exc), param_hint="--period")


@main.command()
@click.option("--period", "period_text", required=True, help="报送期：2026-03（月）或 2026-Q1（季度）。")
@click.option("--unit", "units", multiple=True, help="只生成这些单位（全称或简称，可重复）。")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="输出文件夹（默认 outbox/<报送期>/）。")
@click.pass_context
def generate(ctx: click.Context, period_text: str, units: tuple[str, ...], out: Path | None) -> None:
    """为每个牵头、协办单位生成本期的进度填报表。"""
    from .findings import has_errors
    from .generate import generate_workbooks

    c = _context(ctx)
    if has_errors(c.findings):
        _echo_findings(c.findings)
        raise ShixiangError("项目清单或单位名录有错误，请先运行 shixiang projects 查看并修改。")
    period = _period(period_text)
    total = len(units) or len(c.projects.units)
    if total > 30 and sys.stderr.isatty():
        with click.progressbar(length=total, label="生成填报表", file=sys.stderr) as bar:
            result = generate_workbooks(c, period, units or None, out, progress=bar.update)
    else:
        result = generate_workbooks(c, period, units or None, out)
    rows = [[i, f.unit, f.lead_projects, f.co_projects, f.path.name] for i, f in enumerate(result.files, start=1)]
    click.echo(render_table(["序号", "单位", "牵头项目", "协办项目", "文件"], rows, max_width=80))
    click.echo(f"\n已生成 {len(result.files)} 份填报表：{result.outdir}")


# ------------------------------------------------------------------ check


@main.command()
@click.argument("paths", nargs=-1, metavar="[文件或文件夹]...", type=click.Path(exists=True, path_type=Path))
@click.option("--period", "period_text", required=True, help="报送期：2026-03 或 2026-Q1。")
@click.option("--strict", is_flag=True, help="有警告的也退回修改。")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              help="输出格式：table 表格（默认）或 json。")
@click.option("--no-feedback", is_flag=True, help="不生成退回修改标注件。")
@click.option("--wait", type=float, default=60.0,
              help="工作区正在进行另一项校验或汇总时，最多等待的秒数（默认 60）。")
@click.pass_context
def check(ctx: click.Context, paths: tuple[Path, ...], period_text: str, strict: bool, fmt: str,
          no_feedback: bool, wait: float) -> None:
    """校验报回的填报表（默认 inbox/<报送期>/），生成校验报告和退回修改标注件。有错误时以 1 退出。"""
    from .batch import batch_json
    from .batch import check_returns

    c = _context(ctx)
    period = _period(period_text)
    run = check_returns(c, list(paths) or None, period, strict=strict, feedback=not no_feedback, wait=wait)
    batch = run.batch
    if fmt == "json":
        click.echo(batch_json(batch))
    else:
        click.echo(render_batch(batch))
        click.echo(f"\n校验报告：{run.report}")
        if run.feedback:
            click.echo(f"退回修改标注件（{len(run.feedback)} 份）：{next(iter(run.feedback.values())).parent}")
    sys.exit(1 if batch.summary()["errors"] else 0)


# ------------------------------------------------------------------ merge


@main.command()
@click.argument("paths", nargs=-1, metavar="[文件或文件夹]...", type=click.Path(exists=True, path_type=Path))
@click.option("--period", "period_text", required=True, help="报送期：2026-03 或 2026-Q1。")
@click.option("--strict", is_flag=True, help="有警告的报送也不汇总（默认：有警告的照常汇总）。")
@click.option("--accept-warnings", is_flag=True, help="有警告的报送照常汇总（默认）。")
@click.option("--pdf", is_flag=True, help="同时用 LibreOffice 生成 台账.pdf。")
@click.option("--a3", is_flag=True, help="台账按 A3 横向排版（默认 A4 横向）。")
@click.option("--wait", type=float, default=60.0,
              help="工作区正在进行另一项校验或汇总时，最多等待的秒数（默认 60）。")
@click.pass_context
def merge(ctx: click.Context, paths: tuple[Path, ...], period_text: str, strict: bool, accept_warnings: bool,
          pdf: bool, a3: bool, wait: float) -> None:
    """校验并汇总本期报回的填报表，生成台账（总表、指标明细、报送情况、通报建议、走势、校验问题）。"""
    from .merge import merge_returns

    if strict and accept_warnings:
        raise click.UsageError("--strict 与 --accept-warnings 不能同时使用。")
    c = _context(ctx)
    result = merge_returns(c, _period(period_text), list(paths) or None, strict=strict, pdf=pdf, a3=a3, wait=wait)
    click.echo(render_ledger(result.ledger))
    click.echo("")
    click.echo(f"台账：{result.ledger_path}" + ("" if result.changed else "（与上次汇总相同）"))
    if result.pdf_path:
        click.echo(f"台账 PDF：{result.pdf_path}")
    click.echo(f"校验报告：{result.report_path}")
    if result.feedback:
        click.echo(f"退回修改标注件（{len(result.feedback)} 份）：{next(iter(result.feedback.values())).parent}")


# ------------------------------------------------------------------ status


@main.command()
@click.option("--period", "period_text", required=True, help="报送期：2026-03 或 2026-Q1。")
@click.option("--xlsx", is_flag=True, help="同时生成 催报名单.xlsx。")
@click.pass_context
def status(ctx: click.Context, period_text: str, xlsx: bool) -> None:
    """本期各单位报送情况和催报名单；全部报齐时以 0 退出，否则以 1 退出。"""
    from .status import report_status

    c = _context(ctx)
    report = report_status(c, _period(period_text), xlsx=xlsx)
    rows = [[i, u.unit, u.role, u.state, u.received_at, u.contact, u.phone, u.note]
            for i, u in enumerate(report.units, 1)]
    click.echo(render_table(["序号", "单位", "角色", "报送情况", "收到时间", "联系人", "联系电话", "备注"], rows))
    click.echo(f"\n{report.period.label}：{report.figures.sentence()}")
    if report.xlsx:
        click.echo(f"催报名单：{report.xlsx}")
    sys.exit(0 if report.complete else 1)


# ------------------------------------------------------------------ export


@main.command()
@click.option("--format", "kind", type=click.Choice(["xlsx", "csv", "both"]), default="both", show_default=True,
              help="导出格式：xlsx（Excel 工作簿）、csv（UTF-8，供统计软件）或两者。")
@click.option("--outdir", type=click.Path(file_okay=False, path_type=Path),
              help="输出文件夹（默认 reports/<年度>/）。")
@click.pass_context
def export(ctx: click.Context, kind: str, outdir: Path | None) -> None:
    """把本年度所有已汇总报送期的指标数值导出为一张长表（每期每个指标一行），供分析使用。"""
    from .export import export_values

    result = export_values(_context(ctx), ("xlsx", "csv") if kind == "both" else (kind,), outdir)
    click.echo(f"已导出 {len(result.periods)} 个报送期（{'、'.join(p.label for p in result.periods)}）的 "
               f"{result.rows} 行指标数值：")
    for path in result.paths:
        click.echo(f"  {path}")


# ------------------------------------------------------------------ receipt


@main.command()
@click.option("--period", "period_text", required=True, help="报送期：2026-03 或 2026-Q1。")
@click.option("--unit", "unit_text", required=True, help="单位（全称或简称）。")
@click.option("--at", "at_text", required=True, help="实际收到时间，如 \"2026-03-24 16:00\"。")
@click.pass_context
def receipt(ctx: click.Context, period_text: str, unit_text: str, at_text: str) -> None:
    """设置或更正某单位本期填报表的收到时间（手工放入 inbox/ 的文件按修改时间计，可能不是单位报送的时间）。"""
    from .submissions import set_receipt

    period = _period(period_text)
    fix, has_return = set_receipt(_context(ctx), period, unit_text, at_text)
    shown = fix.received_at[:16].replace("T", " ")
    before = f"（原为 {fix.previous[:16].replace('T', ' ')}）" if fix.previous else ""
    click.echo(f"已记录：{fix.unit}{period.label}填报表的收到时间为 {shown}{before}，更正时间 "
               f"{fix.changed_at[:16].replace('T', ' ')}。")
    if has_return:
        click.echo(f"请重新运行 shixiang merge --period {period.slug}，使台账和公文采用更正后的时间。")
    else:
        click.echo("该单位本期还没有校验过的填报表；收到并校验后即按此时间计。")


# ------------------------------------------------------------------ survey


@main.group()
def survey() -> None:
    """满意度测评：打印测评票、生成录入表、比对两人录入并计票。"""


@survey.command("ballots")
@click.option("--count", type=click.IntRange(1, 5000), default=100,
              help="测评票张数（按参加测评的人大代表人数，可略多印几张；默认 100）。")
@click.option("--outdir", type=click.Path(file_okay=False, path_type=Path),
              help="输出文件夹（默认 outbox/<年度>年满意度测评/）。")
@click.option("--pdf", is_flag=True, help="同时用 LibreOffice 生成可直接打印的 PDF（每张票一页）。")
@click.pass_context
def survey_ballots(ctx: click.Context, count: int, outdir: Path | None, pdf: bool) -> None:
    """生成编号的测评票（每张一页 A4）和录入员用的录入表。"""
    from .ballots import make_ballots

    made = make_ballots(_context(ctx), count, outdir, pdf=pdf)
    click.echo(f"测评票 {made.count} 张（编号 {made.first}–{made.last}）：{made.ballots}")
    if made.pdf:
        click.echo(f"测评票 PDF：{made.pdf}")
    click.echo(f"录入表：{made.entry}")
    click.echo("  把录入表复制给两名录入员分别录入同一批收回的票，再运行：shixiang survey tally 录入表1.xlsx 录入表2.xlsx")


@survey.command("tally")
@click.argument("files", nargs=-1, required=True, metavar="录入表...",
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--prefer", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="两份录入不一致时以这份录入表为准（须是所给录入表之一）。")
@click.pass_context
def survey_tally(ctx: click.Context, files: tuple[Path, ...], prefer: Path | None) -> None:
    """读取所给的录入表，比对两人录入，计算各项目满意率，生成测评结果；录入不一致时不出结果并以 1 退出。"""
    from .findings import Severity
    from .ballots import survey_title
    from .tally import tally_survey

    c = _context(ctx)
    result = tally_survey(c, list(files), prefer)
    shown = [f for f in result.findings if f.severity is not Severity.INFO]
    _echo_findings(shown)
    hidden = len(result.findings) - len(shown)
    if hidden:
        click.echo(f"另有 {hidden} 条提示（如按弃权计的空项），详见结果工作簿的“问题清单”。", err=True)
    if shown or hidden:
        click.echo("", err=True)
    click.echo(result.summary(survey_title(c)))
    if not result.complete:
        sys.exit(1)


# ------------------------------------------------------------------ send / collect (e-mail)


@main.command()
@click.option("--period", "period_text", required=True, help="报送期：2026-03 或 2026-Q1。")
@click.option("--yes", is_flag=True, help="真正发送（不加时只预览，不发任何邮件）。")
@click.option("--eml", "eml_dir", type=click.Path(file_okay=False, path_type=Path),
              help="不发送，把每封邮件写成 .eml 草稿放到此文件夹（可用 Outlook、Foxmail 等打开后发送）。")
@click.option("--remind", is_flag=True, help="只给催报名单上的单位（未报送、退回修改）发催报邮件。")
@click.option("--retry-failed", is_flag=True, help="只补发上次失败的（无邮箱、被拒收、连接中断）。")
@click.option("--resend", is_flag=True, help="已发送过的也再发一次。")
@click.option("--unit", "units", multiple=True, help="只发给这些单位（全称或简称，可重复）。")
@click.pass_context
def send(ctx: click.Context, period_text: str, yes: bool, eml_dir: Path | None, remind: bool, retry_failed: bool,
         resend: bool, units: tuple[str, ...]) -> None:
    """把本期填报表用邮件发给各单位（默认只预览；加 --yes 发送）。有发送失败时以 1 退出。"""
    import os

    from .findings import has_errors
    from .send import send_workbooks

    if yes and eml_dir is not None:
        raise click.UsageError("--yes 与 --eml 不能同时使用。")
    c = _context(ctx)
    if has_errors(c.findings):
        _echo_findings(c.findings)
        raise ShixiangError("项目清单或单位名录有错误，请先运行 shixiang projects 查看并修改，再发送。")
    period = _period(period_text)
    password = None
    smtp = c.config.smtp
    if yes and smtp.configured and smtp.user:
        password = os.environ.get(smtp.password_env) or click.prompt(
            f"请输入邮箱 {smtp.user} 的密码（或授权码；也可预先设置环境变量 {smtp.password_env}）",
            hide_input=True, err=True)
    result = send_workbooks(c, period, yes=yes, eml_dir=eml_dir, remind=remind, retry_failed=retry_failed,
                            resend=resend, password=password, units=units or None)
    rows = [[i, o.unit, "；".join(o.addresses) or "（无）", o.file.name if o.file else "", o.result_cn, o.detail]
            for i, o in enumerate(result.outcomes, start=1)]
    click.echo(render_table(["序号", "单位", "收件人", "附件", "结果", "说明"], rows, max_width=60))
    click.echo("")
    click.echo("\n".join(result.heading_lines() + result.closing_lines()))
    if result.findings:
        click.echo("", err=True)
        _echo_findings(result.findings)
    sys.exit(0 if result.ok else 1)


@main.command()
@click.argument("paths", nargs=-1, required=True, metavar="邮件文件或文件夹...",
                type=click.Path(exists=True, path_type=Path))
@click.option("--period", "period_text", required=True, help="报送期：2026-03 或 2026-Q1。")
@click.pass_context
def collect(ctx: click.Context, paths: tuple[Path, ...], period_text: str) -> None:
    """从保存的邮件（.eml 文件、mbox 文件或 Maildir 文件夹）中取出报回的表格，放入 inbox/<报送期>/。"""
    from .collect import collect_returns

    c = _context(ctx)
    period = _period(period_text)
    result = collect_returns(c, list(paths), period)
    rows = [[i, it.sender or "（无）", it.unit or "（未知）", it.date[:16].replace("T", " "), it.original_name,
             it.result_cn, it.saved_path.name if it.saved_path else ""] for i, it in enumerate(result.items, start=1)]
    click.echo(render_table(["序号", "发件人", "单位", "邮件日期", "附件", "结果", "保存为"], rows, max_width=50))
    if result.findings:
        click.echo("", err=True)
        _echo_findings(result.findings)
    click.echo("")
    click.echo(result.summary())
    if result.count("saved"):
        click.echo(f"下一步：shixiang check --period {period.slug}")


# ------------------------------------------------------------------ report


@main.command()
@click.option("--period", "period_text", required=True, help="报送期：2026-03 或 2026-Q1（须已汇总）。")
@click.option("--kind", type=click.Choice(["通报", "进展报告", "all"]), default="all",
              help="起草哪一份：督查通报、推进情况报告，或 all 两份都起草（默认）。")
@click.option("--pdf", is_flag=True, help="同时用 LibreOffice 转换为 PDF。")
@click.option("--date", "date_text", help="成文日期，如 2026-03-28（默认：今天）。")
@click.pass_context
def report(ctx: click.Context, period_text: str, kind: str, pdf: bool, date_text: str | None) -> None:
    """按公文格式起草督查通报和推进情况报告（Word），数据与本期台账一致，保存在 reports/<报送期>/。"""
    from .report import write_reports

    on = None
    if date_text:
        from .submissions import parse_time

        on = parse_time(date_text).date()
    result = write_reports(_context(ctx), _period(period_text), kind, pdf=pdf, on=on)
    for warning in result.warnings:
        click.echo(warning, err=True)
    for path in result.paths:
        click.echo(f"已起草：{path}")


# ------------------------------------------------------------------ restore


@main.command()
@click.option("--from", "name", help="用这份备份恢复（备份文件名，见不加参数时列出的清单；默认最新一份）。")
@click.option("--yes", is_flag=True, help="真正恢复（不加时只列出备份，不做任何修改）。")
@click.pass_context
def restore(ctx: click.Context, name: str | None, yes: bool) -> None:
    """列出数据库的备份（每次汇总前自动备份，保留最近 5 份）；加 --yes 用最新一份（或 --from 指定的）恢复。"""
    from .backup import backup_dir, list_backups, restore_store
    from .workspace import Workspace

    db = Workspace(ctx.obj["workspace"]).db_path
    backups = list_backups(db)
    if not backups:
        raise ShixiangError(f"{backup_dir(db)} 中没有数据库备份（每次运行 shixiang merge 前会自动备份）。")
    chosen = backups[0]
    if name is not None:
        chosen = next((b for b in backups if b.path.name == name or b.path.stem == name), None)
        if chosen is None:
            raise ShixiangError(f"没有名为「{name}」的备份。不加参数运行 shixiang restore 可列出全部备份。")
    rows = [[i, b.path.name, f"{b.made:%Y-%m-%d %H:%M:%S}", f"{b.path.stat().st_size / 1024:.0f} KB",
             "← 将用于恢复" if b is chosen else ""] for i, b in enumerate(backups, start=1)]
    click.echo(render_table(["序号", "备份", "备份时间", "大小", ""], rows))
    if not yes:
        click.echo(f"\n以上是 {backup_dir(db)} 中的备份。确认要用 {chosen.path.name} 恢复数据库，请加 --yes 再运行"
                   "（当前的数据库会改名保留，不会删除）。")
        return
    done = restore_store(db, chosen)
    click.echo(f"\n已用 {chosen.path.name} 恢复数据库：{db}")
    if done.kept is not None:
        click.echo(f"原来的数据库已改名保留：{done.kept}")
    click.echo("备份时间之后汇总过的报送期，请重新运行 shixiang merge --period <报送期>。")


# ------------------------------------------------------------------ serve


@main.command()
@click.option("--port", type=click.IntRange(0, 65535), default=8765, help="端口（默认 8765；0 表示任选一个空闲端口）。")
@click.option("--no-browser", is_flag=True, help="不自动打开浏览器（只显示链接）。")
@click.pass_context
def serve(ctx: click.Context, port: int, no_browser: bool) -> None:
    """在本机启动实事通网页（只有本机能访问），并用默认浏览器打开：不用命令行也能走完整个流程。"""
    from .web import serve as serve_web

    serve_web(ctx.obj["workspace"], port=port, open_browser=not no_browser, echo=click.echo)


# ------------------------------------------------------------------ demo


@main.command()
@click.argument("directory", required=False, metavar="[文件夹]", type=click.Path(file_okay=False, path_type=Path))
def demo(directory: Path | None) -> None:
    """在新文件夹中用内置示例跑通全流程，并说明每一步的结果在哪里。"""
    from .demo import run_demo

    run_demo(directory, click.echo)


if __name__ == "__main__":  # pragma: no cover
    main()
