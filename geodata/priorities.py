"""The partnership's priority list (``priorities.toml``): what each priority is and what measures it.

CSP staff edit the file, not code. Every key is checked when the file is
loaded; a problem raises :class:`PrioritiesError` naming the file and line::

    partnership = "St Albans City and District Community Safety Partnership"
    strategy = "Community Safety Strategy 2018-19"

    [target]                      # the default target rule of every priority
    rule = "limit-increase"       # the strategy's "limit further increases" (the only rule)
    window_months = 12            # default 12: the latest 12 months ...
    compare = "previous"          # ... against the 12 before ("previous", default),
                                  #     or against the same months a year earlier ("year-earlier")
    alpha = 0.05                  # significance level of the change test (default 0.05)

    [harm]                        # optional: weights per police.uk category for a harm view
    source = "where the weights come from (required with weights)"
    weights = { "Robbery" = 1.0, ... }

    [[priority]]
    id = "P3"                     # short, unique
    title = "Local crimes of concern"
    wording = "the strategy's own words"
    target = { window_months = 6 }            # optional: overrides [target] for this priority
    annual = ["defra"] # optional: district statistics (annual, financial years) shown as the
                                  # priority's figures when no monthly measure covers the period

    [[priority.measure]]          # zero or more
    source = "police.uk"          # one of SOURCES
    categories = ["Robbery", "Burglary"]      # optional (default: every category of the source);
                                              # police.uk: its crime types, checked
    flags = ["mental-health"]     # optional: only records carrying any of these flags (council incidents)
    label = "Robbery, burglary, ..."          # optional, default the categories joined

    [[priority.gap]]              # what the priority asks for that no source measures
    what = "Fraud"
    why = "reported to Action Fraud, not in police.uk"
    held_by = "Action Fraud (City of London Police)"   # optional: who holds the data that would measure it

A priority with no measure, or whose measures' sources have loaded no month of a period, shows "no
data" with the missing source named; one whose comparison cannot be made, "not judged" with the reason
(:mod:`geodata.analysis.status`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from geodata import sources
from geodata.bundled import ST_ALBANS
from loaders.errors import InputError
from loaders.tomlfile import TomlFile

#: Data sources a measure may name: the store's ``source`` values, and what they are.
SOURCES = {s.id: s.label for s in sources.SOURCES.values()}
#: The known categories of a source, where they are fixed; other sources take any name.
CATEGORIES = {s.id: s.categories for s in sources.SOURCES.values() if s.categories is not None}
RULES = ("limit-increase",)
COMPARES = ("previous", "year-earlier")

#: The bundled St Albans priorities (strategy 2018-19).
DEFAULT_PRIORITIES = ST_ALBANS / "priorities.toml"


class PrioritiesError(InputError):
    """An unreadable or invalid priorities file; ``str()`` is one line for the user."""


@dataclass(frozen=True)
class Target:
    """How a priority's status is judged (see :mod:`geodata.status`)."""

    rule: str = "limit-increase"
    window_months: int = 12
    compare: str = "previous"
    alpha: float = 0.05


@dataclass(frozen=True)
class Measure:
    """One data series that measures a priority: a source, its categories (empty: all) and flags
    (empty: any record; else records with any of them)."""

    source: str
    categories: tuple[str, ...]
    label: str
    flags: tuple[str, ...] = ()

    def filters(self) -> dict:
        """The store query filters (:meth:`geodata.store.Store.counts`) of this measure, over the study
        area (the district's records: those assigned to one of its wards), as a selection's are."""
        return dict(
            source=self.source, categories=list(self.categories) or None, flags=list(self.flags) or None, inside=True
        )

    @property
    def source_name(self) -> str:
        return SOURCES[self.source]


@dataclass(frozen=True)
class Gap:
    """Something a priority asks for that no available source measures."""

    what: str
    why: str
    held_by: str = ""  # who holds the data that would measure it ("" when the file does not say)


@dataclass(frozen=True)
class Priority:
    id: str
    title: str
    wording: str
    measures: tuple[Measure, ...]
    gaps: tuple[Gap, ...]
    target: Target
    annual: tuple[str, ...] = ()  # district-statistics sources (annual figures): see the module docstring

    def needs(self) -> list[tuple[str, str]]:
        """What would measure this priority and who holds it, as (what, who) pairs: each measure (its
        label; its source's holder, :attr:`geodata.sources.Source.holder`), then each gap (what and why;
        its ``held_by``, or "not said in the priorities file")."""
        out = [(m.label, sources.get(m.source).holder) for m in self.measures]
        out += [(f"{g.what}: {g.why}", g.held_by or "not said in the priorities file") for g in self.gaps]
        return out


