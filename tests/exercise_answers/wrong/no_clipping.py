"""bce without clipping: 0 * log(0) is NaN at p = 0 or 1."""
EXERCISE, FINDING = "bce", "forgetting epsilon"
import numpy as np


def bce(y_true, y_pred):
    y, p = np.asarray(y_true, float), np.asarray(y_pred, float)
    return float(np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p))))
