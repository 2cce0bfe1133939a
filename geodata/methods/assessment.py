"""Did a placed action work? Counts before and after in its area, a buffer around it and a control
area, read as a relative effect size and a weighted displacement quotient.

Counts, in Bowers and Johnson's notation: ``R`` the response (target) area, ``B`` the buffer (the
ring around it where displaced crime would show), ``C`` the control area; ``0`` before the action,
``1`` after, over periods of equal length.

* **Relative effect size** (Farrington; the measure of the Campbell reviews of hot spots policing,
  Braga et al. 2019): ``RES = (R0 * C1) / (R1 * C0)``, above 1 the target area did better than the
  control. Its interval: ``ln RES ± z * sqrt(phiR * (1/R0 + 1/R1) + phiC * (1/C0 + 1/C1))`` (the
  Poisson variance of each count, multiplied by its area's dispersion factor), default level 95%.
* **Dispersion factors** ``phiR``, ``phiC`` (:func:`dispersion`, quasi-Poisson; McCullagh and Nelder
  1989, §4.5): crime counts vary more from month to month than Poisson counts do (a busy month draws
  more), so a Poisson interval is too narrow. An area's factor is the Pearson chi-square of its
  monthly counts, each period's months about their own mean, over its degrees of freedom (months
  less the 2 means); never below 1 (an interval is never made narrower than Poisson), and 1 when
  there are no degrees of freedom. One factor per area: the control, a whole district, swings with
  the seasons far more than a Poisson count of its size (St Albans, 2021-01 to 2021-12: control 10.7,
  Batchwood ward 5.1), and pooling would lend that to the target's small counts.
* **Weighted displacement quotient** (Bowers and Johnson 2003, J. Quant. Criminol. 19(3)):
  success measure ``SM = R1/C1 - R0/C0``, buffer measure ``BDM = B1/C1 - B0/C0``, ``WDQ = BDM / SM``;
  and the **total net effect** ``TNE = (R0 * C1/C0 - R1) + (B0 * C1/C0 - B1)`` (crimes prevented in the
  target and buffer beyond the control's trend, less any displaced). Read only when the target area
  improved against the control (``SM < 0``): ``WDQ > 0`` diffusion of benefit (the buffer improved
  too), ``WDQ < 0`` displacement, below -1 more displaced than prevented; otherwise there is nothing
  to displace and no reading is given.
* **Too few to tell** (:func:`refusal`): no effect size when any of ``R0, R1, C0, C1`` is below
  :data:`MIN_COUNT` (5), and no displacement reading when ``B0`` or ``B1`` is: below 5 the log of a
  count ratio is dominated by chance (a count of 4 alone gives ``ln`` a standard error of 0.5,
  a factor of 2.7 either way at 95%), the normal approximation behind the interval is the rule of
  thumb's limit (expected counts of 5; Cochran 1954), and a zero has no logarithm. Measured (tests,
  200,000 draws): with this rule the interval's coverage stays at or above 95% for target counts of
  3 to 40 a period.

What it cannot say: the control's trend stands for what would have happened without the action
(other changes in the target area, regression to the mean after a peak, and police.uk's monthly
snapping of locations are not allowed for), and a quotient of small differences swings widely.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

from geodata.methods import validate

#: The smallest count of each of R0, R1, C0, C1 (and B0, B1 for displacement) read (module docstring).
MIN_COUNT = 5
#: The interval's default level.
LEVEL = 0.95


@dataclass(frozen=True)
class Counts:
    """Incidents in the target (``r``), buffer (``b``) and control (``c``) areas, before (0) and after (1)."""

    r0: int
    r1: int
    b0: int
    b1: int
    c0: int
    c1: int

    def __post_init__(self) -> None:
        validate.finite_values(
            "counts (R0, R1, B0, B1, C0, C1)",
            [self.r0, self.r1, self.b0, self.b1, self.c0, self.c1],
            "give whole incident counts (>= 0)",
            nonnegative=True,
            whole=True,
            labels=["R0", "R1", "B0", "B1", "C0", "C1"],
        )


@dataclass(frozen=True)
class Effect:
    """A relative effect size with its interval at ``level``, and the dispersion factors used
    (target, control)."""

    res: float
    low: float
    high: float
    dispersion: tuple[float, float]
    level: float = LEVEL

    @property
    def reading(self) -> str:
        pct = f"{self.level:.0%}"
        if self.low > 1:
            return f"the target area improved against the control ({pct} interval above 1)"
        if self.high < 1:
            return f"the target area got worse against the control ({pct} interval below 1)"
        return f"no clear change against the control (the {pct} interval includes 1)"


@dataclass(frozen=True)
class Displacement:
    """Bowers and Johnson's measures; ``wdq``, ``tne`` and ``reading`` only when the target improved
    (``sm < 0``) and the buffer counts are read (else ``reading`` says why not)."""

    sm: float
    bdm: float
    wdq: float | None
    tne: float | None
    reading: str


def dispersion(series: Sequence[Sequence[float]]) -> float:
    """The quasi-Poisson dispersion factor of monthly counts, each inner sequence one period (of one
    area) with its own mean (module docstring): Pearson chi-square over its degrees of freedom,
    at least 1; 1 with no degrees of freedom."""
    chi2, df = 0.0, 0
    for months in series:
        validate.finite_values("monthly counts", months, "give incident counts per month (>= 0)", nonnegative=True)
        n = len(months)
        if n == 0:
            continue
        mean = sum(months) / n
        if mean > 0:
            chi2 += sum((y - mean) ** 2 for y in months) / mean
        df += n - 1
    return max(1.0, chi2 / df) if df > 0 else 1.0


def refusal(c: Counts) -> str | None:
    """Why no effect size can be given for ``c`` (module docstring), or ``None``."""
    small = [f"{name} = {v}" for name, v in (("R0", c.r0), ("R1", c.r1), ("C0", c.c0), ("C1", c.c1)) if v < MIN_COUNT]
    if small:
        return (
            f"Too few incidents to tell: {', '.join(small)} (target R, control C; before 0, after 1); "
            f"an effect size needs at least {MIN_COUNT} in each. A longer period, more crime types or a "
            "larger area would give more."
        )
    return None


def relative_effect(c: Counts, phi_target: float = 1.0, phi_control: float = 1.0, level: float = LEVEL) -> Effect:
    """``RES = (R0 * C1) / (R1 * C0)`` with its interval (module docstring; dispersion factors default
    1, Poisson); :class:`ValueError` when :func:`refusal` refuses ``c`` or a factor is below 1."""
    if (why := refusal(c)) is not None:
        raise ValueError(why)
    if not (phi_target >= 1 and phi_control >= 1):
        raise ValueError(f"a dispersion factor must be 1 or more, got {phi_target}, {phi_control}")
    res = (c.r0 * c.c1) / (c.r1 * c.c0)
    se = math.sqrt(phi_target * (1 / c.r0 + 1 / c.r1) + phi_control * (1 / c.c0 + 1 / c.c1))
    z = NormalDist().inv_cdf(0.5 + level / 2)
    return Effect(res, res * math.exp(-z * se), res * math.exp(z * se), (phi_target, phi_control), level)


def displacement(c: Counts) -> Displacement:
    """SM, BDM, WDQ and TNE with their reading (module docstring)."""
    if c.c0 <= 0 or c.c1 <= 0:
        raise ValueError("the control area needs incidents in both periods")
    sm, bdm = c.r1 / c.c1 - c.r0 / c.c0, c.b1 / c.c1 - c.b0 / c.c0
    if sm >= 0:
        return Displacement(
            sm, bdm, None, None, "The target area did not improve against the control: no displacement to read."
        )
    if min(c.b0, c.b1) < MIN_COUNT:
        return Displacement(
            sm,
            bdm,
            None,
            None,
            f"Too few incidents in the buffer to read displacement (B0 = {c.b0}, B1 = {c.b1}; at least "
            f"{MIN_COUNT} each).",
        )
    wdq = bdm / sm
    tne = (c.r0 * c.c1 / c.c0 - c.r1) + (c.b0 * c.c1 / c.c0 - c.b1)
    if wdq > 0:
        reading = "diffusion of benefit: the buffer improved too" + (
            ", by more than the target area" if wdq > 1 else ""
        )
    elif wdq < -1:
        reading = "displacement greater than the reduction: more moved to the buffer than was prevented"
    elif wdq < 0:
        reading = "some displacement to the buffer, less than the reduction"
    else:
        reading = "no displacement and no diffusion of benefit"
    return Displacement(sm, bdm, wdq, tne, f"WDQ {wdq:+.2f}: {reading}; total net effect {tne:+.1f} incidents.")
