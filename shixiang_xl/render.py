"""Plain-text rendering for the terminal (tables padded by display width so Chinese columns line up)."""

from __future__ import annotations

from typing import Iterable, Sequence

from .textnorm import display_width as _width

# A file's status in a batch, in words (the 校验报告 and the check command's table).
STATUS_CN = {"accepted": "通过", "warned": "有警告", "rejected": "退回修改", "unreadable": "无法读取",
             "superseded": "已被新版本替代", "duplicate": "重复文件"}


def render_table(headers: Sequence[str], rows: Iterable[Sequence[object]], max_width: int = 60) -> str:
    """A plain text table, padded by display width so Chinese columns line up."""
    body = [[("" if v is None else str(v)).replace("\n", " ") for v in row] for row in rows]
    body = [[v if _width(v) <= max_width else v[: max_width // 2 - 1] + "…" for v in row] for row in body]
    widths = [max([_width(h)] + [_width(r[i]) for r in body]) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c + " " * (w - _width(c)) for c, w in zip(cells, widths)).rstrip()

    out = [line(headers), line(["-" * w for w in widths])]
    out += [line(r) for r in body]
    return "\n".join(out)


def _co_display(project, directory) -> str:
    """Co-units with group words (各镇街) kept short: 各镇街（10个单位）."""
    if directory is None:
        return "、".join(project.co_units)
    from .textnorm import split_names

    parts: list[str] = []
    for name in split_names(project.co_text):
        res = directory.resolve(name)
        if res.kind == "group":
            parts.append(f"{name}（{len(res.units)}个单位）")
        elif res.units and res.units[0].name not in project.leads:
            parts.append(res.units[0].name)
    return "、".join(parts)


def render_projects(plist, directory=None) -> str:
    """The project list as a readable text table (units resolved to full names; groups summarised)."""
    rows = []
    for p in plist.projects:
        first = True
        inds = p.indicators or (None,)
        for i in inds:
            rows.append([p.number if first else "", p.name if first else "",
                         (f"{i.name} {i.target_text}" + ("（按协办单位分解）" if i.split else "") +
                          ("" if i.measure_kind == "累计数" else f"［{i.measure_kind}］")) if i else "（无量化指标）",
                         "、".join(p.leads) if first else "", _co_display(p, directory) if first else ""])
            first = False
    n_ind = len(plist.indicators)
    units = plist.units
    table = render_table(["序号", "项目名称", "指标（目标值）", "牵头单位", "协办单位"], rows, max_width=70)
    return f"{table}\n\n共 {len(plist.projects)} 个项目、{n_ind} 个量化指标，涉及 {len(units)} 个单位。"


def render_batch(batch) -> str:
    """Files with their status, then every finding, then the summary line."""
    rows = []
    for r in batch.files:
        status = STATUS_CN["warned"] if r.status == "accepted" and r.warnings else STATUS_CN.get(r.status, r.status)
        rows.append([r.unit or "（无法识别）", status, r.errors, r.warnings, r.source.name])
    out = [render_table(["单位", "状态", "错误", "警告", "文件"], rows, max_width=70)]
    if batch.findings:
        out.append("")
        out += [f.line() for f in batch.findings]
    s = batch.summary()
    out.append("")
    out.append(f"{batch.period.label}：应报 {s['expected_units']} 个单位，已报 {s['reported_units']} 个，"
               f"未报 {len(s['missing_units'])} 个；错误 {s['errors']} 处，警告 {s['warnings']} 处，提示 {s['infos']} 处。")
    if s["missing_units"]:
        out.append("未报送：" + "、".join(s["missing_units"]))
    return "\n".join(out)


def render_ledger(ledger) -> str:
    """The 总表 in short, the status counts and the bulletin suggestions."""
    from .textnorm import format_number

    rows = [[p.number, p.name, "、".join(p.leads.split("、")[:2]),
             "" if p.progress is None else f"{format_number(p.progress, 1)}%", f"{format_number(p.expected, 1)}%",
             p.status] for p in ledger.projects]
    out = [ledger.title, render_table(["序号", "项目名称", "牵头单位", "完成进度", "序时进度", "状态"], rows)]
    counts = "，".join(f"{k} {v} 项" for k, v in ledger.status_counts().items() if v)
    out.append(f"\n{counts}。{ledger.figures.sentence()}")
    for kind, label in (("表扬", "拟通报表扬"), ("曝光", "拟通报曝光")):
        items = [b for b in ledger.bulletin if b.kind == kind]
        if items:
            out.append(f"{label}：")
            out += [f"  {i}. {b.reason}" for i, b in enumerate(items, 1)]
    return "\n".join(out)
