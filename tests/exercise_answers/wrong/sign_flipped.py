"""mse_gradient with the residual the wrong way round."""
EXERCISE, FINDING = "mse_gradient", "sign flipped"
import numpy as np


def mse_gradient(y_true, y_pred):
    e = np.asarray(y_true, float) - np.asarray(y_pred, float)
    return 2 * e / e.size
