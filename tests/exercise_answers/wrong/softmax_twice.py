"""cce_logits that applies a softmax, then the cross-entropy that applies it again."""
EXERCISE, FINDING = "cce_logits", "softmax applied twice"
import numpy as np


def _log_softmax(z):
    m = z.max(axis=1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))


def cce_logits(y_true, y_pred):
    p = np.exp(_log_softmax(np.asarray(y_pred, float)))  # "probabilities" ...
    return float(np.mean(-(np.asarray(y_true) * _log_softmax(p)).sum(axis=1)))  # ... as logits
