"""DEFRA fly-tipping statistics by local authority (ENV24) -> long district statistics.

DEFRA publishes, per financial year (April-March) and local authority, the
incidents reported by land type, waste type and size band with clearance
costs (sheet ``LA_incidents``), and the enforcement actions taken (sheet
``LA_actions``); ``geodata/bundled/st_albans/defra/SOURCE.md`` describes the
CSV copies bundled here. Each row becomes one record per published column
(:data:`COLUMNS`): ``value`` is the number, and ``note`` keeps any published
text that is not a number. ``:`` means "not available" in the source: it
loads as a null value with the note "not available", **never zero**.

Rows for the regional and national totals (``ONS Code`` ``*Total``) keep the
``Region`` text as their area name ("East", "Total England", "Total England
(original)", ...); their area code is ``total:`` and that name.

Row rules (rejected rows are reported with file, line, field and reason):
A row repeating an earlier row's year and area (``ONS Code``; for totals, ``Region``) is
rejected. ``Year`` must be a financial year ``YYYY-YY`` within the plausible range
(:mod:`loaders.plausible`: from 2012-13, the first year of the series, to the last year
that has ended: a year whose March is the current month or later has no figures yet);
``ONS Code`` an ONS area code or ``*Total``; every measure a finite number >= 0 (counts and pounds),
``:`` or (text columns) any text.
"""

from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path

import pyarrow as pa

from loaders import plausible
from loaders.report import LoadError, LoadReport, Rejection, check_width, read_file, reject

SOURCE = "defra"
#: Header of the leading columns; the measure columns follow.
KEYS = ("Year", "ONS Code", "LA Name", "Region")
#: The column that tells the two tables apart -> dataset name.
DATASETS = {"Total Incidents": "incidents", "Total Actions": "actions"}
#: Published columns that hold text, not numbers.
TEXT_COLUMNS = frozenset({"Reporting basis"})
NOT_AVAILABLE = "not available"
#: Published incident columns of each breakdown -> canonical names (loaders.council's vocabularies).
WASTE_MEASURES = {
    "Animal Carcass Incidents": "Animal carcass",
    "Green Incidents": "Green",
    "Vehicle Parts Incidents": "Vehicle parts",
    "White Goods Incidents": "White goods",
    "Other Electrical Incidents": "Other electrical",
    "Tyres Incidents": "Tyres",
    "Asbestos Incidents": "Asbestos",
    "Clinical Incidents": "Clinical",
    "Constr / Demol / Excav Incidents": "Construction / demolition / excavation",
    "Black Bags - Commercial Incidents": "Black bags - commercial",
    "Black Bags - Household Incidents": "Black bags - household",
    "Chemical Drums, Oil, Fuel Incidents": "Chemical drums, oil, fuel",
    "Other Household Waste Incidents": "Other household waste",
    "Other Commercial Waste Incidents": "Other commercial waste",
    "Primary Waste Type Measures Other (unidentified) Incidents": "Other (unidentified)",
}
SIZE_MEASURES = {
    "Single Black Bag Incidents": "Single black bag",
    "Single Item Incidents": "Single item",
    "Car Boot or Less Incidents": "Car boot or less",
    "Small Van Load Incidents": "Small van load",
    "Transit Van Load Incidents": "Transit van load",
    "Tipper Lorry Load Incidents": "Tipper lorry load",
    "Significant / Multi Loads Incidents": "Significant / multiple loads",
}
LAND_MEASURES = {
    "Highway Incidents": "Highway",
    "Footpath / Bridleway Incidents": "Footpath / bridleway",
    "Back Alleyway Incidents": "Back alleyway",
    "Railway Incidents": "Railway",
    "Council Land Incidents": "Council land",
    "Agricultural Incidents": "Agricultural",
    "Private / Residential Incidents": "Private / residential",
    "Commercial / Industrial Incidents": "Commercial / industrial",
    "Watercourse / Bank Incidents": "Watercourse / bank",
    "Other (unidentified) Incidents": "Other (unidentified)",
}
_YEAR = re.compile(r"^(\d{4})-(\d{2})$")
_CODE = re.compile(r"^[EWSN]\d{8}$")

#: The long table's columns (also the store's ``district_stats`` table, with ``load_id``).
COLUMNS = (
    ("source", pa.string()),
    ("dataset", pa.string()),
    ("year", pa.string()),
    ("area_code", pa.string()),
    ("area_name", pa.string()),
    ("region", pa.string()),
    ("measure", pa.string()),
    ("value", pa.float64()),
    ("note", pa.string()),
)


