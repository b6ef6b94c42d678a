"""Resumable, shareable grids: a Zarr (v3) store that is checked when it is read back.

Layout (``PATH``, a directory; ``PATH.zarr`` by convention):

* a group whose attributes hold ``losslab``: the fingerprint of what is computed (model, data,
  loss, plane, grid, method), the layout (grid shape, points per chunk), the losslab version;
* ``values``: the grid, shape (len(alpha),) or (len(alpha), len(beta)), float64, NaN where not
  computed, chunked along alpha in whole rows: one Zarr chunk is one task, so concurrent
  writers (processes, Dask or Ray workers, hand-started ``worker=(k, K)`` runs) never share a
  chunk and need no lock; each chunk carries a CRC32C checksum (Zarr's ``crc32c`` codec);
* ``alpha`` and ``beta``: the coordinates, so that ``xarray.open_zarr(PATH)`` returns the grid
  with its coordinates.

On resume every chunk is checked: a chunk that is missing is computed; one that cannot be read,
fails its checksum, or holds NaN is recomputed, and the reason is reported (``Landscape.meta
["recomputed"]`` and a ``StoreWarning``) naming the chunk. A store whose attributes are missing
or unreadable, or that holds another landscape, is refused (``StoreError``), never reused.

The folder format of earlier versions (``meta.json`` and ``chunk_NNNNNN.npy``) is still read
and resumed: its chunks are checked for readability, shape, dtype and NaN (it has no checksums,
so a chunk with other valid numbers cannot be told from a right one).
"""

from __future__ import annotations

import io
import json
import warnings
from pathlib import Path

import numpy as np

from .._io import write_atomic

__all__ = ["StoreError", "StoreWarning", "open_store"]


class StoreError(ValueError):
    """A store that cannot be used: refused rather than trusted."""


class StoreWarning(UserWarning):
    """A chunk of a store that was recomputed, and why."""


def _version():
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("losslab")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


def open_store(path, fingerprint: str, shape: tuple, chunk_points: int, coords):
    """The store at ``path`` for a grid of ``shape`` (a legacy folder if it holds ``meta.json``,
    else Zarr, created when absent)."""
    path = Path(path)
    if (path / "meta.json").exists() or (path.is_dir() and any(path.glob("chunk_*.npy"))):
        return FolderStore(path, fingerprint, shape, chunk_points)
    return ZarrStore(path, fingerprint, shape, chunk_points, coords)


