"""kl_div with the target and the prediction exchanged."""
EXERCISE, FINDING = "kl_div", "exchanged"
import numpy as np


def kl_div(y_true, y_pred):
    q, t = np.asarray(y_true, float), np.clip(np.asarray(y_pred, float), 1e-12, 1)
    terms = np.where(t > 0, t * (np.log(t) - np.log(np.clip(q, 1e-300, 1))), 0.0)
    return float(np.mean(terms.sum(axis=1)))
