"""The area configuration (``csp.toml``): which district, which boundaries, which store.

The area is configuration, not code: another district works by writing its
own file. Relative paths are relative to the config file's folder; ``~`` is
expanded. Every key is checked at load, and a problem raises
:class:`ConfigError` naming the file and the key (TOML syntax errors name the
line)::

    [area]
    name = "St Albans City and District"   # shown in the app and reports
    code = "E07000240"                      # optional ONS code

    [wards]                                 # required
    file = "boundaries_2022/st_albans_wards_may2024_bsc_wgs84.geojson"   # GeoJSON, GeoPackage or Shapefile
    code_field = "ward_code"
    name_field = "ward_name"
    label = "Wards 2022-"                   # optional, default "Wards"
    layer = "..."                           # optional, for multi-layer GeoPackages

    [lsoas]                                 # required, same keys as [wards]

    [population]                            # optional: residents per LSOA
    file = "population/....csv"
    lsoa_field = "lsoa11_code"
    population_field = "pop_mid2020"

    [store]
    path = "store/st-albans.duckdb"          # required; for a config shipped inside the package (the
                                            # bundled ones) a relative path is under data_home(), not
                                            # beside the config (never inside site-packages)

    [bundled]                               # optional: loaded when the store is first built
    police = ["police/....zip"]             # data.police.uk street-level files
    outcomes = ["police/....zip"]           # data.police.uk outcomes files (loaders/outcomes.py)
    fixmystreet = ["fixmystreet/....csv"]   # FixMyStreet reports per LSOA and month
    defra = ["defra/....csv"]               # DEFRA fly-tipping LA tables (incidents, actions)

    [priorities]                            # optional: the partnership's priority list
    file = "priorities.toml"                # (geodata/priorities.py); default: none configured

    [access]                                # optional: partner sign-in (dashboard/accounts.py)
    accounts = "accounts.json"              # local accounts (argon2 hashes), `csp-hotspots users add`;
                                            # without [access] the app runs in local mode: one user, admin,
                                            # and `serve` listens on 127.0.0.1 only
    hosts = ["csp.example.gov.uk"]          # optional: the names the server is reached by (the Host
                                            # header); loopback names are always allowed, others refused

    [deprivation]                           # optional: IoD2019 File 1 (MHCLG) for the LSOAs:
    file = "imd2019/....csv"                # crime against deprivation (geodata/methods/deprivation.py)

    [map]                                   # optional: base map tiles (none by default: the
    tiles = "http://tiles.example/{z}/{x}/{y}.png"   # ward outlines are the base map; works offline)
    attribution = "..."                     # plain text; links only as <a href="https://...">text</a>
    basemap = "basemap.pmtiles"             # or a local PMTiles file (Protomaps basemap schema),
                                            # served by the app itself at /basemap.pmtiles
    streets = "basemap/basemap.json.gz"     # optional: the offline OpenStreetMap roads, rail and water
                                            # (geodata/basemap.py) drawn under the printed and slide maps
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from geodata.bundled import ST_ALBANS

#: A link allowed in ``[map] attribution``: exactly this form, https only, plain link text.
ATTRIBUTION_LINK = re.compile(r'<a href="https://[^"<>\s{}`\\]+">[^<>{}`\\]*</a>')
#: What may remain of an attribution once its links are taken out: plain text.
ATTRIBUTION_TEXT = re.compile(r"[^<>{}`\\]*")

#: The bundled St Albans configuration: the wards in force since May 2022, those of the latest bundled
#: data (``csp-wards-2013.toml`` is the same area on the 2013-2022 wards).
DEFAULT_CONFIG = ST_ALBANS / "csp.toml"
#: The bundled St Albans configuration on the wards in force 2013 - May 2022.
WARDS_2013_CONFIG = ST_ALBANS / "csp-wards-2013.toml"


def data_home() -> Path:
    """Where the bundled configs' stores (and refresh's API cache) live: ``$CSP_HOTSPOTS_HOME``, else
    ``$XDG_DATA_HOME/csp-hotspots``, else ``~/.local/share/csp-hotspots`` (a per-user folder, so an installed
    package never writes inside site-packages)."""
    if os.environ.get("CSP_HOTSPOTS_HOME"):
        return Path(os.environ["CSP_HOTSPOTS_HOME"]).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share") / "csp-hotspots"


def _is_packaged(path: Path) -> bool:
    """Whether ``path`` is one of the configs shipped inside the package (``geodata/bundled``)."""
    return path.resolve().is_relative_to(ST_ALBANS.parent.resolve())


class ConfigError(Exception):
    """An unreadable or invalid config file; ``str()`` is one line for the user."""


@dataclass(frozen=True)
class BoundarySpec:
    """Where a boundary layer is and which fields hold its code and name."""

    file: Path
    code_field: str
    name_field: str
    label: str
    layer: str | None = None


@dataclass(frozen=True)
class PopulationSpec:
    """A CSV of residents per LSOA."""

    file: Path
    lsoa_field: str
    population_field: str


@dataclass(frozen=True)
class Config:
    """A loaded, validated area configuration."""

    path: Path
    area_name: str
    area_code: str | None
    wards: BoundarySpec
    lsoas: BoundarySpec
    population: PopulationSpec | None
    store_path: Path
    bundled_police: tuple[Path, ...]
    map_tiles: str | None = None
    map_attribution: str | None = None
    priorities_file: Path | None = None
    bundled_fixmystreet: tuple[Path, ...] = ()
    bundled_defra: tuple[Path, ...] = ()
    bundled_outcomes: tuple[Path, ...] = ()
    accounts_file: Path | None = None
    access_hosts: tuple[str, ...] = ()
    map_basemap: Path | None = None
    map_streets: Path | None = None
    deprivation_file: Path | None = None


def load(path: str | Path | None = None) -> Config:
    """Read and validate a config file (default :data:`DEFAULT_CONFIG`)."""
    path = Path(path) if path is not None else DEFAULT_CONFIG
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    c = _Checker(path, raw)
    return Config(
        path=path,
        area_name=c.text("area", "name"),
        area_code=c.text("area", "code", required=False),
        wards=c.boundary("wards", "Wards"),
        lsoas=c.boundary("lsoas", "LSOAs"),
        population=c.population(),
        store_path=c.path("store", "path", must_exist=False, base=data_home() if _is_packaged(path) else None),
        bundled_police=tuple(c.paths("bundled", "police")),
        bundled_outcomes=tuple(c.paths("bundled", "outcomes")),
        map_tiles=c.text("map", "tiles", required=False),
        map_attribution=c.attribution(),
        priorities_file=c.path("priorities", "file") if "priorities" in raw else None,
        bundled_fixmystreet=tuple(c.paths("bundled", "fixmystreet")),
        bundled_defra=tuple(c.paths("bundled", "defra")),
        accounts_file=c.path("access", "accounts", must_exist=False) if "access" in raw else None,
        access_hosts=tuple(c.names("access", "hosts")),
        map_basemap=c.path("map", "basemap") if "basemap" in raw.get("map", {}) else None,
        map_streets=c.path("map", "streets") if "streets" in raw.get("map", {}) else None,
        deprivation_file=c.path("deprivation", "file") if "deprivation" in raw else None,
    )


class _Checker:
    def __init__(self, path: Path, raw: dict):
        self.file, self.raw, self.base = path, raw, path.resolve().parent

    def _fail(self, key: str, problem: str):
        raise ConfigError(f"{self.file}: [{key.split('.')[0]}] {key}: {problem}")

    def _table(self, table: str, required: bool = True) -> dict:
        value = self.raw.get(table)
        if value is None and not required:
            return {}
        if not isinstance(value, dict):
            raise ConfigError(f"{self.file}: missing table [{table}]")
        return value

    def text(self, table: str, key: str, required: bool = True, default: str | None = None):
        value = self._table(table, required).get(key, default)
        if value is None:
            if required:
                self._fail(f"{table}.{key}", "is required")
            return None
        if not isinstance(value, str) or not value.strip():
            self._fail(f"{table}.{key}", f"must be a non-empty string, got {value!r}")
        return value

    def attribution(self) -> str | None:
        """``[map] attribution``: shown as HTML on the map, so only plain text and links of the form
        :data:`ATTRIBUTION_LINK` (no other markup, no script, no template braces)."""
        value = self.text("map", "attribution", required=False)
        if value is not None and not ATTRIBUTION_TEXT.fullmatch(ATTRIBUTION_LINK.sub("", value)):
            self._fail(
                "map.attribution",
                'plain text only, with links written <a href="https://...">text</a> '
                "(no other HTML, no braces, backquotes or backslashes)",
            )
        return value

    def path(self, table: str, key: str, must_exist: bool = True, base: Path | None = None) -> Path:
        p = Path(self.text(table, key)).expanduser()
        p = p if p.is_absolute() else (base or self.base) / p
        if must_exist and not p.exists():
            self._fail(f"{table}.{key}", f"file not found: {p}")
        return p

    def paths(self, table: str, key: str) -> list[Path]:
        values = self._table(table, required=False).get(key, [])
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            self._fail(f"{table}.{key}", "must be a list of paths")
        out = []
        for v in values:
            p = Path(v).expanduser()
            p = p if p.is_absolute() else self.base / p
            if not p.exists():
                self._fail(f"{table}.{key}", f"file not found: {p}")
            out.append(p)
        return out

    def names(self, table: str, key: str) -> list[str]:
        values = self._table(table, required=False).get(key, [])
        if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
            self._fail(f"{table}.{key}", "must be a list of host names")
        return [v.strip().lower() for v in values]

    def boundary(self, table: str, label: str) -> BoundarySpec:
        return BoundarySpec(
            file=self.path(table, "file"),
            code_field=self.text(table, "code_field"),
            name_field=self.text(table, "name_field"),
            label=self.text(table, "label", default=label),
            layer=self.text(table, "layer", required=False),
        )

    def population(self) -> PopulationSpec | None:
        if "population" not in self.raw:
            return None
        return PopulationSpec(
            self.path("population", "file"),
            self.text("population", "lsoa_field"),
            self.text("population", "population_field"),
        )
