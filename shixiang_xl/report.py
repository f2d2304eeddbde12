"""``shixiang report``: the 推进情况报告 and the 督查通报, drafted as Word documents in 公文 layout (GB/T 9704).

Three layers, each testable on its own:

* :func:`ledger_for` rebuilds the period's :class:`LedgerData` from the store — the same function of the same rows
  that ``merge`` used for 台账.xlsx — so a figure in a document can never disagree with the ledger;
* :func:`progress_report` and :func:`bulletin_report` are pure functions of ``LedgerData`` and ``Config`` that
  word the documents as a :class:`~shixiang_xl.docxout.Document` (paragraphs as ``(style, text)`` and tables).
  Every sentence is made of data; a sentence whose data is missing is left out, and a heading with nothing under it
  is never written;
* :func:`shixiang_xl.docxout.docx_bytes` lays a document out as a .docx in 公文 layout; :func:`write_reports` writes
  the files atomically, and PDFs on request.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from .config import Config
from .docxout import (ADDRESS, ANNEX_LABEL, ANNEX_TITLE, BLANK, BODY, CC, H1, H2, PRINTED, SIGNATURE, TABLE_NOTE,
                      TITLE, Block, Document, Para, Table, docx_bytes)
from .errors import ShixiangError
from .findings import Finding, Severity, sort_key
from .ledger import (
    STATUS_AHEAD, STATUS_DONE, STATUS_LAG, STATUS_NONE, STATUS_NOT, STATUS_ON, SUBMIT_BACK, SUBMIT_LATE,
    SUBMIT_MISSING, SUBMIT_ON_TIME, BulletinRow, LedgerData, ProjectRow, build_ledger,
)
from .measures import KIND_CEILING, KIND_MILESTONE, KIND_RATE, meets_target
from .period import Period
from .store import Store, merge_hash, open_store, period_findings
from .submissions import store_submissions  # noqa: F401  (the documents' and status's one reading of the store)
from .textnorm import clean, cn_date, display_width, fold, format_number
from .workspace import Context

KIND_PROGRESS = "进展报告"
KIND_BULLETIN = "通报"
KINDS = (KIND_BULLETIN, KIND_PROGRESS, "all")
FILE_NAMES = {KIND_PROGRESS: "进展情况报告", KIND_BULLETIN: "督查通报"}

# How the documents word each status when counting projects ("{n}" is the count).
STATUS_PHRASES = {STATUS_DONE: "已完成{n}项", STATUS_AHEAD: "超序时进度推进{n}项", STATUS_ON: "按序时进度推进{n}项",
                  STATUS_LAG: "滞后序时进度{n}项", STATUS_NOT: "尚未启动{n}项", STATUS_NONE: "牵头单位未报送进度{n}项"}
SUBMIT_PHRASES = {SUBMIT_ON_TIME: "按时报送{n}个", SUBMIT_LATE: "逾期报送{n}个", SUBMIT_BACK: "报送后被退回修改{n}个",
                  SUBMIT_MISSING: "未报送{n}个"}

# ------------------------------------------------------------------ wording helpers

_CN_DIGITS = "零一二三四五六七八九"
_TERMINAL = "。！？"
_PUNCT_RANK = {"、": 1, "，": 2, "：": 3, "；": 4, "。": 5, "！": 6, "？": 7}
_NONE_WORDS = {"无", "暂无", "没有", "无问题", "暂无问题", "无困难", "暂无困难", "无困难和问题", "暂无困难和问题", "不存在",
               "无计划", "暂无计划", "/", "-", "—", "——", "－", "无。", "空", "略", "同上", "na", "n/a", "none"}
_CO_LINE = re.compile(r"\n?协办单位已报送配合工作进展 ?(\d+)/(\d+) ?个。?\s*$")
_NOT_ASCII = r"[^\x00-\x7f]"


def cn_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 21 → 二十一 (heading numbers up to 99)."""
    if n < 10:
        return _CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _CN_DIGITS[tens]) + "十" + (_CN_DIGITS[ones] if ones else "")


def pct(value: float) -> str:
    """A percentage figure as the ledger writes it: one decimal at most (22.7, 25, 100)."""
    return format_number(value, 1)


