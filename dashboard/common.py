"""What every page shares: the store (cached once per server), the filters kept in the URL,
and the attributions every licence asks for."""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import pandas as pd
import shapely
import streamlit as st

from dashboard import access
from dashboard.attributions import ATTRIBUTIONS
from dashboard.markdown import inert
from geodata import config as config_mod
from geodata import export, sources
from geodata import priorities as priorities_mod
from geodata.analysis import ANALYST, PUBLIC, Audience, Selection, rules
from geodata.methods.pvalue import format_p
from geodata.pipeline.build import open_store
from geodata.store import Store
from loaders import months as months_mod

if TYPE_CHECKING:  # the meeting's analysis and the static maps are imported by the pages that show them
    from geodata.analysis import meeting as meeting_mod
    from geodata.analysis import status as status_mod

CRIME_TYPES = sources.POLICE.categories
T = TypeVar("T")

#: Set when this process's first page run starts (:mod:`dashboard.app`): the server's warm-up
#: (:mod:`dashboard.server`) then leaves the default page's figures to that page.
page_run_started = threading.Event()


def config_path() -> str | None:
    """``--config`` after ``streamlit run app.py --``, else $CSP_HOTSPOTS_CONFIG, else the bundled one."""
    return _config_arg(tuple(sys.argv[1:])) or os.environ.get("CSP_HOTSPOTS_CONFIG")


@functools.lru_cache(maxsize=8)
def _config_arg(argv: tuple[str, ...]) -> str | None:
    """The ``--config`` of ``argv``, parsed once per argument list: a page run asks for it about 17 times,
    and each new parser looked up its message translations on disk (about 9 file checks, each one a wait
    for the interpreter lock when sessions run at once; issue 23)."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--config")
    return parser.parse_known_args(list(argv))[0].config


@st.cache_resource
def _store(path: str | None) -> Store:
    return open_store(config_mod.load(path))


def store() -> Store:
    """The app's store, opened (and on first run built) once per server process."""
    return _store(config_path())


def cached(fn: Callable[..., T], *args) -> T:
    """``fn(store, *args)`` on the app's store, cached per store, function and arguments and shared by
    sessions until the next load (:func:`follow_loads`; ``st.cache_data`` hands each caller its own copy).
    The one way a page caches an analysis: the store is an argument, not a lookup hidden in the cached
    function, and whatever the answer depends on is among ``args``: the
    :class:`~geodata.analysis.Audience` (:func:`audience`) whenever the answer can differ by who looks."""
    return _cached(config_path(), fn.__module__, fn.__qualname__, args)


@st.cache_data(max_entries=256, show_spinner=False)
def _cached(path: str | None, module: str, name: str, args: tuple):
    """The cached call of :func:`cached` (a function is keyed by its module and name: a function
    object cannot be hashed by Streamlit's cache)."""
    import importlib

    return getattr(importlib.import_module(module), name)(_store(path), *args)


@st.cache_resource
def _seen() -> dict:
    """The store's load generation this server process last ran a page on."""
    return {"generation": None}


def follow_loads() -> None:
    """Every page sees new data at once: when the store's load generation
    (:meth:`geodata.store.Store.generation`, bumped by every committed load, from this process or a
    `csp-hotspots ingest` beside it) differs from the one this process last saw, every cached
    figure is dropped before the page runs (the caches hold no figure older than the store).
    Called by the app before each page run; a file read, microseconds."""
    now = store().generation()
    seen = _seen()
    if seen["generation"] is not None and seen["generation"] != now:
        st.cache_data.clear()
        st.cache_resource.clear()  # the store object too: its areas and population are read again
        seen = _seen()
    seen["generation"] = now


@st.cache_data
def months(path: str | None) -> list[str]:
    """Months with police.uk data, 'YYYY-MM', oldest first."""
    return _store(path).loaded_months(sources.DEFAULT)


def _param_list(name: str, allowed) -> list[str]:
    raw = st.query_params.get_all(name)
    return [v for v in raw if v in allowed]


