"""Shared fixtures: every test that takes ``case`` runs once per registered loss and setting.

The settings are the ones ``losslab verify`` uses (each loss class's ``verify_settings``), so a
loss joins every generic test by being registered.
"""

from __future__ import annotations

import numpy as np
import pytest

import losslab as ll


def _cases():
    out = []
    for name in ll.names():
        for params in ll.loss_class(name).verify_settings:
            pid = name + ("" if not params else "-" + ",".join(f"{k}={v}" for k, v in params.items()))
            out.append(pytest.param((name, params), id=pid))
    return out


CASES = _cases()


def as_tuple(g):
    """Derivatives as a tuple: one array per differentiable input (core losses return one array)."""
    return g if isinstance(g, tuple) else (g,)


def batch_axis(loss, k):
    """The batch axis of input k (0 unless the loss says otherwise, e.g. CTC's (T, N, C))."""
    return loss.info.batch_axes[loss.inputs[k]]


def wrt(loss):
    """Indices of the inputs the loss differentiates."""
    return [loss.inputs.index(n) for n in loss.differentiable]


def methods(loss):
    """The loss's evaluation methods that exist for it (no hessian where info.hessian is 'none')."""
    out = [loss.__call__, loss.gradient]
    if loss.info.hessian != "none":
        out.append(loss.hessian)
    return out


def cases_where(predicate):
    """The cases whose loss instance satisfies ``predicate`` (chosen by metadata, at collection)."""
    return [c for c in CASES if predicate(make(c.values[0]))]


@pytest.fixture(params=CASES)
def case(request):
    return request.param


@pytest.fixture
def rng():
    return np.random.default_rng(20261122)


def make(case):
    name, params = case
    return ll.get(name, **params)


@pytest.fixture(scope="session")
def chromium():
    """The path of Debian's chromium, with Playwright and Dash importable. Missing, the browser
    tests are skipped, except in CI (``CI=true``), where that is an error."""
    import os
    import shutil

    path = shutil.which("chromium") or shutil.which("chromium-browser")
    missing = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("playwright (pip)")
    try:
        import dash  # noqa: F401
    except ImportError:
        missing.append("dash (pip)")
    if path is None:
        missing.append("chromium (apt-get install chromium)")
    if missing:
        if os.environ.get("CI") == "true":
            raise RuntimeError("browser tests need " + ", ".join(missing))
        pytest.skip("browser tests need " + ", ".join(missing))
    return path


@pytest.fixture(scope="session")
def browser(chromium):
    """One headless chromium for the session's browser tests (closed at the end)."""
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    b = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
    try:
        yield b
    finally:
        b.close()
        pw.stop()


def non_white_share(page) -> float:
    """The share of non-white pixels in a full-page screenshot (a page with only its title
    has under 0.1 %)."""
    import io

    from PIL import Image

    img = np.asarray(Image.open(io.BytesIO(page.screenshot(full_page=True))).convert("L"))
    return float(np.mean(img < 200))
