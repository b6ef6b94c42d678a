"""mse_gradient without the 2 of d(e^2)/de."""
EXERCISE, FINDING = "mse_gradient", "a missing factor 2"
import numpy as np


def mse_gradient(y_true, y_pred):
    e = np.asarray(y_pred, float) - np.asarray(y_true, float)
    return e / e.size
