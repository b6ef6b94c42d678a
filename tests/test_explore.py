"""``losslab explore`` in a real browser: Debian's chromium driven by Playwright. The app is
started as a user starts it (``losslab explore --port P --no-browser``, served within 10 s);
on each page a slider is moved with the keyboard and the number the page shows is checked
against an independent computation; each page's screenshot must have content.

In CI (``CI=true``) a missing browser or Playwright is an error, not a skip.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest

import losslab as ll
from conftest import non_white_share

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def server(tmp_path_factory, chromium):
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
def page(server, browser):
    pg = browser.new_page(viewport={"width": 1200, "height": 1600})
    pg.set_default_timeout(60_000)
    try:
        pg.goto(server)
        pg.wait_for_selector("#loss-values")
        yield pg
    finally:
        pg.close()


def _nudge(page, slider_id, key="ArrowRight"):
    thumb = page.locator(f"#{slider_id} [role=slider]")
    thumb.focus()
    page.keyboard.press(key)


def _wait_attr(page, selector, attr, old):
    page.wait_for_function(
        "([s, a, o]) => { const e = document.querySelector(s); return e && e.getAttribute(a) !== o; }",
        arg=[selector, attr, old])
    return float(page.get_attribute(selector, attr))


def test_loss_explorer_shows_losslabs_value(page):
    page.get_by_text("Loss explorer", exact=True).click()
    old = page.get_attribute("#loss-values", "data-value")
    assert float(old) == 1.5  # huber, delta 1, error 2
    _nudge(page, "loss-x")  # error 2 -> 2.25
    shown = _wait_attr(page, "#loss-values", "data-value", old)
    # oracle: the closed form of Huber, delta (|e| - delta / 2) beyond delta
    assert shown == pytest.approx(1.0 * (2.25 - 0.5), rel=1e-15)
    assert float(ll.get("huber")([0.0], [2.25])) == shown
    assert non_white_share(page) > 0.005  # a blank page with its title: under 0.1 %


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
    assert non_white_share(page) > 0.005  # a blank page with its title: under 0.1 %


def _pixel(page, graph_id, x, y):
    """Page coordinates of the data point (x, y) on a Plotly graph."""
    return page.evaluate("""([id, x, y]) => {
        const gd = document.querySelector('#' + id + ' .js-plotly-plot');
        const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
        const r = gd.getBoundingClientRect();
        return [r.left + xa._offset + xa.l2p(x), r.top + ya._offset + ya.l2p(y)];
    }""", [graph_id, x, y])


def _points(page):
    return np.asarray(json.loads(page.get_attribute("#reg-values", "data-points")))


def test_regression_playground_points_can_be_dragged_and_added(page):
    page.get_by_text("Regression playground", exact=True).click()
    page.wait_for_selector("#reg-values")
    before = _points(page)
    # drag the first point (x = 0) down by 120 pixels
    px, py = _pixel(page, "reg-graph", *before[0])
    old = page.get_attribute("#reg-values", "data-mse-slope")
    page.mouse.move(px, py)
    page.mouse.down()
    page.mouse.move(px, py + 60, steps=5)
    page.mouse.move(px, py + 120, steps=5)
    page.mouse.up()
    shown = _wait_attr(page, "#reg-values", "data-mse-slope", old)
    after = _points(page)
    assert len(after) == len(before)
    np.testing.assert_array_equal(after[1:], before[1:])  # only the dragged point moved
    assert after[0, 1] < before[0, 1] - 3 and abs(after[0, 0] - before[0, 0]) < 0.2
    # oracle: NumPy least squares on the points the page shows
    assert shown == pytest.approx(np.polyfit(after[:, 0], after[:, 1], 1)[0], rel=1e-9)
    # a click on an empty place adds a point there (to the grid's resolution)
    cx, cy = _pixel(page, "reg-graph", 5.0, 45.0)
    old = page.get_attribute("#reg-values", "data-mse-slope")
    page.mouse.click(cx, cy)
    shown = _wait_attr(page, "#reg-values", "data-mse-slope", old)
    added = _points(page)
    assert len(added) == len(after) + 1
    assert abs(added[-1, 0] - 5.0) < 0.2 and abs(added[-1, 1] - 45.0) < 1.0
    assert shown == pytest.approx(np.polyfit(added[:, 0], added[:, 1], 1)[0], rel=1e-9)


def test_loss_explorer_draws_the_focal_family(page):
    page.get_by_text("Loss explorer", exact=True).click()
    page.wait_for_selector("#focal-values")
    shown = float(page.get_attribute("#focal-values", "data-easy"))
    # oracle: the closed form -(1 - p_t)^gamma log p_t at p_t = 0.9, gamma 2 (huber selected)
    assert shown == pytest.approx(-(0.1 ** 2) * np.log(0.9), rel=1e-12)
    assert page.locator("#focal-graph .scatterlayer .trace").count() == 5


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
    assert non_white_share(page) > 0.005  # a blank page with its title: under 0.1 %


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
    assert non_white_share(page) > 0.005  # a blank page with its title: under 0.1 %


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


@pytest.mark.timeout(60)
def test_the_console_shows_the_address_and_nothing_per_request(tmp_path):
    log_path = tmp_path / "console.log"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "losslab.cli", "explore", "--port",
                                 str(port), "--no-browser"], stdout=log, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}/"
            t0 = time.perf_counter()
            served = 0
            while served < 3 and time.perf_counter() - t0 < 30:
                try:
                    with urllib.request.urlopen(url, timeout=1) as r:
                        served += r.status == 200
                except OSError:
                    time.sleep(0.1)
            assert served == 3
        finally:
            proc.terminate()
            proc.wait(timeout=15)
    lines = [ln for ln in log_path.read_text(errors="replace").splitlines() if ln.strip()]
    # before: Flask's banner, werkzeug's development-server warning in raw ANSI codes, and one
    # "GET / HTTP/1.1" line per request
    assert lines == [f"losslab explore on http://127.0.0.1:{port}/ (Ctrl-C to stop)"], lines