def tidy(text: object) -> str:
    """Light normalisation of a unit's own words: simplified characters, half-width digits, Chinese punctuation
    in Chinese text, no spaces inside Chinese, no duplicated punctuation, "5.0" → "5", "1,000" → "1000", and a
    full stop at the end. Returns "" for nothing, or for "无"/"暂无" and the like."""
    s = clean(text).replace("\r", "\n")
    lines = [ln.strip() for ln in s.split("\n") if ln.strip()]
    if not lines:
        return ""
    s = "".join(ln if ln[-1] in "。！？；，、：" else ln + "；" for ln in lines[:-1]) + lines[-1]
    s = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", s)  # thousands separators: official text writes plain numbers
    s = re.sub(r"(?<![\d.])(\d+)\.0+(?![\d.])", r"\1", s)  # 5.0 → 5
    s = re.sub(rf"\s+(?={_NOT_ASCII})|(?<={_NOT_ASCII})\s+", "", s)  # no spaces next to Chinese
    s = re.sub(r"(?<!\d):|:(?!\d)", "：", s)  # keep 17:00
    s = re.sub(r"(?<!\d),|,(?!\d)", "，", s)
    s = s.translate(str.maketrans({";": "；", "!": "！", "?": "？", "(": "（", ")": "）"}))
    s = re.sub(rf"(?<={_NOT_ASCII})\.(?!\d)", "。", s)
    s = re.sub(r"（\s*）", "", s)
    s = re.sub(r"[、，：；。！？]{2,}", lambda m: max(m.group(), key=lambda ch: _PUNCT_RANK[ch]), s)
    s = s.strip("，、；： ")
    if not s or s.rstrip("。！？；，、：.").casefold() in _NONE_WORDS:
        return ""
    if s.rstrip("）”’\"")[-1:] not in _TERMINAL:
        s += "。"
    return s


def _clause(text: str) -> str:
    """A sentence without its final punctuation, for use inside a longer sentence."""
    return text.rstrip("。！？；，")


def _unit_parts(text: str, leads: Sequence[str]) -> list[tuple[str, str]]:
    """Split the ledger's joined text of several lead units ("【单位】…" lines) back into (unit, text)."""
    parts: list[tuple[str, str]] = []
    for line in (text or "").split("\n"):
        m = re.match(r"^【(.+?)】(.*)$", line)
        if m and m.group(1) in leads:
            parts.append((m.group(1), m.group(2)))
        elif parts:
            parts[-1] = (parts[-1][0], parts[-1][1] + "\n" + line)
        else:
            parts.append(("", line))
    merged: list[tuple[str, str]] = []
    for unit, t in parts:
        if merged and merged[-1][0] == unit:
            merged[-1] = (unit, merged[-1][1] + "\n" + t)
        else:
            merged.append((unit, t))
    return merged


def _strip_period_prefix(text: str, period: Period) -> str:
    """Drop a leading "2026年3月：" (the period the document is about anyway); keep any other period's label."""
    labels = {period.label, period.label.replace(f"{period.year}年", ""), period.span, f"{period.end_month}月份",
              f"{period.year}年{period.span}", f"{period.year}年{period.end_month}月份"}
    for label in sorted(labels, key=len, reverse=True):
        for sep in ("：", ":", "，", ","):
            if text.startswith(label + sep):
                return text[len(label) + len(sep):].lstrip()
    return text


def _leads(p: ProjectRow) -> list[str]:
    return [u for u in p.leads.split("、") if u]


def _texts(p: ProjectRow, text: str, period: Period | None = None) -> list[tuple[str, str]]:
    """(unit, tidy text) of each lead unit that wrote something (unit is "" for a single lead)."""
    out = []
    for unit, t in _unit_parts(text, _leads(p)):
        if period is not None:
            t = _strip_period_prefix(t.strip(), period)
        t = tidy(t)
        if t:
            out.append((unit, t))
    return out


def _attributed(parts: Sequence[tuple[str, str]]) -> str:
    """One sentence from several units' texts: "…（甲单位）；…（乙单位）。" (no attribution for a single lead)."""
    if len(parts) == 1 and not parts[0][0]:
        return parts[0][1]
    return "；".join(f"{_clause(t)}（{u}）" if u else _clause(t) for u, t in parts) + "。"


