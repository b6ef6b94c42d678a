"""Bad input gets a clear error naming the argument, the rule and how many values broke it."""

import numpy as np
import pytest

import losslab as ll
from conftest import make


@pytest.mark.parametrize("name,kw,message", [
    ("huber", {"delta": -1.0}, "delta must be > 0, got -1.0"),
    ("huber", {"delta": 0}, "delta must be > 0, got 0.0"),
    ("smooth_l1", {"beta": -0.5}, "beta must be >= 0, got -0.5"),
    ("quantile", {"quantile": 1.0}, "quantile must be < 1, got 1.0"),
    ("focal", {"gamma": -1}, "gamma must be >= 0, got -1.0"),
    ("focal", {"alpha": 1.5}, "alpha must be <= 1, got 1.5"),
    ("bce", {"label_smoothing": 2}, "label_smoothing must be <= 1, got 2.0"),
    ("bce", {"pos_weight": 0}, "pos_weight must be > 0, got 0.0"),
    ("huber", {"delta": float("nan")}, "delta must be finite, got nan"),
    ("multi_margin", {"p": 3}, "p must be one of 1, 2, got 3"),
    ("cce", {"class_weight": [1.0, -1.0]}, "class_weight must be finite and >= 0; 1 of 2 values are not"),
    ("sparse_cce", {"ignore_index": 1.5}, "ignore_index must be an integer, got 1.5"),
])
def test_invalid_hyperparameters(name, kw, message):
    with pytest.raises(ValueError) as exc:
        ll.get(name, **kw)
    assert str(exc.value) == message


@pytest.mark.parametrize("name,kw", [("huber", {"delta": "1"}), ("bce", {"from_logits": 1}),
                                     ("mse", {"delta": 1.0})])
def test_wrong_types_and_unknown_keywords_are_type_errors(name, kw):
    with pytest.raises(TypeError):
        ll.get(name, **kw)


def test_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"y_true \(3,\) and y_pred \(3, 1\)"):
        ll.get("mse")(np.zeros(3), np.zeros((3, 1)))  # no silent broadcasting
    with pytest.raises(ValueError, match=r"one class index per row.*y_true \(4,\) and y_pred \(3, 2\)"):
        ll.get("sparse_cce")(np.zeros(4, int), np.full((3, 2), 0.5))
    with pytest.raises(ValueError, match=r"y_true has shape \(3,\): cce takes rows of targets"):
        ll.get("cce")(np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match=r"y_pred must have shape \(n_samples, n_classes\), got "
                                         r"\(3,\)"):
        ll.get("cce")(np.zeros((3, 2)), np.zeros(3))


def test_nan_and_inf_are_counted(case):
    loss = make(case)
    inputs = list(loss.sample_inputs(np.random.default_rng(0), 10))
    for k, name in enumerate(loss.inputs):
        a = np.asarray(inputs[k])
        if a.dtype.kind != "f":
            continue  # integer labels cannot hold NaN
        bad = a.copy()
        bad.flat[0] = np.nan
        if bad.size > 3:
            bad.flat[3] = np.inf
        n_bad = 1 + (bad.size > 3)
        with pytest.raises(ValueError, match=rf"{name} must be finite; {n_bad} of {bad.size} values are NaN or infinite"):
            loss(*inputs[:k], bad, *inputs[k + 1:])


def test_the_finiteness_scan_can_be_switched_off():
    loss = ll.get("mse", check_finite=False)
    assert np.isnan(loss([1.0, 2.0], [np.nan, 2.0]))  # the user asked for no scan
    assert "check_finite=False" in repr(loss)


def test_probabilities_outside_0_1():
    with pytest.raises(ValueError, match=r"y_pred must be in \[0, 1\] \(probabilities; pass "
                                         r"from_logits=True for logits\); 2 of 4 values are not"):
        ll.get("bce")([0, 1, 0, 1], [0.5, 1.5, -0.1, 0.5])
    with pytest.raises(ValueError, match=r"y_pred must be in \[0, 1\] \(probability rows"):
        ll.get("cce")(np.eye(2), [[2.0, -1.0], [0.5, 0.5]])
    with pytest.raises(ValueError, match=r"y_true must be in \[0, 1\]"):
        ll.get("bce")([0, 2], [0.5, 0.5])


def test_labels_outside_the_label_set():
    with pytest.raises(ValueError, match=r"y_true must be in \{0, 1\} \(binary labels\); 1 of 3 values are not"):
        ll.get("focal")([0, 1, 0.5], [0.2, 0.3, 0.4])
    with pytest.raises(ValueError, match=r"y_true must be in \{-1, \+1\} or \{0, 1\} .*; 1 of 3 values are not"):
        ll.get("hinge")([1, -1, 2], [0.2, 0.3, 0.4])
    with pytest.raises(ValueError, match="one label set.*2 values of -1 and 1 values of 0"):
        ll.get("hinge")([-1, -1, 0], [0.2, 0.3, 0.4])


