"""The local web application behind ``shixiang serve``.

Like ``cli.py``, every view only parses its input, calls the one library function the matching command calls, and
renders the result (findings are data, so they become table rows). Nothing here computes a figure.

Safety, because a browser is a program that other web sites can also drive:
- bound to 127.0.0.1; requests naming another host are refused (DNS rebinding);
- a random access token in the printed URL, then kept in an HttpOnly, SameSite=Strict cookie;
- every POST carries a CSRF token (a form field or header) and is refused when it comes from another site;
- uploads are limited in size and count, and saved under names made by :func:`safe_name` in folders we choose;
- downloads are chosen from listings of our own folders: no endpoint opens a path the browser gives;
- a strict Content-Security-Policy; every script, style and picture is served from here (works offline).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hmac
import io
import os
import secrets
import shutil
import sqlite3
import tempfile
import threading
import zipfile
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote

from flask import Flask, Response, abort, g, jsonify, redirect, render_template, request, send_file, url_for
from werkzeug.serving import WSGIRequestHandler, make_server

from ..errors import ShixiangError
from ..findings import Finding, Severity, has_errors
from ..period import Period, PeriodError
from ..safename import safe_name

TOKEN_COOKIE = "shixiang_token"
CSRF_FIELD = "csrf"
DEFAULT_PORT = 8765
MAX_UPLOAD_MB = 200
MAX_UPLOAD_FILES = 500
LOOPBACK = ("127.0.0.1", "localhost", "[::1]")
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
WEB_DIR = ".shixiang/web"  # uploads waiting for the clerk's confirmation (a notice, survey entry files)


# ------------------------------------------------------------------ jobs (long work, its progress polled by the page)


@dataclasses.dataclass
class Job:
    """One piece of long work (generate, check, merge) run on a thread; the page polls its progress."""

    id: str
    title: str
    next_url: str
    total: int = 0
    done: int = 0
    state: str = "running"  # running | done | failed
    error: str = ""
    result: Any = None
    thread: threading.Thread | None = None

    def step(self, n: int = 1) -> None:
        self.done += n

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "state": self.state, "done": self.done, "total": self.total,
                "error": self.error, "next": self.next_url}


def explain_error(exc: BaseException, root: Path) -> str:
    """The Chinese message a clerk reads for a failure, as ``cli.py`` gives it."""
    if isinstance(exc, ShixiangError):
        return str(exc)
    if isinstance(exc, (OSError, sqlite3.Error)):
        from ..faults import explain
        from ..workspace import DB_FILE

        problem = explain(exc, root / DB_FILE)
        if problem is not None:
            return str(problem)
    return f"处理时出错（{type(exc).__name__}: {exc}）。工作区中的原始文件和上次的结果都完好，请重试或联系维护人员。"


# ------------------------------------------------------------------ periods and the cycle's state


def year_periods(ctx: Any) -> list[Period]:
    """The year's reporting periods, by the workspace's schedule (months or quarters)."""
    year = ctx.config.year
    if ctx.config.frequency == "quarter":
        return [Period(year, q * 3, q) for q in range(1, 5)]
    return [Period(year, m) for m in range(1, 13)]


def current_period(ctx: Any, today: dt.date | None = None) -> Period:
    """The period whose deadline is nearest to today (the earlier one on a tie)."""
    today = today or dt.date.today()
    periods = year_periods(ctx)
    return min(periods, key=lambda p: (abs((p.due(ctx.config.due_day) - today).days), p))


def files_in(folder: Path, suffixes: tuple[str, ...] = ()) -> list[Path]:
    """Regular files (not links) directly in ``folder``, by name."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return []
    return [Path(e.path) for e in entries if e.is_file(follow_symlinks=False) and not e.name.startswith((".", "~$"))
            and (not suffixes or e.name.lower().endswith(suffixes))]


@dataclasses.dataclass(frozen=True)
class Step:
    key: str
    title: str
    state: str  # done | partial | todo
    detail: str
    url: str
    action: str  # the button's words


