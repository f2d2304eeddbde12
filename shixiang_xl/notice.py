"""Importing the published notice (通知): the project list and its quantitative targets, read from the notice itself.

The work is done in three stages, each usable on its own:

1. **reading** (:func:`read_notice`): the file becomes plain text plus a list of raw project records, whatever the
   layout — a table in a .docx / .md / .xlsx / .csv, a PDF table copied out as text (cells broken one per line,
   page breaks inside), or numbered prose (一、… / （一）… / 1. … / （1）…) with 牵头单位：… lines;
2. **normalising** (:func:`normalize_text`): full-width characters, traditional characters, LaTeX left by
   PDF-to-markdown converters, page markers, stray spaces inside numbers;
3. **extracting** (:func:`extract_indicators`): the measurable targets in a project's content, as a pure function
   of the text.

:func:`import_notice` runs all three and resolves units against the unit directory. Problems in the notice are
findings, never exceptions.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from pathlib import Path

from .findings import Finding, finding
from .projects import Indicator, Project, ProjectList, parse_due_month
from .textnorm import clean, compact, fold, format_number
from .units import Directory

# ================================================================== vocabulary

# Column headings of the annex table, by column key; matched after removing spaces, so "项 目 名 称" works too.
HEADER_SYNONYMS: dict[str, tuple[str, ...]] = {
    "number": ("序号", "编号", "项目序号", "项目编号", "序"),
    "name": ("项目名称", "实事项目", "民生实事", "民生实事项目", "实事名称", "实事项目名称", "项目", "名称",
             "十件实事", "实事"),
    "content": ("项目主要内容", "主要内容", "目标任务", "工作举措", "建设内容", "实施内容", "项目内容", "工作内容",
                "主要目标", "具体内容", "任务目标", "工作目标", "目标任务及措施", "主要建设内容", "建设内容及规模",
                "项目内容及目标", "内容", "目标"),
    "lead": ("牵头单位", "责任单位", "主办单位", "牵头部门", "责任部门", "主责单位", "承办单位", "牵头责任单位",
             "主体责任单位", "牵头领导及单位"),
    "co": ("协办单位", "配合单位", "责任主体与协同单位", "协同单位", "配合部门", "协办部门", "参与单位",
           "协作单位", "配合责任单位"),
    "due": ("计划完成时间", "完成时间", "完成时限", "时间节点", "完成期限", "办结时限", "完成时间节点"),
    "note": ("备注",),
}

# Labels inside prose or inside a combined 责任单位 cell.
_LEAD_LABELS = ("牵头单位", "责任单位", "主办单位", "牵头部门", "责任部门", "主责单位", "承办单位")
_CO_LABELS = ("协办单位", "配合单位", "协同单位", "配合部门", "协办部门", "参与单位", "协作单位")
_DUE_LABELS = ("计划完成时间", "完成时限", "完成时间", "完成期限", "时间节点")

# Measure units a target can be counted in; longest first when matching (人次 before 人, 平方米 before 米).
_BASE_UNITS = (
    "个百分点", "百分点", "平方公里", "平方千米", "平方米", "立方米", "万千瓦时", "千瓦时", "千瓦", "兆瓦", "千伏",
    "公里", "千米", "延米", "米", "公顷", "亩", "平米", "㎡", "吨", "千克", "公斤",
    "人次", "户次", "家次", "车次", "架次", "场次", "批次", "轮次", "课时", "学时", "册次",
    "人", "名", "户", "家", "个", "处", "张", "套", "台", "辆", "座", "所", "条", "件", "场", "次", "项", "批",
    "轮", "类", "只", "头", "株", "棵", "宗", "份", "本", "册", "间", "栋", "幢", "支", "队", "组", "对", "例",
    "盏", "根", "块", "口", "眼", "部", "架", "片", "门", "班", "床", "节", "堂", "篇", "种", "村", "期", "单",
    "元", "%", "‰",
)
_MULTIPLIERS = ("万亿", "亿", "万", "千", "百")
_MONEY_UNITS = ("元",)
# Chinese numerals are far more often words (一件事, 二次供水, 一体化) than targets: accepted only before these.
_CN_NUMERAL_UNITS = ("处", "所", "座", "家", "条", "个", "套", "台", "辆", "项", "场", "间", "栋", "名", "户",
                     "张", "支", "批")
_CN_ONE_UNITS = ("处", "所", "座", "家", "条", "台", "辆", "栋")  # "一" before 个/项/件/张 is usually an article

# A target's short name starts with its action; these are the actions seen in such lists (for "、" lists that share
# one action, e.g. 新增护理型床位100张、认知障碍照护床位30张).
_VERBS = (
    "新建", "新增", "新设", "新开", "新开通", "新改建", "新培育", "新植", "改扩建", "改建", "扩建", "改造", "提升",
    "建设", "建成", "打造", "培训", "举办", "开展", "完成", "实施", "安装", "创建", "投保", "配备", "更新", "增加",
    "增设", "优化", "运营", "覆盖", "惠及", "提供", "办理", "发放", "修缮", "修建", "铺设", "硬化", "种植", "栽植",
    "植树", "招聘", "组织", "救助", "资助", "帮扶", "培育", "引进", "设置", "建立", "推广", "维修", "整治", "治理",
    "清理", "排查", "筛查", "检测", "接种", "安置", "开通", "升级", "改善", "翻新", "绿化", "美化", "亮化", "整修",
    "配置", "购置", "采购", "投放", "投入", "解决", "吸纳", "带动", "促进", "帮助", "认定", "招募", "慰问", "走访",
    "开设", "布设", "增补", "扩容", "搬迁", "拆除", "疏浚", "清淤", "加固", "修复", "建造", "组建", "培养", "招收",
    "孵化", "接入", "签约", "配送", "巡查", "检查", "普查", "体检", "救治", "提高", "降低", "减少", "开工", "竣工",
    "交付", "启用", "新建改扩建", "改造提升", "提升改造", "建设改造", "推动", "推进", "保障", "服务", "免费", "补植",
)
# Words at the start of a clause that are not part of a target's name.
_NAME_FILLERS = re.compile(
    r"^(?:[①-⑳]|[（(]\d{1,2}[)）]|\d{1,2}[.、]|[一二三四五六七八九十]是|"
    r"(?:到|至|截至|截止)?(?:\d{4}年)?(?:年底|年末|底|末)?前?|全年|年内|当年|今年|本年度?|年度内?|"
    r"全区|全县|全市|全镇|全旗|预计|计划|拟|力争|累计|共计|合计|总计|共|进一步|持续|继续|争取|确保|同时|其中|"
    r"另外|另|并且|并|且|以及|和|及|与|或|对|为|向|给|在)")
_NAME_TAIL = re.compile(r"(?:不少于|不低于|不小于|大于等于|小于等于|至少|不超过|不高于|控制在|达到|提高到|提高至|"
                        r"提升到|提升至|增至|降至|降低到|超过|达|为|约|近|共|计|总计|累计|合计|逾|超|以上|以内|"
                        r"左右|等|和|及|与|以及|并|≥|≤|>|<|=|:|：)+$")

_GE_BEFORE = ("不少于", "不低于", "不小于", "大于等于", "至少", "超过", "高于", "多于", "≥", ">")
_LE_BEFORE = ("不超过", "不高于", "小于等于", "不大于", "控制在", "低于", "少于", "≤", "<")
_GE_AFTER = ("及以上", "以上")
_LE_AFTER = ("及以下", "以下", "以内", "之内")

_CLAUSE_BOUNDARY = "，。；;！？!?：:\n①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
# Policy standards and rates that are not targets (每人每年 2 元, 最高补助 3 万元, 20%一次性给予 …).
_STANDARD_BEFORE = re.compile(r"每|标准(?!化)|最高|最低|上限|下限|人均|户均|一次性|年满|不满|视[^，。；]{0,8}$|"
                              r"按照?$|按照?[^，。；]{0,6}的?$(?<=比例)|给予$")
_STANDARD_AFTER = re.compile(r"^(?:/|每|的标准|标准|一次性|的比例|比例|的补助|的补贴|给予|予以)")
_REVIEW_BEFORE = re.compile(r"比例|补助|补贴|奖补|奖励|资助|增长|下降|减少|降低")
_CONDITION_BEFORE = re.compile(r"(?:超过|低于|高于|不足|满)[^，。；]{0,3}$")
_TIME_AFTER = re.compile(r"^(?:月|工作日|小时|季度|学期|周|星期|年|保障期|周期|阶段|自然日|日)")

_ARABIC = re.compile(r"(?<![\d.])\d+(?:,\d{3})*(?:\.\d+)?")
_CHINESE = re.compile(r"[一二两三四五六七八九十百千零〇]+")
_UNIT_RE = re.compile("(?:" + "|".join(map(re.escape, _MULTIPLIERS)) + ")?(?:" +
                      "|".join(map(re.escape, sorted(_BASE_UNITS, key=len, reverse=True))) + ")")


# ================================================================== results


@dataclass(frozen=True)
class ImportResult:
    """What :func:`import_notice` read: the project list, every finding, and the notice's own particulars."""

    projects: ProjectList
    findings: list[Finding] = field(default_factory=list)
    district: str = ""
    year: int | None = None
    title: str = ""
    unresolved: list[str] = field(default_factory=list)
    layout: str = ""  # "table" | "text-table" | "prose": how the projects were laid out in the notice


