"""The meeting pack audited as the pages were (issue 24, high 1): for a constructed sensitive data set
(the synthetic council exports of :mod:`geodata.pipeline.synthetic`, loaded through the council loader)
the public pack reads council records only through the published cells, and an attacker who holds
every public figure of every pack (each Meeting window) learns no true count of 1 to 4 to fewer than
three values (the integer program of tests/methods/test_disclosure_audit.py)."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from dashboard.render import pack
from geodata import priorities as priorities_mod
from geodata.analysis import ANALYST, PUBLIC, Selection, rules
from geodata.analysis import hotspots_for as hotspots_mod
from geodata.bundled import ST_ALBANS as BUNDLE
from geodata.methods import disclosure
from geodata.pipeline import synthetic
from geodata.pipeline.build import open_store
from geodata.pipeline.ingest import ingest_council
from geodata.priorities import Measure
from tests.conftest import config_with_store
from tests.methods.test_disclosure_audit import MIN_VALUES, WINDOWS, Attacker

END = "2022-01"  # the synthetic council exports run 2021-01 to 2022-01
#: The periods' last months the audit's packs end at (each with every Meeting window).
ENDS = ("2021-11", END)


@pytest.fixture(scope="module")
def council_store(tmp_path_factory):
    """The bundled store with synthetic council fly-tipping (shape A) and incident-log exports loaded,
    under a fixed disclosure key (the same draws every run)."""
    folder = tmp_path_factory.mktemp("packaudit")
    cfg = config_with_store(folder)
    (folder / "store.duckdb.disclosure-key").write_bytes(bytes(range(32)))
    store = open_store(cfg)
    tips = synthetic.write_flytipping_a(synthetic.flytipping_records(store), folder / "SYNTHETIC-tips.csv")
    log = synthetic.write_incidents(synthetic.incident_records(store, per_month=60), folder / "SYNTHETIC-log.csv")
    assert ingest_council(store, tips, BUNDLE / "council/mapping-council-a.toml").rows_loaded > 0
    assert ingest_council(store, log, BUNDLE / "council/mapping-incidents.toml").rows_loaded > 0
    return store


def _spy(store, monkeypatch) -> list[tuple]:
    """Record every read of a sensitive source's records (the method, its grouping, the frame it
    returned), and every frame handed to :func:`geodata.analysis.rules.public_cells`."""
    calls: list[tuple] = []
    for name in ("incidents", "counts", "ward_summary", "latest_outcomes"):
        real = getattr(store, name)

        def spy(*args, _real=real, _name=name, **kw):
            out = _real(*args, **kw)
            if kw.get("source") in disclosure.SENSITIVE_SOURCES:
                calls.append((_name, kw.get("by", args[0] if args else None), id(out)))
            return out

        monkeypatch.setattr(store, name, spy)
    real_cells = rules.public_cells

    def cells(store_, counts, *a, **kw):
        calls.append(("public_cells", None, id(counts)))
        return real_cells(store_, counts, *a, **kw)

    monkeypatch.setattr(rules, "public_cells", cells)
    return calls


def test_public_pack_reads_council_records_only_through_the_published_cells(council_store, monkeypatch):
    """The pack's maps called the hot spot analysis on the true council records (every measure on a point
    source, withheld or not, flags ignored). Now every read of a sensitive source while the public pack
    is built (figures and maps; PDF and HTML are drawn from it) is a ward-by-month count that goes
    straight into the published cells."""
    calls = _spy(council_store, monkeypatch)
    plist = priorities_mod.load(priorities_mod.DEFAULT_PRIORITIES)
    built = pack.build(council_store, plist, end=END)
    assert pack.render(built, "pdf").startswith(b"%PDF") and b"<section>" in pack.render(built, "html")
    withheld = [m for r in built.results for m in r.measures if m.withheld and m.current.count]
    assert {m.measure.source for m in withheld} == set(disclosure.SENSITIVE_SOURCES)  # both council sources mapped
    reads = [c for c in calls if c[0] != "public_cells"]
    published = {c[2] for c in calls if c[0] == "public_cells"}
    assert reads, "the spy saw no read of a council source"
    for method, by, frame in reads:
        assert method == "counts" and by == ("ward_code", "month") and frame in published, (method, by)


def test_hot_spots_refuse_withheld_sources_and_flagged_measures(council_store):
    """The one rule for hot spots of sensitive records: none for an audience without exact counts, and a
    measure with flags is not mapped (a selection carries no flags, so its hot spots would count the
    records the measure leaves out: the public "mental health" map was 99% records not so flagged)."""
    sel = Selection.of("2021-07", END, source="council-incidents")
    with pytest.raises(hotspots_mod.Withheld, match="sensitive"):
        hotspots_mod.hotspots_for(council_store, sel, audience=PUBLIC)
    with pytest.raises(hotspots_mod.Withheld, match="sensitive"):
        hotspots_mod.emerging_for(council_store, sel, audience=PUBLIC)
    assert hotspots_mod.hotspots_for(council_store, sel, audience=ANALYST).incidents > 30
    flagged = Measure("council-incidents", (), "Mental health", ("mental-health",))
    for audience, why in ((PUBLIC, hotspots_mod.NO_HOTSPOTS_WITHHELD), (ANALYST, hotspots_mod.NO_HOTSPOTS_FLAGGED)):
        assert hotspots_mod.measure_hotspots(council_store, flagged, "2021-07", END, audience) == (None, why)
    police = Measure("police.uk", ("Burglary",), "Burglary")
    found, why = hotspots_mod.measure_hotspots(council_store, police, "2021-07", END, PUBLIC)
    assert why is None and found is not None and found.incidents > 0


# ------------------------------------------------------------------ the integer-program audit of the pack
def _figures(built: pack.Pack) -> list[tuple[str, tuple[str, ...], tuple[str, ...], int]]:
    """Every public figure of a council measure in ``built``: (table, wards (empty: all), months, value):
    the period's count, each comparison's count, each ward's count now and in the compared period (the
    ward table and the map), and each month of the series. Also checks that each headline number, the
    numbers the overview and priority pages show, is one of them."""
    out = []
    for r in built.results:
        for m in r.measures:
            if not m.withheld:
                continue
            table = disclosure.table_id(m.measure.source, m.measure.categories, m.measure.flags)
            # the period, the months of it compared and their counterparts (the one comparison, status.Change)
            figs = [m.current, m.change.current, m.change.base]
            for f in figs:
                if f.count is not None:
                    out.append((table, (), f.counted, f.count))
            for column, f in (("current", m.current), ("compared", m.change.current), ("previous", m.change.base)):
                if f.count is None or column not in m.wards:
                    continue
                for ward, value in m.wards.set_index("ward_code")[column].items():
                    if not pd.isna(value):
                        out.append((table, (ward,), f.counted, int(value)))
            for month, count in zip(m.series["month"], m.series["count"]):
                if count is not None and not pd.isna(count):
                    out.append((table, (), (month,), int(count)))
    shown = {f[3] for f in out}
    for ps in built.slides.priorities:
        for part in ps.parts:
            if part.status.withheld:
                assert int(part.headline.number.replace(",", "")) in shown
    return out


def test_every_public_figure_of_every_pack_keeps_small_counts_protected(council_store):
    """An attacker holds every figure of the public packs for each Meeting window ending at two of the
    council records' months (:data:`ENDS`). Unknowns: the true count of each ward-month cell of each
    public table, and its public cell ``5k`` (``5k - 4 <= x <= 5k + 4``); each figure is a sum of public
    cells. Every true count of 1 to 4 (a cell, or the true counterpart of a figure) must keep at least
    three feasible values; and every figure must be the sum of the cells the rule publishes (none made
    from the true records)."""
    plist = priorities_mod.load(priorities_mod.DEFAULT_PRIORITIES)
    packs = [pack.build(council_store, plist, end=end, window=w) for end in ENDS for w in WINDOWS]
    figures = [f for built in packs for f in _figures(built)]
    tables = {f[0] for f in figures}
    assert tables == {
        disclosure.table_id("council-incidents", flags=["mental-health"]),
        disclosure.table_id("council-flytipping"),
    }
    wards = list(council_store.wards()["ward_code"])
    truth: dict[tuple[str, str, str], int] = {}
    published: dict[tuple[str, str, str], int] = {}
    for table in tables:
        source, cats, flags = re.fullmatch(r"(.*)\|cat=(.*)\|flags=(.*)", table).groups()  # type: ignore[union-attr]
        true = council_store.counts(
            by=("ward_code", "month"),
            source=source,
            categories=cats.split(";") if cats else None,
            flags=flags.split(";") if flags else None,
            inside=True,
        )
        public = rules.public_cells(
            council_store, true, source, cats.split(";") if cats else (), flags.split(";") if flags else ()
        )
        for frame, into in ((true, truth), (public, published)):
            for w, mo, n in zip(frame["ward_code"], frame["month"].dt.strftime("%Y-%m"), frame["incidents"]):
                into[(table, w, mo)] = int(n)
    att = Attacker()
    x, k = {}, {}
    for table, _, months, _ in figures:
        for w in wards:
            for mo in months:
                if (table, w, mo) not in x:
                    x[(table, w, mo)], k[(table, w, mo)] = att.var(), att.var()
                    att.add(
                        {x[(table, w, mo)]: 1, k[(table, w, mo)]: -disclosure.BASE},
                        1 - disclosure.BASE,
                        disclosure.BASE - 1,
                    )
    protected = [({x[c]: 1}, truth.get(c, 0)) for c in x if disclosure.is_small(truth.get(c, 0))]
    for table, fwards, months, value in figures:
        cells = [(table, w, mo) for w in (fwards or wards) for mo in months]
        assert value == sum(published.get(c, 0) for c in cells), (table, fwards, months, value)
        att.add({k[c]: disclosure.BASE for c in cells}, value, value)
        true = sum(truth.get(c, 0) for c in cells)
        if disclosure.is_small(true):
            protected.append(({x[c]: 1 for c in cells}, true))
    small_cells = sum(1 for c in x if disclosure.is_small(truth.get(c, 0)))
    assert small_cells > 100 and len(figures) > 500  # a sparse data set, and many figures to combine
    ranges = att.ranges([e for e, _ in protected])
    assert all(lo <= n <= hi for (lo, hi), (_, n) in zip(ranges, protected))
    worst = min(hi - lo + 1 for lo, hi in ranges)
    print(f"\n{len(figures):,} pack figures, {len(protected):,} protected counts, fewest feasible values {worst}")
    assert worst >= MIN_VALUES
