"""The advisor: which loss for this data? Inspection, the course's decision guide, and a
cross-validated tournament of candidate losses in the model families people deploy, with the
uncertainty of each comparison (``advise``)."""

from ._advise import Advice, advise, judge, recommendation_text, tied_with
from ._demos import DEMOS, demo_table
from ._inspect import decision_guide, detect_task, inspect_target
from ._table import TableError, read_csv

__all__ = ["Advice", "DEMOS", "TableError", "advise", "decision_guide", "demo_table",
           "judge", "recommendation_text", "tied_with",
           "detect_task", "inspect_target", "read_csv"]
