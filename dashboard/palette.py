"""Colours shared by the maps and the printed pack (colour-blind safe, projector safe). The
choropleth classes and their sequential colours are :mod:`geodata.classes` (one classing)."""

from geodata.classes import SEQUENTIAL

#: Gi* classes: diverging red/blue (ColorBrewer RdBu, safe for the common colour-vision deficiencies).
GI_COLOURS = {3: "#b2182b", 2: "#ef8a62", 1: "#fddbc7", -1: "#d1e5f0", -2: "#67a9cf", -3: "#2166ac"}
#: Priority status colours (Okabe-Ito) and the symbol printed beside each, so colour is never alone.
STATUS_COLOURS = {"on track": "#009E73", "off track": "#D55E00", "no data": "#777777"}
STATUS_SYMBOLS = {"on track": "✓", "off track": "▲", "no data": "–"}

__all__ = ["SEQUENTIAL", "GI_COLOURS", "STATUS_COLOURS", "STATUS_SYMBOLS"]
