"""mae_gradient with sign(0) = +1."""
EXERCISE, FINDING = "mae_gradient", "the wrong branch at the kink"
import numpy as np


def mae_gradient(y_true, y_pred):
    e = np.asarray(y_pred, float) - np.asarray(y_true, float)
    return np.where(e >= 0, 1.0, -1.0) / e.size
