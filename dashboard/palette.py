"""Colours shared by the interactive maps and the printed pack: colour-blind safe, projector safe."""

#: Sequential palette (viridis, 5 steps, light to dark for more incidents).
SEQUENTIAL = ("#fde725", "#5ec962", "#21918c", "#3b528b", "#440154")
#: Gi* classes: diverging red/blue (ColorBrewer RdBu, safe for the common colour-vision deficiencies).
GI_COLOURS = {3: "#b2182b", 2: "#ef8a62", 1: "#fddbc7", -1: "#d1e5f0", -2: "#67a9cf", -3: "#2166ac"}
#: Priority status colours (Okabe-Ito) and the symbol printed beside each, so colour is never alone.
STATUS_COLOURS = {"on track": "#009E73", "watch": "#E69F00", "off track": "#D55E00", "no data": "#777777"}
STATUS_SYMBOLS = {"on track": "✓", "watch": "!", "off track": "▲", "no data": "–"}
