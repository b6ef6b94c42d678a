"""Cost landscapes: planes through parameter space, exact and fast surfaces, critical points,
Hessian spectra, optimiser paths and pictures (see each module); grids computed on local
processes, Dask or Ray (``executor=``) into a checked Zarr store (``store=``)."""

from ._directions import Plane, axes, filter_normalized, gaussian, interpolation, pca
from ._critical import (CriticalPoint, classify, density, find_critical_points,
                        hessian_extremes, hutchinson_trace, model_hessian, model_hvp,
                        slice_curvature, spectral_density)
from ._evaluate import Landscape, function_landscape, landscape
from ._store import StoreError, StoreWarning
from ._surfaces import SURFACES, Surface, get_surface


def __getattr__(name):
    # The PyTorch side (an optional extra) is imported when first asked for.
    if name in ("torch_plane", "torch_landscape", "torch_hvp", "flat_parameters"):
        from . import _torch

        return getattr(_torch, name)
    raise AttributeError(f"module 'losslab.landscapes' has no attribute {name!r}")

__all__ = ["CriticalPoint", "Landscape", "Plane", "SURFACES", "Surface", "axes", "classify",
           "density", "filter_normalized", "find_critical_points", "function_landscape",
           "gaussian", "get_surface", "hessian_extremes", "hutchinson_trace", "interpolation",
           "landscape", "model_hessian", "model_hvp", "pca", "slice_curvature",
           "spectral_density", "StoreError", "StoreWarning", "surface_landscape"]


def surface_landscape(surface, *, n: int = 101, bounds=None) -> Landscape:
    """A demonstration surface on an n x n grid over its bounds (alpha = x, beta = y)."""
    import numpy as np

    surface = get_surface(surface) if isinstance(surface, str) else surface
    (x0, x1), (y0, y1) = surface.bounds if bounds is None else bounds
    plane = Plane(np.zeros(2), np.array([1.0, 0.0]), np.array([0.0, 1.0]), "axes", ("x", "y"))
    return function_landscape(surface, plane, np.linspace(x0, x1, n), np.linspace(y0, y1, n),
                              label=f"{surface.name}: {surface.formula}")
