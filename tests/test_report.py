"""`losslab report`: one quick run end to end (PyTorch hidden, to check that the report says so),
and an interrupted run that leaves no half-written file."""

from __future__ import annotations

import html
import json
import re
import sys

import pytest
from typer.testing import CliRunner

import losslab as ll
from losslab.cli import app


class _NoTorch:
    """A meta-path finder under which ``import torch`` fails, as where PyTorch is not installed."""

    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("No module named 'torch' (hidden by the test)")
        return None


def test_quick_report_without_torch(tmp_path, monkeypatch):
    for name in [m for m in sys.modules if m == "torch" or m.startswith("torch.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "meta_path", [_NoTorch()] + sys.meta_path)
    out = tmp_path / "rep"
    res = CliRunner().invoke(app, ["report", "--quick", "--out", str(out)])
    assert res.exit_code == 0, res.output
    page = (out / "report.html").read_text()
    data = json.loads((out / "report.json").read_text())
    assert not list(out.rglob("*.tmp"))
    assert [p.name for p in tmp_path.iterdir()] == ["rep"]  # the build folder is gone
    # self-contained: no external scripts, styles or images
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=[\"']https?:", page)
    assert page.count("data:image/png;base64,") >= 15
    assert "Plotly.newPlot" in page  # the interactive views, plotly.js inline
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
    assert data["settings"]["quick"] and data["timings_seconds"]["total"] > 0
    figures = {p.name for p in (out / "figures").glob("*.png")}
    assert {"gallery.png", "lab-outliers.png", "landscape-double_well.png"} <= figures


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
        build_report(out, quick=True, progress=False)
    assert (out / "report.html").read_text() == "the previous report"
    assert not (out / "report.json").exists()
    assert not list(out.rglob("*.tmp"))
    assert [p.name for p in tmp_path.iterdir()] == ["rep"]  # the build folder is gone


@pytest.mark.timeout(400)
def test_an_interrupted_rerun_leaves_one_complete_report_of_one_seed(tmp_path):
    # A complete seed-0 report, then seed-1 reruns into the same folder interrupted at several
    # points (SIGINT, and SIGKILL): the folder always holds one complete report of one seed.
    import json
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "rep"
    cmd = [sys.executable, "-m", "losslab.cli", "report", "--quick", "--out", str(out)]
    done = subprocess.run(cmd + ["--seed", "0"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]

    def one_report_of_seed(seed):
        data = json.loads((out / "report.json").read_text())
        page = (out / "report.html").read_text()
        assert data["settings"]["seed"] == seed and f"seed {seed}" in page
        assert len(list((out / "figures").glob("*.png"))) >= 10

    one_report_of_seed(0)
    import os
    import stat

    mask = os.umask(0)
    os.umask(mask)
    # swapped in from a mkdtemp folder (0700), the report folder has the usual mode
    assert stat.S_IMODE(out.stat().st_mode) == 0o777 & ~mask
    for delay, sig in ((1.0, signal.SIGINT), (8.0, signal.SIGINT), (15.0, signal.SIGKILL)):
        proc = subprocess.Popen(cmd + ["--seed", "1"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        time.sleep(delay)
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=60)
        if sig == signal.SIGINT:
            assert proc.returncode == 130, (stdout, stderr[-2000:])
            assert "interrupted: the previous report in" in stdout and "Traceback" not in stderr
        one_report_of_seed(0)  # the old report, whole
    # the parts print one line each when piped
    assert "verification: done in" in done.stdout
