"""The workspace configuration, ``shixiang.toml``: read, validated, and written with Chinese comments."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ShixiangError


@dataclass(frozen=True)
class SmtpSettings:
    host: str = ""
    port: int = 465
    user: str = ""
    security: str = "ssl"  # ssl | starttls | none
    sender: str = ""
    password_env: str = "SHIXIANG_SMTP_PASSWORD"

    @property
    def configured(self) -> bool:
        return bool(self.host)


@dataclass(frozen=True)
class Config:
    district: str = "某区"
    year: int = 2026
    title: str = "区政府十件民生实事"
    office: str = "区委区政府督查室"
    contact: str = ""
    phone: str = ""
    email: str = ""
    cc: str = ""
    report_to: str = ""  # 主送机关 of the progress report ("" = 区委、区政府, by the district's own level)
    frequency: str = "month"  # month | quarter
    due_day: int = 25
    lag_threshold: float = 10.0
    satisfaction_threshold: float = 90.0
    sheet_password: str = ""
    smtp: SmtpSettings = field(default_factory=SmtpSettings)

    @property
    def full_title(self) -> str:
        """e.g. 2026年区政府十件民生实事."""
        return f"{self.year}年{self.title}"


_SCHEMA: dict[str, dict[str, type | tuple[type, ...]]] = {
    "district": {"name": str, "year": int, "title": str, "office": str, "contact": str, "phone": str,
                 "email": str, "cc": str, "report_to": str},
    "schedule": {"frequency": str, "due_day": int, "lag_threshold": (int, float),
                 "satisfaction_threshold": (int, float)},
    "workbook": {"password": str},
    "smtp": {"host": str, "port": int, "user": str, "security": str, "sender": str, "password_env": str},
}


def load_config(path: Path) -> Config:
    """Read and validate ``shixiang.toml``; raise :class:`ShixiangError` with every problem listed."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ShixiangError(f"找不到配置文件 {path}。请先运行 shixiang init 创建工作区，或用 -w 指定工作区文件夹。")
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ShixiangError(f"配置文件 {path} 格式有误：{exc}")
    problems: list[str] = []
    for section, keys in _SCHEMA.items():
        values = data.get(section, {})
        if not isinstance(values, dict):
            problems.append(f"[{section}] 应为一个配置节")
            continue
        for key, value in values.items():
            if key not in keys:
                problems.append(f"[{section}] 中有未知的配置项 {key}")
            elif not isinstance(value, keys[key]) or isinstance(value, bool):
                problems.append(f"[{section}] {key} 的值类型不对：{value!r}")
    d, s, w, m = (data.get(k, {}) if isinstance(data.get(k), dict) else {} for k in _SCHEMA)
    frequency = s.get("frequency", "month")
    if frequency not in ("month", "quarter"):
        problems.append(f"[schedule] frequency 只能是 month（每月）或 quarter（每季度），现为 {frequency!r}")
    due_day = s.get("due_day", 25)
    if isinstance(due_day, int) and not 1 <= due_day <= 31:
        problems.append(f"[schedule] due_day 应在 1–31 之间，现为 {due_day}")
    security = m.get("security", "ssl")
    if security not in ("ssl", "starttls", "none"):
        problems.append(f"[smtp] security 只能是 ssl、starttls 或 none，现为 {security!r}")
    if "password" in m:
        problems.append("[smtp] 不允许在配置文件中写密码，请改用环境变量（password_env 指定其名称）")
    year = d.get("year", 2026)
    if isinstance(year, int) and not 2000 <= year <= 2100:
        problems.append(f"[district] year 不是合理的年份：{year}")
    if problems:
        raise ShixiangError(f"配置文件 {path} 有误：\n- " + "\n- ".join(problems))
    try:
        smtp = SmtpSettings(**{k: v for k, v in m.items()})
        return Config(
            district=d.get("name", "某区"), year=year, title=d.get("title", Config.title),
            office=d.get("office", Config.office), contact=d.get("contact", ""), phone=d.get("phone", ""),
            email=d.get("email", ""), cc=d.get("cc", ""), report_to=d.get("report_to", ""), frequency=frequency,
            due_day=due_day,
            lag_threshold=float(s.get("lag_threshold", 10)),
            satisfaction_threshold=float(s.get("satisfaction_threshold", 90)),
            sheet_password=w.get("password", ""), smtp=smtp)
    except TypeError as exc:  # pragma: no cover - guarded by the schema check above
        raise ShixiangError(f"配置文件 {path} 有误：{exc}")


def _q(value: str) -> str:
    """A TOML basic string: backslash, quote and control characters (a line break in cc) escaped."""
    s = value.replace("\\", "\\\\").replace('"', '\\"')
    s = re.sub(r"[\x00-\x1f\x7f]", lambda m: {"\n": "\\n", "\t": "\\t", "\r": "\\r"}.get(
        m.group(), f"\\u{ord(m.group()):04x}"), s)
    return '"' + s + '"'


def render_config(config: Config) -> str:
    """The text of ``shixiang.toml`` for ``config``, commented in Chinese for the clerk who will edit it."""
    c, m = config, config.smtp
    return f"""\
# 实事通（shixiang-xl）工作区配置文件
# 用记事本等文本编辑器修改；“#”后面是说明文字。修改后保存即可，无需重启。

[district]
name = {_q(c.district)}          # 区县名称
year = {c.year}                   # 年度
title = {_q(c.title)}   # 标题用语：生成“{c.year}年{c.title}……”
office = {_q(c.office)}    # 督查室名称（制表单位、落款）
contact = {_q(c.contact)}               # 督查室联系人
phone = {_q(c.phone)}                 # 督查室联系电话
email = {_q(c.email)}                 # 督查室收件邮箱（写在填报说明和邮件里）
cc = {_q(c.cc)}   # 公文抄送单位
report_to = {_q(c.report_to)}   # 推进情况报告的主送机关；留空时为“区委、区政府”（县为“县委、县政府”）

[schedule]
frequency = {_q(c.frequency)}   # 报送频次：month 每月 / quarter 每季度
due_day = {c.due_day}            # 每期截止日（每月几号）
lag_threshold = {c.lag_threshold:g}      # 低于序时进度多少个百分点算“滞后”
satisfaction_threshold = {c.satisfaction_threshold:g}  # 满意度测评的达标线（%）

[workbook]
password = {_q(c.sheet_password)}   # 填报表的工作表保护密码；留空表示不设密码（单位可自行撤销保护）

[smtp]
# 发送邮件的服务器设置；不发邮件可不填。密码不写在这里：
# 运行前设置环境变量（名称见 password_env），或运行时按提示输入。
host = {_q(m.host)}         # 例如 smtp.example.com
port = {m.port}
user = {_q(m.user)}
security = {_q(m.security)}   # ssl / starttls / none
sender = {_q(m.sender)}       # 发件人地址
password_env = {_q(m.password_env)}
"""
