"""The area configuration (``csp.toml``): which district, which boundaries, which store.

The area is configuration, not code: another district works by writing its
own file. Relative paths are relative to the config file's folder; ``~`` is
expanded; a path written ``package:st_albans/...`` names a file shipped in the
package (``geodata/bundled``), wherever the package is installed, so a config written by
``csp-hotspots init`` keeps using the bundled area files without copying them.
Every key is checked at load, and a problem raises :class:`ConfigError` naming
the file and the key (TOML syntax errors name the line)::

    [area]
    name = "St Albans City and District"   # shown in the app and reports
    code = "E07000240"                      # optional ONS code

    [wards]                                 # required
    file = "boundaries_2022/st_albans_wards_2022_bgc_wgs84.geojson"   # GeoJSON, GeoPackage or Shapefile;
                                            # points are assigned with these outlines: use 20 m (ONS BGC) or
                                            # finer, never the 200 m "super generalised" (BSC) ones
    code_field = "ward_code"
    name_field = "ward_name"
    label = "Wards 2022-"                   # optional, default "Wards"
    layer = "..."                           # optional, for multi-layer GeoPackages

    [lsoas]                                 # required, same keys as [wards]

    [police]                                # optional: the data.police.uk force of the area
    force = "hertfordshire"                 # its id: what `refresh` and the Data page fetch

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
from dataclasses import dataclass
from pathlib import Path

from geodata.bundled import ST_ALBANS
from loaders.errors import InputError
from loaders.tomlfile import TomlFile

#: A link allowed in ``[map] attribution``: exactly this form, https only, plain link text.
ATTRIBUTION_LINK = re.compile(r'<a href="https://[^"<>\s{}`\\]+">[^<>{}`\\]*</a>')
#: What may remain of an attribution once its links are taken out: plain text.
ATTRIBUTION_TEXT = re.compile(r"[^<>{}`\\]*")

#: The bundled St Albans configuration: the wards in force since May 2022, those of the latest bundled
#: data (``csp-wards-2013.toml`` is the same area on the 2013-2022 wards).
DEFAULT_CONFIG = ST_ALBANS / "csp.toml"
#: The bundled St Albans configuration on the wards in force 2013 - May 2022.
WARDS_2013_CONFIG = ST_ALBANS / "csp-wards-2013.toml"
#: The areas ``csp-hotspots init --area`` writes a config for: the bundled configs, by name.
AREAS = {"st-albans": DEFAULT_CONFIG, "st-albans-wards-2013": WARDS_2013_CONFIG}
#: A path starting with this names a file inside the package's bundled data (``geodata/bundled``).
PACKAGE = "package:"


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


class ConfigError(InputError):
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
    police_force: str | None = None


def load(path: str | Path | None = None) -> Config:
    """Read and validate a config file (default :data:`DEFAULT_CONFIG`)."""
    path = Path(path) if path is not None else DEFAULT_CONFIG
    c = _Checker(path)
    raw = c.raw
    return Config(
        path=path,
        area_name=c.value("area", "name"),
        area_code=c.maybe("area", "code"),
        wards=c.boundary("wards", "Wards"),
        lsoas=c.boundary("lsoas", "LSOAs"),
        population=c.population(),
        store_path=c.path("store", "path", must_exist=False, base=data_home() if _is_packaged(path) else None),
        bundled_police=tuple(c.paths("bundled", "police")),
        bundled_outcomes=tuple(c.paths("bundled", "outcomes")),
        map_tiles=c.maybe("map", "tiles"),
        map_attribution=c.attribution(),
        priorities_file=c.path("priorities", "file") if "priorities" in raw else None,
        bundled_fixmystreet=tuple(c.paths("bundled", "fixmystreet")),
        bundled_defra=tuple(c.paths("bundled", "defra")),
        accounts_file=c.path("access", "accounts", must_exist=False) if "access" in raw else None,
        access_hosts=tuple(c.names("access", "hosts")),
        map_basemap=c.path("map", "basemap") if "basemap" in raw.get("map", {}) else None,
        map_streets=c.path("map", "streets") if "streets" in raw.get("map", {}) else None,
        deprivation_file=c.path("deprivation", "file") if "deprivation" in raw else None,
        police_force=c.force(),
    )


class _Checker(TomlFile):
    """The config's keys, checked through the one TOML checker (:class:`loaders.tomlfile.TomlFile`)."""

    def __init__(self, path: Path):
        super().__init__(path, ConfigError, "config file")
        self.base = path.resolve().parent

    def _table(self, table: str, required: bool = True) -> dict:
        value = self.raw.get(table)
        if value is None and not required:
            return {}
        if not isinstance(value, dict):
            self.fail(table, f"missing table [{table}]")
        return value

    def value(self, table: str, key: str, default: str | None = None) -> str:
        """``[table] key``: a required text (or ``default``)."""
        return self.text(self._table(table), f"{table}.{key}", default)

    def maybe(self, table: str, key: str) -> str | None:
        """``[table] key`` when set (the table may be missing too)."""
        return self.optional(self._table(table, required=False), f"{table}.{key}")

    def attribution(self) -> str | None:
        """``[map] attribution``: shown as HTML on the map, so only plain text and links of the form
        :data:`ATTRIBUTION_LINK` (no other markup, no script, no template braces)."""
        value = self.maybe("map", "attribution")
        if value is not None and not ATTRIBUTION_TEXT.fullmatch(ATTRIBUTION_LINK.sub("", value)):
            self.fail(
                "map.attribution",
                'plain text only, with links written <a href="https://...">text</a> '
                "(no other HTML, no braces, backquotes or backslashes)",
            )
        return value

    def _resolve(self, value: str, base: Path | None = None) -> Path:
        """A path of the config: ``package:...`` inside the bundled data, else ``~`` expanded and relative
        to ``base`` (default: the config's folder)."""
        if value.startswith(PACKAGE):
            return ST_ALBANS.parent / value.removeprefix(PACKAGE)
        p = Path(value).expanduser()
        return p if p.is_absolute() else (base or self.base) / p

    def path(self, table: str, key: str, must_exist: bool = True, base: Path | None = None) -> Path:
        p = self._resolve(self.value(table, key), base)
        if must_exist and not p.exists():
            self.fail(f"{table}.{key}", f"file not found: {p}")
        return p

    def paths(self, table: str, key: str) -> list[Path]:
        out = []
        for v in self.strings(self._table(table, required=False), f"{table}.{key}", "paths"):
            p = self._resolve(v)
            if not p.exists():
                self.fail(f"{table}.{key}", f"file not found: {p}")
            out.append(p)
        return out

    def force(self) -> str | None:
        """``[police] force``: a data.police.uk force id (lower case letters and '-', e.g. 'hertfordshire')."""
        force = self.maybe("police", "force")
        if force is not None and not re.fullmatch(r"[a-z][a-z-]*", force):
            self.fail("police.force", f"must be a data.police.uk force id such as 'hertfordshire', got {force!r}")
        return force

    def names(self, table: str, key: str) -> list[str]:
        return [v.lower() for v in self.strings(self._table(table, required=False), f"{table}.{key}", "host names")]

    def boundary(self, table: str, label: str) -> BoundarySpec:
        return BoundarySpec(
            file=self.path(table, "file"),
            code_field=self.value(table, "code_field"),
            name_field=self.value(table, "name_field"),
            label=self.value(table, "label", default=label),
            layer=self.maybe(table, "layer"),
        )

    def population(self) -> PopulationSpec | None:
        if "population" not in self.raw:
            return None
        return PopulationSpec(
            self.path("population", "file"),
            self.value("population", "lsoa_field"),
            self.value("population", "population_field"),
        )