@dataclass
class RawProject:
    """One project as read from the notice, before units are resolved and indicators extracted."""

    number: int | None
    name: str = ""
    content: str = ""
    lead: str = ""
    co: str = ""
    due: str = ""
    place: str = ""  # where it was read (a cell such as C4, or 第 12 行)
    co_labelled: bool = True  # False when the only unit list was a 责任单位 without a separate co list


@dataclass
class NoticeSource:
    """Stage 1's result: the notice as text (for its title, district and year) and its raw projects."""

    text: str
    records: list[RawProject]
    layout: str
    findings: list[Finding] = field(default_factory=list)


# ================================================================== stage 2: normalising


_LATEX = ((r"\geqslant", "≥"), (r"\leqslant", "≤"), (r"\geq", "≥"), (r"\leq", "≤"), (r"\ge", "≥"), (r"\le", "≤"),
          (r"\times", "×"), (r"\sim", "~"), (r"\%", "%"), (r"\cdot", "·"), (r"\,", ""), (r"\;", ""), (r"\ ", ""))
_PAGE_MARKER = re.compile(r"^\s*(?:[-—–－一]+\s*\d{1,3}\s*[-—–－一]+|第\s*\d{1,3}\s*页(?:\s*[,，/]?\s*共\s*\d{1,3}\s*页)?|"
                          r"\d{1,3}\s*/\s*\d{1,3}|[Pp]age\s*\d+(?:\s*of\s*\d+)?)\s*$")
