"""The result of a lab: every number it reports, its tables, its claims in words, its figure.

Everything in a result is computed by the lab in that run; ``save`` writes the figure (PNG) and
a JSON of every number, table and claim.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .._io import json_types


@dataclass
class LabResult:
    """name, title, seed; ``numbers`` (nested dict), ``tables`` (name -> list of row dicts),
    ``claims`` (sentences built from the numbers), ``setup`` (how it was run: data, models,
    optimisers, the convergence criterion), ``curves`` (the arrays the figure draws)."""

    name: str
    title: str
    seed: int
    numbers: dict = field(default_factory=dict)
    tables: dict = field(default_factory=dict)
    claims: list = field(default_factory=list)
    setup: dict = field(default_factory=dict)
    curves: dict = field(default_factory=dict, repr=False)
    _draw: object = field(default=None, repr=False)
    seconds: float = 0.0

    def figure(self):
        """The lab's figure (a ``matplotlib.figure.Figure``, no GUI backend needed)."""
        return self._draw(self)

    def _repr_html_(self) -> str:
        """In a notebook: the claims, the figure and the tables."""
        from .._core import html as H

        claims = "<ul>" + "".join(f"<li>{H.escape(c)}</li>" for c in self.claims) + "</ul>"
        tables = "".join(f"<h5>{H.escape(k)}</h5>" + H.table(v, max_rows=20)
                         for k, v in self.tables.items() if v and isinstance(v, list)
                         and isinstance(v[0], dict))
        return H.section(f"{self.title} (seed {self.seed})", claims, H.figure(self.figure()),
                         tables)

    def to_dict(self) -> dict:
        return json_types({"lab": self.name, "title": self.title, "seed": self.seed,
                       "seconds": self.seconds, "setup": self.setup, "claims": self.claims,
                       "numbers": self.numbers, "tables": self.tables})

    def save(self, out_dir) -> dict:
        """Write ``<name>.png`` and ``<name>.json`` into ``out_dir``; returns their paths."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        png, js = out / f"{self.name}.png", out / f"{self.name}.json"
        import io

        from .._io import write_atomic

        buf = io.BytesIO()
        self.figure().savefig(buf, format="png", dpi=110)
        write_atomic(png, buf.getvalue())
        write_atomic(js, (json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n").encode())
        return {"figure": png, "json": js}
