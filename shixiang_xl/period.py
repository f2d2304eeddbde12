"""Reporting periods (报送期): a month (2026-03) or a quarter (2026-Q1); due dates and expected progress."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from .projects import Project
from .textnorm import cn_date

_QUARTER_CN = "一二三四"


class PeriodError(ValueError):
    """A period text that cannot be read."""


@dataclass(frozen=True, order=True)
class Period:
    """One reporting round. ``quarter`` is 0 for a monthly period."""

    year: int
    end_month: int
    quarter: int = 0

    @classmethod
    def parse(cls, text: str) -> "Period":
        """2026-03, 2026-3, 202603, 2026年3月, 2026-Q1, 2026Q1, 2026年第一季度."""
        s = str(text).strip().upper().replace(" ", "")
        m = re.fullmatch(r"(\d{4})-?Q([1-4])", s) or re.fullmatch(r"(\d{4})年第?([一二三四1-4])季度", s)
        if m:
            q = m.group(2)
            quarter = _QUARTER_CN.index(q) + 1 if q in _QUARTER_CN else int(q)
            return cls(int(m.group(1)), quarter * 3, quarter)
        m = re.fullmatch(r"(\d{4})(?:-|年|/|\.)?(\d{1,2})月?", s)
        if m and 1 <= int(m.group(2)) <= 12:
            return cls(int(m.group(1)), int(m.group(2)))
        raise PeriodError(f"报送期「{text}」无法识别，请写成 2026-03（月）或 2026-Q1（季度）。")

    @property
    def is_quarter(self) -> bool:
        return self.quarter > 0

    @property
    def slug(self) -> str:
        """Folder and key form: 2026-03 / 2026-Q1."""
        return f"{self.year}-Q{self.quarter}" if self.quarter else f"{self.year}-{self.end_month:02d}"

    @property
    def label(self) -> str:
        """2026年3月 / 2026年第一季度."""
        if self.quarter:
            return f"{self.year}年第{_QUARTER_CN[self.quarter - 1]}季度"
        return f"{self.year}年{self.end_month}月"

    @property
    def as_of(self) -> str:
        """截至2026年3月底."""
        return f"截至{self.year}年{self.end_month}月底"

    def cutoff(self, due_day: int) -> str:
        """What a report form asks for: progress up to the day it is due when that falls inside the period
        (截至2026年3月25日), else to the period's end (截至2026年3月底)."""
        due = self.due(due_day)
        if due < self.end:
            return f"截至{cn_date(due)}"
        return self.as_of

    @property
    def span(self) -> str:
        """1—3月份 (from January, as the progress report titles say)."""
        return f"1—{self.end_month}月份" if self.end_month > 1 else "1月份"

    @property
    def start(self) -> dt.date:
        month = self.end_month - 2 if self.quarter else self.end_month
        return dt.date(self.year, month, 1)

    @property
    def end(self) -> dt.date:
        return dt.date(self.year, self.end_month, calendar.monthrange(self.year, self.end_month)[1])

    @property
    def days(self) -> int:
        """The period's length in days (31 for March, 90 for 2026-Q1)."""
        return (self.end - self.start).days + 1

    def due(self, due_day: int) -> dt.date:
        """The due date: ``due_day`` of the period's last month (clamped to the month's length)."""
        last = calendar.monthrange(self.year, self.end_month)[1]
        return dt.date(self.year, self.end_month, min(due_day, last))

    def previous(self) -> "Period | None":
        """The period before this one in the same year, or None for the first."""
        if self.quarter:
            return Period(self.year, self.end_month - 3, self.quarter - 1) if self.quarter > 1 else None
        return Period(self.year, self.end_month - 1) if self.end_month > 1 else None

    def __str__(self) -> str:
        return self.slug


def expected_progress(project: Project, month: int) -> float:
    """序时进度 (0–100) of ``project`` at the end of ``month``.

    With milestones, interpolate linearly between them (0 at the start of the year); without, linear from
    January to the planned completion month (December by default).
    """
    if project.milestones:
        points = [(0, 0.0)] + [(m.month, m.percent) for m in project.milestones]
        if points[-1][0] < 12 and points[-1][1] < 100:
            points.append((project.end_month if project.end_month > points[-1][0] else 12, 100.0))
        for (m0, p0), (m1, p1) in zip(points, points[1:]):
            if month <= m1:
                return round(p0 + (p1 - p0) * (month - m0) / max(1, m1 - m0), 1)
        return 100.0
    return round(min(100.0, month / project.end_month * 100), 1)
