"""mse_gradient that returns a number instead of an array."""
EXERCISE, FINDING = "mse_gradient", "returned shape ()"
import numpy as np


def mse_gradient(y_true, y_pred):
    return float(np.mean(2 * (np.asarray(y_pred, float) - np.asarray(y_true, float))))