@dataclass(frozen=True)
class Priorities:
    path: Path
    partnership: str
    strategy: str
    priorities: tuple[Priority, ...]
    harm_weights: dict[str, float] | None = None
    harm_source: str | None = None

    def get(self, priority_id: str) -> Priority:
        for p in self.priorities:
            if p.id == priority_id:
                return p
        raise KeyError(priority_id)


class _Reader(TomlFile):
    """Validates the priorities file through the one TOML checker, naming the line of each problem
    (within the ``block``-th ``[[priority]]`` when given)."""

    def __init__(self, path: Path):
        super().__init__(path, PrioritiesError, "priorities file")
        self.blocks = [i for i, line in enumerate(self.lines) if re.match(r"\s*\[\[\s*priority\s*\]\]", line)]

    def block_line(self, key: str, block: int | None = None) -> int:
        """1-based line where ``key`` is set: within the ``block``-th [[priority]] if given."""
        start = self.blocks[block] if block is not None and block < len(self.blocks) else 0
        end = self.blocks[block + 1] if block is not None and block + 1 < len(self.blocks) else len(self.lines)
        pattern = re.compile(rf"^\s*(\[+\s*)?[\w.\"]*\b{re.escape(key)}\b")
        for i in range(start, end):
            if pattern.match(self.lines[i]):
                return i + 1
        return start + 1

    def problem(self, problem: str, key: str, block: int | None = None) -> NoReturn:
        self.fail(key, problem, self.block_line(key, block))

    def text_in(self, table: dict, key: str, block: int | None, required: bool = True, default: str = "") -> str:
        value = table.get(key, None if required else default)
        if not isinstance(value, str) or (required and not value.strip()):
            self.problem("must be a non-empty text", key, block)
        return value.strip()

    def target(self, raw, base: Target, block: int | None) -> Target:
        if raw is None:
            return base
        if not isinstance(raw, dict):
            self.problem("'target' must be a table", "target", block)
        unknown = set(raw) - {"rule", "window_months", "compare", "alpha"}
        if unknown:
            self.problem(f"unknown target key(s) {sorted(unknown)}", sorted(unknown)[0], block)
        rule = raw.get("rule", base.rule)
        if rule not in RULES:
            self.problem(f"target rule must be one of {RULES}, got {rule!r}", "rule", block)
        window = raw.get("window_months", base.window_months)
        if not isinstance(window, int) or isinstance(window, bool) or not 1 <= window <= 60:
            self.problem(f"window_months must be a whole number from 1 to 60, got {window!r}", "window_months", block)
        compare = raw.get("compare", base.compare)
        if compare not in COMPARES:
            self.problem(f"compare must be one of {COMPARES}, got {compare!r}", "compare", block)
        alpha = raw.get("alpha", base.alpha)
        if not isinstance(alpha, (int, float)) or isinstance(alpha, bool) or not 0 < alpha < 1:
            self.problem(f"alpha must be between 0 and 1, got {alpha!r}", "alpha", block)
        return Target(rule, window, compare, float(alpha))

    def measure(self, raw, block: int) -> Measure:
        if not isinstance(raw, dict):
            self.problem("each [[priority.measure]] must be a table", "measure", block)
        unknown = set(raw) - {"source", "categories", "flags", "label"}
        if unknown:
            self.problem(f"unknown measure key(s) {sorted(unknown)}", sorted(unknown)[0], block)
        source = raw.get("source")
        if source not in SOURCES:
            self.problem(f"measure source must be one of {sorted(SOURCES)}, got {source!r}", "source", block)
        cats = raw.get("categories", [])
        if not isinstance(cats, list) or not all(isinstance(c, str) and c.strip() for c in cats):
            self.problem("measure categories must be a list of names (leave it out for all)", "categories", block)
        flags = raw.get("flags", [])
        if not isinstance(flags, list) or not all(isinstance(f, str) and re.fullmatch(r"[a-z0-9-]+", f) for f in flags):
            self.problem('measure flags must be a list of flag names such as "mental-health"', "flags", block)
        known = CATEGORIES.get(source)
        for c in cats:
            if known is not None and c not in known:
                self.problem(
                    f"{c!r} is not a {source} category (one of: {', '.join(sorted(known))})", "categories", block
                )
        if len(set(cats)) != len(cats):
            self.problem("measure categories repeat a name", "categories", block)
        label = raw.get("label", ", ".join(cats) or f"all {SOURCES[source]}")
        if not isinstance(label, str) or not label.strip():
            self.problem("measure label must be a non-empty text", "label", block)
        return Measure(source, tuple(cats), label.strip(), tuple(flags))

    def gap(self, raw, block: int) -> Gap:
        if not isinstance(raw, dict) or set(raw) - {"what", "why", "held_by"}:
            self.problem("each [[priority.gap]] has 'what' and 'why', and optionally 'held_by'", "gap", block)
        held_by = self.text_in(raw, "held_by", block, required=False)
        return Gap(self.text_in(raw, "what", block), self.text_in(raw, "why", block), held_by)


