"""The catalogue. Importing this package registers every loss (see ``_core/_registry.py``).

Modules are grouped by task: ``regression`` (and ``robust``: pseudo-Huber, the redescending
losses, expectiles; ``deviance``: Tweedie and gamma with a log link), ``binary``,
``multiclass`` (multilabel included), ``embedding`` (similarity and ranking), ``overlap``
(segmentation), ``sequence`` (CTC).
"""

from . import (binary, deviance, embedding, multiclass, overlap, regression,  # noqa: F401
               robust, sequence)
