"""The advisor's figures and its self-contained HTML page.

* Precision-recall curves, one panel per model family, one curve per candidate, from the
  out-of-fold scores of the first repeat (each row predicted once, by a model that did not see
  it); multiclass: micro-averaged over the classes. The prevalence is drawn as the chance line.
* Reliability diagrams: for each candidate that models probabilities, the observed frequency of
  the positive class (multiclass: of the top label) against the mean predicted probability in 10
  bins; the diagonal is perfect calibration.
"""

from __future__ import annotations

import base64
import html
import io

import numpy as np


def figures(advice) -> dict:
    """{name: matplotlib Figure} for a classification advice (empty for regression)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from sklearn.metrics import precision_recall_curve

    if advice.inspection["task"] == "regression" or not advice.oof:
        return {}
    y, classes = advice.oof_target, advice.classes
    onehot = (y[:, None] == classes[None, :]).astype(float)
    families = list(dict.fromkeys(r["family"] for r in advice.table))
    out = {}
    fig, axes = plt.subplots(1, len(families), figsize=(5 * len(families), 4), squeeze=False)
    for ax, fam in zip(axes[0], families):
        for row in (r for r in advice.table if r["family"] == fam):
            o = advice.oof[(fam, row["candidate"])]
            s = o["scores"]
            if len(classes) == 2:
                prec, rec, _ = precision_recall_curve(onehot[:, 1], s)
            else:
                prec, rec, _ = precision_recall_curve(onehot.ravel(), s.ravel())
            constant = np.ptp(s) == 0
            # steps, as scikit-learn's PrecisionRecallDisplay: between two thresholds precision
            # is not interpolated, so a constant score (one threshold) is the chance line, not a
            # segment from (0, 1) to (1, prevalence) above every other curve
            ax.plot(rec, prec, drawstyle="steps-post",
                    label=f"{row['candidate']} (AP {row['metrics']['average_precision']:.3f}"
                          + (", a constant score)" if constant else ")"))
        prevalence = onehot[:, 1].mean() if len(classes) == 2 else 1.0 / len(classes)
        ax.axhline(prevalence, color="grey", lw=0.8, ls="--", label="chance")
        ax.set(title=f"{fam}: precision-recall", xlabel="recall", ylabel="precision",
               xlim=(0, 1), ylim=(0, 1.02))
        ax.legend(fontsize=7)
    fig.tight_layout()
    out["precision_recall"] = fig
    fig, axes = plt.subplots(1, len(families), figsize=(5 * len(families), 4), squeeze=False)
    for ax, fam in zip(axes[0], families):
        ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--", label="perfect")
        for row in (r for r in advice.table if r["family"] == fam):
            p = advice.oof[(fam, row["candidate"])]["proba"]
            if p is None:
                continue
            if len(classes) == 2:
                conf, hit = p[:, 1], onehot[:, 1]
            else:
                top = np.argmax(p, axis=1)
                conf, hit = p[np.arange(len(top)), top], onehot[np.arange(len(top)), top]
            edges = np.linspace(0, 1, 11)
            idx = np.clip(np.digitize(conf, edges[1:-1]), 0, 9)
            xs = [conf[idx == b].mean() for b in range(10) if np.any(idx == b)]
            ys = [hit[idx == b].mean() for b in range(10) if np.any(idx == b)]
            ax.plot(xs, ys, marker="o", ms=3, label=row["candidate"])
        ax.set(title=f"{fam}: reliability", xlabel="mean predicted probability",
               ylabel="observed frequency", xlim=(0, 1), ylim=(0, 1))
        ax.legend(fontsize=7)
    fig.tight_layout()
    out["reliability"] = fig
    return out


def png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return buf.getvalue()


def html_page(advice, title="losslab advise") -> str:
    """A self-contained page: the inspection, the guide, the table and the figures inline."""
    import matplotlib.pyplot as plt

    e = html.escape
    info = advice.inspection
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{e(title)}</title>",
             "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}"
             "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;"
             "padding:3px 6px;text-align:right}td:first-child,td:nth-child(2){text-align:left}"
             "</style></head><body>", f"<h1>{e(title)}</h1>",
             f"<p>{info['rows']} rows, {info['features']} features; task <b>{e(info['task'])}</b>"
             f" (detected: {e(str(info['detected_task']))}, {e(info['detected_because'])}).</p>",
             f"<p>Decision guide: {e(', '.join(advice.guide['losses']))}. "
             f"{e(' '.join(advice.guide['reasons']))}</p>",
             f"<p><b>Recommendation: {e(advice.recommendation_text)}</b>. "
             f"{e(advice.agreement)}</p>", table_html(advice)]
    parts += [f"<p>{e(n)}</p>" for n in advice.notes]
    for name, fig in figures(advice).items():
        data = base64.b64encode(png(fig)).decode("ascii")
        parts.append(f"<h2>{e(name.replace('_', '-'))}</h2><img alt='{e(name)}' "
                     f"src='data:image/png;base64,{data}'>")
        plt.close(fig)
    parts.append("</body></html>")
    return "\n".join(parts)


def table_html(advice) -> str:
    import html as h

    cols = advice.columns()
    head = "".join(f"<th>{h.escape(c)}</th>" for c in cols)
    rows = "".join("<tr>" + "".join(f"<td>{h.escape(v)}</td>" for v in r) + "</tr>"
                   for r in advice.cells())
    return f"<table><tr>{head}</tr>{rows}</table>"
