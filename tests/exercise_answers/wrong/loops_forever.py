"""mse that never returns."""
EXERCISE, FINDING = "mse", "did not return within"


def mse(y_true, y_pred):
    while True:
        pass
