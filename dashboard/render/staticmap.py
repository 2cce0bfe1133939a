"""The one static map renderer: slides, the Meeting and Wards pages, the fly-tipping page, the meeting
pack, the patrol sheet and the explorer's map image all draw their maps here (the interactive map is
the Leaflet spec, :mod:`dashboard.render.maps`).

A map is drawn once as a list of shapes in output units (:func:`draw`), then written as SVG
(:meth:`Drawn.svg`, drawn by the browser), as a reportlab drawing (:meth:`Drawn.pdf`, vector in a PDF,
so its text can be searched and extracted) or as PNG (:func:`png`: the same shapes painted by
matplotlib's Agg canvas through its object API; no pyplot). Layers, bottom to top: the ward
choropleth (classes from :func:`geodata.classes.classify`, the one classing; a ward with no value is
grey, "no data"), the basemap (roads, rail, water: :mod:`geodata.basemap`, when asked for), Gi* hot
cells (outlined and hatched in :data:`dashboard.render.palette.GI_COLOURS`, so the ward colour stays
readable), ward outlines, zone outlines and numbers, then labels.

Labels (:func:`_place_wards`): **every ward is named on every map**, never dropped. Each ward's name
(and its value, on a choropleth) goes inside the ward where its whole box fits without overlapping a
label already placed, tried from the ward's pole of inaccessibility outwards, smallest wards first;
a ward with no such room gets its label outside it, led out with a line from its pole to the nearest
free spot (directions every 15 degrees, growing distances), and only if the map has no free spot
left the label's type shrinks (to 60%) and the search repeats. Other labels (streets, places:
:class:`Label`) follow, busiest first, beside their point where they fit, else left out and listed
in :attr:`Drawn.dropped`. Text is measured with the font it is drawn in (Helvetica metrics for SVG
and PDF; matplotlib's own for PNG), so no two label boxes overlap in any output.
"""

from __future__ import annotations

import functools
import html
import io
import math
from dataclasses import dataclass, field

import numpy as np
import shapely
import shapely.affinity
import shapely.ops

from dashboard.render.palette import GI_COLOURS
from geodata.basemap import ATTRIBUTION as OSM
from geodata.classes import classify

#: The font every static map is drawn in (Liberation Sans is metric-compatible with Helvetica and Arial).
FONT = "Helvetica, Arial, 'Liberation Sans', sans-serif"
#: Label styles by kind: (size as a share of the map's font, bold, italic, colour).
STYLES = {
    "ward": (1.0, False, False, "#111111"),
    "value": (1.0, True, False, "#000000"),
    "street": (0.8, True, False, "#111111"),
    "place": (0.75, False, True, "#444444"),
    "flagged": (0.75, False, True, "#a50026"),
    "context": (0.7, False, False, "#555555"),
}


@dataclass(frozen=True)
class Label:
    """A name to draw at an EPSG:27700 point; ``weight`` orders placement (busiest first)."""

    x: float
    y: float
    text: str
    kind: str = "street"
    weight: float = 0.0


