"""Other libraries are used through their public API only: no private module, name, attribute or method of
xlsxwriter, openpyxl, python-docx, python-calamine, click, zipfile, olefile or pypdf anywhere in the package, and no
subclass of theirs overriding a private method.

A private name is one with a single leading underscore. Our own private attributes (defined somewhere in the
package) are of course allowed on our own objects; any other ``x._name`` is someone else's and fails the test.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "shixiang_xl"
LIBRARIES = ("xlsxwriter", "openpyxl", "docx", "python_calamine", "click", "zipfile", "olefile", "pypdf")
_LIBS = "|".join(LIBRARIES)
DOTTED_PRIVATE = re.compile(rf"\b({_LIBS})\.[A-Za-z_.]*\b_[a-z]")
IMPORT_PRIVATE = re.compile(rf"^\s*from ({_LIBS})[\w.]* import [^#\n]*\b_[a-z]", re.M)
# Documented public names that begin with an underscore: os._exit, and namedtuple's own methods.
PUBLIC_UNDERSCORED = {"_exit", "_replace", "_asdict", "_fields", "_make", "_field_defaults"}
# Known uses of another library's private names: none (the list may only shrink).
KNOWN_ELSEWHERE: set[tuple[str, str]] = set()


def _sources() -> dict[str, str]:
    # Every module, the web layer's included (web/app.py …).
    return {p.relative_to(PACKAGE).as_posix(): p.read_text(encoding="utf-8") for p in sorted(PACKAGE.rglob("*.py"))}


def _own_private_names(sources: dict[str, str]) -> set[str]:
    """Every underscored name the package itself defines: functions, methods, classes, attributes it assigns
    (``self._x = …``, class bodies, ``__slots__``), module-level names and keyword arguments."""
    names: set[str] = set()
    for text in sources.values():
        tree = ast.parse(text)
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                names.add(node.target.id)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.isidentifier():
                names.add(node.value)  # __slots__ entries, names given to setattr/getattr/namedtuple
    return {n for n in names if n.startswith("_")}


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _private_uses(sources: dict[str, str]) -> list[str]:
    own = _own_private_names(sources)
    found: list[str] = []
    for file, text in sources.items():
        for m in DOTTED_PRIVATE.finditer(text):
            found.append(f"{file}:{text.count(chr(10), 0, m.start()) + 1}: {m.group(0)}")
        for m in IMPORT_PRIVATE.finditer(text):
            found.append(f"{file}:{text.count(chr(10), 0, m.start()) + 1}: {m.group(0).strip()}")
        tree = ast.parse(text)
        library_names = _library_names(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and _private(node.attr):
                if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
                    continue
                if node.attr in PUBLIC_UNDERSCORED or (file, node.attr) in KNOWN_ELSEWHERE:
                    continue
                if node.attr not in own:
                    found.append(f"{file}:{node.lineno}: ._{node.attr[1:]} (defined nowhere in the package)")
            elif isinstance(node, ast.ClassDef):
                bases = {ast.unparse(b).split(".")[0] for b in node.bases}
                if bases & library_names:
                    for item in node.body:
                        if isinstance(item, ast.FunctionDef) and _private(item.name):
                            found.append(f"{file}:{item.lineno}: {node.name} overrides {item.name} of "
                                         f"{', '.join(sorted(bases & library_names))}")
    return found


def _library_names(tree: ast.Module) -> set[str]:
    """Local names bound to the libraries or to anything imported from them."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in LIBRARIES:
                    names.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in LIBRARIES:
            names.update(alias.asname or alias.name for alias in node.names)
    return names


def test_no_private_api_of_another_library_is_used():
    assert _private_uses(_sources()) == []


@pytest.mark.parametrize("snippet", [
    "from xlsxwriter.utility import _preserve_whitespace\n",
    "import zipfile\nx = zipfile.ZipFile._RealGetContents\n",
    "def f(par):\n    return par._p\n",
    "import xlsxwriter\nclass W(xlsxwriter.Workbook):\n    def _store_workbook(self):\n        pass\n",
    "from xlsxwriter.worksheet import Worksheet\nclass S(Worksheet):\n    def _write_row(self):\n        pass\n",
])
def test_the_check_finds_private_uses(snippet):
    sources = _sources()
    sources["planted.py"] = snippet
    assert any(line.startswith("planted.py:") for line in _private_uses(sources)), snippet