def _opening() -> tuple[list[str], rules.Opening, dict[str, str]]:
    """The loaded months, the period a page opens on and the wards' names (a store with no police.uk month: a
    warning, and the page stops)."""
    all_months = months(config_path())
    if not all_months:
        st.warning("The store holds no police.uk data yet: load a month with `csp-hotspots ingest police`.")
        st.stop()
    wards = store().wards()
    return all_months, rules.opening_period(all_months), dict(zip(wards["ward_code"], wards["ward_name"]))


def _url_period(all_months: list[str], default: months_mod.Period) -> tuple[str, str]:
    """The URL's ``from`` and ``to`` where they are loaded months in order, else ``default``'s (``to``: the latest)."""
    start = st.query_params.get("from", default.start)
    end = st.query_params.get("to", default.end)
    start = start if start in all_months else default.start
    return start, end if end in all_months and end >= start else all_months[-1]


def url_filters() -> dict:
    """What :func:`filters` returns before its widgets are changed (the URL's ``from``, ``to``, ``cat`` and ``ward``,
    values not in the data ignored, else the opening period), with no widget drawn: a page's quick first view (the
    widgets' front-end code took the browser 0.35-0.45 s before it drew a map; issue 23)."""
    all_months, opening, ward_names = _opening()
    start, end = _url_period(all_months, opening.period)
    return {
        "start": start,
        "end": end,
        "categories": _param_list("cat", CRIME_TYPES) or None,
        "wards": _param_list("ward", ward_names) or None,
        "ward_names": ward_names,
    }


def filters(key: str = "f") -> dict:
    """Month range, categories and wards, as sidebar widgets whose state lives in the URL.

    Query parameters: ``from``, ``to`` (YYYY-MM), ``cat`` and ``ward`` (repeated). Values
    not in the data are ignored, so a shared link reopens the same view or a valid one.
    """
    all_months, opening, ward_names = _opening()
    start, end = _url_period(all_months, opening.period)
    with st.sidebar:
        start, end = st.select_slider("Months", options=all_months, value=(start, end), key=f"{key}_months")
        period_notes(all_months, opening, start, end)
        categories = st.multiselect(
            "Crime types (none = all)", sorted(CRIME_TYPES), default=_param_list("cat", CRIME_TYPES), key=f"{key}_cats"
        )
        chosen = st.multiselect(
            "Wards (none = all)",
            list(ward_names),
            format_func=ward_names.get,
            default=None if f"{key}_wards" in st.session_state else _param_list("ward", ward_names),
            key=f"{key}_wards",
        )
    set_params({"from": start, "to": end, "cat": categories, "ward": chosen})
    return {
        "start": start,
        "end": end,
        "categories": categories or None,
        "wards": chosen or None,
        "ward_names": ward_names,
    }


def set_params(values: dict[str, str | list[str]]) -> None:
    """Put ``values`` in the URL's query parameters (a list: the parameter repeated, empty: removed),
    setting only those that differ: each set sends the whole query string to the browser again."""
    for name, value in values.items():
        if st.query_params.get_all(name) != ([value] if isinstance(value, str) else list(value)):
            st.query_params[name] = value


def period_notes(all_months: list[str], opening: rules.Opening, start: str, end: str) -> None:
    """Under a period choice: why the page opened on its period (:func:`geodata.analysis.rules.opening_period`),
    while that period is the one chosen, and which months are loaded."""
    if opening.note and (start, end) == (opening.period.start, opening.period.end):
        st.caption(opening.note)
    st.caption(f"Loaded: {sources.DEFAULT}, {months_mod.listing(all_months)}.")


def download_name(kind: str, selection: Selection, ext: str) -> str:
    """A download's file name carrying what it shows: ``csp-hotspots_<kind>_<from>_to_<to>[_<types>][_<wards>].<ext>``
    (crime types and ward codes joined by '+', file-name safe)."""
    import re

    parts = ["csp-hotspots", kind, selection.period.start, "to", selection.period.end]
    if selection.categories:
        parts.append("+".join(selection.categories))
    if selection.wards:
        parts.append("+".join(selection.wards))
    name = "_".join(parts)
    return re.sub(r"[^A-Za-z0-9+_.-]", "-", name)[:180] + f".{ext}"


