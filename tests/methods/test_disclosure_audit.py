"""The disclosure rule (geodata/methods/disclosure.py) audited as an attacker would.

For constructed data sets (records of a sensitive source by ward x month x type x flag) the test
collects every figure a public visitor can see, made by the functions the pages call
(:func:`geodata.methods.disclosure.public_counts` for the cells, :func:`geodata.methods.disclosure.period_totals` for
every ward count over a period; period totals and changes are sums or functions of these; a status is
judged on the district's true counts and shown alone, and wards get no verdict for the public,
see tests/app/test_access.py for the pages themselves), and then, with an integer program
(``scipy.optimize.milp``), the smallest and largest value each protected cell can take given all of
them and the rule's published algorithm.

The attacker's model (:class:`Attacker`): unknown true counts ``n`` per finest cell (ward, month,
type, flag), and unknown public cells ``k`` (a public cell shows ``5k``); a public cell of a table
whose true count is ``x`` (the sum of the finest cells the table's filter takes) satisfies
``5k - 4 <= x <= 5k + 4`` (random rounding to base 5 moves a count to one of the two multiples of 5
around it, and a multiple of 5 stays); every published figure is a sum of public cells
(``sum 5k = figure``). Nothing else is assumed, so the reader knows the algorithm and every figure,
but not the secret key that fixes each draw.

A **protected cell** is a true count of 1 to 4 (:data:`geodata.methods.disclosure.THRESHOLD`) of: any finest
cell of the records, or the true counterpart of any published figure (a ward-month cell, a ward's
count over a period, a period's total). Each must keep at least :data:`MIN_VALUES` feasible values
(``max - min + 1``).
"""

from __future__ import annotations

import itertools
import time

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

from geodata.methods import disclosure

MIN_VALUES = 3
BIG = 10**6
#: The Meeting page's period lengths (dashboard/views/meeting.py WINDOWS; the kiosk and the pack take
#: the same periods).
WINDOWS = (1, 3, 6, 12)
SOURCE = "council-incidents"
WARDS, MONTHS, TYPES, FLAGS = ("W1", "W2"), ("2021-01", "2021-02", "2021-03"), ("a", "b"), (False, True)
#: The public tables of the source: the unfiltered one (the Fly-tipping page, a measure without a
#: filter) and two measures' filters (a category, a flag), each with its own rounded cells.
TABLES = {
    disclosure.table_id(SOURCE): lambda t, f: True,
    disclosure.table_id(SOURCE, categories=["a"]): lambda t, f: t == "a",
    disclosure.table_id(SOURCE, flags=["youth"]): lambda t, f: f,
}
FINEST = list(itertools.product(range(len(WARDS)), range(len(MONTHS)), TYPES, FLAGS))


# ------------------------------------------------------------------ the attacker's integer program
_CACHE: dict = {}


