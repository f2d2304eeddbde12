"""``shixiang demo``: the whole cycle on the built-in example, in a new folder, saying where everything is."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Callable

from .findings import has_errors
from .render import render_projects
from .workspace import init_workspace, load_context


def run_demo(directory: Path | None, echo: Callable[[str], None]) -> Path:
    """Run every stage on the built-in 2026 example in ``directory`` (default: a new ``demo-<time>`` folder)."""
    root = directory or Path.cwd() / f"demo-{dt.datetime.now():%Y%m%d-%H%M%S}"
    echo(f"== 1. 创建工作区：{root}")
    init_workspace(root, "yanzhou-2026")
    ctx = load_context(root)
    echo(f"   配置 shixiang.toml、项目清单.xlsx、单位名录.xlsx 和 outbox/ inbox/ archive/ feedback/ reports/ 已就绪。")
    echo("")
    echo("== 2. 项目清单（已校验，单位已按名录解析）")
    echo(render_projects(ctx.projects, ctx.directory))
    for f in ctx.findings:
        echo("   " + f.line())
    if has_errors(ctx.findings):
        echo("   项目清单有错误，演示到此为止。")
        return root
    echo("")
    echo(f"演示完成。工作区：{root}")
    return root
