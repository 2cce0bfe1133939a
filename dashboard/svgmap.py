"""Small ward choropleths as inline SVG: drawn by the browser at once, no JavaScript, no tiles.

Used where a map must appear at a glance (the Meeting page and its kiosk mode):
a Vega or Leaflet map first loads its JavaScript (measured: ~0.9 s more to paint).
Ward outlines come in EPSG:27700 (simplify them first, e.g. 20 m); values are
coloured in quantile classes of :data:`dashboard.palette.SEQUENTIAL`; a ward with
no value is grey and labelled "no data". Names and values are escaped.
"""
from __future__ import annotations

import html

import numpy as np
import shapely

from dashboard.palette import SEQUENTIAL, classes

NO_DATA = "#d9d9d9"


def _path(geom, x0: float, y1: float, scale: float) -> str:
    parts = []
    for poly in getattr(geom, "geoms", [geom]):
        for ring in [poly.exterior, *poly.interiors]:
            xy = np.asarray(ring.coords)
            px, py = (xy[:, 0] - x0) * scale, (y1 - xy[:, 1]) * scale
            parts.append("M" + "L".join(f"{a:.1f},{b:.1f}" for a, b in zip(px, py)) + "Z")
    return "".join(parts)


def ward_svg(codes, names, geometries, values: dict, title: str, width: int = 360) -> str:
    """An SVG choropleth of ``values`` (ward code -> number or None) with a legend titled ``title``."""
    x0, y0, x1, y1 = shapely.total_bounds(geometries)
    scale = width / (x1 - x0)
    height = (y1 - y0) * scale
    numeric = [c for c in codes if values.get(c) is not None]
    known = np.array([float(values[c]) for c in numeric])
    cls, breaks = classes(known) if known.size else (np.array([], dtype=int), [])
    cls_of = dict(zip(numeric, cls))
    paths = []
    for code, name, geom in zip(codes, names, geometries):
        v = values.get(code)
        fill = SEQUENTIAL[cls_of[code]] if v is not None else NO_DATA
        label = f"{name}: {v:,}" if v is not None else f"{name}: no data"
        paths.append(f'<path class="ward-svg" d="{_path(geom, x0, y1, scale)}" fill="{fill}" stroke="#333" '
                     f'stroke-width="0.8"><title>{html.escape(str(label))}</title></path>')
    legend = []
    for i in range(len(breaks) - 1):
        legend.append(f'<rect x="{i * 70}" y="18" width="14" height="14" fill="{SEQUENTIAL[i]}" stroke="#333"/>'
                      f'<text x="{i * 70 + 18}" y="30" font-size="11">{breaks[i]:g}-{breaks[i + 1]:g}</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height + 48:.0f}" '
            f'width="100%" aria-label="{html.escape(title)} by ward"><g>{"".join(paths)}</g>'
            f'<g transform="translate(0,{height + 8:.0f})"><text x="0" y="11" font-size="11">'
            f'{html.escape(title)}</text>{"".join(legend)}</g></svg>')
