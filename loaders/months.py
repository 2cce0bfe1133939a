"""The one months vocabulary: every month in the product is a 'YYYY-MM' string.

At the bottom of the house (the loaders use it, and may not import ``geodata``): the one month parser
(:func:`parse`), and everything else about months: shifting, ranges, spans, the period of equal length
before a period, the same months a year earlier, and UK financial years (April to March, as DEFRA
publishes them).

>>> previous("2021-02", "2021-03")
('2020-12', '2021-01')
>>> months("2021-11", "2022-01")
['2021-11', '2021-12', '2022-01']
>>> financial_year("2022-03")
'2021-22'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

#: A month as every source and the store write it: 'YYYY-MM'.
PATTERN = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse(value, name: str = "month") -> date:
    """'YYYY-MM' -> the first day of that month; anything else raises ``ValueError`` naming
    ``name`` and the value (the one month parser).

    >>> parse(" 2021-02 ")
    datetime.date(2021, 2, 1)
    """
    m = PATTERN.match(str(value).strip()) if value is not None else None
    if not m or m.group(1) == "0000":  # there is no year 0
        raise ValueError(f"{name} must be a month written YYYY-MM (e.g. 2021-08), got {value!r}")
    return date(int(m.group(1)), int(m.group(2)), 1)


def index(month: str) -> int:
    """'YYYY-MM' -> months since year 0 (so months can be subtracted and shifted).

    >>> index("0001-01"), at(index("2021-12") + 1)
    (12, '2022-01')
    """
    d = parse(month)
    return d.year * 12 + d.month - 1


def at(k: int) -> str:
    """The inverse of :func:`index`."""
    return f"{k // 12:04d}-{k % 12 + 1:02d}"


def check(month, name: str = "month") -> str:
    """``month`` as 'YYYY-MM' after checking it (``ValueError`` naming ``name`` otherwise)."""
    return of(parse(month, name))


def of(day) -> str:
    """'YYYY-MM' of a date, datetime or pandas Timestamp."""
    return f"{day.year:04d}-{day.month:02d}"


def shift(month: str, n: int) -> str:
    """``month`` moved ``n`` months (negative: back)."""
    return at(index(month) + n)


def length(start: str, end: str) -> int:
    """How many months ``start`` to ``end`` holds, both included (0 when ``end`` is before ``start``)."""
    return max(0, index(end) - index(start) + 1)


def months(start: str, end: str) -> list[str]:
    """Every month from ``start`` to ``end`` inclusive (empty when ``end`` is before ``start``)."""
    first = index(start)
    return [at(first + i) for i in range(length(start, end))]


def span(start: str, end: str) -> str:
    """'2021-08 to 2022-01', or the one month."""
    return start if start == end else f"{start} to {end}"


def listing(some) -> str:
    """Months (sorted 'YYYY-MM' strings) as a reader takes them in: the one month; else how many,
    then runs of 3 or more consecutive months as spans, shorter runs month by month.

    >>> listing(["2020-12"])
    '2020-12'
    >>> listing(["2024-05", "2024-06", "2024-08", "2024-09", "2024-10"])
    '5 months: 2024-05, 2024-06, 2024-08 to 2024-10'
    """
    some = sorted(some)
    if len(some) == 1:
        return some[0]
    runs: list[list[str]] = []
    for m in some:
        if runs and shift(runs[-1][-1], 1) == m:
            runs[-1].append(m)
        else:
            runs.append([m])
    parts = [span(r[0], r[-1]) if len(r) >= 3 else ", ".join(r) for r in runs]
    return f"{len(some)} months: {', '.join(parts)}"


def previous(start: str, end: str) -> tuple[str, str]:
    """The period of the same length just before ``start..end``."""
    n = length(start, end)
    return shift(start, -n), shift(end, -n)


def year_earlier(start: str, end: str) -> tuple[str, str]:
    """The same months a year earlier."""
    return shift(start, -12), shift(end, -12)


def financial_year(month) -> str:
    """The financial year (April to March) holding ``month`` ('YYYY-MM' or a date), as DEFRA
    writes it: 2021-04 -> '2021-22'."""
    day = month if isinstance(month, date) or hasattr(month, "year") else parse(month)
    first = day.year if day.month >= 4 else day.year - 1
    return f"{first}-{(first + 1) % 100:02d}"


def financial_year_months(year: str) -> list[str]:
    """The months of financial year ``year`` ('2021-22': 2021-04 to 2022-03)."""
    first = int(str(year)[:4])
    return months(f"{first:04d}-04", f"{first + 1:04d}-03")


@dataclass(frozen=True)
class Period:
    """A run of whole months, ``start`` to ``end`` inclusive, checked at construction."""

    start: str
    end: str

    def __post_init__(self):
        object.__setattr__(self, "start", check(self.start, "start"))
        object.__setattr__(self, "end", check(self.end, "end"))
        if self.end < self.start:
            raise ValueError(f"the period ends ({self.end}) before it starts ({self.start})")

    @classmethod
    def ending(cls, end: str, window: int) -> Period:
        """The ``window`` months ending at ``end``."""
        if window < 1:
            raise ValueError(f"a period needs at least 1 month, got window={window!r}")
        return cls(shift(end, -(window - 1)), end)

    @property
    def months(self) -> list[str]:
        return months(self.start, self.end)

    @property
    def length(self) -> int:
        return length(self.start, self.end)

    @property
    def text(self) -> str:
        return span(self.start, self.end)

    def previous(self) -> Period:
        """The period of equal length just before."""
        return Period(*previous(self.start, self.end))

    def year_earlier(self) -> Period:
        """The same months a year earlier."""
        return Period(*year_earlier(self.start, self.end))

    def __str__(self) -> str:
        return self.text
