"""What a person meets at the command line: tables at 80 columns under a real pseudo-terminal,
the version, closed pipes, one error convention, and missing optional extras (one line, exit 2).

Each command runs as a subprocess (the installed ``losslab`` console script's entry point)."""

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios

import pytest

import losslab as ll

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
CLI = [sys.executable, "-c", "from losslab.cli import main; main()"]


def run_pty(args, columns=80, timeout=240, cwd=None):
    """(exit code, screen text) of ``losslab ARGS`` on a pseudo-terminal ``columns`` wide."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    env = dict(os.environ, COLUMNS=str(columns), TERM="xterm")
    p = subprocess.Popen(CLI + list(args), stdin=slave, stdout=slave, stderr=slave, env=env,
                         cwd=cwd, close_fds=True)
    os.close(slave)
    out = b""
    try:
        while True:
            ready, _, _ = select.select([master], [], [], timeout)
            if not ready:
                p.kill()
                pytest.fail(f"losslab {' '.join(args)} printed nothing for {timeout} s")
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
    finally:
        os.close(master)
        p.wait(timeout=30)
    text = ANSI.sub("", out.decode("utf-8", "replace")).replace("\r\n", "\n")
    # a carriage return starts the line again (a spinner's frames): the last frame stays
    text = "\n".join(line.rsplit("\r", 1)[-1] for line in text.split("\n"))
    return p.returncode, text


def _screen_table(text, first_header):
    """The lines from the table's header to its end (the spinner's lines dropped)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:1] == [first_header])
    return lines[start - 3:]


def test_verify_at_80_columns_shows_every_header_and_name_whole():
    rc, text = run_pty(["verify", "huber", "bce", "asymmetric_huber", "--cases", "3"])
    assert rc == 0, text
    assert "…" not in text
    assert all(len(line) <= 80 for line in text.splitlines())
    table = "\n".join(_screen_table(text, "loss"))
    words = table.split()
    for header in ("loss", "value", "grad", "torch", "FD", "hessian", "result"):
        assert header in words, (header, table)
    for name in ("huber", "bce", "asymmetric_huber"):
        assert re.search(rf"^{name}\s+\d\.\de-\d\d\s", table, re.M), (name, table)
    assert table.count(" ok") == 3
    # what did not fit is named, not silently shrunk
    assert "left out at this width: checks, oracle" in text


def test_lab_outliers_at_80_and_120_columns_keeps_losses_and_numbers_whole(tmp_path):
    for columns in (80, 120):
        rc, text = run_pty(["lab", "outliers", "--out", str(tmp_path)], columns, cwd=tmp_path)
        assert rc == 0, text
        assert "…" not in text and "..." not in text.split("fits")[1].split("- ")[0]
        for loss in ("MSE", "MAE", "Huber"):
            assert re.search(rf"\b{loss}\b", text), (columns, loss)
        # headers in words, never snake_case
        assert "distance_to_true_line" not in text and "distance" in text
        # the exact cost of the course's MSE fit, whole (4 significant digits)
        assert "22.39" in text


def test_list_at_80_columns_shows_every_name_whole():
    rc, text = run_pty(["list"])
    assert rc == 0, text
    assert "…" not in text
    first = {line.split()[0] for line in text.splitlines() if line.split()}
    assert set(ll.names()) <= first
    for header in ("name", "task", "hyperparameters", "convex", "hessian"):
        assert header in text.split()


