"""mse with the 1/2 some books put in front."""
EXERCISE, FINDING = "mse", "a factor 1/2"
import numpy as np


def mse(y_true, y_pred):
    return float(0.5 * np.mean((np.asarray(y_pred, float) - np.asarray(y_true, float)) ** 2))
