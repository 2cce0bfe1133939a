"""A small PMTiles basemap (Protomaps basemap schema: earth, water, roads, places) over St Albans,
built with the ``pmtiles`` and ``mapbox-vector-tile`` packages, for the basemap tests."""
from __future__ import annotations

import math
from pathlib import Path

import mapbox_vector_tile
from pmtiles.tile import Compression, TileType, zxy_to_tileid
from pmtiles.writer import write

#: (west, south, east, north) in degrees: the district with a margin.
BBOX = (-0.45, 51.68, -0.18, 51.88)
EXTENT = 4096


def _tile_xy(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def _tile(z: int, x: int, y: int) -> bytes:
    e = EXTENT
    layers = [
        {"name": "earth", "features": [{"geometry": f"POLYGON ((0 0, {e} 0, {e} {e}, 0 {e}, 0 0))",
                                        "properties": {"kind": "earth"}}]},
        {"name": "water", "features": [{"geometry": f"POLYGON ((0 0, {e // 4} 0, {e // 4} {e // 4}, 0 {e // 4}, 0 0))",
                                        "properties": {"kind": "water"}}]},
        {"name": "roads", "features": [{"geometry": f"LINESTRING (0 {e // 2}, {e} {e // 2})",
                                        "properties": {"kind": "major_road", "name": f"Test Road {z}/{x}/{y}"}},
                                       {"geometry": f"LINESTRING ({e // 2} 0, {e // 2} {e})",
                                        "properties": {"kind": "highway", "name": "Test Highway"}}]},
    ]
    return mapbox_vector_tile.encode(layers, default_options={"y_coord_down": True, "extents": e})


def build(path: Path, min_zoom: int = 8, max_zoom: int = 13) -> Path:
    """Write the basemap to ``path``: every tile over :data:`BBOX` from ``min_zoom`` to ``max_zoom``."""
    tiles = []
    for z in range(min_zoom, max_zoom + 1):
        x0, y0 = _tile_xy(BBOX[0], BBOX[3], z)
        x1, y1 = _tile_xy(BBOX[2], BBOX[1], z)
        tiles += [(zxy_to_tileid(z, x, y), _tile(z, x, y)) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
    with write(str(path)) as writer:
        for tile_id, data in sorted(tiles):
            writer.write_tile(tile_id, data)
        writer.finalize({
            "tile_type": TileType.MVT, "tile_compression": Compression.NONE,
            "min_lon_e7": int(BBOX[0] * 1e7), "min_lat_e7": int(BBOX[1] * 1e7),
            "max_lon_e7": int(BBOX[2] * 1e7), "max_lat_e7": int(BBOX[3] * 1e7),
            "center_zoom": 11, "center_lon_e7": int(-0.34 * 1e7), "center_lat_e7": int(51.75 * 1e7),
        }, {"attribution": "test basemap", "vector_layers": [{"id": "earth"}, {"id": "water"}, {"id": "roads"}]})
    return path
