"""Properties that hold for every registered loss, read from its metadata (never its name)."""

import numpy as np
import pytest

import losslab as ll
from conftest import as_tuple, batch_axis, cases_where, make, methods, wrt
from losslab import MultiInputLoss

# ---------------------------------------------------------------------------------------------
# fused equals separate; reductions; weights
# ---------------------------------------------------------------------------------------------


def _per_sample(loss, k, s, ndim):
    """A per-sample vector shaped to broadcast against input k's derivative."""
    b = batch_axis(loss, k)
    return s.reshape((1,) * b + (-1,) + (1,) * (ndim - b - 1))


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_fused_equals_separate(case, reduction, rng):
    loss = make(case)
    inputs = loss.sample_inputs(rng, 12)
    w = rng.uniform(0.1, 2.0, size=loss.n_samples(*inputs))
    for sw in (None, w):
        v, g = loss.value_and_gradient(*inputs, sample_weight=sw, reduction=reduction)
        np.testing.assert_array_equal(v, loss(*inputs, sample_weight=sw, reduction=reduction))
        for a, b in zip(as_tuple(g), as_tuple(loss.gradient(*inputs, sample_weight=sw, reduction=reduction))):
            np.testing.assert_array_equal(a, b)


def _broadcast(w, like):
    return w.reshape((-1,) + (1,) * (np.ndim(like) - 1)) * np.ones_like(like)


def test_reductions_follow_the_contract(case, rng):
    # Oracle: the definitions, applied by hand to the unreduced values (float64, 1e-13).
    loss = make(case)
    inputs = loss.sample_inputs(rng, 10)
    w = rng.uniform(0.1, 2.0, size=loss.n_samples(*inputs))
    per = loss(*inputs, reduction="none")
    g_none = as_tuple(loss.gradient(*inputs, reduction="none"))
    h_none = as_tuple(loss.hessian(*inputs, reduction="none")) if len(methods(loss)) == 3 else ()
    rows_scale = not getattr(loss, "coupled", False)  # coupled losses: derivatives are not per row
    mask = loss.sample_mask(*inputs)
    keep = np.ones(per.shape[0]) if mask is None else np.asarray(mask, float)
    wb = _broadcast(w * keep, per)
    np.testing.assert_allclose(loss(*inputs, reduction="sum"), per.sum(), rtol=1e-13)
    np.testing.assert_allclose(loss(*inputs, sample_weight=w, reduction="sum"),
                               (per * wb).sum(), rtol=1e-13)
    if wb.sum() > 0:
        np.testing.assert_allclose(loss(*inputs, sample_weight=w, reduction="mean"),
                                   (per * wb).sum() / wb.sum(), rtol=1e-13)
        for g, gn, k in zip(as_tuple(loss.gradient(*inputs, sample_weight=w)) if rows_scale else (),
                            g_none, wrt(loss)):
            scale = (w * keep) / wb.sum()
            np.testing.assert_allclose(g, gn * _per_sample(loss, k, scale, gn.ndim),
                                       rtol=1e-13, atol=1e-300)
    if mask is None:
        np.testing.assert_allclose(loss(*inputs), per.mean(), rtol=1e-13)
        for g, gn in zip(as_tuple(loss.gradient(*inputs)), g_none):
            np.testing.assert_allclose(g, gn / per.size, rtol=1e-13, atol=1e-300)
        for h, hn in zip(as_tuple(loss.hessian(*inputs)) if h_none else (), h_none):
            np.testing.assert_allclose(h, hn / per.size, rtol=1e-13)


# Repeating a sample of a coupled loss changes the problem (copies become each other's positives).
@pytest.mark.parametrize("case", cases_where(lambda loss: not getattr(loss, "coupled", False)))
def test_integer_weights_equal_repeated_samples(case, rng):
    loss = make(case)
    inputs = loss.sample_inputs(rng, 6)
    counts = np.array([1, 2, 3, 1, 2, 1])[:loss.n_samples(*inputs)]
    repeated = [np.repeat(a, counts, axis=batch_axis(loss, k)) for k, a in enumerate(inputs)]
    for reduction in ("sum", "mean"):
        np.testing.assert_allclose(loss(*inputs, sample_weight=counts, reduction=reduction),
                                   loss(*repeated, reduction=reduction), rtol=1e-12)


