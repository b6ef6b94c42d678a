"""Training: ``train`` fits a model with any loss and optimiser and returns its ``History``."""

from ._train import DivergenceError, History, check_data, check_targets, resolve_loss, train

__all__ = ["DivergenceError", "History", "check_data", "check_targets", "resolve_loss", "train"]
