"""huber with e^2 (not 0.5 e^2) in the quadratic branch."""
EXERCISE, FINDING = "huber", "a missing factor 1/2 in the quadratic branch"
import numpy as np


def huber(y_true, y_pred, delta=1.0):
    e = np.abs(np.asarray(y_pred, float) - np.asarray(y_true, float))
    return float(np.mean(np.where(e <= delta, e ** 2, delta * (e - delta / 2))))
