"""How fast ``losslab explore`` answers a slider, end to end in a real browser: the app started
as a user starts it, Debian's chromium (Playwright), a slider moved with the keyboard, and the
time until the page shows the new number (the callback's round trip, the loss computed by
losslab, the figure redrawn). Median and 90th percentile over repeated moves, per page.
Usage: python benchmarks/bench_explore.py [--moves 20] [--chromium /usr/bin/chromium]"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np

# page tab, slider, readout element, what changes in it (an attribute or its text), keys
PAGES = [
    ("Loss explorer", "loss-x", "#loss-values", "data-value", ("ArrowRight", "ArrowLeft")),
    ("Loss explorer", "loss-p0", "#loss-values", "data-value", ("ArrowRight", "ArrowLeft")),
    ("Regression playground", "reg-quantile", "#reg-values", "text", ("ArrowRight", "ArrowLeft")),
    ("Regression playground", "reg-outliers", "#reg-values", "data-mse-slope",
     ("ArrowRight", "ArrowLeft")),
    ("Classification playground", "cls-ratio", "#cls-values", "data-ap",
     ("ArrowRight", "ArrowLeft")),
    ("Classification playground", "cls-threshold", "#cls-values", "data-offsets",
     ("ArrowRight", "ArrowLeft")),
    ("Landscape", "land-lr", "#land-values", "data-final", ("ArrowRight", "ArrowLeft")),
    ("Landscape", "land-lr2", "#land-values", "data-final2", ("ArrowRight", "ArrowLeft")),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--moves", type=int, default=20)
    ap.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    a = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "losslab.cli", "explore", "--port", str(port),
                             "--no-browser"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    t0 = time.perf_counter()
    try:
        while True:
            try:
                urllib.request.urlopen(url, timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        print(f"served in {time.perf_counter() - t0:.1f} s")
        pw = sync_playwright().start()
        browser = pw.chromium.launch(executable_path=a.chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1200, "height": 1600})
        page.goto(url)
        page.wait_for_selector("#loss-values")
        print(f"{'page':<28}{'slider':<14}{'median ms':>10}{'p90 ms':>9}")
        worst = 0.0
        for tab, slider, sel, attr, keys in PAGES:
            page.get_by_text(tab, exact=True).click()
            page.wait_for_selector(sel)
            thumb = page.locator(f"#{slider} [role=slider]")
            times = []
            for i in range(a.moves):
                old = page.text_content(sel) if attr == "text" else page.get_attribute(sel, attr)
                thumb.focus()
                t = time.perf_counter()
                page.keyboard.press(keys[i % 2])
                page.wait_for_function(
                    "([s, a, o]) => { const e = document.querySelector(s); if (!e) return false; "
                    "return (a === 'text' ? e.textContent : e.getAttribute(a)) !== o; }",
                    arg=[sel, attr, old])
                times.append((time.perf_counter() - t) * 1e3)
            worst = max(worst, float(np.median(times)))
            print(f"{tab:<28}{slider:<14}{np.median(times):>10.0f}{np.percentile(times, 90):>9.0f}")
        print(f"slowest median {worst:.0f} ms: {'under' if worst < 200 else 'OVER'} the 200 ms "
              "a slider may take")
        browser.close()
        pw.stop()
    finally:
        proc.terminate()
        proc.wait(timeout=15)


if __name__ == "__main__":
    main()
