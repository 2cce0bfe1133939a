"""Colours shared by the maps and the printed pack (colour-blind safe, projector safe), and classes."""

import numpy as np

#: Sequential palette (viridis, 5 steps, light to dark for more incidents).
SEQUENTIAL = ("#fde725", "#5ec962", "#21918c", "#3b528b", "#440154")
#: Gi* classes: diverging red/blue (ColorBrewer RdBu, safe for the common colour-vision deficiencies).
GI_COLOURS = {3: "#b2182b", 2: "#ef8a62", 1: "#fddbc7", -1: "#d1e5f0", -2: "#67a9cf", -3: "#2166ac"}
#: Priority status colours (Okabe-Ito) and the symbol printed beside each, so colour is never alone.
STATUS_COLOURS = {"on track": "#009E73", "watch": "#E69F00", "off track": "#D55E00", "no data": "#777777"}
STATUS_SYMBOLS = {"on track": "✓", "watch": "!", "off track": "▲", "no data": "–"}


def classes(values: np.ndarray, k: int = 5) -> tuple[np.ndarray, list[float]]:
    """Quantile classes 0..k-1 of ``values`` and the break values (equal values share a class)."""
    values = np.asarray(values, dtype="float64")
    breaks = sorted(set(np.quantile(values, np.linspace(0, 1, k + 1)).round(6)))
    if len(breaks) < 2:
        return np.zeros(values.size, dtype=int), breaks
    return np.clip(np.searchsorted(breaks, values, side="right") - 1, 0, len(breaks) - 2), breaks
