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


def copy_config(folder: Path, store_path: Path, police: list[Path] | None = None, name: str = "csp.toml") -> Path:
    """Write ``folder/csp.toml``: the bundled config ``name`` with every file it names made absolute
    (so the copy works from anywhere), its store at ``store_path``, and, when ``police`` is given,
    ``[bundled]`` holding only those police.uk files (``[]``: an empty store). For tests and
    benchmarks; returns the path written."""
    import re

    text = (ST_ALBANS / name).read_text(encoding="utf-8")
    text = re.sub(r'(?m)^path = ".*duckdb"$', f'path = "{store_path}"', text)
    text = re.sub(
        r'"([^"/\n][^"\n]*)"',  # a quoted string on one line not starting with '/'
        lambda m: f'"{ST_ALBANS / m.group(1)}"' if (ST_ALBANS / m.group(1)).exists() else m.group(0),
        text,
    )
    if police is not None:
        text = text.split("[bundled]")[0] + "[bundled]\npolice = [" + ", ".join(f'"{p}"' for p in police) + "]\n"
    out = Path(folder) / "csp.toml"
    out.write_text(text, encoding="utf-8")
    return out
