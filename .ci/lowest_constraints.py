"""Print pip constraints that pin every dependency in setup.cfg to the lowest version its range allows.

``make test-lowest`` installs the package with these constraints in a separate virtual environment and runs the
test suite there, so both ends of every range in setup.cfg are tested (``make test`` resolves to the highest).
The constraints are derived from setup.cfg each time, never kept as a second list: install_requires and every
extra, one ``name==floor`` line each, where the floor is the range's ``>=`` (or ``==`` / ``~=``) version.
A requirement without a floor is refused: its lowest end could not be tested.

Standard library only: it runs before any virtual environment exists.
Usage: python tools/lowest_constraints.py [setup.cfg]
"""

from __future__ import annotations

import configparser
import re
import sys
from pathlib import Path

# name, optional [extras], then the version specifiers (environment markers are not used in setup.cfg).
_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(.*?)\s*$")
_FLOOR = re.compile(r"^(>=|==|~=)\s*([0-9][0-9A-Za-z.+!-]*)$")


def requirements(cfg_text: str) -> list[str]:
    """Every requirement line of setup.cfg's install_requires and extras_require, in file order."""
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read_string(cfg_text)
    lines = cfg.get("options", "install_requires", fallback="").splitlines()
    if cfg.has_section("options.extras_require"):
        for _, value in cfg.items("options.extras_require"):
            lines += value.splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def lowest(requirement: str) -> str:
    """``click>=8.5,<8.6`` → ``click==8.5``; ValueError when the requirement has no floor."""
    if ";" in requirement:
        raise ValueError(f"{requirement!r}: environment markers are not supported here")
    match = _REQUIREMENT.match(requirement)
    if not match:
        raise ValueError(f"{requirement!r} is not a requirement")
    name, specs = match.group(1), [s.strip() for s in match.group(2).split(",") if s.strip()]
    floors = [m.group(2) for m in (_FLOOR.match(s) for s in specs) if m]
    if len(floors) != 1:
        raise ValueError(f"{requirement!r} needs exactly one lower bound (>=, == or ~=) to be tested at its lowest")
    return f"{name}=={floors[0]}"


def constraints(cfg_text: str) -> list[str]:
    """One ``name==floor`` line per dependency (a name listed twice must have one floor)."""
    pinned: dict[str, str] = {}
    for requirement in requirements(cfg_text):
        line = lowest(requirement)
        key = re.sub(r"[-_.]+", "-", line.split("==")[0]).lower()
        if pinned.get(key, line) != line:
            raise ValueError(f"{key} has two different floors: {pinned[key]} and {line}")
        pinned[key] = line
    return list(pinned.values())


def main(argv: list[str]) -> int:
    path = Path(argv[1] if len(argv) > 1 else "setup.cfg")
    try:
        print("\n".join(constraints(path.read_text(encoding="utf-8"))))
    except ValueError as exc:
        print(f"{path}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