def selection(f: dict) -> Selection:
    """The :class:`geodata.analysis.Selection` of :func:`filters`' values."""
    return Selection.of(f["start"], f["end"], f["categories"] or (), f["wards"] or ())


def audience() -> Audience:
    """Who is looking: signed-in analysts see exact counts, everyone else disclosure-controlled ones."""
    return ANALYST if access.can(store().config, "analyst") else PUBLIC


def attributions() -> None:
    """The licence attributions, as a caption."""
    st.caption(" ".join(f"{name}: {text}" for name, text in ATTRIBUTIONS))


@st.cache_resource
def ward_shapes(path: str | None) -> list[dict]:
    """The wards as GeoJSON features in EPSG:27700 (:func:`_ward_outlines`; for Vega-Lite maps)."""
    return [
        {
            "type": "Feature",
            "properties": {"ward_code": c, "ward_name": n},
            "geometry": json.loads(shapely.to_geojson(g)),
        }
        for c, n, g in zip(*_ward_outlines(path))
    ]


def priorities_key() -> tuple[str, int]:
    """(path, modification time) of the config's priorities file (the bundled St Albans one when
    the config names none): the cache key, so an edited file is re-read. An unreadable or invalid
    file stops the page with its one-line message."""
    path = store().config.priorities_file or priorities_mod.DEFAULT_PRIORITIES
    try:
        key = (str(path), path.stat().st_mtime_ns)
        priorities(key)
    except (priorities_mod.PrioritiesError, OSError) as exc:
        st.error(f"The priorities file cannot be used: {exc}")
        st.stop()
    return key


@st.cache_resource(max_entries=4)
def priorities(key: tuple[str, int]) -> priorities_mod.Priorities:
    return priorities_mod.load(key[0])


@st.cache_resource(max_entries=32)
def statuses(
    path: str | None, key: tuple[str, int], end: str | None, window: int | None, compare: str | None, exact: bool = True
) -> list[status_mod.PriorityStatus]:
    """:func:`geodata.analysis.status.evaluate`, cached per store, priorities file, period and whether
    the audience sees exact counts of sensitive sources."""
    from geodata.analysis import status as status_mod

    return status_mod.evaluate(_store(path), priorities(key), end, window, compare, ANALYST if exact else PUBLIC)


@st.cache_resource(max_entries=16)
def meeting_slides(
    path: str | None, key: tuple[str, int], end: str | None, window: int | None, compare: str | None, exact: bool = True
) -> meeting_mod.Slides:
    """:func:`geodata.analysis.meeting.slides` on the cached :func:`statuses` of the same arguments."""
    from geodata.analysis import meeting as meeting_mod

    audience = ANALYST if exact else PUBLIC
    return meeting_mod.slides(
        _store(path), priorities(key), end, window, compare, audience, statuses(path, key, end, window, compare, exact)
    )


def ward_outlines():
    """(codes, names, outlines) of the wards, simplified to 20 m (EPSG:27700), cached per store."""
    return _ward_outlines(config_path())


#: The Vega-Lite schema the maps' specs are written for (Streamlit's front end draws v6).
VEGA_LITE = "https://vega.github.io/schema/vega-lite/v6.json"


