"""The workspace: one folder per district and year, laid out so a clerk can find everything in Explorer."""

from __future__ import annotations

import functools
import hashlib
import hmac
import pickle
import secrets
import tomllib
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path

from .config import Config, load_config, render_config
from .errors import ShixiangError
from .findings import Finding
from .projects import Indicator, Milestone, Project, ProjectList, load_project_list, write_project_list
from .spec import TemplateSpec, load_spec
from .textnorm import split_names
from .units import Directory, Unit, load_directory, write_directory
from .xlsxout import atomic_write_bytes

CONFIG_FILE = "shixiang.toml"
PROJECT_LIST_FILE = "项目清单.xlsx"
DIRECTORY_FILE = "单位名录.xlsx"
DB_FILE = "shixiang.db"
SECRET_FILE = ".shixiang/secret.key"
CACHE_FILE = ".shixiang/清单缓存.bin"  # parsed lists, signed; rebuilt whenever a list, the code or the key changes
FOLDERS = ("outbox", "inbox", "archive", "feedback", "reports")
LAUNCHER_FILE = "启动实事通.bat"
EXAMPLES = ("yanzhou-2026", "yanzhou-2024")
DEFAULT_EXAMPLE = "yanzhou-2026"

GUIDE = """\
实事通（shixiang-xl）工作区说明
================================

本文件夹是 {district}{year} 年民生实事督查的工作区。各文件和文件夹的用途：

  shixiang.toml     配置：区县名称、年度、督查室、报送频次和截止日、滞后阈值、邮件服务器等
  项目清单.xlsx      十件实事的项目和量化指标（工作表：项目 / 指标 / 时间节点）
  单位名录.xlsx      各牵头、协办单位的全称、简称、分组、联系人、电话、邮箱
  outbox/           生成的进度填报表（按报送期分文件夹），发给各单位
  inbox/            各单位报回的填报表放到这里（按报送期分文件夹，如 inbox/2026-03/）
  archive/          收到的每个原始文件的存档（按内容指纹命名，永不修改）
  feedback/         退回修改的标注件，发回给有问题的单位
  reports/          校验报告、台账、PDF、测评结果、公文草稿
  shixiang.db       数据库（报送记录、历史数据），请勿手工修改
  启动实事通.bat     Windows 下双击：在浏览器中打开本工作区的实事通网页（关闭黑色窗口即停止）
  .shixiang/        本工作区的密钥（用于识别填报表真伪，请勿外发）和数据库备份（backups/，见 shixiang restore）

不用命令行：双击 启动实事通.bat（或运行 shixiang serve），在浏览器中完成生成、回收、校验、汇总和起草公文。

常用命令（在本文件夹中运行）：
  shixiang projects                     查看项目清单是否有误
  shixiang generate --period 2026-03    生成 2026 年 3 月的填报表
  shixiang check --period 2026-03       校验 inbox/2026-03/ 中报回的文件
  shixiang merge --period 2026-03       汇总生成台账
  shixiang status --period 2026-03      查看报送情况和催报名单
"""


@dataclass(frozen=True)
class Workspace:
    """Paths of one workspace."""

    root: Path

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_FILE

    @property
    def project_list_path(self) -> Path:
        return self.root / PROJECT_LIST_FILE

    @property
    def directory_path(self) -> Path:
        return self.root / DIRECTORY_FILE

    @property
    def db_path(self) -> Path:
        return self.root / DB_FILE

    @property
    def secret_path(self) -> Path:
        return self.root / SECRET_FILE

    def folder(self, name: str, period: str | None = None) -> Path:
        path = self.root / name
        return path / period if period else path

    def secret(self) -> bytes:
        """The per-workspace HMAC key (created by ``init``)."""
        try:
            return bytes.fromhex(self.secret_path.read_text(encoding="ascii").strip())
        except (FileNotFoundError, ValueError):
            raise ShixiangError(f"工作区 {self.root} 缺少密钥文件 {SECRET_FILE}，请用 shixiang init 创建工作区。")

    @property
    def workspace_id(self) -> str:
        """A public id derived from the secret: the same workspace always has the same id."""
        return hashlib.sha256(b"shixiang-workspace:" + self.secret()).hexdigest()[:12]


@dataclass
class Context:
    """A loaded workspace: configuration, directory, project list, spec and everything found while loading."""

    workspace: Workspace
    config: Config
    directory: Directory
    projects: ProjectList
    spec: TemplateSpec
    findings: list[Finding] = field(default_factory=list)


def load_context(root: Path) -> Context:
    """Load the workspace at ``root``; problems in the list or directory are findings, not exceptions."""
    ws = Workspace(root)
    config = load_config(ws.config_path)
    for path in (ws.directory_path, ws.project_list_path):
        if not path.exists():
            raise ShixiangError(f"工作区 {root} 中找不到 {path.name}。")
    directory, plist, findings = _load_lists(ws)
    return Context(ws, config, directory, plist, load_spec(root), findings)


