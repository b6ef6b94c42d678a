"""bce_logits that squashes the logits first, then uses the logit formula."""
EXERCISE, FINDING = "bce_logits", "a sigmoid applied twice"
import numpy as np


def bce_logits(y_true, y_pred):
    y = np.asarray(y_true, float)
    z = 1 / (1 + np.exp(-np.clip(np.asarray(y_pred, float), -500, 500)))
    return float(np.mean(y * np.log1p(np.exp(-z)) + (1 - y) * np.log1p(np.exp(z))))