class Attacker:
    """Integer unknowns with bounds and linear constraints ``lo <= sum coef * var <= hi``; the range of
    a linear expression by two MILPs. Fixed variables are substituted first and the program split
    into independent parts (no constraint links them), whose ranges add up; parts that look alike
    (same constraints, same expression) are solved once (:data:`_CACHE`)."""

    def __init__(self):
        self.lb: list[int] = []
        self.ub: list[int] = []
        self.rows: list[tuple[dict[int, int], int, int]] = []

    def var(self, lb: int = 0, ub: int = BIG) -> int:
        self.lb.append(lb)
        self.ub.append(ub)
        return len(self.lb) - 1

    def add(self, coefs: dict[int, int], lo: int, hi: int) -> None:
        self.rows.append(({v: c for v, c in coefs.items() if c}, lo, hi))

    def _presolve(self) -> tuple[list, list, list]:
        lb, ub, rows = list(self.lb), list(self.ub), [(dict(c), lo, hi) for c, lo, hi in self.rows]
        changed = True
        while changed:
            changed = False
            kept = []
            for coefs, lo, hi in rows:
                free = {v: c for v, c in coefs.items() if lb[v] != ub[v]}
                const = sum(c * lb[v] for v, c in coefs.items() if lb[v] == ub[v])
                lo, hi = lo - const, hi - const
                if not free:
                    assert lo <= 0 <= hi, "the published figures contradict each other"
                    changed = True
                    continue
                if len(free) == 1:  # a bound on one variable
                    ((v, c),) = free.items()
                    a, b = sorted((lo / c, hi / c))
                    lb[v], ub[v] = max(lb[v], int(np.ceil(a - 1e-9))), min(ub[v], int(np.floor(b + 1e-9)))
                    assert lb[v] <= ub[v], "the published figures contradict each other"
                    changed = True
                    continue
                kept.append((free, lo, hi))
            rows = kept
        return lb, ub, rows

    def ranges(self, exprs: list[dict[int, int]]) -> list[tuple[int, int]]:
        lb, ub, rows = self._presolve()
        parent = list(range(len(lb)))

        def find(v):
            while parent[v] != v:
                parent[v] = parent[parent[v]]
                v = parent[v]
            return v

        for coefs, _, _ in rows:
            first, *rest = coefs
            for v in rest:
                parent[find(v)] = find(first)
        members: dict[int, list[int]] = {}
        for v in range(len(lb)):
            members.setdefault(find(v), []).append(v)
        part_rows: dict[int, list] = {}
        for row in rows:
            part_rows.setdefault(find(next(iter(row[0]))), []).append(row)
        parts: dict[int, tuple] = {}  # root -> (variables, their local index, the part's key, rows)
        out = []
        for expr in exprs:
            low = high = 0
            for root in {find(v) for v in expr}:
                if root not in parts:
                    variables = members[root]
                    local = {v: i for i, v in enumerate(variables)}
                    prows = part_rows.get(root, [])
                    key = (
                        tuple((lb[v], ub[v]) for v in variables),
                        tuple(
                            sorted(
                                (tuple(sorted((local[v], c) for v, c in coefs.items())), lo, hi)
                                for coefs, lo, hi in prows
                            )
                        ),
                    )
                    parts[root] = (variables, local, key, prows)
                lo, hi = self._part_range(*parts[root], expr)
                low, high = low + lo, high + hi
            out.append((low, high))
        return out

    @staticmethod
    def _part_range(variables, local, key, rows, expr) -> tuple[int, int]:
        key = (key, tuple(expr.get(v, 0) for v in variables))
        if key not in _CACHE:
            c = np.array(key[1], dtype="float64")
            lb, ub = zip(*key[0][0])
            if rows:
                a = np.zeros((len(rows), len(variables)))
                for i, (coefs, _, _) in enumerate(rows):
                    for v, coef in coefs.items():
                        a[i, local[v]] = coef
                cons = [LinearConstraint(a, [r[1] for r in rows], [r[2] for r in rows])]
            else:
                cons = []
            ends = []
            for sign in (1, -1):
                res = milp(sign * c, constraints=cons, integrality=np.ones(len(variables)), bounds=Bounds(lb, ub))
                assert res.success, res.message
                ends.append(int(round(sign * res.fun)))
            _CACHE[key] = tuple(ends)
        return _CACHE[key]


