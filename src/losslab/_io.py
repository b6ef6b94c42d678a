"""Files and JSON, shared by the labs, the landscape stores, the advisor and the report.

``write_atomic`` never leaves a half-written file under its final name: it writes a temporary
file beside it, flushes it to disk, and renames it into place (``os.replace`` is atomic on POSIX
and Windows). ``json_types`` turns NumPy values into JSON ones.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np


def write_atomic(path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see the module docstring)."""
    path = Path(path)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def json_types(x):
    """NumPy scalars and arrays to JSON types; NaN and inf become None (JSON has neither)."""
    if isinstance(x, dict):
        return {str(k): json_types(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [json_types(v) for v in x]
    if isinstance(x, np.ndarray):
        return json_types(x.tolist())
    if isinstance(x, (np.floating, float)):
        x = float(x)
        return x if math.isfinite(x) else None
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.bool_):
        return bool(x)
    return x
