"""Likely mistakes get a warning or a hint that says what was probably meant."""

import warnings

import numpy as np
import pytest

import losslab as ll


def test_labels_passed_as_predictions_warn():
    with pytest.warns(UserWarning, match="bce: y_pred holds only 0s and 1s: these look like "
                                         "labels, not predicted probabilities"):
        ll.get("bce")([0, 1, 1, 0], [0.0, 1.0, 1.0, 1.0])


def test_arguments_in_torch_order_warn():
    with pytest.warns(UserWarning, match="the arguments look swapped .*torch takes "
                                         r"\(input, target\)"):
        ll.get("bce")([0.2, 0.9, 0.7, 0.1], [0, 1, 1, 0])


def test_real_probabilities_and_logits_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ll.get("bce")([0, 1, 1, 0], [0.1, 0.8, 1.0, 0.0])  # some exact 0 and 1 are fine
        ll.get("bce", from_logits=True)([0, 1, 1, 0], [0.0, 1.0, 1.0, 1.0])  # logits: no rule
        ll.get("cce")(np.eye(3), np.full((3, 3), 1 / 3))


def test_class_indices_given_to_cce_get_a_hint():
    probs = np.full((3, 3), 1 / 3)
    with pytest.raises(ValueError, match=r"for one class index per sample use sparse_cce"):
        ll.get("cce")([0, 2, 1], probs)
    assert float(ll.get("sparse_cce")([0, 2, 1], probs)) == pytest.approx(np.log(3))


def test_misspelled_hyperparameters_get_a_suggestion():
    with pytest.raises(TypeError, match="huber has no hyperparameter 'dleta'; did you mean "
                                        "'delta'\\? Its hyperparameters: delta"):
        ll.get("huber", dleta=2)
    with pytest.raises(TypeError, match="focal has no hyperparameter 'beta'. Its hyperparameters: "
                                        "gamma, alpha, from_logits, eps"):
        ll.get("focal", beta=1.0)
