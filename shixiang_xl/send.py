"""``shixiang send``: e-mail every unit its own report workbook (or a reminder to the units still missing).

A dry run by default: nothing leaves the machine until ``yes``. Every attempt is written to the ``sends`` table
the moment the server answers, so an interrupted batch can be finished with ``retry_failed`` and a re-run never
sends the same file to the same unit twice (unless ``resend``). The password is an argument or an environment
variable, never configuration, and is never logged or stored.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
import smtplib
import socket
import ssl
from dataclasses import dataclass
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Sequence

from .config import Config, SmtpSettings
from .errors import ShixiangError
from .findings import Finding, finding
from .period import Period
from .spec import TemplateSpec
from .store import open_store, period_rows, record_send, sends_of
from .textnorm import cn_date
from .workspace import Context

XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
TIMEOUT = 30.0

# Results that count as "not delivered" for --retry-failed.
FAILED = ("refused", "failed", "no-address")

RESULT_CN = {
    "preview": "待发送", "skipped": "已发送过，跳过", "no-address": "无邮箱", "sent": "已发送",
    "partial": "部分收件人被拒", "refused": "被拒收", "failed": "发送失败", "draft": "已生成草稿",
}


# ------------------------------------------------------------------ results


@dataclass(frozen=True)
class SendOutcome:
    """What happened (or, in a dry run, would happen) for one unit."""

    unit: str
    addresses: tuple[str, ...]
    file: Path | None
    sha256: str
    result: str  # preview | skipped | no-address | sent | partial | refused | failed | draft
    detail: str = ""
    delivered: tuple[str, ...] = ()
    refused: tuple[str, ...] = ()
    subject: str = ""
    eml: Path | None = None

    @property
    def result_cn(self) -> str:
        return RESULT_CN.get(self.result, self.result)

    @property
    def ok(self) -> bool:
        return self.result not in ("no-address", "partial", "refused", "failed")


@dataclass(frozen=True)
class SendResult:
    """Per-unit outcomes of one ``send_workbooks`` call, with the findings a clerk must act on."""

    period: Period
    mode: str  # preview | send | eml
    remind: bool
    outcomes: tuple[SendOutcome, ...]
    findings: tuple[Finding, ...] = ()
    sender: str = ""
    smtp_configured: bool = False
    generated: tuple[str, ...] = ()
    eml_dir: Path | None = None
    retry_failed: bool = False

    def count(self, *results: str) -> int:
        return sum(o.result in results for o in self.outcomes)

    @property
    def ok(self) -> bool:
        """True when nothing failed (a dry run is always ok)."""
        return all(o.ok for o in self.outcomes) if self.mode != "preview" else True

    def preview_lines(self) -> list[str]:
        """Who gets what, one line per unit, between the heading and the closing lines (terminal and demo)."""
        return self.heading_lines() + self.unit_lines() + self.closing_lines()

    def heading_lines(self) -> list[str]:
        """What this run is: mode, period, how many messages, sender and a sample subject."""
        what = "催报邮件" if self.remind else "填报表"
        todo = [o for o in self.outcomes if o.result in ("preview", "sent", "partial", "refused", "failed", "draft")]
        heads = {"preview": "预览（未发送任何邮件）", "send": "发送结果", "eml": "邮件草稿"}
        return [f"{heads[self.mode]}：{self.period.label}{what}，涉及 {len(self.outcomes)} 个单位，"
                f"{'将' if self.mode == 'preview' else '已'}处理 {len(todo)} 封邮件。",
                f"发件人：{self.sender or '（未配置）'}" + (f"；主题如：{todo[0].subject}" if todo else "")]

    def unit_lines(self) -> list[str]:
        """One line per unit."""
        lines = []
        for o in self.outcomes:
            name = o.file.name if o.file else ""
            if o.result == "preview":
                lines.append(f"{o.unit} → {'；'.join(o.addresses)}：{name}")
            elif o.result == "no-address":
                lines.append(f"{o.unit}：单位名录中没有邮箱，无法发送（请在 单位名录.xlsx 中补充）")
            elif o.result == "skipped":
                lines.append(f"{o.unit}：{o.detail}")
            else:
                extra = f"（{o.detail}）" if o.detail else ""
                lines.append(f"{o.unit} → {'；'.join(o.addresses)}：{o.result_cn}{extra}")
        return lines

    def closing_lines(self) -> list[str]:
        """What was done and what to do next."""
        lines = []
        if self.generated:
            lines.append(f"outbox 中缺少的 {len(self.generated)} 份填报表已先行生成。")
        if self.mode == "preview":
            lines.append("以上为预览。确认无误后加 --yes 发送，或加 --eml 文件夹 生成可用邮箱客户端发送的草稿。")
            if not self.smtp_configured:
                lines.append("尚未配置发信服务器：请在 shixiang.toml 的 [smtp] 中填写 host、port、user、security、sender。")
        elif self.mode == "eml":
            lines.append(f"草稿已写入 {self.eml_dir}，双击即可在邮箱客户端中打开、核对后发送。")
        else:
            bad = self.count("no-address", "partial", "refused", "failed")
            lines.append(f"已发送 {self.count('sent', 'partial')} 封，失败 {bad} 个单位。"
                         + ("失败的可在处理后加 --retry-failed 补发。" if bad else ""))
        return lines


# ------------------------------------------------------------------ message text (pure)


def subject_for(period: Period, unit: str, due: dt.date, *, remind: str = "", today: dt.date | None = None) -> str:
    """【请于3月25日前报送】2026年3月十件实事进度填报表（区卫生健康局）, or the reminder's subject.

    ``remind`` is the unit's state on the chase list (未报送 / 退回修改), empty for the first sending.
    """
    what = f"{period.label}十件实事进度填报表（{unit}）"
    if remind == "退回修改":
        return f"【请修改后重新报送】{what}"
    if remind:
        if today is not None and today > due:
            return f"【催报】{period.label}十件实事进度填报表已逾期，请尽快报送（{unit}）"
        return f"【催报】请于{due.month}月{due.day}日前报送{what}"
    return f"【请于{due.month}月{due.day}日前报送】{what}"


def body_for(config: Config, spec: TemplateSpec | None, period: Period, unit: str, filename: str, *,
             lead_projects: int = 0, co_projects: int = 0, remind: str = "", today: dt.date | None = None) -> str:
    """The Chinese body: due date, what to fill in, how to return it, and the office contact."""
    today = today or dt.date.today()
    due = period.due(config.due_day)
    office = config.office
    lines = [f"{unit}：", ""]
    if remind == "退回修改":
        lines.append(f"　　你单位报送的{period.label}十件实事进度填报表经校验存在问题，已退回修改。请按退回修改意见"
                     f"逐项修改，确认自检通过后尽快直接回复本邮件重新报送{office}。附件为你单位本期的填报表，供核对。")
    elif remind:
        late = (today - due).days
        when = f"已逾期 {late} 天，" if late > 0 else ""
        lines.append(f"　　{period.label}十件实事进度填报表的报送截止时间为{cn_date(due)}，目前尚未收到你单位的报送材料，"
                     f"{when}请抓紧填报，并尽快直接回复本邮件报送{office}。为方便填报，附件再次附上你单位的填报表。")
    else:
        lines.append(f"　　现将{period.label}《{config.full_title}进度填报表》发给你单位（见附件），请认真填报，"
                     f"于{cn_date(due)}前直接回复本邮件，将填好的表格报送{office}。")
    lines += ["", "一、填报内容"]
    roles = "、".join(x for x in (f"牵头 {lead_projects} 个项目" if lead_projects else "",
                                  f"协办 {co_projects} 个项目" if co_projects else "") if x)
    parts = []
    if spec is not None:
        if lead_projects:
            parts.append(f"在“{spec.lead.sheet}”工作表填写{'、'.join(c.heading for c in spec.lead.inputs)}")
        if co_projects:
            parts.append(f"在“{spec.co.sheet}”工作表填写{'、'.join(c.heading for c in spec.co.inputs)}")
        if spec.fields:
            parts.append(f"在“{spec.info_sheet}”工作表填写{'、'.join(f.heading for f in spec.fields)}")
    lines.append(f"　　{'你单位' + roles + '。' if roles else ''}请打开附件，" + ("；".join(parts) or "填写黄色单元格")
                 + "。")
    lines += [
        "",
        "二、填报要求",
        "　　1. 只填黄色单元格；灰色单元格为下发内容，已锁定，请勿改动，也不要插入或删除行列、修改工作表名称。",
        "　　2. 数字格只填数字，不带单位；“累计完成值”为年初至本期末的累计数。",
        f"　　3. 填好后请确认“{spec.info_sheet if spec else '填报说明'}”页上方的自检提示变为绿色，经分管负责人审核后报送。",
        "　　4. 请直接回传本表格文件（文件名可保留原样），不要转成 PDF、图片，也不要另存为其他格式。",
        "",
    ]
    contact = "，".join(x for x in (config.contact, f"电话 {config.phone}" if config.phone else "",
                                    f"邮箱 {config.email}" if config.email else "") if x)
    lines.append(f"　　如有疑问，请联系{office}" + (f"（{contact}）" if contact else "") + "。")
    lines += ["", f"{office}", cn_date(today), "", f"附件：{filename}", ""]
    return "\n".join(lines)


def build_message(config: Config, spec: TemplateSpec | None, *, period: Period, unit: str,
                  addresses: Sequence[str], attachment: bytes, filename: str, sender: str = "",
                  lead_projects: int = 0, co_projects: int = 0, remind: str = "",
                  now: dt.datetime | None = None, message_id: str | None = None) -> EmailMessage:
    """One unit's message, ready for SMTP or to save as .eml (pure: no I/O).

    Headers are RFC 2047-encoded, the body base64 (so any server will carry it, 8BITMIME or not), and the
    attachment name RFC 2231 UTF-8 (``filename*=utf-8''…``) so Chinese names survive common clients.
    """
    now = now or dt.datetime.now().astimezone()
    msg = EmailMessage(policy=policy.SMTP)
    due = period.due(config.due_day)
    msg["Subject"] = subject_for(period, unit, due, remind=remind, today=now.date())
    if sender:
        msg["From"] = Address(display_name=config.office, addr_spec=sender)
    msg["To"] = [Address(display_name=unit, addr_spec=a) for a in addresses]
    if config.email and config.email != sender:
        msg["Reply-To"] = Address(display_name=config.office, addr_spec=config.email)  # returns reach the office
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = message_id or make_msgid("shixiang", domain=_domain(sender))
    msg.set_content(body_for(config, spec, period, unit, filename, lead_projects=lead_projects,
                             co_projects=co_projects, remind=remind, today=now.date()), cte="base64")
    # No Content-Type ``name=`` parameter: the stdlib folds a long non-ASCII one into a broken media type.
    msg.add_attachment(attachment, maintype=XLSX_TYPE[0], subtype=XLSX_TYPE[1], filename=filename)
    return msg


def _domain(address: str) -> str:
    return address.rpartition("@")[2] or "shixiang.local"


# ------------------------------------------------------------------ planning


@dataclass
class _Plan:
    unit: str
    addresses: tuple[str, ...]
    file: Path
    sha256: str
    lead: int
    co: int
    remind: str = ""
    skip: str = ""  # why nothing is sent (already delivered)


def _file_sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _workbooks(ctx: Context, period: Period, units: Sequence[str]) -> tuple[dict[str, Path], tuple[str, ...]]:
    """Each unit's workbook in outbox/<period>/, generating only the missing ones.

    Existing files are never regenerated: a new issue time would change the bytes, and with them what "the
    same file" means to the dedupe below.
    """
    from .generate import file_name, generate_workbooks

    outdir = ctx.workspace.folder("outbox", period.slug)
    paths = {u: outdir / file_name(period, u) for u in units}
    missing = [u for u, p in paths.items() if not p.exists()]
    if missing:
        generate_workbooks(ctx, period, missing)
    return paths, tuple(missing)


def _scope(ctx: Context, period: Period, units: Sequence[str] | None, remind: bool) -> list[tuple[str, str]]:
    """(unit, chase state) for every unit to consider, in project-list order."""
    from .generate import _resolve_units

    chosen = _resolve_units(ctx, units) if units else list(ctx.projects.units)
    if not remind:
        return [(u, "") for u in chosen]
    from .status import report_status

    chase = {s.unit: s.state for s in report_status(ctx, period).chase}
    return [(u, chase[u]) for u in chosen if u in chase]


# ------------------------------------------------------------------ SMTP


class _Dead(Exception):
    """The server cannot be reached or will not let us in: stop trying for this batch."""


def _reply_text(resp: bytes | str) -> str:
    text = resp.decode("utf-8", "replace") if isinstance(resp, bytes) else str(resp)
    return " ".join(text.split())[:200]


class _Mailer:
    """One SMTP connection per batch, reopened once when the server drops it mid-batch."""

    def __init__(self, smtp: SmtpSettings, password: str | None, timeout: float) -> None:
        self.smtp = smtp
        self.password = password
        self.timeout = timeout
        self.conn: smtplib.SMTP | None = None

    def _open(self) -> smtplib.SMTP:
        s = self.smtp
        context = ssl.create_default_context()
        # EHLO with the plain host name: socket.getfqdn() may wait for DNS for a long time on office networks.
        local = socket.gethostname() or "localhost"
        try:
            if s.security == "ssl":
                conn: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, local_hostname=local, timeout=self.timeout,
                                                      context=context)
            else:
                conn = smtplib.SMTP(s.host, s.port, local_hostname=local, timeout=self.timeout)
        except (OSError, smtplib.SMTPException) as exc:
            raise _Dead(f"无法连接邮件服务器 {s.host}:{s.port}（{_why(exc)}）{_mode_hint(s)}")
        try:
            conn.ehlo()
            if s.security == "starttls":
                conn.starttls(context=context)
                conn.ehlo()
            if s.user:
                conn.login(s.user, self.password or "")
        except smtplib.SMTPAuthenticationError:
            conn.close()
            raise _Dead(f"登录邮件服务器失败：用户名 {s.user} 或密码不对（有的邮箱要用“授权码”代替密码）")
        except UnicodeError:  # smtplib sends AUTH credentials as ASCII only
            conn.close()
            raise _Dead("登录邮件服务器失败：用户名或密码中有中文等非英文字符，无法登录。请改用邮箱的“授权码”")
        except (OSError, smtplib.SMTPException) as exc:
            conn.close()
            raise _Dead(f"与邮件服务器 {s.host}:{s.port} 建立会话失败（{_why(exc)}）{_mode_hint(s)}")
        return conn

    def send(self, sender: str, to: Sequence[str], data: bytes) -> dict[str, str]:
        """Send one message; return the refused recipients {address: reason}.

        Raises :class:`_Dead` when the server cannot be reached, ``ConnectionError`` when it dropped us twice,
        ``smtplib.SMTPException`` for a message the server turned down.
        """
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = self._open()
            try:
                refused = self.conn.sendmail(sender, list(to), data)
                return {a: f"{code} {_reply_text(resp)}" for a, (code, resp) in refused.items()}
            except smtplib.SMTPRecipientsRefused as exc:
                if self.conn.sock is not None:  # a 421 closes the socket: that is a drop, not a refusal
                    return {a: f"{code} {_reply_text(resp)}" for a, (code, resp) in exc.recipients.items()}
                reason = "服务器关闭了连接"
            except smtplib.SMTPResponseException as exc:
                if self.conn.sock is not None:
                    raise
                reason = f"服务器关闭了连接（{exc.smtp_code} {_reply_text(exc.smtp_error)}）"
            except (smtplib.SMTPServerDisconnected, OSError) as exc:
                reason = f"连接中断（{_why(exc)}）"
            except smtplib.SMTPException as exc:  # e.g. the server lacks an extension this message needs
                if self.conn.sock is not None:
                    raise
                reason = f"服务器关闭了连接（{_why(exc)}）"
            self.close()
            if attempt == 2:
                raise ConnectionError(reason)
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        if self.conn is None:
            return
        try:
            self.conn.quit()
        except (OSError, smtplib.SMTPException):
            self.conn.close()
        self.conn = None


# The ports mail providers use for each way of encrypting (163, QQ, Exmail, Aliyun all follow them).
_PORT_SECURITY = {465: "ssl", 587: "starttls"}


def _mode_hint(s: SmtpSettings) -> str:
    """What to change when the port and the way of encrypting do not go together (465 is ssl, 587 starttls)."""
    usual = _PORT_SECURITY.get(s.port)
    if usual is None or usual == s.security:
        return ""
    return f"。{s.port} 端口一般用加密方式 security = \"{usual}\"，当前为 \"{s.security}\"，请在 shixiang.toml 的 [smtp] 中核对"


def _why(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (f"服务器的安全证书未通过校验（{exc.verify_message or exc.reason or exc}）。请核对 host 是否是邮箱服务商"
                "给出的服务器名称（如 smtp.163.com），不要填 IP 地址；单位内网的服务器请联系网络管理员")
    if isinstance(exc, ssl.SSLError):
        return f"加密连接失败（{exc.reason or exc}）"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return "服务器不支持 STARTTLS：请把 security 改为 \"ssl\"（465 端口），或询问邮箱服务商"
    if isinstance(exc, TimeoutError):
        return "连接超时"
    if isinstance(exc, ConnectionRefusedError):
        return "连接被拒绝，服务器可能未运行或端口不对"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_reply_text(exc.smtp_error)}"
    return str(exc) or type(exc).__name__


# ------------------------------------------------------------------ the batch


def send_workbooks(ctx: Context, period: Period, *, yes: bool = False, eml_dir: Path | None = None,
                   remind: bool = False, retry_failed: bool = False, resend: bool = False,
                   password: str | None = None, units: Sequence[str] | None = None,
                   timeout: float = TIMEOUT, now: dt.datetime | None = None) -> SendResult:
    """E-mail each unit its workbook for ``period`` (``remind``: only the chase list, with a reminder text).

    Without ``yes`` or ``eml_dir`` nothing is sent or recorded: the result is a preview. ``eml_dir`` writes
    one .eml draft per unit instead of sending. ``password`` is used for the SMTP login; when None the
    environment variable named by ``[smtp] password_env`` is read. Workbooks missing from outbox/<period>/
    are generated first.
    """
    if yes and eml_dir is not None:
        raise ShixiangError("--yes 与 --eml 不能同时使用：要么直接发送，要么只生成草稿。")
    cfg, smtp = ctx.config, ctx.config.smtp
    if period.year != cfg.year:
        raise ShixiangError(f"报送期 {period.label} 不属于工作区的年度 {cfg.year} 年。")
    mode = "send" if yes else ("eml" if eml_dir is not None else "preview")
    sender = smtp.sender or (smtp.user if "@" in smtp.user else "") or cfg.email
    if sender and not usable_address(sender):
        raise ShixiangError(f"发件人地址「{sender}」格式不正确，请检查 shixiang.toml 的 [smtp] sender。")
    if mode == "send":
        if not smtp.configured:
            raise ShixiangError("尚未配置发信服务器：请在 shixiang.toml 的 [smtp] 中填写 host、port、user、security、sender。")
        if not sender:
            raise ShixiangError("不知道用哪个地址发信：请在 shixiang.toml 的 [smtp] 中填写 sender（发件人地址）。")
        if smtp.user and password is None:
            password = os.environ.get(smtp.password_env) or None
            if password is None:
                raise ShixiangError(f"需要邮箱密码：请设置环境变量 {smtp.password_env}，或在命令行运行时按提示输入。")
    now = now or dt.datetime.now().astimezone()
    kind = "remind" if remind else "report"
    # Reminders dedupe per calendar day of the actual sending (``now`` only dates the message text).
    day = dt.date.today().isoformat() if remind else ""

    scope = _scope(ctx, period, units, remind)
    paths, generated = _workbooks(ctx, period, [u for u, _ in scope])
    contacts = {u.name: u for u in ctx.directory.units}
    plans: list[_Plan] = []
    outcomes: list[SendOutcome] = []
    findings: list[Finding] = []
    with open_store(ctx.workspace.db_path) as store:
        for unit, state in scope:
            entry = contacts.get(unit)
            addresses = tuple(dict.fromkeys(a.strip() for a in (entry.emails if entry else ()) if a.strip()))
            path = paths[unit]
            sha = _file_sha(path)
            history = sends_of(store.conn, period.slug, kind, unit, sha, day)
            delivered = {r["address"]: r["sent_at"] for r in history if r["result"] == "sent"}
            latest = {r["address"]: r["result"] for r in history}
            plan = _Plan(unit, addresses, path, sha, len(ctx.projects.led_by(unit)), len(ctx.projects.co_led_by(unit)),
                         state)
            if retry_failed:
                if not any(res in FAILED for res in latest.values()):
                    continue  # nothing failed for this unit: --retry-failed leaves it alone
                if not resend:
                    plan.addresses = tuple(a for a in addresses if a not in delivered)
                    if addresses and not plan.addresses:
                        continue  # every current address has it; the failure was for an address since removed
            elif delivered and not resend:
                when = max(delivered.values())[:16].replace("T", " ")
                plan.skip = f"本文件已于 {when} 发送至 {'；'.join(delivered)}，不再重复发送（如需重发加 --resend）"
            plans.append(plan)

        mailer = _Mailer(smtp, password, timeout) if mode == "send" else None
        dead = ""
        try:
            for plan in plans:
                outcome, more, dead = _deliver(ctx, plan, period, mode, kind, sender, now, eml_dir, mailer, dead,
                                               store)
                outcomes.append(outcome)
                findings += more
        finally:
            if mailer is not None:
                mailer.close()
    return SendResult(period, mode, remind, tuple(outcomes), tuple(findings), sender, smtp.configured, generated,
                      eml_dir, retry_failed)


def usable_address(address: str) -> bool:
    """True when ``address`` can go into RCPT TO as plain ASCII (no SMTPUTF8) and into a To: header."""
    if not address or not address.isascii() or any(ch in address for ch in ' <>,;:"()[]\\\r\n\t'):
        return False
    try:
        Address(addr_spec=address)
    except (ValueError, IndexError, TypeError):
        return False
    return True


def _deliver(ctx: Context, plan: _Plan, period: Period, mode: str, kind: str, sender: str, now: dt.datetime,
             eml_dir: Path | None, mailer: _Mailer | None, dead: str, store) -> tuple[SendOutcome, list[Finding], str]:
    """Send (or preview, or draft) one plan; record every attempt; return the outcome and the batch's dead reason.

    An address no server could accept (Chinese characters, spaces) is refused here, without a round trip.
    """
    invalid = tuple(a for a in plan.addresses if not usable_address(a)) if not plan.skip else ()
    if not invalid:
        return _deliver_valid(ctx, plan, period, mode, kind, sender, now, eml_dir, mailer, dead, store)
    why = "邮箱地址格式无效，无法发送"
    if mode in ("send", "eml"):
        for a in invalid:
            record_send(store.conn, period.slug, kind, plan.unit, a, plan.file.name, plan.sha256,
                        dt.datetime.now().astimezone().isoformat(timespec="seconds"), "refused", detail=why)
    bad = [finding("mail-refused", f"「{plan.unit}」的邮箱「{a}」格式无效，无法发送。请在 单位名录.xlsx 中改正后加 "
                   f"--retry-failed 补发。", unit=plan.unit) for a in invalid]
    valid = tuple(a for a in plan.addresses if a not in invalid)
    note = "；".join(f"{a} 地址无效" for a in invalid)
    if not valid:
        return SendOutcome(plan.unit, plan.addresses, plan.file, plan.sha256, "refused", note, (), invalid), bad, dead
    outcome, more, dead = _deliver_valid(ctx, dataclasses.replace(plan, addresses=valid), period, mode, kind, sender,
                                         now, eml_dir, mailer, dead, store)
    result = "partial" if outcome.result == "sent" else outcome.result
    detail = "；".join(x for x in (outcome.detail, note) if x)
    return dataclasses.replace(outcome, addresses=plan.addresses, result=result, detail=detail,
                               refused=outcome.refused + invalid), bad + more, dead


def _deliver_valid(ctx: Context, plan: _Plan, period: Period, mode: str, kind: str, sender: str, now: dt.datetime,
                   eml_dir: Path | None, mailer: _Mailer | None, dead: str, store
                   ) -> tuple[SendOutcome, list[Finding], str]:
    base = dict(unit=plan.unit, addresses=plan.addresses, file=plan.file, sha256=plan.sha256)
    if plan.skip:
        return SendOutcome(**base, result="skipped", detail=plan.skip), [], dead

    def record(address: str, result: str, message_id: str = "", detail: str = "") -> None:
        if mode == "preview":
            return
        record_send(store.conn, period.slug, kind, plan.unit, address, plan.file.name, plan.sha256,
                    dt.datetime.now().astimezone().isoformat(timespec="seconds"), result, message_id, detail)

    if not plan.addresses:
        record("", "no-address", detail="单位名录中没有邮箱")
        f = finding("mail-no-address", f"「{plan.unit}」在单位名录中没有电子邮箱，未发送。请在 单位名录.xlsx 中补充后"
                    f"加 --retry-failed 补发。", unit=plan.unit)
        return SendOutcome(**base, result="no-address", detail="单位名录中没有邮箱"), [f], dead
    msg = build_message(ctx.config, ctx.spec, period=period, unit=plan.unit, addresses=plan.addresses,
                        attachment=plan.file.read_bytes(), filename=plan.file.name, sender=sender,
                        lead_projects=plan.lead, co_projects=plan.co, remind=plan.remind, now=now)
    subject, message_id = str(msg["Subject"]), str(msg["Message-ID"])
    base["subject"] = subject
    if mode == "preview":
        return SendOutcome(**base, result="preview"), [], dead
    data = msg.as_bytes(policy=policy.SMTP)
    if mode == "eml":
        assert eml_dir is not None
        from .safename import joined_name
        from .xlsxout import atomic_write_bytes

        # X-Unsent makes Outlook open the file as a draft with a Send button.
        draft = b"X-Unsent: 1\r\n" + data
        path = eml_dir / joined_name((period.slug, plan.unit), (".催报" if plan.remind else "") + ".eml")
        atomic_write_bytes(path, draft)
        for a in plan.addresses:
            record(a, "draft", message_id, str(path))
        return SendOutcome(**base, result="draft", eml=path), [], dead

    assert mailer is not None
    if dead:
        for a in plan.addresses:
            record(a, "failed", message_id, dead)
        return SendOutcome(**base, result="failed", detail=dead), [
            finding("mail-failed", f"未能发送给「{plan.unit}」：{dead}。处理后加 --retry-failed 补发。",
                    unit=plan.unit)], dead
    try:
        refused = mailer.send(sender, plan.addresses, data)
    except _Dead as exc:
        return _deliver_valid(ctx, plan, period, mode, kind, sender, now, eml_dir, mailer, str(exc), store)
    except ConnectionError as exc:
        reason = str(exc)
        for a in plan.addresses:
            record(a, "failed", message_id, reason)
        return SendOutcome(**base, result="failed", detail=reason), [
            finding("mail-failed", f"发送给「{plan.unit}」时{reason}，未发出。加 --retry-failed 补发。",
                    unit=plan.unit)], dead
    except smtplib.SMTPException as exc:
        reason = f"服务器拒绝了这封邮件（{_why(exc)}）"
        for a in plan.addresses:
            record(a, "failed", message_id, reason)
        return SendOutcome(**base, result="failed", detail=reason), [
            finding("mail-failed", f"发送给「{plan.unit}」失败：{reason}。", unit=plan.unit)], dead
    delivered = tuple(a for a in plan.addresses if a not in refused)
    for a in plan.addresses:
        if a in refused:
            record(a, "refused", message_id, refused[a])
        else:
            record(a, "sent", message_id)
    more = [finding("mail-refused", f"「{plan.unit}」的邮箱 {a} 被服务器拒收（{why}）。请核对 单位名录.xlsx 中的邮箱，"
                    f"改正后加 --retry-failed 补发。", unit=plan.unit) for a, why in refused.items()]
    result = "sent" if not refused else ("partial" if delivered else "refused")
    detail = "；".join(f"{a} 被拒收" for a in refused)
    return SendOutcome(**base, result=result, detail=detail, delivered=delivered, refused=tuple(refused)), \
        more, dead


def sent_records(ctx: Context, period: Period) -> list[dict]:
    """Every recorded attempt for ``period`` (oldest first), as plain dicts: for reports and tests."""
    return period_rows(ctx.workspace.db_path, "sends", period.slug)
