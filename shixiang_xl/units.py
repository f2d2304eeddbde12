"""The unit directory (单位名录): units, their aliases and groups, and name resolution."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

from .findings import Finding, finding
from .tables import TableError, find_columns, iter_rows, read_workbook
from .textnorm import compact, fold

SHEET = "单位名录"
COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("单位全称", "单位名称", "单位"),
    "aliases": ("简称/别名", "简称", "别名", "简称或别名"),
    "group": ("分组", "类别", "单位类别"),
    "contact": ("联系人",),
    "phone": ("联系电话", "电话"),
    "email": ("电子邮箱", "邮箱", "E-mail", "Email"),
}
REQUIRED = ("name",)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True, slots=True)  # a city's directory has thousands
class Unit:
    """A reporting unit."""

    name: str
    aliases: tuple[str, ...] = ()
    group: str = ""
    contact: str = ""
    phone: str = ""
    emails: tuple[str, ...] = ()


@dataclass(frozen=True)
class Resolution:
    """What a name in a project list stands for."""

    text: str
    units: tuple[Unit, ...]
    kind: str  # "unit" | "alias" | "group" | "unknown"
    suggestions: tuple[str, ...] = ()


def _group_key(text: str) -> str:
    s = re.sub(r"[()（）、和及与]", "", fold(text))
    s = s.removeprefix("各").replace("街道", "街").replace("办事处", "")
    return s


@dataclass(frozen=True)
class Directory:
    """All units, looked up by full name or alias; groups (镇街) expand to their members."""

    units: tuple[Unit, ...] = ()
    _index: dict[str, Unit] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for u in self.units:
            for name in (u.name, *u.aliases):
                self._index.setdefault(fold(name), u)

    @property
    def groups(self) -> dict[str, tuple[Unit, ...]]:
        out: dict[str, list[Unit]] = {}
        for u in self.units:
            if u.group:
                out.setdefault(u.group, []).append(u)
        return {g: tuple(us) for g, us in out.items()}

    def get(self, name: str) -> Unit | None:
        """The unit named ``name`` (full name or alias, any width or script), or None."""
        return self._index.get(fold(name)) or self._index.get(fold(compact(name)))

    def group_members(self, word: str) -> tuple[str, tuple[Unit, ...]] | None:
        """(group name, members) for a group word such as 各镇街 / 各镇（街道）, or None."""
        key = _group_key(word)
        if not key:
            return None
        for group, members in self.groups.items():
            if _group_key(group) == key:
                return group, members
        return None

    def resolve(self, text: str) -> Resolution:
        """Resolve one name from a project list: a unit, an alias, a group word, or unknown (with suggestions)."""
        unit = self.get(text)
        if unit is not None:
            kind = "unit" if fold(unit.name) == fold(text) else "alias"
            return Resolution(text, (unit,), kind)
        group = self.group_members(text)
        if group is not None:
            return Resolution(text, group[1], "group")
        return Resolution(text, (), "unknown", tuple(self.suggest(text)))

    def suggest(self, text: str, n: int = 3) -> list[str]:
        """The closest directory names (full names; aliases count toward their unit)."""
        names = {fold(name): u.name for u in self.units for name in (u.name, *u.aliases)}
        close = difflib.get_close_matches(fold(text), list(names), n=n * 2, cutoff=0.5)
        out: list[str] = []
        for c in close:
            if names[c] not in out:
                out.append(names[c])
        return out[:n]


def _split_list(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in re.split(r"[、；;，,\n]+", text) if p.strip())


def load_directory(path: Path) -> tuple[Directory, list[Finding]]:
    """Read ``单位名录.xlsx``; every problem is a finding (duplicates, aliases claimed twice, bad e-mail)."""
    findings: list[Finding] = []
    fname = path.name
    try:
        sheets = read_workbook(path)
    except TableError as exc:
        return Directory(), [finding("workbook-unreadable", f"{exc}。请确认它是用 Excel/WPS 保存的 .xlsx 文件。",
                                     file=fname)]
    sheet = SHEET if SHEET in sheets else next(iter(sheets), "")
    rows = sheets.get(sheet, [])
    header, cols = find_columns(rows, COLUMNS)
    missing = [COLUMNS[k][0] for k in REQUIRED if k not in cols]
    if missing:
        return Directory(), [finding("directory-missing-column",
                                     f"找不到列「{'、'.join(missing)}」。第一行应为表头：{'、'.join(v[0] for v in COLUMNS.values())}。",
                                     file=fname, sheet=sheet, cell="A1")]
    units: list[Unit] = []
    seen_names: dict[str, str] = {}
    seen_alias: dict[str, tuple[str, str]] = {}
    for row in iter_rows(rows, header, cols):
        name = compact(row.text("name"))
        if not name:
            findings.append(finding("directory-empty-name", "单位全称为空，请填写或删除此行。",
                                    file=fname, sheet=sheet, cell=row.cell("name")))
            continue
        if fold(name) in seen_names:
            findings.append(finding("directory-duplicate-name",
                                    f"单位「{name}」重复出现（另见 {seen_names[fold(name)]}），请删除重复行。",
                                    file=fname, sheet=sheet, cell=row.cell("name")))
            continue
        seen_names[fold(name)] = row.cell("name")
        aliases = tuple(compact(a) for a in _split_list(row.text("aliases"))) if "aliases" in cols else ()
        ok_aliases: list[str] = []
        for alias in aliases:
            owner = seen_alias.get(fold(alias))
            if owner and owner[0] != name:
                findings.append(finding("directory-duplicate-alias",
                                        f"简称「{alias}」同时属于「{owner[0]}」和「{name}」，一个简称只能对应一个单位。",
                                        file=fname, sheet=sheet, cell=row.cell("aliases")))
                continue
            seen_alias[fold(alias)] = (name, row.cell("aliases"))
            ok_aliases.append(alias)
        emails = _split_list(row.text("email")) if "email" in cols else ()
        for e in emails:
            if not _EMAIL.match(e):
                findings.append(finding("directory-bad-email", f"「{name}」的邮箱「{e}」格式不正确。",
                                        file=fname, sheet=sheet, cell=row.cell("email")))
        units.append(Unit(name=name, aliases=tuple(ok_aliases),
                          group=row.text("group") if "group" in cols else "",
                          contact=row.text("contact") if "contact" in cols else "",
                          phone=row.text("phone") if "phone" in cols else "",
                          emails=tuple(e for e in emails if _EMAIL.match(e))))
    # An alias equal to another unit's full name would make lookups ambiguous.
    for u in units:
        for alias in u.aliases:
            other = seen_names.get(fold(alias))
            if other and fold(alias) != fold(u.name):
                findings.append(finding("directory-duplicate-alias",
                                        f"「{u.name}」的简称「{alias}」与另一单位的全称相同。",
                                        file=fname, sheet=sheet, cell=seen_alias[fold(alias)][1]))
    return Directory(tuple(units)), findings


def write_directory(path: Path, directory: Directory) -> None:
    """Write ``单位名录.xlsx`` in the standard layout (atomically)."""
    from .xlsxout import OfficeBook, print_setup

    with OfficeBook(path) as book:
        ws = book.sheet(SHEET)
        headings = [v[0] for v in COLUMNS.values()]
        widths = [30, 26, 8, 10, 16, 30]
        book.header(ws, 0, headings, widths)
        for r, u in enumerate(directory.units, start=1):
            values = [u.name, "、".join(u.aliases), u.group, u.contact, u.phone, "；".join(u.emails)]
            book.text_row(ws, r, values, widths)  # rows as tall as their text (a long e-mail wraps)
        ws.freeze_panes(1, 1)
        print_setup(ws, repeat=(0, 0))
        ws.autofilter(0, 0, max(1, len(directory.units)), len(headings) - 1)
