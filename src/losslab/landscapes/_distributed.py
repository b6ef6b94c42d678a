"""Running a grid's chunks on executors: local processes, any ``concurrent.futures`` executor, a
Dask ``Client``, or Ray.

What a task receives is small and picklable: a ``GridTask`` (a key, a spec that builds the
evaluator, and the grid's coordinates) and a chunk's bounds. The spec holds what the evaluator
needs (a losslab model and its loss, or a torch module and its loss function, the data, the
plane), never a closure over the caller's objects. Each worker builds the evaluator once per
task key and keeps it (``_CACHE``), so projections of the data are made once per worker.
Shipping the spec:

* ``executor=N`` (an int): a pool of N processes that losslab starts (loky, joblib's pool:
  fresh interpreters that do not re-run the caller's script), each given the spec once (the
  pool's initializer) and limited to one BLAS thread (threadpoolctl), so N processes use N
  cores. A process that dies (killed, out of memory) breaks the pool: losslab starts a new one
  and resubmits the unfinished chunks (up to 5 times);
* a ``concurrent.futures`` executor of your own: the spec travels with every task;
* a Dask ``Client``: the spec is scattered to every worker once (``broadcast=True``); a worker
  that dies is replaced by its nanny and its tasks rescheduled by the scheduler;
* Ray (``"ray"``, the ``ray`` module, initialised or not): the spec is put in the object store
  once; a task whose worker dies is retried (``max_retries=3``).

Each finished chunk is written by the worker that computed it into its own Zarr chunk (no lock,
no shared chunk) and returned to the caller, who assembles the grid: the values are those of the
serial run, bit for bit, because a chunk's values depend on nothing but its points.
"""

from __future__ import annotations

import numpy as np

from .._io import one_blas_thread
from .._extras import require

_CACHE: dict = {}
_POOL_TASK: list = []


