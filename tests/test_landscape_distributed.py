"""Landscapes past one process: local process pools, a Dask LocalCluster and a local Ray give the
serial surface bit for bit (oracle: the serial run with one BLAS thread, as the workers use), also
when a worker is killed mid-run; the Zarr store is checked when read back (every damaged chunk
recomputed and named, a store without its attributes refused); xarray opens it.

The engines are started by the tests themselves and shut down in fixtures; every test that
starts one is time-bounded. In CI (``CI=true``) a missing engine is an error, not a skip.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import warnings

import numpy as np
import pytest
from threadpoolctl import threadpool_limits
from typer.testing import CliRunner

from losslab import landscapes as L
from losslab import models
from losslab.cli import app


def _need(module):
    if os.environ.get("CI") == "true":
        return __import__(module)
    return pytest.importorskip(module)


@pytest.fixture(scope="module")
def dask_client():
    _need("distributed")
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None, silence_logs=50)
    client = Client(cluster, timeout="60s")
    try:
        yield client
    finally:
        client.close(timeout=30)
        cluster.close(timeout=30)


@pytest.fixture(scope="module")
def ray_local():
    ray = _need("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             configure_logging=False)
    try:
        yield "ray"
    finally:
        ray.shutdown()


def _problems():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5))
    y = (X[:, 0] + 0.3 * rng.normal(size=300) > 0).astype(float)
    a, b = np.linspace(-1, 1, 15), np.linspace(-1, 1, 11)
    linear = models.Logistic(5, seed=0)
    mlp = models.MLP(5, (16,), seed=0)
    return [("linear", linear, L.filter_normalized(linear, seed=1), "bce", X, y, a, b),
            ("mlp", mlp, L.filter_normalized(mlp, seed=1), "bce", X, y, a, b)]


def _cnn():
    import torch

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 3, 3), torch.nn.Tanh(), torch.nn.Flatten(),
                              torch.nn.Linear(3 * 4 * 4, 2)).double()
    rng = np.random.default_rng(1)
    return net, rng.normal(size=(40, 1, 6, 6)), rng.integers(0, 2, 40)


def _check_all(executor):
    for name, model, plane, loss, X, y, a, b in _problems():
        kw = dict(plane=plane, alpha=a, beta=b, chunk_bytes=20_000)
        with threadpool_limits(1):
            serial = L.landscape(model, loss, X, y, **kw)
        got = L.landscape(model, loss, X, y, executor=executor, **kw)
        assert got.meta["chunks"] > 4 and got.method in ("projected", "first-layer")
        np.testing.assert_array_equal(got.values, serial.values, err_msg=name)
    import torch

    net, X, y = _cnn()
    plane = L.torch_plane(net, seed=0)
    g = np.linspace(-1, 1, 7)
    kw = dict(plane=plane, alpha=g, beta=g, batch=False, chunk_points=7)
    with threadpool_limits(1):
        serial = L.torch_landscape(net, torch.nn.functional.cross_entropy, X, y, **kw)
    got = L.torch_landscape(net, torch.nn.functional.cross_entropy, X, y, executor=executor, **kw)
    np.testing.assert_array_equal(got.values, serial.values, err_msg="cnn")


@pytest.mark.timeout(240)
def test_local_processes_equal_the_serial_run():
    _check_all(2)


@pytest.mark.timeout(240)
def test_dask_local_cluster_equals_the_serial_run(dask_client):
    _check_all(dask_client)


@pytest.mark.timeout(240)
def test_ray_equals_the_serial_run(ray_local):
    _check_all(ray_local)


def test_executor_argument_is_checked(rng):
    model = models.Linear(2)
    plane = L.filter_normalized(model, seed=0)
    X, y = rng.normal(size=(20, 2)), rng.normal(size=20)
    with pytest.raises(TypeError, match="executor must be None, a number of processes"):
        L.landscape(model, "mse", X, y, plane=plane, alpha=[0.0, 1.0], beta=[0.0, 1.0],
                    executor="threads")
    with pytest.raises(ValueError, match="executor must be >= 1 processes, got 0"):
        L.landscape(model, "mse", X, y, plane=plane, alpha=[0.0, 1.0], beta=[0.0, 1.0],
                    executor=0)


# ---- a worker killed mid-run ---------------------------------------------------------------


def _slow_problem():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(3000, 10))
    y = X[:, 0] - X[:, 1] + 0.1 * rng.normal(size=3000)
    model = models.MLP(10, (64,), seed=0)
    plane = L.filter_normalized(model, seed=3)
    g = np.linspace(-1, 1, 40)
    return model, X, y, dict(plane=plane, alpha=g, beta=g, method="generic", chunk_bytes=1)


def _run_and_kill(executor, store, kill):
    """Run the slow grid in a thread; when the first chunk is in the store, ``kill()`` a
    worker; return the finished landscape."""
    model, X, y, kw = _slow_problem()
    out = {}

    def run():
        out["ls"] = L.landscape(model, "mse", X, y, executor=executor, store=store, **kw)

    t = threading.Thread(target=run)
    t.start()
    chunks = store / "values" / "c"
    deadline = time.time() + 120
    while time.time() < deadline and not (chunks.exists() and any(chunks.iterdir())):
        time.sleep(0.005)
    killed = kill()
    t.join(timeout=180)
    assert not t.is_alive(), "the grid did not finish"
    with threadpool_limits(1):
        serial = L.landscape(model, "mse", X, y, **kw)
    np.testing.assert_array_equal(out["ls"].values, serial.values)
    return out["ls"], killed


def _kill(pid):
    os.kill(pid, signal.SIGKILL)
    return pid


@pytest.mark.timeout(300)
def test_a_killed_local_worker_costs_only_its_chunk(tmp_path):
    psutil = pytest.importorskip("psutil")

    def kill():
        me = psutil.Process()
        deadline = time.time() + 30
        while time.time() < deadline:
            workers = [p for p in me.children(recursive=True)
                       if "popen_loky" in " ".join(p.cmdline())]  # not the resource tracker
            if workers:
                return _kill(workers[0].pid)
            time.sleep(0.01)
        raise AssertionError("no worker process found")

    ls, _ = _run_and_kill(2, tmp_path / "grid.zarr", kill)
    assert ls.meta["retried"] >= 1 and ls.meta["executor"] == "pool"


@pytest.mark.timeout(300)
def test_a_killed_dask_worker_costs_only_its_chunk(tmp_path, dask_client):
    def kill():
        pids = dask_client.run(os.getpid)
        return _kill(next(iter(pids.values())))

    _run_and_kill(dask_client, tmp_path / "grid.zarr", kill)
    dask_client.wait_for_workers(2, timeout=60)  # the nanny restarted it


@pytest.mark.timeout(300)
def test_a_killed_ray_worker_costs_only_its_chunk(tmp_path, ray_local):
    psutil = pytest.importorskip("psutil")

    def kill():
        deadline = time.time() + 30
        while time.time() < deadline:
            for p in psutil.process_iter(["cmdline", "name"]):
                text = " ".join(p.info["cmdline"] or []) + " " + (p.info["name"] or "")
                if "ray::evaluate_chunk" in text:
                    return _kill(p.pid)
            time.sleep(0.01)
        raise AssertionError("no ray worker running a chunk found")

    _run_and_kill(ray_local, tmp_path / "grid.zarr", kill)


# ---- the store: checked when it is read back ------------------------------------------------


def _grid(tmp_path, **extra):
    model, loss, X, y = models.Linear(3, seed=0), "huber", *_data()
    plane = L.filter_normalized(model, seed=1)
    kw = dict(plane=plane, alpha=np.linspace(-1, 1, 12), beta=np.linspace(-1, 1, 9),
              chunk_bytes=55_000, **extra)
    return model, loss, X, y, kw


def _data():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(40, 3))
    return X, X @ [1.0, -1.0, 0.5] + rng.standard_t(2, size=40)


def _chunk(store, c):
    return store / "values" / "c" / str(c) / "0"


@pytest.mark.parametrize("damage,why", [
    (lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]), "cannot be read"),
    (lambda p: p.write_bytes(b""), "cannot be read"),
    (lambda p: p.write_bytes(np.random.default_rng(0).bytes(len(p.read_bytes()))),
     "cannot be read"),
    (lambda p: p.write_bytes(bytes([p.read_bytes()[0] ^ 1]) + p.read_bytes()[1:]),
     "cannot be read .*checksum"),
    (lambda p: p.write_bytes(np.arange(27, dtype=np.float32).tobytes()), "cannot be read"),
    ("nan", "holds 9 NaN values"),
])
def test_every_damaged_chunk_is_recomputed_and_named(tmp_path, damage, why):
    import zarr

    model, loss, X, y, kw = _grid(tmp_path)
    store = tmp_path / "g.zarr"
    first = L.landscape(model, loss, X, y, store=store, **kw)
    assert first.meta["chunks"] == 4  # 3 rows of 9 points per chunk
    if damage == "nan":  # valid bytes and checksum, but not a computed value
        zarr.open_array(str(store / "values"), mode="r+")[4:5] = np.nan  # a row of chunk 1
    else:
        damage(_chunk(store, 1))
    with pytest.warns(L.StoreWarning, match=f"chunk 1 .*{why}.*recomputing"):
        again = L.landscape(model, loss, X, y, store=store, **kw)
    np.testing.assert_array_equal(again.values, first.values)
    assert [r["chunk"] for r in again.meta["recomputed"]] == [1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # sound again: nothing is recomputed
        np.testing.assert_array_equal(L.landscape(model, loss, X, y, store=store, **kw).values,
                                      first.values)


def test_a_store_without_its_attributes_is_refused(tmp_path):
    import json

    model, loss, X, y, kw = _grid(tmp_path)
    store = tmp_path / "g.zarr"
    L.landscape(model, loss, X, y, store=store, **kw)
    meta = json.loads((store / "zarr.json").read_text())
    meta["attributes"] = {}
    (store / "zarr.json").write_text(json.dumps(meta))
    with pytest.raises(L.StoreError, match="has no losslab attributes"):
        L.landscape(model, loss, X, y, store=store, **kw)
    (store / "zarr.json").write_text("{not json")
    with pytest.raises(L.StoreError, match="cannot be opened as a losslab grid"):
        L.landscape(model, loss, X, y, store=store, **kw)
    other = tmp_path / "other.zarr"
    L.landscape(model, loss, X, y, store=other, **kw)
    with pytest.raises(L.StoreError, match="holds chunks of a different landscape"):
        L.landscape(model, "mse", X, y, store=other, **kw)  # a BCE store never feeds a focal run


def test_the_folder_format_is_still_read_and_checked(tmp_path):
    import json

    model, loss, X, y, kw = _grid(tmp_path)
    fresh = L.landscape(model, loss, X, y, **kw)
    # an earlier version's folder: meta.json and one .npy per flat chunk of 20 points
    folder = tmp_path / "old"
    folder.mkdir()
    ls = L.landscape(model, loss, X, y, store=tmp_path / "probe.zarr", **kw)
    fp = json.loads((tmp_path / "probe.zarr" / "zarr.json").read_text())["attributes"][
        "losslab"]["fingerprint"]
    (folder / "meta.json").write_text(json.dumps({"fingerprint": fp, "n_points": 108,
                                                  "chunk_points": 20}))
    flat = ls.values.ravel()
    for c in range(6):
        np.save(folder / f"chunk_{c:06d}.npy", flat[c * 20:(c + 1) * 20])
    np.save(folder / "chunk_000002.npy", flat[40:60].astype(np.float32))
    with pytest.warns(L.StoreWarning, match="chunk 2 .*holds float32 data"):
        resumed = L.landscape(model, loss, X, y, store=folder, **kw)
    np.testing.assert_array_equal(resumed.values, fresh.values)
    (folder / "meta.json").unlink()
    with pytest.raises(L.StoreError, match="holds chunk files but no meta.json"):
        L.landscape(model, loss, X, y, store=folder, **kw)


def test_xarray_opens_the_store_with_its_coordinates(tmp_path):
    xr = _need("xarray")
    model, loss, X, y, kw = _grid(tmp_path)
    store = tmp_path / "g.zarr"
    ls = L.landscape(model, loss, X, y, store=store, **kw)
    ds = xr.open_zarr(store, consolidated=False)
    np.testing.assert_array_equal(ds["values"].values, ls.values)
    np.testing.assert_array_equal(ds["alpha"].values, ls.alpha)
    np.testing.assert_array_equal(ds["beta"].values, ls.beta)
    assert ds["values"].dims == ("alpha", "beta")
    assert ds.attrs["losslab"]["shape"] == [12, 9]


@pytest.mark.timeout(240)
def test_command_line_workers_store_and_damaged_stores(tmp_path):
    store = tmp_path / "course.zarr"
    args = ["landscape", "course", "--grid", "12", "--no-html", "--out", str(tmp_path / "out"),
            "--store", str(store)]
    res = CliRunner().invoke(app, args + ["--workers", "2"])
    assert res.exit_code == 0, res.output
    target = next((store / "values" / "c").iterdir()) / "0"
    target.write_bytes(b"garbage")
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0 and "recomputing" in res.output and "Traceback" not in res.output
    (store / "zarr.json").write_text("{}")
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert "cannot be opened as a losslab grid" in res.output or "no losslab attributes" in \
        res.output


@pytest.mark.timeout(240)
@pytest.mark.parametrize("engine", ["pool", "dask", "ray"])
def test_hessian_vector_products_over_data_shards(engine, request):
    # Oracle: the serial model_hvp (same central difference); the shards' weighted means sum in
    # another order, so 1e-10 relative. The Lanczos extremes agree through either hvp.
    executor = {"pool": lambda: 2, "dask": lambda: request.getfixturevalue("dask_client"),
                "ray": lambda: request.getfixturevalue("ray_local")}[engine]()
    rng = np.random.default_rng(4)
    X = rng.normal(size=(400, 4))
    y = np.tanh(X[:, 0]) + 0.1 * rng.normal(size=400)
    w = rng.uniform(0.5, 2.0, size=400)
    model = models.MLP(4, (8,), activation="tanh", seed=0)
    serial = L.model_hvp(model, "mse", X, y, sample_weight=w)
    sharded = L.model_hvp(model, "mse", X, y, sample_weight=w, executor=executor, shards=5)
    v = rng.normal(size=model.n_params)
    a, b = serial(v), sharded(v)
    assert np.max(np.abs(a - b)) <= 1e-10 * np.max(np.abs(a))
    lo_s, hi_s = L.hessian_extremes(serial, model.n_params, k=1, tol=1e-8)
    lo_d, hi_d = L.hessian_extremes(sharded, model.n_params, k=1, tol=1e-8)
    np.testing.assert_allclose([lo_d[0], hi_d[0]], [lo_s[0], hi_s[0]], rtol=1e-6)


# ---- a store serves its own landscape or nothing ------------------------------------------------


def _fresh_and_store(tmp_path, loss="huber"):
    model, _, X, y, kw = _grid(tmp_path)
    # away from the zero start, so that the filter-normalised directions are not zero and
    # every chunk holds other values (a copied chunk is then wrong, not identical)
    model.params["W"][:] = np.array([[0.8], [-1.2], [0.3]])
    kw["plane"] = L.filter_normalized(model, seed=1)
    store = tmp_path / "g.zarr"
    first = L.landscape(model, loss, X, y, store=store, **kw)
    np.testing.assert_array_equal(first.values, L.landscape(model, loss, X, y, **kw).values)
    assert len(np.unique(first.values)) == first.values.size  # every point its own value
    return model, X, y, kw, store, first


def _resume(model, loss, X, y, store, kw, why, chunks):
    with pytest.warns(L.StoreWarning) as record:
        again = L.landscape(model, loss, X, y, store=store, **kw)
    named = sorted(r["chunk"] for r in again.meta["recomputed"])
    assert named == sorted(chunks), (named, [str(w.message) for w in record])
    assert all(why in r["why"] for r in again.meta["recomputed"]), again.meta["recomputed"]
    return again


def test_a_copied_or_linked_chunk_is_detected(tmp_path):
    import shutil

    model, X, y, kw, store, first = _fresh_and_store(tmp_path)
    # chunk 1 replaced by a copy of chunk 2: valid bytes and a valid CRC in the wrong place
    shutil.copyfile(_chunk(store, 2), _chunk(store, 1))
    again = _resume(model, "huber", X, y, store, kw, "does not match its digest", [1])
    np.testing.assert_array_equal(again.values, first.values)
    # chunk 1 a symbolic link to chunk 2
    _chunk(store, 1).unlink()
    _chunk(store, 1).symlink_to(_chunk(store, 2))
    again = _resume(model, "huber", X, y, store, kw, "is a link", [1])
    np.testing.assert_array_equal(again.values, first.values)
    assert not _chunk(store, 1).is_symlink()
    # chunk 1 a folder
    _chunk(store, 1).unlink()
    _chunk(store, 1).mkdir()
    again = _resume(model, "huber", X, y, store, kw, "is a folder", [1])
    np.testing.assert_array_equal(again.values, first.values)


def test_values_rewritten_through_zarr_are_detected(tmp_path):
    import zarr

    model, X, y, kw, store, first = _fresh_and_store(tmp_path)
    arr = zarr.open_array(str(store / "values"), mode="r+")
    arr[0:3] = arr[0:3] + 1.0  # chunk 0, with a valid CRC
    arr[6:7] = np.inf  # a row of chunk 2
    again = _resume(model, "huber", X, y, store, kw, "does not match its digest", [0, 2])
    np.testing.assert_array_equal(again.values, first.values)


def test_a_foreign_attribute_block_serves_nothing_of_the_other_landscape(tmp_path):
    import json

    model, X, y, kw, store, first = _fresh_and_store(tmp_path, "huber")
    other = tmp_path / "other.zarr"
    log_cosh = L.landscape(model, "log_cosh", X, y, store=other, **kw)
    # the huber store's attributes replaced by the log_cosh store's (the same layout): before,
    # every point was served from the huber landscape as log_cosh
    meta = json.loads((store / "zarr.json").read_text())
    meta["attributes"] = json.loads((other / "zarr.json").read_text())["attributes"]
    (store / "zarr.json").write_text(json.dumps(meta))
    again = _resume(model, "log_cosh", X, y, store, kw, "does not match its digest",
                    [0, 1, 2, 3])
    np.testing.assert_array_equal(again.values, log_cosh.values)
    assert not np.any(again.values == first.values)
    # attributes of a landscape with another layout (mse's exact method chunks differently):
    # refused in one line
    mse_store = tmp_path / "mse.zarr"
    L.landscape(model, "mse", X, y, store=mse_store, **kw)
    meta["attributes"] = json.loads((mse_store / "zarr.json").read_text())["attributes"]
    (store / "zarr.json").write_text(json.dumps(meta))
    with pytest.raises(L.StoreError, match="array metadata that changed") as err:
        L.landscape(model, "mse", X, y, store=store, **kw)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("edit, message", [
    (lambda m: m.update(data_type="float32"), "dtype float32 \\(written as float64\\)"),
    (lambda m: m.update(shape=[13, 9]), "shape \\(13, 9\\)"),
    (lambda m: m["chunk_grid"]["configuration"].update(chunk_shape=[2, 9]), "chunks \\(2, 9\\)"),
    (lambda m: m.update(codecs=m["codecs"][:1]), "codecs \\['bytes'\\]"),
    ("delete", "has lost or damaged array metadata"),
    ("garbage", "has lost or damaged array metadata"),
])
def test_changed_array_metadata_is_refused_in_one_line(tmp_path, edit, message):
    import json

    model, X, y, kw, store, first = _fresh_and_store(tmp_path)
    meta_file = store / "values" / "zarr.json"
    if edit == "delete":
        meta_file.unlink()
    elif edit == "garbage":
        meta_file.write_text("{not json")
    else:
        meta = json.loads(meta_file.read_text())
        edit(meta)
        meta_file.write_text(json.dumps(meta))
    with pytest.raises(L.StoreError, match=message) as err:
        L.landscape(model, "huber", X, y, store=store, **kw)
    assert "\n" not in str(err.value) and "refusing to reuse it" in str(err.value)


def test_a_half_created_store_is_reused_and_other_folders_are_refused(tmp_path):
    import json

    model, X, y, kw, store, first = _fresh_and_store(tmp_path)
    # what a run killed as it created the store left (an earlier version built it in place):
    # the group's metadata without attributes, no chunks
    half = tmp_path / "half.zarr"
    (half / "values").mkdir(parents=True)
    meta = json.loads((store / "zarr.json").read_text())
    meta["attributes"] = {}
    (half / "zarr.json").write_text(json.dumps(meta))
    np.testing.assert_array_equal(L.landscape(model, "huber", X, y, store=half, **kw).values,
                                  first.values)
    # a folder of someone's files is never deleted
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(L.StoreError, match="cannot be opened as a losslab grid|no losslab"):
        L.landscape(model, "huber", X, y, store=mine, **kw)
    assert (mine / "notes.txt").read_text() == "keep me"


@pytest.mark.timeout(300)
def test_two_runs_of_different_landscapes_into_one_store(tmp_path):
    """Started at once: one completes, the other is refused with one line naming both
    landscapes, and a resume serves exactly the completed landscape."""
    import subprocess
    import sys

    store = tmp_path / "shared.zarr"
    cmd = [sys.executable, "-c", "from losslab.cli import main; main()", "landscape", "course",
           "--grid", "40", "--no-html", "--store", str(store)]
    procs = [subprocess.Popen(cmd + ["--loss", loss, "--out", str(tmp_path / loss)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for loss in ("mse", "huber")]
    try:
        outs = [p.communicate(timeout=240) for p in procs]
    finally:  # never leave a run behind, whatever happens above
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=30)
    codes = [p.returncode for p in procs]
    assert sorted(codes) == [0, 1], (codes, outs)
    winner, loser = ("mse", "huber") if codes[0] == 0 else ("huber", "mse")
    refusal = [line for line in outs[codes.index(1)][1].splitlines() if line.strip()]
    assert len(refusal) == 1 and refusal[0].startswith("Error: store"), outs
    assert "holds chunks of a different landscape" in refusal[0]
    assert "Traceback" not in outs[codes.index(1)][1]
    # the resume serves the winner's landscape, exactly as computed without a store
    from losslab.labs import landscapes as cases

    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing of the loser's is found, nothing recomputed
        resumed = cases.course_case(winner, n=40, store=store)
    fresh = cases.course_case(winner, n=40)
    a, b = resumed.curves["landscape"].values, fresh.curves["landscape"].values
    np.testing.assert_array_equal(a, b)


@pytest.mark.timeout(240)
def test_hessian_vector_products_survive_a_killed_worker():
    import os
    import signal
    import threading
    import time

    psutil = pytest.importorskip("psutil")
    rng = np.random.default_rng(4)
    X = rng.normal(size=(1_000_000, 4))  # about 0.25 s a product on two workers
    y = np.tanh(X[:, 0]) + 0.1 * rng.normal(size=1_000_000)
    model = models.MLP(4, (16,), activation="tanh", seed=0)
    sharded = L.model_hvp(model, "mse", X, y, executor=2, shards=40)
    v = rng.normal(size=model.n_params)
    first = sharded(v)  # the pool is up, the spec shipped
    out = {}

    def run():
        try:
            out["products"] = [sharded(v) for _ in range(20)]
        except Exception as exc:  # noqa: BLE001 - the test reports it
            out["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(1.0)  # products in flight (20 of them: about 5 s)
    workers = [c for c in psutil.Process().children(recursive=True)
               if "LokyProcess" in " ".join(c.cmdline())]  # not loky's resource tracker
    assert workers, "no pool worker found"
    os.kill(workers[0].pid, signal.SIGKILL)
    thread.join(timeout=200)
    # before: TerminatedWorkerError; now a fresh pool computes the same products
    assert "error" not in out, out.get("error")
    for product in out["products"]:
        np.testing.assert_array_equal(product, first)
