"""logistic written naively: exp overflows at extreme scores."""
EXERCISE, FINDING = "logistic", "not finite at extreme logits"
import numpy as np


def logistic(y_true, y_pred):
    y, s = np.asarray(y_true, float), np.asarray(y_pred, float)
    return float(np.mean(np.log(1 + np.exp(-y * s))))
