"""Council exports (fly-tipping records, incident logs) -> canonical incidents, through a mapping file.

Councils keep their own spreadsheets: their own column names, waste-type names,
date formats and ways of giving a location. A mapping file (TOML, one per
export shape) says which column is which canonical field and how the council's
names map onto canonical ones; the same incidents exported in two shapes load
into identical canonical records. Example (``geodata/bundled/st_albans/council/`` has two
complete ones)::

    kind = "flytipping"              # or "incidents" (ASB, noise, welfare, youth, drug-market logs)
    dataset = "st-albans-flytipping" # the export's name; loading it again replaces the months it holds
    encoding = "utf-8"               # CSV only (default utf-8; a BOM is ignored); e.g. "cp1252"
    sheet = "Incidents"              # XLSX only (default: the first sheet)
    synthetic_marker = "SYNTHETIC"   # optional, with columns.synthetic: rows whose value contains it

    [columns]                        # canonical field = the export's column header
    record_id = "Ref"                # required: the council's reference (unique in the file)
    date = "Date reported"           # required: day of the incident
    category = "Waste type"          # required: mapped through [categories]
    easting = "Easting"              # location: easting + northing (British National Grid metres),
    northing = "Northing"            #   or grid_ref (OS grid reference), or longitude + latitude (WGS84);
                                     #   all blank: loaded without location (counted, never dropped)
    size = "Size"                    # fly-tipping: mapped through [sizes] onto DEFRA size bands
    land_type = "Land type"          # fly-tipping: mapped through [land_types]
    outcome = ["Status", "Action"]   # one column or several, joined with "; "
    location_text = "Street"
    sensitive = "Sensitive"          # incidents: Y/N; sensitive records are only shown aggregated
    synthetic = "Data"               # see synthetic_marker

    [dates]
    formats = ["%d/%m/%Y", "%Y-%m-%d"]   # tried in order (Python strptime); XLSX date cells need none

    [categories]                     # the council's name = canonical category (case and spacing ignored)
    "Builders rubble" = "Construction / demolition / excavation"

    [sizes]                          # fly-tipping: council name = one of SIZE_BANDS
    "Small van" = "Small van load"

    [land_types]                     # fly-tipping: council name = one of LAND_TYPES
    "Road" = "Highway"

    [flags]                          # incidents: Y/N column = flag name
    "MH concern" = "mental-health"

**Personal data never reaches the store**: only the columns the mapping names
are read; names, phone numbers and narrative columns of the export are never
read, so they cannot be stored (``tests/loaders/test_council.py`` greps the store file for
planted ones).

Row rules (each rejected row is reported with file, line (the line the row starts on), field and
reason; the export is read as a stream, :data:`CHUNK_ROWS` rows at a time, never whole):
reference blank or repeated; date blank, unparseable, in the future or before
2000-01 (the plausible range of council records, :mod:`loaders.plausible`);
coordinates that are not numbers, a malformed grid reference, or a point outside
Great Britain; a Y/N field with another value. An unknown category is **not**
rejected: it loads as :data:`UNMAPPED` with the council's name in
``subcategory`` and is listed in ``LoadReport.unmapped`` for the user to map;
unknown sizes and land types load as null and are listed the same way.
Points outside the configured area are reported by the ingest
(:func:`geodata.pipeline.ingest.ingest_council`), which knows the area.

Clearance cost (``cost_gbp``) is DEFRA's standard estimated unit cost of the
size band (:data:`SIZE_BANDS`; DEFRA, "Fly-tipping statistics for England",
notes to the LA tables: up to 2016-17 costs were estimated at these unit costs).
DEFRA costs tipper lorry and significant/multiple loads at actual cost, so
those records have no estimate (null), never a guess.
"""

from __future__ import annotations

import bisect
import csv
import io
import itertools
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa

from loaders import archive, plausible, schema
from loaders.coords import bng_to_wgs84_many, in_great_britain, wgs84_to_bng
from loaders.defra import LAND_MEASURES, SIZE_MEASURES, WASTE_MEASURES
from loaders.errors import InputError
from loaders.report import LoadError, LoadReport, Rejection, check_width, open_file, reject
from loaders.tomlfile import TomlFile