def _join_names(names: Iterable[str]) -> str:
    return "、".join(dict.fromkeys(n for n in names if n))


def _count_phrases(counts: dict[str, int], phrases: dict[str, str]) -> list[str]:
    return [phrases[k].format(n=counts[k]) for k in phrases if counts.get(k)]


def _numbered(sections: Sequence[tuple[str, Sequence[Block]]]) -> list[Block]:
    """Level-1 sections "一、…" in order, numbered after the empty ones are dropped."""
    return _sections(sections, H1, "{n}、{heading}")


def _subsections(sections: Sequence[tuple[str, Sequence[Block]]]) -> list[Block]:
    """Level-2 sections "（一）…", numbered after the empty ones are dropped."""
    return _sections(sections, H2, "（{n}）{heading}")


def _sections(sections: Sequence[tuple[str, Sequence[Block]]], style: str, label: str) -> list[Block]:
    out: list[Block] = []
    k = 0
    for heading, blocks in sections:
        if not blocks:
            continue  # an empty heading is never written: the numbers close up
        k += 1
        out.append(Para(style, label.format(n=cn_number(k), heading=heading)))
        out += blocks
    return out


def _items(texts: Sequence[str]) -> list[Block]:
    """Level-3 items "1.…" as body paragraphs."""
    return [Para(BODY, f"{k}.{t}") for k, t in enumerate(texts, start=1)]


def _title_text(title: str, config: Config) -> str:
    """A long title in two lines, broken after the full project title (GB/T 9704: 回行时词意完整)."""
    head = f"关于{config.full_title}"
    if display_width(title) <= 40 or not title.startswith(head) or len(title) <= len(head):
        return title
    return head + "\n" + title[len(head):]


def _annex_title(title: str) -> str:
    """The annex's title; a long one breaks before its bracketed date (回行时词意完整), never inside it."""
    head, bracket, rest = title.partition("（")
    if display_width(title) <= 48 or not bracket:
        return title
    return head + "\n" + bracket + rest


def _signature(config: Config, on: dt.date) -> list[Block]:
    return [Para(BLANK, ""), Para(SIGNATURE, f"{config.office}\n{cn_date(on)}")]


# ------------------------------------------------------------------ shared sections


def overview(ledger: LedgerData, config: Config) -> list[Para]:
    """总体情况 / 基本情况: projects by status, reporting, and the share of indicators on schedule."""
    out: list[Para] = []
    n = len(ledger.projects)
    if n:
        counts = ledger.status_counts()
        parts = _count_phrases(counts, STATUS_PHRASES)
        s = f"{ledger.period.as_of}，{config.title}共{n}项" + (f"，其中{'、'.join(parts)}" if parts else "") + "。"
        if counts[STATUS_LAG]:
            s += f"滞后指完成进度低于序时进度{format_number(ledger.lag_threshold)}个百分点以上。"
        out.append(Para(BODY, s))
    if ledger.submissions:
        out.append(Para(BODY, "本期" + ledger.figures.sentence()))
    rows = [i for i in ledger.indicators if not i.is_share]
    measured = [i for i in rows if i.gap is not None]
    if measured:
        on = sum(1 for i in measured if i.gap >= 0)
        lag = sum(1 for i in measured if i.gap < -ledger.lag_threshold)
        head = (f"全部{len(rows)}项量化指标均已报送完成情况" if len(measured) == len(rows)
                else f"{len(rows)}项量化指标中，{len(measured)}项已报送完成情况")
        s = (f"{head}，其中{on}项达到或超过序时进度，占{pct(on / len(measured) * 100)}%")
        if lag:
            s += f"；{lag}项低于序时进度{format_number(ledger.lag_threshold)}个百分点以上"
        out.append(Para(BODY, s + "。"))
    return out


def status_sentence(p: ProjectRow, period: Period) -> str:
    """The project's standing: its completion against 序时进度, or the fact that nobody reported; and, when the
    lead unit's own 状态 disagrees with its figures, that disagreement (never resolved silently)."""
    sentence = _standing(p, period)
    if p.contradiction:
        sentence += p.contradiction + "。"
    return sentence


