"""`losslab report`: a quick run end to end in this process (PyTorch hidden, to check that the
report says so), the default report as a user runs it (a subprocess, on the cores), the page in
a real browser, and interrupted runs that leave one complete report of one seed."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

import losslab as ll
from conftest import non_white_share
from losslab.cli import app


class _NoTorch:
    """A meta-path finder under which ``import torch`` fails, as where PyTorch is not installed."""

    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("No module named 'torch' (hidden by the test)")
        return None


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """A quick report built in this process (``--workers 1``) with PyTorch hidden."""
    mp = pytest.MonkeyPatch()
    try:
        for name in [m for m in sys.modules if m == "torch" or m.startswith("torch.")]:
            mp.delitem(sys.modules, name)
        mp.setattr(sys, "meta_path", [_NoTorch()] + sys.meta_path)
        root = tmp_path_factory.mktemp("quick")
        out = root / "rep"
        res = CliRunner().invoke(app, ["report", "--quick", "--workers", "1", "--out", str(out)])
    finally:
        mp.undo()
    assert res.exit_code == 0, res.output
    return root, out


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    """The default report, as a user runs it: ``losslab report`` in a subprocess (its parts on
    the machine's cores)."""
    out = tmp_path_factory.mktemp("full") / "rep"
    done = subprocess.run([sys.executable, "-m", "losslab.cli", "report", "--out", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return out, done


def _text_outside_scripts(page):
    return html.unescape(re.sub(r"<script\b.*?</script>", "", page, flags=re.S))


def test_quick_report_without_torch(quick):
    root, out = quick
    page = (out / "report.html").read_text()
    data = json.loads((out / "report.json").read_text())
    assert not list(out.rglob("*.tmp"))
    assert [p.name for p in root.iterdir()] == ["rep"]  # the build folder is gone
    # self-contained: no external scripts, styles or images
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=[\"']https?:", page)
    assert page.count("data:image/png;base64,") >= 15
    assert page.count('class="plotly-view"') == 5  # two landscapes and three slider views
    for key, title in (("zoo", "The loss zoo"), ("regression", "Regression losses and outliers"),
                       ("classification", "Classification and imbalance"),
                       ("asymmetric", "Asymmetric business losses"), ("landscape", "critical points"),
                       ("neural", "Neural-network landscapes"), ("choose", "How to choose")):
        assert f'id="{key}"' in page and title in page
    assert "PyTorch is not installed" in page and data["neural"]["skipped"]
    # every sentence of findings in the page comes from the JSON of the same run
    text = html.unescape(page)
    for lab in ll.labs.names():
        for claim in data["labs"][lab]["claims"]:
            assert claim in text
    for demo, advice in data["advisor"].items():
        assert f"{demo}: recommendation {advice['recommendation']}" in text
    assert data["verification"]["ok"] and len(data["verification"]["rows"]) == len(ll.names())
    assert data["settings"]["quick"] and data["settings"]["workers"] == 1
    assert data["timings_seconds"]["total"] > 0
    figures = {p.name for p in (out / "figures").glob("*.png")}
    assert {"gallery.png", "lab-outliers.png", "landscape-double_well.png"} <= figures


def test_formulas_are_mathml_not_latex(quick):
    page = (quick[1] / "report.html").read_text()
    text = _text_outside_scripts(page)
    # LaTeX commands (\frac, \begin{cases}, \tfrac, \delta, ...) nowhere in the page
    assert not re.findall(r"\\[A-Za-z]{2,}", text), re.findall(r"\\[A-Za-z]{2,}", text)[:5]
    # two rendered formulas (loss and gradient) per loss card
    assert page.count("<math ") == 2 * len(ll.names())


def test_tables_name_their_columns_and_say_how_to_read_them(quick):
    page = (quick[1] / "report.html").read_text()
    headers = re.findall(r"<tr>((?:<th>[^<]*</th>)+)</tr>", page)
    names = [h for row in headers for h in re.findall(r"<th>([^<]*)</th>", row)]
    assert "metric_mean" not in names and "metric mean" not in names
    assert not [n for n in names if "_" in n and n not in ("p_t",)], names
    data = json.loads((quick[1] / "report.json").read_text())
    for demo, advice in data["advisor"].items():
        lower = advice["metric"] in ("mae", "rmse", "cost", "log_loss", "brier")
        assert f"({'lower' if lower else 'higher'} is better)" in html.unescape(page)
    # every table of results has its sentence under it (the loss cards' field tables do not)
    tables = re.findall(r"<table>(.*?)</table>(<p>\(\d+ more rows in the JSON\)</p>)?(<p class=\"note\">)?",
                        page, flags=re.S)
    result_tables = [t for t in tables if t[0].startswith("<tr><th>") and "<td>" in t[0]
                     and not re.match(r"<tr><th>repr</th>", t[0])]
    assert len(result_tables) >= 14 and all(t[2] for t in result_tables)


def test_the_default_report_is_under_4_mb_and_parallel_parts_change_no_number(full, quick):
    out, done = full
    size = (out / "report.html").stat().st_size
    assert size < 4_000_000, f"report.html is {size / 1e6:.2f} MB"
    data = json.loads((out / "report.json").read_text())
    assert not data["settings"]["quick"] and data["settings"]["workers"] >= 1
    assert len(list((out / "figures").glob("card-*.png"))) == len(ll.names())
    # the labs do not depend on --quick: the parallel default run and the in-process quick run
    # computed the same numbers (each part seeds itself)
    other = json.loads((quick[1] / "report.json").read_text())
    for lab in ll.labs.names():
        assert data["labs"][lab]["numbers"] == other["labs"][lab]["numbers"], lab
    # piped, the run prints one line per part as it finishes
    assert done.stdout.count(": done in ") == 9


def test_the_report_in_a_real_browser(quick, browser):
    # chromium opens the page from disk: plotly.js unpacks, every interactive view draws, a
    # slider frame shows losslab's own numbers, and the formulas are MathML elements
    pg = browser.new_page(viewport={"width": 1200, "height": 1200})
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    try:
        pg.goto((quick[1] / "report.html").as_uri())
        pg.wait_for_function("[...document.querySelectorAll('.plotly-view')].every("
                             "d => d.dataset.drawn === 'yes')", timeout=60_000)
        assert not errors, errors
        # the Huber view: move its slider to delta = 2 and read the curve the page draws
        y = pg.evaluate("""async () => {
            const div = [...document.querySelectorAll('.plotly-view')].find(
                d => d.layout.sliders && d.layout.sliders[0].currentvalue.prefix === 'delta = ');
            await Plotly.animate(div, ['2'], {mode: 'immediate', frame: {duration: 0},
                                              transition: {duration: 0}});
            return [Array.from(div._fullData[0].x), Array.from(div._fullData[2].y)];
        }""")
        e, shown = np.asarray(y[0]), np.asarray(y[1])
        # oracle: losslab's Huber at delta 2 and the closed form 1/2 e^2 inside, 2 (|e| - 1) out
        expected = ll.get("huber", delta=2.0)(np.zeros_like(e), e, reduction="none")
        np.testing.assert_allclose(shown, expected, rtol=1e-12, atol=0)
        np.testing.assert_allclose(shown, np.where(np.abs(e) <= 2, 0.5 * e ** 2, 2 * (np.abs(e) - 1)),
                                   rtol=1e-12, atol=1e-15)
        assert pg.evaluate("document.querySelectorAll('math').length") == 2 * len(ll.names())
        assert non_white_share(pg) > 0.005
    finally:
        pg.close()


def test_interrupted_report_leaves_no_half_written_file(tmp_path, monkeypatch):
    from losslab import labs

    out = tmp_path / "rep"
    out.mkdir()
    (out / "report.html").write_text("the previous report")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(labs, "run", interrupted)
    from losslab.report import build_report

    with pytest.raises(KeyboardInterrupt):
        build_report(out, quick=True, progress=False, workers=1)
    assert (out / "report.html").read_text() == "the previous report"
    assert not (out / "report.json").exists()
    assert not list(out.rglob("*.tmp"))
    assert [p.name for p in tmp_path.iterdir()] == ["rep"]  # the build folder is gone


def test_bad_workers_is_refused_before_anything_is_written(tmp_path):
    from losslab.report import build_report

    with pytest.raises(ValueError, match="workers must be >= 1"):
        build_report(tmp_path / "rep", workers=0)
    assert not list(tmp_path.iterdir())


@pytest.mark.timeout(400)
def test_an_interrupted_rerun_leaves_one_complete_report_of_one_seed(full, tmp_path):
    # The complete seed-0 default report, then --quick --seed 1 reruns into the same folder
    # interrupted at several points (SIGINT, and SIGKILL): the folder always holds one complete
    # report of one seed, and no worker process is left behind.
    import os
    import signal
    import stat
    import time

    import psutil

    out = tmp_path / "rep"
    shutil.copytree(full[0], out)
    cmd = [sys.executable, "-m", "losslab.cli", "report", "--quick", "--out", str(out)]

    def one_report_of_seed(seed):
        data = json.loads((out / "report.json").read_text())
        page = (out / "report.html").read_text()
        assert data["settings"]["seed"] == seed and f"seed {seed}" in page
        assert len(list((out / "figures").glob("*.png"))) >= 10

    one_report_of_seed(0)
    mask = os.umask(0)
    os.umask(mask)
    # swapped in from a mkdtemp folder (0700), the report folder has the usual mode
    assert stat.S_IMODE(full[0].stat().st_mode) == 0o777 & ~mask
    # (the quick report takes about 14 s on two idle cores: the kill comes well before its end)
    for delay, sig in ((1.0, signal.SIGINT), (3.0, signal.SIGINT), (8.0, signal.SIGINT),
                       (10.0, signal.SIGKILL)):
        proc = subprocess.Popen(cmd + ["--seed", "1"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        time.sleep(delay)
        children = psutil.Process(proc.pid).children(recursive=True)
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=60)
        if sig == signal.SIGINT:
            assert proc.returncode == 130, (delay, stdout, stderr[-2000:])
            assert "interrupted: the previous report in" in stdout and "Traceback" not in stderr
        # nothing else: no loky traceback, no resource tracker's "leaked semlock objects"
        assert "Traceback" not in stderr and "leaked" not in stderr, (delay, stderr[-2000:])
        one_report_of_seed(0)  # the old report, whole
        _, alive = psutil.wait_procs(children, timeout=30)
        assert not alive, f"worker processes left running: {alive}"


# ---- the swap never loses the only complete report ----------------------------------------------


def test_exchange_swaps_two_folders_at_once(tmp_path):
    from losslab.report import exchange

    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "report.html").write_text("new")
    (b / "report.html").write_text("old")
    swapped = exchange(a, b)
    assert swapped == sys.platform.startswith("linux")  # renameat2(RENAME_EXCHANGE)
    if swapped:
        assert (b / "report.html").read_text() == "new"
        assert (a / "report.html").read_text() == "old"


def test_killed_between_the_renames_then_an_interrupted_rerun_keeps_a_report(tmp_path,
                                                                              monkeypatch):
    import os

    from losslab import labs
    from losslab.report import COMPLETE, build_report

    out = tmp_path / "rep"
    # what a run killed between its two renames left (before: the next run deleted both)
    dead = 2 ** 22 + 7  # no such process
    old = tmp_path / f".rep.old-{dead}-aaaa"
    new = tmp_path / f".rep.build-{dead}-bbbb"
    for folder, text in ((old, "previous"), (new, "newest")):
        folder.mkdir()
        (folder / "report.html").write_text(text)
    (new / COMPLETE).write_text("1")
    os.utime(old, (1, 1))

    def interrupted(*args, **kwargs):  # the rerun is interrupted too
        raise KeyboardInterrupt

    monkeypatch.setattr(labs, "run", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build_report(out, quick=True, progress=False, workers=1)
    assert (out / "report.html").read_text() == "newest"
    assert [p.name for p in tmp_path.iterdir()] == ["rep"]


def test_a_running_reports_build_folder_is_not_deleted(tmp_path):
    from losslab.report import recover

    out = tmp_path / "rep"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        alive = tmp_path / f".rep.build-{sleeper.pid}-cccc"
        gone = tmp_path / f".rep.build-{2 ** 22 + 9}-dddd"
        alive.mkdir()
        gone.mkdir()
        recover(out)  # what a second run into the same folder does at start-up
        assert alive.exists() and not gone.exists()
    finally:
        sleeper.kill()
        sleeper.wait()
