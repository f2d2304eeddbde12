"""Reading targets out of a notice's text: normalising the text (stage 2) and extracting the measurable targets
of a project's content (stage 3), as pure functions of the text. :mod:`.notice` reads the files and layouts and
calls these; :mod:`.notice_layouts` finds the list of projects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from .projects import Indicator, Milestone
from .textnorm import clean, format_number

# Measure units a target can be counted in; longest first when matching (人次 before 人, 平方米 before 米).
_BASE_UNITS = (
    "个百分点", "百分点", "平方公里", "平方千米", "平方米", "立方米", "万千瓦时", "千瓦时", "千瓦", "兆瓦",
    "公里", "千米", "延米", "米", "公顷", "亩", "平米", "㎡", "吨", "千克", "公斤",  # no 千伏: a voltage is a spec
    "人次", "户次", "家次", "车次", "架次", "场次", "批次", "轮次", "课时", "学时", "册次",
    "人", "名", "户", "家", "个", "处", "张", "套", "台", "辆", "座", "所", "条", "件", "场", "次", "项", "批",
    "轮", "类", "只", "头", "株", "棵", "宗", "份", "本", "册", "间", "栋", "幢", "支", "队", "组", "对", "例",
    "盏", "根", "块", "口", "眼", "部", "架", "片", "门", "班", "床", "节", "堂", "篇", "种", "村", "期", "单",
    "元", "%", "‰", "微克/立方米", "毫克/立方米", "毫克/升",
)
_MULTIPLIERS = ("万亿", "亿", "万", "千", "百")
# Characters after a number that are not measure words: dates and times, orders, multipliers, ages, function words.
_NOT_MEASURE = frozenset("年月日号时点分秒岁周届级倍成折楼层版代类大种期余多左上下内前后中间的和与及或至到在为是以等"
                         "万亿千百十两元角型线路寸英码号秒东南西北")
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
    "交付", "启用", "更换", "新建改扩建", "改造提升", "提升改造", "建设改造", "推动", "推进", "保障", "服务", "免费", "补植",
)
# Words at the start of a clause that are not part of a target's name.
_NAME_FILLERS = re.compile(
    r"^(?:[①-⑳]|[（(]\d{1,2}[)）]|\d{1,2}[.、]|[一二三四五六七八九十]是|"
    r"(?:到|至|截至|截止)?\d{4}年(?:年底|年末|底|末)?前?|(?:到|至)?(?:年底|年末)前?|全年|年内|当年|今年|本年度?|年度内?|"
    r"全区|全县|全市|全镇|全旗|预计|计划|拟|力争|累计|共计|合计|总计|共|进一步|持续|继续|争取|确保|同时|其中|"
    r"另外|另|并且|并|且|以及|和|及|与|或|对|为|向|给|在|实现)")

_GE_BEFORE = ("不少于", "不低于", "不小于", "大于等于", "至少", "超过", "高于", "多于", "≥", ">")
_LE_BEFORE = ("不超过", "不高于", "小于等于", "不大于", "控制在", "低于", "少于", "压缩至", "压缩到", "缩短至", "缩短到",
              "压减至", "压减到", "≤", "<")
# Durations (12分钟, 3个工作日) are usually standards (15分钟生活圈, 24小时); one is a target only when capped
# (控制在12分钟以内, 压缩至3个工作日).
_DURATION_UNITS = ("个工作日", "工作日", "个小时", "个月", "分钟", "小时", "天")
# 约 / 近 before a number (约8718平方米) read as "about", but not as the end of a word (签约, 预约, 附近, 接近).
_APPROX = r"(?<![签预节制履特邀契])约|(?<![附接靠最邻])近"
# Words between a target's name and its number, which are not part of the name.
_NAME_TAIL = re.compile("(?:" + "|".join(map(re.escape, sorted(
    _GE_BEFORE + _LE_BEFORE + ("大于等于", "稳定在", "保持在", "达到", "提高到", "提高至", "提升到", "提升至", "增至", "降至",
                               "降低到", "保持", "达", "为", "共", "计", "总计", "累计", "合计", "逾", "超", "以上",
                               "以内", "左右", "等", "各", "=", ":", "："),
    key=len, reverse=True))) + "|" + _APPROX + ")+$")
_GE_AFTER = ("及以上", "以上")
_LE_AFTER = ("及以下", "以下", "以内", "之内")

_CLAUSE_BOUNDARY = "，。；;！？!?：:\n①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
# Policy standards and rates that are not targets (每人每年 2 元, 最高补助 3 万元, 20%一次性给予 …).
_STANDARD_BEFORE = re.compile(r"每|(?<!高)标准(?!化)|最高|最低|最多|最长|上限|下限|人均|户均|一次性|年满|不满|按照?$|给予$")
_STANDARD_AFTER = re.compile(r"^(?:/|每|的标准|标准|一次性|的比例|比例|的补助|的补贴|给予|予以)")
_REVIEW_BEFORE = re.compile(r"比例|补助|补贴|奖补|奖励|资助|增长|下降|减少|降低")
_CONDITION_BEFORE = re.compile(r"(?:超过|低于|高于|不足|满)[^，。；]{0,3}$")
# After "N个": a span of time, not a count of things (3个保障期, 2个学期); 个月 / 个工作日 are durations.
_TIME_AFTER = re.compile(r"^(?:季度|学期|星期|保障期|周期|自然日|年度)")

_ARABIC = re.compile(r"(?<![\d.])\d+(?:,\d{3})*(?:\.\d+)?")
_CHINESE = re.compile(r"[一二两三四五六七八九十百千零〇]+")
_UNIT_RE = re.compile("(?:" + "|".join(map(re.escape, _MULTIPLIERS)) + ")?(?:" +
                      "|".join(map(re.escape, sorted(_BASE_UNITS, key=len, reverse=True))) + ")")


# ================================================================== stage 2: normalising


_LATEX = ((r"\geqslant", "≥"), (r"\leqslant", "≤"), (r"\geq", "≥"), (r"\leq", "≤"), (r"\ge", "≥"), (r"\le", "≤"),
          (r"\times", "×"), (r"\sim", "~"), (r"\%", "%"), (r"\cdot", "·"), (r"\,", ""), (r"\;", ""), (r"\ ", ""))
_PAGE_MARKER = re.compile(r"^\s*(?:[-—–－一]+\s*\d{1,3}\s*[-—–－一]+|第\s*\d{1,3}\s*页(?:\s*[,，/]?\s*共\s*\d{1,3}\s*页)?|"
                          r"\d{1,3}\s*/\s*\d{1,3}|[Pp]age\s*\d+(?:\s*of\s*\d+)?)\s*$")
_SYMBOLS = str.maketrans({"≧": "≥", "≦": "≤", "﹪": "%", "％": "%", "～": "~", "﹣": "-", "∶": "：",
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


# Pinyin some mirror sites inject after characters: 關(guān), 萬(wàn)人.
_ROMANISATION = re.compile(r"(?<=[\u4e00-\u9fff])[(（][a-z\u00e0-\u024f]{1,7}[)）]")


def normalize_line(line: str) -> str:
    """One line in matching form: :func:`clean` plus symbols, LaTeX, ≥/≤ spellings and numbers split by spaces."""
    s = clean(_ROMANISATION.sub("", _latex(line))).translate(_SYMBOLS)
    s = s.replace(">=", "≥").replace("<=", "≤").replace("＞＝", "≥").replace("＜＝", "≤")
    s = re.sub(r"\*\*|__", "", s)  # markdown emphasis (**新建社区食堂8个**): not part of any name
    # ASCII punctuation in Chinese text (web copies, NFKC) reads as its Chinese form; not inside numbers (10:30, 1,200).
    s = re.sub(r"(?<!\d),|,(?!\d{3}(?!\d))", "，", s)
    s = re.sub(r";", "；", s)
    s = re.sub(r"(?<!\d):|:(?!\d)", "：", s)
    # PDF text splits decimals and thousands ("21. 38", "1, 200"): join them back.
    s = re.sub(r"(\d)\s*\.\s+(\d)", r"\1.\2", s)
    s = re.sub(r"(\d)\s*[,，]\s?(\d{3})(?!\d)", r"\1\2", s)
    # Spaces are kept: in a unit cell they separate units (区民政局 区医保局); text that is matched is made
    # tight (spaces removed) where it is used.
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
    end: int  # after the unit
    value: float
    unit: str
    chinese: bool = False
    range_high: float | None = None
    approx: str = ""  # 余/多 as written (10万余人次), which reads as "more than"
    duration: bool = False
    open_unit: bool = False  # a measure word outside the known list (3800位, 10000穴): kept, to be checked


def _find_unit(text: str, pos: int) -> str:
    """The measure unit written at ``pos`` (万亩, 人次, %), or ""; 万/亿 stay part of it as written."""
    m = _UNIT_RE.match(text, pos)
    return m.group() if m else ""


def _candidates(text: str) -> list[_Candidate]:
    """Every number followed by a measure unit, in order (Arabic and Chinese numerals)."""
    out: list[_Candidate] = []
    for m in _ARABIC.finditer(text):
        start = m.start()
        if start > 0 and re.match(r"[A-Za-z]", text[start - 1]):
            continue  # part of a code such as G104 or 3A
        if start > 0 and text[start - 1] == "第":
            continue  # an ordinal (第3批, 第2条), not a count
        value = float(m.group().replace(",", ""))
        pos = m.end()
        high = None
        r = re.match(r"\s*(?:-|~|—|－|–|至|到)\s*(\d+(?:\.\d+)?)", text[pos:pos + 40])
        if r and _find_unit(text, pos + r.end()):
            high = float(r.group(1))
            pos += r.end()
        unit = _find_unit(text, pos)
        duration = next((d for d in _DURATION_UNITS if text.startswith(d, pos)), "")
        if duration:
            out.append(_Candidate(start, pos + len(duration), value, duration, range_high=high, duration=True))
            continue
        more = re.match(r"(万|亿)?(余|多)", text[pos:pos + 4])
        if not unit and more and _find_unit(text, pos + more.end()):
            # 10万余人次, 1000余人: the unit is 万人次 / 人; 余 reads as "more than"
            base = _find_unit(text, pos + more.end())
            out.append(_Candidate(start, pos + more.end() + len(base), value, (more.group(1) or "") + base,
                                  range_high=high, approx=more.group(0) + base))
            continue
        if not unit:
            # Any measure word may follow a number (3800位, 10000穴): one character that is not a date, an order,
            # a multiplier or a function word is kept as a candidate to be checked.
            word = text[pos:pos + 1]
            if re.fullmatch(r"[\u4e00-\u9fff]", word) and word not in _NOT_MEASURE \
                    and not re.match(r"[\d.]", text[pos + 1:pos + 2]) and not (start and text[start - 1] in "第每前近"):
                out.append(_Candidate(start, pos + 1, value, word, range_high=high, open_unit=True))
            continue
        m_times = re.match(r"[(（]次[)）]", text[pos + len(unit):pos + len(unit) + 3])
        if m_times:  # 10万人(次): the unit as written, to be checked
            out.append(_Candidate(start, pos + len(unit) + m_times.end(), value, unit + "(次)", range_high=high,
                                  open_unit=True))
            continue
        out.append(_Candidate(start, pos + len(unit), value, unit, range_high=high))
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
        if text.count("“", 0, m.start()) > text.count("”", 0, m.start()):
            continue  # inside quotes: a programme's name (“五项工程”, “两癌”)
        import cn2an

        try:
            value = float(cn2an.cn2an(s, "smart"))
        except (ValueError, KeyError, IndexError):
            continue
        out.append(_Candidate(m.start(), m.end() + len(unit), value, unit, chinese=True))
    kept: list[_Candidate] = []
    for c in sorted(out, key=lambda c: c.start):
        if not kept or c.start >= kept[-1].end:  # the second number of a range (3—5个) is not another target
            kept.append(c)
    return kept


def _clause_start(text: str, pos: int) -> int:
    """Start of the clause holding ``pos``: after the last ，。；… or after an opening bracket still open at
    ``pos`` (新增学位4000个（其中公办学位3000个）); a closed bracket (卫生院（社区卫生服务中心）) is skipped."""
    i, depth = pos, 0
    while i > 0:
        ch = text[i - 1]
        if ch in _CLAUSE_BOUNDARY:
            break
        if ch in "）)":
            depth += 1
        elif ch in "（(":
            if depth == 0:
                break
            depth -= 1
        i -= 1
    return i


def _segment_start(text: str, pos: int) -> int:
    """Start of the list item ending at ``pos`` (a clause, or a part of it after 、)."""
    clause = _clause_start(text, pos)
    cut = text.rfind("、", clause, pos)
    return cut + 1 if cut >= 0 else clause


def _object_end(text: str, start: int, limit: int) -> int:
    """End of the object written after a unit: the clause boundary, 、, or the next number. A bracket holding a
    number is a clause of its own (（其中公办学位3000个）) and ends the object; one without is stepped over."""
    i = start
    while i < limit and text[i] not in _CLAUSE_BOUNDARY + "、":
        if text[i] in "（(":
            close = re.search(r"[)）]", text[i:limit])
            if not close or re.search(r"\d", text[i:i + close.end()]):
                break
            i += close.end()
            continue
        if text[i] in "）)":
            break
        i += 1
    return i


def _strip_name(s: str) -> str:
    """A name without brackets, leading fillers (全年, 2026年, 预计, 对, ①) and trailing comparator words."""
    s = re.sub(r"[（(][^（）()]*[)）]", "", s)  # 卫生院（社区卫生服务中心） → 卫生院
    s = s.strip(" 、，,")
    for _ in range(6):
        t = _NAME_FILLERS.sub("", s, count=1).strip(" 、，,")
        if t == s:
            break
        s = t
    return _NAME_TAIL.sub("", s).strip(" 、，,")


def _leading_verb(name: str) -> str:
    """The action a name starts with, chained (改造提升村卫生室 → 改造提升); "" when it starts with a noun."""
    verb = ""
    rest = name
    while True:
        found = max((v for v in _VERBS if rest.startswith(v)), key=len, default="")
        if not found:
            return verb
        verb += found
        rest = rest[len(found):]


def _comparator(before_clause: str, after: str) -> tuple[str, str, int]:
    """(comparator, note, length of the comparator word after the unit) from the words around a number."""
    comparator, note = "=", ""
    tail = re.sub(f"(?:{_APPROX})$", "", before_clause[-6:])
    # The longest word wins: 不超过 is ≤ although it ends with 超过 (≥).
    word = max((w for w in _GE_BEFORE + _LE_BEFORE if tail.endswith(w)), key=len, default="")
    if word:
        comparator = "≥" if word in _GE_BEFORE else "≤"
    m = re.match(r"及以上|以上|及以下|以下|以内|之内|左右", after)
    word = m.group() if m else ""
    if word in _GE_AFTER:
        comparator = "≥"
    elif word in _LE_AFTER:
        comparator = "≤"
    elif word:
        note = f"原文为“{word}”"
    return comparator, note, len(word)


def _is_standard(before_seg: str, after: str, follows_standard: bool) -> bool:
    """A policy standard or rate rather than a target: 每人每年 2 元, 最高补助 3 万元, 20%一次性给予,
    报销后自费额超过 0.8万元的, and the rest of a "、" list that started as one."""
    clause_after = re.split(f"[{_CLAUSE_BOUNDARY}]", after, maxsplit=1)[0]
    return bool(follows_standard or _STANDARD_BEFORE.search(before_seg) or _STANDARD_AFTER.match(after)
                or "一次性" in clause_after[:6]
                or (after.startswith("的") and _CONDITION_BEFORE.search(before_seg)))


def extract_indicators(content: str, project_number: int) -> list[Indicator]:
    """The measurable targets in a project's ``content`` (新建中心村卫生室 10 家, 不低于 95%, 39万亩小麦 …).

    A target is a number followed by a measure unit. 万/亿 stay part of the unit as written (21.38 万平方米 →
    21.38 with unit 万平方米). Comparators come from the words around the number (以上/不少于/至少/不低于/≥ → ≥;
    以内/不超过/控制在/≤ → ≤; otherwise =). The name is the action and its object (新增护理型床位). Years, dates,
    item numbers, ages, durations and policy standards (每人每年 2 元, 最高补助 3 万元, 20%一次性给予) are not
    targets. Anything uncertain — Chinese numerals, money, ranges, rates next to 比例/补贴 — is kept with
    ``review=True`` (待核对) rather than dropped.
    """
    text = _tight(normalize_line(content))
    cands = _candidates(text)
    out: list[Indicator] = []
    prev_end = 0  # where the previous number's object ended: a name never reaches back past it
    prev: tuple[int, str] | None = None  # (clause start, action) of the last target, for "、" lists sharing one
    standard_end = -1  # end of the last policy standard
    for k, c in enumerate(cands):
        nxt = cands[k + 1].start if k + 1 < len(cands) else len(text)
        clause = _clause_start(text, c.start)
        before_clause = text[clause:c.start]
        before_seg = text[max(_segment_start(text, c.start), prev_end):c.start]
        after = text[c.end:c.end + 300]  # a window: what follows a number matters only nearby

        # The rest of a standard: a list of rates (、), or the new rate it is raised to (由每人每月20元提高到30元).
        follows_standard = standard_end >= 0 and not re.sub(
            r"[、和及与]|以及|(?:提高|提升|调整|上调|增加|增至|提)(?:到|至|为)", "", text[standard_end:c.start])
        if re.search(r"由(?:全市|全区|全县|全省|各)?$", text[clause:c.start]) or (
                re.search(r"在(?:全市|全区|全县|全省|各)?$", text[clause:c.start])
                and any(_clause_start(text, d.start) == clause for d in cands[k + 1:])):
            prev_end = max(prev_end, c.end)
            continue  # 由全市12个区县 (who carries it out), 在五个县区…建成20个 (where): not targets
        if _is_standard(before_seg, after, follows_standard):
            prev_end = standard_end = c.end
            continue
        if re.match(r"(?:口径|直径|跨径)", after) or (c.unit.endswith("米") and re.match(r"[宽长高深厚]", after)):
            continue  # 4.5米宽道路 3 条: a specification of the next target's object
        if (c.unit.endswith("个") and _TIME_AFTER.match(after)) or (
                re.match(r"(?:以上|以下|以内)的", after)
                and any(_clause_start(text, d.start) == clause for d in cands[k + 1:])):
            prev_end = max(prev_end, c.end)
            continue  # 一个保障期; 100平方米以上的活动室 10 处 (a qualifier of the next target)

        comparator, note, after_len = _comparator(before_clause, after)
        if c.duration and comparator != "≤":
            prev_end = max(prev_end, c.end)
            continue  # 15分钟生活圈, 24小时: a duration is a target only when capped
        review = c.chinese or c.duration or c.open_unit or c.range_high is not None or c.unit.endswith(_MONEY_UNITS) \
            or (c.unit in ("%", "‰", "个百分点", "百分点") and bool(_REVIEW_BEFORE.search(before_seg)))
        if c.approx:  # 9300余人: "more than", but an approximate figure: to be checked
            comparator, note, review = "≥", f"原文为“{format_number(c.value)}{c.approx}”", True
        if c.range_high is not None:
            comparator = "≥"
            note = f"原文为区间 {format_number(c.value)}–{format_number(c.range_high)}{c.unit}，取下限"
        if re.search(f"(?:{_APPROX})$", before_clause):  # 约 8718平方米: kept as = with the wording noted
            note = note or f"原文为“{before_clause[-1]}{format_number(c.value)}{c.unit}”"

        # The object written after the unit, for targets written number-first (实施 14个老旧小区改造); a
        # conjunction before the next number belongs to the next target (37万亩玉米和3万亩大豆).
        obj_start = c.end + after_len
        stop = _object_end(text, obj_start, nxt)
        obj = re.sub(r"(?:和|及|与|以及|并|或)$", "", _strip_name(text[obj_start:stop]))  # never cut: shown cut only

        prefix_raw = text[max(clause, prev_end):c.start]
        prefix = _strip_name(prefix_raw)
        if obj and re.search(r"等[约近共计]*$", prefix_raw):
            prefix = _leading_verb(prefix) or prefix.split("等")[0]  # 改造铁路六区、市政宿舍等 13 个老旧小区
        same_list = prev is not None and prev[0] == clause and not re.search(r"[，。；]", text[prev_end:c.start])
        if prev is not None and same_list and not _leading_verb(prefix):
            prefix = prev[1] + prefix  # 新增护理型床位100张、认知障碍照护床位30张 → 新增认知障碍照护床位
        name = prefix + obj
        if len(name) <= 2 or len(name) > 30:
            review = True
        name = name or f"指标{len(out) + 1}"
        prev = (clause, _leading_verb(prefix) or (prev[1] if same_list and prev else ""))
        span = re.sub(f"(?:{_APPROX})$", "", text[max(clause, prev_end):stop].strip("、，,和及与"))
        prev_end = stop
        out.append(Indicator(project=project_number, number=len(out) + 1, name=name, target=c.value, unit=c.unit,
                             comparator=comparator, text=span, note=note, review=review))
    return out


_DATED = re.compile(r"(?<![\d.])(\d{1,2})月(?:底|末|份|中旬|上旬|下旬|\d{1,2}日)?(?:前|以前|之前)")


def split_milestones(indicators: list[Indicator], project_number: int) -> tuple[list[Indicator], list[Milestone]]:
    """Dated steps towards a target (全年建成10处，6月底前建成3处) are 时间节点, not targets of their own: an
    indicator whose text carries a deadline month, next to a target of the same unit that is larger and due later,
    becomes a milestone (month, percent of that target). The rest stay indicators, renumbered in order."""
    def month(i: Indicator) -> int | None:
        m = _DATED.search(i.text)
        return int(m.group(1)) if m and 1 <= int(m.group(1)) <= 12 else None

    months = [month(i) for i in indicators]
    by_unit: dict[str, list[tuple[float, int, Indicator]]] = {}
    for i, mi in zip(indicators, months):
        by_unit.setdefault(i.unit, []).append((i.target, mi or 12, i))
    for entries in by_unit.values():
        entries.sort(key=lambda e: (-e[0], -e[1]))  # largest first: the total, if any, is found at once
    kept: list[Indicator] = []
    steps: list[Milestone] = []
    for i, mi in zip(indicators, months):
        total = None
        if mi is not None:
            total = next((t for value, due, t in by_unit[i.unit][:50] if t is not i and value > i.target and due > mi),
                         None)
        if mi is not None and total is not None:
            steps.append(Milestone(project=project_number, month=mi,
                                   percent=round(100 * i.target / total.target, 1)))
        else:
            kept.append(i)
    return [replace(i, number=k) for k, i in enumerate(kept, start=1)], steps


def due_month_from_text(text: str) -> int | None:
    """The month a project is due, when its content says so (秋季学期投入使用, 12月底前, 年内, 年底)."""
    s = _tight(normalize_line(text))
    months = [int(m.group(1)) for m in re.finditer(
        r"(?<![\d.])(\d{1,2})月(?:底|末|份|中旬|上旬|下旬|\d{1,2}日)?(?:前|以前|之前)?(?:完成|建成|投入使用|投用|竣工|交付|开放|运营|启用)",
        s)]
    # A start date (4月底前开工, 5月启动) is not when the project is due.
    months += [int(m.group(1)) for m in re.finditer(
        r"(?<![\d.])(\d{1,2})月(?:底|末)(?!(?:前|以前|之前)?[全完]?(?:开工|启动|动工|开建|开始|招标|进场|立项))", s)]
    months = [m for m in months if 1 <= m <= 12]
    if months:
        return max(months)
    if "秋季学期" in s or "秋季开学" in s:
        return 9
    if "上半年" in s and not re.search(r"年内|年底|年末|下半年", s):
        return 6
    if re.search(r"年内|年底|年末|年度内|(?:当年|\d{4}年)(?:内|底)?(?:完成|建成|投入使用|启用|投用)", s):
        return 12
    return None