#: Mapping ``kind`` -> the store's ``source``.
SOURCES = {"flytipping": "council-flytipping", "incidents": "council-incidents"}

#: Category of a record whose council category the mapping does not name.
UNMAPPED = "Other (unmapped)"

#: DEFRA Flycapture primary waste types (the canonical fly-tipping categories).
WASTE_TYPES = tuple(WASTE_MEASURES.values())

#: DEFRA Flycapture size bands and DEFRA's standard estimated clearance cost per incident (pounds);
#: None where DEFRA uses the actual cost.
SIZE_BANDS: dict[str, float | None] = dict(zip(SIZE_MEASURES.values(), (7.0, 29.0, 29.0, 56.0, 115.0, None, None)))

#: DEFRA Flycapture land types.
LAND_TYPES = tuple(LAND_MEASURES.values())

_TRUE = {"y", "yes", "true", "1", "x"}
_FALSE = {"n", "no", "false", "0", ""}
_GRID_REF = re.compile(r"^([A-HJ-Z]{2})\s*(\d+)\s*(\d*)$")
#: Great Britain's national grid extent (metres): a point outside it is not in Great Britain.
_GRID_EXTENT = (0.0, 700_000.0, 0.0, 1_300_000.0)
_KEYS = {
    "kind",
    "dataset",
    "encoding",
    "sheet",
    "synthetic_marker",
    "columns",
    "dates",
    "categories",
    "sizes",
    "land_types",
    "flags",
}
_COLUMN_KEYS = {
    "record_id",
    "date",
    "category",
    "easting",
    "northing",
    "grid_ref",
    "longitude",
    "latitude",
    "size",
    "land_type",
    "outcome",
    "location_text",
    "sensitive",
    "synthetic",
}


class MappingError(InputError):
    """An invalid mapping file; ``str()`` is one line naming the file and key."""


def _key(value: str) -> str:
    """How council names are matched: case and runs of spaces ignored."""
    return " ".join(str(value).split()).casefold()


@dataclass(frozen=True)
class Mapping:
    """A validated mapping file (see the module docstring)."""

    file: str
    kind: str
    dataset: str
    columns: dict[str, tuple[str, ...]]
    date_formats: tuple[str, ...] = ()
    categories: dict[str, str] = field(default_factory=dict)
    sizes: dict[str, str] = field(default_factory=dict)
    land_types: dict[str, str] = field(default_factory=dict)
    flags: dict[str, str] = field(default_factory=dict)
    encoding: str = "utf-8"
    sheet: str | None = None
    synthetic_marker: str | None = None

    @property
    def source(self) -> str:
        return SOURCES[self.kind]

    def headers(self) -> list[str]:
        """Every export column the mapping reads."""
        return [h for hs in self.columns.values() for h in hs] + list(self.flags)


