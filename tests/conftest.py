"""Shared fixtures and helpers: workspaces from the built-in examples, and hand-made (faulty) workbooks.

Other test modules may use every fixture below. Workbooks are written with openpyxl (an independent writer, not the
package's own xlsxwriter code) and always closed, because the suite runs with warnings as errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import openpyxl
import pytest

from shixiang_xl.findings import Severity
from shixiang_xl.workspace import Context, Workspace, init_workspace, load_context, load_example

REPO_ROOT = Path(__file__).resolve().parent.parent

PROJECT_HEADERS = ["序号", "项目名称", "项目主要内容", "牵头单位", "协办单位", "计划完成时间", "备注"]
INDICATOR_HEADERS = ["项目序号", "指标序号", "指标名称", "目标值", "计量单位", "比较方式", "按协办单位分解", "说明"]
MILESTONE_HEADERS = ["项目序号", "月份", "计划进度(%)"]
DIRECTORY_HEADERS = ["单位全称", "简称/别名", "分组", "联系人", "联系电话", "电子邮箱"]


# ------------------------------------------------------------------ plain helpers


def write_xlsx(path: Path, sheets: dict[str, Sequence[Sequence[object]]]) -> Path:
    """Write a workbook with openpyxl: one sheet per key, rows as given (the first row is usually the header)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.Workbook()
    try:
        wb.remove(wb.active)
        for name, rows in sheets.items():
            ws = wb.create_sheet(name)
            for row in rows:
                ws.append(list(row))
        wb.save(path)
    finally:
        wb.close()
    return path


def write_project_list_xlsx(path: Path, projects: Sequence[Sequence[object]],
                            indicators: Sequence[Sequence[object]] | None = (),
                            milestones: Sequence[Sequence[object]] | None = None, *,
                            project_headers: Sequence[str] = PROJECT_HEADERS,
                            indicator_headers: Sequence[str] = INDICATOR_HEADERS,
                            milestone_headers: Sequence[str] = MILESTONE_HEADERS) -> Path:
    """A 项目清单.xlsx: sheet 项目, sheet 指标 (left out when ``indicators`` is None), sheet 时间节点 (when given).

    Rows are values in the order of the headers; project rows are written from row 2 (row 1 is the header).
    """
    sheets: dict[str, list] = {"项目": [list(project_headers), *map(list, projects)]}
    if indicators is not None:
        sheets["指标"] = [list(indicator_headers), *map(list, indicators)]
    if milestones is not None:
        sheets["时间节点"] = [list(milestone_headers), *map(list, milestones)]
    return write_xlsx(path, sheets)


def write_directory_xlsx(path: Path, units: Sequence[Sequence[object]], *,
                         headers: Sequence[str] = DIRECTORY_HEADERS) -> Path:
    """A 单位名录.xlsx with sheet 单位名录 (rows in the order of ``headers``)."""
    return write_xlsx(path, {"单位名录": [list(headers), *map(list, units)]})


@dataclass(frozen=True)
class Expected:
    """One finding a hand-made faulty workbook must produce."""

    code: str
    sheet: str
    cell: str
    text: str = ""  # a fragment the message must contain


def write_faulty_project_list(path: Path) -> list[Expected]:
    """The issue's faulty project list, against the example unit directory: returns every finding it must yield.

    Faults: the 协办单位 column is missing; 序号 1 appears twice; a row has no 序号; 区卫建局 (a typo) is not in the
    directory; a target is the text "约100"; another is negative; an indicator points at project 9, which does not
    exist.
    """
    headers = ["序号", "项目名称", "项目主要内容", "牵头单位", "计划完成时间", "备注"]  # no 协办单位
    projects = [
        [1, "提升乡村医疗服务能力", "新建中心村卫生室 10 家", "区卫健局", "12月", ""],       # row 2
        [2, "优化养老服务供给", "培训养老护理员 200 人次", "区民政局", "", ""],              # row 3
        [1, "重复序号的项目", "内容", "区教体局", "", ""],                                   # row 4: duplicate
        [None, "没有序号的项目", "内容", "区司法局", "", ""],                                # row 5: no 序号
        [3, "单位写错的项目", "内容", "区卫建局", "", ""],                                   # row 6: unknown unit
    ]
    indicators = [
        [1, 1, "新建中心村卫生室", "约100", "家", "=", "否", ""],       # row 2: text target
        [1, 2, "改造提升村卫生室", 150, "家", "=", "否", ""],           # row 3: fine
        [2, 1, "培训养老护理员", -5, "人次", "≥", "否", ""],            # row 4: negative
        [9, 1, "不存在的项目的指标", 10, "个", "=", "否", ""],          # row 5: unknown project
    ]
    write_project_list_xlsx(path, projects, indicators, project_headers=headers)
    return [
        Expected("column-missing", "项目", "A1", "协办单位"),
        Expected("project-number-duplicate", "项目", "A4", "A2"),
        Expected("project-number-missing", "项目", "A5"),
        Expected("unit-unknown", "项目", "D6", "区卫生健康局"),
        Expected("target-not-number", "指标", "D2", "约100"),
        Expected("target-negative", "指标", "D4", "-5"),
        Expected("indicator-project-unknown", "指标", "A5", "9"),
    ]


def problems(findings) -> list:
    """The errors and warnings (informational findings, such as an alias resolved, left out)."""
    return [f for f in findings if f.severity is not Severity.INFO]


def finding_places(findings) -> set[tuple[str, str, str]]:
    """{(code, sheet, cell)} of the errors and warnings in a list of findings."""
    return {(f.code, f.sheet, f.cell) for f in problems(findings)}


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="session")
def example_2026():
    """(Config, Directory, ProjectList) of the built-in 2026 example."""
    return load_example("yanzhou-2026")


@pytest.fixture(scope="session")
def example_2024():
    """(Config, Directory, ProjectList) of the built-in 2024 example."""
    return load_example("yanzhou-2024")


@pytest.fixture(scope="session")
def directory(example_2026):
    """The example unit directory (both examples share it)."""
    return example_2026[1]


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """A fresh workspace made by ``init`` from the 2026 example, at tmp_path/'ws'."""
    return init_workspace(tmp_path / "ws", "yanzhou-2026")


@pytest.fixture
def workspace_2024(tmp_path: Path) -> Workspace:
    """A fresh workspace made by ``init`` from the 2024 example, at tmp_path/'ws2024'."""
    return init_workspace(tmp_path / "ws2024", "yanzhou-2024")


@pytest.fixture
def context(workspace: Workspace) -> Context:
    """The loaded 2026 workspace."""
    return load_context(workspace.root)


@pytest.fixture
def faulty_workspace(workspace: Workspace) -> tuple[Workspace, list[Expected]]:
    """The 2026 workspace with its 项目清单.xlsx replaced by the faulty list; returns (workspace, expected)."""
    expected = write_faulty_project_list(workspace.project_list_path)
    return workspace, expected


@pytest.fixture
def xlsx() -> Callable[..., Path]:
    """``xlsx(path, {sheet: rows})`` writes a workbook with openpyxl."""
    return write_xlsx


@pytest.fixture
def project_list_xlsx() -> Callable[..., Path]:
    """``project_list_xlsx(path, projects, indicators=(), milestones=None, project_headers=…)``."""
    return write_project_list_xlsx


@pytest.fixture
def directory_xlsx() -> Callable[..., Path]:
    """``directory_xlsx(path, units, headers=…)``."""
    return write_directory_xlsx