def cycle_steps(ctx: Any, period: Period) -> list[Step]:
    """The period's cycle as steps with their state, read from the workspace's files and store."""
    from ..ledger import SUBMIT_BACK, SUBMIT_LATE, SUBMIT_ON_TIME
    from ..send import sent_records
    from ..status import report_status

    ws = ctx.workspace
    units = ctx.projects.units
    n = len(units)
    q = f"?period={period.slug}"
    steps = []
    ok = not has_errors(ctx.findings)
    errors = sum(f.is_error for f in ctx.findings)
    steps.append(Step("projects", "清单已校验" if ok else "清单有错误", "done" if ok else "todo",
                      f"{len(ctx.projects.projects)} 个项目，{len(ctx.projects.indicators)} 个指标" if ok
                      else f"{errors} 处错误待修改", url_for("projects") + q, "查看项目清单"))
    made = len(files_in(ws.folder("outbox", period.slug), (".xlsx",)))
    steps.append(Step("generate", f"填报表已生成 {made} 份" if made else "填报表未生成",
                      "done" if made >= n and n else ("partial" if made else "todo"), f"应生成 {n} 份",
                      url_for("issue") + q, "生成填报表"))
    sent = {r["unit"] for r in _safe(lambda: sent_records(ctx, period), [])
            if r.get("kind") == "report" and r.get("result") == "sent"}
    steps.append(Step("send", f"已发送 {len(sent)}/{n}", "done" if n and len(sent) >= n else
                      ("partial" if sent else "todo"), "也可下载填报表自行发送", url_for("issue") + q, "发送或下载"))
    status = _safe(lambda: report_status(ctx, period), None)
    states = [u.state for u in status.units] if status else []
    back = states.count(SUBMIT_BACK)
    got = sum(s in (SUBMIT_ON_TIME, SUBMIT_LATE) for s in states) + back
    steps.append(Step("collect", f"已收回 {got}/{n}", "done" if n and got >= n else ("partial" if got else "todo"),
                      f"退回修改 {back}", url_for("returns") + q, "上传报回的文件"))
    steps.append(Step("back", f"退回修改 {back}", "todo" if back else ("done" if got else "todo"),
                      "下载标注件发回单位修改" if back else "无退回", url_for("returns") + q, "查看校验问题"))
    ledger = ws.folder("reports", period.slug) / "台账.xlsx"
    when = ""
    if ledger.exists():
        when = dt.datetime.fromtimestamp(ledger.stat().st_mtime).strftime("%m-%d %H:%M")
    steps.append(Step("merge", f"台账已汇总（{when}）" if when else "台账未汇总", "done" if when else "todo",
                      "汇总后可起草公文", url_for("ledger") + q, "汇总生成台账"))
    return steps


def next_step(steps: list[Step]) -> Step:
    """The first step not done (the 退回 step counts only once returns are in), else the ledger."""
    for s in steps:
        if s.state != "done" and s.key != "send":
            return s
    return steps[-1]


def _safe(func: Callable[[], Any], default: Any) -> Any:
    """A figure for the overview page: when the store cannot be read the page still shows, with the default."""
    try:
        return func()
    except (OSError, sqlite3.Error, ShixiangError):
        return default


# ------------------------------------------------------------------ the application


