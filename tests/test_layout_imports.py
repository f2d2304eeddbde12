"""The package reads as a straight line: every module belongs to a stage, and no module imports one of a later
stage, at the top or inside a function (a lazy import is for a heavy third-party library, never to dodge a cycle:
the graph of all the package's own imports has no cycle at all). Imports are read with ``ast``, not by importing.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "shixiang_xl"

# The stages, in the order the data flows through them. Modules of one stage may import each other (without a
# cycle). The notice importer makes a project list; the intake's workers read and check each return (so the
# reader and the rules come before them); the survey prints ballots, reads the clerks' entries (with the
# intake's guards) and tallies them; the tally feeds the year-end ledger.
STAGES: list[tuple[str, tuple[str, ...]]] = [
    ("foundation", ("errors", "findings", "textnorm", "safename", "formulas", "meta", "measures", "figures",
                    "tables", "sandbox", "config", "backup", "faults", "office", "wslock", "xlsxout", "docxout",
                    "store", "render")),
    ("projects", ("units", "projects", "notice", "notice_files", "notice_layouts", "notice_targets")),
    ("spec", ("spec", "period", "layout")),
    ("workspace", ("workspace", "history")),
    ("generate", ("generate", "simulate")),
    ("reader", ("reader",)),
    ("check", ("check",)),
    ("intake", ("intake_bytes", "intake_files", "intake", "feedback")),
    ("survey", ("ballots", "entries", "tally")),
    ("batch", ("batch",)),
    ("ledger", ("ledger", "submissions")),
    ("merge", ("merge",)),
    ("outputs", ("status", "report", "send", "collect", "export")),
    ("commands", ("demo", "web", "gallery", "cli", "__main__", "__init__")),
]
RANK = {module: rank for rank, (_, modules) in enumerate(STAGES) for module in modules}


def own_imports(tree: ast.Module, module: str) -> list[tuple[str, int]]:
    """(imported module of the package, line) for every import of the package's own modules in ``tree``."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:
                targets = [node.module.split(".")[0]] if node.module else [a.name for a in node.names]
            elif node.level == 0 and node.module and node.module.split(".")[0] == "shixiang_xl":
                parts = node.module.split(".")
                targets = [parts[1]] if len(parts) > 1 else [a.name for a in node.names]
            else:
                continue
            found += [(t, node.lineno) for t in targets if t != module]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "shixiang_xl" and len(parts) > 1:
                    found.append((parts[1], node.lineno))
    return found


def graph(package: Path = PACKAGE) -> dict[str, list[tuple[str, int]]]:
    return {p.stem: own_imports(ast.parse(p.read_text(encoding="utf-8")), p.stem)
            for p in sorted(package.glob("*.py"))}


def later_stage_imports(edges: dict[str, list[tuple[str, int]]]) -> list[str]:
    out = []
    for module, imports in edges.items():
        for target, line in imports:
            if RANK[target] > RANK[module]:
                out.append(f"{module}.py:{line} imports {target} ({STAGES[RANK[module]][0]} → "
                           f"{STAGES[RANK[target]][0]})")
    return out


def cycles(edges: dict[str, list[tuple[str, int]]]) -> list[list[str]]:
    """Every cycle found by a depth-first search (each reported once, from where it was met)."""
    found: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        path.append(m)
        for t in sorted({t for t, _ in edges.get(m, ())}):
            if state.get(t) == 1:
                found.append(path[path.index(t):] + [t])
            elif t not in state:
                visit(t)
        path.pop()
        state[m] = 2

    for m in sorted(edges):
        if m not in state:
            visit(m)
    return found


def test_every_module_has_a_stage():
    assert sorted(set(graph()) - set(RANK)) == []


def test_no_module_imports_a_later_stage():
    assert later_stage_imports(graph()) == []


def test_the_imports_have_no_cycle():
    assert cycles(graph()) == []


@pytest.mark.parametrize("planted, kind", [
    ({"check": [("batch", 1)]}, "later"),
    ({"render": [("batch", 1)]}, "later"),
    ({"units": [("projects", 1)]}, "cycle"),  # same stage, but projects imports units
])
def test_the_checks_find_what_they_look_for(planted, kind):
    edges = graph()
    for module, extra in planted.items():
        edges[module] = edges[module] + extra
    if kind == "later":
        assert later_stage_imports(edges)
    else:
        assert cycles(edges)


# Every statement on the store's tables is in store.py. backup.py only asks SQLite whether a copy of the file is
# sound (PRAGMA quick_check), on no table of ours.
SQL_HOME = "store"
SQL_ALLOWED = {"backup": {"PRAGMA quick_check"}}
_SQL = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|REPLACE|WITH|PRAGMA|DROP|ALTER|BEGIN)\b")
_RUNS_SQL = {"execute", "executemany", "executescript"}


def sql_outside_store(sources: dict[str, str]) -> list[str]:
    """Where a module other than store.py holds SQL text or runs a statement (``module.py:line what``)."""
    out = []
    for module, text in sorted(sources.items()):
        if module == SQL_HOME:
            continue
        allowed = SQL_ALLOWED.get(module, set())
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and _SQL.match(node.value) \
                    and node.value not in allowed:
                out.append(f"{module}.py:{node.lineno} {node.value[:60]!r}")
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr in _RUNS_SQL:
                args = node.args
                if not (module in SQL_ALLOWED and args and isinstance(args[0], ast.Constant)
                        and args[0].value in allowed):
                    out.append(f"{module}.py:{node.lineno} .{node.func.attr}(…)")
    return out


def _sources() -> dict[str, str]:
    return {p.relative_to(PACKAGE).with_suffix("").as_posix().replace("/", "."): p.read_text(encoding="utf-8")
            for p in sorted(PACKAGE.rglob("*.py"))}


def test_all_sql_is_in_store_py():
    assert sql_outside_store(_sources()) == []


@pytest.mark.parametrize("planted", [
    'def f(conn):\n    return conn.execute(q).fetchall()\n',
    'Q = "SELECT unit FROM entries WHERE period = ?"\n',
    'Q = f"DELETE FROM findings WHERE period = {p}"\n',
])
def test_the_sql_check_finds_what_it_looks_for(planted):
    sources = _sources()
    sources["merge"] += "\n" + planted
    assert sql_outside_store(sources)