def _standing(p: ProjectRow, period: Period) -> str:
    if p.status == STATUS_NONE:
        return f"牵头单位{p.leads}未报送{period.label}进度。"
    progress = p.progress
    if progress is None:
        return f"序时进度{pct(p.expected)}%，{'尚未启动' if p.status == STATUS_NOT else '本期未报送完成进度'}。"
    figure = f"完成进度{pct(progress)}%" if p.completion is not None else f"牵头单位填报的完成进度{pct(progress)}%"
    if p.status == STATUS_DONE:
        return f"{figure}，已全面完成。"
    if p.status == STATUS_NOT:
        return f"{figure}，序时进度{pct(p.expected)}%，尚未启动。"
    gap = pct(abs(progress - p.expected))
    if p.status == STATUS_AHEAD:
        return f"{figure}，超过序时进度（{pct(p.expected)}%）{gap}个百分点，进度超前。"
    if p.status == STATUS_LAG:
        return f"{figure}，低于序时进度（{pct(p.expected)}%）{gap}个百分点，进度滞后。"
    return f"{figure}，序时进度{pct(p.expected)}%，按序时进度推进。"


def indicator_sentence(ledger: LedgerData, p: ProjectRow) -> str:
    """Cumulative figures of the project's indicators against their targets, with completion rates."""
    items = []
    for i in ledger.indicators:
        if i.project != p.number or i.is_share or i.cumulative is None:
            continue
        target = f"{format_number(i.target)}{i.measure}"
        if i.kind in (KIND_RATE, KIND_CEILING):  # a level: its current value, met or not; never “completed”
            met = meets_target(i.target, i.comparator, i.cumulative)
            if i.kind == KIND_CEILING or i.comparator == "≤":
                note = f"控制目标{target}以内，{'已控制在目标以内' if met else '超出控制目标'}"
            else:
                note = ("目标不低于" if i.comparator == "≥" else "目标") + target + \
                       ("，已达到目标" if met else f"，尚差{format_number(i.target - i.cumulative, 2)}{i.measure}")
            items.append(f"{i.name}当前为{format_number(i.cumulative, 2)}{i.measure}（{note}）")
            continue
        if i.kind == KIND_MILESTONE:
            done_on = f"于{cn_date(dt.date.fromisoformat(i.completed_on))}" if i.completed_on else ""
            items.append(f"{i.name}{f'已{done_on}完成' if i.cumulative >= 1 else '尚未完成'}")
            continue
        if i.comparator == "≤":
            how = "已控制在目标以内" if i.cumulative <= i.target else "超出控制目标"
            note = f"控制目标{target}以内，{how}"
        else:
            note = ("目标不少于" if i.comparator == "≥" else "目标") + target
            if i.rate is not None:
                note += f"，完成{pct(i.rate * 100)}%"
        items.append(f"{i.name}{format_number(i.cumulative)}{i.measure}（{note}）")
    if not items:
        return ""
    return f"{ledger.period.as_of}，" + "；".join(items) + "。"


def project_paragraph(ledger: LedgerData, p: ProjectRow) -> str:
    """One project: who leads, where it stands, what was done, figures against targets, problems, next steps."""
    period = ledger.period
    sentences = [f"该项目由{p.leads}牵头" + (f"，{p.co_units}协办" if p.co_units else "") + "。",
                 status_sentence(p, period)]
    if p.note:
        notes = "；".join(re.sub(r"^(.+?)：", r"\1", n) for n in p.note.split("；") if n)
        sentences.append(f"（{notes}。）")
    text = p.progress_text or ""
    co = _CO_LINE.search(text)
    if co:
        text = text[:co.start()]
    progress = _texts(p, text, period)
    if progress:
        sentences.append("".join(t if not u else f"{u}：{t}" for u, t in progress))
    if co:
        done, total = int(co.group(1)), int(co.group(2))
        if total == 1:
            sentences.append("协办单位已报送配合工作进展。" if done else "")
        else:
            sentences.append(f"{total}个协办单位均已报送配合工作进展。" if done == total else
                             f"{total}个协办单位中有{done}个报送了配合工作进展。")
    sentences.append(indicator_sentence(ledger, p))
    problems = _texts(p, p.problems)
    if problems:
        sentences.append("存在问题：" + _attributed(problems))
    steps = _texts(p, p.next_steps)
    if steps:
        sentences.append("下步计划：" + _attributed(steps))
    return "".join(s for s in sentences if s)


