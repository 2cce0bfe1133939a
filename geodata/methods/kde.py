"""Kernel density of incidents on a grid, in incidents per km2.

Method: a binned quartic-kernel estimate. Points are counted into square bins
of the grid's cell size over the grid's bounding box widened by one bandwidth,
and the counts are convolved with the quartic (biweight) kernel
``K(d) = 3 / (pi h^2) * (1 - d^2 / h^2)^2`` for ``d < h``, discretised on the
bin offsets and normalised so each point's weights sum to one: the surface
integrates to the number of points (less what falls outside the grid).
Density is per km2, so a meeting screen reads the same at every zoom (unlike a
heat map whose radius is in screen pixels).

Bandwidth (default): the normal-reference rule of MASS::bandwidth.nrd
(Venables & Ripley 2002), ``4 * 1.06 * min(sd, IQR / 1.34) * n^(-1/5)``,
computed for x and for y and averaged, as sfhotspot documents (its code uses
the x value for both: we do not), times ``adjust``, and never below the cell size.
"""

from __future__ import annotations

import math

import numpy as np

from geodata.methods.grid import Grid
from geodata.methods.validate import finite_values


def _convolve_same(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """2-D convolution by FFT, output the size of ``image`` (kernel centred; odd kernel sides)."""
    sy, sx = image.shape[0] + kernel.shape[0] - 1, image.shape[1] + kernel.shape[1] - 1
    full = np.fft.irfft2(np.fft.rfft2(image, (sy, sx)) * np.fft.rfft2(kernel, (sy, sx)), (sy, sx))
    oy, ox = kernel.shape[0] // 2, kernel.shape[1] // 2
    return full[oy : oy + image.shape[0], ox : ox + image.shape[1]]


def bandwidth(x: np.ndarray, y: np.ndarray, adjust: float = 1.0) -> float:
    """Default bandwidth in metres (see module docstring); needs at least 2 points."""
    x = np.asarray(x, dtype="float64")
    y = np.asarray(y, dtype="float64")
    if x.size < 2:
        raise ValueError(
            f"a bandwidth needs at least 2 points, got {x.size}: give bandwidth_m in metres or more points"
        )
    if not adjust > 0:
        raise ValueError(f"adjust must be positive, got {adjust!r}")

    def nrd(v):
        iqr = np.subtract(*np.percentile(v, [75, 25]))
        spread = min(np.std(v, ddof=1), iqr / 1.34) or np.std(v, ddof=1)
        return 4 * 1.06 * spread * v.size ** (-1 / 5)

    return float(adjust * (nrd(x) + nrd(y)) / 2)


def kde(
    grid: Grid,
    x: np.ndarray,
    y: np.ndarray,
    bandwidth_m: float | None = None,
    weights: np.ndarray | None = None,
    adjust: float = 1.0,
) -> tuple[np.ndarray, float]:
    """Quartic KDE at the grid's cell centres, incidents per km2; returns (density, bandwidth used).

    ``bandwidth_m``: metres, default :func:`bandwidth` (x ``adjust``); raised to the
    cell size when smaller. ``weights``: per point, e.g. harm (default 1); a NaN, infinite or
    negative weight is an error naming its position (:mod:`geodata.methods.validate`), never a NaN surface.
    """
    x = np.asarray(x, dtype="float64")
    y = np.asarray(y, dtype="float64")
    ok = ~(np.isnan(x) | np.isnan(y))
    x, y = x[ok], y[ok]
    if weights is None:
        w = np.ones(x.size)
    else:
        w = finite_values(
            "weights", weights, "give every point a finite weight >= 0 (0 leaves it out)", nonnegative=True
        )
        if w.shape != ok.shape:
            raise ValueError(f"weights has {w.size} values for {ok.size} points: give one weight per point")
        w = w[ok]
    if x.size == 0:
        return np.zeros(len(grid)), float(bandwidth_m or grid.cell_size)
    h = bandwidth(x, y, adjust) if bandwidth_m is None else float(bandwidth_m)
    h = max(h, grid.cell_size)
    size = grid.cell_size
    reach = int(math.ceil(h / size))
    x0 = grid.x.min() - size / 2 - reach * size
    y0 = grid.y.min() - size / 2 - reach * size
    nx = int(math.ceil((grid.x.max() + size / 2 + reach * size - x0) / size))
    ny = int(math.ceil((grid.y.max() + size / 2 + reach * size - y0) / size))
    ix = np.floor((x - x0) / size).astype("int64")
    iy = np.floor((y - y0) / size).astype("int64")
    inside = (ix >= 0) & (ix < nx) & (iy >= 0) & (iy < ny)
    binned = np.bincount(iy[inside] * nx + ix[inside], weights=w[inside], minlength=nx * ny).reshape(ny, nx)
    offsets = np.arange(-reach, reach + 1) * size
    d2 = offsets[None, :] ** 2 + offsets[:, None] ** 2
    kernel = np.where(d2 < h * h, (1 - d2 / (h * h)) ** 2, 0.0)
    kernel /= kernel.sum()
    surface = _convolve_same(binned, kernel)
    surface[surface < 1e-12] = 0.0  # FFT round-off
    gx = np.floor((grid.x - x0) / size).astype("int64")
    gy = np.floor((grid.y - y0) / size).astype("int64")
    per_cell = surface[gy, gx]
    return per_cell / (size * size / 1e6), h
