"""What a screen asks about (:class:`Selection`) and who is looking (:class:`Audience`),
both checked where they enter the analysis layer."""

from __future__ import annotations

from dataclasses import dataclass

from geodata import sources
from loaders.months import Period


@dataclass(frozen=True)
class Audience:
    """Who sees the answer: ``exact`` = may see exact counts of sensitive sources (signed-in
    analysts); everyone else sees them under disclosure control (:func:`geodata.analysis.rules.disclose`)."""

    exact: bool = False


PUBLIC, ANALYST = Audience(exact=False), Audience(exact=True)


@dataclass(frozen=True)
class Selection:
    """Months, categories (empty = all), wards (empty = the whole district) and source.

    Hashable, so a page can cache on it. Build with :meth:`of`, which checks every field and
    names the one that is wrong; :meth:`check_wards` checks the wards against a store.
    """

    period: Period
    categories: tuple[str, ...] = ()
    wards: tuple[str, ...] = ()
    source: str = sources.DEFAULT

    @classmethod
    def of(cls, start: str, end: str, categories=(), wards=(), source: str = sources.DEFAULT) -> Selection:
        src = sources.get(source)
        categories = tuple(sorted(set(categories or ())))
        if src.categories is not None:
            unknown = [c for c in categories if c not in src.categories]
            if unknown:
                raise ValueError(
                    f"categories: {unknown[0]!r} is not a {src.id} category "
                    f"(one of: {', '.join(sorted(src.categories))})"
                )
        if not src.mapped:
            raise ValueError(f"source: {src.id} holds {src.kind}, which have no wards or months to select")
        return cls(Period(start, end), categories, tuple(sorted(set(wards or ()))), src.id)

    @property
    def study_area(self) -> str:
        """'the district' or 'N chosen ward(s)'."""
        return f"{len(self.wards)} chosen ward{'s' if len(self.wards) > 1 else ''}" if self.wards else "the district"

    def filters(self, period: Period | None = None) -> dict:
        """Store query filters (:meth:`geodata.store.Store.counts`) for ``period`` (default the
        selection's). Always the study area: the chosen wards, or the district's records (those
        assigned to one of its wards), never the rest of a force-wide store."""
        period = period or self.period
        return dict(
            start=period.start,
            end=period.end,
            categories=list(self.categories) or None,
            wards=list(self.wards) or None,
            source=self.source,
            inside=True,
        )

    def check_wards(self, store) -> Selection:
        """This selection, after checking its wards are wards of ``store``'s area."""
        known = set(store.wards()["ward_code"])
        unknown = [w for w in self.wards if w not in known]
        if unknown:
            raise ValueError(f"wards: {unknown[0]!r} is not a ward of {store.config.area_name}")
        return self
