"""A district's annual figures (DEFRA fly-tipping incidents per financial year): the year a period is shown
with (:func:`annual`) and its change against the year before (:attr:`Annual.change`). Shown where no monthly
source covers a priority's period: context, not a verdict on it (:func:`geodata.analysis.status.priority_status`
then says "not judged", never "no data")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from geodata import sources
from geodata.analysis import flytipping_context
from geodata.methods import change as change_test
from geodata.store import Store
from loaders import months


class AnnualChange(NamedTuple):
    """The year shown against the one before it: the change test's p, judged at the priority's alpha."""

    year: str  # the year compared with
    before: float
    pct: float
    p: float
    significant: bool
    dispersion: str  # the dispersion used, stated

    @property
    def text(self) -> str:
        """E.g. "-12% on 2022-23, not significant"."""
        return f"{self.pct:+.0f}% on {self.year}, {'significant' if self.significant else 'not significant'}"


@dataclass(frozen=True)
class Annual:
    """A district's annual figures (financial years), e.g. DEFRA fly-tipping incidents; ``year``: the one
    shown (the latest published one overlapping the period, else the latest before it: :func:`annual`);
    ``alpha``: the significance level of the priority's target, which judges :attr:`change`."""

    label: str
    source: str
    years: tuple[str, ...]
    values: tuple[float | None, ...]  # None: not published
    note: str  # why annual figures are shown, what they are, and the shown year's age against the period
    year: str
    alpha: float = 0.05

    @property
    def shown(self) -> tuple[str, float]:
        """(year, value) of the year shown."""
        value = self.values[self.years.index(self.year)]
        if value is None:
            raise ValueError(f"{self.label}: {self.year} has no published figure")
        return self.year, value

    @property
    def change(self) -> AnnualChange | None:
        """The year shown against the one before it (None when that is not published, or fewer than 3 years
        are): the change test
        (:func:`geodata.methods.change.rate_test`) with the dispersion of the published years from their
        successive differences (:func:`geodata.methods.change.successive_dispersion`: DEFRA's series varies
        about 27x the mean from year to year), never below 1."""
        year, value = self.shown
        i = self.years.index(year)
        before = self.values[i - 1] if i else None
        if before is None:
            return None
        published = [v for v in self.values if v is not None]
        try:
            disp = change_test.successive_dispersion(published, f"{len(published)} published years, year to year")
        except ValueError:  # fewer than 3 years: their variation cannot be estimated, so no test
            return None
        pct = 100.0 * (value - before) / before if before else float("nan")
        p = change_test.rate_test(int(value), int(before), 1, 1, disp)
        return AnnualChange(self.years[i - 1], before, pct, p, p < self.alpha, disp.text)


def annual(store: Store, source: str, period: months.Period, alpha: float = 0.05) -> Annual | None:
    """The area's annual figures of the district-statistics ``source`` (DEFRA fly-tipping incidents) for
    ``period``: the year shown is the latest published financial year overlapping the period, else the
    latest published before it, with its age against the period in the note ("older than the period");
    None when the store holds none, or only years after the period. Changes judged at ``alpha``."""
    if source != sources.DEFRA.id:
        raise ValueError(f"no annual figures are defined for {source!r}")
    table = flytipping_context.series(store, store.config.area_code or "", (flytipping_context.TOTAL,))
    if table.empty:
        return None
    values = tuple(None if np.isnan(v) else float(v) for v in table[flytipping_context.TOTAL].astype("float64"))
    years = tuple(str(y) for y in table["year"])
    first_fy, last_fy = months.financial_year(period.start), months.financial_year(period.end)
    published = [y for y, v in zip(years, values) if v is not None]
    overlapping = [y for y in published if first_fy <= y <= last_fy]
    earlier = [y for y in published if y < first_fy]
    if overlapping:
        year = overlapping[-1]
        age = f"{year} (April {year[:4]} to March {int(year[:4]) + 1}) overlaps the period ({period.text})."
    elif earlier:
        year = earlier[-1]
        year_end = months.financial_year_months(year)[-1]
        gap = months.length(year_end, period.end) - 1
        age = (
            f"Older than the period: {year} (April {year[:4]} to March {int(year[:4]) + 1}) is the latest year "
            f"published; it ended {gap} months before the period's end ({period.text}), and no year overlapping "
            "the period is published yet."
        )
    else:
        return None
    return Annual(
        f"Fly-tipping incidents in {store.config.area_name}, per financial year (April to March)",
        source,
        years,
        values,
        "Annual figures (DEFRA, financial years April to March), shown because no monthly source "
        f"covers the period; not comparable with monthly counts. {age}",
        year,
        alpha,
    )
