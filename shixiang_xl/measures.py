"""Measure words (计量单位) and what they say about a number: counted things are whole, a 万-scaled unit is ten
thousand of its base unit, and the indicator's kind (累计数 / 比率 / 上限 / 节点) follows from the unit, the
comparator and the name.

Plain functions on strings, used by the project list (inferring a kind), the checks (fractions in counts, a value
typed in the base unit against a 万-scaled target), the simulated returns and the ledger.
"""

from __future__ import annotations

import functools
import re

# Things counted one by one: a fraction of them is a typing error. Amounts (元), lengths, areas, weights and
# 万-scaled units are not here: 2.5 公里 or 1.4 万户 are fine.
COUNT_WORDS = frozenset((
    "个", "家", "所", "处", "人", "名", "户", "条", "座", "套", "张", "次", "人次", "场", "场次", "件", "间", "辆",
    "台", "盏", "支", "栋", "幢", "批", "批次", "项", "位", "床", "张床", "对", "例", "份", "本", "册", "棵", "株",
    "块", "口", "眼", "部", "只", "头", "期", "班", "门", "宗", "起", "笔", "轮", "轮次", "架", "艘", "把", "根",
    "面", "片", "层", "级", "孔", "所次", "户次", "家次", "人年", "村", "个村", "镇", "校", "园", "站", "点", "个点",
))
SCALES = {"万": 10_000.0, "亿": 100_000_000.0}

KIND_COUNT, KIND_RATE, KIND_CEILING, KIND_MILESTONE = "累计数", "比率", "上限", "节点"
KINDS = (KIND_COUNT, KIND_RATE, KIND_CEILING, KIND_MILESTONE)
_KIND_WORDS = {"累计数": KIND_COUNT, "累计": KIND_COUNT, "数量": KIND_COUNT, "比率": KIND_RATE, "比率/水平": KIND_RATE,
               "水平": KIND_RATE, "比例": KIND_RATE, "上限": KIND_CEILING, "节点": KIND_MILESTONE}
_RATE_NAME = re.compile(r"(率|度|比例|比重|占比|平均|均值|指数)")
_MILESTONE_UNITS = frozenset(("", "项目", "是/否", "是否"))


def is_count(measure: str) -> bool:
    """True for a measure of whole things (家, 处, 人次 …): never for 万户, 元, 公里 or %."""
    return measure.strip() in COUNT_WORDS


def scale(measure: str) -> tuple[float, str]:
    """(10000, "户") for "万户", (1e8, "元") for "亿元", (1, measure) otherwise."""
    m = measure.strip()
    if len(m) > 1 and m[0] in SCALES:
        return SCALES[m[0]], m[1:]
    return 1.0, m


def parse_kind(text: object) -> str | None:
    """The kind a clerk wrote (累计数, 比率, 比率/水平, 上限, 节点 …); None for anything else, "" for blank."""
    s = re.sub(r"\s", "", str(text or ""))
    if not s:
        return ""
    return _KIND_WORDS.get(s)


@functools.lru_cache(maxsize=1024)
def infer_kind(name: str, measure: str, comparator: str) -> tuple[str, bool]:
    """(kind, doubtful) from an indicator's name, measure word and comparator.

    ``%`` or a name about a rate or level (…率, 满意度, 比例, 平均…) → 比率; ``≤`` → 上限 (a ceiling such as
    “控制在 12 分钟以内”, “不超过 3%”); a measure of counted things, an amount or a quantity → 累计数; no measure
    at all → 节点. ``doubtful`` when the signs disagree or are weak, for the project list's 待核对 column.
    """
    m = measure.strip()
    rate_like = m in ("%", "％", "个百分点") or bool(_RATE_NAME.search(name))
    if comparator == "≤":
        return KIND_CEILING, not (rate_like or m in ("分钟", "小时", "天", "日", "秒", "%", "％"))
    if m in ("%", "％"):
        return KIND_RATE, False
    if rate_like:
        # 覆盖学校 53 所 has 度/率 nowhere; a count word beside a rate-like name is worth a look.
        return KIND_RATE, is_count(m) or scale(m)[0] > 1
    if m in _MILESTONE_UNITS:
        return KIND_MILESTONE, True
    return KIND_COUNT, False


def meets_target(target: float, comparator: str, value: float | None) -> bool:
    """Whether ``value`` meets the target: within it for ``≤`` (a ceiling), at least it otherwise."""
    if value is None:
        return False
    if comparator == "≤":
        return value <= target + 1e-9
    return value >= target - 1e-9


def completion(kind: str, target: float, comparator: str, value: float | None) -> float | None:
    """Completion (1.0 = 100 %) of an indicator at ``value``, by its kind.

    累计数: value ÷ target (a ≤ count: met, or target ÷ value); 比率: value ÷ target capped at 100 % (a level is not
    “more than done”), met-or-not for ≤; 上限: met (within the ceiling) or not; 节点: done (1) or not (0).
    """
    if value is None:
        return None
    if kind == KIND_MILESTONE:
        return 1.0 if value >= 1 - 1e-9 else 0.0
    if kind == KIND_CEILING or (kind == KIND_RATE and comparator == "≤"):
        return 1.0 if value <= target + 1e-9 else 0.0
    if target <= 0:
        return None
    if kind == KIND_RATE:
        return min(1.0, value / target)
    if comparator == "≤":
        return 1.0 if value <= target else target / value
    return value / target