def test_constant_weights_leave_the_mean_unchanged(case, rng):
    loss = make(case)
    inputs = loss.sample_inputs(rng, 8)
    np.testing.assert_allclose(loss(*inputs, sample_weight=np.full(loss.n_samples(*inputs), 3.5)), loss(*inputs),
                               rtol=1e-13)


def test_elementwise_weights_of_the_unreduced_shape(rng):
    loss = ll.get("huber")
    y_true, y_pred = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    w = rng.uniform(0.5, 1.5, size=(4, 3))
    np.testing.assert_allclose(loss(y_true, y_pred, sample_weight=w),
                               (w * loss(y_true, y_pred, reduction="none")).sum() / w.sum(),
                               rtol=1e-14)


# ---------------------------------------------------------------------------------------------
# a perfect prediction is a minimum
# ---------------------------------------------------------------------------------------------


def _perfect(loss, y_true):
    """The best prediction for y_true, from the loss's metadata (far out for unbounded ones)."""
    y_true = np.asarray(y_true, dtype=float)
    info = loss.info
    if info.task == "regression":
        if getattr(loss, "log_input", True) is False:
            return y_true - loss.eps  # argmin of r - y log(r + eps)
        if info.activation.startswith("exp"):  # y_pred is the log of the mean (a log link)
            return np.log(y_true)
        return y_true.copy()
    if loss.reduces_class_axis and y_true.ndim == 1:  # class indices -> one-hot rows
        y_true = np.eye(4)[y_true.astype(int)]
    if "logits" in info.activation or "score" in info.activation:
        if not loss.reduces_class_axis:
            y_true = np.where(y_true == -1, 0.0, y_true)
        return 30.0 * (2 * y_true - 1)  # the infimum is at infinity; e^-30 is close enough
    return y_true.copy()  # probabilities: the labels themselves


def _hard(loss, rng, n):
    y_true, _ = loss.sample_inputs(rng, n)
    y_true = np.asarray(y_true)
    if y_true.dtype.kind == "f" and loss.info.task != "regression":
        y_true = np.round(y_true)  # hard labels, where perfection is attainable
        if y_true.ndim == 2:
            y_true = np.eye(y_true.shape[1])[np.argmax(y_true, axis=1)]
    if hasattr(loss, "log_input") or loss.info.activation.startswith("exp"):
        y_true = y_true + 1.0  # positive targets: log(0) is no prediction, rate 0 a boundary
    return y_true


# Label smoothing moves the minimum inside the domain; poly1 with epsilon < 0 is unbounded below.
# Losses of several inputs have no single prediction to make perfect.
@pytest.mark.parametrize("case", cases_where(
    lambda loss: not getattr(loss, "label_smoothing", 0) and getattr(loss, "epsilon", 0) >= 0
    and not isinstance(loss, MultiInputLoss)))
def test_perfect_prediction_is_a_minimum(case, rng):
    loss = make(case)
    y_true = _hard(loss, rng, 8)
    best = _perfect(loss, y_true)
    v_best = float(loss(y_true, best))
    domain = loss.info.domains["y_pred"]
    for _ in range(20):
        other = best + rng.normal(0, 0.3, size=best.shape)
        if domain is not None:
            other = np.clip(other, domain.low if domain.low is not None else -np.inf,
                            domain.high if domain.high is not None else np.inf)
        assert float(loss(y_true, other)) >= v_best - 1e-12


# Classification minima lie on the boundary of [0, 1] or at infinite logits.
@pytest.mark.parametrize("case", cases_where(
    lambda loss: loss.info.task == "regression" and not isinstance(loss, MultiInputLoss)))
def test_regression_losses_are_stationary_at_a_perfect_prediction(case, rng):
    loss = make(case)
    y_true = _hard(loss, rng, 8)
    g = loss.gradient(y_true, _perfect(loss, y_true))
    np.testing.assert_allclose(g, 0.0, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# softmax shift invariance; float32 and float64
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", cases_where(
    lambda loss: "softmax" in loss.info.activation and getattr(loss, "from_logits", False)))