def _grouped(ledger: LedgerData, attr: str) -> list[str]:
    """The returns' texts of one kind (problems, next steps), identical ones merged, with the projects named."""
    groups: dict[str, tuple[str, list[str]]] = {}
    for p in ledger.projects:
        for _, t in _texts(p, getattr(p, attr)):
            key = fold(_clause(t))
            groups.setdefault(key, (t, []))[1].append(p.name)
    return [f"{_clause(t)}（涉及：{_join_names(names)}）。" for t, names in groups.values()]


def _lagging(ledger: LedgerData) -> list[ProjectRow]:
    return [p for p in ledger.projects if p.status == STATUS_LAG and p.progress is not None]


def _by_submission(ledger: LedgerData, status: str) -> list[str]:
    return [s.unit for s in ledger.submissions if s.status == status]


# ------------------------------------------------------------------ 推进情况报告


def progress_report(ledger: LedgerData, config: Config, *, on: dt.date | None = None) -> Document:
    """进展情况报告: 总体情况, one paragraph per project, 存在的主要问题, 下步工作打算, and the 总表 as 附件."""
    on = on or dt.date.today()
    period = ledger.period
    title = f"关于{config.full_title}{period.span}推进情况的报告"
    blocks: list[Block] = [Para(TITLE, _title_text(title, config)), Para(BLANK, ""),
                           Para(ADDRESS, f"{addressee(config)}："),
                           Para(BODY, f"现将{config.full_title}{period.span}推进情况报告如下：")]
    projects: list[Block] = []
    for k, p in enumerate(ledger.projects, start=1):
        projects += [Para(H2, f"（{cn_number(k)}）{p.name}"), Para(BODY, project_paragraph(ledger, p))]
    blocks += _numbered([("总体情况", overview(ledger, config)),
                         ("各项目推进情况", projects),
                         ("存在的主要问题", _items(_report_problems(ledger))),
                         ("下步工作打算", _items(next_work(ledger)))])
    blocks += [Para(BODY, "特此报告。"), Para(BLANK, ""), Para(BODY, f"附件：{ledger.title}")]
    blocks += _signature(config, on)
    blocks += [Para(ANNEX_LABEL, "附件"), Para(BLANK, ""), Para(ANNEX_TITLE, _annex_title(ledger.title)), Para(BLANK, ""),
               summary_table(ledger)]
    note = summary_line(ledger)
    if note:
        blocks.append(Para(TABLE_NOTE, note))
    return Document(KIND_PROGRESS, title, tuple(blocks))


def addressee(config: Config) -> str:
    """主送机关 of the progress report: the district's Party committee and government (区委、区政府; 县委、县政府 …),
    or ``report_to`` from shixiang.toml."""
    if config.report_to:
        return config.report_to
    level = config.district[-1:] if config.district[-1:] in ("区", "县", "市", "旗") else "区"
    return f"{level}委、{level}政府"


NEXT_WORK = {
    STATUS_LAG: "督促牵头单位查找滞后原因，倒排工期、加快推进，尽快赶上序时进度",
    STATUS_NOT: "督促牵头单位尽快启动实施，按计划推进",
    STATUS_NONE: "督促牵头单位按时报送进度，及时掌握推进情况",
    STATUS_ON: "按计划推进，确保按期完成全年目标任务",
    STATUS_AHEAD: "保持推进力度，确保按期高质量完成",
    STATUS_DONE: "做好后续管理，巩固提升建设成效",
}


def next_work(ledger: LedgerData) -> list[str]:
    """下步工作打算: one short line per project by where it stands (the units' own plans are in the annex)."""
    items = [f"{p.name}：{NEXT_WORK.get(p.status, NEXT_WORK[STATUS_ON])}。" for p in ledger.projects]
    return items + ["继续按月调度、跟踪督办，对进度滞后、报送不及时的单位及时通报；各牵头单位的具体工作计划见附件。"]


