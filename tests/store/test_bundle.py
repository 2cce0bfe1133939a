"""The bundled police.uk data: the store built from it holds exactly the months and rows its SOURCE
note states (the note is parsed, not copied here), and every other month is a gap, not a zero."""

from __future__ import annotations

import re
import zipfile

import pytest

from geodata import boundaries
from geodata import config as config_mod
from geodata.assign import assign
from geodata.pipeline.build import open_store
from tests.conftest import BUNDLE, BUNDLED_OUTCOMES, BUNDLED_POLICE, config_with_store

NOTE = BUNDLE / "police" / "SOURCE.md"


def _table(section: str) -> dict[str, int]:
    """month -> St Albans rows, from the table under the note's heading starting with ``section``."""
    text = NOTE.read_text()
    start = text.index(f"## {section}")
    end = text.find("\n## ", start + 1)
    rows = re.findall(
        r"^\| (\d{4}-\d{2}) \| [\d,]+ \| ([\d,]+) \|", text[start : end if end > 0 else None], re.MULTILINE
    )
    assert rows, f"no month table under '## {section}' in {NOTE}"
    return {m: int(n.replace(",", "")) for m, n in rows}


def _heading_total(section: str) -> tuple[int, int]:
    """(months, rows) stated in the section's heading, e.g. '29 months, 26,483 of 250,260 county rows'."""
    m = re.search(rf"^## {section}: (\d+) months, ([\d,]+) of", NOTE.read_text(), re.MULTILINE)
    return int(m.group(1)), int(m.group(2).replace(",", ""))


def _stored(frame) -> dict[str, int]:
    return {d.strftime("%Y-%m"): int(n) for d, n in zip(frame["month"], frame["rows"])}


STREET = _table("Street-level crime")
OUTCOMES = _table("Outcomes")


def test_note_is_consistent_and_ends_2025_06():
    assert (len(STREET), sum(STREET.values())) == _heading_total("Street-level crime")
    assert (len(OUTCOMES), sum(OUTCOMES.values())) == _heading_total("Outcomes")
    assert min(STREET) == "2018-10" and max(STREET) == "2025-06"
    assert set(OUTCOMES) <= set(STREET)


@pytest.mark.parametrize("path", [config_mod.DEFAULT_CONFIG, config_mod.WARDS_2013_CONFIG])
def test_store_holds_the_months_and_rows_the_note_states(tmp_path, path):
    """Both bundled configs (2022 and 2013 wards) load every bundled row, month by month."""
    store = open_store(config_with_store(tmp_path, path))
    parts = store.partitions()
    assert _stored(parts[parts["source"] == "police.uk"]) == STREET
    assert _stored(parts[parts["source"] == "police.uk outcomes"]) == OUTCOMES
    loads = store.loads().set_index("source")
    assert loads.loc["police.uk", "rows_read"] == loads.loc["police.uk", "rows_loaded"] == sum(STREET.values())
    assert loads.loc["police.uk", "rows_rejected"] == 0
    assert loads.loc["police.uk outcomes", "rows_loaded"] == sum(OUTCOMES.values())
    # counted by month from the incidents themselves, not the partition table
    by_month = store.counts(by=("month",), inside=False)  # every stored row, in the wards or not
    assert dict(zip(by_month["month"].dt.strftime("%Y-%m"), by_month["incidents"])) == STREET


def test_months_not_in_the_note_are_gaps(bundled_store):
    """2022-02 .. 2023-12 and 2024-05 .. 12 are not loaded: no partition, no rows, so every view
    that asks which months are loaded shows a gap there, never a zero."""
    loaded = bundled_store.loaded_months("police.uk")
    assert loaded == sorted(STREET)
    for month in ("2019-03", "2020-06", "2022-02", "2023-12", "2024-05", "2024-12"):
        assert month not in loaded
        assert bundled_store.counts(by=("month",), start=month, end=month).empty


def test_zips_hold_the_download_layout():
    with zipfile.ZipFile(BUNDLED_POLICE) as z:
        names = sorted(z.namelist())
    assert names == [f"{m}/{m}-hertfordshire-street.csv" for m in sorted(STREET)]
    with zipfile.ZipFile(BUNDLED_OUTCOMES) as z:
        assert sorted(z.namelist()) == [f"{m}/{m}-hertfordshire-outcomes.csv" for m in sorted(OUTCOMES)]


def test_2021_lsoa_months_are_in_the_district(bundled_store):
    """From 2024 police.uk gives 2021 LSOA codes: rows whose code is not a 2011 St Albans LSOA are
    still bundled (by LSOA name) and are placed in wards by their point."""
    rows = bundled_store.incidents(start="2024-01", end="2025-06")
    lsoa_2011 = set(bundled_store.areas("lsoa").codes)
    by_name = rows["source_lsoa_name"].str.startswith("St Albans ")
    new_codes = rows[by_name & ~rows["source_lsoa_code"].isin(lsoa_2011)]
    assert len(new_codes) > 100  # 2021 LSOAs the old code-list cut would have lost
    assert new_codes["ward_code"].notna().mean() > 0.95
    # rows of another district's LSOA are bundled only for a point in a St Albans ward of either set
    by_point = rows[~by_name]
    wards_2013 = boundaries.read(config_mod.load(config_mod.WARDS_2013_CONFIG).wards)
    in_2013 = assign(wards_2013, by_point["x"].to_numpy(), by_point["y"].to_numpy()) != None  # noqa: E711
    assert 0 < len(by_point) < 30 and (by_point["ward_code"].notna().to_numpy() | in_2013).all()