class Layout:
    """Chunks in whole rows of alpha: chunk c holds flat points [c P, min(n, (c + 1) P))."""

    def __init__(self, shape=None, chunk_points=None):
        if shape is not None:
            self.set_layout(shape, chunk_points)

    def set_layout(self, shape, chunk_points):
        self.shape = tuple(int(s) for s in shape)
        self.n_points = int(np.prod(self.shape))
        row = self.shape[1] if len(self.shape) == 2 else 1
        self.rows = max(1, int(chunk_points) // row)
        self.chunk_points = self.rows * row
        self.n_chunks = -(-self.shape[0] // self.rows)

    def bounds(self, c):
        return c * self.chunk_points, min(self.n_points, (c + 1) * self.chunk_points)


class ZarrStore(Layout):
    def __init__(self, path, fingerprint, shape, chunk_points, coords):
        import zarr

        self.path = Path(path)
        self.fingerprint = fingerprint
        attrs = {"fingerprint": fingerprint, "shape": list(shape),
                 "chunk_points": int(chunk_points), "version": _version(),
                 "format": "losslab landscape grid 1"}
        if self.path.exists() and any(self.path.iterdir()):
            try:
                group = zarr.open_group(str(self.path), mode="r+")
                old = dict(group.attrs).get("losslab")
            except Exception as exc:  # noqa: BLE001 - any unreadable metadata is refused
                raise StoreError(f"store {str(self.path)!r} cannot be opened as a losslab grid "
                                 f"({type(exc).__name__}: {exc}); refusing to reuse it: delete it "
                                 "or choose another path") from None
            if not isinstance(old, dict) or "fingerprint" not in old:
                raise StoreError(f"store {str(self.path)!r} has no losslab attributes (its "
                                 "fingerprint and layout): it was not written by losslab or they "
                                 "were lost, so its chunks cannot be trusted; refusing to reuse "
                                 "it: delete it or choose another path")
            if old["fingerprint"] != fingerprint or list(old.get("shape", [])) != list(shape):
                raise StoreError(f"store {str(self.path)!r} holds chunks of a different "
                                 "landscape (another model, data, loss, plane or grid); use an "
                                 "empty path or delete it")
            self.set_layout(shape, old["chunk_points"])
            self.values = group["values"]
        else:
            from zarr.codecs import BytesCodec, Crc32cCodec

            self.set_layout(shape, chunk_points)
            attrs["chunk_points"] = self.chunk_points
            group = zarr.open_group(str(self.path), mode="w")
            dims = ("alpha",) if len(shape) == 1 else ("alpha", "beta")
            chunks = (self.rows,) + tuple(shape[1:])
            self.values = group.create_array(
                "values", shape=tuple(shape), chunks=chunks, dtype="f8", fill_value=np.nan,
                serializer=BytesCodec(), compressors=[Crc32cCodec()], dimension_names=dims)
            for name, c in zip(dims, coords):
                arr = group.create_array(name, shape=(len(c),), dtype="f8",
                                         dimension_names=(name,))
                arr[:] = np.asarray(c, dtype=np.float64)
            group.attrs["losslab"] = attrs  # written last: a store without it is refused
        self.writer = ZarrWriter(str(self.path / "values"), self.rows, self.shape)

    def chunk_file(self, c):
        tail = f"c/{c}" + ("/0" if len(self.shape) == 2 else "")
        return self.path / "values" / tail

    def check(self, c):
        """("done", values) | ("missing", None) | ("bad", why)."""
        if not self.chunk_file(c).exists():
            return "missing", None
        r0 = c * self.rows
        try:
            block = np.asarray(self.values[r0:r0 + self.rows])
        except Exception as exc:  # noqa: BLE001 - unreadable bytes of any kind are recomputed
            return "bad", f"cannot be read ({exc})"
        flat = block.reshape(-1)
        n_nan = int(np.count_nonzero(np.isnan(flat)))
        if n_nan:
            return "bad", f"holds {n_nan} NaN values"
        return "done", flat


class ZarrWriter:
    """What a worker needs to write its chunk: the array's path and the layout (picklable)."""

    def __init__(self, path, rows, shape):
        self.path, self.rows, self.shape = path, rows, tuple(shape)

    def __call__(self, c, values):
        import zarr

        arr = zarr.open_array(self.path, mode="r+")
        r0 = c * self.rows
        block = np.asarray(values, dtype=np.float64).reshape((-1,) + self.shape[1:])
        arr[r0:r0 + block.shape[0]] = block


class FolderStore(Layout):
    """The folder format of earlier versions: ``meta.json`` and ``chunk_NNNNNN.npy``."""

    def __init__(self, path, fingerprint, shape, chunk_points):
        self.path = Path(path)
        meta_file = self.path / "meta.json"
        if not meta_file.exists():
            raise StoreError(f"store {str(self.path)!r} holds chunk files but no meta.json (what "
                             "they were computed for): refusing to reuse them; delete the folder "
                             "or choose another path")
        try:
            old = json.loads(meta_file.read_text())
            n_points, old_points = int(old["n_points"]), int(old["chunk_points"])
        except (ValueError, KeyError, TypeError, OSError) as exc:
            raise StoreError(f"store {str(self.path)!r}: meta.json cannot be read ({exc}); "
                             "refusing to reuse the store: delete it or choose another "
                             "path") from None
        if old.get("fingerprint") != fingerprint or n_points != int(np.prod(shape)):
            raise StoreError(f"store {str(self.path)!r} holds chunks of a different landscape "
                             "(another model, data, loss, plane or grid); use an empty path or "
                             "delete it")
        # the old layout: flat chunks of old_points points
        self.shape, self.n_points = tuple(shape), n_points
        self.rows, self.chunk_points = None, old_points
        self.n_chunks = -(-n_points // old_points)
        self.writer = FolderWriter(str(self.path))

    def chunk_file(self, c):
        return self.path / f"chunk_{c:06d}.npy"

    def check(self, c):
        f = self.chunk_file(c)
        if not f.exists():
            return "missing", None
        lo, hi = self.bounds(c)
        try:
            a = np.load(f, allow_pickle=False)
        except Exception as exc:  # noqa: BLE001 - any unreadable file is recomputed
            return "bad", f"cannot be read ({type(exc).__name__}: {exc})"
        if a.dtype != np.float64:
            return "bad", f"holds {a.dtype} data, not float64"
        if a.shape != (hi - lo,):
            return "bad", f"has shape {a.shape}, not ({hi - lo},)"
        n_nan = int(np.count_nonzero(np.isnan(a)))
        if n_nan:
            return "bad", f"holds {n_nan} NaN values"
        return "done", a


class FolderWriter:
    def __init__(self, path):
        self.path = path

    def __call__(self, c, values):
        buf = io.BytesIO()
        np.save(buf, np.asarray(values, dtype=np.float64))
        write_atomic(Path(self.path) / f"chunk_{c:06d}.npy", buf.getvalue())


def report_bad(store, c, why, recomputed):
    recomputed.append({"chunk": int(c), "file": str(store.chunk_file(c)), "why": why})
    warnings.warn(f"store {str(store.path)!r}: chunk {c} ({store.chunk_file(c).name}) {why}: "
                  "recomputing it", StoreWarning, stacklevel=4)
