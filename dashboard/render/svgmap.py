"""Small ward choropleths as inline SVG: drawn by the browser at once, no JavaScript, no tiles.

Used where a map must appear at a glance (the Meeting page and its kiosk mode):
a Vega or Leaflet map first loads its JavaScript (measured: ~0.9 s more to paint).
Ward outlines come in EPSG:27700 (simplify them first, e.g. 20 m); values are
coloured by the one classing (:func:`geodata.classes.classify`); a ward with
no value is grey and labelled "no data". Names and values are escaped.
"""

from __future__ import annotations

import html

import numpy as np
import shapely

from geodata.classes import NO_DATA, classify


def _path(geom, x0: float, y1: float, scale: float) -> str:
    parts = []
    for poly in getattr(geom, "geoms", [geom]):
        for ring in [poly.exterior, *poly.interiors]:
            xy = np.asarray(ring.coords)
            px, py = (xy[:, 0] - x0) * scale, (y1 - xy[:, 1]) * scale
            parts.append("M" + "L".join(f"{a:.1f},{b:.1f}" for a, b in zip(px, py)) + "Z")
    return "".join(parts)


#: Where a label may go when it does not fit on the ward's point on surface: offsets in label
#: widths and heights, tried in order; the label's centre must stay inside its ward.
_NUDGES = tuple((dx, dy) for dy in (0, -1.1, 1.1, -2.2, 2.2) for dx in (0, -0.6, 0.6))


def _spots(geometry, cx: float, cy: float, w: float, h: float, x0: float, y1: float, scale: float):
    """Label centres to try, in map units: the ward's point on surface ``(cx, cy)``, then the
    :data:`_NUDGES` of a ``w`` x ``h`` label whose centre is still inside the ward."""
    for dx, dy in _NUDGES:
        x, y = cx + dx * w, cy + dy * h
        if not (dx or dy) or shapely.contains_xy(geometry, x / scale + x0, y1 - y / scale):
            yield x, y


def _labels(
    codes, names, geometries, values: dict, x0: float, y1: float, scale: float, width: float, height: float, font: float
) -> str:
    """Ward names and values on the map, placed greedily from the highest value down: a ward gets its
    name and value where they fit without overlapping a label already placed (on the ward's point on
    surface, else nudged by up to a label's size while its centre stays in the ward: :data:`_NUDGES`),
    else its value alone (the same way), else nothing (its name stays in the ward's tooltip). White
    halo, so labels read over any fill."""
    order = sorted(
        range(len(codes)),
        key=lambda i: (-(values.get(codes[i]) if isinstance(values.get(codes[i]), (int, float)) else -1), i),
    )
    placed, out = [], []

    def fits(cx, cy, w, h):
        box = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
        if box[0] < 0 or box[2] > width or box[1] < 0 or box[3] > height:
            return None
        if any(not (box[2] < b[0] or box[0] > b[2] or box[3] < b[1] or box[1] > b[3]) for b in placed):
            return None
        return box

    for i in order:
        v = values.get(codes[i])
        value = "no data" if v is None else v if isinstance(v, str) else f"{v:,}"
        pt = shapely.point_on_surface(geometries[i])
        cx, cy = (pt.x - x0) * scale, (y1 - pt.y) * scale
        name = str(names[i])
        both = [(name, font * 0.8, 400), (value, font, 700)]
        w_both = max(len(name) * 0.5 * font * 0.8, len(value) * 0.6 * font)
        w_value = len(value) * 0.6 * font
        found = next(
            (
                (box, lines, x)
                for lines, w, h in ((both, w_both, font * 2.0), ([(value, font, 700)], w_value, font * 1.1))
                for x, y in _spots(geometries[i], cx, cy, w, h, x0, y1, scale)
                if (box := fits(x, y, w, h)) is not None
            ),
            None,
        )
        if found is None:
            continue
        box, lines, cx = found
        placed.append(box)
        ty = box[1]
        for text, size, weight in lines:
            ty += size * 0.95
            out.append(
                f'<text class="ward-label" x="{cx:.1f}" y="{ty:.1f}" font-size="{size:.1f}" font-weight="{weight}" '
                f'text-anchor="middle" fill="#000" stroke="#fff" stroke-width="{size * 0.22:.1f}" '
                f'paint-order="stroke" stroke-linejoin="round">{html.escape(text)}</text>'
            )
    return "".join(out)


def ward_svg(
    codes, names, geometries, values: dict, title: str, width: int = 360, labels: bool = False, font: float = 11
) -> str:
    """An SVG choropleth of ``values`` (ward code -> number or None) with a legend titled ``title``
    (``font``: its text size in SVG units; the SVG scales to its box). ``labels``: write ward names and
    values on the map (:func:`_labels`), for screens read from across a room."""
    x0, y0, x1, y1 = shapely.total_bounds(geometries)
    scale = width / (x1 - x0)
    height = (y1 - y0) * scale
    numeric = [c for c in codes if values.get(c) is not None]
    known = np.array([float(values[c]) for c in numeric])
    classed = classify(known)
    cls_of = dict(zip(numeric, classed.classes))
    paths = []
    for code, name, geom in zip(codes, names, geometries):
        v = values.get(code)
        fill = classed.colours[cls_of[code]] if v is not None else NO_DATA
        label = f"{name}: {v:,}" if v is not None else f"{name}: no data"
        paths.append(
            f'<path class="ward-svg" d="{_path(geom, x0, y1, scale)}" fill="{fill}" stroke="#333" '
            f'stroke-width="0.8"><title>{html.escape(str(label))}</title></path>'
        )
    per_row = max(1, int(width // (font * 6.5)))
    step = width / per_row
    legend = []
    for i, (colour, text) in enumerate(classed.legend):
        lx, ly = (i % per_row) * step, font * 1.5 + (i // per_row) * font * 1.5
        legend.append(
            f'<rect x="{lx:.1f}" y="{ly:.1f}" width="{font * 1.1:.1f}" height="{font * 1.1:.1f}" '
            f'fill="{colour}" stroke="#333"/><text x="{lx + font * 1.4:.1f}" y="{ly + font:.1f}" '
            f'font-size="{font}">{html.escape(text)}</text>'
        )
    rows = -(-len(classed.legend) // per_row)
    extra = font * 1.5 * (rows + 1) + font * 0.6
    text = _labels(codes, names, geometries, values, x0, y1, scale, width, height, font) if labels else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height + extra:.0f}" '
        f'width="100%" aria-label="{html.escape(title)} by ward"><g>{"".join(paths)}</g><g>{text}</g>'
        f'<g transform="translate(0,{height + 8:.0f})"><text x="0" y="{font:.1f}" font-size="{font}">'
        f"{html.escape(title)}</text>{''.join(legend)}</g></svg>"
    )
