"""``shixiang report``: the 推进情况报告 and the 督查通报, drafted as Word documents in 公文 layout (GB/T 9704).

Three layers, each testable on its own:

* :func:`ledger_for` rebuilds the period's :class:`LedgerData` from the store — the same function of the same rows
  that ``merge`` used for 台账.xlsx — so a figure in a document can never disagree with the ledger;
* :func:`progress_report` and :func:`bulletin_report` are pure functions of ``LedgerData`` and ``Config`` that
  word the documents as a :class:`Document` (paragraphs as ``(style, text)`` and tables). Every sentence is made of
  data; a sentence whose data is missing is left out, and a heading with nothing under it is never written;
* :func:`docx_bytes` lays a :class:`Document` out as a .docx (A4, 公文 margins, 22 lines of 28 characters, official
  fonts, odd/even page numbers "— 1 —"); :func:`write_reports` writes the files atomically, and PDFs on request.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, NamedTuple, Sequence

from .config import Config
from .errors import ShixiangError
from .findings import Finding, Severity, sort_key
from .ledger import (
    STATUS_AHEAD, STATUS_DONE, STATUS_LAG, STATUS_NONE, STATUS_NOT, STATUS_ON, SUBMIT_BACK, SUBMIT_LATE,
    SUBMIT_MISSING, SUBMIT_ON_TIME, BulletinRow, LedgerData, ProjectRow, UnitSubmission, build_ledger,
)
from .measures import KIND_CEILING, KIND_MILESTONE, KIND_RATE, meets_target
from .period import Period
from .store import Store, open_store
from .submissions import store_submissions  # noqa: F401  (the documents' and status's one reading of the store)
from .textnorm import clean, cn_date, display_width, fold, format_number
from .workspace import Context

KIND_PROGRESS = "进展报告"
KIND_BULLETIN = "通报"
KINDS = (KIND_BULLETIN, KIND_PROGRESS, "all")
FILE_NAMES = {KIND_PROGRESS: "进展情况报告", KIND_BULLETIN: "督查通报"}

# Paragraph styles of the document model (the writer maps each to a Word style of the same role).
TITLE = "title"            # 标题：方正小标宋简体 二号，居中
ADDRESS = "address"        # 主送机关：顶格
H1 = "h1"                  # 一、 黑体
H2 = "h2"                  # （一） 楷体_GB2312
BODY = "body"              # 正文：仿宋_GB2312 三号，首行缩进二字
BLANK = "blank"            # 空行
SIGNATURE = "signature"    # 落款："发文机关\n成文日期"
ANNEX_LABEL = "annex_label"  # 附件页的“附件”二字（另起一页，黑体，顶格）
ANNEX_TITLE = "annex_title"  # 附件标题（同标题）
TABLE_NOTE = "table_note"  # 表下说明
CC = "cc"                  # 版记：抄送
PRINTED = "printed"        # 版记：印发机关和印发日期（"机关\t日期印发"）
STYLES = (TITLE, ADDRESS, H1, H2, BODY, BLANK, SIGNATURE, ANNEX_LABEL, ANNEX_TITLE, TABLE_NOTE, CC, PRINTED)

# How the documents word each status when counting projects ("{n}" is the count).
STATUS_PHRASES = {STATUS_DONE: "已完成{n}项", STATUS_AHEAD: "超序时进度推进{n}项", STATUS_ON: "按序时进度推进{n}项",
                  STATUS_LAG: "滞后序时进度{n}项", STATUS_NOT: "尚未启动{n}项", STATUS_NONE: "牵头单位未报送进度{n}项"}
SUBMIT_PHRASES = {SUBMIT_ON_TIME: "按时报送{n}个", SUBMIT_LATE: "逾期报送{n}个", SUBMIT_BACK: "报送后被退回修改{n}个",
                  SUBMIT_MISSING: "未报送{n}个"}


# ------------------------------------------------------------------ document model


class Para(NamedTuple):
    """One paragraph: a style of :data:`STYLES` and its text (``\\n`` is a line break inside the paragraph)."""

    style: str
    text: str


@dataclass(frozen=True)
class Table:
    """A table with a header row that repeats on every page."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths_mm: tuple[float, ...]
    centered: tuple[bool, ...]  # per column: centred (numbers, short codes) or left-aligned (text)


Block = Para | Table


