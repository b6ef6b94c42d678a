"""ll.train: convergence to closed forms, reproducibility, batching, early stopping, divergence,
and every bad input rejected before the first step."""

from __future__ import annotations

import numpy as np
import pytest

import losslab as ll
from losslab import optim
from losslab.models import MLP, Linear, Logistic, Softmax


@pytest.fixture
def regression(rng):
    X = rng.normal(size=(80, 3))
    y = X @ np.array([1.5, -2.0, 0.5]) + 0.7 + 0.1 * rng.normal(size=80)
    return X, y


def test_mse_gradient_descent_reaches_least_squares(regression):
    # Oracle: numpy.linalg.lstsq (closed form). Full-batch GD on a well-conditioned problem;
    # 1e-8 absolute on the coefficients after convergence by the tol rule.
    X, y = regression
    model = Linear(3)
    hist = ll.train(model, "mse", X, y, optimizer=optim.GradientDescent(0.2), epochs=5000,
                    tol=1e-15, patience=5)
    A = np.column_stack([X, np.ones(len(X))])
    coef = np.linalg.lstsq(A, y, rcond=None)[0]
    np.testing.assert_allclose(model.ravel(), coef, atol=1e-8)
    assert hist.converged and hist.epochs < 5000
    assert hist.loss[0] == pytest.approx(np.mean(y ** 2), rel=1e-14)  # epoch 0: zero parameters


def test_course_worked_example_gradient_descent():
    # The course's worked example (1000 steps of GD, lr 0.01). Oracle: the course's loop, written
    # out here; the printed "w ~ 0.6, b ~ 2.2" is the optimum it approaches, not where it stops.
    X = np.array([1, 2, 3, 4, 5], dtype=float)
    y = np.array([2, 4, 5, 4, 5], dtype=float)
    w = b = 0.0
    for _ in range(1000):
        res = y - (w * X + b)
        w, b = w + 0.01 * (2 / 5) * (res @ X), b + 0.01 * (2 / 5) * res.sum()
    model = Linear(1)
    ll.train(model, "mse", X[:, None], y, optimizer=optim.GradientDescent(0.01), epochs=1000)
    np.testing.assert_allclose(model.ravel(), [w, b], rtol=1e-12)
    assert (round(w, 3), round(b, 3)) == (0.618, 2.136)


def test_batch_sizes_count_steps(regression):
    X, y = regression
    for batch_size, steps in ((None, 3), (1, 240), (32, 9), (1000, 3)):
        hist = ll.train(Linear(3), "mse", X, y, optimizer="gd", epochs=3, batch_size=batch_size)
        assert hist.steps == steps and len(hist.step_loss) == steps
        assert len(hist.loss) == 4  # epoch 0 and three epochs


def test_reproducible_for_a_seed(regression):
    X, y = regression
    runs = [ll.train(MLP(3, (8,), seed=2), "huber", X, y, optimizer="adam", epochs=5,
                     batch_size=8, seed=s, record="step") for s in (0, 0, 1)]
    np.testing.assert_array_equal(runs[0].trajectory, runs[1].trajectory)
    assert runs[0].loss == runs[1].loss
    assert not np.array_equal(runs[0].trajectory, runs[2].trajectory)
    assert runs[0].trajectory.shape == (runs[0].steps + 1, MLP(3, (8,)).n_params)


def test_integer_weights_equal_repeated_samples(regression, rng):
    # Full-batch training with weight 2 on a sample equals training with that sample twice.
    X, y = regression
    w = rng.integers(0, 3, size=len(y)).astype(float)
    rep = np.repeat(np.arange(len(y)), w.astype(int))
    a, b = Linear(3), Linear(3)
    ll.train(a, "log_cosh", X, y, sample_weight=w, optimizer="adam", epochs=30)
    ll.train(b, "log_cosh", X[rep], y[rep], optimizer="adam", epochs=30)
    np.testing.assert_allclose(a.ravel(), b.ravel(), rtol=1e-12)


def test_early_stopping_keeps_the_best_epoch(rng):
    # An MLP that overfits a tiny noisy training set: validation loss turns up; the kept
    # parameters are those of the best validation epoch.
    X = rng.normal(size=(20, 2))
    y = rng.normal(size=20)
    Xv, yv = rng.normal(size=(200, 2)), rng.normal(size=200)
    model = MLP(2, (64, 64), seed=0)
    hist = ll.train(model, "mse", X, y, optimizer=optim.Adam(0.01), epochs=500,
                    validation_data=(Xv, yv), early_stopping=True, patience=20, record="epoch")
    assert hist.stopped_early and hist.epochs < 500
    assert hist.best_epoch == int(np.argmin(hist.val_loss[1:])) + 1
    np.testing.assert_array_equal(model.ravel(), hist.trajectory[hist.best_epoch])
    assert len(hist.val_loss) == hist.epochs + 1


