"""Colours shared by the maps and the printed pack (colour-blind safe, projector safe). The
choropleth classes and their sequential colours are :mod:`geodata.classes` (one classing)."""

from geodata.classes import SEQUENTIAL

#: Gi* classes: diverging red/blue (ColorBrewer RdBu, safe for the common colour-vision deficiencies).
GI_COLOURS = {3: "#b2182b", 2: "#ef8a62", 1: "#fddbc7", -1: "#d1e5f0", -2: "#67a9cf", -3: "#2166ac"}
#: Priority status colours (Okabe-Ito green, vermilion and blue, darkened so white text on them passes WCAG
#: AA, 4.5:1: 5.3, 5.2, 5.1 and 7.0) and the symbol printed beside each, so colour is never alone.
STATUS_COLOURS = {"on track": "#007A5A", "off track": "#B34F00", "not judged": "#0072B2", "no data": "#595959"}
STATUS_SYMBOLS = {"on track": "✓", "off track": "▲", "not judged": "?", "no data": "–"}

__all__ = ["SEQUENTIAL", "GI_COLOURS", "STATUS_COLOURS", "STATUS_SYMBOLS"]