def _report_problems(ledger: LedgerData) -> list[str]:
    items = []
    lag = _lagging(ledger)
    if lag:
        items.append("部分项目进度滞后。" + "；".join(
            f"{p.name}（{p.leads}牵头）完成进度{pct(p.progress or 0)}%，低于序时进度{pct(p.expected - (p.progress or 0))}"
            "个百分点" for p in lag) + "。")
    idle = [p for p in ledger.projects if p.status == STATUS_NOT and p.expected > 0]
    if idle:
        items.append("部分项目尚未启动。" + "；".join(
            f"{p.name}（{p.leads}牵头）序时进度应达{pct(p.expected)}%" for p in idle) + "。")
    missing, late, back = (_by_submission(ledger, s) for s in (SUBMIT_MISSING, SUBMIT_LATE, SUBMIT_BACK))
    if missing or late or back:
        kinds = (["报送不及时"] if missing or late else []) + (["填报不规范"] if back else [])
        facts = ([f"{_join_names(missing)}未报送{ledger.period.label}进度"] if missing else []) + \
                ([f"{_join_names(late)}逾期报送"] if late else []) + \
                ([f"{_join_names(back)}报送的填报表有错误，已退回修改"] if back else [])
        items.append(f"部分单位{'、'.join(kinds)}。" + "；".join(facts) + "。")
    return items + _grouped(ledger, "problems")


def summary_table(ledger: LedgerData) -> Table:
    """The ledger's 总表, narrowed to what fits a landscape A4 page: one row per project, with the lead units' own
    下步计划 (the report's body summarises them)."""
    rows = []
    for p in ledger.projects:
        if p.progress is None:
            progress = ""
        else:
            progress = f"{pct(p.progress)}%" + ("" if p.completion is not None else "\n填报")
        plans = "；".join(f"{unit}：{_clause(t)}" if unit else _clause(t) for unit, t in _texts(p, p.next_steps))
        rows.append((str(p.number), p.name, p.targets, p.leads, progress, f"{pct(p.expected)}%", p.status, plans))
    return Table(("序号", "项目名称", "主要目标", "牵头单位", "完成进度", "序时进度", "状态", "下步计划"),
                 tuple(rows), (13, 30, 54, 26, 20, 20, 20, 42), (True, False, False, False, True, True, True, False))


def summary_line(ledger: LedgerData) -> str:
    """The line under the 总表: projects by status, reporting rate, what 滞后 means (as in 台账.xlsx)."""
    counts = ledger.status_counts()
    parts = [f"{k}{v}项" for k, v in counts.items() if v]
    if not parts:
        return ""
    note = ("合计：" + "，".join(parts) + "。" + ledger.figures.sentence() +
            f"滞后指完成进度低于序时进度{format_number(ledger.lag_threshold)}个百分点以上。")
    if any(p.completion is None and p.reported is not None for p in ledger.projects):
        note += "完成进度按量化指标的完成率计算；标“填报”的，为没有量化指标的项目由牵头单位填报的进度。"
    return note


# ------------------------------------------------------------------ 督查通报


def bulletin_report(ledger: LedgerData, config: Config, *, on: dt.date | None = None) -> Document:
    """督查通报: 基本情况, 通报表扬, 通报曝光（督促整改）, 下步要求, 落款 and 抄送 — from the ledger's bulletin rows."""
    on = on or dt.date.today()
    period = ledger.period
    title = f"关于{config.full_title}推进情况的通报"
    blocks: list[Block] = [Para(TITLE, _title_text(title, config)), Para(BLANK, ""), Para(ADDRESS, "各有关单位："),
                           Para(BODY, f"根据各单位报送的{period.label}进度材料，现将{config.full_title}推进情况通报如下：")]
    praise = [b for b in ledger.bulletin if b.kind == "表扬"]
    praise_blocks: list[Block] = []
    if praise:
        units = len({b.unit for b in praise})
        praise_blocks = [Para(BODY, f"对以下{units}个单位予以通报表扬：")] + _items([tidy(b.reason) for b in praise])
    lag, timely, sloppy = criticism_groups(ledger)
    criticism = _subsections([("项目进度滞后", _items([tidy(b.reason) for b in lag])),
                              ("未按时报送进度", _items([tidy(b.reason) for b in timely])),
                              ("填报不规范、被退回修改", _items([tidy(b.reason) for b in sloppy]))])
    blocks += _numbered([("基本情况", overview(ledger, config)),
                         ("通报表扬", praise_blocks),
                         ("通报曝光", criticism),
                         ("下步要求", _items(requirements(ledger, config)))])
    blocks += _signature(config, on)
    cc = tidy(config.cc)
    if cc:
        blocks += [Para(BLANK, ""), Para(CC, f"抄送：{cc}")]
    blocks.append(Para(PRINTED, f"{config.office}\t{cn_date(on)}印发"))
    return Document(KIND_BULLETIN, title, tuple(blocks))