def test_softmax_losses_ignore_a_shift_of_all_logits(case, rng):
    loss = make(case)
    y_true, x = loss.sample_inputs(rng, 10)
    shift = rng.normal(0, 5, size=(10, 1))
    np.testing.assert_allclose(loss(y_true, x + shift, reduction="none"),
                               loss(y_true, x, reduction="none"), rtol=1e-12, atol=1e-14)
    g = loss.gradient(y_true, x, reduction="none")
    np.testing.assert_allclose(g, loss.gradient(y_true, x + shift, reduction="none"),
                               rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(g.sum(axis=-1), 0.0, atol=1e-13)  # the shift direction is flat


def test_float32_stays_float32_and_agrees_with_float64(case, rng):
    # float32 carries 7 digits; 1e-5 relative allows the conditioning of log/exp near saturation.
    loss = make(case)
    inputs = loss.sample_inputs(rng, 16)
    inputs32 = [a.astype(np.float32) if np.asarray(a).dtype.kind == "f" else a for a in inputs]
    for method in methods(loss):
        for r64, r32 in zip(as_tuple(method(*inputs, reduction="none")),
                            as_tuple(method(*inputs32, reduction="none"))):
            assert r32.dtype == np.float32, method.__name__
            scale = max(1.0, float(np.max(np.abs(r64))))
            assert np.max(np.abs(r32 - r64)) <= 1e-5 * scale, method.__name__


def test_inputs_are_not_modified(case, rng):
    loss = make(case)
    inputs = loss.sample_inputs(rng, 8)
    copies = [np.copy(a) for a in inputs]
    for method in methods(loss):
        method(*inputs)
    for a, c in zip(inputs, copies):
        np.testing.assert_array_equal(a, c)


def test_python_sequences_are_accepted():
    assert float(ll.get("mse")([1, 2, 3], [1, 2, 5])) == pytest.approx(4 / 3, rel=1e-15)
    assert ll.get("mse").gradient([1, 2], [1, 3]).dtype == np.float64  # integer input -> float64


@pytest.mark.parametrize("reduction", ["none", "mean"])  # "sum" is "mean" without the division
@pytest.mark.parametrize("case", cases_where(
    lambda loss: not loss.coupled and not any(loss.info.batch_axes.values())))
def test_blocked_evaluation_equals_halves(case, reduction, rng):
    # NumPy inputs of more than 2 * 2**16 elements are evaluated in row blocks; each half of these
    # inputs is evaluated in one block. Oracle: the halves, combined (the sum of their sums, the
    # concatenation of their unreduced values and derivatives; the mean divides by the counted
    # weight, ``sample_mask``).
    loss = make(case)
    probe = loss.sample_inputs(np.random.default_rng(0), 4)
    first = loss.inputs.index(loss.differentiable[0])
    per_sample = int(np.prod(np.shape(probe[first])[1:]))
    n = 2 * (70_000 // per_sample) + 2  # 140k elements: blocked; each half 70k: one block
    inputs = [np.asarray(a) for a in loss.sample_inputs(rng, n)]
    n = loss.n_samples(*inputs)
    w = rng.uniform(0.1, 2.0, size=n)
    halves = [[a[:n // 2] for a in inputs], [a[n // 2:] for a in inputs]]
    w_halves = [w[:n // 2], w[n // 2:]]
    for sw in (None, w):
        v, g = loss.value_and_gradient(*inputs, sample_weight=sw, reduction=reduction)
        has_h = len(methods(loss)) == 3
        h = as_tuple(loss.hessian(*inputs, sample_weight=sw, reduction=reduction)) if has_h else ()
        base = "none" if reduction == "none" else "sum"
        parts = []
        for half, wh in zip(halves, w_halves):
            whh = None if sw is None else wh
            pv, pg = loss.value_and_gradient(*half, sample_weight=whh, reduction=base)
            ph = as_tuple(loss.hessian(*half, sample_weight=whh, reduction=base)) if has_h else ()
            parts.append((pv, as_tuple(pg), ph))
        scale = 1.0
        if reduction == "mean":
            mask = loss.sample_mask(*inputs)
            weight = np.ones(np.shape(v if reduction == "none" else loss(*inputs, reduction="none")))
            weight = weight * (1.0 if sw is None else w.reshape((n,) + (1,) * (weight.ndim - 1)))
            scale = 1.0 / float(np.sum(weight * (1.0 if mask is None else mask)))
        if reduction == "none":  # equal up to the order of BLAS's row sums (overlap losses)
            np.testing.assert_allclose(v, np.concatenate([parts[0][0], parts[1][0]]), rtol=1e-15)
        else:
            np.testing.assert_allclose(v, (parts[0][0] + parts[1][0]) * scale, rtol=1e-13)  # sum order
        for k, a in enumerate(as_tuple(g) + h):
            both = [(p[1] + p[2])[k] for p in parts]
            np.testing.assert_allclose(a, np.concatenate(both) * scale, rtol=1e-14, atol=0)
