"""The plausible-period rule: the one place that says which months a source can hold.

A month before a source began publishing, or after the current month, is not
data: one row dated 9999-12 used to stretch every per-month table of the app
to 95,914 columns. Every loader rejects such a row (file, line, field, reason)
through :func:`month_problem`; DEFRA's financial years are checked by their
first month (April).

First months (:data:`FIRST_MONTH`, inclusive):

* police.uk (and its stop and search): 2010-12, the first month data.police.uk
  publishes (data.police.uk/about);
* FixMyStreet: 2007-02, the month mySociety launched it;
* DEFRA fly-tipping LA tables: financial year 2012-13 (first month 2012-04),
  the first year of the published series;
* council records: 2000-01, a stated floor (no council export of this kind
  holds records from before Flycapture, 2004; the floor leaves room).

The last plausible month is the current month (:func:`today`).
"""

from __future__ import annotations

from datetime import date

#: First plausible month ('YYYY-MM') of each source; council sources share "council".
FIRST_MONTH = {
    "police.uk": "2010-12",
    "police.uk-stops": "2010-12",
    "fixmystreet": "2007-02",
    "council": "2000-01",
    "defra": "2012-04",
}


def today() -> date:
    """Today's date (a function, so tests can move the clock)."""
    return date.today()


def _family(source: str) -> str:
    return "council" if source.startswith("council") else source


def bounds(source: str, on: date | None = None) -> tuple[str, str]:
    """(first, last) plausible month of ``source`` as 'YYYY-MM', both inclusive; ``last`` is the
    month of ``on`` (default :func:`today`). A source not in :data:`FIRST_MONTH` is a ``KeyError``."""
    on = on or today()
    return FIRST_MONTH[_family(source)], f"{on.year:04d}-{on.month:02d}"


def window(on: date | None = None) -> tuple[str, str]:
    """(first, last) plausible month of any source: the earliest of :data:`FIRST_MONTH` to the
    current month. A per-month table of every source spans at most this."""
    return min(FIRST_MONTH.values()), bounds("police.uk", on)[1]


def month_problem(source: str, month: str, on: date | None = None) -> str | None:
    """Why ``month`` ('YYYY-MM', already well formed) cannot be a month of ``source``, or ``None``."""
    first, last = bounds(source, on)
    if month < first:
        began = "council records began" if _family(source) == "council" else f"{source} began"
        return f"month {month} is before {began} ({first})"
    if month > last:
        return f"month {month} is after the current month ({last})"
    return None
