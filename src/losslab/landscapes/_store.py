"""Resumable, shareable grids: a Zarr (v3) store that is checked when it is read back.

Layout (``PATH``, a directory; ``PATH.zarr`` by convention):

* a group whose attributes hold ``losslab``: the fingerprint of what is computed (model, data,
  loss, plane, grid, method), a description of it in words, the layout (grid shape, points per
  chunk), the array's dtype and codecs, the losslab version;
* ``values``: the grid, shape (len(alpha),) or (len(alpha), len(beta)), float64, NaN where not
  computed, chunked along alpha in whole rows: one Zarr chunk is one task, so concurrent
  writers (processes, Dask or Ray workers, hand-started ``worker=(k, K)`` runs) never share a
  chunk and need no lock; each chunk carries a CRC32C checksum (Zarr's ``crc32c`` codec);
* ``checks``: one BLAKE2b digest per chunk (two uint64, its own Zarr chunk) of the landscape's
  fingerprint, the chunk's index and its values. The CRC catches damaged bytes; the digest
  catches sound bytes in the wrong place: a chunk copied or linked from another position, from
  another store, values rewritten through Zarr (a valid CRC), or attributes copied from another
  landscape's store;
* ``alpha`` and ``beta``: the coordinates, so that ``xarray.open_zarr(PATH)`` returns the grid
  with its coordinates.

A store is created whole in a hidden sibling folder and renamed into place, so the first run to
rename claims it: a second run of another landscape finds the first's fingerprint and is refused
(``StoreError`` naming both), a second run of the same landscape shares the work. A folder left
without attributes and without chunks (a run killed as it created the store, by an earlier
version) is recognised and created anew.

On resume every chunk is checked: a chunk that is missing is computed; one that cannot be read,
fails its checksum or its digest, or holds NaN is recomputed, and the reason is reported
(``Landscape.meta["recomputed"]`` and a ``StoreWarning``) naming the chunk. A store whose
attributes or array metadata are missing, unreadable or changed (another dtype, codec, shape or
chunk grid), or that holds another landscape, is refused with one line (``StoreError``), never
reused.

The folder format of earlier versions (``meta.json`` and ``chunk_NNNNNN.npy``) is still read
and resumed: its chunks are checked for readability, shape, dtype and NaN (it has no checksums,
so a chunk with other valid numbers cannot be told from a right one).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import uuid
import warnings
from pathlib import Path

import numpy as np

from .._io import write_atomic

__all__ = ["StoreError", "StoreWarning", "open_store"]

FORMAT = "losslab landscape grid 2"
CODECS = ["bytes", "crc32c"]


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


def open_store(path, fingerprint: str, shape: tuple, chunk_points: int, coords,
               description: str = ""):
    """The store at ``path`` for a grid of ``shape`` (a legacy folder if it holds ``meta.json``,
    else Zarr, created when absent)."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise StoreError(f"store {str(path)!r} is a file, not a store folder: choose another "
                         "path")
    if (path / "meta.json").exists() or (path.is_dir() and any(path.glob("chunk_*.npy"))):
        return FolderStore(path, fingerprint, shape, chunk_points)
    return ZarrStore(path, fingerprint, shape, chunk_points, coords, description)


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


def digest(fingerprint: str, c: int, values) -> np.ndarray:
    """The check of chunk ``c``: BLAKE2b-128 of the landscape, the position and the values."""
    h = hashlib.blake2b(digest_size=16)
    h.update(fingerprint.encode())
    h.update(int(c).to_bytes(8, "little"))
    h.update(np.ascontiguousarray(values, dtype="<f8").tobytes())
    return np.frombuffer(h.digest(), dtype="<u8").copy()


def _has_chunks(path: Path) -> bool:
    values = path / "values" / "c"
    return values.is_dir() and any(values.iterdir())


def _refuse(path, why):
    raise StoreError(f"store {str(path)!r} {why}; refusing to reuse it: delete it or choose "
                     "another path")


