"""hinge_gradient taking the -y branch at a margin of exactly 1."""
EXERCISE, FINDING = "hinge_gradient", "the wrong branch at the kink"
import numpy as np


def hinge_gradient(y_true, y_pred):
    y, s = np.asarray(y_true, float), np.asarray(y_pred, float)
    return np.where(y * s <= 1, -y, 0.0) / s.size
