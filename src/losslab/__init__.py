"""losslab: loss functions you can trust before you train with them.

Every loss has a value, an exact analytic gradient and hessian with respect to ``y_pred`` as
passed, metadata (``loss.info``), and a check against PyTorch and finite differences
(``losslab verify``).

>>> import losslab as ll
>>> loss = ll.get("huber", delta=1.5)
>>> float(loss([3.0], [5.0]))
1.875
"""

from ._core import Loss, LossInfo, MultiInputLoss, PreparedLoss, aliases, get, loss_class, names, register
from .losses import binary, embedding, multiclass, overlap, regression, sequence  # noqa: F401
from .compose import asymmetric, check_gradient, custom, weighted_sum
from . import models, optim  # noqa: E402  (NumPy only)
from .training import DivergenceError, History, train
from . import landscapes  # noqa: E402  (NumPy only; matplotlib, Plotly, torch on first use)
from .landscapes import landscape
from .advisor import advise  # noqa: E402  (scikit-learn is imported when it runs)

__version__ = "0.1.0"

__all__ = ["Loss", "LossInfo", "MultiInputLoss", "PreparedLoss", "asymmetric", "check_gradient", "custom",
           "weighted_sum", "aliases", "models", "optim", "train", "History", "DivergenceError",
           "LossRegressor", "LossClassifier", "labs", "landscape", "landscapes", "advise", "get", "loss_class", "names", "register", "verify",
           "__version__"]


def __getattr__(name):
    # ``losslab.verify`` imports the reference machinery (and PyTorch) only when asked for.
    if name == "verify":
        from .verification import verify

        return verify
    if name in ("LossRegressor", "LossClassifier"):  # scikit-learn is imported on first use
        from . import estimators

        return getattr(estimators, name)
    if name == "labs":
        import importlib

        return importlib.import_module(".labs", __name__)
    raise AttributeError(f"module 'losslab' has no attribute {name!r}")
