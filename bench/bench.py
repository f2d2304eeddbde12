"""Benchmark: our generate and merge side by side with a floor and a baseline, in one run, as ratios.

    make bench                      # N = 40, 1000, 5000; writes BENCHMARKS.md
    python bench/bench.py --sizes 40,200 --runs 1 --no-write   # a quick look

For each N a synthetic workspace is made: N units, each leading one project with 12 indicators and long Chinese
text. N filled returns are made from generated workbooks. Then, each measured in a fresh subprocess (so peak RSS
is its own), medians of ``--runs`` runs:

- generate: our ``generate_workbooks`` (2 worker processes) vs a plain openpyxl writer of the same workbook;
- merge: ``merge_returns`` end to end (intake, every check, store, ledger) on the N returns, from an empty store;
- floor: a bare python-calamine read of the same files plus an xlsxwriter (constant_memory) write of the same
  ledger rows, no checks;
- baseline: ``pandas.read_excel`` (openpyxl engine) per file, ``pandas.concat``, ``to_excel``;
- ``shixiang --help`` start-up time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PERIOD = "2026-03"
INDICATORS = 12
SUBSET = 1000  # returns merged into the largest workspace as well
CONTENT = ("围绕群众急难愁盼问题，聚焦短板弱项，细化任务分工，明确时间节点，压实工作责任，"
           "实行挂图作战，确保各项目标任务按期保质完成，让群众切实感受到实实在在的变化。")


# ------------------------------------------------------------------ set-up (not timed)


def make_workspace(root: Path, n: int) -> None:
    """A workspace with ``n`` units, each leading one project with 12 indicators."""
    from shixiang_xl.projects import Indicator, Project, ProjectList, write_project_list
    from shixiang_xl.units import Directory, Unit, write_directory
    from shixiang_xl.workspace import init_workspace

    init_workspace(root, "yanzhou-2026")
    units = tuple(Unit(name=f"第{i:05d}号责任单位", group="部门", contact="张明", phone="0537-3410000",
                       emails=(f"u{i}@example.com",)) for i in range(1, n + 1))
    units_list = [u.name for u in units]
    projects = []
    for i, unit in enumerate(units_list, start=1):
        inds = tuple(Indicator(project=i, number=k, name=f"新建改造第{k}类民生设施", target=float(10 * k + i % 7),
                               unit="处", comparator="≥" if k % 3 == 0 else "=") for k in range(1, INDICATORS + 1))
        projects.append(Project(number=i, name=f"第{i}项民生实事项目", content=CONTENT * 2, leads=(unit,),
                                lead_text=unit, indicators=inds))
    write_directory(root / "单位名录.xlsx", Directory(units))
    write_project_list(root / "项目清单.xlsx", ProjectList(tuple(projects)))


def make_returns(root: Path, inbox: Path) -> None:
    """N filled returns (long Chinese text) built from generated workbooks, in a pool of processes."""
    from multiprocessing import Pool

    from shixiang_xl.workspace import load_context

    ctx = load_context(root)
    inbox.mkdir(parents=True, exist_ok=True)
    units = list(ctx.projects.units)
    with Pool(2) as pool:
        pool.starmap(_make_one, [(str(root), u, str(inbox)) for u in units], chunksize=32)


def _make_one(root: str, unit: str, inbox: str) -> None:
    from shixiang_xl.generate import file_name
    from shixiang_xl.period import Period
    from shixiang_xl.simulate import write_simulated_return
    from shixiang_xl.workspace import load_context

    ctx = _ctx_cache.get(root) or _ctx_cache.setdefault(root, load_context(Path(root)))
    period = Period.parse(PERIOD)

    def tweak(values, fields):
        for key, row in values.items():
            if "progress_text" in row:
                row["progress_text"] = row["progress_text"] + CONTENT * 3

    write_simulated_return(ctx, unit, period, Path(inbox) / file_name(period, unit), tweak=tweak)


_ctx_cache: dict = {}


# ------------------------------------------------------------------ measured steps (each in a subprocess)


def step_generate_ours(root: Path, out: Path) -> int:
    from shixiang_xl.generate import generate_workbooks
    from shixiang_xl.period import Period
    from shixiang_xl.workspace import load_context

    ctx = load_context(root)
    return len(generate_workbooks(ctx, Period.parse(PERIOD), out=out, issued_at="2026-03-01T09:00:00+08:00",
                                  previous={}, processes=2).files)


def step_generate_openpyxl(root: Path, out: Path, limit: int) -> int:
    """The same workbook written cell by cell with openpyxl (values, styles, validation, protection)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
    from openpyxl.worksheet.datavalidation import DataValidation

    from shixiang_xl.period import Period
    from shixiang_xl.workspace import load_context

    ctx = load_context(root)
    period = Period.parse(PERIOD)
    spec = ctx.spec.lead
    out.mkdir(parents=True, exist_ok=True)
    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    font = Font(name="仿宋_GB2312", size=11)
    input_fill = PatternFill("solid", start_color="FFF2CC")
    locked_fill = PatternFill("solid", start_color="F2F2F2")
    n = 0
    for unit in ctx.projects.units[:limit]:
        wb = Workbook()
        info = wb.active
        info.title = "填报说明"
        info["A1"] = f"{ctx.config.full_title}进度填报表"
        info["A2"] = f"填报单位：{unit}"
        for r, f in enumerate(ctx.spec.fields, start=6):
            info.cell(r, 1, f.heading)
            info.cell(r, 2).protection = Protection(locked=False)
        info.protection.sheet = True
        ws = wb.create_sheet(spec.sheet)
        ws["A1"] = spec.title
        ws["A2"] = f"填报单位：{unit}　报送期：{period.label}"
        for c, col in enumerate(spec.columns, start=1):
            cell = ws.cell(3, c, col.heading)
            cell.font = Font(name="黑体", bold=True)
            cell.border = border
        dv = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0")
        ws.add_data_validation(dv)
        r = 4
        for p in ctx.projects.led_by(unit):
            for ind in p.indicators:
                values = [p.number, p.name, ind.name, ind.target, ind.unit, ind.comparator, 0, None, None,
                          f"=IF(I{r}>0,I{r}/D{r},\"\")"]
                for c, v in enumerate(values, start=1):
                    cell = ws.cell(r, c, v)
                    cell.font, cell.border = font, border
                    cell.alignment = Alignment(wrap_text=True, vertical="center")
                    cell.fill = locked_fill
                for c in (8, 9):
                    ws.cell(r, c).protection = Protection(locked=False)
                    ws.cell(r, c).fill = input_fill
                    dv.add(ws.cell(r, c))
                r += 1
        ws.protection.sheet = True
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = 9
        ws.print_title_rows = "3:3"
        meta = wb.create_sheet("_meta")
        meta["A1"] = "shixiang-meta/1"
        meta.sheet_state = "veryHidden"
        wb.save(out / f"{unit}.xlsx")
        wb.close()
        n += 1
    return n


