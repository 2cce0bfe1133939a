"""Multiple-comparison adjustment of p-values (for many cells, wards or categories tested at once)."""

from __future__ import annotations

import numpy as np

from geodata.methods import validate

#: Adjustments :func:`adjust_p` knows.
ADJUSTMENTS = ("fdr_bh", "holm", "none")


def adjust_p(p: np.ndarray, method: str = "fdr_bh") -> np.ndarray:
    """Adjust p-values (along axis 0, each column separately) for multiple comparisons.

    ``fdr_bh``: Benjamini & Hochberg (1995) step-up; ``holm``: Holm (1979) step-down;
    ``none``: unchanged. NaN stays NaN and does not count as a test. No p-values (an empty
    array) give an empty result; a value outside [0, 1] is an error naming it.
    """
    validate.one_of("adjust", method, ADJUSTMENTS)
    p = validate.probabilities("p", p, "pass p-values between 0 and 1 (NaN for no test)")
    if method == "none" or p.size == 0:
        return p.copy()
    flat = p.reshape(p.shape[0], -1)
    out = np.full(flat.shape, np.nan)
    for j in range(flat.shape[1]):
        ok = ~np.isnan(flat[:, j])
        q = flat[ok, j]
        m = q.size
        if m == 0:
            continue
        order = np.argsort(q, kind="stable")
        ranked = q[order]
        if method == "fdr_bh":
            adj = np.minimum.accumulate((ranked * m / np.arange(1, m + 1))[::-1])[::-1]
        else:
            adj = np.maximum.accumulate(ranked * (m - np.arange(m)))
        res = np.empty(m)
        res[order] = np.minimum(adj, 1.0)
        out[ok, j] = res
    return out.reshape(p.shape)
