"""The core: the contract (``Loss``), its one evaluation pipeline (``PreparedLoss``), the registry,
input validation, stable numerics and the exports. Every other package of losslab imports the core
through the names below, never its private modules.

``losses/`` implements the catalogue on it; nothing in the core imports anything else of losslab.
"""

from . import _arrays as arrays
from . import _math as numerics
from . import _validation as validation
from ._base import Loss, LossInfo
from . import _html as html
from ._card import card_html, card_rows
from ._curves import Control, Probe, ProbeCurve, along
from ._export import BoostingObjective, boosting_objective, to_torch
from ._multi import MultiInputLoss
from ._prepared import PreparedLoss
from ._registry import UnknownLoss, aliases, get, loss_class, names, register

__all__ = ["Control", "Probe", "ProbeCurve", "along", "card_html", "card_rows", "html", "Loss", "LossInfo", "MultiInputLoss", "PreparedLoss", "BoostingObjective", "UnknownLoss",
           "aliases", "arrays", "boosting_objective", "get", "loss_class", "names", "numerics", "register",
           "to_torch", "validation"]