def package_ref(path: Path) -> str:
    """``path`` as a config value: ``package:...`` for a file shipped in the package, else absolute.

    >>> package_ref(ST_ALBANS / "priorities.toml")
    'package:st_albans/priorities.toml'
    """
    path = path.resolve()
    root = ST_ALBANS.parent.resolve()
    return PACKAGE + path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)


def _toml(tables: dict[str, dict[str, str | list[str] | None]]) -> str:
    """Tables of strings and lists of strings as TOML (a JSON string is a valid TOML basic string).

    >>> print(_toml({"area": {"name": 'St "A"', "code": None}, "bundled": {"police": ["a.zip"]}}), end="")
    [area]
    name = "St \\"A\\""
    <BLANKLINE>
    [bundled]
    police = ["a.zip"]
    """
    import json

    out = []
    for table, keys in tables.items():
        out.append(f"[{table}]")
        out += [f"{key} = {json.dumps(value)}" for key, value in keys.items() if value is not None]
        out.append("")
    return "\n".join(out)


def _boundary_keys(spec: BoundarySpec) -> dict:
    return {
        "file": package_ref(spec.file),
        "code_field": spec.code_field,
        "name_field": spec.name_field,
        "label": spec.label,
        "layer": spec.layer,
    }


def init_text(
    area: str | None = None,
    wards: BoundarySpec | None = None,
    lsoas: BoundarySpec | None = None,
    name: str | None = None,
    hosts: tuple[str, ...] = (),
    force: str | None = None,
) -> str:
    """The text of a new partner config (``csp-hotspots init``).

    Either ``area``, one of :data:`AREAS` (default ``"st-albans"``): that bundled config with every file
    it names written ``package:...`` (the bundled files used where the package is installed, no copies),
    or ``wards`` and ``lsoas`` (and the area ``name``) of another district, their files absolute, and
    ``force`` (its data.police.uk force id, ``[police] force``; the bundled area's is kept). Both get a
    store beside the config (``store/<area>.duckdb``) and an ``[access]`` section: partner sign-in with
    the accounts file ``accounts.json`` beside the config, and the host names ``hosts``.
    """
    if (wards is None) != (lsoas is None):
        raise ConfigError("another district needs both its wards and its LSOAs")
    if wards is not None and area is not None:
        raise ConfigError("give either an area or another district's wards and LSOAs, not both")
    if wards is not None and lsoas is not None:
        if not name:
            raise ConfigError("another district needs its name (the area's name shown in the app)")
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "area"
        tables: dict[str, dict] = {
            "area": {"name": name},
            "police": {"force": force},
            "wards": _boundary_keys(wards),
            "lsoas": _boundary_keys(lsoas),
        }
    else:
        area = area or "st-albans"
        if area not in AREAS:
            raise ConfigError(f"unknown area {area!r}; the bundled areas are {', '.join(AREAS)}")
        cfg, slug = load(AREAS[area]), area
        tables = {
            "area": {"name": cfg.area_name, "code": cfg.area_code},
            "police": {"force": cfg.police_force},
            "wards": _boundary_keys(cfg.wards),
            "lsoas": _boundary_keys(cfg.lsoas),
        }
        if cfg.population:
            tables["population"] = {
                "file": package_ref(cfg.population.file),
                "lsoa_field": cfg.population.lsoa_field,
                "population_field": cfg.population.population_field,
            }
        if cfg.deprivation_file:
            tables["deprivation"] = {"file": package_ref(cfg.deprivation_file)}
        if cfg.priorities_file:
            tables["priorities"] = {"file": package_ref(cfg.priorities_file)}
        tables["bundled"] = {
            key: [package_ref(p) for p in files]
            for key, files in (
                ("police", cfg.bundled_police),
                ("outcomes", cfg.bundled_outcomes),
                ("fixmystreet", cfg.bundled_fixmystreet),
                ("defra", cfg.bundled_defra),
            )
            if files
        }
    tables["store"] = {"path": f"store/{slug}.duckdb"}
    tables["access"] = {"accounts": "accounts.json", "hosts": list(hosts) if hosts else None}
    head = (
        "# CSP Hotspots area configuration, written by `csp-hotspots init`. Every key: geodata/config.py.\n"
        "# package:... names a file shipped in the installed package; other paths are relative to this file.\n\n"
    )
    return head + _toml(tables)


def write_init(folder: str | Path, text: str) -> Config:
    """Write ``folder/csp.toml`` (``text``, from :func:`init_text`) for its owner only, refusing to replace
    one; the written file is loaded back (every key checked) and returned."""
    folder = Path(folder)
    path = folder / "csp.toml"
    if path.exists():
        raise ConfigError(f"{path}: a config is already there (not replaced)")
    folder.mkdir(parents=True, exist_ok=True)
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", encoding="utf-8") as f:
        f.write(text)
    try:
        return load(path)
    except ConfigError:
        path.unlink()
        raise
