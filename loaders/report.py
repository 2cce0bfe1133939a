"""Load reports and load errors, shared by every loader.

The rule every loader follows: each input row is either loaded or listed in
``LoadReport.rejected`` with its file, line, field and reason, so
``rows_read == rows_loaded + len(rejected)`` always holds. Problems that make a
whole file unreadable (wrong header, empty file, unsafe zip, more than
:data:`MAX_REJECTED` rejected rows) raise :class:`LoadError` instead, naming the
file and, where it applies, the line; the ingest then stores nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from loaders.errors import InputError

#: A cell starting with one of these is run as a formula by Excel and LibreOffice (OWASP "CSV injection"):
#: a CSV the app writes guards such a cell with a leading apostrophe (geodata.export.csv_safe), and
#: a loader that reads the app's own CSV back (the action plan) removes it.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class LoadError(InputError):
    """A file that cannot be loaded at all; ``str()`` is one line for the user."""

    def __init__(self, file: str, reason: str, line: int | None = None):
        self.file, self.reason, self.line = file, reason, line
        where = f"{file}, line {line}" if line is not None else file
        super().__init__(f"{where}: {reason}")


def not_regular(path: str | Path) -> str | None:
    """Why ``path`` is not a regular file one can read to its end (a FIFO would block for ever,
    a device never end), or ``None`` when it is one (or does not exist: reading says so)."""
    import stat

    try:
        mode = Path(path).stat().st_mode
    except OSError:
        return None
    if stat.S_ISREG(mode):
        return None
    kind = (
        "a folder"
        if stat.S_ISDIR(mode)
        else "a FIFO (named pipe)"
        if stat.S_ISFIFO(mode)
        else "a socket"
        if stat.S_ISSOCK(mode)
        else "a device"
    )
    return f"not a regular file ({kind})"


def open_file(path: str | Path) -> BinaryIO:
    """A file a loader reads, opened for reading bytes; a file that cannot be opened (or is not a
    regular file, :func:`not_regular`) is a :class:`LoadError`."""
    if reason := not_regular(path):
        raise LoadError(str(path), reason)
    try:
        return Path(path).open("rb")
    except OSError as exc:
        raise LoadError(str(path), f"cannot read ({exc.strerror})") from None


def read_file(path: str | Path) -> tuple[str, bytes]:
    """(name, bytes) of a file a loader parses whole (:func:`open_file`)."""
    with open_file(path) as fh:
        try:
            return str(path), fh.read()
        except OSError as exc:
            raise LoadError(str(path), f"cannot read ({exc.strerror})") from None


@dataclass(frozen=True)
class Rejection:
    """One input row that was not loaded, and why."""

    file: str
    line: int
    field: str
    reason: str


#: Rejected rows one file may have: a file with more is the wrong file (or an attack), not data with
#: a few bad rows; it is refused whole (:func:`reject`, :func:`check_rejections`) and nothing is stored.
MAX_REJECTED = 1_000


#: Columns a file's header may have: every source has fewer than 50 (DEFRA's widest table 47); a
#: 100,000-column header took 84 s to refuse. Checked first, before anything else of the header.
MAX_COLUMNS = 1_000


def check_width(name: str, header: list) -> None:
    """Refuse (:class:`LoadError`, line 1) a header of more than :data:`MAX_COLUMNS` columns."""
    if len(header) > MAX_COLUMNS:
        raise LoadError(
            name, f"the header has {len(header):,} columns, over the {MAX_COLUMNS:,} a file may have", line=1
        )


def too_many_rejected(name: str, count: int, first: Rejection) -> LoadError:
    """The one-line error for a file with more than :data:`MAX_REJECTED` rejected rows."""
    return LoadError(
        name,
        f"more than {MAX_REJECTED:,} rows rejected ({count:,} so far; the first: line "
        f"{first.line}, {first.field}: {first.reason[:120]}); nothing of the file is loaded: "
        "is it the right kind of file?",
    )


def reject(rejected: list[Rejection], rejection: Rejection) -> None:
    """Add ``rejection`` to ``rejected``: a :class:`LoadError` once a file has more than
    :data:`MAX_REJECTED` (the loader stops reading there)."""
    rejected.append(rejection)
    check_rejections(rejection.file, rejected)


def check_rejections(name: str, rejected: list[Rejection]) -> None:
    """Raise :func:`too_many_rejected` when ``rejected`` (one file's) holds more than :data:`MAX_REJECTED`."""
    if len(rejected) > MAX_REJECTED:
        raise too_many_rejected(name, len(rejected), min(rejected, key=lambda r: r.line))


@dataclass
class LoadReport:
    """What one load did. Counts are rows (records), not bytes or lines.

    ``no_location`` rows are loaded (kept, never dropped) but have no point;
    ``outside_area`` rows are loaded with a point that lies in no ward of the
    configured area (filled in by the geography step); :attr:`in_area` the rest.
    ``months`` ('YYYY-MM') are the months the load wrote, ``replaced`` those of them the store
    held before (filled in by the store).
    """

    source: str
    files: list[str] = field(default_factory=list)
    rows_read: int = 0
    rows_loaded: int = 0
    no_location: int = 0
    outside_area: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    #: Files found in a folder and not read: (file, reason), e.g. a FIFO.
    skipped: list[tuple[str, str]] = field(default_factory=list)
    #: Names a mapping file does not map (e.g. "category 'Mattress'") -> rows loaded with them
    #: (as "Other (unmapped)" or a null size): listed for the user to add to the mapping.
    unmapped: dict[str, int] = field(default_factory=dict)
    months: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)

    @property
    def in_area(self) -> int:
        """Rows loaded with a point in a ward of the area (the district's rows of a force-wide file)."""
        return self.rows_loaded - self.no_location - self.outside_area

    def add(self, other: LoadReport) -> None:
        """Fold another report (e.g. of one more file) into this one."""
        self.files += other.files
        self.rows_read += other.rows_read
        self.rows_loaded += other.rows_loaded
        self.no_location += other.no_location
        self.outside_area += other.outside_area
        self.rejected += other.rejected
        self.skipped += other.skipped
        for name, n in other.unmapped.items():
            self.unmapped[name] = self.unmapped.get(name, 0) + n

    def summary(self, listing=", ".join) -> str:
        """One paragraph for a terminal or a log: rows read, loaded and rejected; the months loaded and
        those replaced (written by ``listing``, default joined with commas); rows in the area's wards,
        outside them and without a location; skipped files, unmapped names and the first rejections."""
        new = [m for m in self.months if m not in set(self.replaced)]
        lines = [
            f"{self.source}: {len(self.files)} file(s), {self.rows_read:,} rows read, "
            f"{self.rows_loaded:,} loaded, {len(self.rejected):,} rejected",
        ]
        if self.months:
            lines.append(
                f"  months loaded: {listing(self.months)}; new: {listing(new) if new else 'none'}; "
                f"replaced (loaded before, now replaced whole): {listing(self.replaced) if self.replaced else 'none'}"
            )
        lines.append(
            f"  rows in the area's wards: {self.in_area:,}; outside them (kept, no ward): {self.outside_area:,}; "
            f"without a location (kept): {self.no_location:,}"
        )
        for file, reason in self.skipped:
            lines.append(f"  skipped {file}: {reason}")
        if self.unmapped:
            lines.append(
                "  not in the mapping file (loaded as 'Other (unmapped)' or with no size/land type; "
                "add them to the mapping): " + ", ".join(f"{k} x{n}" for k, n in sorted(self.unmapped.items()))
            )
        for r in self.rejected[:20]:
            lines.append(f"  rejected {r.file}, line {r.line}, field {r.field!r}: {r.reason}")
        if len(self.rejected) > 20:
            lines.append(f"  ... and {len(self.rejected) - 20:,} more rejections (see the store's load history)")
        return "\n".join(lines)
