"""Folium maps that work with no internet, drawn fast.

* Every JavaScript and CSS file is served by the app itself (Streamlit static
  serving of ``dashboard/static``): :func:`offline` rewrites each element's CDN
  links to those files and refuses any it does not know, so no request leaves
  the server. Base tiles are optional (``[map] tiles`` in the config); without
  them the ward outlines are the base map.
* Gi* and density cells are drawn as one constant-style layer per class, never
  a per-feature style function over thousands of cells (40k cells: 14 s to paint
  that way, 0.9 s as constant-style layers; shared/reference). Ward outlines are
  simplified to 20 m. Snap points go into a marker cluster, one marker per point.
* Text from data (ward names, locations, categories) is HTML-escaped.
"""
from __future__ import annotations

import html
import json

import folium
import numpy as np
import pandas as pd
import shapely
from folium.plugins import FastMarkerCluster
from pyproj import Transformer

from dashboard.palette import SEQUENTIAL, classes

STATIC = "/app/static"
#: CDN asset names (folium's) -> files served by the app.
LOCAL = {
    "leaflet": f"{STATIC}/leaflet/leaflet.js",
    "leaflet_css": f"{STATIC}/leaflet/leaflet.css",
    "markerclusterjs": f"{STATIC}/markercluster/leaflet.markercluster.js",
    "markerclustercss": f"{STATIC}/markercluster/MarkerCluster.css",
    "markerclusterdefaultcss": f"{STATIC}/markercluster/MarkerCluster.Default.css",
}
#: Assets folium lists that these maps do not use (icons, Bootstrap, jQuery): dropped.
UNUSED = {"jquery", "bootstrap", "awesome_markers", "bootstrap_css", "glyphicons_css",
          "awesome_markers_font_css", "awesome_markers_css", "awesome_rotate_css"}


#: Closest zoom (Leaflet's level 19: a street at about 0.3 m per pixel).
MAX_ZOOM = 19

_TO_WGS84 = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)


def to_wgs84(geoms: np.ndarray) -> np.ndarray:
    """EPSG:27700 shapely geometries -> WGS84 (lon, lat)."""
    return shapely.transform(geoms, lambda xy: np.column_stack(_TO_WGS84.transform(xy[:, 0], xy[:, 1])))


def wgs84_bounds(bounds_27700) -> tuple[float, float, float, float]:
    """(west, south, east, north) in degrees of EPSG:27700 bounds (minx, miny, maxx, maxy)."""
    (x0, x1), (y0, y1) = _TO_WGS84.transform([bounds_27700[0], bounds_27700[2]], [bounds_27700[1], bounds_27700[3]])
    return x0, y0, x1, y1


def base_map(bounds: tuple[float, float, float, float], tiles: str | None = None,
             attribution: str | None = None) -> folium.Map:
    """An empty map fitted to ``bounds`` (:func:`wgs84_bounds`), with optional tiles, zooming in to
    :data:`MAX_ZOOM` (a map without tiles must say: the marker cluster refuses a map without a maximum).

    (pyproj gives each thread its own transformer, and Streamlit runs each rerun in a new
    thread: pages compute the bounds once and cache them.)"""
    x0, y0, x1, y1 = bounds
    m = folium.Map(location=[(y0 + y1) / 2, (x0 + x1) / 2], tiles=None,
                   control_scale=True, zoom_snap=0.25,
                   maxZoom=MAX_ZOOM)  # folium gives its max_zoom to tiles only; this is the map's
    if tiles:
        folium.TileLayer(tiles=tiles, attr=attribution or "map tiles", name="Base map").add_to(m)
    m.fit_bounds([[y0, x0], [y1, x1]])
    return m


def prepare(geoms: np.ndarray, simplify: float = 0.0) -> list[dict]:
    """EPSG:27700 geometries as GeoJSON geometry dicts in WGS84, simplified by ``simplify`` metres
    first, coordinates rounded to 1e-5 degrees (about 1 m). Pages cache these for fixed areas."""
    if simplify:
        geoms = shapely.simplify(geoms, simplify)
    return [json.loads(shapely.to_geojson(g)) for g in shapely.set_precision(to_wgs84(geoms), 1e-5)]


def _features(geoms: list[dict], props: list[dict]) -> dict:
    """A FeatureCollection of :func:`prepare`'d geometries with their properties."""
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": p, "geometry": g} for g, p in zip(geoms, props)]}


def choropleth(m: folium.Map, geoms: list[dict], table: pd.DataFrame, value: str, name: str,
               label: str, tooltip_fields: dict[str, str], show: bool = True,
               css_class: str = "area") -> list[float]:
    """Area choropleth (one GeoJson layer; fine for tens of areas) with escaped tooltips.

    ``geoms``: :func:`prepare`'d geometries (simplified 20 m for wards);
    ``table``: one row per geometry; ``value``: the column coloured; ``tooltip_fields``:
    column -> label; ``css_class``: the SVG paths' class (for tests and styling).
    Returns the class breaks for the legend.
    """
    cls, breaks = classes(table[value].fillna(0).to_numpy())
    props = []
    for (_, row), c in zip(table.iterrows(), cls):
        p = {f"f{i}": html.escape(_fmt(row[col])) for i, col in enumerate(tooltip_fields)}
        p["fill"] = SEQUENTIAL[min(int(c), len(SEQUENTIAL) - 1)]
        props.append(p)
    data = _features(geoms, props)
    folium.GeoJson(
        data, name=name, show=show,
        style_function=lambda f: {"fillColor": f["properties"]["fill"], "color": "#222", "weight": 1.2,
                                  "fillOpacity": 0.7, "className": css_class},
        tooltip=folium.GeoJsonTooltip(fields=[f"f{i}" for i in range(len(tooltip_fields))],
                                      aliases=list(tooltip_fields.values()), sticky=True),
    ).add_to(m)
    return breaks