@dataclass(frozen=True)
class Document:
    """A document as data: its kind, title and blocks in order."""

    kind: str
    title: str
    blocks: tuple[Block, ...]

    @property
    def text(self) -> str:
        """All the text, paragraph by paragraph, table cells row by row (for reading and for tests)."""
        lines: list[str] = []
        for b in self.blocks:
            if isinstance(b, Table):
                lines += ["　".join(b.headers)] + ["　".join(r) for r in b.rows]
            elif b.text:
                lines.append(b.text)
        return "\n".join(lines)

    def paragraphs(self, style: str) -> list[str]:
        """The texts of the paragraphs of ``style``."""
        return [b.text for b in self.blocks if isinstance(b, Para) and b.style == style]


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
        head = (f"全部{len(rows)}项量化指标均已报送累计完成数" if len(measured) == len(rows)
                else f"{len(rows)}项量化指标中，{len(measured)}项已报送累计完成数")
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
    rows = store.conn.execute("SELECT code, severity, message, file, sheet, cell, unit FROM findings WHERE period = ?",
                              (period.slug,)).fetchall()
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
        if store.conn.execute("SELECT 1 FROM merges WHERE period = ?", (period.slug,)).fetchone() is None:
            raise ShixiangError(f"{period.label}尚未汇总，请先运行 shixiang merge --period {period.slug}。")
        submissions = store_submissions(store, period, ctx.projects.units)
        data = ledger_input_from(ctx, store, period, submissions, store_findings(store, period))
        return build_ledger(data)


def merged_digest(ctx: Context, period: Period) -> str | None:
    """The content hash recorded by the period's last merge (None when it was never merged)."""
    if not ctx.workspace.db_path.exists():
        return None
    with open_store(ctx.workspace.db_path) as store:
        row = store.conn.execute("SELECT content_hash FROM merges WHERE period = ?", (period.slug,)).fetchone()
    return row[0] if row else None


# ------------------------------------------------------------------ docx writing

FONT_TITLE = "方正小标宋简体"
FONT_BODY = "仿宋_GB2312"
FONT_H1 = "黑体"
FONT_H2 = "楷体_GB2312"
FONT_PAGE = "宋体"
SIZE_TITLE = 22.0   # 二号
SIZE_BODY = 16.0    # 三号
SIZE_PAGE = 14.0    # 四号
SIZE_TABLE = 10.5   # 五号: the annex's eight columns fit a landscape page without breaking their headings
LINE_PITCH = 28.95  # points: 22 lines in the 225 mm text height
CHAR_SPACING_TWIPS = -5  # 28 characters of 16 pt − 0.25 pt fit the 156 mm text width
PAGE_MM = (210.0, 297.0)
MARGINS_MM = {"top": 37.0, "bottom": 35.0, "left": 28.0, "right": 26.0}
TEXT_WIDTH_MM = PAGE_MM[0] - MARGINS_MM["left"] - MARGINS_MM["right"]  # 156
ANNEX_WIDTH_MM = PAGE_MM[1] - MARGINS_MM["top"] - MARGINS_MM["bottom"]  # 225: the landscape annex's text width

# Word style names, by model style.
STYLE_NAMES = {TITLE: "公文标题", ADDRESS: "公文主送", H1: "公文一级标题", H2: "公文二级标题", BODY: "公文正文",
               BLANK: "公文正文", SIGNATURE: "公文落款", ANNEX_LABEL: "公文附件标识", ANNEX_TITLE: "公文标题",
               TABLE_NOTE: "公文表注", CC: "公文版记", PRINTED: "公文版记"}
TABLE_STYLE = "公文表格文字"
PAGE_STYLE = "公文页码"

_RPR_AFTER_SPACING = ("w:w", "w:kern", "w:position", "w:sz", "w:szCs", "w:highlight", "w:u", "w:effect", "w:bdr",
                      "w:shd", "w:fitText", "w:vertAlign", "w:rtl", "w:cs", "w:em", "w:lang", "w:eastAsianLayout",
                      "w:specVanish", "w:oMath")
_PPR_AFTER_BDR = ("w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct",
                  "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd", "w:snapToGrid",
                  "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc",
                  "w:textDirection", "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId",
                  "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange")


def _set_fonts(rpr, name: str) -> None:
    """Every script of ``rpr`` in font ``name``: w:rFonts ascii/hAnsi/eastAsia/cs, theme fonts removed."""
    from docx.oxml.ns import qn

    rfonts = rpr.get_or_add_rFonts()
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(attr), None)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(attr), name)
    rfonts.set(qn("w:hint"), "eastAsia")


def _char_spacing(rpr, twips: int) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    for old in rpr.findall(qn("w:spacing")):
        rpr.remove(old)
    el = OxmlElement("w:spacing")
    el.set(qn("w:val"), str(twips))
    rpr.insert_element_before(el, *_RPR_AFTER_SPACING)


