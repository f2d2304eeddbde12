"""Dependency ranges: every dependency in setup.cfg has a floor and a ceiling, the environment the suite runs in
lies inside them, and ``make test-lowest``'s pins are derived from setup.cfg (and are what it installed)."""

from __future__ import annotations

import importlib.util
import os
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
SETUP_CFG = (ROOT / "setup.cfg").read_text(encoding="utf-8")


def _tool():
    spec = importlib.util.spec_from_file_location("lowest_constraints", ROOT / ".ci" / "lowest_constraints.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


lowest_constraints = _tool()
REQUIREMENTS = [Requirement(line) for line in lowest_constraints.requirements(SETUP_CFG)]


def test_setup_cfg_lists_the_dependencies_we_use():
    names = {r.name.lower() for r in REQUIREMENTS}
    # install_requires and the test extra, read by the tool from setup.cfg as pip reads them.
    assert {"click", "openpyxl", "xlsxwriter", "pandas", "pytest", "selenium"} <= names
    assert len(names) == len(REQUIREMENTS), "a dependency is listed twice"


@pytest.mark.parametrize("requirement", REQUIREMENTS, ids=str)
def test_every_range_has_a_floor_and_a_ceiling(requirement):
    operators = {s.operator for s in requirement.specifier}
    assert operators & {">=", "==", "~="}, f"{requirement}: no lowest version to test"
    assert operators & {"<", "<=", "==", "~="}, f"{requirement}: no highest version: an upgrade would go untested"


@pytest.mark.parametrize("requirement", REQUIREMENTS, ids=str)
def test_the_installed_version_lies_in_the_range(requirement):
    try:
        installed = Version(version(requirement.name))
    except PackageNotFoundError:
        pytest.fail(f"{requirement.name} is not installed: run `make test`, which installs setup.cfg's extras")
    assert installed in requirement.specifier, f"{requirement.name} {installed} is outside {requirement.specifier}"
    if os.environ.get("SHIXIANG_DEPENDENCIES") == "lowest":  # set by `make test-lowest`
        floor = lowest_constraints.lowest(str(requirement)).split("==")[1]
        assert installed == Version(floor), f"{requirement.name} {installed} is not the floor {floor}"


def test_the_lowest_pins_come_from_the_ranges():
    pins = lowest_constraints.constraints(SETUP_CFG)
    assert len(pins) == len(REQUIREMENTS)
    for requirement, pin in zip(REQUIREMENTS, pins):
        pinned = Requirement(pin)
        assert pinned.name == requirement.name
        (floor,) = [Version(s.version) for s in pinned.specifier]
        assert floor in requirement.specifier, f"{pin} is outside {requirement}"
        assert [s.version for s in requirement.specifier if s.operator == ">="] in ([], [str(floor)])


@pytest.mark.parametrize("text, expected", [
    ("click>=8.5,<8.6", "click==8.5"),
    ("openpyxl >= 3.1.5, < 3.2", "openpyxl==3.1.5"),
    ("python-docx<1.3,>=1.2", "python-docx==1.2"),
    ("foo[bar]~=2.1", "foo==2.1"),
    ("olefile==0.47", "olefile==0.47"),
])
def test_the_floor_of_a_range(text, expected):
    assert lowest_constraints.lowest(text) == expected


@pytest.mark.parametrize("text", ["click", "click<9", "click>8", "click>=8,>=8.1", "click>=8; python_version<'3'"])
def test_a_range_without_one_floor_is_refused(text):
    with pytest.raises(ValueError):
        lowest_constraints.lowest(text)


def test_the_tool_reads_install_requires_and_every_extra(tmp_path):
    cfg = tmp_path / "setup.cfg"
    cfg.write_text("[options]\ninstall_requires =\n    a>=1.0,<1.1\n    # a comment\n    B_c>=2.3.4,<2.4\n"
                   "[options.extras_require]\ntest =\n    pytest>=9.2,<9.3\ndocs =\n    d>=0.1,<0.2\n",
                   encoding="utf-8")
    assert lowest_constraints.constraints(cfg.read_text(encoding="utf-8")) == [
        "a==1.0", "B_c==2.3.4", "pytest==9.2", "d==0.1"]
    assert lowest_constraints.main(["x", str(cfg)]) == 0
    cfg.write_text("[options]\ninstall_requires =\n    a>=1.0\n    a>=1.1\n", encoding="utf-8")
    assert lowest_constraints.main(["x", str(cfg)]) == 1
