"""How a p-value is written on every page, sheet and command: one rule.

``format_p``: below 0.001 it is "< 0.001" (a p-value is never 0: a permutation test's smallest
is 1 / (permutations + 1), an analytic one only underflows), otherwise three decimals
("0.012", "1.000"), as the APA style guide (7th ed., 6.36) writes exact p to three decimals;
NaN (no test made) is "n/a". ``p_clause`` puts it in a sentence: "p = 0.012", "p < 0.001", "p n/a".
"""

from __future__ import annotations

import math

from geodata.methods import validate

#: Below this a p-value is written "< 0.001".
SMALLEST_SHOWN = 0.001


def format_p(p: float | None) -> str:
    """The p-value as text: "< 0.001", "0.012", ..., "1.000"; "n/a" for NaN or None.

    >>> [format_p(p) for p in (0.0, 0.0004, 0.0123, 1.0, None, float("nan"))]
    ['< 0.001', '< 0.001', '0.012', '1.000', 'n/a', 'n/a']
    >>> format_p(1.96)
    Traceback (most recent call last):
    ...
    ValueError: p must be between 0 and 1, got 1.96: pass a probability, not a z-score or percentage
    """
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "n/a"
    p = float(p)
    if math.isnan(p):
        return "n/a"
    validate.probability("p", p, "pass a probability, not a z-score or percentage")
    if p < SMALLEST_SHOWN:
        return f"< {SMALLEST_SHOWN:g}"
    return f"{min(p, 1.0):.3f}"


def p_clause(p: float | None) -> str:
    """The p-value for a sentence: "p = 0.012", "p < 0.001" (never "p = < 0.001"), "p n/a".

    >>> p_clause(0.0123), p_clause(0.00001), p_clause(None)
    ('p = 0.012', 'p < 0.001', 'p n/a')
    """
    text = format_p(p)
    return f"p {text}" if text[0] in "<n" else f"p = {text}"