def _first_line_chars(style_or_par, chars: int) -> None:
    """First-line indent in characters (w:firstLineChars, which Word and WPS honour) and in points."""
    from docx.oxml.ns import qn
    from docx.shared import Pt

    style_or_par.paragraph_format.first_line_indent = Pt(SIZE_BODY * chars)
    ind = style_or_par.element.get_or_add_pPr().get_or_add_ind()
    ind.set(qn("w:firstLineChars"), str(chars * 100))


def _ppr_flag(ppr, tag: str, on: bool) -> None:
    """A boolean paragraph property (w:snapToGrid, w:autoSpaceDE …) set explicitly, in schema order."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    for old in ppr.findall(qn(tag)):
        ppr.remove(old)
    el = OxmlElement(tag)
    el.set(qn("w:val"), "1" if on else "0")
    order = ("w:pStyle", "w:keepNext", "w:keepLines", "w:pageBreakBefore", "w:framePr", "w:widowControl",
             "w:numPr", "w:suppressLineNumbers", "w:pBdr") + _PPR_AFTER_BDR
    ppr.insert_element_before(el, *order[order.index(tag) + 1:])


def _style(doc, name: str, font: str, size: float, *, base: str = "Normal", align=None, indent_chars: int = 0,
           line: float | None = LINE_PITCH, spacing: int | None = None, bold: bool = False, grid: bool = True):
    from docx.enum.style import WD_STYLE_TYPE
    from docx.enum.text import WD_LINE_SPACING
    from docx.shared import Pt

    styles = doc.styles
    style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = styles[base]
    style.quick_style = True
    style.font.size = Pt(size)
    style.font.bold = bold
    _set_fonts(style.element.get_or_add_rPr(), font)
    if spacing is not None:
        _char_spacing(style.element.get_or_add_rPr(), spacing)
    pf = style.paragraph_format
    pf.space_before = Pt(0)
    pf.space_after = Pt(0)
    if line is not None:
        pf.line_spacing = Pt(line)
        pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    if align is not None:
        pf.alignment = align
    if indent_chars:
        _first_line_chars(style, indent_chars)
    else:
        pf.first_line_indent = Pt(0)
    if not grid:  # lines of another height than the grid's must not snap to it (they would take two)
        _ppr_flag(style.element.get_or_add_pPr(), "w:snapToGrid", False)
    return style


def _setup(doc) -> None:
    """Page, grid, default fonts and the 公文 styles."""
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
    section.top_margin, section.bottom_margin = Mm(MARGINS_MM["top"]), Mm(MARGINS_MM["bottom"])
    section.left_margin, section.right_margin = Mm(MARGINS_MM["left"]), Mm(MARGINS_MM["right"])
    section.header_distance = Mm(15)
    section.footer_distance = Mm(21)  # the page number's line sits about 7 mm below the text block
    section.gutter = Mm(0)
    sect_pr = doc.element.body.find(qn("w:sectPr"))  # the document's one (and last) section
    grid = sect_pr.find(qn("w:docGrid"))
    if grid is None:
        from docx.oxml import OxmlElement

        grid = OxmlElement("w:docGrid")
        sect_pr.append(grid)
    grid.set(qn("w:type"), "lines")
    grid.set(qn("w:linePitch"), str(round(LINE_PITCH * 20)))

    # Document defaults: 仿宋 for every script, Chinese language, no theme fonts, no spacing after paragraphs.
    styles_el = doc.styles.element
    rpr_default = styles_el.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _set_fonts(rpr_default, FONT_BODY)
    lang = rpr_default.find(qn("w:lang"))
    if lang is not None:
        lang.set(qn("w:val"), "en-US")
        lang.set(qn("w:eastAsia"), "zh-CN")
    normal = doc.styles["Normal"]
    normal.font.size = Pt(SIZE_BODY)
    _set_fonts(normal.element.get_or_add_rPr(), FONT_BODY)
    npf = normal.paragraph_format
    npf.space_before, npf.space_after = Pt(0), Pt(0)
    npf.line_spacing, npf.line_spacing_rule = Pt(LINE_PITCH), WD_LINE_SPACING.EXACTLY
    npf.widow_control = False  # a fixed grid of 22 lines: no lines pushed to the next page

    center, justify, left = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.JUSTIFY, WD_ALIGN_PARAGRAPH.LEFT
    _style(doc, "公文标题", FONT_TITLE, SIZE_TITLE, align=center, line=35.0, grid=False)
    _style(doc, "公文主送", FONT_BODY, SIZE_BODY, align=justify, spacing=CHAR_SPACING_TWIPS)
    body = _style(doc, "公文正文", FONT_BODY, SIZE_BODY, align=justify, indent_chars=2, spacing=CHAR_SPACING_TWIPS)
    h1 = _style(doc, "公文一级标题", FONT_H1, SIZE_BODY, base="公文正文", align=justify, indent_chars=2,
                spacing=CHAR_SPACING_TWIPS)
    h2 = _style(doc, "公文二级标题", FONT_H2, SIZE_BODY, base="公文正文", align=justify, indent_chars=2,
                spacing=CHAR_SPACING_TWIPS)
    h1.paragraph_format.keep_with_next = True
    h2.paragraph_format.keep_with_next = True
    body.paragraph_format.widow_control = False
    sign = _style(doc, "公文落款", FONT_BODY, SIZE_BODY, align=WD_ALIGN_PARAGRAPH.RIGHT, spacing=CHAR_SPACING_TWIPS)
    for tag in ("w:autoSpaceDE", "w:autoSpaceDN"):  # no extra space around the date's digits: widths as computed
        _ppr_flag(sign.element.get_or_add_pPr(), tag, False)
    label = _style(doc, "公文附件标识", FONT_H1, SIZE_BODY, align=left, spacing=CHAR_SPACING_TWIPS)
    label.paragraph_format.page_break_before = True
    _style(doc, "公文表注", FONT_BODY, SIZE_TABLE, align=justify, line=16.0, grid=False)
    cc = _style(doc, "公文版记", FONT_BODY, SIZE_PAGE, align=justify, line=LINE_PITCH)
    cc.paragraph_format.left_indent = Pt(SIZE_PAGE)
    cc.paragraph_format.right_indent = Pt(SIZE_PAGE)
    _style(doc, TABLE_STYLE, FONT_BODY, SIZE_TABLE, align=center, line=16.0, grid=False)
    _style(doc, PAGE_STYLE, FONT_PAGE, SIZE_PAGE, align=WD_ALIGN_PARAGRAPH.RIGHT, line=None, grid=False)


def _border(par, sides: dict[str, int]) -> None:
    """Paragraph borders: side → width in eighths of a point (版记 lines)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    ppr = par.paragraph_format.element.get_or_add_pPr()  # the paragraph's w:p
    bdr = OxmlElement("w:pBdr")
    for side in ("top", "bottom"):
        if side in sides:
            el = OxmlElement(f"w:{side}")
            el.set(qn("w:val"), "single")
            el.set(qn("w:sz"), str(sides[side]))
            el.set(qn("w:space"), "1")
            el.set(qn("w:color"), "000000")
            bdr.append(el)
    ppr.insert_element_before(bdr, *_PPR_AFTER_BDR)