def _load_lists(ws: Workspace) -> tuple[Directory, ProjectList, list[Finding]]:
    """The directory and the project list, parsed, or from the workspace's signed cache of the same bytes.

    A city-wide list (thousands of projects) takes a second or more to parse and check, and every command loads it;
    the lists change a few times a year. The cache is keyed on the bytes of both lists and of this package's code,
    and signed with the workspace key, so a stale, foreign or tampered cache is never used, only rebuilt.
    """
    try:
        key = ws.secret()
    except ShixiangError:
        key = None
    digest = hashlib.sha256()
    for path in (ws.directory_path, ws.project_list_path):
        data = path.read_bytes()
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)  # fed, not concatenated: a city's list is megabytes
    digest.update(_code_digest())
    cache = ws.root / CACHE_FILE
    if key is not None:
        try:
            blob = cache.read_bytes()
        except OSError:
            blob = b""
        # Views, not copies: a city's cache is megabytes, and every copy would stay in this process's peak.
        mac, body = memoryview(blob)[:32], memoryview(blob)[32:]
        if len(mac) == 32 and hmac.compare_digest(mac, _cache_mac(key, digest.digest(), body)):
            try:
                return pickle.loads(body)
            except Exception:  # an unreadable cache is only a missed shortcut  # noqa: BLE001
                pass
    directory, findings = load_directory(ws.directory_path)
    plist, more = load_project_list(ws.project_list_path, directory)
    loaded = (directory, plist, findings + more)
    if key is not None and cache.parent.is_dir():
        body = pickle.dumps(loaded, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            atomic_write_bytes(cache, _cache_mac(key, digest.digest(), body) + body, 0o600, durable=False)
        except OSError:  # a read-only workspace still loads; it only parses every time
            pass
    return loaded


def _cache_mac(key: bytes, inputs: bytes, body: bytes | memoryview) -> bytes:
    """The cache's signature: over the digest of what it was made from, then its body (fed, not concatenated)."""
    mac = hmac.new(key, inputs, "sha256")
    mac.update(body)
    return mac.digest()


@functools.lru_cache(maxsize=1)
def _code_digest() -> bytes:
    """The package's own code, so a new version never reads an older version's cache."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.digest()


# ------------------------------------------------------------------ examples


def _example_text(name: str, file: str) -> str:
    return resources.files("shixiang_xl.examples").joinpath(file if not name else f"{name}/{file}").read_text(
        encoding="utf-8")


def load_example(name: str) -> tuple[Config, Directory, ProjectList]:
    """The built-in example ``name`` (its TOML source, shipped in the package)."""
    if name not in EXAMPLES:
        raise ShixiangError(f"没有名为「{name}」的内置示例。可选：{'、'.join(EXAMPLES)}")
    data = tomllib.loads(_example_text(name, "example.toml"))
    units = tomllib.loads(_example_text("", "yanzhou-units.toml"))["unit"]
    directory = Directory(tuple(Unit(name=u["name"], aliases=tuple(u.get("aliases", ())), group=u.get("group", ""),
                                     contact=u.get("contact", ""), phone=u.get("phone", ""),
                                     emails=(u["email"],) if u.get("email") else ()) for u in units))
    c = data["config"]
    config = Config(district=c["district"], year=c["year"], title=c["title"], office=c["office"],
                    contact=c.get("contact", ""), phone=c.get("phone", ""), email=c.get("email", ""),
                    cc=c.get("cc", ""))
    projects = []
    for p in data["project"]:
        def names(text: str) -> tuple[str, ...]:
            out: list[str] = []
            for n in split_names(text):
                out += [u.name for u in directory.resolve(n).units if u.name not in out]
            return tuple(out)

        leads = names(p["lead"])
        indicators = tuple(
            Indicator(project=p["number"], number=k, name=i["name"], target=float(i["target"]), unit=i["unit"],
                      comparator=i.get("comparator", "="), split=bool(i.get("split", False)),
                      lead=directory.get(i["lead"]).name if i.get("lead") else "", note=i.get("note", ""),
                      text=i.get("text", ""), kind=i.get("kind", ""))
            for k, i in enumerate(p.get("indicators", []), start=1))
        projects.append(Project(
            number=p["number"], name=p["name"], content=p["content"], leads=leads,
            co_units=tuple(u for u in names(p.get("co", "")) if u not in leads), lead_text=p["lead"],
            co_text=p.get("co", ""), due_month=int(p["due"].rstrip("月")) if p.get("due") else None,
            note=p.get("note", ""), indicators=indicators,
            milestones=tuple(Milestone(p["number"], m["month"], float(m["percent"]))
                             for m in p.get("milestones", []))))
    return config, directory, ProjectList(tuple(projects), source=name)


# ------------------------------------------------------------------ init


def init_workspace(root: Path, example: str | None = DEFAULT_EXAMPLE, *, notice: Path | None = None,
                   units: Path | None = None, force: bool = False, blank: bool = False, district: str = "",
                   year: int | None = None) -> Workspace:
    """Create a workspace at ``root`` from a built-in example or from a published notice.

    From a notice, units are resolved against ``units`` (a 单位名录.xlsx) when given; otherwise the new directory
    lists every unit the notice names, for the clerk to complete (full names, contacts, group members).
    A notice in which no project is found still gives a workspace, with an empty project list to fill in;
    ``blank`` gives one with no projects and no units. ``district`` and ``year`` override what the notice says.
    Existing files are never overwritten unless ``force``; the secret is never replaced.
    """
    ws = Workspace(root)
    if ws.config_path.exists() and not force:
        raise ShixiangError(f"{root} 已经是一个工作区（存在 {CONFIG_FILE}）。如要重新创建，请换一个文件夹。")
    existing = [p.name for p in (ws.project_list_path, ws.directory_path) if p.exists()]
    if existing and not force:
        raise ShixiangError(f"{root} 中已有 {'、'.join(existing)}，为免覆盖，不在此创建工作区。请换一个空文件夹。")
    if notice is not None:
        from .notice import import_notice

        if units is not None:
            directory, problems = load_directory(units)
            if any(f.is_error for f in problems):
                raise ShixiangError("单位名录有误：" + "；".join(f.line() for f in problems if f.is_error))
        else:
            directory = Directory()
        result = import_notice(notice, directory, district=district, year=year)
        if any(f.code == "notice-unreadable" for f in result.findings):  # not a notice we can read: create nothing
            raise ShixiangError("；".join(f.message for f in result.findings) or f"未能读取 {notice.name}。")
        plist = result.projects  # may be empty: the clerk fills the list in
        if units is None:
            directory = directory_from_names(result.unresolved)
        config = Config(district=result.district or Config.district, year=result.year or Config.year,
                        title=result.title or Config.title)
    elif blank:
        config = Config(district=district or Config.district, year=year or Config.year)
        directory, plist = Directory(), ProjectList()
    else:
        config, directory, plist = load_example(example or DEFAULT_EXAMPLE)
        if district or year:
            config = replace(config, district=district or config.district, year=year or config.year)
    root.mkdir(parents=True, exist_ok=True)
    for name in FOLDERS:
        (root / name).mkdir(exist_ok=True)
    from .xlsxout import atomic_write_text

    atomic_write_text(ws.config_path, render_config(config))
    write_directory(ws.directory_path, directory)
    write_project_list(ws.project_list_path, plist)
    atomic_write_text(root / "说明.txt", GUIDE.format(district=config.district, year=config.year))
    write_launcher(root)
    if not ws.secret_path.exists():
        ws.secret_path.parent.mkdir(exist_ok=True)
        atomic_write_text(ws.secret_path, secrets.token_hex(32) + "\n", mode=0o600)
    return ws


def launcher_text(python: str) -> str:
    """The Windows launcher: runs ``serve`` for the folder it sits in, with the Python that made it (or ``py``).

    UTF-8 after ``chcp 65001`` (the first two lines are ASCII), so a Chinese user or folder name survives; the
    workspace is the launcher's own folder (``%~dp0``), so the folder can be moved or renamed."""
    lines = [
        "@echo off",
        "chcp 65001 >nul",
        "rem 实事通：双击本文件，在浏览器中打开本工作区。用完后关闭此窗口即停止。",
        "set PYTHONIOENCODING=utf-8",
        'cd /d "%~dp0"',
        f'set "PY={python.replace("%", "%%")}"',
        'if not exist "%PY%" set "PY=py"',
        '"%PY%" -m shixiang_xl -w . serve',
        "if errorlevel 1 pause",
    ]
    return "\r\n".join(lines) + "\r\n"


def write_launcher(root: Path, python: str | None = None) -> Path:
    """Write ``启动实事通.bat`` into the workspace ``root`` (see :func:`launcher_text`)."""
    import sys

    path = root / LAUNCHER_FILE
    atomic_write_bytes(path, launcher_text(python or sys.executable).encode("utf-8"))
    return path


def write_example_workbooks(folder: Path) -> list[str]:
    """Write each example's 项目清单.xlsx and 单位名录.xlsx from its TOML source (``make examples``)."""
    lines = []
    for name in EXAMPLES:
        _, directory, plist = load_example(name)
        write_project_list(folder / name / PROJECT_LIST_FILE, plist)
        write_directory(folder / name / DIRECTORY_FILE, directory)
        lines.append(f"{name}: {len(plist.projects)} projects, {len(plist.indicators)} indicators, "
                     f"{len(directory.units)} units")
    return lines


def directory_from_names(names: list[str]) -> Directory:
    """A starting directory: every unit a notice names (group words such as 各镇街 left for the clerk to fill in)."""
    units = []
    for name in names:
        if name.startswith("各"):
            continue  # a group: its members are not in the notice
        # Groups are not guessed: the towns a notice names under one project are not all the towns of 各镇街, and a
        # wrong 镇街 list would mislead every report. init says which group needs its members.
        units.append(Unit(name=name))
    return Directory(tuple(units))
