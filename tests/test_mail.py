"""E-mail: ``send`` against a real SMTP server on loopback (aiosmtpd), and ``collect`` on drafts and hostile mail.

The server runs in a thread on 127.0.0.1 with a free port. Its handler records every envelope, can refuse a
recipient (550 at RCPT), can drop one connection mid-batch while still listening (the sender must reconnect),
and can go away mid-batch: it stops listening and drops the connection inside DATA, so the next connect is
refused at once — deterministic, and bounded by the client's timeout. No warnings filter is needed: aiosmtpd
1.4 emits none on this path, and the suite runs with warnings as errors.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import email
import hashlib
import mailbox
import os
import socket
import ssl
import subprocess
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from click.testing import CliRunner

from shixiang_xl import collect as collect_mod
from shixiang_xl.cli import main
from shixiang_xl.collect import collect_returns, collected_records, safe_name
from shixiang_xl.config import SmtpSettings, load_config, render_config
from shixiang_xl.generate import file_name, generate_workbooks
from shixiang_xl.period import Period
from shixiang_xl.send import build_message, send_workbooks, sent_records
from shixiang_xl.units import Directory, write_directory
from shixiang_xl.workspace import Context, init_workspace, load_context
from shixiang_xl.xlsxout import atomic_write_text

PERIOD = Period.parse("2026-03")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# ------------------------------------------------------------------ the SMTP server


@dataclasses.dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    tls: str = ""  # the TLS version the message came over ("" when in the clear)


class Recorder:
    """aiosmtpd handler: records envelopes; refuses, drops or goes away on request."""

    def __init__(self, refuse: tuple[str, ...] = (), drop_once_after: int | None = None,
                 gone_after: int | None = None) -> None:
        self.received: list[Received] = []
        self.refuse = set(refuse)
        self.drop_once_after = drop_once_after
        self.gone_after = gone_after
        self.dropped = 0
        self.controller: Controller | None = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        n = len(self.received)
        if self.gone_after is not None and n >= self.gone_after:
            self.controller.server.close()  # stop listening first: the client's reconnect is refused
            server.transport.close()
            return "421 4.3.2 shutting down"
        if self.drop_once_after is not None and n == self.drop_once_after and not self.dropped:
            self.dropped += 1
            server.transport.close()
            return "421 4.4.2 connection dropped"
        msg = email.message_from_bytes(envelope.content, policy=policy.default)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), msg, _tls_version(server)))
        return "250 2.0.0 accepted"

    def by_unit(self) -> dict[str, list[Received]]:
        out: dict[str, list[Received]] = {}
        for r in self.received:
            unit = r.message["To"].addresses[0].display_name
            out.setdefault(unit, []).append(r)
        return out


def _tls_version(server) -> str:
    """The TLS version of the server's side of the connection ("" when it is not encrypted)."""
    ssl_object = server.transport.get_extra_info("ssl_object")
    return ssl_object.version() if ssl_object is not None else ""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A running aiosmtpd Controller on 127.0.0.1; ``stop`` is safe to call twice."""

    def __init__(self, handler: Recorder, **kwargs) -> None:
        self.handler = handler
        self.port = _free_port()
        self.controller = Controller(handler, hostname="127.0.0.1", port=self.port, ready_timeout=10, **kwargs)
        handler.controller = self.controller
        self.controller.start()
        self.running = True

    def stop(self) -> None:
        if self.running:
            self.controller.stop()
            self.running = False


@pytest.fixture
def servers():
    started: list[Server] = []

    def start(handler: Recorder, **kwargs) -> Server:
        server = Server(handler, **kwargs)
        started.append(server)
        return server

    yield start
    for s in started:
        s.stop()


# ------------------------------------------------------------------ workspace helpers


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    return init_workspace(tmp_path / "ws", "yanzhou-2026").root


def use_server(root: Path, port: int, security: str = "none", **smtp) -> Context:
    """Point the workspace's [smtp] at the loopback server (plain SMTP unless told) and reload it."""
    path = root / "shixiang.toml"
    config = load_config(path)
    settings = SmtpSettings(host="127.0.0.1", port=port, security=security, sender="ducha@example.com",
                            **smtp)
    atomic_write_text(path, render_config(dataclasses.replace(config, smtp=settings)))
    ctx = load_context(root)
    assert ctx.config.smtp.port == port and ctx.config.smtp.security == security
    return ctx


def set_emails(root: Path, emails: dict[str, tuple[str, ...]]) -> Context:
    """Rewrite 单位名录.xlsx with some units' addresses replaced (an empty tuple: no address)."""
    ctx = load_context(root)
    units = tuple(dataclasses.replace(u, emails=emails.get(u.name, u.emails)) for u in ctx.directory.units)
    write_directory(root / "单位名录.xlsx", Directory(units))
    ctx = load_context(root)
    for name, addresses in emails.items():
        assert ctx.directory.get(name).emails == addresses
    return ctx


def outbox_bytes(ctx: Context, unit: str) -> bytes:
    return (ctx.workspace.folder("outbox", PERIOD.slug) / file_name(PERIOD, unit)).read_bytes()


def attachment(msg: EmailMessage) -> tuple[str, bytes, str]:
    (att,) = list(msg.iter_attachments())
    return att.get_filename(), att.get_content(), att.get_content_type()


def body(msg: EmailMessage) -> str:
    return msg.get_body(("plain",)).get_content()


def units_of(ctx: Context) -> list[str]:
    return list(ctx.projects.units)


# ------------------------------------------------------------------ build_message (pure)


