"""The catalogue. Importing this package registers every loss (see ``_core/_registry.py``).

Modules are grouped by task: ``regression``, ``binary``, ``multiclass`` (multilabel included),
``embedding`` (similarity and ranking), ``overlap`` (segmentation), ``sequence`` (CTC).
"""

from . import binary, embedding, multiclass, overlap, regression, sequence  # noqa: F401
