"""``losslab explore`` in a real browser: Debian's chromium driven by Playwright. The app is
started as a user starts it (``losslab explore --port P --no-browser``, served within 10 s);
on each page a slider is moved with the keyboard and the number the page shows is checked
against an independent computation; every figure's axes have titles, a loss keeps its colour
on every panel, the default landscape converges, shared addresses restore their view, and the
classification page's boundaries differ. One screenshot per page is kept under the test run's
temporary folder (``explore-shots``).

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
    """One keyboard step of a slider. On a busy machine a key pressed while the page is still
    wiring the slider up can be lost: the press is repeated (up to 3 times) until the slider's
    value has moved, so that a test waits for the page's answer, never for a lost key."""
    thumb = page.locator(f"#{slider_id} [role=slider]")
    before = thumb.get_attribute("aria-valuenow")
    for _ in range(3):
        thumb.focus()
        page.keyboard.press(key)
        try:
            page.wait_for_function(
                "([s, o]) => document.querySelector(s).getAttribute('aria-valuenow') !== o",
                arg=[f"#{slider_id} [role=slider]", before], timeout=5_000)
            return
        except Exception:  # noqa: BLE001 - playwright's TimeoutError: press again
            continue
    raise AssertionError(f"the slider {slider_id} did not move")


def _wait_attr(page, selector, attr, old):
    page.wait_for_function(
        "([s, a, o]) => { const e = document.querySelector(s); return e && e.getAttribute(a) !== o; }",
        arg=[selector, attr, old])
    return float(page.get_attribute(selector, attr))


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


