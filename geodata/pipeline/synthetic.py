"""Synthetic council exports on the area's geography, for tests and the demo: **never real records**.

No council publishes its point-level fly-tipping or incident records, so this
module makes clearly labelled stand-ins from what is public. Every row says
``SYNTHETIC`` in a marker column and every file name starts with
``SYNTHETIC-``; loaded through the bundled mapping files
(``geodata/bundled/st_albans/council/``), each record has ``synthetic = true`` and every
figure that counts one is marked synthetic in the app and the pack.

Fly-tipping (:func:`flytipping_records`), per month from ``start`` to ``end``:

* how many: DEFRA's total for the district in the financial year holding the
  month, spread over the months by FixMyStreet's fly-tipping seasonality (the
  share of its reports in each calendar month, all years), Poisson-drawn;
* where: an LSOA drawn with probability proportional to its FixMyStreet
  fly-tipping reports (+1, so no LSOA is impossible), then a uniform point in
  it inside the district; the street is the nearest police.uk location name;
  ``repeat_share`` of incidents are near repeats (within 150 m and 14 days of an
  earlier one), as fly-tipping hot spots have;
* what: waste type, size band and land type drawn from DEFRA's breakdown for
  the district in that financial year.

Incident logs (:func:`incident_records`): ASB, noise, welfare, youth and
drug-market intelligence cases placed like police.uk anti-social behaviour in
the area, with mental-health and youth flags and a sensitive marker.

Messy on purpose, as real exports are: shape A (:func:`write_flytipping_a`,
CSV) mixes three date formats and gives eastings/northings with thousands
separators; shape B (:func:`write_flytipping_b`, XLSX) gives Excel date cells
and text dates, OS grid references with and without spaces, upper-case names.
Both hold the same incidents, and planted personal fields (reporter names,
phone numbers in Ofcom's drama range 07700 900xxx, narrative notes) that the
loader must never store.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import shapely

from geodata import sources
from geodata.assign import assign
from geodata.store import Store
from loaders import months as months_mod
from loaders.defra import LAND_MEASURES, SIZE_MEASURES, WASTE_MEASURES

MARKER = "SYNTHETIC - generated test data, not real records"

#: Council A's and council B's own names for the DEFRA categories (their mapping files invert these).
#: Council A's export columns, in order: the mapped ones, and the personal and narrative ones a real
#: export carries that the loader never reads (``mapping-council-a.toml``).
HEADER_A = [
    "Ref",
    "Date Reported",
    "Time",
    "Easting",
    "Northing",
    "Street",
    "Waste Type",
    "Size",
    "Land Type",
    "Status",
    "Reporter Name",
    "Reporter Phone",
    "Notes",
    "Data",
]
WASTE_A = {
    "Animal carcass": "Dead animal",
    "Green": "Garden rubbish",
    "Vehicle parts": "Car parts",
    "White goods": "Fridge/freezer",
    "Other electrical": "Electricals",
    "Tyres": "Tyres",
    "Asbestos": "Asbestos",
    "Clinical": "Clinical waste",
    "Construction / demolition / excavation": "Builders rubble",
    "Black bags - commercial": "Trade waste bags",
    "Black bags - household": "Black bags (household)",
    "Chemical drums, oil, fuel": "Chemicals/oil",
    "Other household waste": "Household furniture",
    "Other commercial waste": "Commercial waste",
    "Other (unidentified)": "Other",
}
WASTE_B = {
    "Animal carcass": "ANIMAL CARCASS",
    "Green": "GARDEN WASTE",
    "Vehicle parts": "VEHICLE PARTS",
    "White goods": "WHITE GOODS",
    "Other electrical": "WEEE",
    "Tyres": "TYRES",
    "Asbestos": "ASBESTOS",
    "Clinical": "CLINICAL",
    "Construction / demolition / excavation": "CONSTRUCTION/DEMOLITION",
    "Black bags - commercial": "COMMERCIAL BAGS",
    "Black bags - household": "HOUSEHOLD BAGS",
    "Chemical drums, oil, fuel": "CHEMICAL/FUEL",
    "Other household waste": "FURNITURE",
    "Other commercial waste": "COMMERCIAL OTHER",
    "Other (unidentified)": "UNIDENTIFIED",
}
SIZE_A = {
    "Single black bag": "1 bag",
    "Single item": "Single item",
    "Car boot or less": "Car boot",
    "Small van load": "Small van",
    "Transit van load": "Transit van",
    "Tipper lorry load": "Tipper lorry",
    "Significant / multiple loads": "Multiple loads",
}
SIZE_B = {
    "Single black bag": "Single Black Bag",
    "Single item": "Single Item",
    "Car boot or less": "Car Boot or Less",
    "Small van load": "Small Van Load",
    "Transit van load": "Transit Van Load",
    "Tipper lorry load": "Tipper Lorry Load",
    "Significant / multiple loads": "Significant/Multi Loads",
}
LAND_A = {
    "Highway": "Road",
    "Footpath / bridleway": "Footpath",
    "Back alleyway": "Alleyway",
    "Railway": "Railway",
    "Council land": "Council land",
    "Agricultural": "Farmland",
    "Private / residential": "Private",
    "Commercial / industrial": "Commercial",
    "Watercourse / bank": "Watercourse",
    "Other (unidentified)": "Other",
}
LAND_B = {k: k.upper() for k in LAND_A}
#: Incident log types (council name -> canonical category in the incidents mapping file).
INCIDENT_TYPES = {
    "ASB - Nuisance": 0.38,
    "Noise": 0.27,
    "Welfare concern": 0.15,
    "Youth ASB": 0.12,
    "Drug dealing intel": 0.08,
}

_FIRST = ("Alex", "Sam", "Jo", "Chris", "Pat", "Robin", "Lee", "Kim")
_LAST = ("Ashdown", "Brightwell", "Cotterill", "Dunmore", "Elsworth", "Fairclough", "Gadsden")
_STATUS = (("Cleared", 0.7), ("Cleared - warning letter", 0.12), ("Under investigation", 0.1), ("Open", 0.08))


@dataclass
class Record:
    """One synthetic incident, before it is written in a council's shape."""

    ref: str
    when: datetime
    x: float | None
    y: float | None
    street: str
    category: str
    size: str | None = None
    land: str | None = None
    status: str = ""
    flags: tuple[str, ...] = ()
    sensitive: bool = False
    person: str = ""
    phone: str = ""
    notes: str = ""