def read_mapping(path: str | Path) -> Mapping:
    """Read and validate a mapping file; raise :class:`MappingError` naming the key at fault."""
    name = str(path)
    file = TomlFile(path, MappingError, "mapping file")  # the one TOML checker: every problem names its line
    raw, fail = file.raw, file.fail
    file.unknown(raw, _KEYS)
    kind = raw.get("kind")
    if not isinstance(kind, str) or kind not in SOURCES:
        fail("kind", f"must be one of {', '.join(SOURCES)}, got {kind!r}")
    dataset = file.text(raw, "dataset")
    cols = raw.get("columns")
    if not isinstance(cols, dict):
        fail("columns", "a [columns] table is required")
    columns: dict[str, tuple[str, ...]] = {}
    for k, v in cols.items():
        if k not in _COLUMN_KEYS:
            fail(f"columns.{k}", f"unknown field (known: {', '.join(sorted(_COLUMN_KEYS))})")
        headers = (v,) if isinstance(v, str) else tuple(v) if isinstance(v, list) else ()
        if not headers or not all(isinstance(h, str) and h.strip() for h in headers):
            fail(f"columns.{k}", "must be a column header (or, for outcome, a list of them)")
        if len(headers) > 1 and k != "outcome":
            fail(f"columns.{k}", "only outcome may name several columns")
        columns[k] = tuple(h.strip() for h in headers)
    for k in ("record_id", "date", "category"):
        if k not in columns:
            fail(f"columns.{k}", "required")
    located = [
        g for g in (("easting", "northing"), ("grid_ref",), ("longitude", "latitude")) if any(k in columns for k in g)
    ]
    if len(located) > 1:
        fail("columns", "give one way of locating: easting + northing, grid_ref, or longitude + latitude")
    for group in located:
        for k in group:
            if k not in columns:
                fail(f"columns.{k}", f"required with {' + '.join(group)}")
    if kind == "incidents" and ("size" in columns or "land_type" in columns):
        fail("columns", 'size and land_type are fly-tipping fields (kind = "flytipping")')
    marker = raw.get("synthetic_marker")
    if ("synthetic" in columns) != (marker is not None):
        fail("synthetic_marker", "give both synthetic_marker and columns.synthetic, or neither")
    if marker is not None and (not isinstance(marker, str) or not marker.strip()):
        fail("synthetic_marker", "must be a non-empty text")
    formats = (raw.get("dates") or {}).get("formats", [])
    if not isinstance(formats, list) or not all(isinstance(f, str) and "%" in f for f in formats):
        fail("dates.formats", 'must be a list of strptime formats such as "%d/%m/%Y"')

    def table(key: str, allowed=None) -> dict[str, str]:
        t = raw.get(key, {})
        if not isinstance(t, dict):
            fail(key, "must be a table of council name = canonical name")
        out = {}
        for council, canonical in t.items():
            if not isinstance(canonical, str) or not canonical.strip():
                fail(f"{key}.{council}", "must map to a non-empty name")
            if allowed is not None and canonical not in allowed:
                fail(f"{key}.{council}", f"{canonical!r} is not one of: {', '.join(allowed)}")
            out[_key(council)] = canonical
        return out

    flytipping = kind == "flytipping"
    flags = raw.get("flags", {})
    if not isinstance(flags, dict) or not all(
        isinstance(v, str) and re.fullmatch(r"[a-z0-9-]+", v) for v in flags.values()
    ):
        fail("flags", "must be a table of column header = flag name (lower case, digits and '-')")
    encoding = raw.get("encoding", "utf-8")
    try:
        "".encode(encoding)
    except (LookupError, TypeError):
        fail("encoding", f"unknown text encoding {encoding!r}")
    sheet = raw.get("sheet")
    if sheet is not None and not isinstance(sheet, str):
        fail("sheet", "must be a sheet name")
    return Mapping(
        name,
        kind,
        dataset,
        columns,
        tuple(formats),
        table("categories", WASTE_TYPES if flytipping else None),
        table("sizes", tuple(SIZE_BANDS)),
        table("land_types", LAND_TYPES),
        {h.strip(): v for h, v in flags.items()},
        encoding,
        sheet,
        marker,
    )


# ---------------------------------------------------------------------------- reading rows
#: Workbooks (XLSX) unpacking to more than this are refused before they are opened (with the
#: zip-bomb ratio of :mod:`loaders.archive`): a 43 MB council CSV is about 200 MB of sheet XML.
MAX_XLSX_BYTES = 1024**3


def _rows(name: str, stream: BinaryIO, mapping: Mapping) -> tuple[list[str], Iterator[tuple[int, list]]]:
    """(header, (line, values) of each non-blank row, read from ``stream`` as they are consumed) of
    a CSV or XLSX export; ``line`` is the file line a row starts on (a quoted CSV field may hold line
    breaks), the sheet row of a workbook. XLSX cells keep their types. The header's width is checked
    before any row is read."""
    if stream.read(2) == b"PK":
        stream.seek(0)
        return _xlsx_rows(name, stream, mapping.sheet)
    stream.seek(0)
    encoding = "utf-8-sig" if mapping.encoding.lower().replace("_", "-") in ("utf-8", "utf8") else mapping.encoding
    reader = csv.reader(io.TextIOWrapper(stream, encoding=encoding, newline=""))

    def read(step):
        try:
            return step()
        except UnicodeDecodeError:
            raise LoadError(
                name,
                f"not {mapping.encoding} text (near line {reader.line_num + 1}); set encoding "
                f'in the mapping file (e.g. "cp1252" for Excel\'s CSV)',
            ) from None
        except csv.Error as exc:
            raise LoadError(name, f"unreadable CSV ({exc})", line=reader.line_num) from None

    header = read(lambda: next(reader, None))
    if header is None:
        raise LoadError(name, "file is empty")
    check_width(name, header)

    def rows():
        end = reader.line_num  # the last line of the record read last (a blank line is a record too)
        for values in _guarded(reader, read):
            start, end = end + 1, reader.line_num
            if "".join(values).strip():
                yield start, values

    return header, rows()