def test_version_and_a_closed_pipe():
    out = subprocess.run(CLI + ["--version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == f"losslab {ll.__version__}"
    # `losslab list | head -1`: the reader closes the pipe after one line
    p = subprocess.Popen(CLI + ["list"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.stdout.readline().startswith(b"name\ttask")
    p.stdout.close()
    assert p.wait(timeout=60) == 0
    assert p.stderr.read() == b""


def test_errors_are_one_line_named_for_the_command_line():
    runs = {
        ("show", "hubr"): "did you mean 'huber'",
        ("lab", "outlier"): "did you mean 'outliers'?",
        ("landscape", "sadle"): "did you mean 'saddle'?",
    }
    for args, text in runs.items():
        out = subprocess.run(CLI + list(args), capture_output=True, text=True, timeout=60)
        assert out.returncode == 2, out
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: "), out.stderr
        assert text in lines[0]
        assert "losslab.names()" not in out.stderr


HIDE = "import sys; sys.modules[{mod!r}] = None; from losslab.cli import main; main()"


@pytest.mark.parametrize("module, args, extra", [
    ("dash", ["explore", "--no-browser", "--port", "8999"], "explore"),
    ("lightgbm", ["advise", "--demo", "delivery", "--models", "boosting", "--repeats", "1"],
     "boosting"),
    ("distributed", ["landscape", "course", "--scheduler", "tcp://127.0.0.1:1", "--grid", "5"],
     "distributed"),
    ("torch", ["landscape", "skip", "--grid", "5"], "torch"),
])
def test_a_missing_extra_is_one_line_with_its_install_command(module, args, extra, tmp_path):
    out = subprocess.run([sys.executable, "-c", HIDE.format(mod=module)] + args,
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert "Traceback" not in out.stderr and "Traceback" not in out.stdout
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, out.stderr
    assert f"pip install 'losslab[{extra}]'" in lines[0]
    assert "http://" not in out.stdout  # explore says nothing before the check


def _one_error_line(args, cwd):
    out = subprocess.run(CLI + list(args), capture_output=True, text=True, timeout=120, cwd=cwd)
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert "Traceback" not in out.stderr
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), out.stderr
    return lines[0]


def test_writes_that_cannot_happen_are_one_line_and_exit_2(tmp_path):
    (tmp_path / "a_file").write_text("x")
    runs = [
        (["verify", "mse", "--cases", "2", "--json", "/nonexistent/v.json"], "does not exist"),
        (["verify", "mse", "--cases", "2", "--json", str(tmp_path)], "is a folder"),
        (["landscape", "saddle", "--grid", "5", "--out", str(tmp_path / "a_file")],
         "is a file, not a folder"),
        (["landscape", "saddle", "--grid", "5", "--out", "/proc/losslab"], "cannot write"),
        (["advise", "--demo", "delivery", "--models", "linear", "--repeats", "1", "--html",
          str(tmp_path)], "is a folder"),
        (["advise", "--demo", "delivery", "--models", "linear", "--repeats", "1", "--html",
          "/nonexistent/a.html"], "does not exist"),
        (["lab", "outliers", "--out", str(tmp_path / "a_file")], "is a file, not a folder"),
    ]
    for args, text in runs:
        assert text in _one_error_line(args, tmp_path), args


def test_impossible_sizes_are_refused_before_any_work(tmp_path):
    import time

    t0 = time.perf_counter()
    line = _one_error_line(["landscape", "course", "--grid", "100000", "--no-html"], tmp_path)
    # before: numpy's MemoryError traceback after trying to allocate 74.5 GiB
    assert "100,000 x 100,000 grid" in line and "GiB" in line
    # click's usage error: the usage, then one "Error:" line (before: accepted, ran for ever)
    out = subprocess.run(CLI + ["verify", "mse", "--cases", "10000000000000000000000"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.strip().splitlines()[-1].startswith("Error: Invalid value for '--cases'")
    assert time.perf_counter() - t0 < 60


def test_piped_output_is_never_hard_wrapped(tmp_path):
    out = subprocess.run(CLI + ["landscape", "saddle", "--grid", "9", "--no-html", "--out",
                                str(tmp_path / "deep" / ("x" * 70))],
                         capture_output=True, text=True, timeout=120, env=dict(
                             os.environ, COLUMNS="80"))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert any(len(line) > 80 for line in lines)  # long claims stay on one line
    wrote = [line for line in lines if line.startswith("wrote ")]
    assert len(wrote) == 1 and ("x" * 70) in wrote[0]  # the path whole, on its line
    out = subprocess.run(CLI + ["show", "huber"], capture_output=True, text=True, timeout=60)
    assert out.stdout.splitlines()[0] == "field\tvalue"
    assert all(line.count("\t") == 1 for line in out.stdout.splitlines())