def _add_text(par, text: str) -> None:
    """Runs of ``text``; ``\\n`` becomes a line break and ``\\t`` a tab."""
    from docx.enum.text import WD_BREAK

    for k, line in enumerate(text.split("\n")):
        if k:
            par.add_run().add_break(WD_BREAK.LINE)
        for j, piece in enumerate(line.split("\t")):
            if j:
                par.add_run().add_tab()
            if piece:
                par.add_run(piece)


def _chars_pt(chars: float) -> float:
    return chars * (SIZE_BODY + CHAR_SPACING_TWIPS / 20)


def _write_signature(doc, text: str) -> None:
    """发文机关署名 and 成文日期 (GB/T 9704 7.3.5.2): the date 右空二字, its first character two characters right of
    the office name's first character (so the office moves left when the date is the longer)."""
    from docx.shared import Pt

    office, _, date = text.partition("\n")
    w_office, w_date = display_width(office) / 2, display_width(date) / 2
    r_date = max(2.0, w_office - w_date)
    r_office = r_date + w_date + 2 - w_office
    for line, right in ((office, r_office), (date, r_date)):
        par = doc.add_paragraph(style=STYLE_NAMES[SIGNATURE])
        par.paragraph_format.right_indent = Pt(round(_chars_pt(right), 1))
        _add_text(par, line)


def _write_para(doc, block: Para) -> None:
    from docx.enum.text import WD_TAB_ALIGNMENT
    from docx.shared import Mm, Pt

    if block.style == SIGNATURE:
        _write_signature(doc, block.text)
        return
    par = doc.add_paragraph(style=STYLE_NAMES[block.style])
    if block.style == CC:
        _border(par, {"top": 8, "bottom": 4})
        head = block.text.partition("：")[0] + "："  # continuation lines start under the first unit (抄送：)
        par.paragraph_format.left_indent = Pt(SIZE_PAGE * (1 + len(head)))
        par.paragraph_format.first_line_indent = Pt(-SIZE_PAGE * len(head))
    elif block.style == PRINTED:
        _border(par, {"bottom": 8})
        stop = Mm(TEXT_WIDTH_MM) - Pt(2 * SIZE_PAGE)
        par.paragraph_format.tab_stops.add_tab_stop(stop, WD_TAB_ALIGNMENT.RIGHT)
    _add_text(par, block.text)


