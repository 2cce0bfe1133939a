"""The plausible-period rule: the one place that says which months a source can hold.

A month before a source began publishing, or one the source cannot have
published yet, is not data: one row dated 9999-12 used to stretch every
per-month table of the app to 95,914 columns, and one police.uk row dated the
current month made the Meeting page read "Data to <this month>" with every
police priority "no data". Every loader rejects such a row (file, line, field,
reason) through :func:`month_problem`; DEFRA's financial years are checked by
their first month (April) against the floor and by their last month (March)
against the end: a year that has not ended has no figures. The store's readers
hold apart any month a store loaded before this rule (``geodata.store.Store.loaded_months``).

First months (:data:`FIRST_MONTH`, inclusive):

* police.uk (and its stop and search): 2010-12, the first month data.police.uk
  publishes (data.police.uk/about);
* FixMyStreet: 2007-02, the month mySociety launched it;
* DEFRA fly-tipping LA tables: financial year 2012-13 (first month 2012-04),
  the first year of the published series;
* council records: 2000-01, a stated floor (no council export of this kind
  holds records from before Flycapture, 2004; the floor leaves room).

Last months (:func:`last_month`), from when each source publishes
(:data:`PUBLISHED_AFTER`): a month is published only after it has ended, so

* police.uk (street, outcomes, stop and search): a month appears on
  data.police.uk weeks after it ends; the rule takes a month as possibly
  published from the 15th of the month after it (a lower bound on the lag, so
  no published month is ever refused): on 2026-01-10 the last plausible month
  is 2025-11, on 2026-01-15 it is 2025-12;
* FixMyStreet monthly counts and DEFRA's years: from the day after the month
  (the year) ends; the current month is never complete;
* council records: the council's own log holds records up to today, so the
  current month is plausible (a date after today is refused by the council
  loader itself); the Meeting page still ends at the latest *complete* month
  (``geodata.analysis.status.latest_month``).
"""

from __future__ import annotations

from datetime import date, timedelta

#: First plausible month ('YYYY-MM') of each source; council sources share "council".
FIRST_MONTH = {
    "police.uk": "2010-12",
    "police.uk-stops": "2010-12",
    "fixmystreet": "2007-02",
    "council": "2000-01",
    "defra": "2012-04",
}


#: Days after a month ends before the source can have published it; None: its current month's records are
#: plausible (module docstring).
PUBLISHED_AFTER: dict[str, int | None] = {
    "police.uk": 14,
    "police.uk-stops": 14,
    "fixmystreet": 0,
    "council": None,
    "defra": 0,
}


def today() -> date:
    """Today's date (a function, so tests can move the clock)."""
    return date.today()


def _family(source: str) -> str:
    """The rule a source follows: council sources share "council"; police.uk's other files (outcomes)
    follow police.uk."""
    if source.startswith("council"):
        return "council"
    return "police.uk" if source not in FIRST_MONTH and source.startswith("police.uk") else source


def _text(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def last_month(source: str, on: date | None = None) -> str:
    """The latest month ('YYYY-MM') ``source`` can have published on ``on`` (default :func:`today`):
    the latest month that ended at least :data:`PUBLISHED_AFTER` days before ``on``; the current month
    for a source whose lag is None."""
    on = on or today()
    lag = PUBLISHED_AFTER[_family(source)]
    if lag is None:
        return _text(on)
    ended = on.replace(day=1)  # the first day after the previous month ended
    while ended + timedelta(days=lag) > on:
        ended = (ended - timedelta(days=1)).replace(day=1)
    return _text(ended - timedelta(days=1))


def bounds(source: str, on: date | None = None) -> tuple[str, str]:
    """(first, last) plausible month of ``source`` as 'YYYY-MM', both inclusive (:func:`last_month`
    for the last). A source not in :data:`FIRST_MONTH` is a ``KeyError``."""
    return FIRST_MONTH[_family(source)], last_month(source, on)


def window(on: date | None = None) -> tuple[str, str]:
    """(first, last) plausible month of any source: the earliest of :data:`FIRST_MONTH` to the
    current month. A per-month table of every source spans at most this."""
    on = on or today()
    return min(FIRST_MONTH.values()), _text(on)


def month_problem(source: str, month: str, on: date | None = None) -> str | None:
    """Why ``month`` ('YYYY-MM', already well formed) cannot be a month of ``source``, or ``None``."""
    first, last = bounds(source, on)
    if month < first:
        began = "council records began" if _family(source) == "council" else f"{source} began"
        return f"month {month} is before {began} ({first})"
    current = _text(on or today())
    if month > current:
        return f"month {month} is after the current month ({current})"
    if month > last:
        family = _family(source)
        lag = PUBLISHED_AFTER[family]
        when = f"from {lag} days after it ends" if lag else "once it has ended"
        return f"month {month} cannot be published yet: {family} publishes a month {when} (latest: {last})"
    return None


def plausible(source: str, month: str, on: date | None = None) -> bool:
    """Whether ``month`` ('YYYY-MM') can be a month of ``source`` (:func:`month_problem` finds none)."""
    return month_problem(source, month, on) is None