def criticism_groups(ledger: LedgerData) -> tuple[list[BulletinRow], list[BulletinRow], list[BulletinRow]]:
    """The ledger's 曝光 rows by cause: lagging projects, reports missing or late, returns sent back."""
    lag_units = {(u, p.name) for p in _lagging(ledger) for u in _leads(p)}
    state = {s.unit: s.status for s in ledger.submissions}
    lag: list[BulletinRow] = []
    timely: list[BulletinRow] = []
    sloppy: list[BulletinRow] = []
    for b in ledger.bulletin:
        if b.kind != "曝光":
            continue
        if any(u == b.unit and f"“{name}”" in b.reason for u, name in lag_units):
            lag.append(b)
        elif state.get(b.unit) == SUBMIT_BACK:
            sloppy.append(b)
        else:
            timely.append(b)
    return lag, timely, sloppy


def next_period(period: Period) -> Period | None:
    """The period after ``period`` in the same year, or None after the last."""
    if period.is_quarter:
        return Period(period.year, period.end_month + 3, period.quarter + 1) if period.quarter < 4 else None
    return Period(period.year, period.end_month + 1) if period.end_month < 12 else None


def requirements(ledger: LedgerData, config: Config) -> list[str]:
    """下步要求, each addressed to the units it concerns (left out when no unit is concerned)."""
    out = []
    lag = _lagging(ledger)
    if lag:
        out.append(f"{_join_names(u for p in lag for u in _leads(p))}要对照序时进度查找滞后原因，制定赶进度措施，"
                   "在下期报送时说明整改情况。")
    missing, late, back = (_by_submission(ledger, s) for s in (SUBMIT_MISSING, SUBMIT_LATE, SUBMIT_BACK))
    if missing:
        out.append(f"{_join_names(missing)}要尽快补报{ledger.period.label}进度。")
    if back:
        out.append(f"{_join_names(back)}要按照退回修改意见修改填报表后重新报送。")
    if late:
        out.append(f"{_join_names(late)}要严格按照截止时间报送进度。")
    following = next_period(ledger.period)
    if following is not None:
        due = following.due(config.due_day)
        out.append(f"各单位要于{due.month}月{due.day}日前报送{following.label}进度。")
    return out


# ------------------------------------------------------------------ the ledger, rebuilt from the store


def store_findings(store: Store, period: Period) -> tuple[Finding, ...]:
    """The findings of the period's last check or merge, in the batch's order."""
    rows = period_findings(store.conn, period.slug)
    found = [Finding(r["code"], Severity(r["severity"]), r["message"], r["file"], r["sheet"], r["cell"], r["unit"])
             for r in rows]
    return tuple(sorted(found, key=sort_key))


def ledger_for(ctx: Context, period: Period) -> LedgerData:
    """The period's ledger rebuilt from the store alone (no file is read): values from ``entries``, each unit's
    submission from ``returns``/``receipts``, findings from ``findings`` — through the same ``build_ledger`` as
    ``merge``. Raises :class:`ShixiangError` when the period has not been merged yet."""
    from .merge import ledger_input_from

    db = ctx.workspace.db_path
    if not db.exists():
        raise ShixiangError(f"{period.label}尚未汇总，请先运行 shixiang merge --period {period.slug}。")
    with open_store(db) as store:
        if merge_hash(store.conn, period.slug) is None:
            raise ShixiangError(f"{period.label}尚未汇总，请先运行 shixiang merge --period {period.slug}。")
        submissions = store_submissions(store, period, ctx.projects.units)
        data = ledger_input_from(ctx, store, period, submissions, store_findings(store, period))
        return build_ledger(data)


