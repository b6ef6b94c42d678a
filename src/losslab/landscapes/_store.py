"""Resumable grids: finished chunks of grid values on disk, each written atomically.

A store is a folder holding ``meta.json`` (what is being computed: a fingerprint of the model,
data, loss, plane and grid, and the chunk layout) and one ``chunk_NNNNNN.npy`` per finished chunk.
A chunk is written to a temporary file and renamed into place (``os.replace``, atomic on POSIX
and Windows), so a run killed at any point leaves only complete chunks (and perhaps a stray
``.tmp``, which is ignored). Starting again computes the missing chunks only; the surface equals
an uninterrupted run's, because each chunk's values depend on nothing but its grid points.
Chunks are independent, so several workers can share one store (``worker=(k, K)`` computes
chunks k, k + K, k + 2K, ...).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .._io import write_atomic

__all__ = ["ChunkStore"]


class ChunkStore:
    def __init__(self, path, fingerprint: str, n_points: int, chunk_points: int):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        meta_file = self.path / "meta.json"
        meta = {"fingerprint": fingerprint, "n_points": int(n_points),
                "chunk_points": int(chunk_points)}
        if meta_file.exists():
            old = json.loads(meta_file.read_text())
            if old.get("fingerprint") != fingerprint or old.get("n_points") != n_points:
                raise ValueError(
                    f"store {str(self.path)!r} holds chunks of a different landscape (another "
                    "model, data, loss, plane or grid); use an empty folder or delete it")
            meta["chunk_points"] = int(old["chunk_points"])  # keep the layout of the first run
        else:
            write_atomic(meta_file, json.dumps(meta).encode())
        self.chunk_points = meta["chunk_points"]
        self.n_chunks = -(-int(n_points) // self.chunk_points)

    def _file(self, c: int) -> Path:
        return self.path / f"chunk_{c:06d}.npy"

    def done(self, c: int) -> bool:
        return self._file(c).exists()

    def load(self, c: int) -> np.ndarray:
        return np.load(self._file(c))

    def save(self, c: int, values: np.ndarray) -> None:
        import io

        buf = io.BytesIO()
        np.save(buf, np.asarray(values, dtype=np.float64))
        write_atomic(self._file(c), buf.getvalue())
