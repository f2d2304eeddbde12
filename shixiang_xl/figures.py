"""The summary figures, each defined once: a unit's reporting state, 报送率, 按时报送率, 需催报, and the projects'
counts by status. ``status``, 催报名单.xlsx, the 台账, the 督查通报 and the 进展情况报告 all take their figures (and
the sentence that states them) from here, so no two of them can disagree.

Definitions (the README's 汇总口径 section says the same for the clerk):

* 应报送单位: every unit that leads or co-leads a project (the project list's units).
* a unit's state this period: 退回修改 when its counted return had errors; 未报送 when nothing was counted;
  otherwise 逾期报送 when received after the due day, else 按时报送.
* 已报送 = 按时报送 + 逾期报送 (a return sent back is not yet reported: the unit must send it again).
* 报送率 = 已报送 ÷ 应报送; 按时报送率 = 按时报送 ÷ 应报送.
* 需催报 = 未报送 + 退回修改 (the units the chase list names), so 报送率 = 1 − 需催报 ÷ 应报送.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable

SUBMIT_ON_TIME, SUBMIT_LATE, SUBMIT_MISSING, SUBMIT_BACK = "按时报送", "逾期报送", "未报送", "退回修改"
SUBMIT_STATES = (SUBMIT_ON_TIME, SUBMIT_LATE, SUBMIT_BACK, SUBMIT_MISSING)
CHASE_STATES = (SUBMIT_MISSING, SUBMIT_BACK)


def submission_state(status: str, received_at: str, due: dt.date) -> str:
    """A unit's state from its counted return's ``status`` (accepted | rejected | missing) and received time."""
    if status == "missing":
        return SUBMIT_MISSING
    if status == "rejected":
        return SUBMIT_BACK
    return SUBMIT_LATE if received_at and received_at[:10] > due.isoformat() else SUBMIT_ON_TIME


def percent(rate: float) -> str:
    """A rate as the documents print it: a whole percentage, halves rounded up (0.925 → "93%")."""
    return f"{Decimal(repr(rate * 100)).quantize(Decimal('1'), rounding=ROUND_HALF_UP)}%"


@dataclass(frozen=True)
class SubmissionFigures:
    """How many units are in each state; every summary figure of reporting is a property of this."""

    expected: int
    on_time: int
    late: int
    back: int
    missing: int

    @classmethod
    def of(cls, states: Iterable[str]) -> SubmissionFigures:
        states = list(states)
        return cls(len(states), states.count(SUBMIT_ON_TIME), states.count(SUBMIT_LATE), states.count(SUBMIT_BACK),
                   states.count(SUBMIT_MISSING))

    @property
    def reported(self) -> int:
        """已报送: 按时报送 + 逾期报送."""
        return self.on_time + self.late

    @property
    def chase(self) -> int:
        """需催报: 未报送 + 退回修改."""
        return self.missing + self.back

    @property
    def reporting_rate(self) -> float:
        """报送率 = 已报送 ÷ 应报送 (1.0 when nothing is expected)."""
        return self.reported / self.expected if self.expected else 1.0

    @property
    def on_time_rate(self) -> float:
        """按时报送率 = 按时报送 ÷ 应报送."""
        return self.on_time / self.expected if self.expected else 1.0

    def sentence(self) -> str:
        """The one sentence that states these figures, in every output that states them."""
        parts = [f"按时报送{self.on_time}个"] + ([f"逾期报送{self.late}个"] if self.late else [])
        rest = ([f"报送后被退回修改{self.back}个"] if self.back else []) + \
               ([f"未报送{self.missing}个"] if self.missing else [])
        text = f"应报送单位{self.expected}个，已报送{self.reported}个（{'、'.join(parts)}）"
        if rest:
            text += "，" + "、".join(rest)
        return (text + f"；报送率{percent(self.reporting_rate)}，按时报送率{percent(self.on_time_rate)}，"
                f"需催报{self.chase}个。")


def count_by(values: Iterable[str], keys: Iterable[str]) -> dict[str, int]:
    """How many of ``values`` equal each of ``keys`` (in the keys' order; every key present)."""
    out = {k: 0 for k in keys}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out


def late_days(received_at: str, due: dt.date) -> int:
    """Whole days after the due day a return was received (0 when on time or unknown)."""
    if not received_at:
        return 0
    try:
        got = dt.date.fromisoformat(received_at[:10])
    except ValueError:
        return 0
    return max(0, (got - due).days)


def lateness_doubtful(received_at: str, due: dt.date, period_days: int) -> bool:
    """A return received more than a whole reporting period after its due day: the time is more likely when the
    file was saved or copied than when the unit sent it, so it is questioned, never printed as a fact."""
    return late_days(received_at, due) > period_days
