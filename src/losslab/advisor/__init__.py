"""The advisor: which loss for this data? Inspection, the course's decision guide, and a
cross-validated tournament of candidate losses (``advise``)."""

from ._advise import Advice, advise, decision_guide, inspect_target
from ._demos import DEMOS, demo_table
from ._table import TableError, read_csv

__all__ = ["Advice", "DEMOS", "TableError", "advise", "decision_guide", "demo_table",
           "inspect_target", "read_csv"]