class ZarrStore(Layout):
    def __init__(self, path, fingerprint, shape, chunk_points, coords, description=""):
        self.path = Path(path)
        self.fingerprint = fingerprint
        shape = tuple(int(s) for s in shape)
        if not self._in_use():
            self._create(shape, chunk_points, coords, description)
        self._open(shape, description)
        self.writer = ZarrWriter(str(self.path), self.rows, self.shape, fingerprint)

    # ---- claiming and creating ------------------------------------------------------------------
    def _in_use(self) -> bool:
        """Whether the path holds a store to open (else it is absent, empty, or a store that a
        killed run left without attributes and without chunks: created anew)."""
        if not self.path.exists():
            return False
        if not any(self.path.iterdir()):
            return False
        meta = self.path / "zarr.json"
        try:
            attrs = json.loads(meta.read_text()).get("attributes", {})
        except (OSError, ValueError, AttributeError):
            attrs = None
        own = {"zarr.json", "values", "checks", "alpha", "beta"}
        if (not (isinstance(attrs, dict) and "losslab" in attrs) and not _has_chunks(self.path)
                and meta.exists() and {e.name for e in self.path.iterdir()} <= own):
            # a Zarr store that a killed run left half-created (an earlier version built it in
            # place): nothing computed is lost by starting again. Any other folder is refused.
            shutil.rmtree(self.path, ignore_errors=True)
            return False
        return True

    def _create(self, shape, chunk_points, coords, description):
        """Build the whole store in a hidden sibling, then rename it into place (atomic): of two
        runs that create one store at once, exactly one rename succeeds."""
        import zarr
        from zarr.codecs import BytesCodec, Crc32cCodec

        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.parent / f".{self.path.name}.creating-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        try:
            self.set_layout(shape, chunk_points)
            group = zarr.open_group(str(tmp), mode="w")
            dims = ("alpha",) if len(shape) == 1 else ("alpha", "beta")
            chunks = (self.rows,) + tuple(shape[1:])
            group.create_array("values", shape=shape, chunks=chunks, dtype="f8",
                               fill_value=np.nan, serializer=BytesCodec(),
                               compressors=[Crc32cCodec()], dimension_names=dims)
            group.create_array("checks", shape=(self.n_chunks, 2), chunks=(1, 2), dtype="u8",
                               fill_value=0, serializer=BytesCodec(),
                               compressors=[Crc32cCodec()], dimension_names=("chunk", "digest"))
            for name, c in zip(dims, coords):
                arr = group.create_array(name, shape=(len(c),), dtype="f8",
                                         dimension_names=(name,))
                arr[:] = np.asarray(c, dtype=np.float64)
            group.attrs["losslab"] = {
                "fingerprint": self.fingerprint, "landscape": description, "shape": list(shape),
                "chunk_points": self.chunk_points, "dtype": "float64", "codecs": CODECS,
                "version": _version(), "format": FORMAT}
            try:
                if self.path.exists():
                    self.path.rmdir()  # an empty folder (rename does not replace one everywhere)
                os.rename(tmp, self.path)
            except OSError:
                if not self.path.exists():
                    raise
                # another run renamed its store into place first: open that one (below)
        except OSError as exc:
            raise StoreError(f"store {str(self.path)!r} cannot be created: {exc.strerror or exc}"
                             ) from None
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    # ---- opening and checking ---------------------------------------------------------------------
    def _open(self, shape, description):
        import zarr

        try:
            group = zarr.open_group(str(self.path), mode="r")
            old = dict(group.attrs).get("losslab")
        except Exception as exc:  # noqa: BLE001 - any unreadable metadata is refused
            _refuse(self.path, f"cannot be opened as a losslab grid ({type(exc).__name__}: "
                               f"{str(exc).splitlines()[0] if str(exc) else ''})")
        if not isinstance(old, dict) or "fingerprint" not in old:
            _refuse(self.path, "has no losslab attributes (its fingerprint and layout): it was "
                               "not written by losslab or they were lost, so its chunks cannot "
                               "be trusted")
        if old.get("format") != FORMAT:
            _refuse(self.path, f"was written in another format ({old.get('format')!r}; this "
                               f"losslab writes {FORMAT!r})")
        if old["fingerprint"] != self.fingerprint or list(old.get("shape", [])) != list(shape):
            theirs = old.get("landscape") or "another landscape"
            ours = f" (this run: {description})" if description else ""
            raise StoreError(f"store {str(self.path)!r} holds chunks of a different landscape: "
                             f"{theirs}{ours}; use an empty path or delete it")
        try:
            self.set_layout(shape, int(old["chunk_points"]))
            values = group["values"]
            checks = group["checks"]
            meta = values.metadata
            codecs = [type(c).__name__.replace("Codec", "").lower() for c in meta.codecs]
        except Exception as exc:  # noqa: BLE001 - missing arrays or unreadable metadata
            _refuse(self.path, f"has lost or damaged array metadata ({type(exc).__name__}: "
                               f"{str(exc).splitlines()[0] if str(exc) else 'missing'})")
        expected = {"dtype": "float64", "shape": self.shape,
                    "chunks": (self.rows,) + self.shape[1:], "codecs": CODECS,
                    "checks": (self.n_chunks, 2)}
        found = {"dtype": str(values.dtype), "shape": tuple(values.shape),
                 "chunks": tuple(values.chunks), "codecs": codecs,
                 "checks": tuple(checks.shape)}
        changed = [f"{k} {found[k]} (written as {expected[k]})" for k in expected
                   if found[k] != expected[k]]
        if changed:
            _refuse(self.path, "has array metadata that changed since losslab wrote it: "
                               + ", ".join(changed))
        self.values, self.checks = values, checks

    def chunk_file(self, c):
        tail = f"c/{c}" + ("/0" if len(self.shape) == 2 else "")
        return self.path / "values" / tail

    def check(self, c):
        """("done", values) | ("missing", None) | ("bad", why)."""
        f = self.chunk_file(c)
        if not f.exists() and not f.is_symlink():
            return "missing", None
        if f.is_symlink():
            return "bad", "is a link, not the chunk losslab wrote"
        if f.is_dir():
            return "bad", "is a folder, not a chunk file"
        r0 = c * self.rows
        try:
            block = np.asarray(self.values[r0:r0 + self.rows])
            stored = np.asarray(self.checks[c])
        except Exception as exc:  # noqa: BLE001 - unreadable bytes of any kind are recomputed
            return "bad", f"cannot be read ({str(exc).splitlines()[0] if str(exc) else exc})"
        flat = block.reshape(-1)
        n_nan = int(np.count_nonzero(np.isnan(flat)))
        if n_nan:
            return "bad", f"holds {n_nan} NaN values"
        if not np.any(stored):
            return "bad", "has no digest (its write did not finish)"
        if not np.array_equal(stored, digest(self.fingerprint, c, flat)):
            return "bad", ("does not match its digest (values changed, or a chunk of another "
                           "position or landscape)")
        return "done", flat


class ZarrWriter:
    """What a worker needs to write its chunk: the store's path, the layout and the fingerprint
    (picklable). The values first, then the digest: a chunk without its digest is recomputed."""

    def __init__(self, path, rows, shape, fingerprint):
        self.path, self.rows, self.shape = path, rows, tuple(shape)
        self.fingerprint = fingerprint

    def __call__(self, c, values):
        import zarr

        block = np.asarray(values, dtype=np.float64).reshape((-1,) + self.shape[1:])
        tail = f"c/{c}" + ("/0" if len(self.shape) == 2 else "")
        target = Path(self.path) / "values" / tail
        if target.is_symlink() or target.is_file():
            target.unlink()  # never write through a link into another file
        elif target.is_dir():
            shutil.rmtree(target)
        arr = zarr.open_array(str(Path(self.path) / "values"), mode="r+")
        r0 = c * self.rows
        arr[r0:r0 + block.shape[0]] = block
        checks = zarr.open_array(str(Path(self.path) / "checks"), mode="r+")
        checks[c] = digest(self.fingerprint, c, block.reshape(-1))


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