class GridTask:
    """A grid's chunks to evaluate: ``spec.build()`` makes the evaluator (``values(coords)``)."""

    def __init__(self, key, spec, alpha, beta):
        self.key, self.spec, self.alpha, self.beta = key, spec, alpha, beta

    def coords(self, lo, hi):
        idx = np.arange(lo, hi)
        if self.beta is None:
            return self.alpha[idx][:, None]
        n_b = self.beta.size
        return np.column_stack([self.alpha[idx // n_b], self.beta[idx % n_b]])


def evaluator(task):
    if task.key is None:  # the caller's own evaluator, in-process
        return task.spec.build()
    one_blas_thread()  # in a worker
    ev = _CACHE.get(task.key)
    if ev is None:
        _CACHE.clear()  # one grid at a time per worker: the data is not kept twice
        ev = _CACHE[task.key] = task.spec.build()
    return ev


def evaluate_chunk(task, c, lo, hi, writer=None):
    """The values of chunk c (flat points lo..hi), written to the store when there is one."""
    ev = evaluator(task)
    with np.errstate(over="ignore", invalid="ignore"):
        vals = np.asarray(ev.values(task.coords(lo, hi)), dtype=np.float64)
    if writer is not None:
        writer(c, vals)
    return vals


def _pool_init(task):
    one_blas_thread()
    _POOL_TASK[:] = [task]


def _pool_chunk(c, lo, hi, writer):
    return evaluate_chunk(_POOL_TASK[0], c, lo, hi, writer)


def kind_of(executor) -> str:
    """"serial", "pool" (an int), "futures", "dask" or "ray"."""
    if executor is None:
        return "serial"
    if isinstance(executor, bool):
        raise TypeError("executor must be None, a number of processes, a concurrent.futures "
                        "executor, a dask.distributed.Client or 'ray'; got a bool")
    if isinstance(executor, (int, np.integer)):
        if executor < 1:
            raise ValueError(f"executor must be >= 1 processes, got {executor}")
        return "pool"
    if executor == "ray" or getattr(executor, "__name__", "") == "ray":
        return "ray"
    module = type(executor).__module__ or ""
    if module.startswith("distributed") and hasattr(executor, "scatter"):
        return "dask"
    from concurrent.futures import Executor

    if isinstance(executor, Executor):
        return "futures"
    raise TypeError("executor must be None, a number of processes, a concurrent.futures "
                    f"executor, a dask.distributed.Client or 'ray'; got {type(executor).__name__}")


def run_chunks(task, chunks, executor, writer, on_done, bar):
    """Evaluate ``chunks`` [(c, lo, hi)] on ``executor``; ``on_done(c, values)`` for each.
    Returns the number of chunks that were computed again after a worker failed."""
    kind = kind_of(executor)
    if kind == "serial":
        for c, lo, hi in chunks:
            on_done(c, evaluate_chunk(task, c, lo, hi, writer))
            bar.advance()
        return 0
    if kind == "pool":
        return _run_pool(task, chunks, int(executor), writer, on_done, bar)
    if kind == "futures":
        from concurrent.futures import as_completed

        futures = {executor.submit(evaluate_chunk, task, c, lo, hi, writer): c
                   for c, lo, hi in chunks}
        for f in as_completed(futures):
            on_done(futures[f], f.result())
            bar.advance()
        return 0
    if kind == "dask":
        return _run_dask(task, chunks, executor, writer, on_done, bar)
    return _run_ray(task, chunks, executor, writer, on_done, bar)


def _run_pool(task, chunks, n, writer, on_done, bar, max_restarts=5):
    # loky (joblib's process pool, a scikit-learn dependency): fresh interpreters that do not
    # re-run the caller's script (no ``if __name__ == "__main__"`` guard needed, unlike
    # multiprocessing's spawn) and cloudpickle for what they receive
    from concurrent.futures import as_completed
    from concurrent.futures.process import BrokenProcessPool

    from joblib.externals.loky.process_executor import ProcessPoolExecutor

    pending = {c: (c, lo, hi) for c, lo, hi in chunks}
    retried, restarts = 0, 0
    while pending:
        pool = ProcessPoolExecutor(max_workers=n, initializer=_pool_init, initargs=(task,))
        broken = False
        try:
            futures = {pool.submit(_pool_chunk, *args, writer): c for c, args in pending.items()}
            for f in as_completed(futures):
                c = futures[f]
                try:
                    vals = f.result()
                except BrokenProcessPool:
                    broken = True
                    continue
                on_done(c, vals)
                pending.pop(c)
                bar.advance()
        finally:
            pool.shutdown(wait=not broken, kill_workers=broken)
        if pending:
            restarts += 1
            retried += len(pending)
            bar.describe(f"grid (retrying {len(pending)})")
            if restarts > max_restarts:
                raise RuntimeError(f"the worker processes died {restarts} times; "
                                   f"{len(pending)} chunks are still missing (the store keeps "
                                   "the finished ones: run again to resume)")
    return retried


def _run_dask(task, chunks, client, writer, on_done, bar):
    from distributed import as_completed

    spec = client.scatter(task, broadcast=True, hash=False)
    futures = {client.submit(evaluate_chunk, spec, c, lo, hi, writer, pure=False, retries=2): c
               for c, lo, hi in chunks}
    for f in as_completed(futures):
        on_done(futures[f], f.result())
        bar.advance()
    return 0


def _run_ray(task, chunks, executor, writer, on_done, bar):
    ray = require("ray", "executor='ray'")

    if not ray.is_initialized():
        ray.init(log_to_driver=False, include_dashboard=False)
    remote = ray.remote(max_retries=3)(evaluate_chunk)
    spec = ray.put(task)
    refs = {remote.remote(spec, c, lo, hi, writer): c for c, lo, hi in chunks}
    waiting = list(refs)
    while waiting:
        done, waiting = ray.wait(waiting, num_returns=1, timeout=None)
        for r in done:
            on_done(refs[r], ray.get(r))
            bar.advance()
    return 0


# ---- many small tasks on one shipped spec (Hessian-vector products over data shards) -----------

_SHIPPED: dict = {}
MAX_POOL_RESTARTS = 5


def _run_item(task, item):
    return evaluator(task).run(item)


def _pool_item(item):
    return evaluator(_POOL_TASK[0]).run(item)


def map_tasks(task, items, executor):
    """``[spec.build().run(item) for item in items]`` on ``executor``, in order; the spec is
    shipped to the workers once per task (and kept: a loky pool, a Dask scatter, a Ray object)."""
    kind = kind_of(executor)
    if kind == "serial":
        ev = evaluator(task)
        return [ev.run(i) for i in items]
    if kind == "pool":
        from concurrent.futures.process import BrokenProcessPool

        from joblib.externals.loky import get_reusable_executor

        # a worker that dies (killed, out of memory) breaks the pool: start a fresh one and
        # run the items again, as landscapes do (the products are pure functions of the items)
        for attempt in range(MAX_POOL_RESTARTS + 1):
            pool = get_reusable_executor(max_workers=int(executor), initializer=_pool_init,
                                         initargs=(task,),
                                         reuse=attempt == 0 and task.key in _SHIPPED)
            _SHIPPED.clear()
            _SHIPPED[task.key] = pool
            try:
                return list(pool.map(_pool_item, items))
            except BrokenProcessPool:  # loky's TerminatedWorkerError included
                _SHIPPED.clear()
                pool.shutdown(wait=False, kill_workers=True)
        raise RuntimeError(f"the worker processes died {MAX_POOL_RESTARTS + 1} times while "
                           f"computing {len(items)} products; try fewer processes")
    if kind == "futures":
        return list(executor.map(_run_item, [task] * len(items), items))
    handle = _SHIPPED.get((id(executor), task.key))
    if kind == "dask":
        if handle is None:
            handle = executor.scatter(task, broadcast=True, hash=False)
            _SHIPPED[(id(executor), task.key)] = handle
        futures = [executor.submit(_run_item, handle, i, pure=False, retries=2) for i in items]
        return executor.gather(futures)
    ray = require("ray", "executor='ray'")

    if not ray.is_initialized():
        ray.init(log_to_driver=False, include_dashboard=False)
    if handle is None:
        handle = ray.put(task)
        _SHIPPED[(id(executor), task.key)] = handle
    remote = ray.remote(max_retries=3)(_run_item)
    return ray.get([remote.remote(handle, i) for i in items])