def _guarded(reader, read) -> Iterator[list]:
    """The rows of ``reader``, each read through ``read`` (which turns errors into LoadError)."""
    while (values := read(lambda: next(reader, None))) is not None:
        yield values


def _xlsx_rows(name: str, stream: BinaryIO, sheet: str | None) -> tuple[list[str], Iterator[tuple[int, list]]]:
    import zipfile

    import openpyxl

    try:
        with zipfile.ZipFile(stream) as book_zip:
            archive.check_members(name, book_zip.infolist(), MAX_XLSX_BYTES)
        stream.seek(0)
        book = openpyxl.load_workbook(stream, read_only=True, data_only=True)
    except (*archive.DAMAGED, KeyError, ValueError, OSError) as exc:
        raise LoadError(name, f"not a readable XLSX workbook ({exc})") from None
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise LoadError(name, f"no sheet {sheet!r} (sheets: {', '.join(book.sheetnames)})")
        ws = book[sheet] if sheet is not None else book.worksheets[0]
        ws.reset_dimensions()  # read every row: the sheet's <dimension> may understate its size
        it = _xlsx_guarded(name, ws.iter_rows(values_only=True))
        first = next(it, None)
        if first is None:
            raise LoadError(name, "sheet is empty")
        check_width(name, first)
        header = ["" if v is None else str(v) for v in first]
    except BaseException:
        book.close()
        raise

    def rows():
        try:
            for line, values in enumerate(it, start=2):
                values = ["" if v is None else v for v in values]
                if any(str(v).strip() for v in values):
                    yield line, values
        finally:
            book.close()

    return header, rows()


def _xlsx_guarded(name: str, it: Iterator) -> Iterator:
    """``it`` with a damaged sheet (bad checksum, broken XML) as a LoadError."""
    from xml.etree.ElementTree import ParseError

    while True:
        try:
            values = next(it)
        except StopIteration:
            return
        except (*archive.DAMAGED, ParseError, ValueError) as exc:
            raise LoadError(name, f"damaged XLSX workbook ({str(exc)[:200]})") from None
        yield values


def _text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())


# ---------------------------------------------------------------------------- field parsers
class _Bad(Exception):
    """A field that rejects its row: (field header, reason)."""


def _date(value, formats: tuple[str, ...], today: date, source: str) -> date:
    if isinstance(value, datetime):
        day = value.date()
    elif isinstance(value, date):
        day = value
    else:
        text = _text(value)
        if not text:
            raise _Bad("blank date")
        for fmt in formats:
            try:
                day = datetime.strptime(text, fmt).date()
                break
            except ValueError:
                continue
        else:
            raise _Bad(f"unparseable date {text!r} (formats tried: {', '.join(formats) or 'none'})")
    if day > today:
        raise _Bad(f"date {day.isoformat()} is in the future")
    if reason := plausible.month_problem(source, f"{day.year:04d}-{day.month:02d}", today):
        raise _Bad(f"date {day.isoformat()}: {reason}")
    return day


