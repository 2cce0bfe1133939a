"""Printed maps (PNG, matplotlib, offline): the one renderer for the patrol sheet, the meeting pack
and an explorer "map image" download.

A map is drawn from EPSG:27700 layers, bottom to top: an optional ward choropleth (classes from
:func:`geodata.classes.classify`, the one classing, with its legend), Gi* cells (hot classes
in :data:`dashboard.render.palette.GI_COLOURS`), ward outlines, zone outlines with their numbers, then
labels: ward names first, then street and place labels (:class:`Label`), busiest first, each
at its police.uk map point and placed beside it (right, left, above, below) only where it
collides with no label already placed and stays inside the map; a label that cannot be placed
is left out and listed in :attr:`PrintedMap.dropped`. A 500 m (or 200 m) scale bar is drawn.
Every text is drawn with ``parse_math=False``, so a ``$`` in a name is printed as it is.

Callers: the patrol sheet (:mod:`dashboard.render.patrolsheet`: one zone's extent, the zones, street and
place labels). The meeting pack's ward map is one call::

    printmap.render(store.areas("ward").to_geodataframe(), values=dict(zip(m.wards["ward_code"],
                    m.wards["current"])), legend_title="incidents in the period", cells=found.cells,
                    title=..., size=(4.6, 4.6), dpi=110).png

and an explorer "map image" download the same with the view's extent and :class:`Label` s from
the police.uk map points in it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import matplotlib

matplotlib.use("Agg")  # no display: maps render on servers and in CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import shapely  # noqa: E402
from matplotlib.font_manager import FontProperties  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from dashboard.render.palette import GI_COLOURS  # noqa: E402
from geodata.classes import classify  # noqa: E402

#: Label styles by kind: a zone's street, a place label, a place label flagged (recorded, not
#: committed), and other named map points shown for orientation.
STYLES = {
    "street": dict(fontsize=7, color="#111111", fontweight="bold"),
    "place": dict(fontsize=6.5, color="#444444", fontstyle="italic"),
    "flagged": dict(fontsize=6.5, color="#a50026", fontstyle="italic"),
    "context": dict(fontsize=6, color="#777777"),
}
WARD_STYLE = dict(fontsize=9, color="#3b3b8f", fontstyle="italic", alpha=0.8)
#: Offsets (points) tried for a label, in order: right, left, above, below its map point.
OFFSETS = ((4, 0, "left", "center"), (-4, 0, "right", "center"), (0, 5, "center", "bottom"), (0, -5, "center", "top"))


@dataclass(frozen=True)
class Label:
    """A name to print at an EPSG:27700 point; ``weight`` orders placement (busiest first)."""

    x: float
    y: float
    text: str
    kind: str = "street"
    weight: float = 0.0


@dataclass
class PrintedMap:
    """The PNG and what was drawn: placed labels as (text, kind, pixel box x0, y0, x1, y1),
    ward names placed, and the labels left out for lack of room."""

    png: bytes
    placed: list[tuple] = field(default_factory=list)
    wards_named: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)


def _overlaps(box, boxes, gap: float = 2.0) -> bool:
    x0, y0, x1, y1 = box
    return any(x0 < b[2] + gap and b[0] < x1 + gap and y0 < b[3] + gap and b[1] < y1 + gap for b in boxes)


def _inside(box, frame) -> bool:
    return box[0] >= frame[0] and box[1] >= frame[1] and box[2] <= frame[2] and box[3] <= frame[3]


def _place(ax, renderer, x, y, text, style, boxes, frame, offsets=OFFSETS):
    """Draw ``text`` at the first offset where it fits; return its pixel box or None (nothing drawn).
    The box is measured before drawing (the renderer's text metrics), so only placed labels
    become artists."""
    props = FontProperties(
        size=style.get("fontsize"), weight=style.get("fontweight", "normal"), style=style.get("fontstyle", "normal")
    )
    width, height, _ = renderer.get_text_width_height_descent(text, props, ismath=False)
    px, py = ax.transData.transform((x, y))
    scale = renderer.points_to_pixels(1.0)
    for dx, dy, ha, va in offsets:
        left = px + dx * scale - {"left": 0.0, "center": width / 2, "right": width}[ha]
        bottom = py + dy * scale - {"bottom": 0.0, "center": height / 2, "top": height}[va]
        box = (left, bottom, left + width, bottom + height)
        if _inside(box, frame) and not _overlaps(box, boxes):
            ax.annotate(
                text,
                (x, y),
                xytext=(dx, dy),
                textcoords="offset points",
                ha=ha,
                va=va,
                parse_math=False,
                zorder=7,
                **style,
            )
            boxes.append(box)
            return box
    return None


def _scale_bar(ax, x0, y0, x1, y1) -> None:
    length = 500 if (x1 - x0) > 2000 else 200
    bx, by = x0 + 0.04 * (x1 - x0), y0 + 0.04 * (y1 - y0)
    ax.plot([bx, bx + length], [by, by], color="#000000", linewidth=2.5, solid_capstyle="butt", zorder=9)
    ax.text(
        bx + length / 2,
        by + 0.012 * (y1 - y0),
        f"{length} m",
        ha="center",
        va="bottom",
        fontsize=7,
        parse_math=False,
        zorder=9,
    )


def render(
    wards,
    *,
    extent=None,
    pad: float = 150.0,
    values: dict | None = None,
    legend_title: str = "",
    cells=None,
    zones=None,
    highlight=None,
    labels=(),
    title: str = "",
    size: tuple[float, float] = (7.0, 7.0),
    dpi: int = 150,
) -> PrintedMap:
    """A printed map of ``wards`` (GeoDataFrame: ``code``, ``name``, geometry, EPSG:27700).

    ``extent``: (x0, y0, x1, y1) to show, widened by ``pad`` metres and to the figure's
    proportions (default all wards). ``values``: ward code -> number for a choropleth (no value:
    "no data"), legend titled ``legend_title``. ``cells``: Gi* cells (``gi_class``, geometry);
    classes 2 and 3 are filled. ``zones``: GeoDataFrame with ``zone`` and geometry, outlined and
    numbered; ``highlight``: the zone number drawn bold. ``labels``: :class:`Label` s.
    """
    fig, ax = plt.subplots(figsize=size, dpi=dpi)
    x0, y0, x1, y1 = extent if extent is not None else shapely.total_bounds(wards.geometry.to_numpy())
    x0, y0, x1, y1 = x0 - pad, y0 - pad, x1 + pad, y1 + pad
    want = size[0] / size[1]  # widen the shorter side so one metre is the same on both axes
    if (x1 - x0) / (y1 - y0) < want:
        grow = (y1 - y0) * want - (x1 - x0)
        x0, x1 = x0 - grow / 2, x1 + grow / 2
    else:
        grow = (x1 - x0) / want - (y1 - y0)
        y0, y1 = y0 - grow / 2, y1 + grow / 2
    view = shapely.box(x0, y0, x1, y1)
    if values is not None:
        classed = classify(wards["code"].map(values).astype("float64").to_numpy())
        wards.plot(ax=ax, color=classed.colour_of(), edgecolor="none", zorder=1)
        ax.legend(
            handles=[Patch(facecolor=c, edgecolor="#333333", label=t) for c, t in classed.legend],
            title=legend_title,
            fontsize=6,
            title_fontsize=7,
            loc="lower right",
        )
    if cells is not None and len(cells):
        for cls in (2, 3):
            sel = cells[cells["gi_class"] == cls]
            if len(sel):
                sel.plot(ax=ax, color=GI_COLOURS[cls], edgecolor="none", alpha=0.55, zorder=2)
    wards.boundary.plot(ax=ax, color="#3b3b8f", linewidth=0.9, linestyle=(0, (4, 2)), zorder=3)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9, loc="left", parse_math=False)
    ax.set_xlabel("")
    ax.set_ylabel("")
    renderer = fig.canvas.get_renderer()
    frame_ext = ax.get_window_extent(renderer)
    frame = (frame_ext.x0, frame_ext.y0, frame_ext.x1, frame_ext.y1)
    boxes: list[tuple] = []
    out = PrintedMap(b"")
    if zones is not None and len(zones):
        for _, z in zones.iterrows():
            bold = highlight is not None and int(z["zone"]) == int(highlight)
            ax.plot(*_outline_xy(z.geometry), color="#000000", linewidth=2.4 if bold else 1.0, zorder=5)
            c = z.geometry.representative_point()
            if view.contains(c):
                artist = ax.text(
                    c.x,
                    c.y,
                    str(int(z["zone"])),
                    ha="center",
                    va="center",
                    zorder=8,
                    fontsize=14 if bold else 9,
                    fontweight="bold",
                    color="#000000",
                    parse_math=False,
                    bbox=dict(boxstyle="circle,pad=0.2", facecolor="white", edgecolor="#000000"),
                )
                ext = artist.get_window_extent(renderer)
                boxes.append((ext.x0, ext.y0, ext.x1, ext.y1))
    for _, w in wards.iterrows():
        part = w.geometry.intersection(view)
        if part.is_empty or part.area < 0.01 * view.area:
            continue
        pt = part.representative_point()
        if _place(
            ax,
            renderer,
            pt.x,
            pt.y,
            str(w["name"]),
            WARD_STYLE,
            boxes,
            frame,
            offsets=((0, 0, "center", "center"), (0, 12, "center", "center"), (0, -12, "center", "center")),
        ):
            out.wards_named.append(str(w["name"]))
    inside = [lab for lab in labels if x0 <= lab.x <= x1 and y0 <= lab.y <= y1]
    for lab in sorted(inside, key=lambda lab: (-lab.weight, lab.text)):
        style = STYLES[lab.kind]
        box = _place(ax, renderer, lab.x, lab.y, lab.text, style, boxes, frame)
        if box is None:
            out.dropped.append(lab.text)
            continue
        ax.plot([lab.x], [lab.y], "o", markersize=2.2, color=style["color"], zorder=6)
        out.placed.append((lab.text, lab.kind, *box))
    _scale_bar(ax, x0, y0, x1, y1)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    out.png = buf.getvalue()
    return out


def _outline_xy(geom) -> tuple[np.ndarray, np.ndarray]:
    """x and y of every ring of ``geom`` joined with NaN breaks, for one ``plot`` call."""
    xs, ys = [], []
    for poly in getattr(geom, "geoms", [geom]):
        for ring in [poly.exterior, *poly.interiors]:
            xy = np.asarray(ring.coords)
            xs += [*xy[:, 0], np.nan]
            ys += [*xy[:, 1], np.nan]
    return np.array(xs), np.array(ys)
