"""A partnership's actions (its action plan) in canonical form, and the action plan CSV a CSP keeps
in a spreadsheet, read and written.

One action: what is done (``what``), by whom (``owner``, a partner organisation), for which
priority (``priority``, an id of the priorities file), from ``start`` to its next ``review``
(dates), its ``status`` (:data:`STATUSES`), the latest dated ``note``, where (``where``:
:data:`WHERE`; ``wards`` for wards, ``area`` for a patrol zone or a drawn area), the crime types it
targets (``categories``, none = all), an optional ``funding`` source and ``spend`` (pounds), and
whether it may be shown to the public (``public``, default no).

The CSV (:data:`CSV_COLUMNS`, one action a row, UTF-8 with or without Excel's byte order mark):

* ``id`` blank for a new action; dates ``YYYY-MM-DD`` or ``DD/MM/YYYY``; lists (``wards``,
  ``categories``) separated by ``;``; ``spend`` a number of pounds (``£`` and thousands commas
  allowed); ``public`` yes/no (blank: no);
* ``area``: a polygon as WKT or GeoJSON, in British National Grid metres (EPSG:27700) or in
  longitude/latitude degrees (WGS84, what web maps draw), told apart by their range (every
  coordinate within ±180/±90 is degrees: a British National Grid point there would lie off the
  Isles of Scilly, outside Great Britain's grid); stored as EPSG:27700 WKT to 0.1 m.

Every row is loaded or rejected with its file, line, field and reason (:mod:`loaders.report`); a
file whose header lacks a required column, or has a column this form does not know (it would be
lost), is refused whole, naming the columns.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from loaders.report import FORMULA_STARTS, LoadError, LoadReport, Rejection, check_width, read_file, reject

#: Statuses an action can have, in the order a meeting reads them.
STATUSES = ("not started", "on track", "at risk", "done", "stopped")
#: Statuses of an open action (listed on the priority's meeting slide).
OPEN = ("not started", "on track", "at risk")
#: Where an action is placed: the whole district, chosen wards, a patrol zone, or a drawn area.
WHERE = ("district", "wards", "zone", "area")
#: The action plan CSV's columns, in order; the required ones first.
REQUIRED = ("priority", "what", "owner", "start", "review", "status")
CSV_COLUMNS = (
    "id",
    *REQUIRED,
    "where",
    "wards",
    "area",
    "categories",
    "funding",
    "spend",
    "public",
    "note",
    "note_date",
)
#: Longest free text (what, owner, funding, note) kept, in characters.
MAX_TEXT = 2_000
#: Source name a load of an action plan is recorded under.
KIND = "actions"

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
_YES, _NO = ("yes", "y", "true", "1"), ("no", "n", "false", "0", "")


@dataclass(frozen=True)
class Action:
    """One action in canonical form (module docstring). ``area``: EPSG:27700 WKT, for ``where``
    ``zone`` or ``area`` only; ``wards``: for ``where`` ``wards`` only."""

    id: str
    priority: str
    what: str
    owner: str
    start: date
    review: date
    status: str
    where: str = "district"
    wards: tuple[str, ...] = ()
    area: str | None = None
    categories: tuple[str, ...] = ()
    funding: str | None = None
    spend: float | None = None
    public: bool = False
    note: str = ""
    note_date: date | None = None

    @property
    def open(self) -> bool:
        return self.status in OPEN

    def to_json(self) -> dict:
        """The action as JSON values (dates ISO, lists as lists)."""
        out = dataclasses.asdict(self)
        for k in ("start", "review", "note_date"):
            out[k] = out[k].isoformat() if out[k] is not None else None
        out["wards"], out["categories"] = list(self.wards), list(self.categories)
        return out

    @classmethod
    def from_json(cls, values: dict) -> Action:
        v = dict(values)
        for k in ("start", "review", "note_date"):
            v[k] = date.fromisoformat(v[k]) if v.get(k) else None
        v["wards"], v["categories"] = tuple(v.get("wards") or ()), tuple(v.get("categories") or ())
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: x for k, x in v.items() if k in names})

    def to_row(self) -> dict[str, str]:
        """The action as a CSV row (:data:`CSV_COLUMNS`), as :func:`parse` reads it back."""
        return {
            "id": self.id,
            "priority": self.priority,
            "what": self.what,
            "owner": self.owner,
            "start": self.start.isoformat(),
            "review": self.review.isoformat(),
            "status": self.status,
            "where": self.where,
            "wards": ";".join(self.wards),
            "area": self.area or "",
            "categories": ";".join(self.categories),
            "funding": self.funding or "",
            "spend": "" if self.spend is None else f"{self.spend:.2f}",
            "public": "yes" if self.public else "no",
            "note": self.note,
            "note_date": self.note_date.isoformat() if self.note_date else "",
        }


@dataclass(frozen=True)
class Known:
    """What an action may name: the priorities file's ids, the area's ward codes and the crime types."""

    priorities: frozenset[str]
    wards: frozenset[str]
    categories: frozenset[str]


class FieldError(ValueError):
    """A value an action cannot have: ``field`` and ``reason``."""

    def __init__(self, field_name: str, reason: str):
        self.field, self.reason = field_name, reason
        super().__init__(f"{field_name}: {reason}")


def parse_date(text: str, name: str) -> date:
    """A date from ``YYYY-MM-DD`` or ``DD/MM/YYYY``; :class:`FieldError` otherwise."""
    text = text.strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise FieldError(name, f"{text[:40]!r} is not a date (YYYY-MM-DD or DD/MM/YYYY)")


def _text(row: dict[str, str], name: str, required: bool = True) -> str:
    value = (row.get(name) or "").strip()
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        value = value[1:]  # the export's guard against spreadsheet formulas (geodata.export.csv_safe)
    if required and not value:
        raise FieldError(name, "is empty")
    if len(value) > MAX_TEXT:
        raise FieldError(name, f"is longer than {MAX_TEXT:,} characters")
    return value


def _list(row: dict[str, str], name: str, allowed: frozenset[str], what: str) -> tuple[str, ...]:
    items = tuple(dict.fromkeys(x.strip() for x in (row.get(name) or "").split(";") if x.strip()))
    unknown = [x for x in items if x not in allowed]
    if unknown:
        raise FieldError(name, f"{unknown[0][:60]!r} is not {what}")
    return items


def parse_area(text: str) -> str:
    """A polygon (WKT or GeoJSON, EPSG:27700 metres or WGS84 degrees: module docstring) as
    EPSG:27700 WKT to 0.1 m; :class:`FieldError` (field ``area``) when it is not one."""
    import numpy as np
    import shapely

    from loaders.coords import in_great_britain, wgs84_to_bng

    text = text.strip()
    try:
        if text.startswith("{"):
            obj = json.loads(text)
            geom = shapely.from_geojson(json.dumps(obj.get("geometry", obj) if obj.get("type") == "Feature" else obj))
        else:
            geom = shapely.from_wkt(text)
    except (ValueError, shapely.errors.GEOSException, AttributeError):
        raise FieldError("area", "is neither WKT nor GeoJSON") from None
    if geom is None or geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise FieldError("area", "is not a polygon")
    xy = shapely.get_coordinates(geom)
    if (np.abs(xy[:, 0]) <= 180).all() and (np.abs(xy[:, 1]) <= 90).all():
        if not in_great_britain(xy[:, 0], xy[:, 1]).all():
            raise FieldError("area", "has longitude/latitude points outside Great Britain")
        geom = shapely.transform(geom, lambda pts: np.column_stack(wgs84_to_bng(pts[:, 0], pts[:, 1])))
    if not geom.is_valid or geom.area <= 0:
        raise FieldError("area", "is not a valid polygon (it crosses itself or has no area)")
    return shapely.to_wkt(geom, rounding_precision=1)


def parse(row: dict[str, str], known: Known, new_id: str = "") -> Action:
    """The :class:`Action` of one row of text values (CSV columns); :class:`FieldError` naming the
    first field that cannot be read. A blank ``id`` becomes ``new_id``."""
    ident = _text(row, "id", required=False) or new_id
    if ident and not _ID.match(ident):
        raise FieldError("id", f"{ident[:40]!r} is not an id (letters, digits, '.', '_', '-'; at most 40)")
    priority = _text(row, "priority")
    if priority not in known.priorities:
        raise FieldError("priority", f"{priority[:40]!r} is not a priority of the priorities file")
    what, owner = _text(row, "what"), _text(row, "owner")
    start, review = parse_date(_text(row, "start"), "start"), parse_date(_text(row, "review"), "review")
    if review < start:
        raise FieldError("review", f"{review} is before the start {start}")
    status = _text(row, "status").lower()
    if status not in STATUSES:
        raise FieldError("status", f"{status[:40]!r} is not one of {', '.join(STATUSES)}")
    wards = _list(row, "wards", known.wards, "a ward code of the area")
    categories = _list(row, "categories", known.categories, "a crime type")
    area_text = _text(row, "area", required=False)
    area = parse_area(area_text) if area_text else None
    where = _text(row, "where", required=False).lower() or ("wards" if wards else "area" if area else "district")
    if where not in WHERE:
        raise FieldError("where", f"{where[:40]!r} is not one of {', '.join(WHERE)}")
    if (where == "wards") != bool(wards):
        raise FieldError("wards", "names the wards when, and only when, where is 'wards'")
    if (where in ("zone", "area")) != bool(area):
        raise FieldError("area", "holds the outline when, and only when, where is 'zone' or 'area'")
    spend_text = _text(row, "spend", required=False).replace("£", "").replace(",", "")
    try:
        spend = float(spend_text) if spend_text else None
    except ValueError:
        raise FieldError("spend", f"{spend_text[:40]!r} is not an amount of pounds") from None
    if spend is not None and not (0 <= spend < 1e9):
        raise FieldError("spend", f"{spend_text[:40]!r} is not an amount of pounds (0 or more)")
    public = _text(row, "public", required=False).lower()
    if public not in _YES + _NO:
        raise FieldError("public", f"{public[:40]!r} is not yes or no")
    note_date_text = _text(row, "note_date", required=False)
    return Action(
        id=ident,
        priority=priority,
        what=what,
        owner=owner,
        start=start,
        review=review,
        status=status,
        where=where,
        wards=wards,
        area=area,
        categories=categories,
        funding=_text(row, "funding", required=False) or None,
        spend=spend,
        public=public in _YES,
        note=_text(row, "note", required=False),
        note_date=parse_date(note_date_text, "note_date") if note_date_text else None,
    )


@dataclass
class ActionPlan:
    """A read action plan: its actions (in file order) and the load report (every row loaded or rejected)."""

    actions: list[Action] = field(default_factory=list)
    report: LoadReport = field(default_factory=lambda: LoadReport(KIND))


def read(path: str | Path, known: Known) -> ActionPlan:
    """Read an action plan CSV (module docstring). A row that cannot be read is rejected with its
    line and first bad field, and the others load; a repeated ``id`` is rejected at its second row.
    :class:`~loaders.report.LoadError` for a file that cannot be read at all."""
    name, data = read_file(path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise LoadError(name, "not UTF-8 text (save the spreadsheet as 'CSV UTF-8')") from None
    rows = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in next(rows, [])]
    check_width(name, header)
    if not any(header):
        raise LoadError(name, "empty file: no header", line=1)
    missing = [c for c in REQUIRED if c not in header]
    unknown = [h for h in header if h not in CSV_COLUMNS]
    if missing or unknown or len(set(header)) < len(header):
        said = [f"missing column(s) {', '.join(missing)}"] * bool(missing) + [
            f"unknown column(s) {', '.join(repr(u[:40]) for u in unknown)} (they would be lost)"
        ] * bool(unknown)
        raise LoadError(name, "; ".join(said) or "a column is named twice", line=1)
    plan = ActionPlan()
    report = plan.report
    report.files.append(name)
    seen: set[str] = set()
    for values in rows:
        line = rows.line_num
        if not any(v.strip() for v in values):
            continue  # a blank spreadsheet row
        report.rows_read += 1
        if len(values) != len(header):
            reject(report.rejected, Rejection(name, line, "(row)", f"{len(values)} values for {len(header)} columns"))
            continue
        try:
            action = parse(dict(zip(header, values)), known)
            if action.id and action.id in seen:
                raise FieldError("id", f"{action.id!r} is on an earlier row too")
        except FieldError as exc:
            reject(report.rejected, Rejection(name, line, exc.field, exc.reason))
            continue
        seen.add(action.id)
        plan.actions.append(action)
        report.rows_loaded += 1
    return plan
