"""police.uk outcomes: the loader (loaders/outcomes.py), each crime's latest outcome in the store, a
download folder with street, outcomes and stop-and-search files side by side, and the shares of a
selection's outcomes (geodata/methods/outcomes.py)."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import zipfile

import pandas as pd
import pytest

from geodata.methods import outcomes as shares_mod
from geodata.pipeline.ingest import ingest_download, ingest_outcomes
from geodata.store import StoreError
from loaders import outcomes, police
from loaders.report import LoadError
from tests.conftest import BUNDLED_OUTCOMES, REPO, write_config

OUT_HEADER = ",".join(outcomes.HEADER)
STREET_HEADER = ",".join(police.HEADER)
FORCE = "Hertfordshire Constabulary"
# a point in St Albans city centre (St Peters / Verulam area)
LON, LAT = "-0.338", "51.752"


def out_row(crime, month, outcome, lon=LON, lat=LAT):
    return f"{crime},{month},{FORCE},{FORCE},{lon},{lat},On or near High Street,E01023700,St Albans 001A,{outcome}"


def street_row(crime, month, category="Burglary", outcome="Under investigation"):
    return (
        f"{crime},{month},{FORCE},{FORCE},{LON},{LAT},On or near High Street,E01023700,St Albans 001A,"
        f"{category},{outcome},"
    )


def test_loader_loads_or_rejects_every_row():
    data = "\n".join(
        [
            OUT_HEADER,
            out_row("c1", "2021-02", "Suspect charged"),
            out_row("", "2021-02", "Suspect charged"),  # line 3: no Crime ID
            out_row("c2", "2021-13", "Local resolution"),  # line 4: bad month
            out_row("c3", "2021-02", ""),  # line 5: no outcome type
            out_row("c4", "2021-02", "Local resolution", lon="abc"),  # line 6: bad coordinate
            out_row("c5", "2021-02", "Local resolution", lon="2.35", lat="48.85"),  # line 7: Paris
            out_row("c6", "2021-02", "Local resolution") + ",extra",  # line 8: 11 fields
            f"c7,2021-02,{FORCE},{FORCE},,,No location,,,Offender given a caution",
        ]
    ).encode()
    table, report = outcomes.parse("x-outcomes.csv", data)
    assert report.rows_read == 8 == report.rows_loaded + len(report.rejected)
    assert table["record_id"].to_pylist() == ["c1", "c7"] and report.no_location == 1
    assert [(r.line, r.field) for r in report.rejected] == [
        (3, "Crime ID"),
        (4, "Month"),
        (5, "Outcome type"),
        (6, "Longitude/Latitude"),
        (7, "Longitude/Latitude"),
        (8, "(row)"),
    ]
    assert all(r.file == "x-outcomes.csv" and r.reason for r in report.rejected)
    first = table.to_pylist()[0]
    assert first["month"].isoformat() == "2021-02-01" and first["outcome"] == "Suspect charged"
    assert first["location_text"] == "High Street" and first["line"] == 2 and first["dataset"] == "hertfordshire"
    assert 510_000 < first["x"] < 520_000 and table.to_pylist()[1]["x"] is None


def test_loader_refuses_a_street_file_given_as_outcomes(tmp_path):
    with pytest.raises(LoadError, match="not a data.police.uk outcomes file: header lacks Outcome type"):
        outcomes.parse("2021-02-x-outcomes.csv", f"{STREET_HEADER}\n{street_row('c1', '2021-02')}\n".encode())


def test_bundled_outcomes_load_whole():
    table, report = outcomes.read(BUNDLED_OUTCOMES)
    assert report.rows_read == report.rows_loaded == table.num_rows > 9000 and not report.rejected
    assert len(report.files) == 13


def _write(folder, name, lines):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def _mixed_download(folder):
    """A download of two months: street, outcomes and stop-and-search files side by side, and a stray file."""
    _write(
        folder,
        "2021-01/2021-01-hertfordshire-street.csv",
        [
            STREET_HEADER,
            street_row("c1", "2021-01"),
            street_row("c2", "2021-01"),
            street_row("c3", "2021-01"),
            street_row("", "2021-01", "Anti-social behaviour", ""),
        ],
    )
    _write(
        folder,
        "2021-02/2021-02-hertfordshire-street.csv",
        [STREET_HEADER, street_row("c4", "2021-02", "Vehicle crime", "Investigation complete; no suspect identified")],
    )
    _write(
        folder,
        "2021-01/2021-01-hertfordshire-outcomes.csv",
        [OUT_HEADER, out_row("c1", "2021-01", "Under investigation"), out_row("c2", "2021-01", "Local resolution")],
    )
    _write(
        folder,
        "2021-02/2021-02-hertfordshire-outcomes.csv",
        [
            OUT_HEADER,
            out_row("c1", "2021-02", "Suspect charged"),  # c1: later month wins
            out_row("c3", "2021-02", "Unable to prosecute suspect"),
            out_row("c3", "2021-02", "Offender given a caution"),  # c3: two outcomes in its latest month
            out_row("old", "2021-02", "Suspect charged"),
        ],
    )  # a crime of a month not loaded
    _write(folder, "2021-02/2021-02-hertfordshire-stop-and-search.csv", ["Type,Date", "Person search,2021-02-03"])
    _write(folder, "README.txt", ["notes"])


def test_each_crime_gets_its_latest_outcome(tmp_path, empty_store):
    _mixed_download(tmp_path / "dl")
    report = ingest_download(empty_store, [tmp_path / "dl"])
    assert report.street.rows_loaded == 5 and report.outcomes.rows_loaded == 6
    assert report.outcomes.rows_read == report.outcomes.rows_loaded + len(report.outcomes.rejected)
    latest = empty_store.latest_outcomes().set_index("record_id")
    assert latest.loc["c1", "outcome"] == "Suspect charged" and latest.loc["c1", "outcome_from"] == "outcomes file"
    assert latest.loc["c1", "outcome_month"].strftime("%Y-%m") == "2021-02"
    assert latest.loc["c2", "outcome"] == "Local resolution"
    assert latest.loc["c3", "outcome"] == "Offender given a caution" and latest.loc["c3", "ambiguous"]  # later line
    assert latest.loc["c4", "outcome"] == "Investigation complete; no suspect identified"
    assert latest.loc["c4", "outcome_from"] == "street file" and pd.isna(latest.loc["c4", "outcome_month"])
    asb = latest[latest["category"] == "Anti-social behaviour"]
    assert len(asb) == 1 and asb["outcome"].isna().all() and asb["outcome_from"].isna().all()
    assert "old" not in latest.index and not latest.loc[["c1", "c2", "c4"], "ambiguous"].any()
    # the outcomes months are listed as loaded, as their own source
    parts = empty_store.partitions()
    assert sorted(parts.loc[parts["source"] == "police.uk outcomes", "month"].dt.strftime("%Y-%m")) == [
        "2021-01",
        "2021-02",
    ]
    # loading a month's outcomes again replaces it (no duplicates)
    ingest_outcomes(empty_store, [tmp_path / "dl" / "2021-02"])
    again = empty_store.latest_outcomes().set_index("record_id")
    assert again.equals(latest)


def test_mixed_folder_lists_every_file(tmp_path):
    _mixed_download(tmp_path / "dl")
    kinds, skipped = police.download_files([tmp_path / "dl"])
    assert [n.split("/")[-1] for n, _ in kinds[police.STREET]] == [
        "2021-01-hertfordshire-street.csv",
        "2021-02-hertfordshire-street.csv",
    ]
    assert len(kinds[police.OUTCOMES]) == 2
    reasons = {n.split("/")[-1]: r for n, r in skipped}
    assert set(reasons) == {"2021-02-hertfordshire-stop-and-search.csv", "README.txt"}
    assert reasons["2021-02-hertfordshire-stop-and-search.csv"].startswith("stop-and-search file: not loaded")
    assert "not a data.police.uk" in reasons["README.txt"]
    with pytest.raises(LoadError, match="holds no"):  # a stop-and-search file alone: nothing to load
        police.download_files([tmp_path / "dl" / "2021-02" / "2021-02-hertfordshire-stop-and-search.csv"])


def test_cli_ingests_a_mixed_folder_and_a_mixed_zip(tmp_path):
    _mixed_download(tmp_path / "dl")
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in sorted((tmp_path / "dl").rglob("*")):
            if f.is_file():
                z.write(f, f.relative_to(tmp_path / "dl").as_posix())
    cfg = write_config(tmp_path)
    for source in (tmp_path / "dl", archive):
        # the constructed months hold a few rows where the bundled store holds hundreds: asked for
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "dashboard.cli",
                "ingest",
                "police",
                str(source),
                "--replace-smaller",
                "--config",
                str(cfg),
            ],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=180,
        )
        assert out.returncode == 0, out.stderr
        assert "police.uk: 2 file(s), 5 rows read, 5 loaded, 0 rejected" in out.stdout
        assert "police.uk outcomes: 2 file(s), 6 rows read, 6 loaded, 0 rejected" in out.stdout
        assert "2021-02-hertfordshire-stop-and-search.csv: stop-and-search file: not loaded" in out.stdout
        assert "README.txt: not a data.police.uk street, outcomes or stop-and-search file" in out.stdout


def test_shares_on_constructed_outcomes():
    frame = pd.DataFrame(
        {
            "category": ["Burglary"] * 8 + ["Anti-social behaviour"],
            "outcome": [
                "Suspect charged",
                "Awaiting court outcome",
                "Under investigation",
                "Investigation complete; no suspect identified",
                "Investigation complete; no suspect identified",
                "Unable to prosecute suspect",
                "A new outcome name",
                None,
                None,
            ],
            "outcome_from": ["outcomes file"] * 2 + ["street file"] * 5 + [None, None],
            "ambiguous": [True] + [False] * 8,
        }
    )
    result = shares_mod.shares(frame)
    assert result.crimes == 8 and result.no_outcome == 1 and result.with_outcome == 7
    assert result.counts == {
        "charged or summonsed": 2,
        "under investigation": 1,
        "no suspect identified": 2,
        "other": 2,
    }
    assert result.shares["charged or summonsed"] == pytest.approx(2 / 7)
    assert sum(result.shares.values()) == pytest.approx(1)
    assert result.unknown == {"A new outcome name": 1} and result.ambiguous == 1 and result.from_outcomes_files == 2
    empty = shares_mod.shares(frame.iloc[8:])
    assert empty.crimes == 0 and all(v is None for v in empty.shares.values())


def _latest_from_zips():
    """Each bundled crime's latest outcome worked out from the zips with the csv module alone."""
    street, latest = {}, {}
    for path in police.list_files([BUNDLED_OUTCOMES.with_name("hertfordshire-st-albans-street.zip")]):
        for r in csv.DictReader(io.StringIO(path[1]().decode())):
            if r["Crime ID"]:
                street[r["Crime ID"]] = (r["Month"], r["Crime type"], r["Last outcome category"])
    for _name, read in police.list_files([BUNDLED_OUTCOMES], police.OUTCOMES):
        for r in csv.DictReader(io.StringIO(read().decode())):
            if r["Month"] >= latest.get(r["Crime ID"], ("",))[0]:
                latest[r["Crime ID"]] = (r["Month"], r["Outcome type"])
    return street, latest


