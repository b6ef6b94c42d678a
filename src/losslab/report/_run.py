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
import io
import json
import os
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path

from .._core import names
from .._io import json_types, progress as progress_bar, write_atomic

__all__ = ["build_report"]

_CSS = ("body{font-family:sans-serif;max-width:1150px;margin:auto;padding:1em;color:#222}"
        "table{border-collapse:collapse;font-size:12px;margin:0.5em 0}"
        "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}th{background:#eee}"
        "img{max-width:100%}figure{margin:0.5em 0}figcaption{font-size:12px;color:#555}"
        ".meta{color:#555;font-size:13px}li{margin:0.2em 0}h2{border-bottom:2px solid #ddd}")


# ---- blocks: what a section holds (the template lays them out) -----------------------------------

def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, dict):
        return ", ".join(f"{k}={_fmt(x)}" for k, x in v.items())
    if isinstance(v, (list, tuple)):
        return ", ".join(_fmt(x) for x in v)
    return "" if v is None else str(v)


def _text(kind, text):
    return {"kind": kind, "text": text}


def _claims(items):
    return {"kind": "claims", "lines": list(items)}


def _table(rows, columns=None, max_rows=60):
    columns = columns or (list(rows[0]) if rows else [])
    return {"kind": "table", "columns": columns,
            "rows": [[_fmt(r.get(c)) for c in columns] for r in rows[:max_rows]],
            "more": max(0, len(rows) - max_rows)}


def _details(summary, blocks):
    return {"kind": "details", "summary": summary, "blocks": blocks}


@dataclass
class _Context:
    """What every section function gets: the settings, the figure writer and the numbers."""

    out: Path
    quick: bool
    seed: int
    has_torch: bool
    results: dict = field(default_factory=dict)
    n_figures: int = 0

    @property
    def figdir(self) -> Path:
        return self.out / "figures"

    def figure(self, fig, name, caption="", dpi=90):
        """Write ``figures/NAME.png`` and return the block that embeds it."""
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi)
        write_atomic(self.figdir / f"{name}.png", buf.getvalue())
        self.n_figures += 1
        return {"kind": "figure", "name": name, "caption": caption,
                "png": base64.b64encode(buf.getvalue()).decode()}


# ---- one function per part of the report -----------------------------------------------------

def _verification(ctx):
    from .. import verify

    rep = verify(n_cases=20 if ctx.quick else 100, seed=ctx.seed)
    ctx.results["verification"] = rep.to_dict()
    worst = {k: max((getattr(r, k) or 0.0) for r in rep.rows)
             for k in ("value_error", "gradient_error", "fd_gradient_error", "fd_hessian_error")}
    return [_text("para", f"{sum(r.ok for r in rep.rows)} of {len(rep.rows)} losses agree with "
                  f"their references ({rep.n_cases} random cases each; PyTorch "
                  f"{rep.torch_version or 'not installed: finite differences only'}). Worst "
                  f"relative errors: value {worst['value_error']:.1e}, gradient "
                  f"{worst['gradient_error']:.1e} against PyTorch; gradient "
                  f"{worst['fd_gradient_error']:.1e}, hessian {worst['fd_hessian_error']:.1e} "
                  "against central differences."),
            _table([{"loss": r.name, "oracle": r.oracle, "comparisons": r.comparisons,
                     "value": r.value_error, "gradient": r.gradient_error,
                     "fd gradient": r.fd_gradient_error, "fd hessian": r.fd_hessian_error,
                     "ok": "ok" if r.ok else "FAIL"} for r in rep.rows])]


def _gallery(ctx):
    from . import cards

    blocks = [_text("h3", "Gallery: every loss along its probe"),
              ctx.figure(cards.gallery_figure(), "gallery", "Value of each loss along one "
                         "variable (error, probability, score, angle or distance; see each card)")]
    card_blocks = []
    for name in names():
        card_blocks += [_text("h4", name), {"kind": "fields", "rows": cards.card_rows(name)}]
        if not ctx.quick:
            card_blocks.append(ctx.figure(cards.card_figure(name), f"card-{name}", dpi=70))
    return blocks + [_details(f"the {len(names())} loss cards", card_blocks)]


