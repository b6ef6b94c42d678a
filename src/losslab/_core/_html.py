"""Small HTML pieces for notebooks (``_repr_html_``) and pages: escaped tables, formulas as
MathML (which browsers and Jupyter render natively, no script), and matplotlib figures as
inline images. Every object losslab returns that has a picture or a table renders with these."""

from __future__ import annotations

import base64
import html as _html
import io

__all__ = ["escape", "table", "figure", "mathml", "section"]

STYLE = ("<style>.losslab table{border-collapse:collapse;font-size:0.9em}"
         ".losslab th,.losslab td{border-bottom:1px solid #ddd;padding:2px 8px;"
         "text-align:left;vertical-align:top}.losslab td.n{text-align:right;"
         "font-variant-numeric:tabular-nums}</style>")


def escape(value) -> str:
    return _html.escape(str(value))


def _cell(v):
    if isinstance(v, float):
        return f'<td class="n">{v + 0.0:.6g}</td>'
    if isinstance(v, int) and not isinstance(v, bool):
        return f'<td class="n">{v}</td>'
    return f"<td>{escape(v)}</td>"


def table(rows, columns=None, max_rows: int = 40) -> str:
    """Rows (dicts, or sequences with ``columns``) as an HTML table; rows past ``max_rows``
    are counted in a last line."""
    rows = list(rows)
    if columns is None:
        columns = list(rows[0]) if rows and isinstance(rows[0], dict) else []
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = []
    for r in rows[:max_rows]:
        cells = [r.get(c, "") for c in columns] if isinstance(r, dict) else list(r)
        body.append("<tr>" + "".join(_cell(v) for v in cells) + "</tr>")
    more = (f"<p>... {len(rows) - max_rows} more rows</p>" if len(rows) > max_rows else "")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{more}"


def figure(fig, dpi: int = 80) -> str:
    """A matplotlib figure as an inline PNG ``<img>``."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="figure" src="data:image/png;base64,{data}"/>'


def mathml(tex: str) -> str:
    """LaTeX as MathML (latex2mathml)."""
    from latex2mathml.converter import convert

    return convert(tex)


def section(title: str, *parts: str) -> str:
    """One self-styled block: a title and its parts."""
    return f'<div class="losslab">{STYLE}<h4>{escape(title)}</h4>{"".join(parts)}</div>'
