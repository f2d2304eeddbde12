"""The command line of the foundation (init, projects, -w), ``python -m shixiang_xl``, and a real wheel install."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib

import pytest
from click.testing import CliRunner

from conftest import REPO_ROOT, write_faulty_project_list
from shixiang_xl.cli import main
from shixiang_xl.workspace import load_context, load_example


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _no_traceback(result) -> None:
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


# ------------------------------------------------------------------ init


@pytest.mark.parametrize("example, year, n_indicators", [(None, 2026, 32), ("yanzhou-2026", 2026, 32),
                                                         ("yanzhou-2024", 2024, 15)])
def test_init_creates_a_workspace(tmp_path, example, year, n_indicators):
    root = tmp_path / "督查" / "ws"
    args = ["init", str(root)] + (["--example", example] if example else [])
    result = run(*args)
    assert result.exit_code == 0, result.output
    assert "已创建工作区" in result.output and "projects" in result.output
    for name in ("outbox", "inbox", "archive", "feedback", "reports"):
        assert (root / name).is_dir()
    config = tomllib.loads((root / "shixiang.toml").read_text(encoding="utf-8"))
    assert config["district"]["year"] == year
    assert config["schedule"]["lag_threshold"] == 10 and config["schedule"]["satisfaction_threshold"] == 90
    ctx = load_context(root)
    assert len(ctx.projects.projects) == 10 and len(ctx.projects.indicators) == n_indicators
    assert not [f for f in ctx.findings if f.is_error]


def test_init_refuses_an_existing_workspace(tmp_path):
    root = tmp_path / "ws"
    assert run("init", str(root)).exit_code == 0
    before = (root / "项目清单.xlsx").read_bytes()
    result = run("init", str(root), "--example", "yanzhou-2024")
    assert result.exit_code == 2
    assert "已经是一个工作区" in result.output
    _no_traceback(result)
    assert (root / "项目清单.xlsx").read_bytes() == before
    assert load_context(root).config.year == 2026


def test_init_unknown_example(tmp_path):
    result = run("init", str(tmp_path / "ws"), "--example", "nowhere-1999")
    assert result.exit_code == 2 and "yanzhou-2024" in result.output
    _no_traceback(result)


# ------------------------------------------------------------------ projects


def test_projects_table(workspace):
    result = run("-w", str(workspace.root), "projects")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "共 10 个项目、32 个量化指标" in out
    _, _, plist = load_example("yanzhou-2026")
    for p in plist.projects:
        assert p.name in out
    # Units are printed with their full names, groups summarised.
    assert "区卫生健康局" in out and "区卫健局" not in out
    assert "各镇街（10个单位）" in out
    assert "新增护理型床位 ≥100张" in out
    assert not [line for line in result.stderr.splitlines() if line.startswith(("错误", "警告"))]


def test_projects_table_2024(workspace_2024):
    result = run("--workspace", str(workspace_2024.root), "projects")
    assert result.exit_code == 0, result.output
    assert "共 10 个项目、15 个量化指标" in result.stdout
    assert "增加学位 330个" in result.stdout


def test_projects_json(workspace):
    result = run("--workspace", str(workspace.root), "projects", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    projects = data["projects"]
    assert [p["number"] for p in projects] == list(range(1, 11))
    assert sum(len(p["indicators"]) for p in projects) == 32
    p2 = projects[1]
    assert p2["lead"] == ["区民政局", "区医疗保障局"] and len(p2["co_units"]) == 10
    beds = next(i for i in p2["indicators"] if i["name"] == "新增护理型床位")
    assert (beds["value"], beds["unit"], beds["comparator"], beds["split"]) == (100, "张", "≥", False)
    assert projects[3]["due_month"] == 10 and projects[2]["indicators"] == []


def test_projects_uses_the_current_folder_without_w(workspace, monkeypatch):
    monkeypatch.chdir(workspace.root)
    result = run("projects")
    assert result.exit_code == 0, result.output
    assert "共 10 个项目" in result.stdout


def test_projects_outside_a_workspace(tmp_path):
    result = run("-w", str(tmp_path / "nothing"), "projects")
    assert result.exit_code == 2
    assert "shixiang init" in result.output
    _no_traceback(result)


def test_projects_with_the_faulty_list(workspace):
    expected = write_faulty_project_list(workspace.project_list_path)
    result = run("-w", str(workspace.root), "projects")
    assert result.exit_code == 1
    _no_traceback(result)
    err = result.stderr
    lines = [line for line in err.splitlines() if line.startswith("错误 ")]
    assert len(lines) == len(expected)
    for e in expected:
        place = f"[项目清单.xlsx › {e.sheet} › {e.cell}]"
        hits = [line for line in lines if line.startswith(f"错误 {e.code}: {place}")]
        assert len(hits) == 1, (e, lines)
        assert e.text in hits[0]
    assert f"有 {len(expected)} 处错误" in err
    # The table of what could be read is still printed.
    assert "提升乡村医疗服务能力" in result.stdout


def test_projects_json_with_the_faulty_list_still_exits_1(faulty_workspace):
    ws, expected = faulty_workspace
    result = run("-w", str(ws.root), "projects", "--format", "json")
    assert result.exit_code == 1
    json.loads(result.stdout)  # stdout stays valid JSON; findings go to stderr
    assert "target-not-number" in result.stderr and "target-not-number" not in result.stdout


def test_projects_with_an_unreadable_list(workspace):
    workspace.project_list_path.write_text("not a workbook", encoding="utf-8")
    result = run("-w", str(workspace.root), "projects")
    assert result.exit_code == 1 and "workbook-unreadable" in result.stderr
    _no_traceback(result)


def test_projects_with_a_broken_config(workspace):
    workspace.config_path.write_text('[schedule]\nfrequency = "weekly"\n', encoding="utf-8")
    result = run("-w", str(workspace.root), "projects")
    assert result.exit_code == 2 and "frequency" in result.output
    _no_traceback(result)


def test_help_and_version():
    result = run("--help")
    assert result.exit_code == 0
    for command in ("init", "projects", "demo"):
        assert command in result.output
    assert "-w, --workspace" in result.output
    result = run("--version")
    assert result.exit_code == 0 and "0.1.0" in result.output


def test_python_m_shixiang_xl_help(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "shixiang_xl", "--help"], capture_output=True, text=True,
                          encoding="utf-8", cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "实事通" in proc.stdout and "init" in proc.stdout and "projects" in proc.stdout


# ------------------------------------------------------------------ wheel


_WHEEL_CHECK = r"""
import json, sys
from pathlib import Path
from importlib import resources
import shixiang_xl
from shixiang_xl.workspace import init_workspace, load_context
from shixiang_xl.spec import load_spec