def _write_table(doc, table: Table) -> None:
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm

    t = doc.add_table(rows=1 + len(table.rows), cols=len(table.headers))
    t.style = doc.styles["Table Grid"]
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    t.autofit = False
    tbl = doc.element.body.findall(qn("w:tbl"))[-1]  # the table just added
    grid = tbl.find(qn("w:tblGrid"))
    for col, width in zip(grid.findall(qn("w:gridCol")), table.widths_mm):
        col.set(qn("w:w"), str(round(Mm(width).twips)))
    for r, (values, tr) in enumerate(zip((table.headers, *table.rows), tbl.findall(qn("w:tr")))):
        row = t.rows[r]
        trpr = tr.get_or_add_trPr()
        cant = OxmlElement("w:cantSplit")
        trpr.append(cant)
        if r == 0:
            header = OxmlElement("w:tblHeader")  # repeated at the top of every page
            trpr.append(header)
        for c, value in enumerate(values):
            cell = row.cells[c]
            cell.width = Mm(table.widths_mm[c])
            par = cell.paragraphs[0]
            par.style = doc.styles[TABLE_STYLE]
            if r and not table.centered[c]:
                par.alignment = WD_ALIGN_PARAGRAPH.LEFT
            _add_text(par, value)
            if r == 0:
                for run in par.runs:
                    run.bold = True


def _page_number(footer, align, outer_indent: float) -> None:
    """"— PAGE —" in 宋体 四号, at the outer corner one character in."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    from docx.enum.text import WD_ALIGN_PARAGRAPH

    footer.is_linked_to_previous = False
    par = footer.paragraphs[0]
    par.style = PAGE_STYLE
    par.alignment = align
    if align == WD_ALIGN_PARAGRAPH.LEFT:
        par.paragraph_format.left_indent = Pt(outer_indent)
    else:
        par.paragraph_format.right_indent = Pt(outer_indent)
    par.add_run("— ")
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"), ("end", None)):
        run = par.add_run()
        if kind:
            fld = OxmlElement("w:fldChar")
            fld.set(qn("w:fldCharType"), kind)
            run.element.append(fld)
        elif text == " PAGE ":
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = text
            run.element.append(instr)
        else:
            run.text = text
    par.add_run(" —")


def _landscape_section(doc) -> None:
    """A new section on a new page, A4 landscape, with the same margins (the page numbers continue)."""
    from docx.enum.section import WD_ORIENT, WD_SECTION
    from docx.shared import Mm

    section = doc.add_section(WD_SECTION.NEW_PAGE)
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(PAGE_MM[1]), Mm(PAGE_MM[0])
    section.top_margin, section.bottom_margin = Mm(MARGINS_MM["left"]), Mm(MARGINS_MM["right"])
    section.left_margin, section.right_margin = Mm(MARGINS_MM["top"]), Mm(MARGINS_MM["bottom"])


def docx_bytes(document: Document) -> bytes:
    """The .docx of ``document`` in 公文 layout (GB/T 9704): A4; margins 37/35/28/26 mm; 22 lines of 28 characters;
    title 方正小标宋简体 二号; body 仿宋_GB2312 三号; 一、 黑体, （一） 楷体_GB2312; page numbers "— 1 —" in 宋体 四号,
    odd pages right and even pages left; annex tables in 仿宋 with a header row repeated on every page."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    doc = docx.Document()
    _setup(doc)
    for block in document.blocks:
        if isinstance(block, Table):
            _write_table(doc, block)
        elif block.style == ANNEX_LABEL:
            # The annex (the 总表) is a wide table: it gets a landscape section of its own, as 公文 practice allows.
            _landscape_section(doc)
            _write_para(doc, block)
            doc.paragraphs[-1].paragraph_format.page_break_before = False  # the new section starts the page
        else:
            _write_para(doc, block)
    doc.settings.odd_and_even_pages_header_footer = True
    section = doc.sections[0]
    _page_number(section.footer, WD_ALIGN_PARAGRAPH.RIGHT, SIZE_PAGE)
    _page_number(section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT, SIZE_PAGE)
    core = doc.core_properties
    core.title = document.title
    core.author = ""
    core.comments = ""
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


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
