"""The template spec: the report workbook's sheets and columns, defined once (templates/report_spec.toml).

The writer (generate), the reader (intake), the checks and the ledger all iterate over these columns, so a
district adds a column by editing the spec. A workspace may carry its own ``report_spec.toml`` to override the
packaged one.
"""

from __future__ import annotations

import functools
import hashlib
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .errors import ShixiangError

TYPES = ("text", "integer", "number", "percent", "status", "date", "phone")
ROLES = ("locked", "input", "formula")
SCOPES = ("project", "indicator")
SOURCES = ("project.number", "project.name", "project.leads", "project.content", "indicator.name",
           "indicator.target", "indicator.unit", "indicator.comparator", "indicator.target_text",
           "previous.cumulative")
STATUSES = ("未启动", "推进中", "已完成")
NUMERIC_TYPES = ("integer", "number", "percent")
SPEC_FILE = "report_spec.toml"

# The input columns the ledger sums up and the documents quote, by sheet: (key, scope, numeric, what it is). A spec
# without one of them would give an empty ledger, so it is refused when it is loaded. Every other input column of a
# sheet is a district's own, and is shown in the ledger beside these (project scope in 总表, indicator scope in
# 指标明细).
LEDGER_COLUMNS: dict[str, tuple[tuple[str, str, bool, str], ...]] = {
    "lead": (("current", "indicator", True, "本期完成"), ("cumulative", "indicator", True, "累计完成"),
             ("progress", "project", True, "总体进度"), ("status", "project", False, "状态"),
             ("progress_text", "project", False, "本期进展情况"), ("problems", "project", False, "存在问题"),
             ("next_steps", "project", False, "下步计划")),
    "co": (("current", "indicator", True, "本期完成"), ("cumulative", "indicator", True, "累计完成"),
           ("progress_text", "project", False, "配合工作进展")),
}
LEDGER_KEYS: dict[str, frozenset[str]] = {kind: frozenset(c[0] for c in cols) for kind, cols in LEDGER_COLUMNS.items()}


@dataclass(frozen=True)
class Column:
    key: str
    heading: str
    scope: str
    role: str
    type: str
    width: float = 10
    required: bool = False
    source: str = ""
    formula: str = ""
    help: str = ""

    @property
    def is_input(self) -> bool:
        return self.role == "input"

    @property
    def is_numeric(self) -> bool:
        return self.type in NUMERIC_TYPES


@dataclass(frozen=True)
class Field:
    """A single input cell on the instructions sheet (填报人, 联系电话, …)."""

    key: str
    heading: str
    type: str
    required: bool = False