def area_map(layers: list, height: int, description: str) -> dict:
    """A map of the area as a Vega-Lite spec: the ward outlines under ``layers`` (Vega-Lite layer
    specs as dicts, or Altair charts, of EPSG:27700 GeoJSON features, or marks at longitude=x,
    latitude=y), drawn as is (identity projection) as SVG by Streamlit's own front end: no CDN, no
    tiles. Show it with ``st.vega_lite_chart``. Layers given as dicts are used as they are (no Altair
    import, no schema check: the Patrol planner's first view); Altair charts are checked against the
    Vega-Lite schema as Altair builds the spec, which took most of a Trends rerun when done on every
    run, so build those in a per-filter cache. ``description`` names what the map shows for a screen
    reader (the SVG's label); its shapes are left out of the accessibility tree (each layer's mark
    ``aria: false``: Vega gave every shape group the role of an image with no name, axe-core's serious
    ``svg-img-alt``), the page's tables and captions saying what they show."""
    outline = {
        "data": {"values": ward_shapes(config_path())},
        "mark": {"type": "geoshape", "fill": "#f4f4f4", "stroke": "#555", "strokeWidth": 0.6},
    }
    usermeta = {"embedOptions": {"renderer": "svg"}}
    if all(isinstance(layer, dict) for layer in layers):
        spec = {
            "$schema": VEGA_LITE,
            "layer": [outline, *layers],
            "projection": {"type": "identity", "reflectY": True},
            "height": height,
            "usermeta": usermeta,
        }
    else:
        import altair as alt  # only the pages that draw Altair charts pay for the import

        spec = (
            alt.layer(alt.Chart.from_dict(outline), *layers)
            .project(type="identity", reflectY=True)
            .properties(height=height, usermeta=usermeta)
            .to_dict()
        )
    marks = [m if isinstance(m, dict) else {"type": m} for m in (layer["mark"] for layer in spec["layer"])]
    layered = [{**layer, "mark": {**m, "aria": False}} for layer, m in zip(spec["layer"], marks)]
    return {**spec, "layer": layered, "description": str(description)}


@st.cache_resource
def map_bounds(path) -> tuple[float, float, float, float]:
    """The area's bounds in WGS84 degrees (once per store)."""
    from dashboard.render import maps

    return maps.wgs84_bounds(_store(path).boundary().bounds)


@st.cache_resource
def area_shapes(path, level: str) -> list[dict]:
    """The ward or LSOA outlines, simplified 20 m, as WGS84 GeoJSON geometries (once per store)."""
    from dashboard.render import maps

    return maps.prepare(_store(path).areas(level).geometries, simplify=20)


@st.cache_resource
def label_points(path, level: str) -> list[list[float]]:
    """Where each ward's or LSOA's name is drawn (once per store)."""
    from dashboard.render import maps

    return maps.label_points(_store(path).areas(level).geometries)


def ward_map(path) -> dict:
    """A new interactive map spec (:mod:`dashboard.render.maps`) of the area, fitted to it: the config's base map
    (tiles, a local PMTiles file, or the offline streets) under every ward, outlined and named."""
    from dashboard.render import maps

    store = _store(path)
    m = maps.base_map(
        map_bounds(path),
        store.config.map_tiles,
        store.config.map_attribution,
        basemap=store.config.map_basemap is not None,
        streets=store.config.map_streets is not None and store.config.map_basemap is None,
    )
    maps.outline(m, area_shapes(path, "ward"), store.areas("ward").names, label_points(path, "ward"))
    return m


def streets():
    """The config's offline base map (``[map] streets``, :func:`geodata.basemap.load`), or None; read once."""
    return _streets(config_path())


@st.cache_resource
def _streets(path: str | None):
    from geodata import basemap

    file = _store(path).config.map_streets
    return basemap.load(file) if file is not None else None


@st.cache_resource
def _ward_outlines(path: str | None):
    """Ward codes, names and outlines simplified to 20 m (EPSG:27700), for the pages' maps."""
    areas = _store(path).areas("ward")
    return areas.codes, areas.names, shapely.simplify(areas.geometries, 20)


def ward_svg(values: pd.Series, title: str, width: float = 600, font: float = 12) -> str:
    """The ward choropleth of ``values`` (indexed by ward code; NA = no data) as an inline SVG with every
    ward named (:func:`dashboard.render.staticmap.draw`, ``width`` units wide, labels ``font`` units high)."""
    return _ward_svg(
        config_path(), tuple((c, None if pd.isna(v) else int(v)) for c, v in values.items()), title, width, font
    )