def test_build_message_encodes_chinese_subject_body_and_rfc2231_attachment_name(context):
    name = file_name(PERIOD, "区卫生健康局")
    data = b"PK\x03\x04" + bytes(range(256)) * 40
    now = dt.datetime(2026, 3, 18, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    msg = build_message(context.config, context.spec, period=PERIOD, unit="区卫生健康局",
                        addresses=["weijian@example.com", "wj2@example.com"], attachment=data, filename=name,
                        sender="ducha@example.com", lead_projects=1, now=now)
    raw = msg.as_bytes(policy=policy.SMTP)
    raw.decode("ascii")  # every header and body encoded: survives any server, 8BITMIME or not
    assert b"filename*0*=utf-8''" in raw or b"filename*=utf-8''" in raw  # RFC 2231, UTF-8
    assert b"=?utf-8?" in raw.split(b"\r\n\r\n")[0]  # the Chinese subject is RFC 2047-encoded
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert parsed["Subject"] == "【请于3月25日前报送】2026年3月十件实事进度填报表（区卫生健康局）"
    assert [a.addr_spec for a in parsed["To"].addresses] == ["weijian@example.com", "wj2@example.com"]
    assert parsed["From"].addresses[0].display_name == "区委区政府督查室"
    assert parsedate_to_datetime(parsed["Date"]) == now
    assert attachment(parsed) == (name, data, XLSX)
    text = body(parsed)
    for part in ("区卫生健康局：", "2026年3月25日前", "牵头 1 个项目", "“进度填报”工作表", "累计完成值", "填报人",
                 "刘洋", "0537-3410000", "ducha@example.com", "区委区政府督查室", f"附件：{name}", "2026年3月18日"):
        assert part in text, part
    assert "协办事项" not in text  # this unit only leads: no word about the co-unit sheet


def test_reminder_subjects_before_and_after_the_due_date(context):
    def subject(state: str, day: int) -> str:
        now = dt.datetime(2026, 3, day, 9, 0).astimezone()
        msg = build_message(context.config, context.spec, period=PERIOD, unit="区民政局", addresses=["m@example.com"],
                            attachment=b"PK\x03\x04", filename="a.xlsx", remind=state, now=now)
        return str(msg["Subject"]), body(email.message_from_bytes(msg.as_bytes(), policy=policy.default))

    s, text = subject("未报送", 20)
    assert s == "【催报】请于3月25日前报送2026年3月十件实事进度填报表（区民政局）" and "尚未收到你单位" in text
    s, text = subject("未报送", 28)
    assert s == "【催报】2026年3月十件实事进度填报表已逾期，请尽快报送（区民政局）" and "已逾期 3 天" in text
    s, text = subject("退回修改", 28)
    assert s == "【请修改后重新报送】2026年3月十件实事进度填报表（区民政局）" and "退回修改意见" in text


# ------------------------------------------------------------------ send


def test_send_delivers_every_unit_its_own_workbook_once(ws, servers):
    ctx = set_emails(ws, {"区民政局": ("minzheng@example.com", "mz-office@example.com")})
    server = servers(Recorder())
    ctx = use_server(ws, server.port)
    result = send_workbooks(ctx, PERIOD, yes=True, timeout=5)
    assert result.ok and result.mode == "send", result.preview_lines()
    units = units_of(ctx)
    assert set(result.generated) == set(units)  # outbox was empty: the workbooks were generated first
    got = server.handler.by_unit()
    assert sorted(got) == sorted(units) and all(len(v) == 1 for v in got.values())
    for unit in units:
        (r,) = got[unit]
        assert r.mail_from == "ducha@example.com"
        assert r.rcpt_tos == list(ctx.directory.get(unit).emails)
        msg = r.message
        assert msg["Subject"] == f"【请于3月25日前报送】2026年3月十件实事进度填报表（{unit}）"
        assert msg["Message-ID"]
        text = body(msg)
        assert text.startswith(f"{unit}：") and "2026年3月25日前" in text and "刘洋" in text
        name, data, ctype = attachment(msg)
        assert name == file_name(PERIOD, unit) and ctype == XLSX
        assert data == outbox_bytes(ctx, unit)  # byte for byte the generated workbook
    assert got["区民政局"][0].rcpt_tos == ["minzheng@example.com", "mz-office@example.com"]

    records = sent_records(ctx, PERIOD)
    assert len(records) == len(units) + 1  # one row per address
    assert {r["result"] for r in records} == {"sent"}
    for r in records:
        assert r["sha256"] == hashlib.sha256(outbox_bytes(ctx, r["unit"])).hexdigest()
        assert r["kind"] == "report" and r["sent_at"] and r["message_id"]

    # Re-running sends nothing: the same file never goes to the same unit twice…
    again = send_workbooks(ctx, PERIOD, yes=True, timeout=5)
    assert again.ok and {o.result for o in again.outcomes} == {"skipped"}
    assert "不再重复发送" in again.outcomes[0].detail
    assert len(server.handler.received) == len(units) and len(sent_records(ctx, PERIOD)) == len(units) + 1
    # …unless asked to.
    resent = send_workbooks(ctx, PERIOD, yes=True, resend=True, units=["区卫健局"], timeout=5)
    assert [(o.unit, o.result) for o in resent.outcomes] == [("区卫生健康局", "sent")]
    assert len(server.handler.by_unit()["区卫生健康局"]) == 2
    # A regenerated workbook is a different file: it goes out again without --resend.
    generate_workbooks(ctx, PERIOD, ["区司法局"], issued_at="2026-03-20T09:00:00+08:00")
    fresh = send_workbooks(ctx, PERIOD, yes=True, timeout=5)
    assert [(o.unit, o.result) for o in fresh.outcomes if o.result != "skipped"] == [("区司法局", "sent")]
    assert attachment(server.handler.by_unit()["区司法局"][-1].message)[1] == outbox_bytes(ctx, "区司法局")


def test_refused_recipient_and_missing_address_are_recorded_and_retry_failed_completes(ws, servers):
    ctx = set_emails(ws, {"区应急管理局": (), "区民政局": ("minzheng@example.com", "wrong@example.com")})
    server = servers(Recorder(refuse=("yibao@example.com", "wrong@example.com")))
    ctx = use_server(ws, server.port)
    units = units_of(ctx)
    result = send_workbooks(ctx, PERIOD, yes=True, timeout=5)
    assert not result.ok
    by_unit = {o.unit: o for o in result.outcomes}
    assert by_unit["区医疗保障局"].result == "refused" and by_unit["区医疗保障局"].refused == ("yibao@example.com",)
    assert by_unit["区应急管理局"].result == "no-address"
    assert by_unit["区民政局"].result == "partial" and by_unit["区民政局"].delivered == ("minzheng@example.com",)
    assert sum(o.result == "sent" for o in result.outcomes) == len(units) - 3  # the rest went on
    codes = sorted(f.code for f in result.findings)
    assert codes == ["mail-no-address", "mail-refused", "mail-refused"]
    assert all(f.unit for f in result.findings) and "550" in next(f.message for f in result.findings
                                                                  if f.unit == "区医疗保障局")
    got = server.handler.by_unit()
    assert "区医疗保障局" not in got and "区应急管理局" not in got
    assert got["区民政局"][0].rcpt_tos == ["minzheng@example.com"]
    rows = {(r["unit"], r["address"]): r for r in sent_records(ctx, PERIOD)}
    assert rows[("区医疗保障局", "yibao@example.com")]["result"] == "refused"
    assert "550" in rows[("区医疗保障局", "yibao@example.com")]["detail"]
    assert rows[("区应急管理局", "")]["result"] == "no-address"
    assert rows[("区民政局", "wrong@example.com")]["result"] == "refused"
    assert rows[("区民政局", "minzheng@example.com")]["result"] == "sent"

    # The clerk corrects the directory; --retry-failed sends only what failed, to the addresses that lack it.
    ctx = set_emails(ws, {"区应急管理局": ("yingji@example.com",), "区医疗保障局": ("yibao2@example.com",),
                          "区民政局": ("minzheng@example.com", "mz-office@example.com")})
    ctx = use_server(ws, server.port)
    before = len(server.handler.received)
    preview = send_workbooks(ctx, PERIOD, retry_failed=True)  # a dry run first: shows, sends nothing
    assert sorted(o.unit for o in preview.outcomes) == ["区医疗保障局", "区应急管理局", "区民政局"]
    assert len(server.handler.received) == before
    retry = send_workbooks(ctx, PERIOD, yes=True, retry_failed=True, timeout=5)
    assert retry.ok and {o.result for o in retry.outcomes} == {"sent"}
    new = server.handler.received[before:]
    assert sorted((r.message["To"].addresses[0].display_name, tuple(r.rcpt_tos)) for r in new) == [
        ("区医疗保障局", ("yibao2@example.com",)), ("区应急管理局", ("yingji@example.com",)),
        ("区民政局", ("mz-office@example.com",))]
    for r in new:
        unit = r.message["To"].addresses[0].display_name
        assert attachment(r.message)[1] == outbox_bytes(ctx, unit)
    # The batch is complete: nothing left to retry, nothing to send again.
    assert send_workbooks(ctx, PERIOD, yes=True, retry_failed=True, timeout=5).outcomes == ()
    assert {o.result for o in send_workbooks(ctx, PERIOD, yes=True, timeout=5).outcomes} == {"skipped"}
    assert len(server.handler.received) == before + 3


def test_server_gone_mid_batch_leaves_correct_records_and_retry_failed_completes(ws, servers):
    first = servers(Recorder(gone_after=5))
    ctx = use_server(ws, first.port)
    units = units_of(ctx)
    result = send_workbooks(ctx, PERIOD, yes=True, timeout=5)
    assert not result.ok
    delivered = [r.message["To"].addresses[0].display_name for r in first.handler.received]
    assert delivered == units[:5]
    assert [o.result for o in result.outcomes] == ["sent"] * 5 + ["failed"] * (len(units) - 5)
    assert "连接" in result.outcomes[5].detail and "连接" in result.outcomes[-1].detail
    assert {f.code for f in result.findings} == {"mail-failed"} and len(result.findings) == len(units) - 5
    records = sent_records(ctx, PERIOD)
    assert [(r["unit"], r["result"]) for r in records] == [(u, "sent") for u in units[:5]] + [
        (u, "failed") for u in units[5:]]
    first.stop()

    second = servers(Recorder())
    ctx = use_server(ws, second.port)
    retry = send_workbooks(ctx, PERIOD, yes=True, retry_failed=True, timeout=5)
    assert retry.ok and [o.unit for o in retry.outcomes] == units[5:]
    resent = [r.message["To"].addresses[0].display_name for r in second.handler.received]
    assert resent == units[5:]  # exactly the failed ones: nobody gets the file twice
    for r in second.handler.received:
        unit = r.message["To"].addresses[0].display_name
        assert attachment(r.message)[1] == outbox_bytes(ctx, unit)
    latest = {}
    for r in sent_records(ctx, PERIOD):
        latest[r["unit"]] = r["result"]
    assert latest == {u: "sent" for u in units}


def test_a_connection_dropped_mid_batch_is_reopened_and_the_message_resent(ws, servers):
    server = servers(Recorder(drop_once_after=3))
    ctx = use_server(ws, server.port)
    result = send_workbooks(ctx, PERIOD, yes=True, timeout=5)
    assert server.handler.dropped == 1
    assert result.ok and {o.result for o in result.outcomes} == {"sent"}
    delivered = [r.message["To"].addresses[0].display_name for r in server.handler.received]
    assert delivered == units_of(ctx)  # in order, each once, the dropped one included


def test_remind_mails_only_the_chase_list_once_a_day(ws, servers):
    from shixiang_xl.batch import check_returns
    from shixiang_xl.demo import simulate_period

    server = servers(Recorder())
    ctx = use_server(ws, server.port)
    units = units_of(ctx)
    generate_workbooks(ctx, PERIOD)
    missing, broken = units[4], units[7]
    simulate_period(ctx, PERIOD, missing=missing, broken=broken)
    check_returns(ctx, None, PERIOD, feedback=False)
    from shixiang_xl.status import report_status

    assert {s.unit: s.state for s in report_status(ctx, PERIOD).chase} == {missing: "未报送", broken: "退回修改"}

    result = send_workbooks(ctx, PERIOD, yes=True, remind=True, timeout=5)
    assert result.ok and result.remind
    got = server.handler.by_unit()
    assert sorted(got) == sorted([missing, broken])
    late = dt.date.today() > PERIOD.due(ctx.config.due_day)
    expected = (f"【催报】{PERIOD.label}十件实事进度填报表已逾期，请尽快报送（{missing}）" if late
                else f"【催报】请于3月25日前报送{PERIOD.label}十件实事进度填报表（{missing}）")
    assert got[missing][0].message["Subject"] == expected
    assert got[broken][0].message["Subject"] == f"【请修改后重新报送】{PERIOD.label}十件实事进度填报表（{broken}）"
    assert "尚未收到你单位" in body(got[missing][0].message)
    assert attachment(got[missing][0].message)[1] == outbox_bytes(ctx, missing)
    assert {r["kind"] for r in sent_records(ctx, PERIOD)} == {"remind"}
    # The same day, a second reminder needs --resend.
    again = send_workbooks(ctx, PERIOD, yes=True, remind=True, timeout=5)
    assert {o.result for o in again.outcomes} == {"skipped"} and len(server.handler.received) == 2
    send_workbooks(ctx, PERIOD, yes=True, remind=True, resend=True, timeout=5)
    assert len(server.handler.received) == 4


def test_dry_run_sends_and_records_nothing(ws, servers):
    server = servers(Recorder())
    ctx = use_server(ws, server.port)
    result = send_workbooks(ctx, PERIOD)
    assert result.mode == "preview" and {o.result for o in result.outcomes} == {"preview"}
    assert server.handler.received == [] and sent_records(ctx, PERIOD) == []
    lines = result.preview_lines()
    assert lines[0].startswith("预览（未发送任何邮件）") and "24 个单位" in lines[0]
    assert "【请于3月25日前报送】" in lines[1]
    assert "区卫生健康局 → weijian@example.com：2026年3月_区卫生健康局_十件实事进度填报表.xlsx" in lines
    assert "加 --yes 发送" in lines[-1]


def test_password_comes_from_the_prompt_and_is_never_stored(ws, servers, monkeypatch):
    seen: list[tuple[bytes, bytes]] = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        assert isinstance(auth_data, LoginPassword)
        seen.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == "s3cret-Pw!".encode(), handled=False)

    server = servers(Recorder(), authenticator=authenticator, auth_require_tls=False)
    ctx = use_server(ws, server.port, user="ducha@example.com", password_env="SHIXIANG_TEST_SMTP_PW")
    monkeypatch.delenv("SHIXIANG_TEST_SMTP_PW", raising=False)
    args = ["-w", str(ws), "send", "--period", "2026-03", "--yes", "--unit", "区卫健局"]
    out = CliRunner().invoke(main, args, input="s3cret-Pw!\n", catch_exceptions=False)
    assert out.exit_code == 0, out.output
    assert seen == [(b"ducha@example.com", "s3cret-Pw!".encode())]
    assert "s3cret-Pw!" not in out.output and "已发送" in out.output
    assert len(server.handler.received) == 1
    for path in (ws / "shixiang.toml", ws / "shixiang.db"):
        assert "s3cret-Pw!".encode() not in path.read_bytes()
    # From the environment variable, no prompt; a wrong password fails cleanly and is recorded for a retry.
    monkeypatch.setenv("SHIXIANG_TEST_SMTP_PW", "wrong")
    out = CliRunner().invoke(main, ["-w", str(ws), "send", "--period", "2026-03", "--yes", "--unit", "区民政局"],
                             catch_exceptions=False)
    assert out.exit_code == 1 and "登录邮件服务器失败" in out.output and "Traceback" not in out.output
    assert sent_records(ctx, PERIOD)[-1]["result"] == "failed"
    monkeypatch.setenv("SHIXIANG_TEST_SMTP_PW", "口令")  # smtplib cannot send it: a clear message, no traceback
    out = CliRunner().invoke(main, ["-w", str(ws), "send", "--period", "2026-03", "--yes", "--unit", "区民政局"],
                             catch_exceptions=False)
    assert out.exit_code == 1 and "授权码" in out.output and "Traceback" not in out.output
    assert len(server.handler.received) == 1