def test_the_app_imports_what_its_callbacks_need_before_serving():
    # Dash runs the first callback of every page at once, in threads; a package imported for
    # the first time by two threads at once (scikit-learn) fails with "partially initialized
    # module", which left two pages empty. Importing the app must import them all.
    pytest.importorskip("dash")
    code = ("import sys, losslab.explore; "
            "need = ['sklearn.base', 'sklearn.model_selection', 'sklearn.metrics', "
            "'losslab.estimators',"
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


# ---- reading the page ---------------------------------------------------------------------------
def _goto(page, server, query, ready):
    page.goto(server + query)
    page.wait_for_selector(ready)
    page.wait_for_load_state("networkidle")


def _figure(page, graph_id):
    """The traces and axes of a Plotly figure on the page, as drawn (its full layout)."""
    page.wait_for_function(
        "(id) => { const gd = document.querySelector('#' + id + ' .js-plotly-plot');"
        " return gd && gd.data && gd.data.length > 0 && gd._fullLayout; }", arg=graph_id)
    return page.evaluate("""(id) => {
        const gd = document.querySelector('#' + id + ' .js-plotly-plot');
        const fl = gd._fullLayout;
        const axes = Object.keys(fl).filter(k => /^[xy]axis\\d*$/.test(k)).map(k => ({
            name: k, title: (fl[k].title && fl[k].title.text) || '', range: fl[k].range}));
        const traces = gd._fullData.map(t => ({
            name: t.name, type: t.type, mode: t.mode || '', legendgroup: t.legendgroup || '',
            showlegend: t.showlegend, color: (t.line && t.line.color) || '',
            showscale: !!t.showscale,
            colorbar: (t.colorbar && t.colorbar.title && t.colorbar.title.text) || '',
            xaxis: t.xaxis || '', x: Array.from(t.x || []).slice(0, 400),
            y: Array.from(t.y || []).slice(0, 400)}));
        return {axes, traces};
    }""", graph_id)


PAGES = [("loss", "#loss-values", ["loss-graph", "focal-graph"]),
         ("regression", "#reg-values", ["reg-graph"]),
         ("classification", "#cls-values", ["cls-graph"]),
         ("landscape", "#land-values", ["land-graph"])]


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    return tmp_path_factory.mktemp("explore-shots")


@pytest.mark.parametrize("name,ready,graphs", PAGES, ids=[p[0] for p in PAGES])
def test_every_figure_has_axis_titles_and_colour_bars(page, server, shots, name, ready, graphs):
    _goto(page, server, f"?page={name}", ready)
    for graph in graphs:
        fig = _figure(page, graph)
        used = {t["xaxis"] for t in fig["traces"]} | {"x"}
        for ax in fig["axes"]:
            # every axis that carries a trace (x, x2, x3 and their y axes) says what it shows
            suffix = ax["name"][5:]
            if "x" + suffix in used:
                assert ax["title"].strip(), (graph, ax["name"])
        for t in fig["traces"]:
            if t["type"] in ("contour", "heatmap") and t["showscale"]:
                assert t["colorbar"].strip(), (graph, t["name"])
    # the page's picture, kept with the test run
    path = shots / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 20_000
    assert non_white_share(page) > 0.005  # a blank page with its title: under 0.1 %


def test_explore_offers_every_single_input_loss_with_its_named_controls(server):
    # the menu the server sends: every registered loss of (y_true, y_pred), none of the others
    with urllib.request.urlopen(server + "_dash-layout", timeout=10) as r:
        layout = json.loads(r.read())

    def find(node, id_):
        if isinstance(node, dict):
            if node.get("props", {}).get("id") == id_:
                return node
            for v in node.values():
                hit = find(v, id_)
                if hit:
                    return hit
        elif isinstance(node, list):
            for v in node:
                hit = find(v, id_)
                if hit:
                    return hit
        return None

    options = find(layout, "loss-name")["props"]["options"]
    offered = {o["value"] for o in options if not o.get("disabled")}
    expected = {n for n in ll.names() if ll.get(n).info.single_input}
    assert offered == expected and len(expected) >= 28
    headings = [o["label"] for o in options if o.get("disabled")]
    assert len(headings) == len({ll.get(n).info.task for n in expected})


@pytest.mark.parametrize("loss,labels", [("huber", ["delta"]), ("focal", ["gamma", "alpha"]),
                                         ("quantile", ["quantile"]),
                                         ("asymmetric_huber", ["under", "over", "delta"])])
def test_each_loss_shows_its_own_controls(page, server, loss, labels):
    _goto(page, server, f"?page=loss&loss={loss}", "#loss-values")
    page.wait_for_function("(l) => document.querySelector('#loss-values')"
                           ".getAttribute('data-loss') === l", arg=loss)
    shown = [page.text_content(f"#loss-p{i}-label") for i in range(len(labels))]
    assert shown == labels
    for i in range(len(labels), 3):
        assert not page.is_visible(f"#loss-p{i}-box")


def test_loss_explorer_shows_losslabs_value(page, server):
    _goto(page, server, "?page=loss&loss=huber&delta=1&x=2", "#loss-values")
    old = page.get_attribute("#loss-values", "data-value")
    assert float(old) == 1.5  # huber, delta 1, error 2
    _nudge(page, "loss-x")  # error 2 -> 2.2 (the axis's step is 0.2)
    shown = _wait_attr(page, "#loss-values", "data-value", old)
    # oracle: the closed form of Huber, delta (|e| - delta / 2) beyond delta
    assert shown == pytest.approx(1.0 * (2.2 - 0.5), rel=1e-12)


def test_a_loss_keeps_one_colour_on_every_panel(page, server):
    _goto(page, server, "?page=loss&loss=huber&delta=1&x=2&overlay=mse,mae,quantile",
          "#loss-values")
    fig = _figure(page, "loss-graph")
    lines = [t for t in fig["traces"] if t["name"] != "point x"]
    by_name = {}
    for t in lines:
        by_name.setdefault(t["name"], set()).add(t["color"])
    assert set(by_name) == {"huber", "mse", "mae", "quantile"}
    # one colour per loss across the value, slope and curvature panels, and no two alike
    assert all(len(c) == 1 for c in by_name.values()), by_name
    assert len({next(iter(c)) for c in by_name.values()}) == len(by_name)
    # each loss drawn on all three panels, with exactly one legend entry that names them all
    for n in by_name:
        traces = [t for t in lines if t["name"] == n]
        assert {t["xaxis"] for t in traces} == {"x", "x2", "x3"}
        assert sum(bool(t["showlegend"]) for t in traces) == 1
        assert {t["legendgroup"] for t in traces} == {n}


def test_overlays_stay_within_the_task_and_axis(page, server):
    # a classification loss is drawn along the score, so the regression overlays are dropped
    _goto(page, server, "?page=loss&loss=bce&overlay=mse,hinge", "#loss-values")
    page.wait_for_function("() => document.querySelector('#loss-values')"
                           ".getAttribute('data-loss') === 'bce'")
    fig = _figure(page, "loss-graph")
    names = {t["name"] for t in fig["traces"]} - {"point x"}
    assert names == {"bce", "hinge"}
    assert "score" in fig["axes"][0]["title"]
    # the readout never prints -0 (hinge at a margin of 2: value 0, slope 0)
    _goto(page, server, "?page=loss&loss=hinge&x=2", "#loss-values")
    page.wait_for_function("() => document.querySelector('#loss-values')"
                           ".getAttribute('data-loss') === 'hinge'")
    text = page.text_content("#loss-values")
    assert "slope 0," in text and "-0" not in text


def test_the_default_landscape_converges_and_shows_its_surface(page, server):
    _goto(page, server, "?page=landscape", "#land-values")
    assert json.loads(page.get_attribute("#land-values", "data-diverged")) == [False, False]
    fig = _figure(page, "land-graph")
    from losslab import landscapes as L
    from losslab import optim

    s = L.get_surface("double_well")
    (x0, x1), (y0, y1) = s.bounds
    xa = next(a for a in fig["axes"] if a["name"] == "xaxis")
    ya = next(a for a in fig["axes"] if a["name"] == "yaxis")
    assert xa["range"] == pytest.approx([x0, x1]) and ya["range"] == pytest.approx([y0, y1])
    # oracle: losslab's optimisers run here from the page's start: gradient descent settles in
    # the near well, momentum overshoots the saddle into the other one
    start = json.loads(page.get_attribute("#land-values", "data-start"))
    gd = optim.minimize(s.value_and_grad, start, optim.GradientDescent(0.05), steps=100)
    mom = optim.minimize(s.value_and_grad, start, optim.Momentum(0.05, momentum=0.9), steps=100)
    assert float(page.get_attribute("#land-values", "data-final")) == pytest.approx(
        float(gd.values[-1]), rel=1e-12)
    assert float(page.get_attribute("#land-values", "data-final2")) == pytest.approx(
        float(mom.values[-1]), rel=1e-12)
    assert np.sign(gd.points[-1][0]) != np.sign(mom.points[-1][0])
    # critical points: one legend entry per kind
    kinds = [t["name"] for t in fig["traces"] if t["name"] in ("minimum", "saddle")]
    assert sorted(kinds) == ["minimum", "saddle"]
    # momentum is not a control of gradient descent; for Adam the control is beta1
    assert page.get_attribute("#land-beta .dash-slider-root", "aria-disabled") == "true"
    assert page.get_attribute("#land-beta2 .dash-slider-root", "aria-disabled") != "true"
    assert page.text_content("#land-beta2-label") == "momentum"


def test_landscape_slider_answers_with_the_optimisers_path(page, server):
    from losslab import landscapes as L
    from losslab import optim

    _goto(page, server, "?page=landscape", "#land-values")
    old = page.get_attribute("#land-values", "data-final2")
    _nudge(page, "land-lr2", "ArrowLeft")  # lr 0.05 -> 0.049
    shown = _wait_attr(page, "#land-values", "data-final2", old)
    s = L.get_surface("double_well")
    start = json.loads(page.get_attribute("#land-values", "data-start"))
    path = optim.minimize(s.value_and_grad, start, optim.Momentum(0.049, momentum=0.9),
                          steps=100)
    assert shown == pytest.approx(float(path.values[-1]), rel=1e-12)


def test_a_divergence_is_a_message_with_the_path_clipped_to_the_view(page, server):
    _goto(page, server, "?page=landscape&surface=rosenbrock&optimizer=momentum&lr=0.05"
          "&momentum=0.9&optimizer2=adam&lr2=0.05&beta12=0.9", "#land-values")
    page.wait_for_function("() => document.querySelector('#land-values')"
                           ".textContent.includes('left the view')")
    assert json.loads(page.get_attribute("#land-values", "data-diverged"))[0] is True
    fig = _figure(page, "land-graph")
    xa = next(a for a in fig["axes"] if a["name"] == "xaxis")
    assert xa["range"] == pytest.approx([-2, 2])  # the view is kept, not stretched
    path = next(t for t in fig["traces"] if t["name"] == "A: momentum")
    # the path is drawn up to the first point outside the view, not to 1e10
    assert max(abs(v) for v in path["x"]) < 1e3 and len(path["x"]) <= 5
    assert "lower the learning rate" in page.text_content("#land-values")


def test_a_shared_address_restores_its_view(page, server):
    # the loss page: huber with delta 2 at an error of 2.5 -> delta (|e| - delta / 2) = 3
    _goto(page, server, "?page=loss&loss=huber&delta=2&x=2.5", "#loss-values")
    page.wait_for_function("() => document.querySelector('#loss-values')"
                           ".getAttribute('data-params') === '{\"delta\": 2.0}'")
    assert float(page.get_attribute("#loss-values", "data-value")) == pytest.approx(3.0,
                                                                                  rel=1e-15)
    # a move writes the address, and the link the page offers opens that same view
    old = page.get_attribute("#loss-values", "data-value")
    _nudge(page, "loss-p0")  # delta 2 -> 2.1
    _wait_attr(page, "#loss-values", "data-value", old)
    page.wait_for_function("() => window.location.search.includes('delta=2.1')")
    link = page.input_value("#share-link")
    assert link == page.url
    other = page.context.browser.new_page()
    try:
        other.goto(link)
        other.wait_for_function("() => { const e = document.querySelector('#loss-values');"
                                " return e && e.getAttribute('data-params') === "
                                "'{\"delta\": 2.1}'; }")
        # oracle: the closed form, delta 2.1 at e = 2.5: 2.1 (2.5 - 1.05)
        assert float(other.get_attribute("#loss-values", "data-value")) == pytest.approx(
            2.1 * (2.5 - 1.05), rel=1e-12)
    finally:
        other.close()
    # the landscape page, as the issue writes it: the tab, the optimiser and its beta1
    _goto(page, server, "?page=landscape&surface=saddle&optimizer=adam&lr=0.05", "#land-values")
    page.wait_for_function("() => document.querySelector('#land-graph .gtitle') && "
                           "document.querySelector('#land-graph .gtitle').textContent"
                           ".startsWith('saddle')")
    assert page.locator("#page .tab--selected").text_content() == "Landscape"
    assert page.text_content("#land-beta-label") == "beta1"
    assert "A: adam, lr 0.05, beta1 0.9" in page.text_content("#land-values")


def test_classification_boundaries_differ_and_match_scikit_learn(page, server):
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import average_precision_score

    from losslab.explore import classification_data

    _goto(page, server, "?page=classification", "#cls-values")
    offsets = json.loads(page.get_attribute("#cls-values", "data-offsets"))
    plain, weighted, focal = (offsets[k] for k in ("BCE", "BCE (class-weighted)", "focal"))
    # at the default (1:10, separation 2, p = 0.5) the three boundaries are apart by more than
    # 0.3 units, the width of a few points on the page
    assert min(abs(plain - weighted), abs(plain - focal), abs(weighted - focal)) > 0.3
    # oracle: scikit-learn's LogisticRegression with C = 1 (BCE with alpha = 1/n) and
    # class_weight {1: pos_weight} (pos_weight multiplies the positive term), on the page's data
    X_tr, X_te, y_tr, y_te = classification_data(10, 2.0)
    pw = float((y_tr == 0).sum() / (y_tr == 1).sum())
    for key, cw in (("BCE", None), ("BCE (class-weighted)", {0: 1.0, 1: pw})):
        ref = LogisticRegression(C=1.0, tol=1e-12, max_iter=10000, class_weight=cw)
        ref.fit(X_tr, y_tr)
        offset = -ref.intercept_[0] / np.linalg.norm(ref.coef_)
        assert offsets[key] == pytest.approx(offset, abs=1e-5), key
    ref = LogisticRegression(C=1.0, tol=1e-12, max_iter=10000).fit(X_tr, y_tr)
    ap = average_precision_score(y_te, ref.decision_function(X_te))
    assert float(page.get_attribute("#cls-values", "data-ap")) == pytest.approx(ap, abs=1e-6)
    text = page.text_content("#cls-values")
    assert "stratified half" in text and "Weighting each positive" in text
    fig = _figure(page, "cls-graph")
    assert sum(t["name"].endswith("boundary") for t in fig["traces"]) == 3


def test_the_card_of_a_loss_of_several_inputs_opens(page, server):
    _goto(page, server, "?page=loss", "#loss-values")
    href = page.get_attribute("#loss-others a:has-text('ctc')", "href")
    with urllib.request.urlopen(server.rstrip("/") + href, timeout=10) as r:
        body = r.read().decode()
    assert r.status == 200 and "<math" in body and "ctc" in body


# ---- the address, without a browser -------------------------------------------------------------
def test_every_page_state_survives_its_address():
    from losslab.explore import address, default_state, state_from_address

    base = default_state()
    cases = [
        {"page": "loss", "loss": "tversky", "params": {"alpha": 0.3, "beta": 0.7, "smooth": 1.0},
         "x": 0.5, "overlay": ["dice"]},
        {"page": "regression", "outliers": 7, "size": 45.0, "quantile": 0.85},
        {"page": "classification", "ratio": 25, "separation": 3.5, "gamma": 1.0,
         "alpha": 0.6, "threshold": 0.3},
        {"page": "landscape", "surface": "rosenbrock", "steps": 250, "optimizer": "adam",
         "lr": 0.02, "beta": 0.8, "optimizer2": "momentum", "lr2": 0.001, "beta2": 0.95,
         "start": [-1.5, 2.5]},
    ]
    for change in cases:
        st = {**base, **change}
        back = state_from_address(address(st), base)
        for key, value in change.items():
            assert back[key] == value, (change["page"], key, back[key], value)
        assert address(back) == address(st)


def test_a_bad_address_is_ignored_or_clamped_never_an_error():
    from losslab.explore import default_state, state_from_address

    base = default_state()
    st = state_from_address("?page=nope&loss=zzz&delta=abc&lr=99&steps=-5&surface=moon"
                            "&optimizer=sgd&x0=1e300&y0=nan&overlay=ctc", base)
    assert st["page"] == base["page"] and st["loss"] == base["loss"]
    assert st["params"] == {} and st["lr"] == 0.5 and st["steps"] == 10  # clamped into range
    assert st["surface"] == base["surface"] and st["optimizer"] == base["optimizer"]
    assert st["start"] == base["start"]  # y0 is not a number: the start is kept
    assert st["overlay"] == []  # ctc is no loss of huber's axis
    st = state_from_address("?page=loss&loss=focal&gamma=99", base)
    assert st["params"] == {"gamma": 5.0}  # focal's gamma control ends at 5


def test_a_click_on_the_surface_starts_both_optimisers_there(page, server):
    from losslab import landscapes as L
    from losslab import optim

    _goto(page, server, "?page=landscape", "#land-values")
    _figure(page, "land-graph")
    old = page.get_attribute("#land-values", "data-start")
    x, y = _pixel(page, "land-graph", 1.5, 1.2)  # away from both default paths
    page.mouse.click(x, y)
    page.wait_for_function("(o) => document.querySelector('#land-values')"
                           ".getAttribute('data-start') !== o", arg=old)
    start = json.loads(page.get_attribute("#land-values", "data-start"))
    # the click lands on the surface's grid (81 x 81 over the bounds): within one cell
    assert abs(start[0] - 1.5) < 0.05 and abs(start[1] - 1.2) < 0.05
    assert f"x0={start[0]:.6g}" in page.url
    # oracle: losslab's gradient descent run here from the new start
    s = L.get_surface("double_well")
    path = optim.minimize(s.value_and_grad, start, optim.GradientDescent(0.05), steps=100)
    page.wait_for_function("(v) => document.querySelector('#land-values')"
                           ".getAttribute('data-final') === v", arg=repr(float(path.values[-1])))


def test_an_address_without_a_point_puts_it_on_the_loss_axis():
    from losslab.explore import default_state, state_from_address

    # the default point (an error of 2) is off a probability axis: the point moves onto it
    st = state_from_address("?page=loss&loss=tversky", default_state())
    assert 0.02 <= st["x"] <= 0.98
    st = state_from_address("?page=loss&loss=dice&x=7", default_state())
    assert st["x"] == 0.98


def test_no_two_losses_of_a_task_share_a_colour():
    from losslab.explore import colour, grouped

    for task, names in grouped().items():
        colours = [colour(n) for n in names]
        assert len(set(colours)) == len(colours), task