def _labs(*lab_names):
    def run(ctx):
        from .. import labs

        blocks = []
        for name in lab_names:
            r = labs.run(name, seed=ctx.seed)
            ctx.results.setdefault("labs", {})[name] = r.to_dict()
            blocks += [_text("h3", f"{r.title} ({r.seconds:.1f} s)"), _claims(r.claims),
                       ctx.figure(r.figure(), f"lab-{name}", r.title)]
            blocks += [_details(f"table: {key} ({len(rows)} rows)", [_table(rows)])
                       for key, rows in r.tables.items()]
        return blocks

    return run


def _landscapes(ctx):
    from ..landscapes import cases

    n, m = (60, 61) if ctx.quick else (100, 121)
    runs = [cases.course_case("mse", n=n, seed=ctx.seed), cases.course_case("mae", n=n, seed=ctx.seed)]
    runs += [cases.surface_case(s, n=m, seed=ctx.seed)
             for s in ("double_well", "saddle", "monkey_saddle", "plateau", "rosenbrock")]
    blocks, land = [], {}
    for r in runs:
        land[r.name] = r.to_dict()
        blocks += [_text("h3", r.title), _claims(r.claims), ctx.figure(r.figure(), r.name, r.title)]
        if r.name in ("landscape-course-mse", "landscape-double_well"):
            fig = r.curves["landscape"].plotly_figure(
                paths=r.curves.get("paths"), title=r.title, log=r.curves.get("log", False))
            blocks.append({"kind": "plotly",
                           "html": fig.to_html(full_html=False, include_plotlyjs=False)})
    ctx.results["landscapes"] = land
    return blocks


def _neural(ctx):
    if not ctx.has_torch:
        ctx.results["neural"] = {"skipped": "PyTorch is not installed"}
        return [_text("para", "PyTorch is not installed, so this section was not run: install "
                      "the extra (pip install 'losslab[torch]') and run the report again.")]
    from ..landscapes import cases

    r = cases.skip_case(seed=ctx.seed, **({"n": 11, "depth": 6, "epochs": 200} if ctx.quick else {}))
    ctx.results["neural"] = r.to_dict()
    return [_claims(r.claims), ctx.figure(r.figure(), r.name, r.title),
            _table(r.tables["networks"])]


def _advisor(ctx):
    import matplotlib.pyplot as plt

    from ..advisor import advise, demo_table

    blocks, adv = [], {}
    for demo in ("delivery", "fraud", "demand"):
        X, y, features, meta = demo_table(demo, n=1000 if ctx.quick else 3000, seed=ctx.seed)
        costs = meta["costs"] or (None, None)
        a = advise(X, y, cost_under=costs[0], cost_over=costs[1], cv=3 if ctx.quick else 5,
                   repeats=1 if ctx.quick else 2, seed=ctx.seed)
        adv[demo] = a.to_dict()
        columns = a.columns()
        blocks += [_text("h3", f"{demo}: recommendation {a.recommendation} "
                               f"({a.recommendation_family}, {a.seconds:.1f} s)"),
                   _text("para", "Decision guide: " + ", ".join(a.guide["losses"]) + ". "
                         + " ".join(a.guide["reasons"])),
                   _text("para", f"{a.agreement} (verdict: {a.verdict})"),
                   _table([dict(zip(columns, cells)) for cells in a.cells()], columns),
                   _claims(a.notes)]
        for name, fig in a.figures().items():
            blocks.append(ctx.figure(fig, f"advisor_{demo}_{name}",
                                     f"{demo}: {name.replace('_', '-')} per model family"))
            plt.close(fig)
    ctx.results["advisor"] = adv
    return blocks


