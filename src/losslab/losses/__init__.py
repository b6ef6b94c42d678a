"""The catalogue. Importing this package registers every loss (see ``_core/_registry.py``).

Modules are grouped by task: ``regression``, ``binary``, ``multiclass`` (multilabel included).
"""

from . import binary, multiclass, regression  # noqa: F401
