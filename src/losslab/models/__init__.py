"""NumPy models (linear, logistic, softmax, MLP) whose backward pass starts from any loss's gradient."""

from ._models import MLP, Linear, Logistic, Model, Softmax, apply_head, head_for

__all__ = ["MLP", "Linear", "Logistic", "Model", "Softmax", "apply_head", "head_for"]