def test_class_indices_out_of_range_and_not_integers():
    x = np.zeros((3, 4))
    with pytest.raises(ValueError, match=r"integers in \[0, 4\) \(class indices for 4 classes\); 2 of 3 values are not"):
        ll.get("sparse_cce", from_logits=True)([0, 4, -1], x)
    with pytest.raises(ValueError, match="2 of 3 values are not whole numbers"):
        ll.get("multi_margin")([0.5, 1.0, 2.2], x)
    with pytest.raises(ValueError, match="class_weight has 3 entries but y_pred has 4 classes"):
        ll.get("sparse_cce", from_logits=True, class_weight=[1, 1, 1])([0, 1, 2], x)
    with pytest.raises(ValueError, match=r"at least 2 classes"):
        ll.get("cce", from_logits=True)(np.ones((3, 1)), np.zeros((3, 1)))
    # ignore_index is exempt from the range check
    assert float(ll.get("sparse_cce", from_logits=True, ignore_index=-100)([0, -100, 1], x)) > 0


def test_negative_counts_and_domains():
    with pytest.raises(ValueError, match=r"y_true must be in \[0, inf\) \(counts\); 1 of 2 values are not"):
        ll.get("poisson_nll")([-1.0, 2.0], [0.0, 0.0])
    with pytest.raises(ValueError, match=r"y_pred must be in \[0, inf\) \(rates"):
        ll.get("poisson_nll", log_input=False)([1.0, 2.0], [-0.5, 1.0])
    with pytest.raises(ValueError, match=r"y_pred must be in \(-1, inf\); 1 of 2 values are not"):
        ll.get("msle")([1.0, 2.0], [-1.0, 1.0])


def test_empty_and_non_numeric_inputs():
    # Fixed inputs are validated first (they are what ``prepare`` checks once).
    with pytest.raises(ValueError, match=r"y_true must not be empty, got shape \(0,\)"):
        ll.get("mse")([], [])
    with pytest.raises(ValueError, match=r"y_pred must not be empty, got shape \(0,\)"):
        ll.get("mse").prepare([1.0]).value([])
    with pytest.raises(TypeError, match="y_pred must hold real numbers, got dtype <U1"):
        ll.get("mse")([1.0], ["a"])
    with pytest.raises(TypeError, match="y_true must hold real numbers, got dtype object"):
        ll.get("mse")([None], [1.0])
    with pytest.raises(TypeError, match="complex"):
        ll.get("mse")([1.0], [1j])
    with pytest.raises(TypeError, match="dtype bool"):
        ll.get("mse")([1.0], [True])


def test_sample_weight_and_reduction_errors():
    loss = ll.get("mse")
    with pytest.raises(ValueError, match=r"sample_weight must have one weight per sample, shape \(3,\), or the shape of the unreduced loss \(3,\); got \(2,\)"):
        loss(np.zeros(3), np.ones(3), sample_weight=[1.0, 2.0])
    with pytest.raises(ValueError, match="sample_weight must be >= 0; 1 of 3 values are negative"):
        loss(np.zeros(3), np.ones(3), sample_weight=[1.0, -2.0, 1.0])
    with pytest.raises(ValueError, match="sample_weight must be finite; 1 of 3"):
        loss(np.zeros(3), np.ones(3), sample_weight=[1.0, np.nan, 1.0])
    with pytest.raises(ValueError, match="sample_weight must have a positive sum for reduction='mean'; all 3 weights are 0"):
        loss(np.zeros(3), np.ones(3), sample_weight=np.zeros(3))
    assert float(loss(np.zeros(3), np.ones(3), sample_weight=np.zeros(3), reduction="sum")) == 0.0
    with pytest.raises(ValueError, match="reduction must be one of 'mean', 'sum', 'none', got 'avg'"):
        loss(np.zeros(3), np.ones(3), reduction="avg")


def test_all_targets_ignored_gives_zero_not_nan():
    # Documented: nothing to average -> 0 with a zero gradient (torch returns NaN).
    loss = ll.get("sparse_cce", from_logits=True, ignore_index=-100)
    x = np.random.default_rng(0).normal(size=(3, 4))
    v, g = loss.value_and_gradient([-100, -100, -100], x)
    assert float(v) == 0.0 and not np.any(g) and g.shape == x.shape
    assert float(loss([-100, -100, -100], x, reduction="sum")) == 0.0
