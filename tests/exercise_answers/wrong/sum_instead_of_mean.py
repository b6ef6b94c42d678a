"""mse summed over the batch."""
EXERCISE, FINDING = "mse", "a sum instead of a mean"
import numpy as np


def mse(y_true, y_pred):
    return float(np.sum((np.asarray(y_pred, float) - np.asarray(y_true, float)) ** 2))