def create_app(workspace: Path, token: str | None = None, *, max_upload_mb: int = MAX_UPLOAD_MB,
               max_files: int = MAX_UPLOAD_FILES) -> Flask:
    """The web application for the workspace at ``workspace``, opened with ``token`` (random when not given)."""
    root = Path(workspace).resolve()
    app = Flask(__name__)
    app.config.update(MAX_CONTENT_LENGTH=max_upload_mb * 1024 * 1024, MAX_FORM_PARTS=max_files + 50,
                      SHIXIANG_TOKEN=token or secrets.token_urlsafe(24), SHIXIANG_ROOT=root,
                      SHIXIANG_MAX_FILES=max_files, SHIXIANG_MAX_MB=max_upload_mb)
    secret = app.config["SHIXIANG_TOKEN"]
    csrf_token = hmac.new(secret.encode(), b"csrf", "sha256").hexdigest()
    jobs: dict[str, Job] = {}
    app.config["SHIXIANG_JOBS"] = jobs  # serve() lets running work finish before the process ends
    last_checks: dict[str, Any] = {}  # period slug → the last batch checked here (its findings for the page)
    uploads: dict[str, dict[str, Any]] = {}  # preview id → what was read and where the upload waits

    # -------------------------------------------------------------- safety

    @app.before_request
    def guard() -> Response | None:
        host = request.host.rsplit(":", 1)[0] if not request.host.startswith("[") else request.host.split("]")[0] + "]"
        if host not in LOOPBACK:
            return _refuse(403, "只接受本机访问。")
        given = request.args.get("token")
        if given is not None:
            if not hmac.compare_digest(given.encode(), secret.encode()):
                return _refuse(403, "访问令牌不对。请用运行 shixiang serve 时显示的链接打开本页面。")
            if request.method == "GET":
                args = [(k, v) for k, v in request.args.items(multi=True) if k != "token"]
                target = request.path + ("?" + "&".join(f"{quote(k)}={quote(v)}" for k, v in args) if args else "")
                resp = redirect(target)
                resp.set_cookie(TOKEN_COOKIE, secret, httponly=True, samesite="Strict")
                return resp
        else:
            cookie = request.cookies.get(TOKEN_COOKIE, "")
            if not hmac.compare_digest(cookie.encode(), secret.encode()):
                return _refuse(403, "需要访问令牌。请用运行 shixiang serve（或双击“启动实事通”）时显示的链接打开本页面。")
        if request.method not in ("GET", "HEAD"):
            site = request.headers.get("Sec-Fetch-Site", "")
            origin = request.headers.get("Origin")
            if site == "cross-site" or (origin and origin not in _origins(request.host)):
                return _refuse(403, "拒绝来自其他网站的请求。")
            sent = request.headers.get("X-CSRF-Token") or _form_csrf()
            if not sent or not hmac.compare_digest(sent.encode(), csrf_token.encode()):
                return _refuse(403, "页面已过期或请求来源不明（缺少校验码）。请刷新页面后重试。")
        g.csrf = csrf_token
        return None

    @app.after_request
    def headers(resp: Response) -> Response:
        resp.headers["Content-Security-Policy"] = CSP
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["X-Frame-Options"] = "DENY"
        # same-origin, not no-referrer: with no-referrer the browser sends "Origin: null" on our own forms
        resp.headers["Referrer-Policy"] = "same-origin"
        resp.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        resp.headers.setdefault("Cache-Control", "no-store")
        return resp

    @app.errorhandler(413)
    def too_large(_exc: Exception) -> Response:
        return _refuse(413, f"上传的文件太大：一次最多上传 {max_upload_mb} MB。请分批上传，或把文件打成 zip 压缩包。")

    @app.errorhandler(404)
    def not_found(_exc: Exception) -> Response:
        return _refuse(404, "找不到这个页面或文件（可能已被移走或重新生成）。")

    @app.errorhandler(ShixiangError)
    @app.errorhandler(OSError)
    @app.errorhandler(sqlite3.Error)
    def failed(exc: Exception) -> Response:
        # The same clean Chinese message cli.py gives; the page, not a traceback.
        return _refuse(409 if isinstance(exc, ShixiangError) else 500, explain_error(exc, root))

    @app.errorhandler(500)
    def crashed(exc: Exception) -> Response:
        original = getattr(exc, "original_exception", None) or exc
        return _refuse(500, explain_error(original, root))

    @app.context_processor
    def common() -> dict[str, Any]:
        return {"csrf": getattr(g, "csrf", ""), "csrf_field": CSRF_FIELD, "nav": NAV}

    # -------------------------------------------------------------- helpers

    def context():
        from ..workspace import load_context

        return load_context(root)

    def chosen_period(ctx: Any) -> Period:
        text = request.values.get("period", "")
        if text:
            try:
                return Period.parse(text)
            except PeriodError as exc:
                abort(Response(render_template("error.html", error_message=str(exc)), 400))
        return current_period(ctx)

    def page(template: str, ctx: Any, period: Period | None, **kw: Any) -> str:
        return render_template(template, ctx=ctx, period=period,
                               periods=year_periods(ctx) if ctx is not None else [], endpoint=request.endpoint, **kw)

    def start_job(title: str, next_url: str, work: Callable[[Job], Any], total: int = 0) -> Response:
        job = Job(secrets.token_urlsafe(9), title, next_url, total=total)
        jobs[job.id] = job

        def run() -> None:
            try:
                job.result = work(job)
                job.state = "done"
            except Exception as exc:  # any failure is shown to the clerk on the page, never a dead thread
                job.error = explain_error(exc, root)
                job.state = "failed"

        job.thread = threading.Thread(target=run, name=f"job-{job.id}", daemon=True)
        job.thread.start()
        return redirect(url_for("job_page", job_id=job.id))

    def save_uploads(field: str, folder: Path) -> tuple[list[Path], list[str]]:
        """Save the uploaded files of ``field`` into ``folder`` under clean names; never replace a file."""
        files = [f for f in request.files.getlist(field) if f and f.filename]
        if len(files) > max_files:
            abort(_refuse(413, f"一次最多上传 {max_files} 个文件，本次 {len(files)} 个。请分批上传，或打成 zip 压缩包。"))
        folder.mkdir(parents=True, exist_ok=True)
        stamps = _file_times(request.form.get("mtimes", ""), len(files))
        saved, notes = [], []
        for f, stamp in zip(files, stamps):
            name = safe_name(f.filename or "", fallback="上传文件")
            data = f.read()
            target = _free_name(folder, name, data)
            if target is None:
                notes.append(f"{name}：与已收到的同名文件内容相同，未重复保存。")
                continue
            from ..xlsxout import atomic_write_bytes

            atomic_write_bytes(target, data)
            if stamp is not None:  # when the clerk's copy was saved: the time of receipt, as for a folder given to check
                os.utime(target, (stamp, stamp))
            saved.append(target)
            if target.name != (f.filename or ""):
                notes.append(f"「{f.filename}」已保存为「{target.name}」。")
        return saved, notes

    # -------------------------------------------------------------- pages

    @app.get("/")
    def workbench() -> str:
        ctx = context()
        period = chosen_period(ctx)
        steps = cycle_steps(ctx, period)
        return page("workbench.html", ctx, period, steps=steps, next=next_step(steps))

    @app.get("/projects")
    def projects() -> str:
        ctx = context()
        return page("projects.html", ctx, chosen_period(ctx), findings=_rows(ctx.findings), preview=None)

    @app.post("/projects/notice")
    def import_notice_preview() -> str:
        from ..notice import import_notice, render_import

        ctx = context()
        pid = secrets.token_hex(8)
        folder = root / WEB_DIR / pid
        saved, _ = save_uploads("notice", folder)
        if not saved:
            return page("projects.html", ctx, chosen_period(ctx), findings=_rows(ctx.findings), preview=None,
                        message="请选择要导入的通知文件（.docx/.md/.txt/.xlsx/.csv）。")
        result = import_notice(saved[0], ctx.directory)
        uploads[pid] = {"path": saved[0], "result": result}
        return page("projects.html", ctx, chosen_period(ctx), findings=_rows(ctx.findings),
                    preview={"id": pid, "name": saved[0].name, "text": render_import(result),
                             "findings": _rows(result.findings), "result": result,
                             "writable": bool(result.projects.projects)})

    @app.post("/projects/notice/confirm")
    def import_notice_confirm() -> Response:
        from ..projects import write_project_list

        item = uploads.pop(request.form.get("id", ""), None)
        if item is None:
            abort(_refuse(400, "没有待确认的导入（可能已经写入或已过期），请重新上传通知。"))
        write_project_list(root / "项目清单.xlsx", item["result"].projects)
        shutil.rmtree(item["path"].parent, ignore_errors=True)
        return redirect(url_for("projects", done="notice"))

    @app.post("/projects/list")
    def upload_list() -> str:
        """A new 项目清单.xlsx or 单位名录.xlsx: checked first, written only without errors."""
        from ..projects import load_project_list
        from ..units import load_directory
        from ..xlsxout import atomic_write_bytes

        ctx = context()
        kind = request.form.get("kind", "")
        if kind not in ("项目清单.xlsx", "单位名录.xlsx"):
            abort(_refuse(400, "只能上传 项目清单.xlsx 或 单位名录.xlsx。"))
        folder = root / WEB_DIR / secrets.token_hex(8)
        try:
            saved, _ = save_uploads("file", folder)
            if not saved:
                return page("projects.html", ctx, chosen_period(ctx), findings=_rows(ctx.findings), preview=None,
                            message="请选择文件。")
            if kind == "单位名录.xlsx":
                directory, found = load_directory(saved[0])
                _, more = load_project_list(root / "项目清单.xlsx", directory)
            else:
                directory, found = load_directory(root / "单位名录.xlsx")
                _, more = load_project_list(saved[0], directory)
            found = found + more
            if has_errors(found):
                return page("projects.html", ctx, chosen_period(ctx), findings=_rows(ctx.findings), preview=None,
                            message=f"上传的 {kind} 有 {sum(f.is_error for f in found)} 处错误，未替换工作区中的文件。",
                            upload_findings=_rows(found))
            atomic_write_bytes(root / kind, saved[0].read_bytes())
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        ctx = context()
        return page("projects.html", ctx, chosen_period(ctx), findings=_rows(ctx.findings), preview=None,
                    message=f"已更新 {kind}。")

    @app.get("/issue")
    def issue() -> str:
        ctx = context()
        period = chosen_period(ctx)
        files = files_in(ctx.workspace.folder("outbox", period.slug), (".xlsx",))
        return page("issue.html", ctx, period, files=files, preview=None, smtp=ctx.config.smtp.configured)

    @app.post("/issue/generate")
    def generate() -> Response:
        from ..generate import generate_workbooks

        ctx = context()
        period = chosen_period(ctx)
        if has_errors(ctx.findings):
            abort(_refuse(400, "项目清单或单位名录有错误，请先在“项目清单”页查看并修改。"))
        return start_job(f"生成{period.label}填报表", url_for("issue", period=period.slug),
                         lambda job: generate_workbooks(ctx, period, progress=job.step), total=len(ctx.projects.units))

    @app.post("/issue/send")
    def send() -> Response | str:
        from ..send import send_workbooks

        ctx = context()
        period = chosen_period(ctx)
        mode = request.form.get("mode", "preview")
        remind = request.form.get("remind") == "1"
        if mode == "eml":
            with tempfile.TemporaryDirectory(dir=_workdir(root)) as tmp:
                result = send_workbooks(ctx, period, eml_dir=Path(tmp), remind=remind)
                data = _zip_bytes(files_in(Path(tmp)))
            name = f"{period.slug}{'催报' if remind else ''}邮件草稿.zip"
            return send_file(io.BytesIO(data), mimetype="application/zip", as_attachment=True, download_name=name)
        yes = mode == "send"
        password = request.form.get("password") or os.environ.get(ctx.config.smtp.password_env) or None
        result = send_workbooks(ctx, period, yes=yes, remind=remind, password=password if yes else None)
        files = files_in(ctx.workspace.folder("outbox", period.slug), (".xlsx",))
        return page("issue.html", ctx, period, files=files, preview=result, sent=yes,
                    smtp=ctx.config.smtp.configured, send_findings=_rows(result.findings))

    @app.get("/returns")
    def returns() -> str:
        from ..status import report_status

        ctx = context()
        period = chosen_period(ctx)
        status = report_status(ctx, period)
        batch = last_checks.get(period.slug)
        return page("returns.html", ctx, period, status=status, batch=batch, files=_batch_rows(batch),
                    feedback=files_in(ctx.workspace.folder("feedback", period.slug), (".xlsx",)),
                    reports=files_in(ctx.workspace.folder("reports", period.slug), (".xlsx", ".pdf")),
                    notes=request.args.getlist("note"))

    @app.post("/returns/upload")
    def upload_returns() -> Response:
        from ..batch import check_returns

        ctx = context()
        period = chosen_period(ctx)
        inbox = ctx.workspace.folder("inbox", period.slug)
        saved, notes = save_uploads("files", inbox)

        def work(job: Job) -> Any:
            run = check_returns(ctx, None, period, progress=job.step, wait=30)
            last_checks[period.slug] = run.batch
            return run

        total = len(files_in(inbox))
        return start_job(f"校验{period.label}报回的文件（本次上传 {len(saved)} 个）",
                         url_for("returns", period=period.slug, note=notes), work, total=total)

    @app.post("/returns/receipt")
    def correct_receipt() -> Response:
        """The time a unit's return was received, set by the clerk (``shixiang receipt``)."""
        from ..submissions import set_receipt

        ctx = context()
        period = chosen_period(ctx)
        fix, has_return = set_receipt(ctx, period, request.form.get("unit", ""), request.form.get("at", ""))
        note = (f"已记录：{fix.unit}{period.label}填报表的收到时间为 {fix.received_at[:16].replace('T', ' ')}"
                + (f"（原为 {fix.previous[:16].replace('T', ' ')}）" if fix.previous else "") + "。"
                + ("请重新汇总台账，使台账和公文采用更正后的时间。" if has_return else "该单位报回并校验后即按此时间计。"))
        return redirect(url_for("returns", period=period.slug, note=note))

    @app.get("/ledger")
    def ledger() -> str:
        from ..status import report_status

        ctx = context()
        period = chosen_period(ctx)
        folder = ctx.workspace.folder("reports", period.slug)
        data = None
        if (folder / "台账.xlsx").exists():
            from ..report import ledger_for

            data = _safe(lambda: ledger_for(ctx, period), None)
        status = report_status(ctx, period)
        return page("ledger.html", ctx, period, data=data, status=status, files=files_in(folder, (".xlsx", ".pdf")),
                    counts=data.status_counts() if data else {})

    @app.post("/ledger/merge")
    def merge() -> Response:
        from ..merge import merge_returns

        ctx = context()
        period = chosen_period(ctx)
        pdf = request.form.get("pdf") == "1"

        def work(job: Job) -> Any:
            result = merge_returns(ctx, period, pdf=pdf, progress=job.step, wait=30)
            last_checks[period.slug] = result.batch
            return result

        total = len(files_in(ctx.workspace.folder("inbox", period.slug)))
        return start_job(f"汇总{period.label}台账", url_for("ledger", period=period.slug), work, total=total)

    @app.post("/ledger/chase")
    def chase_list() -> Response:
        from ..status import report_status

        ctx = context()
        period = chosen_period(ctx)
        report = report_status(ctx, period, xlsx=True)
        return redirect(url_for("download", area="reports", key=period.slug, name=report.xlsx.name))

    @app.post("/ledger/export")
    def export() -> Response:
        """Every merged period's values as one long table (``shixiang export``), handed over as the .xlsx."""
        from ..export import export_values

        ctx = context()
        result = export_values(ctx, ("xlsx", "csv"))
        xlsx = next(p for p in result.paths if p.suffix == ".xlsx")
        return redirect(url_for("download", area="year", key=str(ctx.config.year), name=xlsx.name))

    @app.get("/documents")
    def documents() -> str:
        ctx = context()
        period = chosen_period(ctx)
        files = files_in(ctx.workspace.folder("reports", period.slug), (".docx", ".pdf"))
        return page("documents.html", ctx, period, files=[f for f in files if f.suffix == ".docx"
                                                          or not f.name.startswith("台账")], warnings=[])

    @app.post("/documents/make")
    def make_documents() -> str:
        from ..report import write_reports

        ctx = context()
        period = chosen_period(ctx)
        kind = request.form.get("kind", "all")
        result = write_reports(ctx, period, kind if kind in ("通报", "进展报告", "all") else "all",
                               pdf=request.form.get("pdf") == "1")
        files = files_in(ctx.workspace.folder("reports", period.slug), (".docx", ".pdf"))
        return page("documents.html", ctx, period, files=[f for f in files if not f.name.startswith("台账")],
                    warnings=result.warnings, made=[p.name for p in result.paths])

    @app.get("/survey")
    def survey() -> str:
        from ..ballots import default_outdir

        ctx = context()
        return page("survey.html", ctx, chosen_period(ctx), files=files_in(default_outdir(ctx), (".xlsx", ".pdf")),
                    results=files_in(ctx.workspace.folder("reports") / str(ctx.config.year), (".xlsx",)),
                    tally=None)

    @app.post("/survey/ballots")
    def ballots() -> Response:
        from ..ballots import make_ballots

        ctx = context()
        try:
            count = int(request.form.get("count", "100"))
        except ValueError:
            abort(_refuse(400, "测评票张数应是一个整数。"))
        make_ballots(ctx, count, pdf=request.form.get("pdf") == "1")
        return redirect(url_for("survey"))

    @app.post("/survey/tally")
    def tally() -> str:
        from ..ballots import default_outdir, survey_title
        from ..tally import tally_survey

        ctx = context()
        folder = root / WEB_DIR / secrets.token_hex(8)
        try:
            saved, _ = save_uploads("entries", folder)
            if not saved:
                abort(_refuse(400, "请选择两名录入员各自录入的录入表。"))
            result = tally_survey(ctx, saved)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return page("survey.html", ctx, chosen_period(ctx), files=files_in(default_outdir(ctx), (".xlsx", ".pdf")),
                    results=files_in(ctx.workspace.folder("reports") / str(ctx.config.year), (".xlsx",)),
                    tally=result, summary=result.summary(survey_title(ctx)),
                    tally_findings=_rows([f for f in result.findings if f.severity is not Severity.INFO]))

    @app.get("/favicon.ico")
    def favicon() -> Response:
        return Response(status=204)

    # -------------------------------------------------------------- jobs

    @app.get("/jobs/<job_id>")
    def job_page(job_id: str) -> Response | str:
        job = jobs.get(job_id) or abort(404)
        if job.state == "done" and request.args.get("wait") is None:
            return redirect(job.next_url)
        return render_template("job.html", job=job, ctx=None, period=None, periods=[], endpoint="job")

    @app.get("/jobs/<job_id>.json")
    def job_json(job_id: str) -> Response:
        job = jobs.get(job_id) or abort(404)
        return jsonify(job.as_json())

    # -------------------------------------------------------------- downloads (chosen from our own listings)

    def area_folder(ctx: Any, area: str, key: str) -> Path:
        from ..ballots import default_outdir

        if area == "survey":
            return default_outdir(ctx)
        if area in ("survey-result", "year"):  # the year's own folder: survey results, the values' export
            return ctx.workspace.folder("reports") / str(ctx.config.year)
        if area not in ("outbox", "feedback", "reports"):
            abort(404)
        try:
            slug = Period.parse(key).slug
        except PeriodError:
            abort(404)
        if slug != key:
            abort(404)
        return ctx.workspace.folder(area, slug)

    @app.get("/download/<area>/<key>/<name>")
    def download(area: str, key: str, name: str) -> Response:
        ctx = context()
        listed = {p.name: p for p in files_in(area_folder(ctx, area, key))}
        path = listed.get(name) or abort(404)
        return send_file(path, as_attachment=True, download_name=path.name)

    @app.get("/download-all/<area>/<key>")
    def download_all(area: str, key: str) -> Response:
        ctx = context()
        files = files_in(area_folder(ctx, area, key), (".xlsx", ".pdf", ".docx"))
        if not files:
            abort(404)
        return send_file(io.BytesIO(_zip_bytes(files)), mimetype="application/zip", as_attachment=True,
                         download_name=f"{key}_{AREA_NAMES.get(area, area)}.zip")

    return app