# (step, section key, section title, section introduction, the part's function), in order
_SECTIONS = {
    "zoo": ("The loss zoo", "{n} losses, each with an analytic gradient and hessian, checked in "
            "this run against PyTorch autograd and central differences."),
    "regression": ("Regression losses and outliers", ""),
    "classification": ("Classification and imbalance", ""),
    "asymmetric": ("Asymmetric business losses", ""),
    "optimizers": ("Optimisers, scaling and honest evaluation", ""),
    "landscape": ("The cost landscape and its critical points", ""),
    "neural": ("Neural-network landscapes (Li et al.)", ""),
    "choose": ("How to choose: the advisor on three tables", "For each table: what the target "
               "looks like, what the course's decision guide says, and a repeated cross-validated "
               "tournament of candidate losses in the linear and boosted model families, with "
               "paired 95% intervals of each difference to the best."),
}
_STEPS = [
    ("verification", "zoo", _verification),
    ("gallery", "zoo", _gallery),
    ("regression", "regression", _labs("gradients", "outliers")),
    ("classification", "classification", _labs("mse_vs_ce", "imbalance")),
    ("asymmetric", "asymmetric", _labs("asymmetric")),
    ("optimizers", "optimizers", _labs("optimizers", "scaling", "leakage")),
    ("landscapes", "landscape", _landscapes),
    ("neural", "neural", _neural),
    ("advisor", "choose", _advisor),
]


def _render(sections, title, meta) -> str:
    import jinja2
    from plotly.offline import get_plotlyjs

    env = jinja2.Environment(loader=jinja2.PackageLoader("losslab.report", "templates"),
                             autoescape=True, trim_blocks=True, lstrip_blocks=True)
    return env.get_template("report.html.j2").render(
        title=title, meta=meta, css=_CSS, plotlyjs=get_plotlyjs(), sections=sections)


def build_report(out="losslab-report", *, quick: bool = False, seed: int = 0,
                 progress: bool = True, log=None) -> dict:
    """Run the lab and write ``report.html``, ``report.json`` and ``figures/*.png`` into
    ``out``; returns the paths and the seconds each part took. ``log(line)`` is told when each
    part finishes (the command line prints it when the output is not a terminal).

    Atomic as a whole: the report is built in a hidden folder beside ``out`` and swapped in at
    the end (``out`` is renamed aside, the new folder renamed into place, the old one removed),
    so an interrupted run leaves the previous complete report, or (killed between the two
    renames) nothing at ``out`` and the previous report beside it; never a mix of two runs."""
    import shutil
    import tempfile

    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in target.parent.glob(f".{target.name}.*"):  # left by an earlier interrupted run
        shutil.rmtree(stale, ignore_errors=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.build-", dir=target.parent))
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(work, 0o777 & ~mask)  # mkdtemp's 0700 would become the report folder's mode
    try:
        res = _build(work, quick, seed, progress, log)
        old = None
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            old.rmdir()
            target.rename(old)
        work.rename(target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    res.update(html=target / "report.html", json=target / "report.json",
               figures=target / "figures")
    return res


def _build(out, quick, seed, progress, log):
    (out / "figures").mkdir(parents=True, exist_ok=True)
    try:
        import torch  # noqa: F401

        has_torch = True
    except ImportError:
        has_torch = False
    ctx = _Context(out, quick, seed, has_torch)
    sections, timings = {}, {}
    t_start = time.perf_counter()
    with progress_bar(len(_STEPS), "report", enabled=progress) as bar:
        for step, key, part in _STEPS:
            bar.describe(step)
            t0 = time.perf_counter()
            if key not in sections:
                title, intro = _SECTIONS[key]
                sections[key] = {"key": key, "title": title,
                                 "intro": intro.format(n=len(names())), "blocks": []}
            sections[key]["blocks"] += part(ctx)
            timings[step] = time.perf_counter() - t0
            bar.advance()
            if log is not None:
                log(f"{step}: done in {timings[step]:.1f} s")
    total = time.perf_counter() - t_start
    results = ctx.results
    results["timings_seconds"] = {**timings, "total": total}
    results["settings"] = {"quick": quick, "seed": seed, "python": platform.python_version(),
                           "torch": has_torch}
    from .. import __version__

    meta = (f"losslab {__version__}, seed {seed}{', quick' if quick else ''}; run in "
            f"{total:.0f} s on Python {platform.python_version()}; every number below was "
            "computed in this run.")
    html_path, json_path = out / "report.html", out / "report.json"
    page = _render(list(sections.values()), "losslab report", meta)
    write_atomic(json_path, (json.dumps(json_types(results), indent=1, allow_nan=False) + "\n").encode())
    write_atomic(html_path, page.encode())
    return {"html": html_path, "json": json_path, "figures": ctx.figdir,
            "n_figures": ctx.n_figures, "seconds": total, "timings": timings}
