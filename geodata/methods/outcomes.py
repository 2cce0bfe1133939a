"""What happened to a selection of police.uk crimes: the shares of their latest outcomes, in four groups.

Each crime's latest outcome comes from the store (:meth:`geodata.store.Store.latest_outcomes`: the
outcomes files' latest month, else the street file's "Last outcome category"). Outcomes are grouped
(:data:`GROUPS`, by police.uk's published outcome names):

* **charged or summonsed**: "Suspect charged", "Suspect charged as part of another case", and every
  outcome that follows a charge or summons (awaiting court, a court result, "Court result
  unavailable", "Court case unable to proceed");
* **under investigation**: "Under investigation";
* **no suspect identified**: "Investigation complete; no suspect identified";
* **other**: every other outcome (e.g. "Unable to prosecute suspect", cautions, local resolutions,
  "Status update unavailable", "Action to be taken by another organisation"), and any name not
  listed here, which is counted in ``unknown`` so it can be added.

Anti-social behaviour records are not crimes and have no outcome: they are left out. A crime with no
outcome at all is counted in ``no_outcome`` and not in the shares, whose denominator is the crimes
with an outcome. police.uk outcomes lag: recent months have more "under investigation".

Reference: data.police.uk/about (outcomes), data.police.uk/docs/method/outcomes-for-crime.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from geodata.methods import validate

CHARGED = "charged or summonsed"
UNDER_INVESTIGATION = "under investigation"
NO_SUSPECT = "no suspect identified"
OTHER = "other"
#: The groups, in the order they are shown.
GROUPS = (CHARGED, UNDER_INVESTIGATION, NO_SUSPECT, OTHER)

#: police.uk outcome names that mean a suspect was charged or summonsed (court outcomes included).
_CHARGED = frozenset(
    {
        "Suspect charged",
        "Suspect charged as part of another case",
        "Awaiting court outcome",
        "Court result unavailable",
        "Court case unable to proceed",
        "Defendant sent to Crown Court",
        "Defendant found not guilty",
        "Defendant not put on trial",
        "Offender sent to prison",
        "Offender given suspended prison sentence",
        "Offender fined",
        "Offender given community sentence",
        "Offender given conditional discharge",
        "Offender given absolute discharge",
        "Offender ordered to pay compensation",
        "Offender deprived of property",
        "Offender otherwise dealt with",
    }
)
#: police.uk outcome names grouped as "other" (out-of-court disposals, no further action, and the rest).
_OTHER = frozenset(
    {
        "Unable to prosecute suspect",
        "Local resolution",
        "Offender given a caution",
        "Offender given a drugs possession warning",
        "Offender given penalty notice",
        "Offender given a penalty notice",
        "Action to be taken by another organisation",
        "Formal action is not in the public interest",
        "Further action is not in the public interest",
        "Further investigation is not in the public interest",
        "Status update unavailable",
    }
)
_GROUP_OF = {
    **dict.fromkeys(_CHARGED, CHARGED),
    **dict.fromkeys(_OTHER, OTHER),
    "Under investigation": UNDER_INVESTIGATION,
    "Investigation complete; no suspect identified": NO_SUSPECT,
}
#: Records of this category are not crimes and have no outcome.
NOT_A_CRIME = "Anti-social behaviour"


def group(outcome: str) -> str:
    """The group (:data:`GROUPS`) of a police.uk outcome name; an unlisted name is :data:`OTHER`."""
    return _GROUP_OF.get(outcome, OTHER)


@dataclass(frozen=True)
class OutcomeShares:
    """Latest outcomes of a selection of crimes, by group."""

    crimes: int  # crimes in the selection (anti-social behaviour left out)
    counts: dict[str, int]  # group -> crimes whose latest outcome is in it
    no_outcome: int  # crimes with no outcome published (not in the shares)
    from_outcomes_files: int  # crimes whose latest outcome comes from an outcomes file
    ambiguous: int  # crimes whose latest outcome month lists two different outcomes
    unknown: dict[str, int]  # outcome names not listed in this module (counted as "other")

    @property
    def with_outcome(self) -> int:
        return sum(self.counts.values())

    @property
    def shares(self) -> dict[str, float | None]:
        """Group -> share of the crimes with an outcome (None when there are none)."""
        n = self.with_outcome
        return {g: (self.counts[g] / n if n else None) for g in GROUPS}


def shares(latest: pd.DataFrame) -> OutcomeShares:
    """:class:`OutcomeShares` of a frame of latest outcomes (columns ``category, outcome,
    outcome_from, ambiguous`` as :meth:`geodata.store.Store.latest_outcomes` gives)."""
    validate.columns("latest", latest, ("category", "outcome", "outcome_from", "ambiguous"), "as latest_outcomes gives")
    crimes = latest[latest["category"] != NOT_A_CRIME]
    known = crimes["outcome"].dropna()
    groups = known.map(group)
    unknown = known[~known.isin(_GROUP_OF.keys())].value_counts()
    return OutcomeShares(
        crimes=len(crimes),
        counts={g: int((groups == g).sum()) for g in GROUPS},
        no_outcome=int(crimes["outcome"].isna().sum()),
        from_outcomes_files=int((crimes["outcome_from"] == "outcomes file").sum()),
        ambiguous=int(crimes["ambiguous"].sum()),
        unknown={str(k): int(v) for k, v in unknown.items()},
    )


def outcome_shares(
    store,
    start: str | None = None,
    end: str | None = None,
    categories: list[str] | None = None,
    wards: list[str] | None = None,
    inside: bool = True,
) -> OutcomeShares:
    """What happened to the police.uk crimes of months ``start``..``end`` ('YYYY-MM', inclusive),
    ``categories`` and ``wards`` (e.g. a priority's measure); ``inside`` (default True, as the store
    counts): only the district's crimes (those assigned to one of its wards: the study area, as a measure
    counts them). See :func:`shares`."""
    return shares(store.latest_outcomes(start=start, end=end, categories=categories, wards=wards, inside=inside))
