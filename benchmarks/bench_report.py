"""How long ``losslab report`` takes and how heavy its page is: the default report and
``--quick``, each run as a user runs it (the command line, in a fresh process, into a new
folder), on the machine's cores (the default ``--workers``) and, for the ratio, in one process
(``--workers 1``). Prints wall seconds, the size of report.html and of the figures, and the
page's parts (plotly.js, interactive views, images).
Usage: python benchmarks/bench_report.py [--skip-full] [--skip-serial]"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(args, out):
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "losslab.cli", "report", "--out", str(out)]
                          + args, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if done.returncode:
        raise SystemExit(f"losslab report {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return seconds


def parts(page: str) -> dict:
    plotly = re.search(r'id="plotly-gz">([^<]*)<', page)
    return {"plotly.js (gzip, base64)": len(plotly.group(1)) if plotly else 0,
            "interactive views": sum(map(len, re.findall(r'data-gz="([^"]*)"', page))),
            "images (base64)": sum(map(len, re.findall(r'base64,([^"]*)"', page)))}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-full", action="store_true", help="time --quick only")
    ap.add_argument("--skip-serial", action="store_true", help="no --workers 1 runs")
    a = ap.parse_args()
    print(f"{os.cpu_count()} cores")
    print(f"{'run':<26}{'seconds':>9}{'report.html MB':>16}{'figures MB':>12}")
    kinds = [("--quick", ["--quick"])] + ([] if a.skip_full else [("default", [])])
    with tempfile.TemporaryDirectory() as tmp:
        for label, args in kinds:
            times = {}
            for workers in (["default"] if a.skip_serial else ["default", "1"]):
                out = Path(tmp) / f"{label}-{workers}"
                extra = [] if workers == "default" else ["--workers", workers]
                times[workers] = run(args + extra, out)
                page = (out / "report.html").read_text()
                figs = sum(p.stat().st_size for p in (out / "figures").glob("*.png"))
                name = f"{label}, workers {workers}"
                print(f"{name:<26}{times[workers]:>9.1f}{len(page) / 1e6:>16.2f}{figs / 1e6:>12.2f}")
            if "1" in times:
                print(f"  {label}: the parts on {os.cpu_count()} cores run "
                      f"{times['1'] / times['default']:.2f}x faster than in one process")
            print("  page parts (MB): " + ", ".join(f"{k} {v / 1e6:.2f}"
                                                     for k, v in parts(page).items()))


if __name__ == "__main__":
    main()