site = Path(sys.argv[1]).resolve()
out = {"package": str(Path(shixiang_xl.__file__).resolve()),
       "examples": str(Path(str(resources.files("shixiang_xl.examples"))).resolve()),
       "templates": str(Path(str(resources.files("shixiang_xl.templates"))).resolve())}
for name in ("yanzhou-2026", "yanzhou-2024"):
    root = Path(sys.argv[2]) / name
    init_workspace(root, name)
    ctx = load_context(root)
    out[name] = [len(ctx.projects.projects), len(ctx.projects.indicators), sum(f.is_error for f in ctx.findings)]
out["spec"] = load_spec().lead.sheet
out["xlsx"] = sorted(str(p.relative_to(site)) for p in site.rglob("*.xlsx"))
print(json.dumps(out, ensure_ascii=False))
"""


def test_wheel_install_ships_everything_the_examples_need(tmp_path):
    """Build a wheel, install it (not editable) and use it: templates/report_spec.toml and examples/* must ship.

    The wheel is built from a clean copy of the repository, so that setuptools' build/ folder (whose stale files
    would end up in the wheel) is neither used nor left in the working tree.
    """
    src = tmp_path / "src"
    shutil.copytree(REPO_ROOT, src, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", "tests", "bench",
        "demo-*", "*.pyc"))
    wheels, site = tmp_path / "wheels", tmp_path / "site"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(src)],
                           capture_output=True, text=True, env=env, timeout=600)
    assert build.returncode == 0, build.stdout + build.stderr
    [wheel] = list(wheels.glob("shixiang_xl-*.whl"))
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site),
                              str(wheel)], capture_output=True, text=True, env=env, timeout=600)
    assert install.returncode == 0, install.stdout + install.stderr
    assert (site / "shixiang_xl" / "templates" / "report_spec.toml").is_file()

    work = tmp_path / "work"
    work.mkdir()
    env["PYTHONPATH"] = str(site)
    proc = subprocess.run([sys.executable, "-c", _WHEEL_CHECK, str(site), str(work)], capture_output=True,
                          text=True, encoding="utf-8", env=env, cwd=work, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    # The installed copy was used, not the editable source tree.
    for key in ("package", "examples", "templates"):
        assert out[key].startswith(str(site.resolve())), (key, out[key])
    assert out["yanzhou-2026"] == [10, 32, 0]
    assert out["yanzhou-2024"] == [10, 15, 0]
    assert out["spec"] == "进度填报"
    for name in ("yanzhou-2026", "yanzhou-2024"):
        for book in ("项目清单.xlsx", "单位名录.xlsx"):
            assert f"shixiang_xl/examples/{name}/{book}" in out["xlsx"]

    cli = subprocess.run([sys.executable, "-m", "shixiang_xl", "-w", str(work / "yanzhou-2026"), "projects"],
                         capture_output=True, text=True, encoding="utf-8", env=env, cwd=work, timeout=300)
    assert cli.returncode == 0, cli.stderr
    assert "共 10 个项目、32 个量化指标" in cli.stdout


# ------------------------------------------------------------------ click's own words, in Chinese


_ENGLISH = re.compile(r"Usage|Options|Commands|Show this message|\[default|\[required\]|Error:|No such|Missing|"
                      r"Try '|\bTEXT\b|\bFLOAT\b|\bINTEGER\b|\bDIRECTORY\b|\bFILE\b")


def _all_commands(group, prefix=()):
    for name, cmd in group.commands.items():
        yield (*prefix, name)
        if hasattr(cmd, "commands"):
            yield from _all_commands(cmd, (*prefix, name))


def test_every_help_text_and_usage_error_is_chinese():
    from shixiang_xl.cli import main as cli

    runner = CliRunner()
    seen = 0
    for path in [(), *_all_commands(cli)]:
        res = runner.invoke(cli, [*path, "-h"], prog_name="shixiang")
        assert res.exit_code == 0, (path, res.output)
        assert "用法：shixiang" in res.output and "显示本帮助并退出" in res.output
        assert not _ENGLISH.search(res.output), (path, _ENGLISH.search(res.output).group(0), res.output)
        seen += 1
    assert seen >= 14
    cases = {("chek",): "没有「chek」这个命令。是不是要用「check」？",
             ("check",): "缺少选项 --period。",
             ("check", "--perod", "x"): "没有 --perod 这个选项。是不是要用 --period？",
             ("init",): "缺少参数 文件夹。",
             ("check", "--period", "2026-03", "--wait", "abc"): "--wait 的值不对：不是有效的数字。",
             ("check", "--period"): "选项 --period 的用法不对"}
    for args, expected in cases.items():
        res = runner.invoke(cli, list(args), prog_name="shixiang")
        assert res.exit_code == 2, (args, res.output)
        assert expected in res.output and "错误：" in res.output, (args, res.output)
        assert not _ENGLISH.search(res.output), (args, res.output)