# ------------------------------------------------------------------ CLI: dry run and --eml


def test_cli_dry_run_lists_who_gets_what(ws):
    out = CliRunner().invoke(main, ["-w", str(ws), "send", "--period", "2026-03"], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    assert "预览（未发送任何邮件）" in out.output and "待发送" in out.output
    assert "weijian@example.com" in out.output and "2026年3月_区卫生健康局_十件实事进度填报表.xlsx" in out.output
    assert "尚未配置发信服务器" in out.output  # the example workspace has no [smtp] host yet
    out = CliRunner().invoke(main, ["-w", str(ws), "send", "--period", "2026-03", "--yes", "--eml", "x"])
    assert out.exit_code == 2 and "不能同时使用" in out.output
    out = CliRunner().invoke(main, ["-w", str(ws), "send", "--period", "2026-03", "--yes"])
    assert out.exit_code == 2 and "尚未配置发信服务器" in out.output and "Traceback" not in out.output


def test_cli_eml_writes_ready_to_send_drafts(ws, tmp_path):
    drafts = tmp_path / "草稿"
    out = CliRunner().invoke(main, ["-w", str(ws), "send", "--period", "2026-03", "--eml", str(drafts)],
                             catch_exceptions=False)
    assert out.exit_code == 0, out.output
    ctx = load_context(ws)
    files = sorted(drafts.glob("*.eml"))
    assert len(files) == len(ctx.projects.units) and "已生成草稿" in out.output
    for path in files:
        raw = path.read_bytes()
        assert raw.startswith(b"X-Unsent: 1\r\n")
        msg = email.message_from_bytes(raw, policy=policy.default)
        unit = msg["To"].addresses[0].display_name
        assert msg["Subject"] == f"【请于3月25日前报送】2026年3月十件实事进度填报表（{unit}）"
        assert [a.addr_spec for a in msg["To"].addresses] == list(ctx.directory.get(unit).emails)
        assert attachment(msg) == (file_name(PERIOD, unit), outbox_bytes(ctx, unit), XLSX)
    # Drafts are not sends: a real send afterwards still sends everything.
    assert {r["result"] for r in sent_records(ctx, PERIOD)} == {"draft"}
    assert {o.result for o in send_workbooks(ctx, PERIOD).outcomes} == {"preview"}


# ------------------------------------------------------------------ collect


def make_mail(sender: str, attachments: list[tuple[str, bytes]], *, date: dt.datetime | None = None,
              subject: str = "回复：填报表") -> bytes:
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = sender
    msg["To"] = "ducha@example.com"
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{hashlib.sha1(repr((sender, attachments, date)).encode()).hexdigest()}@example.com>"
    msg["Date"] = format_datetime(date or dt.datetime(2026, 3, 24, 16, 5, tzinfo=dt.timezone(dt.timedelta(hours=8))))
    msg.set_content("已填报，请查收。", cte="base64")
    for name, data in attachments:
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return msg.as_bytes()


def xlsx_bytes(ctx: Context, unit: str = "区卫生健康局") -> bytes:
    generate_workbooks(ctx, PERIOD, [unit])
    return outbox_bytes(ctx, unit)


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def test_collect_takes_the_workbooks_out_of_send_eml_drafts(ws, tmp_path):
    from shixiang_xl.intake import discover

    drafts = tmp_path / "drafts"
    ctx = load_context(ws)
    send_workbooks(ctx, PERIOD, eml_dir=drafts)
    units = units_of(ctx)
    result = collect_returns(ctx, [drafts], PERIOD)
    inbox = ws / "inbox" / PERIOD.slug
    assert result.messages == len(units) and result.count("saved") == len(units)
    # The drafts come from the office itself: an unknown sender, recorded, not dropped.
    assert {i.unit for i in result.items} == {""} and {i.sender for i in result.items} == {"ducha@example.com"}
    assert sum(f.code == "sender-unknown" for f in result.findings) == len(units)
    for unit in units:
        saved = inbox / file_name(PERIOD, unit)
        assert saved.read_bytes() == outbox_bytes(ctx, unit)
    # check/merge take the mtime as the received time: it is the message's Date.
    first = email.message_from_bytes(sorted(drafts.glob("*.eml"))[0].read_bytes(), policy=policy.default)
    date = parsedate_to_datetime(first["Date"])
    item = next(i for i in result.items if i.message_id == first["Message-ID"])
    assert item.date == date.isoformat(timespec="seconds")
    assert int(item.saved_path.stat().st_mtime) == int(date.timestamp())
    sources, _ = discover([inbox], tmp_path / "work")
    assert {s.received_at[:16] for s in sources} <= {date.astimezone().isoformat()[:16],
                                                      dt.datetime.now().astimezone().isoformat()[:16]}

    # A unit's reply (the draft with its From set to the unit's address) is matched to the unit.
    reply = email.message_from_bytes(sorted(drafts.glob("*.eml"))[1].read_bytes(), policy=policy.default)
    unit = reply["To"].addresses[0].display_name
    del reply["From"]
    reply["From"] = f"{unit} <{ctx.directory.get(unit).emails[0].upper()}>"
    (tmp_path / "reply.eml").write_bytes(reply.as_bytes())
    again = collect_returns(ctx, [tmp_path / "reply.eml"], PERIOD)
    assert [(i.unit, i.result) for i in again.items] == [(unit, "duplicate")]  # same bytes: not written twice
    assert not any(f.code == "sender-unknown" for f in again.findings)
    # Collecting the same drafts again writes nothing new.
    before = files_under(inbox)
    rerun = collect_returns(ctx, [drafts], PERIOD)
    assert rerun.count("duplicate") == len(units) and files_under(inbox) == before
    rows = collected_records(ctx, PERIOD)
    assert len(rows) == 2 * len(units) + 1
    assert {r["original_name"] for r in rows} == {file_name(PERIOD, u) for u in units}


def test_collect_survives_hostile_attachments(ws, tmp_path):
    ctx = load_context(ws)
    good = xlsx_bytes(ctx)
    other = xlsx_bytes(ctx, "区民政局")
    huge = b"PK\x03\x04" + os.urandom(1024) * (20 * 1024 + 1)  # just over 20 MB
    mails = tmp_path / "mails"
    mails.mkdir()
    (mails / "1.eml").write_bytes(make_mail("weijian@example.com", [
        ("../../etc/passwd", b"root:x:0:0:root:/root:/bin/bash\n"),
        ("../../etc/passwd.xlsx", good),
        ("..\\..\\Windows\\evil.xlsx", other),
        ("CON.xlsx", good + b"\0"),
        ("报告.pdf", b"%PDF-1.4 not a spreadsheet"),
        ("伪装.xlsx", b"<html><body>not a workbook</body></html>"),
        ("签名.png", b"\x89PNG\r\n\x1a\n"),
    ]))
    (mails / "2.eml").write_bytes(make_mail("stranger@evil.example", [("huge.xlsx", huge)]))
    (mails / "3.eml").write_bytes(make_mail("minzheng@example.com", [("区民政局.xlsx", other + b"\1"),
                                                                     ("区民政局.xlsx", other + b"\2"),
                                                                     ("区民政局.xlsx", good)]))
    before = files_under(tmp_path) - files_under(mails)
    result = collect_returns(ctx, [mails], PERIOD)
    inbox = ws / "inbox" / PERIOD.slug
    by_name = {i.original_name: i for i in result.items}
    # Path traversal: only the base name survives, inside the inbox.
    assert by_name["../../etc/passwd"].result == "skipped" and by_name["../../etc/passwd"].saved_path is None
    assert by_name["../../etc/passwd.xlsx"].saved_path == inbox / "passwd.xlsx"
    assert by_name["..\\..\\Windows\\evil.xlsx"].saved_path == inbox / "evil.xlsx"
    assert by_name["CON.xlsx"].saved_path == inbox / "_CON.xlsx"
    created = files_under(tmp_path) - files_under(mails) - before
    assert all(p.parent == inbox for p in created if p.suffix != ".db" and p.name != "shixiang.db")
    assert not list(tmp_path.rglob("passwd")) and not (tmp_path / "etc").exists()
    # Not spreadsheets (by extension or by bytes): recorded as skipped, each with a finding.
    for name in ("报告.pdf", "伪装.xlsx", "签名.png"):
        assert by_name[name].result == "skipped" and by_name[name].saved_path is None, name
    assert sum(f.code == "attachment-not-spreadsheet" for f in result.findings) == 4
    assert "扩展名是表格" in next(f.message for f in result.findings if "伪装" in f.file)
    # Huge: refused before it is written, and the unknown sender is still recorded.
    assert by_name["huge.xlsx"].result == "too-large" and by_name["huge.xlsx"].unit == ""
    assert by_name["huge.xlsx"].sender == "stranger@evil.example"
    assert any(f.code == "attachment-too-large" for f in result.findings)
    assert any(f.code == "sender-unknown" and "stranger@evil.example" in f.message for f in result.findings)
    # Same name, different bytes: both kept; bytes already saved under another name: a duplicate, not written.
    mz = [i for i in result.items if i.original_name == "区民政局.xlsx"]
    assert [(i.result, i.saved_path.name) for i in mz] == [
        ("saved", "区民政局.xlsx"), ("saved", "区民政局(1).xlsx"), ("duplicate", "passwd.xlsx")]
    assert by_name["..\\..\\Windows\\evil.xlsx"].unit == "区卫生健康局" and mz[0].unit == "区民政局"
    assert {p.name for p in inbox.iterdir()} == {"passwd.xlsx", "evil.xlsx", "_CON.xlsx", "区民政局.xlsx",
                                                 "区民政局(1).xlsx"}
    assert (inbox / "passwd.xlsx").read_bytes() == good and (inbox / "evil.xlsx").read_bytes() == other
    assert (inbox / "区民政局.xlsx").read_bytes() == other + b"\1"
    assert (inbox / "区民政局(1).xlsx").read_bytes() == other + b"\2"
    assert sum(f.code == "attachment-unsafe-name" for f in result.findings) == 3
    assert sum(f.code == "attachment-renamed" for f in result.findings) == 1
    # A later return with the same name but new bytes never overwrites: it gets the next number.
    (tmp_path / "4.eml").write_bytes(make_mail("minzheng@example.com", [("区民政局.xlsx", good + b"\0\0")]))
    later = collect_returns(ctx, [tmp_path / "4.eml"], PERIOD)
    assert later.items[0].saved_path == inbox / "区民政局(2).xlsx"
    assert (inbox / "区民政局.xlsx").read_bytes() == other + b"\1"
    assert [f.code for f in later.findings] == ["attachment-renamed"]
    rows = collected_records(ctx, PERIOD)
    assert {r["result"] for r in rows} == {"saved", "skipped", "too-large", "duplicate"}
    assert next(r for r in rows if r["original_name"] == "../../etc/passwd.xlsx")["sha256"] == \
        hashlib.sha256(good).hexdigest()


@pytest.mark.parametrize("raw_name, expected", [
    ("../../etc/passwd", "passwd"),
    ("..", "附件"),
    ("C:\\Users\\a\\报表.xlsx", "报表.xlsx"),
    ("a<b>:c|d?*.xlsx", "a_b__c_d__.xlsx"),
    ("报表\r\n.xlsx", "报表.xlsx"),
    ("invoice\u202exslx.exe", "invoicexslx.exe"),
    ("~$报表.xlsx", "报表.xlsx"),
    (".hidden.xlsx", "hidden.xlsx"),
    ("nul.txt", "_nul.txt"),
    ("表" * 200 + ".xlsx", "表" * 48 + ".xlsx"),
])
def test_safe_name(raw_name, expected):
    assert safe_name(raw_name) == expected
    assert len(safe_name(raw_name).encode()) <= collect_mod.MAX_NAME_BYTES


def test_collect_decodes_chinese_names_however_they_were_encoded(ws, tmp_path):
    ctx = load_context(ws)
    good = xlsx_bytes(ctx)
    b64 = base64.encodebytes(good).decode()
    gbk_name = "区卫健局3月填报表.xlsx".encode("gbk")  # bare 8-bit GBK, as some old clients send it
    word = b"=?UTF-8?B?" + base64.b64encode("二〇二六年三月.xlsx".encode()) + b"?="  # RFC 2047 inside quotes
    raw = (b"From: =?gb2312?b?x/jOwL2hvtY=?= <weijian@example.com>\r\nTo: ducha@example.com\r\n"
           b"Subject: =?utf-8?b?5aGr5oql6KGo?=\r\nDate: Tue, 24 Mar 2026 08:00:00 +0800\r\n"
           b"Message-ID: <gbk@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"
           b"--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhi\r\n"
           b"--B\r\nContent-Type: application/vnd.ms-excel\r\nContent-Disposition: attachment; filename=\"" + gbk_name
           + b"\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64.encode() + b"\r\n"
           b"--B\r\nContent-Type: application/octet-stream; name=\"" + word + b"\"\r\n"
           b"Content-Disposition: attachment; filename=\"" + word + b"\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
           + base64.encodebytes(good + b"\0") + b"\r\n--B--\r\n")
    (tmp_path / "gbk.eml").write_bytes(raw)
    result = collect_returns(ctx, [tmp_path / "gbk.eml"], PERIOD)
    assert [(i.original_name, i.result, i.unit) for i in result.items] == [
        ("区卫健局3月填报表.xlsx", "saved", "区卫生健康局"), ("二〇二六年三月.xlsx", "saved", "区卫生健康局")]
    assert (ws / "inbox" / PERIOD.slug / "区卫健局3月填报表.xlsx").read_bytes() == good
    when = dt.datetime(2026, 3, 24, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert result.items[0].date == when.isoformat()
    assert (ws / "inbox" / PERIOD.slug / "区卫健局3月填报表.xlsx").stat().st_mtime == when.timestamp()


def test_collect_reads_mbox_and_maildir_and_enforces_message_limits(ws, tmp_path, monkeypatch):
    ctx = load_context(ws)
    good, other = xlsx_bytes(ctx), xlsx_bytes(ctx, "区民政局")
    box = mailbox.mbox(str(tmp_path / "Inbox"))
    try:
        box.add(make_mail("weijian@example.com", [("a.xlsx", good)]))
        box.add(make_mail("minzheng@example.com", [("b.xlsx", other)]))
        box.add(make_mail("minzheng@example.com", [], subject="已收到"))
        box.flush()
    finally:
        box.close()
    md = mailbox.Maildir(str(tmp_path / "Maildir"), create=True)
    md.add(make_mail("yibao@example.com", [("c.xlsx", good + b"\0")]))
    result = collect_returns(ctx, [tmp_path / "Inbox", tmp_path / "Maildir"], PERIOD)
    assert result.messages == 4
    assert [(i.unit, i.original_name, i.result) for i in result.items] == [
        ("区卫生健康局", "a.xlsx", "saved"), ("区民政局", "b.xlsx", "saved"), ("区民政局", "", "no-attachment"),
        ("区医疗保障局", "c.xlsx", "saved")]
    assert result.items[0].source == "Inbox › 第1封"
    # Limits: an oversized message is recorded and skipped without being parsed; so is a non-mail file.
    monkeypatch.setattr(collect_mod, "MAX_MESSAGE_BYTES", 4096)
    (tmp_path / "big.eml").write_bytes(make_mail("weijian@example.com", [("d.xlsx", good)]))
    (tmp_path / "not-mail.xlsx").write_bytes(good)
    limited = collect_returns(ctx, [tmp_path / "big.eml", tmp_path / "not-mail.xlsx"], PERIOD)
    assert [(i.result, f.code) for i, f in zip(limited.items, limited.findings)] == [
        ("too-large", "mail-too-large"), ("unreadable", "mail-unreadable")]
    assert not (ws / "inbox" / PERIOD.slug / "d.xlsx").exists()
    monkeypatch.setattr(collect_mod, "MAX_MESSAGE_BYTES", 64 * 1024 * 1024)
    monkeypatch.setattr(collect_mod, "MAX_ATTACHMENTS", 2)
    (tmp_path / "many.eml").write_bytes(make_mail("weijian@example.com", [(f"{k}.xlsx", good + bytes([k + 10]))
                                                                          for k in range(4)]))
    many = collect_returns(ctx, [tmp_path / "many.eml"], PERIOD)
    assert many.count("saved") == 2 and [f.code for f in many.findings] == ["mail-too-many"]


def test_cli_collect(ws, tmp_path):
    ctx = load_context(ws)
    (tmp_path / "r.eml").write_bytes(make_mail("weijian@example.com", [(file_name(PERIOD, "区卫生健康局"),
                                                                        xlsx_bytes(ctx))]))
    out = CliRunner().invoke(main, ["-w", str(ws), "collect", str(tmp_path / "r.eml"), "--period", "2026-03"],
                             catch_exceptions=False)
    assert out.exit_code == 0, out.output
    assert "区卫生健康局" in out.output and "已保存" in out.output and "保存附件 1 个" in out.output
    assert "shixiang check --period 2026-03" in out.output
    assert (ws / "inbox" / "2026-03" / file_name(PERIOD, "区卫生健康局")).exists()


def test_an_address_no_server_could_take_is_refused_without_a_round_trip(ws, servers):
    ctx = set_emails(ws, {"区司法局": ("司法@example.com", "sifa@example.com"), "区财政局": ("财政@example.com",)})
    server = servers(Recorder())
    ctx = use_server(ws, server.port)
    result = send_workbooks(ctx, PERIOD, yes=True, units=["区司法局", "区财政局"], timeout=5)
    by_unit = {o.unit: o for o in result.outcomes}
    assert by_unit["区司法局"].result == "partial" and by_unit["区司法局"].refused == ("司法@example.com",)
    assert by_unit["区财政局"].result == "refused"
    assert [r.rcpt_tos for r in server.handler.received] == [["sifa@example.com"]]
    assert [f.code for f in result.findings] == ["mail-refused", "mail-refused"]
    rows = {(r["unit"], r["address"]): r["result"] for r in sent_records(ctx, PERIOD)}
    assert rows == {("区司法局", "司法@example.com"): "refused", ("区司法局", "sifa@example.com"): "sent",
                    ("区财政局", "财政@example.com"): "refused"}


def test_a_malformed_message_is_recorded_and_the_rest_go_on(ws, tmp_path):
    ctx = load_context(ws)
    nested = b"From: weijian@example.com\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n" + b"".join(
        b"--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n" % (k - 1, k) for k in range(1, 3000))
    (tmp_path / "a-nested.eml").write_bytes(nested)
    (tmp_path / "b-fine.eml").write_bytes(make_mail("weijian@example.com", [("ok.xlsx", xlsx_bytes(ctx))]))
    result = collect_returns(ctx, [tmp_path / "a-nested.eml", tmp_path / "b-fine.eml"], PERIOD)
    assert [(i.source, i.result) for i in result.items] == [("a-nested.eml", "unreadable"), ("b-fine.eml", "saved")]
    assert [f.code for f in result.findings] == ["mail-unreadable"]


def test_collect_takes_the_received_time_from_the_office_server_not_the_senders_date(ws, tmp_path):
    """A late unit can backdate its Date header; the office's own server stamps the topmost Received header."""
    ctx = load_context(ws)
    tz = dt.timezone(dt.timedelta(hours=8))
    backdated = dt.datetime(2026, 3, 20, 9, 0, tzinfo=tz)
    arrived = dt.datetime(2026, 3, 28, 10, 30, tzinfo=tz)
    raw = make_mail("区卫健局 <weijian@example.com>", [("a.xlsx", xlsx_bytes(ctx))], date=backdated)
    received = (f"Received: from mail.example.com by mx.ducha.example.com with ESMTP id 1;\r\n"
                f" {format_datetime(arrived)}\r\n"
                f"Received: from sender-pc by mail.example.com; {format_datetime(backdated)}\r\n").encode()
    (tmp_path / "late.eml").write_bytes(received + raw)
    result = collect_returns(ctx, [tmp_path / "late.eml"], PERIOD)
    (item,) = result.items
    assert item.result == "saved"
    assert int(item.saved_path.stat().st_mtime) == int(arrived.timestamp())
    # Without a Received header the Date header is all there is.
    (tmp_path / "plain.eml").write_bytes(make_mail("区司法局 <sifa@example.com>", [("b.xlsx", xlsx_bytes(ctx, "区司法局"))],
                                                   date=backdated))
    (plain,) = collect_returns(ctx, [tmp_path / "plain.eml"], PERIOD).items
    assert int(plain.saved_path.stat().st_mtime) == int(backdated.timestamp())


# ------------------------------------------------------------------ encrypted connections: ssl and starttls


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory) -> dict[str, Path]:
    """With the openssl command: a certificate authority, a server certificate for 127.0.0.1 it signed, and a
    second authority that signed nothing here (a client that trusts only it must refuse the server)."""
    d = tmp_path_factory.mktemp("tls")

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True, timeout=60)

    for name in ("ca", "other-ca"):
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.pem",
                "-days", "30", "-subj", f"/CN=shixiang test {name}", "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    (d / "server.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
                                  "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
                                  "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid,issuer\n")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj",
            "/CN=127.0.0.1")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "server.pem", "-days", "30", "-extfile", "server.ext")
    return {"ca": d / "ca.pem", "other-ca": d / "other-ca.pem", "cert": d / "server.pem", "key": d / "server.key"}


