"""The store's read queries (a mixin of :class:`geodata.store.Store`): incidents, counts, ward
summaries, outcomes, district statistics, population and the load history. Queries go to Arrow and
then pandas (not ``.df()``, ~10x slower on 1M rows); every query orders its result."""

from __future__ import annotations

from typing import TYPE_CHECKING

from geodata import sources
from geodata.assign import area_shares
from geodata.store.base import StoreBase
from geodata.store.schema import AREA_SOURCES
from loaders import plausible, schema
from loaders.months import parse as parse_month

if TYPE_CHECKING:  # pandas is imported by the queries only: `csp-hotspots ingest` never needs it
    import pandas as pd


def _records(source: str | None) -> tuple[str, str, tuple[str, ...]]:
    """(table to count from, the count expression, the columns it can be grouped by) for ``source``."""
    if source in AREA_SOURCES:
        return (
            "(SELECT c.*, l.ward_code FROM area_counts c LEFT JOIN lsoa_wards l USING (lsoa_code))",
            "sum(count)::BIGINT",
            ("source", "dataset", "month", "lsoa_code", "ward_code", "category", "subcategory"),
        )
    return "incidents", "count(*)", schema.NAMES


class Queries(StoreBase):
    """The read queries of a store."""

    def latest_outcomes(
        self,
        start: str | None = None,
        end: str | None = None,
        categories: list[str] | None = None,
        wards: list[str] | None = None,
        inside: bool = True,
    ) -> pd.DataFrame:
        """Each police.uk crime of the selection (filters as :meth:`incidents`, ``inside`` too) with its
        latest outcome.

        The latest outcome is the ``outcome`` of the crime's latest month in the ``outcomes`` table
        (by dataset and Crime ID); when that month lists two different outcomes, the one on the later
        line of the file, with ``ambiguous`` true. A crime no outcomes file mentions keeps its street
        file's "Last outcome category" (as published with the crime's month, or as updated by
        ``refresh --outcomes``). Columns: ``record_id, month, category, ward_code, outcome,
        outcome_month`` (null when from the street file), ``outcome_from`` ('outcomes file',
        'street file' or null when neither gives one), ``ambiguous``."""
        where, params = self._filters(start, end, categories, wards, "police.uk", inside=inside)
        return self._query(
            f"""
            WITH latest AS (SELECT dataset, record_id, max(month) AS month FROM outcomes
                            WHERE source = 'police.uk' GROUP BY ALL),
                 at_latest AS (SELECT o.dataset, o.record_id, o.month, arg_max(o.outcome, o.line) AS outcome,
                                      count(DISTINCT o.outcome) > 1 AS ambiguous
                               FROM outcomes o JOIN latest USING (dataset, record_id, month)
                               WHERE o.source = 'police.uk' GROUP BY ALL)
            SELECT i.record_id, i.month, i.category, i.ward_code, coalesce(a.outcome, i.outcome) AS outcome,
                   a.month AS outcome_month,
                   CASE WHEN a.outcome IS NOT NULL THEN 'outcomes file'
                        WHEN i.outcome IS NOT NULL THEN 'street file' END AS outcome_from,
                   coalesce(a.ambiguous, false) AS ambiguous
            FROM (SELECT * FROM incidents{where}) i
            LEFT JOIN at_latest a ON a.dataset = i.dataset AND a.record_id = i.record_id
            ORDER BY i.month, i.record_id""",
            params,
        )

    def district_stats(
        self, dataset: str | None = None, measures: list[str] | None = None, area_codes: list[str] | None = None
    ) -> pd.DataFrame:
        """District statistics (DEFRA): ``dataset, year, area_code, area_name, region, measure,
        value, note``; a null ``value`` is not available (``note`` says why), never zero."""
        clauses, params = ["source = ?"], [sources.DEFRA.id]
        for col, values in (
            ("dataset", [dataset] if dataset else None),
            ("measure", measures),
            ("area_code", area_codes),
        ):
            if values:
                clauses.append(f"{col} IN ({', '.join('?' * len(values))})")
                params += list(values)
        return self._query(
            "SELECT dataset, year, area_code, area_name, region, measure, value, note "
            f"FROM district_stats WHERE {' AND '.join(clauses)} "
            "ORDER BY dataset, year, area_code, measure",
            params,
        )

    # ------------------------------------------------------------------ queries

    def _filters(
        self,
        start=None,
        end=None,
        categories=None,
        wards=None,
        source=sources.DEFAULT,
        flags=None,
        inside: bool = True,
    ):
        clauses: list[str] = []
        params: list[object] = []
        if inside and not wards:  # the study area is the district: records assigned to one of its wards
            clauses.append("ward_code IS NOT NULL")
        if flags:
            if source in AREA_SOURCES:
                raise ValueError(f"{source} records carry no flags")
            clauses.append("list_has_any(string_split(coalesce(flags, ''), ';'), ?::VARCHAR[])")
            params.append(list(flags))
        if source is not None:
            clauses.append("source = ?")
            params.append(source)
        if start is not None:
            clauses.append("month >= ?")
            params.append(parse_month(start, "start"))
        if end is not None:
            clauses.append("month <= ?")
            params.append(parse_month(end, "end"))
        if categories:
            clauses.append(f"category IN ({', '.join('?' * len(categories))})")
            params += list(categories)
        if wards:
            clauses.append(f"ward_code IN ({', '.join('?' * len(wards))})")
            params += list(wards)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def incidents(
        self,
        start: str | None = None,
        end: str | None = None,
        categories: list[str] | None = None,
        wards: list[str] | None = None,
        source: str | None = sources.DEFAULT,
        flags: list[str] | None = None,
        inside: bool = True,
    ):
        """Incidents as a canonical GeoDataFrame, filtered by month range (YYYY-MM, inclusive),
        categories, ward codes, source (default police.uk; ``None`` for all), flags (records
        with any of them) and ``inside`` (default True): only records in the area's wards, the district
        (a force-wide store holds the county too, and a record may have no location); a caller that
        wants every stored record, the force area or the unlocated ones, says ``inside=False``."""
        where, params = self._filters(start, end, categories, wards, source, flags, inside)
        cols = ", ".join(f'"{n}"' for n in schema.NAMES)
        with self.connect() as con:
            table = con.sql(
                f"SELECT {cols} FROM incidents{where} ORDER BY month, record_id", params=params or None
            ).to_arrow_table()
        return schema.to_geodataframe(table.cast(schema.ARROW_SCHEMA))

    def counts(self, by: tuple[str, ...] = ("ward_code", "month", "category"), **filters) -> pd.DataFrame:
        """Counts of incidents grouped by ``by`` (canonical column names), column ``incidents``.

        Filters as for :meth:`incidents`. Only combinations with incidents appear. For an area-count
        source (:data:`AREA_SOURCES`) the counts are summed per LSOA's best-fit ward.
        """
        table, measure, names = _records(filters.get("source", sources.DEFAULT))
        unknown = [b for b in by if b not in names]
        if unknown:
            raise ValueError(f"cannot group by {unknown}; columns are {', '.join(names)}")
        where, params = self._filters(**filters)
        keys = ", ".join(f'"{b}"' for b in by)
        return self._query(
            f"SELECT {keys}, {measure} AS incidents FROM {table}{where} GROUP BY {keys} ORDER BY {keys}", params
        )

    def ward_summary(self, **filters) -> pd.DataFrame:
        """One row per ward of the area (zeros included): ``ward_code, ward_name, incidents``."""
        where, params = self._filters(**filters)
        table, measure, _ = _records(filters.get("source", sources.DEFAULT))
        return self._query(
            f"""SELECT a.code AS ward_code, a.name AS ward_name,
                                      coalesce(c.n, 0)::BIGINT AS incidents
                               FROM areas a LEFT JOIN (SELECT ward_code, {measure} AS n FROM {table}{where}
                                                       GROUP BY ward_code) c ON c.ward_code = a.code
                               WHERE a.level = 'ward' ORDER BY a.code""",
            params,
        )

    def synthetic_count(self, **filters) -> int:
        """How many records matching ``filters`` (as :meth:`counts`) are synthetic (always 0 for an
        area-count source: those are real published counts)."""
        if filters.get("source", sources.DEFAULT) in AREA_SOURCES:
            return 0
        where, params = self._filters(**filters)
        where = (where + " AND" if where else " WHERE") + " synthetic"
        with self.connect() as con:
            return con.execute(f"SELECT count(*) FROM incidents{where}", params).fetchall()[0][0]

    def wards(self) -> pd.DataFrame:
        """The area's wards: ``ward_code, ward_name``, sorted by code (from :meth:`areas`, read once)."""
        import pandas as pd

        wards = self.areas("ward")
        return pd.DataFrame({"ward_code": wards.codes.astype(str), "ward_name": wards.names.astype(str)})

    def population(self, level: str = "ward") -> pd.DataFrame:
        """Residents per LSOA, or per ward by area: each LSOA's residents shared among the wards it
        overlaps in proportion to the overlapping area (areal interpolation,
        :func:`geodata.assign.area_shares`; an LSOA inside one ward goes to it whole). Columns
        ``code, population`` (a ward's population is an estimate, not a whole number); empty without a
        population file. Computed once per Store (population and areas do not change after creation).

        Not the best-fit lookup (``lsoa_wards``) that area-count sources are summed through: LSOAs 2011
        do not nest in the 2022 wards (19 of the 87 St Albans LSOAs have under 90% of their area in their
        best-fit ward, one 52%), and giving each whole to its best-fit ward put ward populations 35% below
        to 28% above this estimate."""
        import pandas as pd

        if level not in ("ward", "lsoa"):
            raise ValueError(f"level must be 'ward' or 'lsoa', got {level!r}")
        if level not in self._population:
            pop = self._query("SELECT lsoa_code AS code, population FROM population ORDER BY code")
            if level == "ward":
                lsoas, wards = self.areas("lsoa"), self.areas("ward")
                part, ward_codes, share = area_shares(lsoas, wards)
                residents = pop.set_index("code")["population"].reindex(lsoas.codes[part]).to_numpy("float64")
                shared = pd.Series(residents * share, index=pd.Index(ward_codes, name="code")).dropna()
                pop = shared.groupby(level=0).sum().rename("population").reset_index()
            self._population[level] = pop
        return self._population[level].copy()

    def loads(self) -> pd.DataFrame:
        """Load history, newest first."""
        return self._query("SELECT * FROM loads ORDER BY load_id DESC")

    def rejections(self, load_id: int | None = None) -> pd.DataFrame:
        """Rejected rows (of one load, or all): load_id, file, line, field, reason."""
        where = " WHERE load_id = ?" if load_id is not None else ""
        return self._query(
            f"SELECT * FROM rejections{where} ORDER BY load_id, file, line", [load_id] if load_id is not None else []
        )

    def partitions(self) -> pd.DataFrame:
        """What is loaded: source, dataset, month, rows, load_id, loaded_at."""
        return self._query("SELECT * FROM partitions ORDER BY source, dataset, month")

    def loaded_months(self, source: str | None = None, dataset: str | None = None) -> list[str]:
        """The months ('YYYY-MM', oldest first) with a partition of ``source`` (``None``: any source), and
        of ``dataset`` when given: the months of :meth:`partitions` within each source's plausible months
        (:func:`loaders.plausible.plausible`). A month a store loaded before the loaders refused it
        (9999-12, or a police.uk month not yet published) is held apart: it never becomes a latest month
        or a loaded month; :meth:`partitions` still lists it and ``csp-hotspots months remove`` deletes it."""
        clauses = [c for c, v in (("source = ?", source), ("dataset = ?", dataset)) if v is not None]
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        params = [v for v in (source, dataset) if v is not None]
        with self.connect() as con:
            rows = con.execute(f"SELECT DISTINCT source, strftime(month, '%Y-%m') FROM partitions{where}", params)
            return sorted({m for s, m in rows.fetchall() if plausible.plausible(s, m)})
