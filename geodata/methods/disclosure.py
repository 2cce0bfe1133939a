"""Disclosure control of counts from sensitive sources (council records) shown to the public.

The rule (one rule for everything the public can see together: every page, the
kiosk, the meeting pack and every table download):

* **one table per source and filter.** The public sees a sensitive source only
  through its counts per ward and month (:func:`public_counts`), for the
  measure's filter (:func:`table_id`: source, categories, flags). Every other
  public figure of that source (a period's count, a ward's count over a
  period, a total, a percentage change) is a *sum of these published cells*
  (:func:`period_totals`), never computed from the true counts. Rounded sums
  are not Poisson counts, so they are never tested: a verdict ("significant
  rise", a status) is judged on the true counts and shown alone, without its
  p-value (:mod:`geodata.analysis.status`). No other breakdown of a sensitive
  source (waste type, size band, rows loaded per month, synthetic records) is public.
* **unbiased random rounding to base 5** (:data:`BASE`) of every cell: a count
  ``x = 5q + f`` is shown as ``5q + 5`` with probability ``f / 5``, else as
  ``5q``; zeros and multiples of 5 are shown as they are. A sum of rounded
  cells is unbiased (its expected value is the true sum), which base-5
  rounding to the nearest is not for sparse tables (cells of 1 and 2 all shown
  as 0). Random rounding is the method of Statistics New Zealand and of
  Statistics Canada's census tables (Willenborg & de Waal, *Elements of
  Statistical Disclosure Control*, 2001, section 5.3); the threshold follows
  the ONS guidance on small counts (counts of 1-2 unsafe, 3-4 unsafe for
  sensitive data about small areas).
* **the draw is fixed per cell**: ``u`` = HMAC-SHA256 of (table, ward, month)
  under the store's secret key (:func:`store_key`, a random file beside the
  store, never shown). The same cell is rounded the same way on every page,
  for every period and in every later release, so repeating a question gives
  no new draw to average out.

What a reader who knows this rule learns from a shown cell ``r``: the true
count lies in ``[max(0, r - 4), r + 4]`` (:func:`feasible`), at least 5 values
whatever the count. The attacker test (tests/methods/test_disclosure_audit.py) collects
every public figure of constructed data sets and checks with an integer
program that every true count of 1 to 4 keeps at least 3 feasible values.

Which sources are sensitive: :data:`SENSITIVE_SOURCES`, from the registry
(:mod:`geodata.sources`: every council source: they hold records about
residents that no one published). police.uk,
FixMyStreet and DEFRA are published open data and are shown as published.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from geodata import sources
from geodata.methods import validate

SENSITIVE_SOURCES = frozenset(sources.ids(sensitive=True))
#: Public counts of a sensitive source are multiples of BASE.
BASE = 5
#: Counts from 1 to THRESHOLD are the ones a reader must not learn (the protected cells).
THRESHOLD = 4
#: What the pages say beside a rounded figure.
NOTE = (
    "Council records are sensitive: every count of them shown here is rounded at random to a multiple of 5 "
    "(so a 0 may hide 1 to 4), per ward and month, and totals and changes are worked out from the rounded "
    "counts (disclosure control); statuses are judged on the exact counts and only the verdict is shown. "
    "Signed-in analysts see exact counts."
)
KEY_BYTES = 32


def is_small(n) -> bool:
    """True for a count a reader must not learn exactly (1 to :data:`THRESHOLD`).

    >>> [is_small(n) for n in (0, 1, THRESHOLD, THRESHOLD + 1, None)]
    [False, True, True, False, False]
    """
    return n is not None and not pd.isna(n) and 1 <= int(n) <= THRESHOLD


def table_id(source: str, categories: Iterable[str] | None = None, flags: Iterable[str] | None = None) -> str:
    """The name of a public table: its source and filter (sorted), e.g. ``council-incidents|cat=|flags=youth``.
    Two pages showing the same records use the same name and so the same rounded cells.

    >>> table_id("council-incidents", flags=["youth"]) == table_id("council-incidents", (), ("youth",))
    True
    """
    return f"{source}|cat={';'.join(sorted(categories or ()))}|flags={';'.join(sorted(flags or ()))}"


def draws(key: bytes, table: str, wards: Iterable[str], months: Iterable[str]) -> np.ndarray:
    """The rounding draw ``u`` in [0, 1) of each (ward, month) cell of ``table``: the first 8 bytes of
    HMAC-SHA256(key, "table|ward|month") over 2**64."""
    return np.array(
        [
            int.from_bytes(hmac.new(key, f"{table}|{w}|{m}".encode(), hashlib.sha256).digest()[:8], "big") / 2.0**64
            for w, m in zip(wards, months)
        ],
        dtype="float64",
    )


def round_counts(counts, u) -> np.ndarray:
    """Random rounding of ``counts`` (non-negative integers) to base :data:`BASE` with draws ``u``:
    ``5q + f`` becomes ``5q + 5`` where ``u < f / 5``, else ``5q``."""
    counts = validate.finite_values("counts", counts, "give true counts", nonnegative=True, whole=True).astype("int64")
    low, rest = np.divmod(counts, BASE)
    return (low + (np.asarray(u) < rest / BASE)) * BASE


def public_counts(counts: pd.DataFrame, key: bytes, table: str) -> pd.DataFrame:
    """The public version of one table of a sensitive source: the single entry point every page, the
    pack and the analysis call to turn true counts into figures the public may see.

    ``counts``: true counts, one row per cell, columns ``ward_code``, ``month`` (a date or 'YYYY-MM')
    and ``incidents`` (other columns are kept); a cell with no row is zero and stays zero.
    ``key``: the store's secret (:func:`store_key`); ``table``: :func:`table_id` of the filter.
    Returns a copy with ``incidents`` randomly rounded to base 5 (module docstring). Every other public
    figure of the table must be a sum of these cells (:func:`period_totals`). Pure: the same input gives
    the same output."""
    validate.columns("counts", counts, ("ward_code", "month", "incidents"), "one row per ward and month")
    out = counts.copy()
    if out.empty:
        return out
    months = pd.to_datetime(out["month"]).dt.strftime("%Y-%m")
    u = draws(key, table, out["ward_code"].astype(str), months)
    out["incidents"] = round_counts(out["incidents"].to_numpy(), u)
    return out


def period_totals(public: pd.DataFrame, start: str | None = None, end: str | None = None) -> pd.Series:
    """Per ward, the sum of the public cells with ``start <= month <= end`` ('YYYY-MM'; None: open): how
    a public ward count over a period is made (its total is the sum of these, never a true total)."""
    months = pd.to_datetime(public["month"]).dt.strftime("%Y-%m")
    inside = (months >= (start or "")) & (months <= (end or "9999-99"))
    return public[inside].groupby("ward_code")["incidents"].sum().astype("int64")


def feasible(shown: int) -> tuple[int, int]:
    """What the rule tells a reader about the true count behind a shown cell: the smallest and largest
    possible value, ``(max(0, shown - 4), shown + 4)``."""
    if shown % BASE:
        raise ValueError(f"{shown} is not a public count (multiple of {BASE})")
    return max(0, shown - (BASE - 1)), shown + BASE - 1


class KeyMissing(ValueError):
    """The disclosure key of a store that holds sensitive records is missing (:func:`store_key`)."""


def key_path(store_path: str | os.PathLike) -> Path:
    """Where the disclosure key of the store at ``store_path`` is kept: ``<store>.disclosure-key``."""
    return Path(f"{store_path}.disclosure-key")


def store_key(store_path: str | os.PathLike, create: bool = True) -> bytes:
    """The secret key of the store at ``store_path``: 32 random bytes kept in ``<store>.disclosure-key``
    beside it (owner read/write only). Never shown; replacing it re-draws every rounding (two releases
    with different draws can be averaged), so a key is made only with ``create`` (default true; the
    ingest of a store's first sensitive records, and ``csp-hotspots new-disclosure-key``), and a missing
    one is otherwise :class:`KeyMissing`, naming the file and the backup: a key lost from a store that
    has published counts is never silently replaced (13 of 360 cells changed when it was)."""
    path = key_path(store_path)
    if not path.exists():
        if not create:
            raise KeyMissing(
                f"{path}: the disclosure key is missing. Restore it from the backup of the store "
                "(docs/deployment.md, Backups): a new key would draw every public council count again, and "
                "readers could average the two releases. If it is truly lost, make a new one with "
                "`csp-hotspots new-disclosure-key` (every public council count changes)."
            )
        tmp = path.with_name(f"{path.name}.{secrets.token_hex(8)}")  # written aside, then linked: a reader
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # never sees a half-written key
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_bytes(KEY_BYTES))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process made it first: use theirs
        finally:
            tmp.unlink()
    key = path.read_bytes()
    if len(key) != KEY_BYTES:
        raise ValueError(
            f"{path}: the disclosure key must be {KEY_BYTES} bytes, found {len(key)}; restore it from the backup"
        )
    return key