NAV = (("workbench", "工作台"), ("projects", "项目清单"), ("issue", "下发"), ("returns", "回收与校验"),
       ("ledger", "台账"), ("documents", "公文"), ("survey", "满意度测评"))
AREA_NAMES = {"outbox": "填报表", "feedback": "退回修改标注件", "reports": "台账与报告", "survey": "满意度测评",
              "year": "全年"}


def _refuse(code: int, message: str) -> Response:
    resp = Response(render_template("error.html", error_message=message, ctx=None, period=None, periods=[],
                                    endpoint="error", csrf="", csrf_field=CSRF_FIELD, nav=NAV), code)
    resp.headers["Content-Type"] = "text/html; charset=utf-8"
    return resp


def _origins(host: str) -> set[str]:
    return {f"http://{host}"}


def _form_csrf() -> str | None:
    # Only urlencoded/multipart bodies hold a form field; reading it parses the body once (within the size limit).
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return request.form.get(CSRF_FIELD)
    return None


def _file_times(text: str, count: int) -> list[float | None]:
    """The uploaded files' own times (the page sends each file's lastModified, in milliseconds), where plausible:
    not in the future, not before 2000. Anything else is no time (the upload's time is used)."""
    import json

    out: list[float | None] = [None] * count
    try:
        values = json.loads(text) if text and len(text) < 40 * (count + 1) else []
    except ValueError:
        values = []
    now = dt.datetime.now().timestamp()
    for i, v in enumerate(values[:count] if isinstance(values, list) else []):
        if isinstance(v, (int, float)) and not isinstance(v, bool) and 946684800 <= v / 1000 <= now:
            out[i] = v / 1000
    return out