def step_merge_ours(root: Path, expected: int) -> int:
    from shixiang_xl.merge import merge_returns
    from shixiang_xl.period import Period
    from shixiang_xl.workspace import load_context

    ctx = load_context(root)
    _LOADED.append(_rss_mb())  # what the workspace's lists alone take, before any return is read
    result = merge_returns(ctx, Period.parse(PERIOD), feedback=False)
    accepted = len(result.batch.accepted)
    if accepted != expected:
        raise SystemExit(f"merge accepted {accepted} of {expected}")
    return accepted


_LOADED: list[float] = []


def step_floor(inbox: Path, out: Path) -> int:
    """A bare python-calamine read of every file and an xlsxwriter (constant_memory) write of the same ledger
    rows as ours (总表, 指标明细, 报送情况, 走势: same rows and columns), with no checks and no formatting."""
    import python_calamine
    import xlsxwriter

    files = sorted(inbox.glob("*.xlsx"))
    projects, indicators, units = [], [], []
    for f in files:
        book = python_calamine.CalamineWorkbook.from_path(str(f))
        info = book.get_sheet_by_name("填报说明").to_python()
        rows = book.get_sheet_by_name("进度填报").to_python()
        unit = f.name.split("_")[1]
        first = rows[3]
        projects.append([first[0], first[1], "", unit, "", first[12], None, first[10], None, first[11], first[13],
                         first[14]])
        for r in rows[3:]:
            target, cum = r[3], r[8]
            rate = cum / target if isinstance(cum, float) and isinstance(target, float) and target else None
            indicators.append([first[0], r[2], unit, target, r[4], r[5], r[6], r[7], cum, rate, None, None])
        units.append([len(units) + 1, unit, "牵头", "按时报送", "", f.name, 0, 0, info[5][1], info[6][1]])
    wb = xlsxwriter.Workbook(str(out), {"constant_memory": True})
    for name, rows in (("总表", projects), ("指标明细", indicators), ("报送情况", units),
                       ("走势", [[p[0], p[1], p[7]] for p in projects])):
        ws = wb.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, v in enumerate(row):
                if isinstance(v, str):
                    ws.write_string(r, c, v)
                elif v is not None:
                    ws.write_number(r, c, v)
    wb.close()
    return len(files)