def _months(start: str, end: str) -> list[date]:
    return [months_mod.parse(m) for m in months_mod.months(start, end)]


def _mix(stats, year: str, measures: dict[str, str]) -> tuple[list[str], np.ndarray]:
    """(canonical names, probabilities) of one DEFRA breakdown for the district in ``year``."""
    rows = stats[(stats["year"] == year) & stats["measure"].isin(list(measures)) & stats["value"].notna()]
    names = [measures[m] for m in rows["measure"]]
    weights = rows["value"].to_numpy(dtype="float64")
    if not names or weights.sum() <= 0:
        raise ValueError(f"DEFRA has no breakdown for {year}: load the DEFRA table first")
    return names, weights / weights.sum()


def _points_in(store: Store, lsoa_codes: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A uniform point inside each LSOA (and inside the district's wards), by rejection."""
    lsoas, wards = store.areas("lsoa"), store.areas("ward")
    index = {c: i for i, c in enumerate(lsoas.codes)}
    x, y = np.empty(len(lsoa_codes)), np.empty(len(lsoa_codes))
    for k, code in enumerate(lsoa_codes):
        geom = lsoas.geometries[index[code]]
        x0, y0, x1, y1 = shapely.bounds(geom)
        while True:
            px, py = rng.uniform(x0, x1), rng.uniform(y0, y1)
            if shapely.contains_xy(geom, px, py) and assign(wards, np.array([px]), np.array([py]))[0] is not None:
                x[k], y[k] = round(px), round(py)
                break
    return x, y


def _streets(store: Store):
    """A function (x, y arrays) -> nearest police.uk location name."""
    inc = store.incidents(source="police.uk", inside=False)  # every stored place name
    inc = inc[inc["location_text"].notna() & inc["x"].notna()].drop_duplicates(["x", "y"])
    sx, sy, names = inc["x"].to_numpy(), inc["y"].to_numpy(), inc["location_text"].to_numpy()

    def nearest(x: np.ndarray, y: np.ndarray) -> list[str]:
        return [names[int(np.argmin((sx - a) ** 2 + (sy - b) ** 2))] for a, b in zip(x, y)]

    return nearest


def _person(rng: np.random.Generator) -> tuple[str, str]:
    return (
        f"{_FIRST[rng.integers(len(_FIRST))]} {_LAST[rng.integers(len(_LAST))]}",
        f"07700 900{rng.integers(1000):03d}",
    )


def flytipping_records(
    store: Store, start: str = "2021-01", end: str = "2022-01", seed: int = 2018, repeat_share: float = 0.15
) -> list[Record]:
    """Synthetic fly-tipping incidents for ``start``..``end`` (see the module docstring).

    Needs the area's DEFRA table and FixMyStreet counts in ``store`` (both bundled).
    Deterministic for a given ``seed``.
    """
    if not 0 <= repeat_share < 1:
        raise ValueError(f"repeat_share must be in [0, 1), got {repeat_share}")
    rng = np.random.default_rng(seed)
    code = store.config.area_code
    stats = store.district_stats(dataset="incidents", area_codes=[code] if code else None)
    if stats.empty:
        raise ValueError(f"no DEFRA statistics for area code {code!r} in the store")
    fms = store.counts(
        by=("lsoa_code", "month"), source=sources.FIXMYSTREET.id, categories=["Fly-tipping"], inside=False
    )
    if fms.empty:
        raise ValueError("no FixMyStreet fly-tipping counts in the store (they set where and when)")
    season = fms.groupby(fms["month"].dt.month)["incidents"].sum().reindex(range(1, 13), fill_value=0)
    season = (season + 1) / (season + 1).sum() * 12
    lsoa_codes = np.array(store.areas("lsoa").codes)
    weight = fms.groupby("lsoa_code")["incidents"].sum().reindex(lsoa_codes, fill_value=0).to_numpy() + 1.0
    weight /= weight.sum()
    total = stats[stats["measure"] == "Total Incidents"].set_index("year")["value"]
    street_of = _streets(store)
    records: list[Record] = []
    for month in _months(start, end):
        fy = months_mod.financial_year(month)
        if fy not in total.index or np.isnan(total[fy]):
            raise ValueError(f"DEFRA has no total for {fy}")
        n = int(rng.poisson(total[fy] / 12 * season[month.month]))
        waste, pw = _mix(stats, fy, WASTE_MEASURES)
        sizes, ps = _mix(stats, fy, SIZE_MEASURES)
        lands, pl = _mix(stats, fy, LAND_MEASURES)
        days = (date(month.year + month.month // 12, month.month % 12 + 1, 1) - month).days
        x, y = _points_in(store, rng.choice(lsoa_codes, size=n, p=weight), rng)
        for i in range(n):
            when = datetime(
                month.year, month.month, int(rng.integers(1, days + 1)), int(rng.integers(6, 23)), int(rng.integers(60))
            )
            if records and rng.random() < repeat_share:  # a near repeat of a recent incident
                base = records[int(rng.integers(max(0, len(records) - 40), len(records)))]
                if base.x is not None:
                    angle, dist = rng.uniform(0, 2 * np.pi), rng.uniform(0, 150)
                    x[i], y[i] = round(base.x + dist * np.cos(angle)), round(base.y + dist * np.sin(angle))
                    if assign(store.areas("ward"), x[i : i + 1], y[i : i + 1])[0] is None:
                        x[i], y[i] = base.x, base.y
                    when = min(
                        base.when + timedelta(days=float(rng.uniform(0, 14))),
                        datetime(month.year, month.month, days, 23, 0),
                    )
                    when = max(when, datetime(month.year, month.month, 1, 6, 0))
            person, phone = _person(rng)
            records.append(
                Record(
                    ref=f"FT{month.year % 100:02d}-{len(records) + 1:05d}",
                    when=when.replace(second=0, microsecond=0),
                    x=float(x[i]),
                    y=float(y[i]),
                    street="",
                    category=waste[rng.choice(len(waste), p=pw)],
                    size=sizes[rng.choice(len(sizes), p=ps)],
                    land=lands[rng.choice(len(lands), p=pl)],
                    status=_STATUS[rng.choice(len(_STATUS), p=[p for _, p in _STATUS])][0],
                    person=person,
                    phone=phone,
                    notes=f"Reported by {person} on {phone}; says a white van was seen leaving",
                )
            )
    for r in records:
        if rng.random() < 0.03:  # no location recorded
            r.x = r.y = None
    located = [r for r in records if r.x is not None]
    for r, street in zip(located, street_of(np.array([r.x for r in located]), np.array([r.y for r in located]))):
        r.street = street
    return records


def incident_records(
    store: Store, start: str = "2021-01", end: str = "2022-01", per_month: float = 80, seed: int = 1998
) -> list[Record]:
    """Synthetic council incident-log cases, placed like police.uk anti-social behaviour in the area
    (LSOA drawn by its ASB count + 1, uniform point inside). Deterministic for a given ``seed``."""
    rng = np.random.default_rng(seed)
    asb = store.counts(by=("lsoa_code",), source="police.uk", categories=["Anti-social behaviour"], inside=False)
    lsoa_codes = np.array(store.areas("lsoa").codes)
    weight = asb.set_index("lsoa_code")["incidents"].reindex(lsoa_codes, fill_value=0).to_numpy() + 1.0
    weight /= weight.sum()
    types, pt = list(INCIDENT_TYPES), np.array(list(INCIDENT_TYPES.values()))
    street_of = _streets(store)
    records: list[Record] = []
    for month in _months(start, end):
        n = int(rng.poisson(per_month))
        days = (date(month.year + month.month // 12, month.month % 12 + 1, 1) - month).days
        x, y = _points_in(store, rng.choice(lsoa_codes, size=n, p=weight), rng)
        streets = street_of(x, y)
        for i in range(n):
            kind = types[rng.choice(len(types), p=pt / pt.sum())]
            mental = rng.random() < (0.45 if kind == "Welfare concern" else 0.08)
            youth = kind == "Youth ASB" or rng.random() < 0.05
            person, phone = _person(rng)
            records.append(
                Record(
                    ref=f"CI{len(records) + 1:06d}",
                    when=datetime(
                        month.year,
                        month.month,
                        int(rng.integers(1, days + 1)),
                        int(rng.integers(24)),
                        int(rng.integers(60)),
                    ),
                    x=float(x[i]),
                    y=float(y[i]),
                    street=streets[i],
                    category=kind,
                    status="Closed" if rng.random() < 0.8 else "Open",
                    flags=tuple(f for f, on in (("mental-health", mental), ("youth", youth)) if on),
                    sensitive=mental or kind in ("Welfare concern", "Drug dealing intel"),
                    person=person,
                    phone=phone,
                    notes=f"Subject {person}, contact {phone}. Neighbour dispute ongoing.",
                )
            )
    return records


def _label(labels: dict[str, str], value: str | None) -> str:
    """An export's label for ``value``: "" when the record has none or the export no label for it."""
    return "" if value is None else labels.get(value, "")


def _write_csv(path: str | Path, header: list[str], rows) -> Path:
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_flytipping_a(records: list[Record], path: str | Path, seed: int = 1) -> Path:
    """Council A's shape: CSV, mixed date formats, easting/northing (some with thousands separators)."""
    rng = np.random.default_rng(seed)
    formats = ("%d/%m/%Y", "%Y-%m-%d", "%d %b %Y")

    def row(r: Record) -> list:
        fmt = formats[rng.integers(len(formats))]
        east = "" if r.x is None else (f"{int(r.x):,}" if rng.random() < 0.2 else str(int(r.x)))
        north = "" if r.y is None else str(int(r.y))
        return [
            r.ref,
            r.when.strftime(fmt) + (" " if rng.random() < 0.1 else ""),
            r.when.strftime("%H:%M"),
            east,
            north,
            r.street,
            WASTE_A[r.category],
            _label(SIZE_A, r.size),
            _label(LAND_A, r.land),
            r.status,
            r.person,
            r.phone,
            r.notes,
            MARKER,
        ]

    return _write_csv(path, HEADER_A, map(row, records))


def write_flytipping_b(records: list[Record], path: str | Path, seed: int = 2) -> Path:
    """Council B's shape: XLSX, Excel date-time cells with some text dates, OS grid references."""
    import openpyxl

    rng = np.random.default_rng(seed)
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Flytipping"
    ws.append(
        [
            "Incident No",
            "Reported",
            "Grid Ref",
            "Location",
            "Type of Waste",
            "Quantity",
            "Land",
            "Case Status",
            "Caller",
            "Caller Tel",
            "Description",
            "Record Source",
        ]
    )
    for r in reversed(records):  # newest first, as many systems export
        if r.x is None or r.y is None:
            ref = ""
        else:
            e, n = f"{int(r.x) % 100_000:05d}", f"{int(r.y) % 100_000:05d}"
            ref = f"TL {e} {n}" if rng.random() < 0.7 else f"TL{e}{n}"
        when = r.when if rng.random() < 0.8 else r.when.strftime("%d.%m.%Y %H:%M")
        ws.append(
            [
                r.ref,
                when,
                ref,
                r.street,
                WASTE_B[r.category],
                _label(SIZE_B, r.size),
                _label(LAND_B, r.land),
                r.status,
                r.person,
                r.phone,
                r.notes,
                "Synthetic test data (CSP Hotspots)",
            ]
        )
    path = Path(path)
    book.save(path)
    return path


def write_incidents(records: list[Record], path: str | Path) -> Path:
    """A council incident log (CSV) with flags, a sensitive marker and planted personal fields."""

    def yn(flag: bool) -> str:
        return "Y" if flag else "N"

    def metres(r: Record, value: float | None) -> int:
        if value is None:
            raise ValueError(f"{r.ref}: an incident log gives every case an X and Y; this record has no location")
        return int(value)

    return _write_csv(
        path,
        [
            "Case ID",
            "Opened",
            "Type",
            "X",
            "Y",
            "Road",
            "Mental health concern",
            "Youth involved",
            "Sensitive",
            "Status",
            "Subject name",
            "Contact no",
            "Case notes",
            "Data",
        ],
        (
            [
                r.ref,
                r.when.strftime("%d/%m/%Y %H:%M"),
                r.category,
                metres(r, r.x),
                metres(r, r.y),
                r.street,
                yn("mental-health" in r.flags),
                yn("youth" in r.flags),
                yn(r.sensitive),
                r.status,
                r.person,
                r.phone,
                r.notes,
                MARKER,
            ]
            for r in records
        ),
    )


def generate(store: Store, folder: str | Path, start: str = "2021-01", end: str = "2022-01") -> list[Path]:
    """Write the three synthetic exports into ``folder``: fly-tipping in shapes A (CSV) and B (XLSX),
    and an incident log (CSV). Returns their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tips = flytipping_records(store, start, end)
    return [
        write_flytipping_a(tips, folder / "SYNTHETIC-flytipping-council-a.csv"),
        write_flytipping_b(tips, folder / "SYNTHETIC-flytipping-council-b.xlsx"),
        write_incidents(incident_records(store, start, end), folder / "SYNTHETIC-incidents.csv"),
    ]