def load(path: str | Path | None = None) -> Priorities:
    """Read and validate a priorities file (default :data:`DEFAULT_PRIORITIES`)."""
    path = Path(path).expanduser() if path is not None else DEFAULT_PRIORITIES
    r = _Reader(path)
    raw = r.raw
    unknown = set(raw) - {"partnership", "strategy", "target", "harm", "priority"}
    if unknown:
        r.problem(f"unknown key(s) {sorted(unknown)}", sorted(unknown)[0])
    base = r.target(raw.get("target", {}), Target(), None)
    weights, harm_source = None, None
    if "harm" in raw:
        harm = raw["harm"]
        if not isinstance(harm, dict) or set(harm) - {"source", "weights"}:
            r.problem("[harm] has exactly 'source' and 'weights'", "harm")
        harm_source = r.text_in(harm, "source", None)
        weights = harm.get("weights")
        if not isinstance(weights, dict) or not weights:
            r.problem("[harm] weights must be a table of category = weight", "weights")
        known = sources.POLICE.categories  # None would mean any category the loader accepts
        for cat, w in weights.items():
            if known is not None and cat not in known:
                r.problem(f"harm weight for {cat!r}: not a police.uk category", "weights")
            if not isinstance(w, (int, float)) or isinstance(w, bool) or w < 0:
                r.problem(f"harm weight for {cat!r} must be a number >= 0, got {w!r}", "weights")
        weights = {c: float(w) for c, w in weights.items()}
    items = raw.get("priority")
    if not isinstance(items, list) or not items:
        r.problem("the file needs at least one [[priority]]", "priority")
    out, seen = [], set()
    for i, p in enumerate(items):
        unknown = set(p) - {"id", "title", "wording", "target", "measure", "gap", "annual"}
        if unknown:
            r.problem(f"unknown priority key(s) {sorted(unknown)}", sorted(unknown)[0], i)
        pid = r.text_in(p, "id", i)
        if pid in seen:
            r.problem(f"priority id {pid!r} is used twice", "id", i)
        seen.add(pid)
        measures = p.get("measure", [])
        gaps = p.get("gap", [])
        if not isinstance(measures, list) or not isinstance(gaps, list):
            r.problem("measure and gap are lists of tables ([[priority.measure]], [[priority.gap]])", "measure", i)
        annual = p.get("annual", [])
        district = sources.ids(sources.DISTRICT_STATISTICS)
        if not isinstance(annual, list) or any(a not in district for a in annual):
            r.problem(
                f"annual must be a list of district-statistics sources ({', '.join(district)}), got {annual!r}",
                "annual",
                i,
            )
        out.append(
            Priority(
                id=pid,
                title=r.text_in(p, "title", i),
                wording=r.text_in(p, "wording", i, required=False),
                measures=tuple(r.measure(m, i) for m in measures),
                gaps=tuple(r.gap(g, i) for g in gaps),
                target=r.target(p.get("target"), base, i),
                annual=tuple(annual),
            )
        )
    return Priorities(
        path,
        r.text_in(raw, "partnership", None),
        r.text_in(raw, "strategy", None, required=False),
        tuple(out),
        weights,
        harm_source,
    )
