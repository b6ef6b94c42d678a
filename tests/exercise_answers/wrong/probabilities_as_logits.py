"""bce on probabilities that applies a sigmoid to them (treats them as logits)."""
EXERCISE, FINDING = "bce", "logits where probabilities are expected"
import numpy as np


def bce(y_true, y_pred):
    y, z = np.asarray(y_true, float), np.asarray(y_pred, float)
    return float(np.mean(y * np.log1p(np.exp(-z)) + (1 - y) * np.log1p(np.exp(z))))
