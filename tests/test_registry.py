"""The registry and the public contract's surface."""

import pickle
import subprocess
import sys

import numpy as np
import pytest

import losslab as ll
from conftest import make

CATALOGUE = [
    "mse", "mae", "huber", "smooth_l1", "log_cosh", "quantile", "pinball", "msle", "mape",
    "poisson_nll", "asymmetric_mse", "asymmetric_huber", "bce", "focal", "hinge", "squared_hinge",
    "exponential", "logistic", "cce", "sparse_cce", "categorical_focal", "kl_div", "multi_margin",
    "categorical_hinge", "poly1", "multilabel_soft_margin",
    "cosine_distance", "cosine_embedding", "contrastive", "triplet", "margin_ranking",
    "gaussian_nll", "dice", "tversky", "ntxent", "ctc",
    # robust and deviance losses
    "pseudo_huber", "cauchy", "geman_mcclure", "welsch", "expectile", "tweedie", "gamma",
    "brier",
]


def test_names_are_sorted_canonical_and_complete():
    names = ll.names()
    assert names == sorted(names)
    assert len(names) == len(set(ll.get(n).name for n in CATALOGUE))
    for n in CATALOGUE:  # every name of the catalogue resolves
        assert ll.get(n).name in names


def test_aliases_resolve_to_the_same_class():
    for alias, canonical in ll.aliases().items():
        assert type(ll.get(alias)) is type(ll.get(canonical))
    assert ll.get("pinball").name == "quantile"
    assert ll.get("Smooth-L1").name == "smooth_l1"  # case and dashes are forgiven


def test_unknown_name_lists_close_matches():
    with pytest.raises(ValueError, match=r"unknown loss 'hubber'; did you mean 'huber'"):
        ll.get("hubber")
    with pytest.raises(ValueError, match="unknown loss 'zzz'"):
        ll.get("zzz")


def test_get_passes_an_instance_through():
    loss = ll.get("huber", delta=2.0)
    assert ll.get(loss) is loss
    with pytest.raises(TypeError):
        ll.get(loss, delta=1.0)


def test_hyperparameters_are_keyword_only(case):
    loss = make(case)
    cls = type(loss)
    if loss.get_params():
        first = next(iter(loss.get_params().values()))
        with pytest.raises(TypeError):
            cls(first)


def test_repr_shows_hyperparameters_and_pickles(case):
    loss = make(case)
    text = repr(loss)
    for k in loss.get_params():
        assert f"{k}=" in text
    clone = pickle.loads(pickle.dumps(loss))
    assert clone == loss and repr(clone) == text
    assert type(loss)(**loss.get_params()) == loss  # the repr's arguments rebuild the loss


def test_info_is_complete(case):
    info = make(case).info
    for field in ("task", "summary", "formula", "formula_latex", "gradient", "gradient_latex",
                  "y_true_domain", "y_pred_domain", "activation", "convex", "nondifferentiable",
                  "outlier_sensitivity", "convention"):
        assert getattr(info, field), field
    assert info.task in {"regression", "binary", "multiclass", "multilabel", "embedding",
                         "ranking", "segmentation", "sequence"}
    assert info.inputs and set(info.differentiable) <= set(info.inputs)
    assert info.hessian in {"exact", "diagonal", "none"}
    assert info.references
    assert info.hyperparameters == make(case).get_params()


def test_hessian_kind_matches_structure():
    # softmax couples the classes: only the diagonal; probabilities used as given: separable.
    assert ll.get("cce", from_logits=True).info.hessian == "diagonal"
    assert ll.get("cce").info.hessian == "exact"
    assert ll.get("multi_margin", p=2).info.hessian == "diagonal"
    assert ll.get("huber").info.hessian == "exact"


def test_import_is_light():
    code = ("import sys, losslab; heavy = [m for m in ('torch', 'matplotlib', 'sklearn', "
            "'scipy', 'typer', 'rich', 'plotly') if m in sys.modules]; print(heavy); assert not heavy")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_value_is_a_scalar_for_reductions():
    v = ll.get("mse")(np.zeros(3), np.ones(3))
    assert np.ndim(v) == 0 and float(v) == 1.0