@dataclass
class Drawn:
    """A map (or a run chart: :mod:`dashboard.render.charts` draws into the same shapes) in output units
    (y down): its shapes, and what was placed. ``boxes``: every label's box (x0, y0, x1, y1) with its text;
    ``wards_named`` in ward order; ``dropped``: street and place labels left out for lack of room (ward
    names never are)."""

    width: float
    height: float
    shapes: list = field(default_factory=list)
    boxes: list[tuple[str, tuple[float, float, float, float]]] = field(default_factory=list)
    wards_named: list[str] = field(default_factory=list)
    led_out: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    title: str = ""
    kind: str = "static-map"  # the SVG's class (a run chart's: dashboard.render.charts.SVG_CLASS)

    def svg(self, css_width: str = "100%") -> str:
        """The map as an inline SVG (every text escaped; ``<title>`` tooltips on wards)."""
        out = []
        for s in self.shapes:
            kind = s[0]
            if kind == "poly":
                _, rings, fill, stroke, width, dash, tip, cls = s
                d = "".join("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in r) + "Z" for r in rings)
                tip_el = f"<title>{html.escape(tip)}</title>" if tip else ""
                out.append(
                    f'<path{_cls(cls)} d="{d}" fill="{fill or "none"}" fill-rule="evenodd" '
                    f'stroke="{stroke or "none"}" stroke-width="{width:.2f}"'
                    + (f' stroke-dasharray="{dash[0]:.1f} {dash[1]:.1f}"' if dash else "")
                    + f">{tip_el}</path>"
                )
            elif kind == "line":
                _, pts, stroke, width, dash, cls = s
                out.append(
                    f'<polyline{_cls(cls)} points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in pts)}" fill="none" '
                    f'stroke="{stroke}" stroke-width="{width:.2f}" stroke-linecap="round" stroke-linejoin="round"'
                    + (f' stroke-dasharray="{dash[0]:.1f} {dash[1]:.1f}"' if dash else "")
                    + "/>"
                )
            elif kind == "rect":
                _, x, y, w, h, fill, stroke = s
                out.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{fill}" '
                    f'stroke="{stroke or "none"}"/>'
                )
            elif kind == "circle":
                _, x, y, r, fill, stroke = s
                out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{fill}" stroke="{stroke}"/>')
            else:
                _, x, y, text, size, bold, italic, colour, anchor, halo, cls = s
                out.append(
                    f'<text{_cls(cls)} x="{x:.1f}" y="{y:.1f}" font-size="{size:.1f}"'
                    + (' font-weight="700"' if bold else "")
                    + (' font-style="italic"' if italic else "")
                    + f' fill="{colour}" text-anchor="{anchor}"'
                    + (
                        f' stroke="#fff" stroke-width="{size * 0.25:.1f}" paint-order="stroke" stroke-linejoin="round"'
                        if halo
                        else ""
                    )
                    + f">{html.escape(text)}</text>"
                )
        label = html.escape(self.title or "Map")
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="{self.kind}" role="img" aria-label="{label}" '
            f'viewBox="0 0 {self.width:.6g} {self.height:.6g}" width="{css_width}" '
            f'font-family="{FONT}">{"".join(out)}</svg>'
        )

    def pdf(self, width_pt: float | None = None):
        """The map as a reportlab ``Drawing`` (a flowable: vector in the PDF, its text extractable),
        scaled to ``width_pt`` points wide (default: one output unit a point)."""
        from reportlab.graphics.shapes import Circle, Drawing, Group, Path, PolyLine, Rect, String
        from reportlab.lib.colors import HexColor, white

        k = (width_pt or self.width) / self.width
        d = Drawing(self.width * k, self.height * k)
        g = Group()
        g.transform = (k, 0, 0, -k, 0, self.height * k)  # y down, as drawn
        col = lambda c: HexColor(c) if c else None  # noqa: E731
        for s in self.shapes:
            kind = s[0]
            if kind == "poly":
                _, rings, fill, stroke, width, dash, _tip, _cls_ = s
                p = Path(fillColor=col(fill), strokeColor=col(stroke), strokeWidth=width, fillMode=0)
                for r in rings:
                    p.moveTo(*r[0])
                    for x, y in r[1:]:
                        p.lineTo(x, y)
                    p.closePath()
                if dash:
                    p.strokeDashArray = list(dash)
                g.add(p)
            elif kind == "line":
                _, pts, stroke, width, dash, _cls_ = s
                pl = PolyLine([v for xy in pts for v in xy], strokeColor=col(stroke), strokeWidth=width)
                pl.strokeLineCap = 1
                if dash:
                    pl.strokeDashArray = list(dash)
                g.add(pl)
            elif kind == "rect":
                _, x, y, w, h, fill, stroke = s
                g.add(Rect(x, y, w, h, fillColor=col(fill), strokeColor=col(stroke), strokeWidth=0.5))
            elif kind == "circle":
                _, x, y, r, fill, stroke = s
                g.add(Circle(x, y, r, fillColor=col(fill), strokeColor=col(stroke)))
            else:
                _, x, y, text, size, bold, italic, colour, anchor, halo, _cls_ = s
                inner = Group(
                    String(0, 0, text, fontName=_rl_font(bold, italic), fontSize=size, fillColor=HexColor(colour)),
                )
                inner.contents[0].textAnchor = anchor
                inner.transform = (1, 0, 0, -1, x, y)  # text upright in the flipped group
                if halo:
                    w = _helvetica(text, size, bold, italic)
                    x0 = {"start": x, "middle": x - w / 2, "end": x - w}[anchor]
                    g.add(Rect(x0 - 1, y - size * 0.8, w + 2, size * 1.05, fillColor=white, strokeColor=None))
                g.add(inner)
        d.add(g)
        return d


