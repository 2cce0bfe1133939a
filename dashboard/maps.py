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


_TO_WGS84 = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)


def to_wgs84(geoms: np.ndarray) -> np.ndarray:
    """EPSG:27700 shapely geometries -> WGS84 (lon, lat)."""
    return shapely.transform(geoms, lambda xy: np.column_stack(_TO_WGS84.transform(xy[:, 0], xy[:, 1])))


def base_map(bounds_27700, tiles: str | None = None, attribution: str | None = None) -> folium.Map:
    """An empty map fitted to ``bounds_27700`` (minx, miny, maxx, maxy), with optional tiles."""
    (x0, x1), (y0, y1) = _TO_WGS84.transform([bounds_27700[0], bounds_27700[2]], [bounds_27700[1], bounds_27700[3]])
    m = folium.Map(location=[(y0 + y1) / 2, (x0 + x1) / 2], tiles=None,
                   control_scale=True, zoom_snap=0.25)
    if tiles:
        folium.TileLayer(tiles=tiles, attr=attribution or "map tiles", name="Base map").add_to(m)
    m.fit_bounds([[y0, x0], [y1, x1]])
    return m


def _features(geoms: np.ndarray, props: list[dict], simplify: float = 0.0) -> dict:
    """GeoJSON in WGS84, coordinates rounded to 1e-5 degrees (about 1 m)."""
    if simplify:
        geoms = shapely.simplify(geoms, simplify)
    wgs = shapely.set_precision(to_wgs84(geoms), 1e-5)
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": p, "geometry": json.loads(shapely.to_geojson(g))}
        for g, p in zip(wgs, props)]}


def choropleth(m: folium.Map, geoms: np.ndarray, table: pd.DataFrame, value: str, name: str,
               label: str, tooltip_fields: dict[str, str], show: bool = True,
               css_class: str = "area") -> list[float]:
    """Area choropleth (one GeoJson layer; fine for tens of areas) with escaped tooltips.

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
    data = _features(geoms, props, simplify=20)
    folium.GeoJson(
        data, name=name, show=show,
        style_function=lambda f: {"fillColor": f["properties"]["fill"], "color": "#222", "weight": 1.2,
                                  "fillOpacity": 0.7, "className": css_class},
        tooltip=folium.GeoJsonTooltip(fields=[f"f{i}" for i in range(len(tooltip_fields))],
                                      aliases=list(tooltip_fields.values()), sticky=True),
    ).add_to(m)
    return breaks


def outline(m: folium.Map, geoms: np.ndarray, names: np.ndarray, name: str = "Ward outlines") -> None:
    """Unfilled outlines with the (escaped) name as tooltip: the base map when there are no tiles."""
    data = _features(geoms, [{"name": html.escape(str(n))} for n in names], simplify=20)
    folium.GeoJson(data, name=name, style_function=lambda f: {"color": "#444", "weight": 1, "fill": False},
                   tooltip=folium.GeoJsonTooltip(fields=["name"], aliases=["Ward"])).add_to(m)


def class_layers(m: folium.Map, geoms: np.ndarray, cls: np.ndarray, colours: dict, labels: dict,
                 group: str, show: bool = True) -> None:
    """One constant-style layer per class value present, its cells merged into one shape
    (cells of a value not in ``colours`` are not drawn)."""
    for value, colour in colours.items():
        pick = cls == value
        if not pick.any():
            continue
        data = _features(np.array([shapely.union_all(geoms[pick])]), [{}])
        style = {"fillColor": colour, "color": colour, "weight": 0.3, "fillOpacity": 0.65}
        folium.GeoJson(data, name=f"{group}: {labels[value]}", show=show,
                       style_function=lambda f, s=style: s).add_to(m)


_CLUSTER_CALLBACK = """function (row) {
    var marker = L.circleMarker(new L.LatLng(row[0], row[1]),
        {radius: row[3], weight: 1, color: '#333', fillColor: row[4], fillOpacity: 0.85});
    marker.bindTooltip(row[2]);
    return marker;
}"""


def snap_clusters(m: folium.Map, points: pd.DataFrame, limit: int = 2000) -> int:
    """Snap points (x, y, count, location_text, artefact) as clustered circle markers, at most
    ``limit`` (the busiest), in one data array (FastMarkerCluster); returns how many were drawn."""
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
    FastMarkerCluster(rows, callback=_CLUSTER_CALLBACK, name="Incidents at snap points (clustered)",
                      show=False).add_to(m)
    return len(top)


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