def step_pandas(inbox: Path, out: Path) -> int:
    """What a Python programmer writes first: read_excel (openpyxl) per file, concat, to_excel."""
    import pandas as pd

    frames = []
    for f in sorted(inbox.glob("*.xlsx")):
        df = pd.read_excel(f, sheet_name="进度填报", header=2, engine="openpyxl")
        df["文件"] = f.stem
        frames.append(df)
    pd.concat(frames, ignore_index=True).to_excel(out, index=False)
    return len(frames)


def child(argv: list[str]) -> None:
    """Run one step and print its time and peak RSS (self and children) as JSON."""
    step, args = argv[0], argv[1:]
    start = time.perf_counter()
    if step == "generate-ours":
        n = step_generate_ours(Path(args[0]), Path(args[1]))
    elif step == "generate-openpyxl":
        n = step_generate_openpyxl(Path(args[0]), Path(args[1]), int(args[2]))
    elif step == "merge-ours":
        n = step_merge_ours(Path(args[0]), int(args[1]))
    elif step == "floor":
        n = step_floor(Path(args[0]), Path(args[1]))
    elif step == "pandas":
        n = step_pandas(Path(args[0]), Path(args[1]))
    else:
        raise SystemExit(f"unknown step {step}")
    seconds = time.perf_counter() - start
    own = _peak_rss_mb()
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "items": n, "rss_mb": own, "rss_children_mb": kids,
                      "rss_loaded_mb": _LOADED[0] if _LOADED else None}))


