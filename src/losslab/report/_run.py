"""``losslab report``: the whole lab in one run, written as one self-contained HTML file, a JSON
of every number it shows, and the PNG figures.

Sections follow the course's chapter: the loss zoo (verification and cards), regression losses
and outliers, classification and imbalance, asymmetric business losses, optimisers, the cost
landscape and its critical points, neural-network landscapes (with PyTorch; the report says so
when it is missing), how to choose (the advisor on the demonstration tables). Every number and
sentence comes from this run. Files are written under a temporary name and renamed into place,
so an interrupted run leaves no half-written file under a final name.
"""

from __future__ import annotations

import base64
import html
import io
import json
import platform
import time
from pathlib import Path

import numpy as np

from .._core import names
from .._io import write_atomic
from .._io import json_types

__all__ = ["build_report"]


class _Doc:
    """The HTML document, its figures and its numbers, built section by section."""

    def __init__(self, out: Path, interactive: bool):
        self.out, self.parts, self.numbers, self.toc = out, [], {}, []
        self.figdir = out / "figures"
        self.figdir.mkdir(parents=True, exist_ok=True)
        self.interactive = interactive
        self.n_figures = 0

    def section(self, key, title, intro=""):
        self.toc.append((key, title))
        self.parts.append(f'<h2 id="{key}">{html.escape(title)}</h2>')
        if intro:
            self.parts.append(f"<p>{html.escape(intro)}</p>")

    def h3(self, title):
        self.parts.append(f"<h3>{html.escape(title)}</h3>")

    def para(self, text):
        self.parts.append(f"<p>{html.escape(text)}</p>")

    def claims(self, claims):
        self.parts.append("<ul>" + "".join(f"<li>{html.escape(c)}</li>" for c in claims) + "</ul>")

    def figure(self, fig, name, caption=""):
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=90)
        data = buf.getvalue()
        write_atomic(self.figdir / f"{name}.png", data)
        self.n_figures += 1
        b64 = base64.b64encode(data).decode()
        self.parts.append(f'<figure><img alt="{html.escape(name)}" src="data:image/png;base64,'
                          f'{b64}"><figcaption>{html.escape(caption)}</figcaption></figure>')

    def plotly(self, fig):
        if self.interactive:
            self.parts.append('<div class="interactive">' + fig.to_html(
                full_html=False, include_plotlyjs=False) + "</div>")

    def table(self, rows, columns=None, max_rows=60):
        if not rows:
            return
        columns = columns or list(rows[0])
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(_fmt(r.get(c)))}</td>" for c in columns)
                       + "</tr>" for r in rows[:max_rows])
        more = f"<p>({len(rows) - max_rows} more rows in the JSON)</p>" if len(rows) > max_rows else ""
        self.parts.append(f"<table><tr>{head}</tr>{body}</table>{more}")

    def details(self, summary, inner_parts):
        self.parts.append(f"<details><summary>{html.escape(summary)}</summary>")
        self.parts.extend(inner_parts)
        self.parts.append("</details>")

    def render(self, title, meta) -> str:
        js = ""
        if self.interactive:
            from plotly.offline import get_plotlyjs

            js = f"<script>{get_plotlyjs()}</script>"
        toc = "".join(f'<li><a href="#{k}">{html.escape(t)}</a></li>' for k, t in self.toc)
        return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
                f"</title><style>{_CSS}</style>{js}</head><body><h1>{html.escape(title)}</h1>"
                f"<p class='meta'>{html.escape(meta)}</p><ol>{toc}</ol>{''.join(self.parts)}"
                "</body></html>")


_CSS = ("body{font-family:sans-serif;max-width:1150px;margin:auto;padding:1em;color:#222}"
        "table{border-collapse:collapse;font-size:12px;margin:0.5em 0}"
        "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}th{background:#eee}"
        "img{max-width:100%}figure{margin:0.5em 0}figcaption{font-size:12px;color:#555}"
        ".meta{color:#555;font-size:13px}li{margin:0.2em 0}h2{border-bottom:2px solid #ddd}")


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, dict):
        return ", ".join(f"{k}={_fmt(x)}" for k, x in v.items())
    if isinstance(v, (list, tuple)):
        return ", ".join(_fmt(x) for x in v)
    return "" if v is None else str(v)


