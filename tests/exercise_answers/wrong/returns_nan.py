"""mse that returns NaN."""
EXERCISE, FINDING = "mse", "NaN or inf on"


def mse(y_true, y_pred):
    return float("nan")