_SYMBOLS = str.maketrans({"≧": "≥", "≦": "≤", "﹪": "%", "％": "%", "～": "~", "﹣": "-", "：": "：", "∶": "：",
                          "﹐": "，", "﹔": "；", "〜": "~"})


def _latex(text: str) -> str:
    """Undo the inline LaTeX PDF-to-markdown converters leave ($\\geq 95\\%$ → ≥95%)."""
    if "$" not in text and "\\" not in text:
        return text

    def math(m: re.Match) -> str:
        s = m.group(1)
        for a, b in _LATEX:
            s = s.replace(a, b)
        s = re.sub(r"\\(?:mathrm|text|textbf|mathbf)\{([^{}]*)\}", r"\1", s)
        s = re.sub(r"[{}]", "", s)
        return s.replace(" ", "")

    text = re.sub(r"\$\$?([^$\n]{1,80}?)\$\$?", math, text)
    for a, b in _LATEX[:6]:
        text = text.replace(a, b)
    return text.replace(r"\%", "%")


def normalize_line(line: str) -> str:
    """One line in matching form: :func:`clean` plus symbols, LaTeX, ≥/≤ spellings and numbers split by spaces."""
    s = clean(_latex(line)).translate(_SYMBOLS)
    s = s.replace(">=", "≥").replace("<=", "≤").replace("＞＝", "≥").replace("＜＝", "≤")
    # PDF text splits decimals and thousands ("21. 38", "1, 200"): join them back.
    s = re.sub(r"(\d)\s*\.\s+(\d)", r"\1.\2", s)
    s = re.sub(r"(\d)\s*[,，]\s?(\d{3})(?!\d)", r"\1\2", s)
    # Spaces between Chinese characters are layout, not words (区公共法律 服务中心).
    s = re.sub(r"(?<=[\u4e00-\u9fff“”（）《》、])\s+(?=[\u4e00-\u9fff“”（）《》、])", "", s)
    return s


