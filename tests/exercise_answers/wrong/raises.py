"""mse that raises."""
EXERCISE, FINDING = "mse", "raised ZeroDivisionError"


def mse(y_true, y_pred):
    return 1 / 0