@st.cache_data(max_entries=64)
def _ward_svg(path: str | None, values: tuple, title: str, width: float, font: float) -> str:
    from dashboard.render import staticmap

    return staticmap.draw(
        _ward_outlines(path), width=width, values=dict(values), legend_title=title, font=font, title=f"{title} by ward"
    ).svg()


#: A shown column holding p-values: "p", or "p (...)" ("p (adjusted)", "p (change test)").
P_COLUMN = re.compile(r"p( \(.+\))?")


def p_as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its p-value columns (:data:`P_COLUMN`) written by the one rule
    (:func:`geodata.methods.pvalue.format_p`: "< 0.001", never 0), as every page shows them."""
    cols = [c for c in frame.columns if isinstance(c, str) and P_COLUMN.fullmatch(c)]
    return frame.assign(**{c: frame[c].map(format_p) for c in cols}) if cols else frame


#: Shown columns of rates (:func:`geodata.analysis.rules.rate_per_1000`: two significant figures).
RATE_COLUMNS = ("Per 1,000 residents",)
#: The ward table's columns (:data:`geodata.analysis.ward_table.COLUMNS`) as every page shows them.
WARD_COLUMNS = {
    "ward_code": "Ward code",
    "ward_name": "Ward",
    "incidents": "Incidents",
    "within_20m_of_edge": f"Within {rules.EDGE_METRES:g} m of edge",
    "population": "Residents",
    "rate": RATE_COLUMNS[0],
    "previous": "Previous period",
    "change": "Change",
    "p_adj": "p (adjusted)",
    "harm": "Harm",
}


def _number_formats(frame: pd.DataFrame) -> dict:
    """Column formats for the interactive table: rates as rounded (two significant figures: 450, 4.5,
    0.45), whole-number columns with thousands separators."""
    out = {}
    for c in frame.columns:
        if c in RATE_COLUMNS:
            out[c] = st.column_config.NumberColumn(format="plain")
        elif pd.api.types.is_integer_dtype(frame[c]):
            out[c] = st.column_config.NumberColumn(format="localized")
    return out


def table(frame: pd.DataFrame, *, hide_index: bool | None = None, height: int | None = None) -> None:
    """Show a table the way the audience may take it away, without empty columns, p-values as text
    (:func:`p_as_text`).
    Analysts get Streamlit's interactive table, whose toolbar downloads it as CSV, so its text cells
    are neutralised first (:func:`geodata.export.csv_safe`: no cell runs as a spreadsheet formula).
    Everyone else gets a static table (``st.table``): no toolbar, no download (downloads are for analysts)."""
    if len(frame):  # a column with nothing in it (no comparison possible, no harm weights) is not shown
        frame = frame.dropna(axis=1, how="all")
    frame = p_as_text(frame)
    if access.can(store().config, "analyst"):
        st.dataframe(
            export.csv_safe(frame), hide_index=hide_index, height=height or "auto", column_config=_number_formats(frame)
        )
    else:
        rates = [c for c in RATE_COLUMNS if c in frame]
        frame = frame.assign(**{c: frame[c].map(rules.rate_text) for c in rates}) if rates else frame
        # st.table renders Markdown in every cell and heading: text from data is shown as text
        st.table(_inert_frame(frame), hide_index=hide_index, **({"height": height} if height else {}))


def _inert_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell, column name and index label through :func:`dashboard.markdown.inert`."""

    def text(v):
        return inert(v) if isinstance(v, str) else v

    out = frame.map(text)
    out.columns = [text(c) for c in frame.columns]
    out.index = (
        pd.Index([text(i) for i in frame.index], name=frame.index.name)
        if not isinstance(frame.index, pd.MultiIndex)
        else pd.MultiIndex.from_tuples([tuple(text(x) for x in i) for i in frame.index], names=frame.index.names)
    )
    return out