def normalize_text(text: str) -> str:
    """The whole notice in matching form, line by line; page markers (— 3 —, 第3页) become blank lines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n").replace("\u2028", "\n")
    out = []
    for line in text.split("\n"):
        s = normalize_line(line)
        out.append("" if _PAGE_MARKER.match(s) else s)
    return "\n".join(out)


def _join_lines(lines: list[str]) -> str:
    """Lines of one wrapped cell or paragraph as one text: Chinese joins without a space, Latin/digits with one."""
    out = ""
    for line in (x.strip() for x in lines):
        if not line:
            continue
        if out and re.match(r"[A-Za-z0-9]", out[-1]) and re.match(r"[A-Za-z0-9]", line[0]):
            out += " "
        out += line
    return out


def _tight(text: str) -> str:
    """The text with every space removed except between two Latin letters or digits (5G 基站 → 5G基站)."""
    return re.sub(r"(?<![A-Za-z0-9])\s+|\s+(?![A-Za-z0-9])", "", text)


# ================================================================== stage 3: indicators


@dataclass
class _Candidate:
    start: int  # where the number starts in the tight text
    num_end: int
    end: int  # after the unit
    value: float
    unit: str
    chinese: bool = False
    range_high: float | None = None


def _find_unit(text: str, pos: int) -> str:
    m = _UNIT_RE.match(text, pos)
    if not m:
        return ""
    unit = m.group()
    # "3千米" is a base unit, but "3千人" keeps 千 as a multiplier — both stay as written; only a bare multiplier
    # without a base unit is not a unit.
    return unit


def _candidates(text: str) -> list[_Candidate]:
    """Every number followed by a measure unit, in order (Arabic and Chinese numerals)."""
    out: list[_Candidate] = []
    for m in _ARABIC.finditer(text):
        start, end = m.start(), m.end()
        if start > 0 and re.match(r"[A-Za-z]", text[start - 1]):
            continue  # part of a code such as G104 or 3A
        value = float(m.group().replace(",", ""))
        pos = end
        high = None
        r = re.match(r"\s*(?:-|~|—|－|–|至|到)\s*(\d+(?:\.\d+)?)", text[pos:])
        if r and _find_unit(text, pos + r.end()):
            high = float(r.group(1))
            pos += r.end()
        unit = _find_unit(text, pos)
        if not unit:
            continue
        out.append(_Candidate(start, end, pos + len(unit), value, unit, range_high=high))
    for m in _CHINESE.finditer(text):
        s = m.group()
        unit = _find_unit(text, m.end())
        base = unit.lstrip("".join(_MULTIPLIERS)) if unit else ""
        if not unit or base not in _CN_NUMERAL_UNITS or s in ("百", "千", "零", "〇"):
            continue
        if s == "一" and (base not in _CN_ONE_UNITS or unit != base):
            continue
        before = text[max(0, m.start() - 1):m.start()]
        if before in ("第", "每", "周", "初", "十") or re.match(r"[一二两三四五六七八九十]", text[m.end() + len(unit):][:1]):
            continue  # 第三批, 每一处, 一村一品
        import cn2an

        try:
            value = float(cn2an.cn2an(s, "smart"))
        except (ValueError, KeyError, IndexError):
            continue
        out.append(_Candidate(m.start(), m.end(), m.end() + len(unit), value, unit, chinese=True))
    return sorted(out, key=lambda c: c.start)


def _clause_start(text: str, pos: int) -> int:
    i = pos
    while i > 0 and text[i - 1] not in _CLAUSE_BOUNDARY:
        i -= 1
    return i


def _segment_start(text: str, pos: int) -> int:
    """Start of the list item ending at ``pos`` (a clause, or a part of it after 、)."""
    i = pos
    while i > 0 and text[i - 1] not in _CLAUSE_BOUNDARY + "、":
        i -= 1
    return i


def _strip_name(s: str) -> str:
    s = re.sub(r"[（(][^（）()]*[)）]", "", s)  # 卫生院（社区卫生服务中心） → 卫生院
    s = s.strip(" 、，,")
    for _ in range(6):
        t = _NAME_FILLERS.sub("", s, count=1).strip(" 、，,")
        if t == s:
            break
        s = t
    return _NAME_TAIL.sub("", s).strip(" 、，,")


def _leading_verb(name: str) -> str:
    verb = ""
    rest = name
    while True:
        found = max((v for v in _VERBS if rest.startswith(v)), key=len, default="")
        if not found:
            return verb
        verb += found
        rest = rest[len(found):]


def extract_indicators(content: str, project_number: int) -> list[Indicator]:
    """The measurable targets in a project's ``content`` (新建中心村卫生室 10 家, 不低于 95%, 39万亩小麦 …).

    A target is a number followed by a measure unit. 万/亿 stay part of the unit as written (21.38 万平方米 →
    21.38 with unit 万平方米). Comparators come from the words around the number (以上/不少于/至少/不低于/≥ → ≥;
    以内/不超过/控制在/≤ → ≤; otherwise =). Years, dates, item numbers, ages, durations and policy standards
    (每人每年 2 元, 最高补助 3 万元, 20%一次性给予) are not targets. Anything uncertain is kept with
    ``review=True`` (待核对) rather than dropped.
    """
    text = _tight(normalize_line(content))
    cands = _candidates(text)
    out: list[Indicator] = []
    prev_end = 0  # end of the previous candidate's object: a name never reaches back past it
    prev: tuple[int, str] | None = None  # (clause start, verb) of the last kept target, for "、" lists
    for k, c in enumerate(cands):
        nxt = cands[k + 1].start if k + 1 < len(cands) else len(text)
        clause = _clause_start(text, c.start)
        seg = _segment_start(text, c.start)
        before_clause = text[clause:c.start]
        before_seg = text[max(seg, prev_end if prev_end > clause else seg):c.start]
        after = text[c.end:]
        after_clause = after[:next((i for i, ch in enumerate(after) if ch in _CLAUSE_BOUNDARY), len(after))]

        # --- not targets at all
        if _TIME_AFTER.match(after) and c.unit.endswith(("个", "年", "期")) or c.unit in ("期",) and \
                not re.match(r"[\u4e00-\u9fff]", after[:1] or "。"):
            prev_end = max(prev_end, c.end)
            continue  # 6个月, 3个工作日, 一个保障期
        if re.match(r"(?:周)?岁", after) or re.match(r"(?:周)?岁", text[c.num_end:]):
            continue
        if _STANDARD_BEFORE.search(before_seg) or _STANDARD_AFTER.match(after) or re.search(
                r"一次性", after_clause[:6]):
            prev_end = max(prev_end, c.end)
            continue
        if after.startswith("的") and _CONDITION_BEFORE.search(before_seg):
            prev_end = max(prev_end, c.end)
            continue  # 自费额累计超过 0.8万元的
        if re.match(r"(?:以上|以下|以内)的", after) and any(d.start < len(text) and
                                                          _clause_start(text, d.start) == clause
                                                          for d in cands[k + 1:]):
            prev_end = max(prev_end, c.end)
            continue  # 100平方米以上的活动室 10 处: a qualifier of the next target

        review = c.chinese or c.range_high is not None or c.unit.endswith(_MONEY_UNITS) \
            or bool(_REVIEW_BEFORE.search(before_seg))
        note = ""

        # --- comparator
        comparator = "="
        tail = before_clause[-6:]
        if any(tail.endswith(w) or tail.rstrip("约近").endswith(w) for w in _GE_BEFORE):
            comparator = "≥"
        elif any(tail.endswith(w) for w in _LE_BEFORE):
            comparator = "≤"
        m_after = re.match(r"(及以上|以上|及以下|以下|以内|之内|左右)", after)
        if m_after:
            word = m_after.group(1)
            if word in _GE_AFTER:
                comparator = "≥"
            elif word in _LE_AFTER:
                comparator = "≤"
            else:
                note = f"原文为“{word}”"
        if c.range_high is not None:
            comparator = "≥"
            note = f"原文为区间 {format_number(c.value)}–{format_number(c.range_high)}{c.unit}，取下限"
        if re.search(r"(?:^|[^大])约$|近$|预计", before_clause[-3:] + ("预计" if "预计" in before_clause else "")):
            if re.search(r"约$|近$", before_clause):
                note = note or f"原文为“{before_clause[-1]}{format_number(c.value)}{c.unit}”"

        # --- object after the unit (for targets written number-first: 实施 14个老旧小区改造)
        obj_end = c.end + (m_after.end() if m_after else 0)
        stop = obj_end
        while stop < nxt and text[stop] not in _CLAUSE_BOUNDARY + "、":
            stop += 1
        obj = _strip_name(re.sub(r"^(?:以上|以下|以内|左右)", "", text[obj_end:stop]))
        obj = obj[:24]

        # --- name: the action and its object
        prefix_raw = before_seg
        prefix = _strip_name(prefix_raw)
        if obj and "等" in prefix:
            prefix = _leading_verb(prefix) or prefix.split("等")[0]  # 改造铁路六区、市政宿舍等 13 个老旧小区
        same_list = prev is not None and prev[0] == clause and not re.search(r"[，。；]", text[prev_end:c.start])
        if prev is not None and same_list and not _leading_verb(prefix):
            prefix = prev[1] + prefix
        name = (prefix + obj) if obj else prefix
        if c.unit in ("%", "‰") and obj and prefix:
            name = prefix + obj
        if not name:
            name = obj or before_clause[-12:] or f"指标{len(out) + 1}"
            review = True
        if len(name) > 30:
            review = True
        span_start = seg if seg >= prev_end else prev_end
        span = text[span_start:max(stop, obj_end)].strip("、，,和及与")
        verb = _leading_verb(prefix) or (prev[1] if same_list and prev else "")
        prev = (clause, verb)
        prev_end = stop
        value = c.value
        out.append(Indicator(project=project_number, number=len(out) + 1, name=name, target=value, unit=c.unit,
                             comparator=comparator, text=span, note=note, review=review))
    return out


def due_month_from_text(text: str) -> int | None:
    """The month a project is due, when its content says so (秋季学期投入使用, 12月底前, 年内, 年底)."""
    s = _tight(normalize_line(text))
    months = [int(m.group(1)) for m in re.finditer(
        r"(?<![\d.])(\d{1,2})月(?:底|末|份|中旬|上旬|下旬|\d{1,2}日)?(?:前|以前|之前)?(?:完成|建成|投入使用|投用|竣工|交付|开放|运营|启用)",
        s)]
    months += [int(m.group(1)) for m in re.finditer(r"(?<![\d.])(\d{1,2})月(?:底|末)(?:前|以前|之前)?", s)]
    months = [m for m in months if 1 <= m <= 12]
    if months:
        return max(months)
    if "秋季学期" in s or "秋季开学" in s:
        return 9
    if "上半年" in s and not re.search(r"年内|年底|年末|下半年", s):
        return 6
    if re.search(r"年内|年底|年末|全年|年度内", s):
        return 12
    return None