def _lab(doc, name, seed, results):
    from .. import labs

    r = labs.run(name, seed=seed)
    results[name] = r.to_dict()
    doc.h3(f"{r.title} ({r.seconds:.1f} s)")
    doc.claims(r.claims)
    doc.figure(r.figure(), f"lab-{name}", r.title)
    for key, rows in r.tables.items():
        doc.details(f"table: {key} ({len(rows)} rows)", [])
        doc.parts.pop()  # the closing tag: the table goes inside
        doc.table(rows)
        doc.parts.append("</details>")
    return r


def build_report(out="losslab-report", *, quick: bool = False, seed: int = 0,
                 progress: bool = True) -> dict:
    """Run the lab and write ``report.html``, ``report.json`` and ``figures/*.png`` into
    ``out``; returns the paths and the seconds each part took."""
    from .. import verify
    from ..advisor import advise, demo_table
    from ..landscapes import cases as _cases
    from . import cards

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    doc = _Doc(out, interactive=True)
    timings, results = {}, {}
    try:
        import torch  # noqa: F401

        has_torch = True
    except ImportError:
        has_torch = False
    steps = ["verification", "gallery", "regression", "classification", "asymmetric",
             "optimizers", "landscapes", "neural", "advisor"]
    bar = None
    if progress:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        bar = Progress(TextColumn("{task.description:<16}"), BarColumn(),
                       TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                       transient=True)
        task = bar.add_task("report", total=len(steps))
        bar.start()

    def step(name):
        timings[name] = time.perf_counter()
        if bar is not None:
            bar.update(task, description=name)

    def done(name):
        timings[name] = time.perf_counter() - timings[name]
        if bar is not None:
            bar.advance(task)

    t_start = time.perf_counter()
    try:
        # 1. the loss zoo ------------------------------------------------------------------------
        step("verification")
        doc.section("zoo", "The loss zoo", f"{len(names())} losses, each with an analytic "
                    "gradient and hessian, checked in this run against PyTorch autograd and "
                    "central differences.")
        rep = verify(n_cases=20 if quick else 100, seed=seed)
        results["verification"] = rep.to_dict()
        worst = {k: max((getattr(r, k) or 0.0) for r in rep.rows)
                 for k in ("value_error", "gradient_error", "fd_gradient_error", "fd_hessian_error")}
        doc.para(f"{sum(r.ok for r in rep.rows)} of {len(rep.rows)} losses agree with their "
                 f"references ({rep.n_cases} random cases each; PyTorch "
                 f"{rep.torch_version or 'not installed: finite differences only'}). Worst "
                 f"relative errors: value {worst['value_error']:.1e}, gradient "
                 f"{worst['gradient_error']:.1e} against PyTorch; gradient "
                 f"{worst['fd_gradient_error']:.1e}, hessian {worst['fd_hessian_error']:.1e} "
                 "against central differences.")
        doc.table([{"loss": r.name, "oracle": r.oracle, "comparisons": r.comparisons,
                    "value": r.value_error, "gradient": r.gradient_error,
                    "fd gradient": r.fd_gradient_error, "fd hessian": r.fd_hessian_error,
                    "ok": "ok" if r.ok else "FAIL"} for r in rep.rows])
        done("verification")
        step("gallery")
        doc.h3("Gallery: every loss along its probe")
        doc.figure(cards.gallery_figure(), "gallery", "Value of each loss along one variable "
                   "(error, probability, score, angle or distance; see each card)")
        card_parts = []
        for name in names():
            rows = cards.card_rows(name)
            card_parts.append(f"<h4>{html.escape(name)}</h4><table>" + "".join(
                f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
                for k, v in rows) + "</table>")
            if not quick:
                fig = cards.card_figure(name)
                buf = io.BytesIO()
                fig.savefig(buf, format="png", dpi=70)
                write_atomic(doc.figdir / f"card-{name}.png", buf.getvalue())
                doc.n_figures += 1
                card_parts.append('<img src="data:image/png;base64,'
                                  + base64.b64encode(buf.getvalue()).decode() + '">')
        doc.details(f"the {len(names())} loss cards", card_parts)
        done("gallery")
        # 2-5. the labs ---------------------------------------------------------------------------
        labs_out = {}
        step("regression")
        doc.section("regression", "Regression losses and outliers")
        for name in ("gradients", "outliers"):
            _lab(doc, name, seed, labs_out)
        done("regression")
        step("classification")
        doc.section("classification", "Classification and imbalance")
        for name in ("mse_vs_ce", "imbalance"):
            _lab(doc, name, seed, labs_out)
        done("classification")
        step("asymmetric")
        doc.section("asymmetric", "Asymmetric business losses")
        _lab(doc, "asymmetric", seed, labs_out)
        done("asymmetric")
        step("optimizers")
        doc.section("optimizers", "Optimisers, scaling and honest evaluation")
        for name in ("optimizers", "scaling", "leakage"):
            _lab(doc, name, seed, labs_out)
        results["labs"] = labs_out
        done("optimizers")
        # 6. landscapes ---------------------------------------------------------------------------
        step("landscapes")
        doc.section("landscape", "The cost landscape and its critical points")
        land = {}
        cases = [_cases.course_case("mse", n=60 if quick else 100, seed=seed),
                 _cases.course_case("mae", n=60 if quick else 100, seed=seed)]
        cases += [_cases.surface_case(s, n=61 if quick else 121, seed=seed)
                  for s in ("double_well", "saddle", "monkey_saddle", "plateau", "rosenbrock")]
        for r in cases:
            land[r.name] = r.to_dict()
            doc.h3(r.title)
            doc.claims(r.claims)
            doc.figure(r.figure(), r.name, r.title)
            if r.name in ("landscape-course-mse", "landscape-double_well"):
                doc.plotly(r.curves["landscape"].plotly_figure(
                    paths=r.curves.get("paths"), title=r.title, log=r.curves.get("log", False)))
        results["landscapes"] = land
        done("landscapes")
        # 7. neural-network landscapes -----------------------------------------------------------
        step("neural")
        doc.section("neural", "Neural-network landscapes (Li et al.)")
        if has_torch:
            kw = {"n": 11, "depth": 6, "epochs": 200} if quick else {}
            r = _cases.skip_case(seed=seed, **kw)
            results["neural"] = r.to_dict()
            doc.claims(r.claims)
            doc.figure(r.figure(), r.name, r.title)
            doc.table(r.tables["networks"])
        else:
            results["neural"] = {"skipped": "PyTorch is not installed"}
            doc.para("PyTorch is not installed, so this section was not run: install the extra "
                     "(pip install 'losslab[torch]') and run the report again.")
        done("neural")
        # 8. how to choose -----------------------------------------------------------------------
        step("advisor")
        doc.section("choose", "How to choose: the advisor on three tables",
                    "For each table: what the target looks like, what the course's decision "
                    "guide says, and a cross-validated tournament of candidate losses.")
        adv = {}
        for demo in ("delivery", "fraud", "demand"):
            X, y, features, meta = demo_table(demo, n=1000 if quick else 3000, seed=seed)
            costs = meta["costs"] or (None, None)
            a = advise(X, y, cost_under=costs[0], cost_over=costs[1], cv=3 if quick else 5,
                       epochs=150 if quick else 300, seed=seed)
            adv[demo] = a.to_dict()
            doc.h3(f"{demo}: recommendation {a.recommendation} ({a.seconds:.1f} s)")
            doc.para("Decision guide: " + ", ".join(a.guide["losses"]) + ". "
                     + " ".join(a.guide["reasons"]))
            doc.para(a.agreement + " " + " ".join(a.notes) + ".")
            doc.table([{k: v for k, v in row.items() if k != "params"} for row in a.table])
        results["advisor"] = adv
        done("advisor")
    finally:
        if bar is not None:
            bar.stop()
    total = time.perf_counter() - t_start
    results["timings_seconds"] = {**timings, "total": total}
    results["settings"] = {"quick": quick, "seed": seed, "python": platform.python_version(),
                           "torch": has_torch}
    from .. import __version__

    meta = (f"losslab {__version__}, seed {seed}{', quick' if quick else ''}; run in "
            f"{total:.0f} s on Python {platform.python_version()}; every number below was "
            "computed in this run.")
    html_path, json_path = out / "report.html", out / "report.json"
    write_atomic(json_path, (json.dumps(json_types(results), indent=1, allow_nan=False) + "\n").encode())
    write_atomic(html_path, doc.render("losslab report", meta).encode())
    return {"html": html_path, "json": json_path, "figures": doc.figdir,
            "n_figures": doc.n_figures, "seconds": total, "timings": timings}