def parse(name: str, data: bytes) -> tuple[pa.Table, LoadReport]:
    """Parse one DEFRA LA table (incidents or actions) into the long form."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LoadError(name, f"not UTF-8 text (byte {exc.start})") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip() for h in next(reader, [])]
    if not header:
        raise LoadError(name, "file is empty")
    check_width(name, header)
    if tuple(header[:4]) != KEYS or len(header) < 5 or header[4] not in DATASETS:
        raise LoadError(
            name,
            f"not a DEFRA fly-tipping LA table: the header must start {', '.join(KEYS)}, then {' or '.join(DATASETS)}",
            line=1,
        )
    if len(set(header)) != len(header):
        raise LoadError(name, "the header repeats a column", line=1)
    dataset, measures = DATASETS[header[4]], header[4:]
    out: dict[str, list] = {n: [] for n, _ in COLUMNS}
    report = LoadReport(SOURCE, files=[name])
    seen: dict[tuple[str, str], int] = {}  # (year, area code) -> line: one row per area and year
    try:
        for row in reader:
            line = reader.line_num
            if not "".join(row).strip():
                continue
            report.rows_read += 1
            problem, values = _row(row, header, measures)
            if problem:
                reject(report.rejected, Rejection(name, line, *problem))
                continue
            year, code, la, region = (v.strip() for v in row[:4])
            area_code, area_name = (
                (code, la) if code != "*Total" else (f"total:{region.lstrip('*')}", region.lstrip("*"))
            )
            if (year, area_code) in seen:
                shown = code if code != "*Total" else f"*Total ({region})"
                reject(
                    report.rejected,
                    Rejection(name, line, "ONS Code", f"{year} {shown} repeats line {seen[year, area_code]}"),
                )
                continue
            seen[year, area_code] = line
            for measure, (value, note) in zip(measures, values):
                for k, v in (
                    ("source", SOURCE),
                    ("dataset", dataset),
                    ("year", year),
                    ("area_code", area_code),
                    ("area_name", area_name),
                    ("region", region.lstrip("*")),
                    ("measure", measure),
                    ("value", value),
                    ("note", note),
                ):
                    out[k].append(v)
            report.rows_loaded += 1
    except csv.Error as exc:
        raise LoadError(name, f"unreadable CSV ({exc})", line=reader.line_num) from None
    return pa.table({n: pa.array(out[n], t) for n, t in COLUMNS}), report


def _row(
    row: list[str], header: list[str], measures: list[str]
) -> tuple[tuple[str, str] | None, list[tuple[float | None, str | None]]]:
    """((field, reason) or None, [(value, note)] per measure)."""
    if len(row) != len(header):
        return ("(row)", f"row has {len(row)} fields, the header has {len(header)}"), []
    year, code = row[0].strip(), row[1].strip()
    m = _YEAR.match(year)
    if not m or (int(m.group(1)) + 1) % 100 != int(m.group(2)):
        return ("Year", f"not a financial year YYYY-YY: {year!r}"), []
    if reason := plausible.month_problem(SOURCE, f"{m.group(1)}-04"):
        return ("Year", f"financial year {year} begins with {reason}"), []
    if reason := plausible.month_problem(SOURCE, f"{int(m.group(1)) + 1:04d}-03"):
        return ("Year", f"financial year {year} has not ended: its last {reason}"), []
    if code != "*Total" and not _CODE.match(code):
        return ("ONS Code", f"not an ONS area code: {code!r}"), []
    values: list[tuple[float | None, str | None]] = []
    for measure, raw in zip(measures, row[4:]):
        raw = raw.strip()
        if raw == ":":
            values.append((None, NOT_AVAILABLE))
        elif measure in TEXT_COLUMNS:
            values.append((None, raw or None))
        elif raw == "":
            values.append((None, "blank in the source"))
        else:
            try:
                value = float(raw) if len(raw) <= 40 else math.nan
            except ValueError:
                value = math.nan
            if not (math.isfinite(value) and value >= 0):
                return (measure, f"not a count or amount >= 0, nor ':' (not available): {raw[:40]!r}"), []
            values.append((value, None))
    return None, values


def read(path: str | Path) -> tuple[pa.Table, LoadReport]:
    """:func:`parse` a file on disk."""
    return parse(*read_file(path))