def _free_name(folder: Path, name: str, data: bytes) -> Path | None:
    """``folder/name``, or ``name（2）`` etc. when taken by other bytes; None when the same bytes are there."""
    from ..safename import split_ext

    stem, ext = split_ext(name)
    for k in range(1, 1000):
        target = folder / (name if k == 1 else f"{stem}（{k}）{ext}")
        if not target.exists():
            return target
        if target.is_file() and target.stat().st_size == len(data) and target.read_bytes() == data:
            return None
    raise ShixiangError(f"{folder} 中同名文件过多（{name}），请先整理该文件夹。")


def _workdir(root: Path) -> Path:
    folder = root / WEB_DIR
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _zip_bytes(files: list[Path]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for f in files:
            z.write(f, f.name)
    return buf.getvalue()


def _rows(findings: Any) -> list[dict[str, str]]:
    """Findings as table rows for the pages (error first, as the CLI sorts them)."""
    from ..findings import sort_key

    out = []
    for f in sorted(findings, key=sort_key):
        assert isinstance(f, Finding)
        out.append({"severity": f.severity.value, "level": "error" if f.is_error else (
            "warning" if f.severity is Severity.WARNING else "info"), "file": f.file, "sheet": f.sheet,
            "cell": f.cell, "unit": f.unit, "message": f.message, "code": f.code})
    return out


def _batch_rows(batch: Any) -> list[dict[str, Any]]:
    """Each file of the last batch checked here: its unit, status and findings at their cells."""
    if batch is None:
        return []
    from ..batch import STATUS_CN

    rows = []
    for r in batch.files:
        status = STATUS_CN["warned"] if r.status == "accepted" and r.warnings else STATUS_CN.get(r.status, r.status)
        rows.append({"unit": r.unit or "（无法识别）", "status": status, "name": r.source.name,
                     "errors": r.errors, "warnings": r.warnings, "findings": _rows(r.findings)})
    return rows


# ------------------------------------------------------------------ serving


class _QuietHandler(WSGIRequestHandler):
    """No line per request in the clerk's window (errors are still shown)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class Server:
    """A running server on a background thread (tests) or the main thread (``shixiang serve``)."""

    def __init__(self, app: Flask, host: str, port: int) -> None:
        self.app = app
        self.httpd = make_server(host, port, app, threaded=True, request_handler=_QuietHandler)
        self.port = self.httpd.server_port
        self.base = f"http://{host}:{self.port}"
        self.url = f"{self.base}/?token={app.config['SHIXIANG_TOKEN']}"
        self._thread: threading.Thread | None = None

    def start(self) -> "Server":
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="shixiang-serve", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(5)


def start(workspace: Path, *, port: int = 0, token: str | None = None, **limits: int) -> Server:
    """Serve ``workspace`` on 127.0.0.1:``port`` (0: any free port) on a background thread."""
    return Server(create_app(workspace, token, **limits), "127.0.0.1", port).start()


def serve(workspace: Path, *, port: int = DEFAULT_PORT, open_browser: bool = True,
          echo: Callable[[str], None] = print) -> None:
    """``shixiang serve``: check the workspace loads, serve it on 127.0.0.1 until Ctrl-C, open the browser."""
    from ..workspace import load_context

    load_context(Path(workspace))  # a missing or broken workspace is said before anything listens
    try:
        server = Server(create_app(workspace), "127.0.0.1", port)
    except OSError as exc:
        raise ShixiangError(f"端口 {port} 已被占用（可能已经启动过一个实事通页面）。请关闭它，或加 --port 换一个端口，"
                            f"例如 --port {port + 1}。") from exc
    echo(f"实事通已在本机启动，工作区：{Path(workspace).resolve()}")
    echo(f"请用浏览器打开（链接中含访问令牌，请勿外传）：\n  {server.url}")
    echo("用完后关闭本窗口，或按 Ctrl+C 停止。")
    if open_browser:
        import webbrowser

        threading.Timer(0.5, webbrowser.open, args=(server.url,)).start()
    try:
        server.httpd.serve_forever()  # werkzeug's: returns on Ctrl-C (and SIGTERM, via cli.py's stop_on_signals)
    finally:
        server.httpd.server_close()
    running = [j for j in server.app.config["SHIXIANG_JOBS"].values() if j.state == "running" and j.thread]
    if running:  # a merge half-way is finished, not abandoned (Ctrl-C again stops it: cli.py cleans up)
        echo("正在完成后台任务：" + "、".join(j.title for j in running) + " …")
        for j in running:
            j.thread.join()
    echo("实事通已停止。")