def outline(m: folium.Map, geoms: list[dict], names: np.ndarray, name: str = "Ward outlines") -> None:
    """Unfilled outlines (:func:`prepare`'d geometries) with the (escaped) name as tooltip: the base
    map when there are no tiles."""
    data = _features(geoms, [{"name": html.escape(str(n))} for n in names])
    folium.GeoJson(data, name=name, style_function=lambda f: {"color": "#444", "weight": 1, "fill": False},
                   tooltip=folium.GeoJsonTooltip(fields=["name"], aliases=["Ward"])).add_to(m)


def class_shapes(geoms: np.ndarray, cls: np.ndarray, values) -> dict:
    """For each class value present, its cells merged into one :func:`prepare`'d geometry (the
    slow part of a class layer: pages cache it with the analysis)."""
    return {v: prepare(np.array([shapely.union_all(geoms[cls == v])]))[0] for v in values if (cls == v).any()}


def class_layers(m: folium.Map, shapes: dict, colours: dict, labels: dict, group: str, show: bool = True) -> None:
    """One layer named ``group`` holding one merged shape per class in ``shapes``
    (:func:`class_shapes`), coloured from ``colours`` with the class label as tooltip. One layer,
    not one per class: folium compiles templates per layer on every render (measured 0.1 s of a
    0.26 s rerun with a layer per class)."""
    present = [v for v in colours if v in shapes]
    if not present:
        return
    data = _features([shapes[v] for v in present],
                     [{"fill": colours[v], "label": html.escape(labels[v])} for v in present])
    folium.GeoJson(data, name=group, show=show,
                   style_function=lambda f: {"fillColor": f["properties"]["fill"], "color": f["properties"]["fill"],
                                             "weight": 0.3, "fillOpacity": 0.65},
                   tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False)).add_to(m)


_CLUSTER_CALLBACK = """function (row) {
    var marker = L.circleMarker(new L.LatLng(row[0], row[1]),
        {radius: row[3], weight: 1, color: '#333', fillColor: row[4], fillOpacity: 0.85});
    marker.bindTooltip(row[2]);
    return marker;
}"""


def snap_rows(points: pd.DataFrame, limit: int = 2000) -> list[list]:
    """The marker rows of :func:`snap_clusters` for snap points (x, y, count, location_text,
    artefact): at most ``limit``, the busiest, tooltips escaped."""
    top = points.nlargest(limit, "count")
    lon, lat = _TO_WGS84.transform(top["x"].to_numpy(), top["y"].to_numpy())
    rows = []
    for lo, la, (_, row) in zip(lon, lat, top.iterrows()):
        text = f"{html.escape(str(row['location_text'] or 'No name'))}: {int(row['count'])} incidents"
        flagged = bool(row.get("artefact", False))
        if flagged:
            text += " (likely a snapping artefact)"
        rows.append([round(la, 5), round(lo, 5), text, round(4 + min(10, float(np.sqrt(row["count"]))), 1),
                     "#999999" if flagged else "#e66101"])
    return rows


def snap_clusters(m: folium.Map, rows: list[list]) -> None:
    """Snap point rows (:func:`snap_rows`) as clustered circle markers in one data array
    (FastMarkerCluster)."""
    FastMarkerCluster(rows, callback=_CLUSTER_CALLBACK, name="Incidents at snap points (clustered)",
                      show=False).add_to(m)


def legend(m: folium.Map, title: str, items: list[tuple[str, str]]) -> None:
    """A fixed legend box (title and colour swatches with labels, all escaped)."""
    rows = "".join(f'<div><span style="display:inline-block;width:14px;height:14px;background:{c};'
                   f'border:1px solid #333;margin-right:6px"></span>{html.escape(t)}</div>' for c, t in items)
    box = (f'<div style="position:absolute;bottom:24px;left:12px;z-index:9999;background:white;'
           f'padding:8px 10px;border:1px solid #555;font:14px sans-serif;color:#111">'
           f'<b>{html.escape(title)}</b>{rows}</div>')
    m.get_root().html.add_child(folium.Element(box))


def _fmt(v) -> str:
    if isinstance(v, float):
        return "" if np.isnan(v) else f"{v:,.1f}"
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    return str(v)


def offline(m: folium.Map) -> folium.Map:
    """Point every asset of ``m`` at the app's own static files; raise on any other external link."""
    stack = [m]
    while stack:
        elem = stack.pop()
        stack.extend(elem._children.values())
        for attr in ("default_js", "default_css"):
            links = getattr(elem, attr, None)
            if not links:
                continue
            local = []
            for name, url in links:
                if name in LOCAL:
                    local.append((name, LOCAL[name]))
                elif name not in UNUSED:
                    raise ValueError(f"map element {type(elem).__name__} needs {url}, which is not served locally")
            setattr(elem, attr, local)
    return m
