"""cce that sums over the samples (axis 0) instead of the classes."""
EXERCISE, FINDING = "cce", "the class sum over the wrong axis"
import numpy as np


def cce(y_true, y_pred):
    y, p = np.asarray(y_true, float), np.clip(np.asarray(y_pred, float), 1e-12, 1)
    return float(np.mean(-(y * np.log(p)).sum(axis=0)))