def test_bundled_priority_outcomes_match_the_files(bundled_store):
    """P1's crimes (drugs, weapons) of 2021: the shares from the store equal those worked out from
    the bundled zips directly; most of those crimes have an outcome from an outcomes file."""
    street, latest = _latest_from_zips()
    cats = ["Drugs", "Possession of weapons"]
    located = set(bundled_store.latest_outcomes(start="2021-01", end="2021-12", categories=cats)["record_id"])
    expected = {g: 0 for g in shares_mod.GROUPS}
    for crime, (_month, _category, last) in street.items():
        if crime in located:
            expected[shares_mod.group(latest.get(crime, (None, last))[1])] += 1
    got = shares_mod.outcome_shares(bundled_store, "2021-01", "2021-12", categories=cats)
    assert got.counts == expected and got.crimes == len(located) > 100
    assert got.from_outcomes_files > got.crimes / 2 and got.unknown == {}
    assert got.counts["charged or summonsed"] > 0 and got.counts["under investigation"] > 0


def test_a_truncated_outcomes_month_is_refused_like_every_source(tmp_path, empty_store):
    # outcomes load through the store's one write primitive, so the shrink rule holds for them too
    full = _write(
        tmp_path / "full",
        "2021-02-hertfordshire-outcomes.csv",
        [OUT_HEADER] + [out_row(f"c{i}", "2021-02", "Suspect charged") for i in range(6)],
    )
    cut = _write(
        tmp_path / "cut",
        "2021-02-hertfordshire-outcomes.csv",
        [OUT_HEADER, out_row("c0", "2021-02", "Suspect charged")],
    )
    ingest_outcomes(empty_store, [full])
    with pytest.raises(StoreError, match=r"police\.uk outcomes .* 2021-02: the new load has 1 row, the store holds 6"):
        ingest_outcomes(empty_store, [cut])
    parts = empty_store.partitions()
    assert parts.loc[parts["source"] == "police.uk outcomes", "rows"].tolist() == [6]  # nothing changed
    ingest_outcomes(empty_store, [cut], replace_smaller=True)
    parts = empty_store.partitions()
    assert parts.loc[parts["source"] == "police.uk outcomes", "rows"].tolist() == [1]
