"""police.uk place labels: the generic "On or near <place type>" map points, told apart from street names.

police.uk moves every crime to the nearest of its anonymous map points: the centre of a
street, or a public place or commercial premises named only by its type ("On or near
Supermarket", never the shop's name; police.uk, "About the data: anonymisation"). A place
label is therefore not a street: an officer cannot walk "Supermarket". The patrol planner
lists named streets, and shows each place label beside the nearest named street.

:data:`PLACE_LABELS` is the one list of place labels, maintained by reading every distinct
location of the shipped months: the bundle's 29 St Albans months (2018-10 to 2025-06) and the
13 Hertfordshire months of ``tests/data/county`` (2021-01 to 2022-01), 9,102 names in all
(``tests/analysis/test_patrol.py`` checks each label occurs there, and that no name of those
months with police.uk's "/" between alternatives is taken for a street). A label not in the
list is treated as a street name, so add a label here when a loaded area shows a new one.

:data:`RECORDED_AT` flags labels that mark where a crime was recorded rather than where it was
committed: "Police Station" (a crime reported at the front desk, or found when a person is
brought into custody, is given the station's map point). Counts there say little about the
street around the station.

Names are given as a street sign writes them: police.uk capitalises the letter after an
apostrophe ("St Peter'S Street"); :func:`bare` writes "St Peter's Street".
"""

from __future__ import annotations

import re

#: The generic police.uk place labels ("On or near" removed), from the shipped months.
PLACE_LABELS = frozenset(
    {
        "Airport/Airfield",
        "Bus/Coach Station",
        "Conference/Exhibition Centre",
        "Ferry Terminal",
        "Further/Higher Educational Building",
        "Hospital",
        "Motorway Service Area",
        "Nightclub",
        "Park/Open Space",
        "Parking Area",
        "Pedestrian Subway",
        "Petrol Station",
        "Police Station",
        "Prison",
        "Shopping Area",
        "Sports/Recreation Area",
        "Supermarket",
        "Theatre/Concert Hall",
    }
)

#: Place labels that mark where crimes are recorded rather than committed, with the reason shown.
RECORDED_AT = {
    "Police Station": (
        "may mark where a crime was recorded (reported at the front desk or found in custody), "
        "not where it was committed"
    ),
}

#: The prefix police.uk puts before every location.
PREFIX = "On or near "

#: police.uk's title case capitalises a possessive s ("Peter'S"); a sign writes "Peter's".
_POSSESSIVE = re.compile(r"(?<=[A-Za-z])'S\b")


def bare(location: str | None) -> str:
    """``location`` without police.uk's "On or near " prefix and surrounding spaces, a possessive
    "'S" written "'s" ("St Peter's Street"; "O'Neill" kept); "" for none or NaN.

    >>> bare("On or near  Hatfield Road "), bare("St Peter'S Street"), bare(None)
    ('Hatfield Road', "St Peter's Street", '')
    """
    text = location.strip() if isinstance(location, str) else ""
    text = text[len(PREFIX) :].strip() if text.startswith(PREFIX) else text
    return _POSSESSIVE.sub("'s", text)


def is_street(location: str | None) -> bool:
    """True for a named street: a non-empty location that is not a place label."""
    text = bare(location)
    return bool(text) and text not in PLACE_LABELS


def flag(location: str | None) -> str:
    """The reason a place label is flagged (:data:`RECORDED_AT`), or "" when it is not."""
    return RECORDED_AT.get(bare(location), "")