@dataclass(frozen=True)
class SheetSpec:
    kind: str  # "lead" | "co"
    sheet: str
    title: str
    columns: tuple[Column, ...]

    @functools.cached_property
    def _by_key(self) -> dict[str, Column]:
        out: dict[str, Column] = {}
        for c in self.columns:
            out.setdefault(c.key, c)
        return out

    @functools.cached_property
    def _index(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for i, c in enumerate(self.columns):
            out.setdefault(c.key, i)
        return out

    def column(self, key: str) -> Column | None:
        return self._by_key.get(key)

    def index(self, key: str) -> int:
        """The position of the first column with this key."""
        return self._index[key]

    @property
    def inputs(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.is_input)


@dataclass(frozen=True)
class TemplateSpec:
    version: str
    digest: str
    info_sheet: str
    fields: tuple[Field, ...]
    lead: SheetSpec
    co: SheetSpec

    @property
    def sheets(self) -> tuple[SheetSpec, SheetSpec]:
        return (self.lead, self.co)


def _column(raw: dict, where: str) -> Column:
    problems = []
    for key in ("key", "heading", "scope", "role", "type"):
        if not isinstance(raw.get(key), str) or not raw.get(key):
            problems.append(f"{where} 缺少 {key}")
    width = raw.get("width", 10)
    if not isinstance(width, (int, float)) or isinstance(width, bool) or not width > 0:
        problems.append(f"{where} 的 width 应为正数")
    if problems:
        raise ShixiangError("模板规格有误：" + "；".join(problems))
    col = Column(key=raw["key"], heading=raw["heading"], scope=raw["scope"], role=raw["role"], type=raw["type"],
                 width=float(width), required=bool(raw.get("required", False)),
                 source=raw.get("source", ""), formula=raw.get("formula", ""), help=raw.get("help", ""))
    if not re.fullmatch(r"[a-z][a-z0-9_]*", col.key):
        problems.append(f"{where} 的 key「{col.key}」只能用小写英文字母、数字和下划线")
    if col.scope not in SCOPES:
        problems.append(f"{where} 的 scope 应为 {'/'.join(SCOPES)}")
    if col.role not in ROLES:
        problems.append(f"{where} 的 role 应为 {'/'.join(ROLES)}")
    if col.type not in TYPES:
        problems.append(f"{where} 的 type 应为 {'/'.join(TYPES)}")
    if col.role == "locked" and col.source not in SOURCES:
        problems.append(f"{where} 是锁定列，source 应为 {'/'.join(SOURCES)} 之一")
    if col.role == "formula" and not col.formula.startswith("="):
        problems.append(f"{where} 是公式列，formula 应以 = 开头")
    if problems:
        raise ShixiangError("模板规格有误：" + "；".join(problems))
    return col


def _sheet(kind: str, raw: dict) -> SheetSpec:
    if not isinstance(raw, dict) or not raw.get("columns"):
        raise ShixiangError(f"模板规格有误：缺少 [{kind}] 及其列定义")
    cols = tuple(_column(c, f"[{kind}] 第 {i + 1} 列") for i, c in enumerate(raw["columns"]))
    keys = [c.key for c in cols]
    if len(set(keys)) != len(keys):
        raise ShixiangError(f"模板规格有误：[{kind}] 中有重复的 key")
    by_key = {c.key: c for c in cols}
    missing = []
    for key, scope, numeric, meaning in LEDGER_COLUMNS.get(kind, ()):
        c = by_key.get(key)
        if c is None or not c.is_input or c.scope != scope or (numeric and not c.is_numeric):
            kind_text = "数值" if numeric else "文字"
            missing.append(f"{key}（{meaning}：scope = \"{scope}\"，role = \"input\"，{kind_text}类型）")
    if missing:
        raise ShixiangError(f"模板规格有误：[{kind}] 缺少台账汇总所需的填报列 " + "、".join(missing) +
                            "。请在 report_spec.toml 中保留这些列（标题、宽度、说明可以修改），再添加本地需要的列。")
    for c in cols:
        for ref in re.findall(r"\{(\w+)\}", c.formula):
            if ref not in keys:
                raise ShixiangError(f"模板规格有误：[{kind}] 列 {c.key} 的公式引用了不存在的列 {ref}")
    if "project_no" not in keys or "project_name" not in keys:
        raise ShixiangError(f"模板规格有误：[{kind}] 必须包含 project_no 和 project_name 两列（用于识别行）")
    return SheetSpec(kind=kind, sheet=raw.get("sheet", kind), title=raw.get("title", "{title}"), columns=cols)


def parse_spec(text: str) -> TemplateSpec:
    """Parse and validate a spec's TOML text."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ShixiangError(f"模板规格格式有误：{exc}")
    info = raw.get("info", {})
    for i, f in enumerate(info.get("fields", []) if isinstance(info, dict) else [None]):
        if not isinstance(f, dict) or not all(isinstance(f.get(k), str) and f.get(k) for k in ("key", "heading")) \
                or f.get("type", "text") not in TYPES:
            raise ShixiangError(f"模板规格有误：[info] 第 {i + 1} 个字段应有 key、heading，type 应为 {'/'.join(TYPES)}")
    fields = tuple(Field(key=f["key"], heading=f["heading"], type=f.get("type", "text"),
                         required=bool(f.get("required", False))) for f in info.get("fields", []))
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    return TemplateSpec(version=str(raw.get("version", "1")), digest=digest,
                        info_sheet=info.get("sheet", "填报说明"), fields=fields,
                        lead=_sheet("lead", raw.get("lead")), co=_sheet("co", raw.get("co")))


@functools.lru_cache(maxsize=8)
def _load_text(text: str) -> TemplateSpec:
    return parse_spec(text)


def load_spec(workspace: Path | None = None) -> TemplateSpec:
    """The workspace's own ``report_spec.toml`` when it has one, else the packaged spec."""
    if workspace is not None and (workspace / SPEC_FILE).is_file():
        return _load_text((workspace / SPEC_FILE).read_text(encoding="utf-8-sig"))
    return _load_text(packaged_spec_text())


def packaged_spec_text() -> str:
    return resources.files("shixiang_xl.templates").joinpath(SPEC_FILE).read_text(encoding="utf-8")
