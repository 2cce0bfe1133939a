"""The one source registry: every data source the store holds, what kind of records it has,
whether its counts are sensitive, its categories and its licence.

The store, disclosure control, the priorities file, the command line and the pages read
this table; none types a source's name or its properties again. A source's ``id`` is the
``source`` value its loader writes (:mod:`loaders`).

Kinds:

* ``points``: one record per incident with a location (``incidents`` table);
* ``area counts``: counts per LSOA and month, summed to wards by the one LSOA -> ward rule
  (``area_counts`` table, :meth:`geodata.store.Store.population` says the rule);
* ``district statistics``: totals per district and financial year (``district_stats``), no
  months and no map.

``sensitive``: records about residents that no one published (council records); their
counts are shown under disclosure control to any audience without exact counts
(:mod:`geodata.methods.disclosure`). Published open data (police.uk, FixMyStreet, DEFRA) is shown as
published.
"""

from __future__ import annotations

from dataclasses import dataclass

from loaders import council, defra, fixmystreet, police, policeapi

POINTS, AREA_COUNTS, DISTRICT_STATISTICS = "points", "area counts", "district statistics"

_OGL = "Contains public sector information licensed under the Open Government Licence v3.0"


@dataclass(frozen=True)
class Source:
    """One data source (see the module docstring)."""

    id: str
    label: str
    kind: str
    sensitive: bool = False
    categories: frozenset[str] | None = None  # None: any category name the loader accepts
    attribution: str = ""
    holder: str = ""  # who holds the records (said where a priority waits for them)

    @property
    def mapped(self) -> bool:
        """Whether its records can be placed on a map (points) or summed to wards (area counts)."""
        return self.kind != DISTRICT_STATISTICS


POLICE = Source(
    police.SOURCE,
    "data.police.uk street-level crime and ASB",
    POINTS,
    categories=frozenset(police.CRIME_TYPES),
    attribution=f"{_OGL} (data.police.uk).",
    holder="the police force (published monthly on data.police.uk)",
)
POLICE_STOPS = Source(
    policeapi.STOPS_SOURCE,
    "data.police.uk stop and search",
    POINTS,
    attribution=f"{_OGL} (data.police.uk).",
    holder="the police force (published monthly on data.police.uk)",
)
FIXMYSTREET = Source(
    fixmystreet.SOURCE,
    "FixMyStreet reports",
    AREA_COUNTS,
    attribution="FixMyStreet data by mySociety, ODC-By (Open Data Commons Attribution License 1.0).",
    holder="mySociety (FixMyStreet reports, published)",
)
COUNCIL_FLYTIPPING = Source(
    council.SOURCES["flytipping"],
    "council fly-tipping records",
    POINTS,
    sensitive=True,
    attribution="The council's own records (not published).",
    holder="the district council (its own records: an export loaded by the analyst)",
)
COUNCIL_INCIDENTS = Source(
    council.SOURCES["incidents"],
    "council incident logs",
    POINTS,
    sensitive=True,
    attribution="The council's own records (not published).",
    holder="the district council (its own records: an export loaded by the analyst)",
)
DEFRA = Source(
    defra.SOURCE,
    "DEFRA fly-tipping statistics",
    DISTRICT_STATISTICS,
    attribution="Source: Department for Environment, Food & Rural Affairs (ENV24). " + _OGL + ".",
    holder="DEFRA (annual fly-tipping statistics, published)",
)

#: Every source, by id, in the order shown.
SOURCES: dict[str, Source] = {
    s.id: s for s in (POLICE, POLICE_STOPS, FIXMYSTREET, COUNCIL_FLYTIPPING, COUNCIL_INCIDENTS, DEFRA)
}
#: The source the pages and the command line use when none is named.
DEFAULT = POLICE.id


def get(source_id: str) -> Source:
    """The registered source ``source_id``; ``ValueError`` naming the known ids otherwise.

    >>> get("police.uk").sensitive, get("council-incidents").sensitive
    (False, True)
    >>> get("twitter")
    Traceback (most recent call last):
    ...
    ValueError: unknown source 'twitter'; sources are: police.uk, ...
    """
    try:
        return SOURCES[source_id]
    except KeyError:
        raise ValueError(f"unknown source {source_id!r}; sources are: {', '.join(SOURCES)}") from None


def ids(kind: str | None = None, sensitive: bool | None = None) -> tuple[str, ...]:
    """Ids of the sources of ``kind`` and/or sensitivity, in registry order."""
    return tuple(
        s.id
        for s in SOURCES.values()
        if (kind is None or s.kind == kind) and (sensitive is None or s.sensitive == sensitive)
    )
