"""Crime against deprivation by LSOA: the English Indices of Deprivation 2019 (MHCLG, OGL v3.0).

:func:`read_imd` reads the IoD2019 File 1 table (one row per 2011 LSOA: ``LSOA code (2011)``,
``LSOA name (2011)``, ``Index of Multiple Deprivation (IMD) Rank``, ``... Decile``; rank 1 = most
deprived of England's 32,844 LSOAs, decile 1 = the most deprived 10%). :func:`by_decile` sums
incidents and residents per IMD decile and gives the rate per 1,000 residents, so an analyst sees
whether crime concentrates in the district's more deprived neighbourhoods. Deciles with no LSOA in
the area are left out (never shown as zero); an LSOA with no population gives no rate.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

from geodata.methods import validate

CODE, NAME = "LSOA code (2011)", "LSOA name (2011)"
RANK, DECILE = "Index of Multiple Deprivation (IMD) Rank", "Index of Multiple Deprivation (IMD) Decile"
#: LSOAs in England in 2011, the range of an IMD 2019 rank.
ENGLAND_LSOAS = 32_844


class DeprivationError(ValueError):
    """A deprivation file that cannot be used; the message names the file, line and field."""


def read_imd(path: str | Path) -> pd.DataFrame:
    """``lsoa_code, lsoa_name, imd_rank, imd_decile`` from an IoD2019 File 1 CSV; every row must
    have a rank 1..32,844 and a decile 1..10, and an LSOA may appear once (else
    :class:`DeprivationError` naming the line and field)."""
    path = Path(path)
    rows = []
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in (CODE, NAME, RANK, DECILE) if c not in (reader.fieldnames or [])]
        if missing:
            raise DeprivationError(f"{path}: missing column(s) {', '.join(missing)}")
        for line, row in enumerate(reader, start=2):
            rank, decile = _int(path, line, RANK, row[RANK]), _int(path, line, DECILE, row[DECILE])
            if not 1 <= rank <= ENGLAND_LSOAS:
                raise DeprivationError(f"{path}, line {line}, {RANK}: {rank} is outside 1..{ENGLAND_LSOAS:,}")
            if not 1 <= decile <= 10:
                raise DeprivationError(f"{path}, line {line}, {DECILE}: {decile} is outside 1..10")
            rows.append((row[CODE].strip(), row[NAME].strip(), rank, decile, line))
    table = pd.DataFrame(rows, columns=["lsoa_code", "lsoa_name", "imd_rank", "imd_decile", "line"])
    dup = table[table["lsoa_code"].duplicated()]
    if len(dup):
        raise DeprivationError(
            f"{path}, line {int(dup['line'].iloc[0])}, {CODE}: {dup['lsoa_code'].iloc[0]} appears more than once"
        )
    return table.drop(columns="line")


def _int(path: Path, line: int, field: str, value: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise DeprivationError(f"{path}, line {line}, {field}: {value!r} is not a whole number") from None


def by_lsoa(imd: pd.DataFrame, incidents: pd.Series, population: pd.Series) -> pd.DataFrame:
    """Each LSOA of ``imd`` with its incidents (``incidents``: LSOA code -> count; an LSOA of the
    area with none has 0), residents (``population``; NaN where unknown) and rate per 1,000."""
    validate.columns("imd", imd, ("lsoa_code", "imd_decile"), "read it with read_imd")
    validate.finite_values("incidents", incidents, "give a count (0 or more) per LSOA", nonnegative=True, whole=True)
    out = imd.copy()
    out["incidents"] = out["lsoa_code"].map(incidents).fillna(0).astype("int64")
    out["residents"] = out["lsoa_code"].map(population).astype("float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        out["rate_per_1000"] = np.where(out["residents"] > 0, 1000 * out["incidents"] / out["residents"], np.nan)
    return out


def by_decile(imd: pd.DataFrame, incidents: pd.Series, population: pd.Series) -> pd.DataFrame:
    """Per IMD decile present in the area: LSOAs, residents, incidents and the rate per 1,000
    residents (residents summed over LSOAs with a known population; no rate without residents)."""
    lsoas = by_lsoa(imd, incidents, population)
    table = (
        lsoas.groupby("imd_decile")
        .agg(lsoas=("lsoa_code", "size"), residents=("residents", "sum"), incidents=("incidents", "sum"))
        .reset_index()
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        table["rate_per_1000"] = np.where(
            table["residents"] > 0, 1000 * table["incidents"] / table["residents"], np.nan
        )
    return table
