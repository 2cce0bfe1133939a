"""data.police.uk street-level crime files -> canonical incidents.

Reads what data.police.uk gives a user, for any force: one
``YYYY-MM-<force>-street.csv``, a folder of months
(``YYYY-MM/YYYY-MM-<force>-street.csv``, searched recursively) or the
downloaded ``.zip`` (read in memory, never extracted).

Row rules (each rejected row is reported with file, line, field and reason):

* ``Month`` must be ``YYYY-MM`` within the plausible range (:mod:`loaders.plausible`:
  2010-12, when data.police.uk begins, to the latest month it can have published, weeks after it
  ended: never the current month); ``Crime type`` one of :data:`CRIME_TYPES`;
  ``Falls within`` (the force) must be present;
* ``Longitude``/``Latitude`` both empty: the row is kept with no location and
  counted in ``LoadReport.no_location``; otherwise both must be numbers inside
  Great Britain (:data:`loaders.coords.GB_LON`, ``GB_LAT``);
* a line with more or fewer fields than the header, or with bytes that are not
  UTF-8, is rejected.

Anti-social behaviour rows carry no ``Crime ID``; they (and any other row
without one) get ``anon-<h>-<n>``: ``h`` the 64-bit SipHash-2-4
(pandas ``util.hash_array``, its SipHash-2-4 of the UTF-8 bytes), in
decimal, of month, force, coordinates, location and crime type
(:data:`_ID_FIELDS`; not the LSOA, which the coordinates fix and the
data.police.uk API does not give, so API and file loads agree), and ``n`` the
occurrence number among identical rows of the file. The id is stable when the
same month is downloaded again.

Reference: data.police.uk/about (file layout and anonymisation).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv as pa_csv

from loaders import archive as archive_mod
from loaders import plausible, schema
from loaders.coords import in_great_britain, wgs84_to_bng
from loaders.report import (
    MAX_REJECTED,
    LoadError,
    LoadReport,
    Rejection,
    check_rejections,
    check_width,
    not_regular,
    reject,
    too_many_rejected,
)

if TYPE_CHECKING:
    import geopandas

SOURCE = "police.uk"

#: The columns every police.uk crime file (street, outcomes) starts with, verbatim, in the published order.
LOCATED = (
    "Crime ID",
    "Month",
    "Reported by",
    "Falls within",
    "Longitude",
    "Latitude",
    "Location",
    "LSOA code",
    "LSOA name",
)
#: The columns of a street-level file, verbatim, in the published order.
HEADER = (*LOCATED, "Crime type", "Last outcome category", "Context")

#: The 14 published crime types (data.police.uk/docs/method/crime-categories).
CRIME_TYPES = frozenset(
    {
        "Anti-social behaviour",
        "Bicycle theft",
        "Burglary",
        "Criminal damage and arson",
        "Drugs",
        "Other crime",
        "Other theft",
        "Possession of weapons",
        "Public order",
        "Robbery",
        "Shoplifting",
        "Theft from the person",
        "Vehicle crime",
        "Violence and sexual offences",
    }
)

#: Zip members larger than this (uncompressed) are refused: no police.uk month is near it (bombs:
#: :mod:`loaders.archive`).
MAX_MEMBER_BYTES = 2 * 1024**3
_MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"
_SURROGATE = re.compile("[\udc80-\udcff]")
_CRIME_TYPES = pa.array(sorted(CRIME_TYPES), pa.string())
_PREFIX = "On or near "
#: The fields hashed into the id of a row without a Crime ID.
_ID_FIELDS = ("Month", "Falls within", "Longitude", "Latitude", "Location", "Crime type")


#: File name endings of the kinds of file a data.police.uk download holds side by side.
STREET, OUTCOMES, STOP_AND_SEARCH = "-street.csv", "-outcomes.csv", "-stop-and-search.csv"


def list_files(
    paths: Iterable[str | Path], suffix: str = STREET, skipped: list[tuple[str, str]] | None = None
) -> list[tuple[str, Callable[[], bytes]]]:
    """List every street-level CSV (or, with ``suffix``, every file of another kind, e.g.
    :data:`OUTCOMES`) under ``paths`` as ``(name, read)`` without reading it.

    A path may be a ``*.csv`` file, a folder (all ``*<suffix>`` below it,
    sorted) or a ``.zip`` (its ``*<suffix>`` members, named
    ``archive.zip!member``). Raises :class:`LoadError` for a missing path, a
    named path that is not a regular file, an empty folder, or an unsafe or
    oversized zip member (zip-slip paths with ``..`` or absolute names are
    refused; nothing is ever extracted to disk). A folder's entries that are not
    regular files (a FIFO would block the read for ever) are not read: they are
    appended to ``skipped`` as (name, reason).
    """
    found: list[tuple[str, Callable[[], bytes]]] = []
    for path in map(Path, paths):
        if path.is_dir():
            files = sorted(path.rglob(f"*{suffix}"))
            if not files:
                raise LoadError(str(path), f"folder holds no *{suffix} file")
            for f in files:
                if reason := not_regular(f):
                    if skipped is not None:
                        skipped.append((str(f), reason))
                else:
                    found.append((str(f), f.read_bytes))
        elif not path.exists():
            raise LoadError(str(path), "no such file or folder")
        elif reason := not_regular(path):
            raise LoadError(str(path), reason)
        elif path.suffix.lower() == ".zip":
            found += _zip_members(path, suffix)
        else:
            found.append((str(path), path.read_bytes))
    return found


#: Why a file of a download folder is not loaded, by its name's ending (others: :data:`_NOT_POLICE`).
SKIPPED = {
    STOP_AND_SEARCH: "stop-and-search file: not loaded (no loader reads stop-and-search files; "
    "`csp-hotspots refresh --stops` fetches stops from the data.police.uk API)"
}
_NOT_POLICE = "not a data.police.uk street, outcomes or stop-and-search file"


def download_files(
    paths: Iterable[str | Path],
) -> tuple[dict[str, list[tuple[str, Callable[[], bytes]]]], list[tuple[str, str]]]:
    """Sort what a data.police.uk download holds: ``({STREET: files, OUTCOMES: files}, skipped)``.

    ``paths`` as for :func:`list_files` (files, folders searched recursively, zips). Street and
    outcomes files are listed as ``(name, read)``; every other file is in ``skipped`` as
    ``(name, reason)``: stop-and-search files (:data:`SKIPPED`) and anything else. A CSV named
    directly that is neither outcomes nor stop-and-search is taken as a street file (its header
    decides). A folder's entries that are not regular files (a FIFO would block the read for ever)
    are skipped with the reason. Raises :class:`LoadError` for a missing path, a named path that is
    not a regular file, a download with neither kind, or an unsafe zip (as :func:`list_files`).
    """
    kinds: dict[str, list[tuple[str, Callable[[], bytes]]]] = {STREET: [], OUTCOMES: []}
    skipped: list[tuple[str, str]] = []
    for path in map(Path, paths):
        if path.is_dir():
            names: list[tuple[str, Path | None]] = []
            for f in sorted(f for f in path.rglob("*") if not f.is_dir()):
                if reason := not_regular(f):
                    skipped.append((str(f), reason))
                else:
                    names.append((str(f), f))
        elif not path.exists():
            raise LoadError(str(path), "no such file or folder")
        elif reason := not_regular(path):
            raise LoadError(str(path), reason)
        elif path.suffix.lower() == ".zip":
            try:
                with zipfile.ZipFile(path) as archive:
                    members = sorted(m.filename for m in archive.infolist() if not m.is_dir())
            except archive_mod.DAMAGED as exc:
                raise LoadError(str(path), f"not a readable zip archive ({exc})") from None
            for suffix in kinds:
                if any(m.endswith(suffix) for m in members):
                    kinds[suffix] += _zip_members(path, suffix)
            names = [(f"{path}!{m}", None) for m in members]
        else:
            kind = OUTCOMES if path.name.endswith(OUTCOMES) else None if path.name.endswith(STOP_AND_SEARCH) else STREET
            if kind:
                kinds[kind].append((str(path), path.read_bytes))
            else:
                skipped.append((str(path), SKIPPED[STOP_AND_SEARCH]))
            continue
        for name, file in names:
            kind = next((k for k in kinds if name.endswith(k)), None)
            if kind is None:
                skipped.append((name, next((r for k, r in SKIPPED.items() if name.endswith(k)), _NOT_POLICE)))
            elif file is not None:
                kinds[kind].append((name, file.read_bytes))
    if not any(kinds.values()):
        raise LoadError(", ".join(map(str, paths)), f"holds no *{STREET} or *{OUTCOMES} file")
    return kinds, skipped


def iter_files(paths: Iterable[str | Path], suffix: str = STREET) -> Iterator[tuple[str, bytes]]:
    """Yield ``(name, bytes)`` of each file of :func:`list_files`, one at a time."""
    for name, read_bytes in list_files(paths, suffix):
        yield name, read_bytes()


def _zip_members(path: Path, suffix: str = STREET) -> list[tuple[str, Callable[[], bytes]]]:
    try:
        with zipfile.ZipFile(path) as archive:
            members = sorted((m for m in archive.infolist() if m.filename.endswith(suffix)), key=lambda m: m.filename)
    except archive_mod.DAMAGED as exc:
        raise LoadError(str(path), f"not a readable zip archive ({exc})") from None
    if not members:
        raise LoadError(str(path), f"zip archive holds no *{suffix} file")
    for m in members:
        parts = m.filename.replace("\\", "/").split("/")
        if m.filename.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]:
            raise LoadError(str(path), f"unsafe path in zip archive: {m.filename!r}")
    for m in members:  # each on its own: a force's years of months may together pass one member's limit
        archive_mod.check_members(str(path), [m], MAX_MEMBER_BYTES)

    def reader(member: zipfile.ZipInfo) -> Callable[[], bytes]:
        def read() -> bytes:
            with zipfile.ZipFile(path) as archive:
                return archive_mod.read_member(str(path), archive, member, MAX_MEMBER_BYTES)

        return read

    return [(f"{path}!{m.filename}", reader(m)) for m in members]


def _split_rows(
    name: str, data: bytes, expected: tuple[str, ...] = HEADER, what: str = "street-level crime"
) -> tuple[pa.Table, list[Rejection]]:
    """Split a CSV into a string table of well-formed rows, and rejections.

    The table has one string column per header field plus ``_line`` (the
    1-based physical line). Files in valid UTF-8 with no quote characters and
    no blank lines (all police.uk downloads seen) are parsed by Arrow's CSV
    reader; others go through the csv module row by row.
    """
    data = data.removeprefix(b"\xef\xbb\xbf")
    if not data or data.isspace():
        raise LoadError(name, "file is empty")
    if b'"' in data or b"\n\n" in data or b"\n\r\n" in data:
        return _split_rows_slow(name, data, expected, what)
    header = data.split(b"\n", 1)[0].rstrip(b"\r").decode("utf-8", errors="surrogateescape").split(",")
    _check_header(name, header, expected, what)
    try:
        table, invalid = _arrow_csv(data, header, threads=True)
    except pa.ArrowInvalid:  # bytes that are not UTF-8: the exact path names the line and field
        return _split_rows_slow(name, data, expected, what)
    if invalid:  # only the single-threaded reader numbers the lines of bad rows
        table, invalid = _arrow_csv(data, header, threads=False)
    n_lines = data.count(b"\n") + (not data.endswith(b"\n"))
    bad_lines = np.array([r.number for r in invalid], dtype="int64")
    lines = np.setdiff1d(np.arange(2, n_lines + 1), bad_lines)
    if len(lines) != table.num_rows:  # cannot tell lines apart: take the exact path
        return _split_rows_slow(name, data, expected, what)
    rejected = [
        Rejection(
            name, int(r.number), "(row)", f"row has {r.actual_columns} fields, the header has {r.expected_columns}"
        )
        for r in invalid
    ]
    return table.append_column("_line", pa.array(lines)), rejected


def _arrow_csv(data: bytes, header: list[str], threads: bool) -> tuple[pa.Table, list]:
    invalid: list[pa_csv.InvalidRow] = []

    def skip(row: pa_csv.InvalidRow) -> str:
        invalid.append(row)
        return "skip"

    table = pa_csv.read_csv(
        io.BytesIO(data),
        read_options=pa_csv.ReadOptions(use_threads=threads, column_names=header, skip_rows=1),
        parse_options=pa_csv.ParseOptions(quote_char=False, invalid_row_handler=skip),
        convert_options=pa_csv.ConvertOptions(
            column_types=dict.fromkeys(header, pa.string()), strings_can_be_null=False, quoted_strings_can_be_null=False
        ),
    )
    return table, invalid


def _split_rows_slow(
    name: str, data: bytes, expected: tuple[str, ...] = HEADER, what: str = "street-level crime"
) -> tuple[pa.Table, list[Rejection]]:
    text = data.decode("utf-8", errors="surrogateescape")
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[list[str]] = []
    lines: list[int] = []
    rejected: list[Rejection] = []
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise LoadError(name, f"cannot read the header ({exc})", line=1) from None
    _check_header(name, header, expected, what)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            reject(
                rejected,
                Rejection(name, reader.line_num, "(row)", f"malformed CSV ({exc}); the rest of the file is not read"),
            )
            break
        if not "".join(row).strip():
            continue
        if len(row) != len(header):
            reject(
                rejected,
                Rejection(name, reader.line_num, "(row)", f"row has {len(row)} fields, the header has {len(header)}"),
            )
            continue
        broken = [h for h, v in zip(header, row) if _SURROGATE.search(v)]
        if broken:
            reject(rejected, Rejection(name, reader.line_num, broken[0], "bytes that are not UTF-8"))
            continue
        rows.append(row)
        lines.append(reader.line_num)
    columns = {h: pa.array([r[i] for r in rows], pa.string()) for i, h in enumerate(header)}
    columns["_line"] = pa.array(lines, pa.int64())
    return pa.table(columns), rejected


def _check_header(
    name: str, header: list[str], expected: tuple[str, ...] = HEADER, what: str = "street-level crime"
) -> None:
    check_width(name, header)
    missing = [h for h in expected if h not in header]
    if missing:
        shown = ",".join(header[:6])[:120]
        raise LoadError(
            name,
            f"not a data.police.uk {what} file: header lacks {', '.join(missing)} (header starts: {shown!r})",
            line=1,
        )
    if len(set(header)) != len(header):
        raise LoadError(name, "header names a column twice", line=1)
    if _SURROGATE.search("".join(header)):
        raise LoadError(name, "header is not UTF-8", line=1)


def parse(name: str, data: bytes) -> tuple[pa.Table, LoadReport]:
    """Parse one street-level CSV into canonical rows (no ward/LSOA yet) and its report."""
    raw, rejected = _split_rows(name, data)
    report = LoadReport(SOURCE, files=[name], rows_read=raw.num_rows + len(rejected))
    no_loc, lon, lat, place_checks = location_checks(raw)
    checks = [  # (mask of bad rows, field, reason for one row)
        *month_checks(raw),
        (
            ~_np(pc.is_in(raw["Crime type"], value_set=_CRIME_TYPES)),
            "Crime type",
            lambda r: f"unknown crime type {r['Crime type']!r}",
        ),
        *place_checks,
    ]
    check_rejections(name, rejected)
    bad, found = np.zeros(raw.num_rows, dtype=bool), []
    for mask, field, reason in checks:
        new = mask & ~bad
        if new.any():
            found.append((new, field, reason))
            bad |= new
    if len(rejected) + int(bad.sum()) > MAX_REJECTED:  # refused before a million rows become Python objects
        i = int(np.argmax(bad))
        row = raw.slice(i, 1).to_pylist()[0]
        _, field, reason = next(f for f in found if f[0][i])
        earliest = min([Rejection(name, row["_line"], field, reason(row))] + rejected, key=lambda r: r.line)
        raise too_many_rejected(name, len(rejected) + int(bad.sum()), earliest)
    for new, field, reason in found:
        for r in raw.filter(pa.array(new)).to_pylist():
            rejected.append(Rejection(name, r["_line"], field, reason(r)))
    report.rejected = sorted(rejected, key=lambda r: r.line)
    keep = ~bad
    if bad.any():
        raw, lon, lat, no_loc = raw.filter(pa.array(keep)), lon[keep], lat[keep], no_loc[keep]
    report.rows_loaded = raw.num_rows
    report.no_location = int(no_loc.sum())
    return _canonical(raw, lon, lat), report


def month_checks(raw: pa.Table) -> list:
    """The checks every police.uk file (street, outcomes) makes of its ``Month``, as (mask, field,
    reason) checks: not ``YYYY-MM``, or outside the plausible months of police.uk (:mod:`loaders.plausible`:
    before 2010-12, or a month data.police.uk cannot have published yet)."""
    first, last = plausible.bounds(SOURCE)
    well_formed = _np(pc.match_substring_regex(raw["Month"], _MONTH))
    return [
        (~well_formed, "Month", lambda r: f"unparseable month {r['Month']!r} (expected YYYY-MM)"),
        (
            well_formed & _np(pc.or_(pc.less(raw["Month"], first), pc.greater(raw["Month"], last))),
            "Month",
            # month_problem reads the clock again: the fallback covers a day boundary passed since `last`
            lambda r: plausible.month_problem(SOURCE, r["Month"]) or f"month {r['Month']} is outside {first} to {last}",
        ),
    ]


def location_checks(raw: pa.Table) -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
    """The checks every police.uk file (street, outcomes) makes of its force and coordinates:
    (rows with no location, longitudes, latitudes (NaN where absent), and the (mask, field, reason)
    checks: an empty 'Falls within', unparseable coordinates, coordinates outside Great Britain)."""
    lon_s, lat_s = pc.utf8_trim_whitespace(raw["Longitude"]), pc.utf8_trim_whitespace(raw["Latitude"])
    no_loc = _np(pc.and_(pc.equal(lon_s, ""), pc.equal(lat_s, "")))
    lon, lat = _to_float(lon_s), _to_float(lat_s)
    unparseable = ~no_loc & (np.isnan(lon) | np.isnan(lat))
    checks = [
        (
            _np(pc.equal(pc.utf8_trim_whitespace(raw["Falls within"]), "")),
            "Falls within",
            lambda r: "no force ('Falls within' is empty)",
        ),
        (
            unparseable,
            "Longitude/Latitude",
            lambda r: f"unparseable coordinates ({r['Longitude']!r}, {r['Latitude']!r})",
        ),
        (
            ~no_loc & ~unparseable & ~in_great_britain(lon, lat),
            "Longitude/Latitude",
            lambda r: f"coordinates outside Great Britain ({r['Longitude']}, {r['Latitude']})",
        ),
    ]
    return no_loc, lon, lat, checks


def _np(mask: pa.ChunkedArray) -> np.ndarray:
    return mask.to_numpy(zero_copy_only=False).astype(bool)


def _to_float(strings: pa.ChunkedArray) -> np.ndarray:
    """Parse decimal strings; anything unparseable (or empty) becomes NaN."""
    blank = pc.equal(strings, "")
    try:  # the usual case: every non-empty value is a number
        values = pc.cast(pc.if_else(blank, pa.scalar(None, pa.string()), strings), pa.float64())
    except pa.ArrowInvalid:
        ok = pc.match_substring_regex(strings, r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
        values = pc.cast(pc.if_else(ok, strings, pa.scalar(None, pa.string())), pa.float64())
    return values.to_numpy(zero_copy_only=False).astype("float64")


def _canonical(raw: pa.Table, lon: np.ndarray, lat: np.ndarray) -> pa.Table:
    x, y = wgs84_to_bng(lon, lat)
    location = pc.utf8_trim_whitespace(raw["Location"])
    no_place = pc.or_(pc.equal(location, ""), pc.equal(pc.utf8_lower(location), "no location"))
    location = pc.if_else(
        no_place, pa.scalar(None, pa.string()), pc.replace_substring_regex(location, "^" + _PREFIX, "")
    )
    months = pc.dictionary_encode(raw["Month"]).combine_chunks()  # a file holds one or a few months
    month = pc.take(
        pc.strptime(pc.binary_join_element_wise(months.dictionary, "01", "-"), "%Y-%m-%d", "s"), months.indices
    )
    return schema.conform(
        {
            "source": pa.array(np.full(raw.num_rows, SOURCE, dtype=object), pa.string()),
            "dataset": _slug(raw["Falls within"]),
            "record_id": _record_ids(raw),
            "month": pc.cast(month, pa.date32()),
            "category": raw["Crime type"],
            "location_text": location,
            "outcome": _blank_to_null(raw["Last outcome category"]),
            "x": x,
            "y": y,
            "longitude": lon,
            "latitude": lat,
            "reported_by": _blank_to_null(raw["Reported by"]),
            "falls_within": raw["Falls within"],
            "source_lsoa_code": _blank_to_null(raw["LSOA code"]),
            "source_lsoa_name": _blank_to_null(raw["LSOA name"]),
            "context": _blank_to_null(raw["Context"]),
        },
        raw.num_rows,
    )


def _blank_to_null(strings: pa.ChunkedArray) -> pa.ChunkedArray:
    return pc.if_else(pc.equal(pc.utf8_trim_whitespace(strings), ""), pa.scalar(None, pa.string()), strings)


def _slug(force: pa.ChunkedArray) -> pa.Array:
    """'Hertfordshire Constabulary' -> 'hertfordshire' (the slug of the download's file names)."""
    encoded = pc.dictionary_encode(force).combine_chunks()
    slugs = [
        re.sub(r"[^a-z0-9]+", "-", re.sub(r"\b(constabulary|police( service)?)\b", "", f.lower())).strip("-")
        for f in encoded.dictionary.to_pylist()
    ]
    return pc.take(pa.array(slugs, pa.string()), encoded.indices)


def _record_ids(raw: pa.Table) -> pa.ChunkedArray:
    ids = pc.utf8_trim_whitespace(raw["Crime ID"])
    anon = _np(pc.equal(ids, ""))
    if not anon.any():
        return ids
    subset = raw.filter(pa.array(anon))
    import pandas as pd

    keys = pc.binary_join_element_wise(*(subset[c] for c in _ID_FIELDS), "\x1f").to_numpy(zero_copy_only=False)
    digest = pd.util.hash_array(keys.astype(object), categorize=False)
    made = pc.binary_join_element_wise(
        "anon", pc.cast(pa.array(digest), pa.string()), pc.cast(pa.array(_occurrence(digest)), pa.string()), "-"
    )
    return pc.replace_with_mask(ids, pa.array(anon), made)


def _occurrence(values: np.ndarray) -> np.ndarray:
    """For each value, how many equal values come before it (0 for the first)."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    first = np.r_[True, ordered[1:] != ordered[:-1]]
    group_start = np.maximum.accumulate(np.where(first, np.arange(len(values)), 0))
    result = np.empty(len(values), dtype=np.int64)
    result[order] = np.arange(len(values)) - group_start
    return result


def read(paths: Iterable[str | Path] | str | Path) -> tuple[geopandas.GeoDataFrame, LoadReport]:
    """Load street-level files into a canonical GeoDataFrame (EPSG:27700) and a report.

    ``paths``: a file, folder or zip, or a list of them (see :func:`iter_files`).
    Ward and LSOA codes are left null; ``geodata.assign`` fills them for an area.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    tables, report = [schema.empty_table()], LoadReport(SOURCE)
    for name, data in iter_files(paths):
        table, file_report = parse(name, data)
        tables.append(table)
        report.add(file_report)
    return schema.to_geodataframe(pa.concat_tables(tables)), report