def _peak_rss_mb() -> float:
    """This process's own peak RSS. Linux keeps ru_maxrss across exec, so a step started from the (large) bench
    process would report the bench's size; VmHWM belongs to the running program alone."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss_mb() -> float:
    """This process's resident memory now (VmRSS)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run_step(step: str, *args: object, run: int = 0, before=None) -> dict:
    """One run of a step in a fresh subprocess ("{run}" in an argument becomes the run's number)."""
    if before:
        before()
    os.sync()  # every step starts on a quiet disk, not while the set-up's writes are still being flushed
    argv = [str(a).replace("{run}", str(run)) for a in args]  # a fresh output folder per run: nothing replaced
    proc = subprocess.run([sys.executable, __file__, "--child", step, *argv], capture_output=True,
                          text=True, cwd=ROOT, timeout=1800)
    if proc.returncode != 0:
        raise SystemExit(f"{step} failed:\n{proc.stdout}\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def summarise(results: list[dict]) -> dict:
    """Median time, largest peak RSS of several runs of one step."""
    return {"seconds": statistics.median(r["seconds"] for r in results), "items": results[0]["items"],
            "rss_mb": max(r["rss_mb"] for r in results), "rss_children_mb": max(r["rss_children_mb"] for r in results),
            "rss_loaded_mb": max((r["rss_loaded_mb"] or 0) for r in results), "runs": len(results)}


def measure(step: str, *args: object, runs: int = 3, before=None) -> dict:
    return summarise([run_step(step, *args, run=k, before=before) for k in range(runs)])


def help_time(runs: int = 5) -> float:
    exe = Path(sys.executable).with_name("shixiang")
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([str(exe), "--help"], capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_size(n: int, runs: int, work: Path, openpyxl_limit: int) -> dict:
    base = work / f"n{n}"
    if base.exists():
        shutil.rmtree(base)
    template = base / "template"
    make_workspace(template, n)
    inbox = base / "returns"
    make_returns(template, inbox)
    ws = base / "ws"
    trash = base / "trash"
    trash.mkdir()

    def fresh() -> None:  # an empty store and archive for every merge run
        if ws.exists():  # set aside, deleted at the end: a mass delete's aftermath is no part of a merge
            ws.rename(trash / f"ws{len(list(trash.glob('ws*')))}")
        shutil.copytree(template, ws)
        shutil.copytree(inbox, ws / "inbox" / PERIOD)

    out = {"n": n}
    out["generate"] = measure("generate-ours", template, base / "gen-{run}", runs=runs)
    limit = min(n, openpyxl_limit)
    out["generate_openpyxl"] = measure("generate-openpyxl", template, base / "gen-openpyxl-{run}", limit,
                                       runs=runs)
    # merge, the floor and pandas take turns, so that this VM's drifting speed does not favour one of them: the
    # ratios compare runs made side by side (pandas once at the large sizes, in the middle round).
    merges: list[dict] = []
    floors: list[dict] = []
    pandas: list[dict] = []
    for k in range(runs):
        merges.append(run_step("merge-ours", ws, n, run=k, before=fresh))
        floors.append(run_step("floor", inbox, base / "floor-{run}.xlsx", run=k))
        if n <= 1000 or k == runs // 2:
            pandas.append(run_step("pandas", inbox, base / "pandas-{run}.xlsx", run=k))
    out["merge"], out["floor"], out["pandas"] = summarise(merges), summarise(floors), summarise(pandas)
    if n >= 5 * SUBSET:
        # The same workspace with a fifth of the returns: what memory does with the number of returns alone.
        subset = base / "returns-subset"
        subset.mkdir()
        for f in sorted(inbox.glob("*.xlsx"))[:SUBSET]:
            shutil.copy2(f, subset / f.name)

        def fresh_subset() -> None:
            if ws.exists():
                ws.rename(trash / f"ws{len(list(trash.glob('ws*')))}")
            shutil.copytree(template, ws)
            shutil.copytree(subset, ws / "inbox" / PERIOD)

        out["merge_subset"] = measure("merge-ours", ws, SUBSET, runs=runs, before=fresh_subset)
    # Nothing is deleted until every size is measured (main removes the whole folder): ext4 allocates new files
    # slowly right after many were deleted (perf: recently_deleted in __ext4_new_inode), which a merge then pays.
    return out


def table(results: list[dict], help_seconds: float) -> str:
    lines = ["| N | generate (wb/s) | openpyxl generate (wb/s) | merge (s) | floor (s) | pandas (s) | "
             "merge ÷ floor | pandas ÷ merge | merge peak RSS (MB, main / largest worker) | floor RSS (MB) | "
             "pandas RSS (MB) |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        g, go = r["generate"], r["generate_openpyxl"]
        m, f, p = r["merge"], r["floor"], r["pandas"]
        lines.append(
            f"| {r['n']:,} | {g['items'] / g['seconds']:.0f} | {go['items'] / go['seconds']:.0f} | "
            f"{m['seconds']:.2f} | {f['seconds']:.2f} | {p['seconds']:.2f} | {m['seconds'] / f['seconds']:.2f}× | "
            f"{p['seconds'] / m['seconds']:.1f}× | {m['rss_mb']:.0f} / {m['rss_children_mb']:.0f} | "
            f"{f['rss_mb']:.0f} | {p['rss_mb']:.0f} |")
    lines += ["", "Merge memory against the size of the workspace (peak RSS, MB; *loaded*: the merging process once "
              "its modules and the two lists, 项目清单 and 单位名录, are loaded, before any return is read):", "",
              "| returns | workspace (units = projects; 12 indicators each) | loaded | merge, main | "
              "merge, largest child | merge (s) |", "|---|---|---|---|---|---|"]
    for r in results:
        for key, returns in (("merge", r["n"]), ("merge_subset", SUBSET)):
            m = r.get(key)
            if m:
                lines.append(f"| {returns:,} | {r['n']:,} | {m['rss_loaded_mb']:.0f} | {m['rss_mb']:.0f} | "
                             f"{m['rss_children_mb']:.0f} | {m['seconds']:.2f} |")
    lines.append("")
    lines.append(f"`shixiang --help`: {help_seconds * 1000:.0f} ms (median of 5).")
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2:])
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="40,1000,5000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--openpyxl-limit", type=int, default=500,
                    help="openpyxl generate is timed on at most this many workbooks (its rate is what is compared)")
    ap.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    args = ap.parse_args()
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="shixiang-bench-"))
    results = []
    try:
        for n in (int(x) for x in args.sizes.split(",")):
            r = bench_size(n, args.runs, work, args.openpyxl_limit)
            results.append(r)
            print(f"N={n}: merge {r['merge']['seconds']:.2f}s, floor {r['floor']['seconds']:.2f}s, "
                  f"pandas {r['pandas']['seconds']:.2f}s", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = table(results, help_time())
    machine = (f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
               f"total run {time.perf_counter() - started:.0f} s")
    print()
    print(text)
    print(machine)
    if not args.no_write:
        doc = (ROOT / "BENCHMARKS.md").read_text(encoding="utf-8") if (ROOT / "BENCHMARKS.md").exists() else ""
        head = doc.split("<!-- bench:start -->")[0] if doc else "# Benchmarks\n\n"
        tail = doc.split("<!-- bench:end -->")[1] if "<!-- bench:end -->" in doc else "\n"
        (ROOT / "BENCHMARKS.md").write_text(f"{head}<!-- bench:start -->\n{text}\n\nMachine: {machine}\n"
                                            f"<!-- bench:end -->{tail}", encoding="utf-8")


if __name__ == "__main__":
    main()