def grid_ref_to_bng(ref: str) -> tuple[float, float]:
    """An OS grid reference ('TL 15123 07234', 'TL1507', ...) -> (easting, northing) in metres.

    The two letters give the 100 km square (the 500 km letter, then the 100 km
    letter, both skipping I); the digits, split in two equal halves, the position
    within it. As the Ordnance Survey defines a grid reference, the result is the
    south-west corner of the square it names (1 m for 10 digits, 10 m for 8, ...).
    Raises ``ValueError`` for anything else.
    """
    m = _GRID_REF.match(" ".join(ref.upper().split()))
    if not m:
        raise ValueError(f"not an OS grid reference: {ref!r}")
    letters, a, b = m.groups()
    digits = a + b if b else a
    if b and len(a) != len(b) or len(digits) % 2 or not 2 <= len(digits) <= 10:
        raise ValueError(f"not an OS grid reference: {ref!r} (needs 2 to 10 digits, half easting, half northing)")
    l1, l2 = (ord(c) - ord("A") - (c > "I") for c in letters)
    e100 = ((l1 - 2) % 5) * 5 + l2 % 5
    n100 = (19 - (l1 // 5) * 5) - l2 // 5
    half = len(digits) // 2
    scale = 10 ** (5 - half)
    return float(e100 * 100_000 + int(digits[:half]) * scale), float(n100 * 100_000 + int(digits[half:]) * scale)


def _number(value) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    try:
        return float(_text(value).replace(",", ""))
    except ValueError:
        raise _Bad(f"not a number: {_text(value)!r}") from None


def _yes_no(value) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).casefold()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _Bad(f"expected Y or N, got {_text(value)!r}")


# ---------------------------------------------------------------------------- parse
#: Rows of an export validated and built into one Arrow table at a time (default 5,000): the loader
#: holds one chunk of the export's rows as Python values, never the whole file (issue 24: read whole,
#: a 43 MB export peaked at 323 MB; docs/benchmarks.md has the figures since).
CHUNK_ROWS = 5_000

_FIELDS = (
    "record_id",
    "date",
    "category",
    "subcategory",
    "x",
    "y",
    "size_band",
    "land_type",
    "outcome",
    "location_text",
    "flags",
    "sensitive",
    "synthetic",
)


def batches(
    name: str, data: bytes | BinaryIO, mapping: Mapping, report: LoadReport, today: date | None = None
) -> Iterator[tuple[pa.Table, np.ndarray]]:
    """Parse one export with ``mapping`` (``data``: its bytes, or a binary file open at its start),
    :data:`CHUNK_ROWS` rows at a time: yield (canonical table, input line of each of its rows) per
    chunk, filling ``report`` (rows read, loaded, rejected, unmapped names) as the rows are read.

    The file is read as a stream, each chunk validated before the next is read; all that is kept
    from one chunk to the next is the reference and line of each loaded row (:class:`_References`,
    for the repeated-reference rule). A row's line is the file line it starts on.
    """
    today = today or date.today()
    stream = io.BytesIO(data) if isinstance(data, bytes) else data
    header, rows = _rows(name, stream, mapping)
    header = [_text(h) for h in header]
    dupes = sorted(h for h, n in Counter(header).items() if h and n > 1)
    if dupes:
        raise LoadError(name, f"the header repeats column {dupes[0]!r}", line=1)
    missing = [h for h in mapping.headers() if h not in header]
    if missing:
        raise LoadError(
            name,
            f"column {missing[0]!r} named by {mapping.file} is not in the header ({', '.join(h for h in header if h)})",
            line=1,
        )
    if "synthetic" in mapping.columns and mapping.synthetic_marker is None:
        raise ValueError(f"{mapping.file}: columns.synthetic is given without a synthetic_marker")
    at = {h: i for i, h in enumerate(header)}
    earlier = _References()
    column = at[mapping.columns["record_id"][0]]
    while chunk := list(itertools.islice(rows, CHUNK_ROWS)):
        seen = earlier.find([_text(values[column]) if column < len(values) else "" for _, values in chunk])
        table, chunk_lines = _chunk(name, chunk, len(header), at, mapping, today, report, seen)
        earlier.add(table["record_id"].combine_chunks(), chunk_lines)
        del chunk, seen  # before the next chunk is read
        yield table, chunk_lines


class _References:
    """The references of the rows loaded so far, for the repeated-reference rule across chunks: each
    one's hash (Python's ``hash``, kept sorted), row and line, 16 bytes a row, and the references
    themselves (Arrow strings), read only when a hash matches. (pyarrow's ``index_in`` over the earlier
    references built a hash table of them all for every chunk: 55 MB more for a 737,000-row export.)"""

    def __init__(self) -> None:
        self.hashes = np.empty(0, dtype="int64")
        self.rows = np.empty(0, dtype="int32")  # the row (in loading order) of each hash
        self.ids: list[pa.Array] = []
        self.lines: list[np.ndarray] = []
        self.starts = [0]  # the first row of each chunk

    def find(self, refs: list[str]) -> dict[str, int]:
        """reference -> line of each of ``refs`` that an earlier chunk loaded."""
        hashes = np.fromiter((hash(r) for r in refs), dtype="int64", count=len(refs))
        at = np.searchsorted(self.hashes, hashes)
        found = {}
        for j in np.flatnonzero(at < len(self.hashes)):
            k = int(at[j])
            while k < len(self.hashes) and self.hashes[k] == hashes[j]:
                chunk = bisect.bisect_right(self.starts, int(self.rows[k])) - 1
                i = int(self.rows[k]) - self.starts[chunk]
                if self.ids[chunk][i].as_py() == refs[j]:
                    found[refs[j]] = int(self.lines[chunk][i])
                    break
                k += 1
        return found

    def add(self, ids: pa.Array, lines: np.ndarray) -> None:
        """Keep the references ``ids`` of a chunk's loaded rows and their ``lines``."""
        hashes = np.fromiter((hash(r) for r in ids.to_pylist()), dtype="int64", count=len(ids))
        order = np.argsort(hashes, kind="stable")
        at = np.searchsorted(self.hashes, hashes[order])
        self.hashes = np.insert(self.hashes, at, hashes[order])
        self.rows = np.insert(self.rows, at, (self.starts[-1] + order).astype("int32"))
        self.ids.append(ids)
        self.lines.append(lines)
        self.starts.append(self.starts[-1] + len(ids))


def _chunk(
    name: str,
    chunk: list[tuple[int, list]],
    width: int,
    at: dict[str, int],
    mapping: Mapping,
    today: date,
    report: LoadReport,
    seen: dict[str, int],
) -> tuple[pa.Table, np.ndarray]:
    """(canonical table, lines) of one chunk's loaded rows; its rejected rows go to ``report``.
    ``seen``: reference -> line of the references loaded before (updated with this chunk's)."""
    cols = mapping.columns
    out: dict[str, list] = {k: [] for k in _FIELDS}
    lines: list[int] = []
    marker = (mapping.synthetic_marker or "").casefold()  # used only with columns.synthetic
    for line, values in chunk:
        report.rows_read += 1
        values = list(values) + [""] * (width - len(values))
        if len(values) > width:
            reject(
                report.rejected,
                Rejection(name, line, "(row)", f"row has {len(values)} fields, the header has {width}"),
            )
            continue

        def get(key: str, i: int = 0, values=values):
            return values[at[cols[key][i]]]

        current = "(row)"
        try:
            current = cols["record_id"][0]
            rid = _text(get("record_id"))
            if not rid:
                raise _Bad("blank reference")
            if rid in seen:
                raise _Bad(f"reference {rid!r} repeats line {seen[rid]}")
            current = cols["date"][0]
            day = _date(get("date"), mapping.date_formats, today, mapping.source)
            current = next((cols[k][0] for k in ("grid_ref", "easting", "longitude") if k in cols), "(row)")
            x, y = _location(values, at, cols)
            flags = []
            for h, flag in mapping.flags.items():
                current = h
                if _yes_no(values[at[h]]):
                    flags.append(flag)
            sensitive = None
            if "sensitive" in cols:
                current = cols["sensitive"][0]
                sensitive = _yes_no(get("sensitive"))
        except _Bad as exc:
            reject(report.rejected, Rejection(name, line, current, str(exc)))
            continue
        seen[rid] = line
        lines.append(line)
        raw_cat = _text(get("category"))
        category = mapping.categories.get(_key(raw_cat))
        if category is None:
            report.unmapped[f"category {raw_cat!r}"] = report.unmapped.get(f"category {raw_cat!r}", 0) + 1
        out["record_id"].append(rid)
        out["date"].append(day)
        out["category"].append(category or UNMAPPED)
        out["subcategory"].append(None if category else raw_cat or None)
        out["x"].append(x)
        out["y"].append(y)
        for key, table in (("size", mapping.sizes), ("land_type", mapping.land_types)):
            value = _text(get(key)) if key in cols else ""
            mapped = table.get(_key(value)) if value else None
            if value and mapped is None:
                label = f"{key.replace('_', ' ')} {value!r}"
                report.unmapped[label] = report.unmapped.get(label, 0) + 1
            out["size_band" if key == "size" else key].append(mapped)
        outcome = "; ".join(t for t in (_text(get("outcome", i)) for i in range(len(cols.get("outcome", ())))) if t)
        out["outcome"].append(outcome or None)
        out["location_text"].append((_text(get("location_text")) or None) if "location_text" in cols else None)
        out["flags"].append(";".join(sorted(flags)) or None)
        out["sensitive"].append(sensitive)
        out["synthetic"].append(marker in _text(get("synthetic")).casefold() if "synthetic" in cols else False)
    return _table(out, mapping, report), np.array(lines, dtype="int64")


def parse(
    name: str, data: bytes | BinaryIO, mapping: Mapping, today: date | None = None
) -> tuple[pa.Table, LoadReport, np.ndarray]:
    """Parse one export with ``mapping`` (:func:`batches`): (canonical table, load report, input
    line of each table row); the table's columns hold one Arrow chunk per chunk of rows."""
    report = LoadReport(mapping.source, files=[name])
    parts = list(batches(name, data, mapping, report, today))
    if not parts:
        return schema.empty_table(), report, np.empty(0, dtype="int64")
    return pa.concat_tables(t for t, _ in parts), report, np.concatenate([n for _, n in parts])


def _location(values: list, at: dict[str, int], cols: dict[str, tuple[str, ...]]) -> tuple[float, float]:
    """(x, y) of a row in EPSG:27700; NaN, NaN when every location field is blank."""
    nan = float("nan")
    if "grid_ref" in cols:
        h = cols["grid_ref"][0]
        ref = _text(values[at[h]])
        if not ref:
            return nan, nan
        try:
            return grid_ref_to_bng(ref)
        except ValueError as exc:
            raise _Bad(str(exc)) from None
    pair = ("easting", "northing") if "easting" in cols else ("longitude", "latitude") if "longitude" in cols else ()
    if not pair:
        return nan, nan
    raw = [values[at[cols[k][0]]] for k in pair]
    if all(not _text(v) for v in raw):
        return nan, nan
    nums = []
    for k, v in zip(pair, raw):
        if not _text(v):
            raise _Bad(f"blank {k} with a {pair[1] if k == pair[0] else pair[0]} given")
        try:
            nums.append(_number(v))
        except _Bad as exc:
            raise _Bad(f"{k}: {exc}") from None
    if pair[0] == "easting":
        x, y = nums
        if not (_GRID_EXTENT[0] <= x <= _GRID_EXTENT[1] and _GRID_EXTENT[2] <= y <= _GRID_EXTENT[3]):
            raise _Bad(f"easting/northing ({x:g}, {y:g}) is outside the British National Grid")
        return x, y
    lon, lat = nums
    if not in_great_britain(np.array([lon]), np.array([lat]))[0]:
        raise _Bad(f"longitude/latitude ({lon:g}, {lat:g}) is outside Great Britain")
    bx, by = wgs84_to_bng(np.array([lon]), np.array([lat]))
    return float(bx[0]), float(by[0])


def _table(out: dict[str, list], mapping: Mapping, report: LoadReport) -> pa.Table:
    n = len(out["record_id"])
    report.rows_loaded += n
    x, y = np.array(out["x"], dtype="float64"), np.array(out["y"], dtype="float64")
    report.no_location += int(np.isnan(x).sum())
    lon, lat = bng_to_wgs84_many(x, y)
    days = out["date"]
    return schema.conform(
        {
            "source": [mapping.source] * n,
            "dataset": [mapping.dataset] * n,
            "record_id": out["record_id"],
            "month": [d.replace(day=1) for d in days],
            "date": days,
            "category": out["category"],
            "subcategory": out["subcategory"],
            "location_text": out["location_text"],
            "outcome": out["outcome"],
            "x": x,
            "y": y,
            "longitude": lon,
            "latitude": lat,
            "size_band": out["size_band"],
            "land_type": out["land_type"],
            "cost_gbp": np.array([SIZE_BANDS.get(s) if s else None for s in out["size_band"]], dtype="float64"),
            "flags": out["flags"],
            "sensitive": out["sensitive"],
            "synthetic": out["synthetic"],
        },
        n,
    )


def read(path: str | Path, mapping: Mapping, today: date | None = None) -> tuple[pa.Table, LoadReport, np.ndarray]:
    """:func:`parse` a file on disk, streamed from it (never read whole)."""
    with open_file(path) as stream:
        return parse(str(path), stream, mapping, today)
