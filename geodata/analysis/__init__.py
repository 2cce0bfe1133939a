"""The analysis layer: one module per question a screen asks, each a plain function of
(store, selection, audience) returning frames with the layer's rules applied and stated
(:mod:`geodata.analysis.rules`).

==================  ===============================================================
question            function
==================  ===============================================================
wards               :func:`geodata.analysis.ward_table.ward_table`
hot spots, density  :func:`geodata.analysis.hotspots_for.hotspots_for`, ``emerging_for``
trends              :mod:`geodata.analysis.trends` (``monthly``, ``category_change``, ``ward_shares``)
patrol zones        :func:`geodata.analysis.patrol_zones.patrol_zones`
priority status     :func:`geodata.analysis.status.evaluate`
==================  ===============================================================
"""
from geodata.analysis.selection import ANALYST, PUBLIC, Audience, Selection

__all__ = ["ANALYST", "PUBLIC", "Audience", "Selection"]
