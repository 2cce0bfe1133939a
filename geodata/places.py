"""police.uk place labels: the generic "On or near <place type>" map points, told apart from street names.

police.uk moves every crime to the nearest of its anonymous map points: the centre of a
street, or a public place or commercial premises named only by its type ("On or near
Supermarket", never the shop's name; police.uk, "About the data: anonymisation"). A place
label is therefore not a street: an officer cannot walk "Supermarket". The patrol planner
lists named streets, and shows each place label beside the nearest named street.

:data:`PLACE_LABELS` is the one list of place labels. It holds every generic label found in
the bundled St Albans data (13 months, 2021-01 to 2022-01, 1,235 distinct ``Location``
texts; ``tests/test_places.py`` checks each one occurs there): a label not in the list is
treated as a street name. police.uk uses more place types than St Albans shows (its 2011
announcement names airports, bus stations, ferry terminals, motorway services); add a label
here when a loaded area shows it.

:data:`RECORDED_AT` flags labels that mark where a crime was recorded rather than where it was
committed: "Police Station" (a crime reported at the front desk, or found when a person is
brought into custody, is given the station's map point). Counts there say little about the
street around the station.
"""

from __future__ import annotations

#: The generic police.uk place labels ("On or near" removed), from the bundled data.
PLACE_LABELS = frozenset(
    {
        "Conference/Exhibition Centre",
        "Further/Higher Educational Building",
        "Hospital",
        "Nightclub",
        "Park/Open Space",
        "Parking Area",
        "Pedestrian Subway",
        "Petrol Station",
        "Police Station",
        "Shopping Area",
        "Sports/Recreation Area",
        "Supermarket",
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


def bare(location: str | None) -> str:
    """``location`` without police.uk's "On or near " prefix and surrounding spaces ("" for none or NaN).

    >>> bare("On or near  Hatfield Road "), bare(None)
    ('Hatfield Road', '')
    """
    text = location.strip() if isinstance(location, str) else ""
    return text[len(PREFIX) :].strip() if text.startswith(PREFIX) else text


def is_street(location: str | None) -> bool:
    """True for a named street: a non-empty location that is not a place label."""
    text = bare(location)
    return bool(text) and text not in PLACE_LABELS


def flag(location: str | None) -> str:
    """The reason a place label is flagged (:data:`RECORDED_AT`), or "" when it is not."""
    return RECORDED_AT.get(bare(location), "")
