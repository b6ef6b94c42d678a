"""``losslab explore`` in a real browser: Debian's chromium driven by Playwright. The app is
started as a user starts it (``losslab explore --port P --no-browser``, served within 10 s);
on each page a slider is moved with the keyboard and the number the page shows is checked
against an independent computation; each page's screenshot must have content.

In CI (``CI=true``) a missing browser or Playwright is an error, not a skip.
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest

import losslab as ll

pytestmark = pytest.mark.timeout(300)


def _require():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    missing = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("playwright (pip)")
    try:
        import dash  # noqa: F401
    except ImportError:
        missing.append("dash (pip)")
    if chromium is None:
        missing.append("chromium (apt-get install chromium)")
    if missing:
        if os.environ.get("CI") == "true":
            raise RuntimeError("browser tests need " + ", ".join(missing))
        pytest.skip("browser tests need " + ", ".join(missing))
    return chromium


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    _require()
    log_path = tmp_path_factory.mktemp("explore") / "server.log"
    log = open(log_path, "wb")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "losslab.cli", "explore", "--port", str(port),
                             "--no-browser"], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    t0 = time.perf_counter()
    try:
        while True:
            try:
                with urllib.request.urlopen(url, timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.perf_counter() - t0 > 10 or proc.poll() is not None:
                raise AssertionError(f"losslab explore did not serve within 10 s: "
                                     f"{log_path.read_text(errors='replace')[-4000:]}")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        print(log_path.read_text(errors="replace")[-6000:])  # shown when a test fails


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    chromium = _require()
    pw = sync_playwright().start()
    browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
    pg = browser.new_page(viewport={"width": 1200, "height": 1600})
    pg.set_default_timeout(60_000)
    try:
        pg.goto(server)
        pg.wait_for_selector("#loss-values")
        yield pg
    finally:
        browser.close()
        pw.stop()


def _nudge(page, slider_id, key="ArrowRight"):
    thumb = page.locator(f"#{slider_id} [role=slider]")
    thumb.focus()
    page.keyboard.press(key)


def _wait_attr(page, selector, attr, old):
    page.wait_for_function(
        "([s, a, o]) => { const e = document.querySelector(s); return e && e.getAttribute(a) !== o; }",
        arg=[selector, attr, old])
    return float(page.get_attribute(selector, attr))


def _has_content(page):
    from PIL import Image

    img = np.asarray(Image.open(io.BytesIO(page.screenshot(full_page=True))).convert("L"))
    return float(np.mean(img < 200))  # share of non-white pixels


def test_loss_explorer_shows_losslabs_value(page):
    page.get_by_text("Loss explorer", exact=True).click()
    old = page.get_attribute("#loss-values", "data-value")
    assert float(old) == 1.5  # huber, delta 1, error 2
    _nudge(page, "loss-x")  # error 2 -> 2.25
    shown = _wait_attr(page, "#loss-values", "data-value", old)
    # oracle: the closed form of Huber, delta (|e| - delta / 2) beyond delta
    assert shown == pytest.approx(1.0 * (2.25 - 0.5), rel=1e-15)
    assert float(ll.get("huber")([0.0], [2.25])) == shown
    assert _has_content(page) > 0.005  # a blank page with its title: under 0.1 %


def test_regression_playground_fits_at_the_optimum(page):
    page.get_by_text("Regression playground", exact=True).click()
    page.wait_for_selector("#reg-values")
    old = page.get_attribute("#reg-values", "data-mse-slope")
    _nudge(page, "reg-outliers")  # 4 -> 5 outliers
    shown = _wait_attr(page, "#reg-values", "data-mse-slope", old)
    # oracle: NumPy least squares on the playground's data (40 points, seed 0, +30 outliers)
    rng = np.random.default_rng(0)
    x = np.linspace(0, 10, 40)
    y = 1.5 * x + 2 + rng.normal(0, 1.0, x.size)
    y[-5:] += 30.0
    slope = np.polyfit(x, y, 1)[0]
    assert shown == pytest.approx(slope, rel=1e-9)
    assert _has_content(page) > 0.005  # a blank page with its title: under 0.1 %


def test_classification_playground_reports_average_precision(page):
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import average_precision_score

    page.get_by_text("Classification playground", exact=True).click()
    page.wait_for_selector("#cls-values")
    old = page.get_attribute("#cls-values", "data-ap")
    _nudge(page, "cls-ratio")  # 10 -> 11 negatives per positive
    shown = _wait_attr(page, "#cls-values", "data-ap", old)
    # oracle: scikit-learn's LogisticRegression (C = 1, the same ridge as BCE with alpha = 1/n)
    # and its average_precision_score, on the playground's data
    X, y = make_classification(1500, 4, n_informative=3, n_redundant=0,
                               weights=[1 - 1 / 12], class_sep=0.8, random_state=0)
    ref = LogisticRegression(C=1.0, tol=1e-12, max_iter=10000).fit(X[:750], y[:750])
    ap = average_precision_score(y[750:], ref.decision_function(X[750:]))
    assert shown == pytest.approx(ap, abs=1e-6)
    assert _has_content(page) > 0.005  # a blank page with its title: under 0.1 %


def test_landscape_page_draws_the_optimisers_path(page):
    from losslab import landscapes as L
    from losslab import optim

    page.get_by_text("Landscape", exact=True).click()
    page.wait_for_selector("#land-values")
    old = page.get_attribute("#land-values", "data-final")
    _nudge(page, "land-lr", "ArrowLeft")  # lr 0.05 -> 0.04
    shown = _wait_attr(page, "#land-values", "data-final", old)
    # oracle: losslab's Momentum on the saddle from the page's start, run here
    s = L.get_surface("saddle")
    (x0, x1), (y0, y1) = s.bounds
    path = optim.minimize(s.value_and_grad, (x0 + 0.15 * (x1 - x0), y1 - 0.2 * (y1 - y0)),
                          optim.Momentum(0.04, momentum=0.9), steps=60)
    assert shown == pytest.approx(float(path.values[-1]), rel=1e-12)
    assert _has_content(page) > 0.005  # a blank page with its title: under 0.1 %


def test_the_app_imports_what_its_callbacks_need_before_serving():
    # Dash runs the first callback of every page at once, in threads; a package imported for
    # the first time by two threads at once (scikit-learn) fails with "partially initialized
    # module", which left two pages empty. Importing the app must import them all.
    pytest.importorskip("dash")
    code = ("import sys, losslab.explore; "
            "need = ['sklearn.base', 'sklearn.datasets', 'sklearn.metrics', 'losslab.estimators',"
            " 'losslab.optim', 'losslab.landscapes']; "
            "print([m for m in need if m not in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