def tls_server(servers, tls_files: dict[str, Path], security: str, **kwargs) -> Server:
    """A loopback server speaking TLS from the first byte (``ssl``, as on port 465) or after STARTTLS
    (``starttls``, as on port 587: it refuses mail until the client has switched)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tls_files["cert"], tls_files["key"])
    if security == "ssl":
        # aiosmtpd counts only STARTTLS as encryption for AUTH: over implicit TLS the handler checks it itself.
        return servers(Recorder(), ssl_context=context, auth_require_tls=False, **kwargs)
    return servers(Recorder(), tls_context=context, require_starttls=True, **kwargs)


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_send_encrypts_checks_the_certificate_and_logs_in_only_inside_tls(ws, servers, tls_files, monkeypatch,
                                                                           security):
    logins: list[tuple[bytes, str]] = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, _tls_version(server)))
        return AuthResult(success=auth_data.password == b"s3cret-Pw!", handled=False)

    server = tls_server(servers, tls_files, security, authenticator=authenticator)
    # The client trusts the test authority the way it trusts a provider's: through OpenSSL's default store.
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_files["ca"]))
    monkeypatch.setenv("SHIXIANG_TEST_SMTP_PW", "s3cret-Pw!")
    ctx = use_server(ws, server.port, security, user="ducha@example.com", password_env="SHIXIANG_TEST_SMTP_PW")
    result = send_workbooks(ctx, PERIOD, yes=True, units=["区卫健局", "区民政局"], timeout=10)
    assert result.ok, [o.detail for o in result.outcomes]
    got = server.handler.by_unit()
    assert sorted(got) == ["区卫生健康局", "区民政局"]
    assert {r.tls for r in server.handler.received} <= {"TLSv1.2", "TLSv1.3"}  # every message came encrypted
    assert logins and all(login == b"ducha@example.com" and tls for login, tls in logins)  # the password too
    for unit, (r,) in got.items():
        assert attachment(r.message)[1] == outbox_bytes(ctx, unit)
    assert [r["result"] for r in sent_records(ctx, PERIOD)] == ["sent", "sent"]


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_a_certificate_the_office_cannot_trust_stops_the_send_before_the_password_is_given(
        ws, servers, tls_files, monkeypatch, security):
    logins: list[bytes] = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append(auth_data.login)
        return AuthResult(success=True, handled=False)

    server = tls_server(servers, tls_files, security, authenticator=authenticator)
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_files["other-ca"]))  # as a server in the middle would look
    monkeypatch.setenv("SHIXIANG_TEST_SMTP_PW", "s3cret-Pw!")
    use_server(ws, server.port, security, user="ducha@example.com", password_env="SHIXIANG_TEST_SMTP_PW")
    out = CliRunner().invoke(main, ["-w", str(ws), "send", "--period", "2026-03", "--yes", "--unit", "区卫健局"],
                             catch_exceptions=False)
    assert out.exit_code == 1 and "Traceback" not in out.output, out.output
    assert "安全证书未通过校验" in out.output and "服务器名称" in out.output, out.output
    assert logins == [] and server.handler.received == []
    ctx = load_context(ws)
    assert [r["result"] for r in sent_records(ctx, PERIOD)] == ["failed"]  # kept for --retry-failed


@pytest.mark.parametrize("security, says", [
    ("ssl", "加密连接失败"),  # TLS from the first byte, to a server that speaks in the clear
    ("starttls", "不支持 STARTTLS"),  # STARTTLS, to a server that does not offer it
])
def test_the_wrong_way_of_encrypting_says_what_to_change(ws, servers, tls_files, monkeypatch, security, says):
    server = servers(Recorder())
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_files["ca"]))
    ctx = use_server(ws, server.port, security)
    result = send_workbooks(ctx, PERIOD, yes=True, units=["区卫健局"], timeout=10)
    assert not result.ok and server.handler.received == []
    (outcome,) = result.outcomes
    assert outcome.result == "failed" and says in outcome.detail, outcome.detail
    assert "Traceback" not in outcome.detail


@pytest.mark.parametrize("port, security, usual", [(465, "starttls", "ssl"), (465, "none", "ssl"),
                                                   (587, "ssl", "starttls")])
def test_a_port_that_goes_with_another_way_of_encrypting_is_named(port, security, usual):
    from shixiang_xl.send import _mode_hint

    hint = _mode_hint(SmtpSettings(host="smtp.example.com", port=port, security=security))
    assert f"{port} 端口" in hint and f'security = "{usual}"' in hint
    assert _mode_hint(SmtpSettings(host="smtp.example.com", port=port, security=usual)) == ""
    assert _mode_hint(SmtpSettings(host="smtp.example.com", port=2525, security=security)) == ""
