"""Assessing a placed action (geodata/methods/assessment.py) against hand-worked examples of the
published formulas (Farrington's relative effect size; Bowers and Johnson 2003's weighted
displacement quotient) and against simulations whose true effect is known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from geodata.methods.assessment import MIN_COUNT, Counts, dispersion, displacement, refusal, relative_effect


def test_relative_effect_size_by_hand():
    # R0 = 100, R1 = 70, C0 = 200, C1 = 190: RES = (100 x 190) / (70 x 200) = 19,000 / 14,000 = 1.357143
    # var(ln RES) = 1/100 + 1/70 + 1/200 + 1/190 = 0.01 + 0.0142857 + 0.005 + 0.0052632 = 0.0345489, se 0.185873
    # 95%: ln RES = 0.305382 -/+ 1.959964 x 0.185873 = 0.305382 -/+ 0.364305 -> exp(-0.058923) = 0.942779,
    # exp(0.669687) = 1.953625
    e = relative_effect(Counts(100, 70, 0, 0, 200, 190))
    assert e.res == pytest.approx(1.357143, abs=1e-6)
    assert (e.low, e.high) == (pytest.approx(0.942779, abs=1e-5), pytest.approx(1.953625, abs=1e-5))
    assert e.dispersion == (1.0, 1.0) and "no clear change" in e.reading
    # the target's counts over-dispersed by 2: var = 2 x (0.01 + 0.0142857) + (0.005 + 0.0052632) = 0.0588346,
    # se 0.242558; 95%: 0.305382 -/+ 0.475406 -> 0.843644, 2.183191
    e2 = relative_effect(Counts(100, 70, 0, 0, 200, 190), phi_target=2.0)
    assert (e2.low, e2.high) == (pytest.approx(0.843644, abs=1e-5), pytest.approx(2.183191, abs=1e-5))
    # a clear fall: R 200 -> 100 against C 400 -> 400: RES 2, se sqrt(1/200 + 1/100 + 2/400) = 0.141421,
    # 95% 2 x exp(-/+0.277181) = 1.515835, 2.638810
    e3 = relative_effect(Counts(200, 100, 0, 0, 400, 400))
    assert (e3.res, e3.low, e3.high) == (2.0, pytest.approx(1.515835, abs=1e-5), pytest.approx(2.638810, abs=1e-5))
    assert "improved" in e3.reading
    with pytest.raises(ValueError, match="dispersion factor must be 1 or more"):
        relative_effect(Counts(100, 70, 0, 0, 200, 190), phi_target=0.5)


@pytest.mark.parametrize(
    ("counts", "sm", "bdm", "wdq", "tne", "words"),
    [
        # R 100 -> 60, B 50 -> 45, C 1000 -> 1000: SM = 0.06 - 0.1 = -0.04, BDM = 0.045 - 0.05 = -0.005,
        # WDQ = -0.005 / -0.04 = 0.125; TNE = (100 - 60) + (50 - 45) = 45
        (Counts(100, 60, 50, 45, 1000, 1000), -0.04, -0.005, 0.125, 45.0, "diffusion of benefit"),
        # B 50 -> 80: BDM = 0.08 - 0.05 = 0.03, WDQ = -0.75; TNE = 40 - 30 = 10
        (Counts(100, 60, 50, 80, 1000, 1000), -0.04, 0.03, -0.75, 10.0, "some displacement"),
        # B 50 -> 100: BDM = 0.05, WDQ = -1.25; TNE = 40 - 50 = -10
        (Counts(100, 60, 50, 100, 1000, 1000), -0.04, 0.05, -1.25, -10.0, "greater than the reduction"),
        # the control falls 500 -> 400: SM = 30/400 - 50/500 = -0.025, BDM = 36/400 - 40/500 = 0.01, WDQ = -0.4;
        # TNE = (50 x 0.8 - 30) + (40 x 0.8 - 36) = 10 - 4 = 6
        (Counts(50, 30, 40, 36, 500, 400), -0.025, 0.01, -0.4, 6.0, "some displacement"),
    ],
)
def test_weighted_displacement_quotient_by_hand(counts, sm, bdm, wdq, tne, words):
    d = displacement(counts)
    assert (d.sm, d.bdm) == (pytest.approx(sm), pytest.approx(bdm))
    assert (d.wdq, d.tne) == (pytest.approx(wdq), pytest.approx(tne))
    assert words in d.reading


def test_displacement_is_read_only_when_the_target_improved_and_the_buffer_has_counts():
    worse = displacement(Counts(100, 110, 50, 80, 1000, 1000))  # SM = 0.11 - 0.1 > 0
    assert worse.sm == pytest.approx(0.01) and worse.wdq is None and worse.tne is None
    assert "did not improve" in worse.reading
    thin = displacement(Counts(100, 60, 4, 9, 1000, 1000))
    assert thin.wdq is None and "Too few incidents in the buffer" in thin.reading and "B0 = 4" in thin.reading


def test_dispersion_by_hand():
    # one period 2, 4, 6 (mean 4): chi2 = (4 + 0 + 4) / 4 = 2; the other 10, 10, 10: 0; df = 2 + 2 -> 0.5, floored to 1
    assert dispersion([[2, 4, 6], [10, 10, 10]]) == 1.0
    # 0, 10 (mean 5): chi2 = (25 + 25) / 5 = 10; 5, 5: 0; df = 1 + 1 -> 5
    assert dispersion([[0, 10], [5, 5]]) == 5.0
    assert dispersion([[7], [3]]) == 1.0  # no degrees of freedom: Poisson


def test_tiny_counts_are_refused_with_the_reason():
    why = refusal(Counts(4, 12, 0, 0, 300, 310))
    assert why is not None and "R0 = 4" in why and f"at least {MIN_COUNT}" in why
    assert refusal(Counts(5, 5, 0, 0, 5, 5)) is None
    with pytest.raises(ValueError, match="Too few incidents to tell: R1 = 0, C0 = 3"):
        relative_effect(Counts(30, 0, 0, 0, 3, 40))


def _negative_binomial(rng, mean, phi, size):
    """Counts of mean ``mean`` and variance ``phi * mean`` (a gamma-Poisson mixture)."""
    if phi == 1:
        return rng.poisson(mean, size)
    k = mean / (phi - 1)
    return rng.negative_binomial(k, k / (k + mean), size)


@pytest.mark.parametrize("phi", [1.0, 2.5])
def test_the_interval_covers_a_known_effect_95_times_in_100(phi):
    # 12 months before and after; target 20 a month falling to 14 (true RES 20/14), control 200 a month,
    # both over-dispersed by phi; 2,000 simulated studies. Measured: coverage 0.962 (phi 1), 0.935 (phi 2.5:
    # a little under 95%, the factors being estimated on 22 degrees of freedom each) with the estimated
    # factors; with Poisson's (factor 1) at phi 2.5 only 0.785
    rng = np.random.default_rng(26)
    true = 20 / 14
    hit = naive = 0
    n = 2000
    for _ in range(n):
        r0, r1 = _negative_binomial(rng, 20, phi, 12), _negative_binomial(rng, 14, phi, 12)
        c0, c1 = _negative_binomial(rng, 200, phi, 12), _negative_binomial(rng, 200, phi, 12)
        c = Counts(int(r0.sum()), int(r1.sum()), 0, 0, int(c0.sum()), int(c1.sum()))
        e = relative_effect(c, dispersion([r0, r1]), dispersion([c0, c1]))
        hit += e.low <= true <= e.high
        p = relative_effect(c)
        naive += p.low <= true <= p.high
    assert 0.92 <= hit / n <= 0.97
    if phi > 1:
        assert naive / n < 0.88  # the over-dispersion matters: Poisson's interval is too narrow


def test_with_the_refusal_rule_small_counts_never_give_a_too_narrow_interval():
    # Poisson target counts of mean 3, 5 and 10 a period (control 300), true RES 1/0.7; among the
    # studies not refused, the 95% interval covers the truth at least 95 times in 100
    rng = np.random.default_rng(5)
    for mean in (3, 5, 10):
        covered = kept = 0
        for r0, r1, c0, c1 in zip(*(rng.poisson(m, 4000) for m in (mean, 0.7 * mean, 300, 300))):
            c = Counts(int(r0), int(r1), 0, 0, int(c0), int(c1))
            if refusal(c) is None:
                e = relative_effect(c)
                kept += 1
                covered += e.low <= 1 / 0.7 <= e.high
        assert kept > 0 and covered / kept >= 0.945, (mean, kept, covered / kept)
    assert math.isclose(relative_effect(Counts(5, 5, 0, 0, 5, 5)).res, 1.0)


@pytest.mark.parametrize("phi", [1.0, 2.5])
def test_no_effect_gives_an_interval_without_1_about_alpha_of_the_time(phi):
    # size of the effect size's test under its own null: target and control unchanged (20 and 200 a month,
    # 12 months a side); the 95% interval leaves out 1 in about 5% of 2,000 studies (measured 4.8%, 6.5%)
    rng = np.random.default_rng(int(10 * phi))
    miss = 0
    for _ in range(2000):
        r0, r1, c0, c1 = (_negative_binomial(rng, m, phi, 12) for m in (20, 20, 200, 200))
        c = Counts(int(r0.sum()), int(r1.sum()), 0, 0, int(c0.sum()), int(c1.sum()))
        e = relative_effect(c, dispersion([r0, r1]), dispersion([c0, c1]))
        miss += not (e.low <= 1 <= e.high)
    assert 0.03 <= miss / 2000 <= 0.08


def test_a_planted_halving_is_found():
    # power: the target halves (20 -> 10 a month) while the control stays (200), over-dispersed 2.5x:
    # the interval lies above 1 in most studies (measured 97%)
    rng = np.random.default_rng(3)
    found = 0
    for _ in range(500):
        r0, r1, c0, c1 = (_negative_binomial(rng, m, 2.5, 12) for m in (20, 10, 200, 200))
        c = Counts(int(r0.sum()), int(r1.sum()), 0, 0, int(c0.sum()), int(c1.sum()))
        found += relative_effect(c, dispersion([r0, r1]), dispersion([c0, c1])).low > 1
    assert found / 500 >= 0.9