# ------------------------------------------------------------------ what the public sees
def _true_table(datasets: np.ndarray, table: str) -> pd.DataFrame:
    """True ward x month counts of one public table of every data set (rows: data sets, columns:
    FINEST counts), one row per non-zero cell (no row = zero), ward codes prefixed ``d<i>:``."""
    takes = TABLES[table]
    rows = []
    for w, m in itertools.product(range(len(WARDS)), range(len(MONTHS))):
        finest = [j for j, (w2, m2, t, f) in enumerate(FINEST) if (w2, m2) == (w, m) and takes(t, f)]
        counts = datasets[:, finest].sum(axis=1)
        nz = np.flatnonzero(counts)
        rows.append(
            pd.DataFrame(
                {
                    "ward_code": [f"d{i}:{WARDS[w]}" for i in nz],
                    "month": pd.Timestamp(MONTHS[m]),
                    "incidents": counts[nz],
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def _periods() -> list[tuple[str, str]]:
    """Every period whose figures the public can ask for: each Meeting window ending at each loaded
    month (the window's months all loaded), and all loaded months (the Fly-tipping page)."""
    out = {(MONTHS[e - w + 1], MONTHS[e]) for w in WINDOWS for e in range(len(MONTHS)) if e - w + 1 >= 0}
    return sorted(out | {(MONTHS[0], MONTHS[-1])})


def public_figures(datasets: list[np.ndarray], key: bytes) -> list[list[tuple[str, int, int, int]]]:
    """Every public figure of every data set, as (table, ward index or -1 for a total over wards,
    first month index, last month index) -> value. Made in one call per table and period for all
    data sets together (ward codes carry the data set's number), by the pages' own functions."""
    figures: list[dict] = [{} for _ in datasets]
    for table in TABLES:
        public = disclosure.public_counts(_true_table(np.asarray(datasets), table), key, table)
        for start, end in _periods():
            wards = disclosure.period_totals(public, start, end).to_dict()
            s, e = MONTHS.index(start), MONTHS.index(end)
            for i in range(len(datasets)):
                per_ward = [int(wards.get(f"d{i}:{w}", 0)) for w in WARDS]  # the page's map: every ward
                for w, v in enumerate(per_ward):
                    figures[i][(table, w, s, e)] = v
                figures[i][(table, -1, s, e)] = sum(per_ward)  # the metric: a sum of the public cells
    return [list(f.items()) for f in figures]


#: For each public cell (table, ward, month): the finest cells it counts.
_CELL = {
    (table, w, m): [j for j, (w2, m2, t, f) in enumerate(FINEST) if (w2, m2) == (w, m) and takes(t, f)]
    for table, takes in TABLES.items()
    for w in range(len(WARDS))
    for m in range(len(MONTHS))
}


def _figure_cells(table: str, w: int, s: int, e: int) -> list[tuple[str, int, int]]:
    """The public cells a figure sums (ward ``w``, or every ward for -1; months ``s`` to ``e``)."""
    return [(table, w2, m) for w2 in range(len(WARDS)) for m in range(s, e + 1) if w < 0 or w2 == w]


def audit(n: np.ndarray, figures) -> list[tuple[str, int, int]]:
    """(name, true value, feasible values) of every protected cell of one data set."""
    att = Attacker()
    cells = [att.var() for _ in FINEST]  # variable j is finest cell j
    k = {}
    for cell, finest in _CELL.items():
        k[cell] = att.var()
        att.add(
            {**{cells[j]: 1 for j in finest}, k[cell]: -disclosure.BASE}, -(disclosure.BASE - 1), disclosure.BASE - 1
        )
    protected = [(f"finest {FINEST[j]}", {cells[j]: 1}, int(n[j])) for j in range(len(FINEST)) if 1 <= n[j] <= 4]
    for fig, value in figures:
        members = _figure_cells(*fig)
        att.add({k[c]: disclosure.BASE for c in members}, value, value)
        finest = [j for c in members for j in _CELL[c]]
        truth = int(n[finest].sum())
        if 1 <= truth <= disclosure.THRESHOLD:
            protected.append((f"{fig}", {cells[j]: 1 for j in finest}, truth))
    out = []
    for (name, _, truth), (lo, hi) in zip(protected, att.ranges([e for _, e, _ in protected])):
        assert lo <= truth <= hi, (name, truth, lo, hi)
        out.append((name, truth, hi - lo + 1))
    return out


def _datasets(count: int, seed: int) -> list[np.ndarray]:
    """Small constructed data sets: Poisson counts per finest cell, from sparse (mostly 0-1) to
    counts around the threshold, with some cells well above it."""
    rng = np.random.default_rng(seed)
    rates = rng.choice([0.2, 0.6, 1.5, 3.0], size=count)
    n = rng.poisson(rates[:, None], size=(count, len(FINEST)))
    big = rng.random((count, len(FINEST))) < 0.05
    n[big] += rng.integers(5, 10, size=big.sum())
    return list(n)


def test_every_protected_cell_keeps_three_values_on_10000_data_sets():
    t0 = time.perf_counter()
    datasets = _datasets(10_000, seed=2018)
    figures = public_figures(datasets, key=bytes(range(32)))
    t1 = time.perf_counter()
    worst, protected = MIN_VALUES + 99, 0
    for n, figs in zip(datasets, figures):
        for name, truth, values in audit(n, figs):
            protected += 1
            assert values >= MIN_VALUES, (n.tolist(), name, truth, values)
            worst = min(worst, values)
    t2 = time.perf_counter()
    print(
        f"\n{len(datasets):,} data sets, {protected:,} protected cells, fewest feasible values {worst}; "
        f"figures {t1 - t0:.1f} s, integer programs {t2 - t1:.1f} s ({len(_CACHE):,} distinct parts solved)"
    )
    assert protected > 50_000 and worst >= MIN_VALUES


# ------------------------------------------------------------------ the auditor finds a leak
def test_the_auditor_finds_a_cell_that_primary_suppression_and_a_true_total_give_away():
    """The old rule's "(8 -> 8)" leak in small: cells [1, 7] shown as "<5" and 7 with the true total 8.
    The integer program must pin the suppressed cell to one value (a check that can fail)."""
    att = Attacker()
    a, b = att.var(1, 4), att.var()  # "<5": 1 to 4
    att.add({b: 1}, 7, 7)
    att.add({a: 1, b: 1}, 8, 8)
    assert att.ranges([{a: 1}]) == [(1, 1)]


def test_the_auditor_finds_the_smallest_first_suppression_leak():
    """[1, 5, 0, 0] under the old rule showed "<5, c, 0, 0, total c": a reader who knows secondary cells
    are chosen smallest first, and only when needed, knows c <= 5 (the smallest count above 4) and the
    total < 10, so the "<5" cell is 1 (the issue's exhaustive search). In the auditor's terms: one value."""
    att = Attacker()
    a, c = att.var(1, 4), att.var(5, 5)  # what "smallest first" tells the reader about c here
    att.add({a: 1, c: 1}, 0, 6)  # the total was suppressed because the shown sum would have given a away
    assert att.ranges([{a: 1}]) == [(1, 1)]


# ------------------------------------------------------------------ the cases under the rule
@pytest.mark.parametrize("counts", [[1, 5, 0, 0], [2, 5, 0, 0], [4, 5, 0, 0], [1, 1, 1, 1], [3, 0, 0, 0]])
def test_ward_display_keeps_every_small_count_protected(counts):
    """A one-month ward display (the Meeting map with its total) under the rule, for 200 keys: every
    count of 1 to 4 keeps at least three feasible values."""
    true = pd.DataFrame(
        {"ward_code": [f"W{i}" for i in range(len(counts))], "month": pd.Timestamp("2021-01"), "incidents": counts}
    )
    table = disclosure.table_id("council-flytipping")
    for seed in range(200):
        key = np.random.default_rng(seed).bytes(32)
        public = disclosure.public_counts(true, key, table)
        shown = disclosure.period_totals(public).reindex(true["ward_code"]).tolist()
        att = Attacker()
        x = [att.var() for _ in counts]
        ks = [att.var() for _ in counts]
        for xi, ki, v in zip(x, ks, shown):
            att.add({xi: 1, ki: -5}, -4, 4)
            att.add({ki: 5}, v, v)
        att.add({ki: 5 for ki in ks}, sum(shown), sum(shown))  # the total: a sum of the shown cells
        for (lo, hi), v in zip(att.ranges([{xi: 1} for xi in x]), counts):
            if 1 <= v <= 4:
                assert hi - lo + 1 >= MIN_VALUES and lo <= v <= hi


def test_rounding_is_unbiased_fixed_per_cell_and_keyed():
    """Random rounding to base 5: multiples of 5 stay, other counts go to a neighbouring multiple, the
    mean over many cells is the true mean, the same cell always rounds the same way, and another key
    draws again."""
    n = 20_000
    true = pd.DataFrame({"ward_code": [f"W{i}" for i in range(n)], "month": "2021-01", "incidents": np.arange(n) % 13})
    key = bytes(32)
    a = disclosure.public_counts(true, key, "t")["incidents"].to_numpy()
    assert (a % 5 == 0).all() and (np.abs(a - true["incidents"]) <= 4).all()
    assert (a[true["incidents"] % 5 == 0] == true["incidents"][true["incidents"] % 5 == 0]).all()
    assert abs(a.mean() - true["incidents"].mean()) < 0.1  # unbiased (sd of the mean ~0.016)
    ones = a[true["incidents"].to_numpy() == 1]
    assert 0.15 < (ones == 5).mean() < 0.25  # a 1 shows as 5 one time in five
    assert (disclosure.public_counts(true, key, "t")["incidents"].to_numpy() == a).all()
    assert (disclosure.public_counts(true.iloc[::-1], key, "t")["incidents"].to_numpy() == a[::-1]).all()
    assert (disclosure.public_counts(true, bytes([1] * 32), "t")["incidents"].to_numpy() != a).any()
    assert (disclosure.public_counts(true, key, "u")["incidents"].to_numpy() != a).any()
    assert disclosure.feasible(0) == (0, 4) and disclosure.feasible(5) == (1, 9)


def test_store_key_is_made_once_private_and_checked(tmp_path):
    store = tmp_path / "s.duckdb"
    key = disclosure.store_key(store)
    assert len(key) == disclosure.KEY_BYTES and disclosure.store_key(store) == key
    path = tmp_path / "s.duckdb.disclosure-key"
    assert oct(path.stat().st_mode & 0o777) == "0o600" and list(tmp_path.iterdir()) == [path]
    path.write_bytes(b"short")
    with pytest.raises(ValueError, match="must be 32 bytes"):
        disclosure.store_key(store)