def _cls(cls: str) -> str:
    return f' class="{cls}"' if cls else ""


def _rl_font(bold: bool, italic: bool) -> str:
    return "Helvetica" + ("-BoldOblique" if bold and italic else "-Bold" if bold else "-Oblique" if italic else "")


def _helvetica(text: str, size: float, bold: bool = False, italic: bool = False) -> float:
    """The width of ``text`` in Helvetica (reportlab's metrics: exact in the PDF, Arial's in a browser)."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    return stringWidth(text, _rl_font(bold, italic), size)


def _overlaps(a, b, gap: float) -> bool:
    return a[0] < b[2] + gap and b[0] < a[2] + gap and a[1] < b[3] + gap and b[1] < a[3] + gap


def _segment_hits(p, q, box) -> bool:
    """Whether segment p-q crosses the box."""
    return bool(shapely.intersects(shapely.LineString([p, q]), shapely.box(*box)))


class _Placer:
    """Label boxes placed so far, the leader lines drawn, and the frame labels must stay in."""

    def __init__(self, frame, gap: float):
        self.frame, self.gap = frame, gap
        self.boxes: list[tuple[str, tuple]] = []
        self.leaders: list[tuple] = []

    def free(self, box) -> bool:
        f = self.frame
        if box[0] < f[0] or box[1] < f[1] or box[2] > f[2] or box[3] > f[3]:
            return False
        if any(_overlaps(box, b, self.gap) for _, b in self.boxes):
            return False
        return not any(shapely.intersects(shapely.box(*box), seg) for seg in self.leaders)

    def line_clear(self, p, q, strict: int = 2) -> bool:
        """Whether a leader p-q crosses no label (``strict`` 2) and no other leader (``strict`` >= 1)."""
        seg = shapely.LineString([p, q])
        if strict >= 2 and any(shapely.intersects(seg, shapely.box(*b)) for _, b in self.boxes):
            return False
        return strict < 1 or not any(shapely.crosses(seg, s) for s in self.leaders)


def draw(
    wards,
    *,
    width: float = 360.0,
    height: float | None = None,
    values: dict | None = None,
    legend_title: str = "",
    cells=None,
    zones=None,
    highlight=None,
    labels=(),
    extent=None,
    pad: float | None = None,
    title: str = "",
    caption: str = "",
    font: float = 11.0,
    basemap=None,
    measure=None,
    credit: str = "",
) -> Drawn:
    """A map of ``wards`` ((codes, names, geometries), EPSG:27700) ``width`` output units wide (``height``:
    the whole drawing's height, the map fitted in it; default from the extent's proportions).

    ``values``: ward code -> number (None: "no data") for a choropleth with a legend titled
    ``legend_title``, each ward's value under its name; ``cells``: Gi* cells (``gi_class``, geometry),
    classes 2 and 3 outlined and hatched; ``zones``: (numbers, geometries) outlined and numbered,
    ``highlight`` the zone drawn bold; ``labels``: :class:`Label` s; ``extent``: (x0, y0, x1, y1) to show
    (default all wards) widened by ``pad`` metres (default 4% of the extent's width); ``basemap``: a
    :class:`geodata.basemap.Basemap` drawn under the outlines (with the OpenStreetMap attribution);
    ``title``: what the map shows, for screen readers; ``caption``: a line drawn above the map;
    ``font``: the ward label size; ``measure(text, size, bold, italic)``: text width (default Helvetica's);
    ``credit``: the sources' attribution, drawn small at the foot, on a line of its own.
    """
    measure = measure or _helvetica
    codes, names, geoms = (list(x) for x in wards)
    geoms = np.asarray(geoms, dtype=object)
    x0, y0, x1, y1 = extent if extent is not None else shapely.total_bounds(geoms)
    pad = 0.04 * (x1 - x0) if pad is None else pad
    x0, y0, x1, y1 = x0 - pad, y0 - pad, x1 + pad, y1 + pad
    top = font * 1.6 if caption else 0.0
    classed = None
    if values is not None:
        classed = classify([np.nan if _fmt(values.get(c)) == "no data" else float(values[c]) for c in codes])
    legend_items = list(classed.legend) if classed else []
    has_cells = cells is not None and len(cells) and bool((cells["gi_class"] >= 2).any())
    if has_cells:
        legend_items += [(GI_COLOURS[3], "hot spot (Gi* 99%)"), (GI_COLOURS[2], "hot spot (Gi* 95%)")]
    per_row = max(1, int(width // (font * 9)))
    legend_h = (
        (font * 1.6 * (1 + -(-len(legend_items) // per_row)) if legend_items else 0.0)
        + (font * 1.2 if basemap is not None else 0.0)
        + (font * 1.1 if credit else 0.0)
    )
    if height is None:
        scale = width / (x1 - x0)
        map_h = (y1 - y0) * scale
        height = top + map_h + legend_h
    else:
        map_h = height - top - legend_h
        scale = min(width / (x1 - x0), map_h / (y1 - y0))
        # widen the extent to the box, so the map fills it (one metre the same on both axes)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        x0, x1 = cx - width / scale / 2, cx + width / scale / 2
        y0, y1 = cy - map_h / scale / 2, cy + map_h / scale / 2
    view = shapely.box(x0, y0, x1, y1)

    def xy(coords) -> np.ndarray:
        a = np.asarray(coords)[:, :2]
        return np.column_stack(((a[:, 0] - x0) * scale, top + (y1 - a[:, 1]) * scale))

    def rings(geom) -> list[np.ndarray]:
        out = []
        for poly in getattr(geom, "geoms", [geom]):
            if poly.is_empty or poly.geom_type != "Polygon":
                continue
            out += [xy(r.coords) for r in [poly.exterior, *poly.interiors]]
        return out

    def to_out(geom):
        return shapely.affinity.affine_transform(geom, [scale, 0, 0, -scale, -x0 * scale, top + y1 * scale])

    d = Drawn(width, height, title=title)
    clipped = shapely.intersection(geoms, view)
    fills = classed.colour_of() if classed else ["#f4f4f4"] * len(codes)
    for i, (code, name, g) in enumerate(zip(codes, names, clipped)):
        if g.is_empty:
            continue
        v = values.get(code) if values is not None else None
        tip = f"{name}: {_fmt(v)}" if values is not None else str(name)
        d.shapes.append(("poly", rings(g), fills[i] if classed else "#f4f4f4", None, 0, None, tip, "ward-area"))
    if basemap is not None:
        d.shapes += basemap.shapes(view, to_out, scale)
    if has_cells:
        hatch_step = max(3.0, font * 0.45)
        for cls in (2, 3):
            sel = cells[cells["gi_class"] == cls]
            if not len(sel):
                continue
            area = shapely.intersection(shapely.union_all(sel.geometry.to_numpy()), view)
            if area.is_empty:
                continue
            out_area = to_out(area)
            d.shapes.append(("poly", rings(area), None, GI_COLOURS[cls], 1.4 if cls == 3 else 1.0, None, "", "hot"))
            bx0, by0, bx1, by1 = out_area.bounds
            span = (bx1 - bx0) + (by1 - by0)
            lines = shapely.MultiLineString(
                [[(bx0 + t, by0), (bx0 + t - (by1 - by0), by1)] for t in np.arange(0, span, hatch_step)]
            )
            hatch = shapely.intersection(lines, out_area)
            for seg in getattr(hatch, "geoms", [hatch]):
                if seg.geom_type == "LineString" and not seg.is_empty:
                    d.shapes.append(("line", list(seg.coords), GI_COLOURS[cls], 0.9, None, "hatch"))
    for g in clipped:
        for r in rings(g):
            d.shapes.append(("line", [tuple(p) for p in r], "#333333", 0.8, None, "ward-line"))
    placer = _Placer((0.0, top, width, top + map_h), gap=font * 0.15)
    if zones is not None:
        shown = [(int(n), shapely.intersection(zg, view)) for n, zg in zip(*zones)]
        shown = [(n, zg) for n, zg in shown if not zg.is_empty]
        for number, zg in shown:
            bold = highlight is not None and number == int(highlight)
            for r in rings(zg):
                d.shapes.append(("line", [tuple(p) for p in r], "#000000", 2.4 if bold else 1.0, None, "zone"))
        for number, zg in shown:  # numbered discs, moved aside with a line where another disc is (a district map)
            bold = highlight is not None and number == int(highlight)
            _zone_disc(d, placer, number, to_out(zg.representative_point()), font * (0.95 if bold else 0.7))
    _place_wards(d, placer, codes, names, [to_out(g) for g in clipped], values, font, measure)
    _place_others(d, placer, labels, (x0, y0, x1, y1), xy, font, measure)
    if caption:
        d.shapes.append(_text(0, font * 1.1, caption, font * 1.05, True, False, "#111111", "start", ""))
    ly = top + map_h + font * 0.4
    if legend_items:
        if legend_title:
            d.shapes.append(_text(0, ly + font, legend_title, font, False, False, "#111111", "start", ""))
        step = width / per_row
        for i, (colour, text) in enumerate(legend_items):
            lx, yy = (i % per_row) * step, ly + font * 1.6 * (1 + i // per_row)
            d.shapes.append(("rect", lx, yy, font * 1.1, font * 1.1, colour, "#333333"))
            d.shapes.append(
                _text(lx + font * 1.5, yy + font * 0.95, text, font * 0.95, False, False, "#111", "start", "")
            )
    if basemap is not None:
        d.shapes.append(_text(width, height - font * 0.25, OSM, font * 0.8, False, False, "#333333", "end", ""))
    if credit:
        y = height - font * 0.25 - (font * 1.1 if basemap is not None else 0.0)  # a line of its own
        d.shapes.append(_text(0, y, credit, font * 0.7, False, False, "#333333", "start", ""))
    d.boxes = placer.boxes
    return d


def _zone_disc(d: Drawn, placer: _Placer, number: int, at, rad: float) -> None:
    """Zone ``number``'s disc on its point ``at``, or where it is free nearest to it (8 directions, growing
    distances) with a line from the point: two zones a few hundred metres apart on a district map drew
    their numbers on top of each other."""
    spots = [(at.x, at.y)] + [
        (at.x + k * rad * 1.1 * math.cos(a), at.y + k * rad * 1.1 * math.sin(a))
        for k in range(2, 12)
        for a in np.radians(np.arange(0, 360, 45) + 22.5 * (k % 2))
    ]
    x, y = next(
        (p for p in spots if placer.free((p[0] - rad, p[1] - rad, p[0] + rad, p[1] + rad))),
        (at.x, at.y),  # no free spot at all: on its point
    )
    if (x, y) != (at.x, at.y):
        dist = math.hypot(x - at.x, y - at.y)
        end = (x - (x - at.x) * rad / dist, y - (y - at.y) * rad / dist)
        d.shapes.append(("line", [(at.x, at.y), end], "#000000", 0.8, None, "leader"))
        d.shapes.append(("circle", at.x, at.y, max(1.2, rad * 0.15), "#000000", "#ffffff"))
        placer.leaders.append(shapely.LineString([(at.x, at.y), end]))
    d.shapes.append(("circle", x, y, rad, "#ffffff", "#000000"))
    d.shapes.append(_text(x, y + rad * 0.4, str(number), rad * 1.1, True, False, "#000", "middle", ""))
    placer.boxes.append((f"zone {number}", (x - rad, y - rad, x + rad, y + rad)))


def _fmt(v) -> str:
    """A ward's value as written on the map: "no data", a whole number with commas, or one decimal."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "no data"
    if isinstance(v, str):
        return v
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"


def _text(x, y, text, size, bold, italic, colour, anchor, cls, halo=False):
    return ("text", x, y, str(text), size, bold, italic, colour, anchor, halo, cls)


def _wrap(name: str, longest: int = 14) -> list[str]:
    """A name over ``longest`` characters as two lines broken at the space nearest its middle."""
    if len(name) <= longest or " " not in name:
        return [name]
    spaces = [i for i, ch in enumerate(name) if ch == " "]
    cut = min(spaces, key=lambda i: abs(i - len(name) / 2))
    return [name[:cut], name[cut + 1 :]]


def _label_lines(name: str, value, font: float) -> list[tuple[str, float, bool]]:
    lines = [(part, font, False) for part in _wrap(name)]
    if value is not None:
        lines.append((value, font * 1.05, True))
    return lines


def _place_wards(d: Drawn, placer: _Placer, codes, names, shapes_out, values, font, measure) -> None:
    """Every ward's name (and value) inside the ward, else led out with a line (module docstring)."""
    todo = []
    for i, (code, name, g) in enumerate(zip(codes, names, shapes_out)):
        if g.is_empty:
            continue
        value = None
        if values is not None:
            value = _fmt(values.get(code))
        todo.append((g.area, i, str(name), value, g))
    todo.sort(key=lambda t: (t[0], t[1]))  # smallest wards first: they have the fewest spots
    later = []
    for _, i, name, value, g in todo:
        if not _inside(d, placer, g, name, value, font, measure):
            later.append((i, name, value, g))
    later.sort(key=lambda t: -t[3].area)
    wards = shapely.union_all([t[4] for t in todo]) if later else None
    if wards is not None:
        shapely.prepare(wards)
    for _i, name, value, g in later:
        size = font
        while not _led_out(d, placer, g, name, value, size, measure, wards):
            size *= 0.9
            if size < font * 0.6:
                raise RuntimeError(f"no room on the map for the ward name {name!r}")  # a map far too small
        d.led_out.append(name)
    order = {n: k for k, n in enumerate(names)}
    d.wards_named.sort(key=lambda n: order.get(n, 0))


def _box_size(lines, measure) -> tuple[float, float]:
    w = max(measure(t, s, b, False) for t, s, b in lines)
    h = sum(s * 1.12 for _, s, _ in lines)
    return w, h


def _emit(d: Drawn, placer: _Placer, name, lines, box, kind="ward") -> None:
    cx, y = (box[0] + box[2]) / 2, box[1]
    for text, size, bold in lines:
        y += size * 0.92
        cls = f"map-label label-{len(placer.boxes)}"  # one class per label: its lines belong together
        d.shapes.append(_text(cx, y, text, size, bold, False, "#111111", "middle", cls, halo=True))
        y += size * 0.2
    placer.boxes.append((name, box))
    d.wards_named.append(name)


def _inside(d, placer, g, name, value, font, measure) -> bool:
    lines = _label_lines(name, value, font)
    w, h = _box_size(lines, measure)
    centre = pole(g)
    bx0, by0, bx1, by1 = g.bounds
    step = max(h / 3, 1.0)
    xs = np.arange(bx0 + w / 2, bx1 - w / 2 + 1e-9, step)
    ys = np.arange(by0 + h / 2, by1 - h / 2 + 1e-9, step)
    if not len(xs) or not len(ys):
        return False
    gx, gy = np.meshgrid(xs, ys)
    gx, gy = gx.ravel(), gy.ravel()
    order = np.argsort((gx - centre.x) ** 2 + (gy - centre.y) ** 2)
    gx, gy = gx[order], gy[order]
    boxes = shapely.box(gx - w / 2, gy - h / 2, gx + w / 2, gy + h / 2)
    shapely.prepare(g)
    # the label's centre in the ward and at least 80% of its box (the name reads as the ward's)
    fits = shapely.contains_xy(g, gx, gy) & (shapely.area(shapely.intersection(g, boxes)) >= 0.8 * w * h)
    for k in np.flatnonzero(fits):
        box = (gx[k] - w / 2, gy[k] - h / 2, gx[k] + w / 2, gy[k] + h / 2)
        if placer.free(box):
            _emit(d, placer, name, lines, box)
            return True
    return False


def _led_out(d, placer, g, name, value, size, measure, wards=None) -> bool:
    """The label outside its ward with a leader line from the ward's pole: the nearest free spot (every
    10 degrees, growing distances) clear of every ward (``wards``: their union), so the name never sits on
    another ward and reads as that one's (Harpenden East's name lay on Harpenden West); else the nearest
    free spot off its own ward; else at the map's left or right edge level with the ward or as near it
    as is free; False when none has room (the caller shrinks the type)."""
    lines = _label_lines(name, value, size)
    w, h = _box_size(lines, measure)
    centre = pole(g)
    px, py = centre.x, centre.y
    f = placer.frame
    reach = math.hypot(f[2] - f[0], f[3] - f[1]) / 2

    def spots():
        r = h * 0.9
        while r < reach:
            for deg in range(0, 360, 10):
                a = math.radians(deg)
                ex, ey = px + r * math.cos(a), py + r * math.sin(a)
                ca, sa = math.cos(a), math.sin(a)
                cx = ex + (w / 2) * (1 if ca > 0.3 else -1 if ca < -0.3 else 0)
                cy = ey + (h / 2) * (1 if sa > 0.3 else -1 if sa < -0.3 else 0)
                yield (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2), True, 2
            r += h * 0.5
        sides = (f[0], f[2] - w) if px - f[0] < f[2] - px else (f[2] - w, f[0])
        for clear in (2, 1, 0):  # the map's edges, nearest first; a leader over labels or leaders last of all
            for dy in sorted(np.arange(f[1] + h / 2 - py, f[3] - h / 2 - py, h / 4), key=abs):
                for x_left in sides:
                    yield (x_left, py + dy - h / 2, x_left + w, py + dy + h / 2), False, clear

    def ordered():
        if wards is not None:
            yield from (
                (box, near, clear) for box, near, clear in spots() if near and not wards.intersects(shapely.box(*box))
            )
        yield from spots()

    for box, near, clear in ordered():
        if (near and g.intersects(shapely.box(*box))) or not placer.free(box):
            continue
        end = _nearest_on_box(box, px, py)
        if not placer.line_clear((px, py), end, clear):
            continue
        d.shapes.append(("line", [(px, py), end], "#111111", max(0.8, size * 0.08), None, "leader"))
        d.shapes.append(("circle", px, py, max(1.2, size * 0.14), "#111111", "#ffffff"))
        placer.leaders.append(shapely.LineString([(px, py), end]))
        _emit(d, placer, name, lines, box)
        return True
    return False


def pole(g):
    """The pole of inaccessibility of ``g`` (of its largest part): the point inside farthest from its edge,
    found to 0.5 units (metres on EPSG:27700; Garcia-Castellanos & Lombardo 2007, shapely's ``polylabel``).
    Where a ward's name goes on every map, the interactive one too (:func:`dashboard.render.maps.label_points`)."""
    part = g.geoms[int(np.argmax([p.area for p in g.geoms]))] if hasattr(g, "geoms") else g
    return shapely.ops.polylabel(part, 0.5)


def _nearest_on_box(box, x, y) -> tuple[float, float]:
    return (min(max(x, box[0]), box[2]), min(max(y, box[1]), box[3]))


def _place_others(d, placer, labels, extent, xy, font, measure) -> None:
    """Street and place labels beside their point (right, left, above, below), busiest first; a label
    with no room is left out (:attr:`Drawn.dropped`)."""
    x0, y0, x1, y1 = extent
    inside = [lab for lab in labels if x0 <= lab.x <= x1 and y0 <= lab.y <= y1]
    for lab in sorted(inside, key=lambda lab: (-lab.weight, lab.text)):
        share, bold, italic, colour = STYLES[lab.kind]
        size = font * share
        w, h = measure(lab.text, size, bold, italic), size * 1.15
        (px, py), gap = xy([(lab.x, lab.y)])[0], size * 0.4
        spots = (
            (px + gap, py - h / 2),
            (px - gap - w, py - h / 2),
            (px - w / 2, py - gap - h),
            (px - w / 2, py + gap),
        )
        for bx, by in spots:
            box = (bx, by, bx + w, by + h)
            if placer.free(box):
                d.shapes.append(("circle", px, py, max(1.0, size * 0.18), colour, colour))
                d.shapes.append(
                    _text(bx, by + size * 0.9, lab.text, size, bold, italic, colour, "start", lab.kind, True)
                )
                placer.boxes.append((lab.text, box))
                break
        else:
            d.dropped.append(lab.text)


# ---------------------------------------------------------------------------------------------- PNG
@functools.lru_cache(maxsize=1)
def _png_family() -> str:
    """The first of Liberation Sans (Helvetica's metrics), Arial, Helvetica installed, else matplotlib's
    DejaVu Sans: looked up once (a family list made matplotlib search, and log, for every text)."""
    from matplotlib.font_manager import FontProperties, findfont

    for name in ("Liberation Sans", "Arial", "Helvetica"):
        try:
            findfont(FontProperties(family=name), fallback_to_default=False)
            return name
        except ValueError:
            continue
    return "DejaVu Sans"


def png(dpi: int = 150, **kwargs) -> tuple[bytes, Drawn]:
    """:func:`draw` (same arguments; units are points) painted as PNG at ``dpi`` by matplotlib's Agg
    canvas (its object API, no pyplot), text measured with the font it is painted in."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties
    from matplotlib.patches import Circle, PathPatch, Rectangle
    from matplotlib.path import Path as MPath
    from matplotlib.patheffects import withStroke
    from matplotlib.textpath import TextToPath

    family = _png_family()
    t2p = TextToPath()

    @functools.lru_cache(maxsize=64)
    def props(size, bold, italic):
        return FontProperties(
            family=family, size=size, weight="bold" if bold else "normal", style="italic" if italic else "normal"
        )

    def mpl_measure(text, size, bold=False, italic=False):
        return t2p.get_text_width_height_descent(text, props(size, bold, italic), ismath=False)[0]

    d = draw(measure=mpl_measure, **kwargs)
    fig = Figure(figsize=(d.width / 72, d.height / 72), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, d.width)
    ax.set_ylim(d.height, 0)
    ax.set_axis_off()
    for s in d.shapes:
        kind = s[0]
        if kind == "poly":
            _, rings, fill, stroke, width, dash, _tip, _c = s
            verts = np.concatenate([np.vstack([r, r[:1]]) for r in rings])
            codes = np.concatenate([[MPath.MOVETO] + [MPath.LINETO] * (len(r) - 1) + [MPath.CLOSEPOLY] for r in rings])
            ax.add_patch(
                PathPatch(
                    MPath(verts, codes),
                    facecolor=fill or "none",
                    edgecolor=stroke or "none",
                    linewidth=width,
                    linestyle=(0, dash) if dash else "-",
                )
            )
        elif kind == "line":
            _, pts, stroke, width, dash, _c = s
            a = np.asarray(pts)
            ax.plot(a[:, 0], a[:, 1], color=stroke, linewidth=width, linestyle=(0, dash) if dash else "-")
        elif kind == "rect":
            _, x, y, w, h, fill, stroke = s
            ax.add_patch(Rectangle((x, y), w, h, facecolor=fill, edgecolor=stroke or "none", linewidth=0.5))
        elif kind == "circle":
            _, x, y, r, fill, stroke = s
            ax.add_patch(Circle((x, y), r, facecolor=fill, edgecolor=stroke, linewidth=0.6, zorder=5))
        else:
            _, x, y, text, size, bold, italic, colour, anchor, halo, _c = s
            ax.text(
                x,
                y,
                text,
                fontproperties=props(size, bold, italic),
                color=colour,
                ha={"start": "left", "middle": "center", "end": "right"}[anchor],
                va="baseline",
                parse_math=False,
                zorder=6,
                path_effects=[withStroke(linewidth=size * 0.25, foreground="white")] if halo else None,
            )
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue(), d
