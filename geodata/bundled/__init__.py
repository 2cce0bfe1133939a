"""The bundled St Albans City and District data (boundaries, population, police.uk, FixMyStreet,
DEFRA, IMD, the CSP config and priorities), shipped as package data and found through
:mod:`importlib.resources`, so an installed wheel finds it as a clone does. Each folder has a
SOURCE note; ``make_bundle.py`` rebuilds the police.uk subset from the county files.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

#: The St Albans folder (``csp.toml``, ``priorities.toml`` and the data they name).
ST_ALBANS = Path(str(files(__name__) / "st_albans"))