def test_metrics_are_scikit_learn(rng):
    from sklearn.metrics import average_precision_score, f1_score, r2_score

    X = rng.normal(size=(200, 2))
    y = (X[:, 0] + 0.5 * rng.normal(size=200) > 0).astype(float)
    model = Logistic(2)
    hist = ll.train(model, ll.get("bce", from_logits=True), X, y, epochs=20, optimizer="adam",
                    metrics=("f1", "average_precision", "accuracy"), validation_data=(X[:50], y[:50]))
    scores = model.scores(X)
    assert hist.metrics["f1"][-1] == f1_score(y, scores > 0)
    assert hist.metrics["average_precision"][-1] == average_precision_score(y, scores)
    assert hist.val_metrics["accuracy"][-1] == np.mean((scores[:50] > 0) == y[:50])
    Xr = rng.normal(size=(50, 2))
    yr = Xr @ [1.0, 2.0]
    m = Linear(2)
    h = ll.train(m, "mse", Xr, yr, epochs=10, metrics=("r2",))
    assert h.metrics["r2"][-1] == r2_score(yr, m.forward(Xr))


def test_multiclass_softmax_learns_blobs(rng):
    from sklearn.datasets import make_blobs

    X, y = make_blobs(300, centers=3, random_state=0)
    model = Softmax(2, 3)
    hist = ll.train(model, ll.get("sparse_cce", from_logits=True), X, y, optimizer=optim.Adam(0.1),
                    epochs=100, metrics=("accuracy", "roc_auc", "f1"))
    assert hist.metrics["accuracy"][-1] > 0.9
    assert hist.loss[-1] < hist.loss[0]


def test_divergence_stops_with_the_step(regression):
    X, y = regression
    model = Linear(3)
    before = model.ravel()
    with pytest.raises(ll.DivergenceError, match=r"training diverged at step \d+ \(epoch \d+\)") as e:
        ll.train(model, "mse", X * 100, y, optimizer=optim.GradientDescent(1.0), epochs=100)
    assert e.value.step >= 1 and len(e.value.history.step_loss) == e.value.step
    assert np.all(np.isfinite(e.value.history.step_loss))
    np.testing.assert_array_equal(model.ravel(), before)


def _bad(match, exc=ValueError, **kw):
    return pytest.param(kw, exc, match, id=match[:40])


@pytest.mark.parametrize("kw,exc,match", [
    _bad("X and y must have the same number of samples: X has 10, y has 9", y=np.zeros(9)),
    _bad(r"X must be finite; 1 of 30 values are NaN or infinite", X="nan"),
    _bad(r"y must be finite; 1 of 10 values are NaN or infinite", y="nan"),
    _bad("lr must be > 0, got -0.1", optimizer="negative"),
    _bad("batch_size must be >= 1, got 0", batch_size=0),
    _bad("X must have at least one sample", X="empty"),
    _bad("y must hold real numbers, got dtype <U1: encode class labels", TypeError, y=np.array(["a", "b"] * 5)),
    _bad("epochs must be >= 1", epochs=0),
    _bad("early_stopping=True needs validation_data", early_stopping=True),
    _bad("metric 'r2' does not apply to a binary problem", loss="bce", metrics=("r2",)),
    _bad("sample_weight must be >= 0; 1 of 10 values are negative", sample_weight="negative"),
])
def test_bad_input_is_rejected_before_training(kw, exc, match):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(10, 3))
    y = (rng.normal(size=10) > 0).astype(float)
    if kw.get("X") == "nan":
        X[2, 1] = np.nan
    if kw.get("X") == "empty":
        X, kw["y"] = X[:0], y[:0]
    if isinstance(kw.get("y"), str):
        y = y.copy()
        y[4] = np.nan
        kw.pop("y")
    if kw.get("optimizer") == "negative":
        kw["optimizer"] = optim.Adam(0.1)
        with pytest.raises(exc, match=match):
            optim.Adam(-0.1)
        return
    if kw.get("sample_weight") == "negative":
        kw["sample_weight"] = np.ones(10)
        kw["sample_weight"][3] = -1
    kw.pop("X", None)
    loss = kw.pop("loss", "mse")
    with pytest.raises(exc, match=match):
        ll.train(Linear(3), loss, X, kw.pop("y", y), epochs=kw.pop("epochs", 2), **kw)


def test_losses_that_do_not_fit_are_named(rng):
    X = rng.normal(size=(10, 2))
    labels = rng.integers(0, 3, size=10)
    with pytest.raises(ValueError, match=r"y must have shape \(10, 3\), got \(10,\); y looks like "
                                         "class labels: one-hot encode it"):
        ll.train(Softmax(2, 3), "mse", X, labels)
    with pytest.raises(TypeError, match=r"triplet takes 3 inputs"):
        ll.train(Linear(2), "triplet", X, labels)
    with pytest.raises(ValueError, match="sparse_cce compares class indices with one score per "
                                         "class; the model has 1 output"):
        ll.train(Linear(2), "sparse_cce", X, labels)
    with pytest.raises(ValueError, match=r"y does not fit loss 'bce': y_true must be in \[0, 1\]"):
        ll.train(Logistic(2), "bce", X, labels * 2.0)


def test_progress_bar_can_be_forced(regression, capsys):
    X, y = regression
    hist = ll.train(Linear(3), "mse", X, y, epochs=3, progress=True)
    assert hist.epochs == 3  # rich draws on standard error and removes the bar when done
