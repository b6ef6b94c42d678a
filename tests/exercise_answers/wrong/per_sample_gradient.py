"""mse_gradient of each sample's loss, not of the mean."""
EXERCISE, FINDING = "mse_gradient", "the gradient of the per-sample loss"
import numpy as np


def mse_gradient(y_true, y_pred):
    return 2 * (np.asarray(y_pred, float) - np.asarray(y_true, float))