def merged_digest(ctx: Context, period: Period) -> str | None:
    """The content hash recorded by the period's last merge (None when it was never merged)."""
    if not ctx.workspace.db_path.exists():
        return None
    with open_store(ctx.workspace.db_path) as store:
        return merge_hash(store.conn, period.slug)


# ------------------------------------------------------------------ writing the files


@dataclass
class ReportResult:
    """What ``write_reports`` wrote: every path (.docx, then .pdf), by kind, and warnings for the clerk."""

    period: Period
    documents: dict[str, Path] = field(default_factory=dict)
    pdfs: dict[str, Path] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def paths(self) -> list[Path]:
        """Every file written, the documents first."""
        return list(self.documents.values()) + list(self.pdfs.values())


def build_documents(ledger: LedgerData, config: Config, kind: str = "all", *, on: dt.date | None = None
                    ) -> list[Document]:
    """The documents of ``kind`` (通报 / 进展报告 / all) for ``ledger``, as data."""
    if kind not in KINDS:
        raise ShixiangError(f"公文种类只能是 {' / '.join(KINDS)}，现为「{kind}」。")
    out = []
    if kind in (KIND_PROGRESS, "all"):
        out.append(progress_report(ledger, config, on=on))
    if kind in (KIND_BULLETIN, "all"):
        out.append(bulletin_report(ledger, config, on=on))
    return out


def write_reports(ctx: Context, period: Period, kind: str = "all", pdf: bool = False, *,
                  on: dt.date | None = None) -> ReportResult:
    """Draft the period's 进展情况报告.docx and/or 督查通报.docx into ``reports/<period>/`` (atomically), from the
    same store data as the period's 台账; with ``pdf`` also convert them through LibreOffice and check the PDFs.
    ``on`` is the date of the documents (default: today)."""
    from .merge import ledger_digest
    from .xlsxout import atomic_write_bytes

    ledger = ledger_for(ctx, period)
    result = ReportResult(period)
    if merged_digest(ctx, period) != ledger_digest(ledger):
        result.warnings.append(f"注意：{period.label}的数据在上次汇总后有变动（例如又校验了新报回的文件），公文按数据库中"
                               f"现有的数据起草；请重新运行 shixiang merge --period {period.slug}，使台账与公文一致。")
    outdir = ctx.workspace.folder("reports", period.slug)
    for document in build_documents(ledger, ctx.config, kind, on=on):
        path = outdir / f"{FILE_NAMES[document.kind]}.docx"
        atomic_write_bytes(path, docx_bytes(document))
        result.documents[document.kind] = path
    if pdf:
        result.pdfs = documents_pdf(result.documents)
    return result


def documents_pdf(documents: dict[str, Path]) -> dict[str, Path]:
    """PDFs of the .docx files (one LibreOffice call), each checked: the file exists and has pages."""
    import shutil
    import tempfile

    from .office import convert, pdf_info
    from .xlsxout import atomic_write_bytes

    if not documents:
        return {}
    tmp = Path(tempfile.mkdtemp(prefix="shixiang-report-pdf-"))
    try:
        converted = convert(list(documents.values()), "pdf", tmp)
        out: dict[str, Path] = {}
        for kind, docx_path in documents.items():
            made = converted.get(docx_path)
            if made is None or not made.is_file():
                raise ShixiangError(f"LibreOffice 未能把 {docx_path.name} 转换为 PDF。请用 Word/WPS 打开后另存为 PDF。")
            info = pdf_info(made)
            if info.pages <= 0:
                raise ShixiangError(f"转换出的 {made.name} 没有页面，请用 Word/WPS 打开 {docx_path.name} 后另存为 PDF。")
            dest = docx_path.with_suffix(".pdf")
            atomic_write_bytes(dest, made.read_bytes())
            out[kind] = dest
        return out
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
