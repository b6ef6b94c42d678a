"""Files, JSON and progress, shared by training, the labs, the landscape stores, the advisor and
the report.

``write_atomic`` never leaves a half-written file under its final name: it writes a temporary
file beside it, flushes it to disk, and renames it into place (``os.replace`` is atomic on POSIX
and Windows). ``json_types`` turns NumPy values into JSON ones. ``progress`` is the one progress
bar of losslab (rich, on standard error, in a terminal only unless asked for).
"""

from __future__ import annotations

import math
import os
import sys
from contextlib import contextmanager
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


_ACTIVE: list = []  # the bar on screen, if any


class _Bar:
    """What ``progress`` yields: ``advance(n=1, description=None)``; a no-op when hidden."""

    def __init__(self, bar=None, task=None):
        self._bar, self._task = bar, task

    def advance(self, n: int = 1, description: str | None = None) -> None:
        if self._bar is not None:
            kwargs = {} if description is None else {"description": description}
            self._bar.update(self._task, advance=n, **kwargs)

    def describe(self, description: str) -> None:
        if self._bar is not None:
            self._bar.update(self._task, description=description)


@contextmanager
def progress(total: int, description: str, *, enabled=None, unit: str = ""):
    """A transient rich progress bar of ``total`` steps on standard error, as a context manager
    yielding an object with ``advance`` and ``describe``. ``enabled=None`` shows it only when
    standard error is a terminal; rich is imported only when a bar is shown. Inside another bar
    (a lab's training inside the report) a bar is not shown: the outer one reports progress."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled or _ACTIVE:
        yield _Bar()
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("{task.description:<16}"), BarColumn(),
                   TextColumn(f"{unit}{{task.completed}}/{{task.total}}"), TimeElapsedColumn(),
                   transient=True)
    task = bar.add_task(description, total=total)
    bar.start()
    _ACTIVE.append(bar)
    try:
        yield _Bar(bar, task)
    finally:
        _ACTIVE.remove(bar)
        bar.stop()


_LIMITED: list = []


def one_blas_thread():
    """Set a worker process up once (losslab's process pools call it first): one BLAS thread
    (as the serial reference should, for bit-identical results: a threaded BLAS may sum in
    another order; one core per worker), and
    glibc's malloc left to keep freed memory. Dask starts its workers with
    ``MALLOC_TRIM_THRESHOLD_=65536``, which returns every freed NumPy temporary to the system so
    that the next one page-faults again: the projected path ran 2.6x slower per chunk in a Dask
    worker than in a plain process. The thresholds are raised to 256 MiB (trim) and 32 MiB (mmap)
    in the worker, on Linux."""
    if _LIMITED:
        return
    from threadpoolctl import threadpool_limits

    _LIMITED.append(threadpool_limits(1))
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            libc = ctypes.CDLL("libc.so.6")
            libc.mallopt(-1, 256 * 2 ** 20)  # M_TRIM_THRESHOLD
            libc.mallopt(-3, 32 * 2 ** 20)  # M_MMAP_THRESHOLD
        except (OSError, AttributeError):  # not glibc: nothing to tune
            pass


def die_with_parent():
    """Linux: have the kernel kill this worker process when the process that started it dies,
    so that a killed run (``kill -9``, an out-of-memory kill) leaves no worker computing for
    nobody and no worker holding its parent's output pipes open. Elsewhere: nothing."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not glibc: the pool's own checks remain
        pass


def worker_setup():
    """The setup of every process losslab starts for a pool: one BLAS thread, freed memory
    kept, and death with its parent."""
    one_blas_thread()
    die_with_parent()


def gzip64(text: str) -> str:
    """``text`` gzipped (level 9, no timestamp: the same bytes every run) and base64-encoded."""
    import base64
    import gzip

    return base64.b64encode(gzip.compress(text.encode(), 9, mtime=0)).decode()


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:system-ui,sans-serif;margin:1rem}}#view{{width:100%;height:85vh}}</style>
</head><body>
<div id="view">Drawing the figure (it needs a browser with DecompressionStream: Chrome 80,
Firefox 113, Safari 16.4 or later)...</div>
<script type="application/octet-stream" id="plotly-gz">{plotly}</script>
<script type="application/octet-stream" id="figure-gz">{figure}</script>
<script>
// plotly.js and the figure are stored gzipped (base64), unpacked by the browser's own
// DecompressionStream: one file, offline, a third of the size
async function gunzip(id) {{
  const b64 = document.getElementById(id).textContent.trim();
  const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return await new Response(stream).text();
}}
(async () => {{
  const div = document.getElementById("view");
  try {{
    const s = document.createElement("script");
    s.text = await gunzip("plotly-gz");
    document.head.appendChild(s);
    const fig = JSON.parse(await gunzip("figure-gz"));
    div.textContent = "";
    await Plotly.newPlot(div, fig.data, fig.layout, {{responsive: true}});
    div.dataset.drawn = "yes";
  }} catch (e) {{
    div.textContent = "This view needs a browser with DecompressionStream: " + e;
  }}
}})();
</script></body></html>
"""


def plotly_page(fig, title: str = "losslab") -> str:
    """A self-contained HTML page of one Plotly figure that works offline: plotly.js (4.8 MB)
    and the figure stored gzipped, about 2 MB in all."""
    import html

    from plotly.offline import get_plotlyjs

    return _PAGE.format(title=html.escape(title), plotly=gzip64(get_plotlyjs()),
                        figure=gzip64(fig.to_json()))
