"""The one evaluation pipeline: ``loss.prepare`` equals the loss's own methods, ``values`` equals
separate calls, a prepared loss pickles, and the pipeline's rules hold for every loss alike."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

import losslab as ll
from conftest import CASES, as_tuple, cases_where, make

REDUCTIONS = ("none", "sum", "mean")


def _split(loss, inputs):
    """(fixed inputs by name, differentiable inputs in order)."""
    named = dict(zip(loss.info.inputs, inputs))
    fixed = {n: a for n, a in named.items() if n not in loss.info.differentiable}
    return fixed, tuple(named[n] for n in loss.info.differentiable)


def _rel(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    scale = max(float(np.max(np.abs(b))), 1e-300)
    return float(np.max(np.abs(a - b))) / scale


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_prepared_equals_the_direct_methods(case, weighted, rng):
    # Oracle: the loss's own methods on the same inputs; 1e-15 relative (both run the same
    # kernel; the bound allows for one rounding in a different order of the reduction).
    loss = make(case)
    inputs = loss.sample_inputs(rng, 9)
    fixed, diff = _split(loss, inputs)
    w = rng.uniform(0.2, 2.0, size=loss.n_samples(*inputs)) if weighted else None
    for reduction in REDUCTIONS:
        p = loss.prepare(sample_weight=w, reduction=reduction, **fixed)
        assert _rel(p.value(*diff), loss(*inputs, sample_weight=w, reduction=reduction)) <= 1e-15
        v, g = p.value_and_gradient(*diff)
        v2, g2 = loss.value_and_gradient(*inputs, sample_weight=w, reduction=reduction)
        assert _rel(v, v2) <= 1e-15
        for a, b in zip(as_tuple(g), as_tuple(g2)):
            assert _rel(a, b) <= 1e-15
        for a, b in zip(as_tuple(p.gradient(*diff)), as_tuple(g2)):
            assert _rel(a, b) <= 1e-15
        if loss.info.hessian != "none":
            h2 = loss.hessian(*inputs, sample_weight=w, reduction=reduction)
            for a, b in zip(as_tuple(p.hessian(*diff)), as_tuple(h2)):
                assert _rel(a, b) <= 1e-15
        else:
            with pytest.raises(TypeError, match="provides no hessian"):
                p.hessian(*diff)


@pytest.mark.parametrize("case", CASES)
def test_values_of_a_stack_equal_separate_calls(case, rng):
    # Oracle: K separate calls of the prepared loss (1e-14 relative: the stacked path sums each
    # point's values in one kernel call over tiled targets, a different order of summation).
    loss = make(case)
    inputs = loss.sample_inputs(rng, 7)
    fixed, diff = _split(loss, inputs)
    w = rng.uniform(0.2, 2.0, size=loss.n_samples(*inputs))
    k_points = 5
    # K perturbations of the differentiable inputs that stay in their domains: convex mixtures of
    # independent valid draws (domains are intervals, so mixtures stay inside).
    draws = [_split(loss, loss.sample_inputs(np.random.default_rng(s), 7))[1] for s in range(3)]
    same_shape = all(tuple(np.shape(d[i])) == tuple(np.shape(diff[i]))
                     for d in draws for i in range(len(diff)))
    stacks = []
    for i, base in enumerate(diff):
        base = np.asarray(base, dtype=np.float64)
        pts = []
        for k in range(k_points):
            t = k / (k_points - 1)
            other = np.asarray(draws[k % 3][i], dtype=np.float64) if same_shape else base
            pts.append((1 - 0.3 * t) * base + 0.3 * t * other)
        stacks.append(np.stack(pts))
    for reduction in REDUCTIONS:
        p = loss.prepare(sample_weight=w, reduction=reduction, **fixed)
        got = p.values(*stacks)
        want = np.stack([np.asarray(p.value(*[s[k] for s in stacks])) for k in range(k_points)])
        assert got.shape == want.shape
        assert _rel(got, want) <= 1e-14


def test_values_covers_many_points_in_blocks():
    # Oracle: separate calls. 3000 points of 50 samples cross several 2**16-element blocks.
    rng = np.random.default_rng(1)
    loss = ll.get("sparse_cce", from_logits=True, class_weight=[1.0, 2.0, 0.5])
    y = rng.integers(0, 3, size=50)
    stack = rng.normal(size=(3000, 50, 3))
    p = loss.prepare(y, sample_weight=rng.uniform(0.1, 1, 50))
    got = p.values(stack)
    want = np.array([p.value(stack[k]) for k in range(0, 3000, 97)])
    np.testing.assert_allclose(got[::97], want, rtol=1e-14)  # oracle: separate calls


@pytest.mark.parametrize("case", CASES)
def test_a_prepared_loss_pickles(case, rng):
    # Oracle: the prepared loss before pickling; equality is exact (same arrays, same kernel).
    loss = make(case)
    inputs = loss.sample_inputs(rng, 6)
    fixed, diff = _split(loss, inputs)
    p = loss.prepare(sample_weight=rng.uniform(0.5, 1.5, loss.n_samples(*inputs)), **fixed)
    before = p.value_and_gradient(*diff)  # fills the binding cache, which must not travel
    q = pickle.loads(pickle.dumps(p))
    after = q.value_and_gradient(*diff)
    assert np.array_equal(np.asarray(before[0]), np.asarray(after[0]))
    for a, b in zip(as_tuple(before[1]), as_tuple(after[1])):
        assert np.array_equal(a, b)
    assert repr(q) == repr(p)


def test_prepare_validates_the_fixed_inputs_once():
    # The fixed inputs are refused at prepare, naming the argument; the differentiable at the call.
    with pytest.raises(ValueError, match=r"y_true must be in \[0, 1\].*1 of 3 values"):
        ll.get("bce").prepare([0.0, 1.0, 2.0])
    with pytest.raises(TypeError, match="ctc has no input 'log_probs' here.*differentiable"):
        ll.get("ctc").prepare(log_probs=np.zeros((2, 1, 3)))
    p = ll.get("bce").prepare([0.0, 1.0])
    with pytest.raises(ValueError, match=r"y_pred must be in \[0, 1\].*1 of 2 values"):
        p.value([0.5, 1.5])
    with pytest.raises(TypeError, match="takes 1 differentiable input"):
        p.value([0.5, 0.5], [0.5, 0.5])


def test_coefficients_are_the_reduction():
    # Oracle: the definition, sum(coefficients * unreduced) = reduced value (1e-15).
    rng = np.random.default_rng(3)
    loss = ll.get("sparse_cce", from_logits=True, ignore_index=1)
    y = np.array([0, 1, 2, 0, 2])
    x = rng.normal(size=(5, 3))
    w = rng.uniform(0.5, 2.0, 5)
    for reduction in REDUCTIONS:
        p = loss.prepare(y, sample_weight=w, reduction=reduction)
        c = p.coefficients(x)
        unreduced = loss(y, x, reduction="none")
        assert c[1] == 0.0 or reduction != "mean"
        if reduction == "none":
            np.testing.assert_allclose(c * unreduced, p.value(x), rtol=1e-15)
        else:
            assert float(np.sum(c * unreduced)) == pytest.approx(float(p.value(x)), rel=1e-15)


# ---- the same rules for every loss ----------------------------------------------------------

@pytest.mark.parametrize("case", CASES)
def test_bool_arrays_follow_the_role_of_the_input(case, rng):
    # Rule: a differentiable input (a prediction, an embedding, a variance) is a number, never a
    # truth value: bool is refused by name. A fixed real-valued target takes bool as 0/1; an
    # integer input (class indices, lengths) refuses bool.
    loss = make(case)
    inputs = list(loss.sample_inputs(rng, 6))
    for k, name in enumerate(loss.info.inputs):
        changed = list(inputs)
        changed[k] = np.asarray(inputs[k]) > np.median(inputs[k])
        if name in loss.info.differentiable or name in loss.info.integer_inputs:
            with pytest.raises(TypeError, match=f"{name} must hold .*got dtype bool"):
                loss(*changed)
        else:
            try:
                loss(*changed)
            except TypeError as exc:  # a domain error is fine; a dtype refusal is not
                pytest.fail(f"{name} refused bool: {exc}")
            except ValueError:
                pass


@pytest.mark.parametrize("case", CASES)
def test_all_zero_weights_with_mean_are_refused_by_every_loss(case, rng):
    # One behaviour for every loss: a weighted mean over zero total weight is undefined.
    loss = make(case)
    inputs = loss.sample_inputs(rng, 5)
    w = np.zeros(loss.n_samples(*inputs))
    with pytest.raises(ValueError, match=r"sample_weight must have a positive sum for "
                                         r"reduction='mean'; all \d+ weights are 0"):
        loss(*inputs, sample_weight=w)
    for reduction in ("sum", "none"):  # well defined: zero
        assert float(np.sum(loss(*inputs, sample_weight=w, reduction=reduction))) == 0.0


def test_nothing_left_to_average_is_zero_with_zero_gradient():
    # Positive weights only on ignored targets: nothing to average, as every target ignored.
    loss = ll.get("sparse_cce", from_logits=True, ignore_index=1)
    y, x = np.array([0, 1]), np.zeros((2, 3))
    assert float(loss(y, x, sample_weight=[0.0, 1.0])) == 0.0
    assert not np.any(loss.gradient(y, x, sample_weight=[0.0, 1.0]))


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_ntxent_refuses_non_finite_labels(bad):
    x = np.random.default_rng(0).normal(size=(4, 3))
    with pytest.raises(ValueError, match="labels must be finite; 1 of 4 values"):
        ll.get("ntxent")(x, np.array([0.0, 0.0, bad, 1.0]))


@pytest.mark.parametrize("name", ["dice", "tversky"])
@pytest.mark.parametrize("axis", [1.5, "1", True])
def test_overlap_axis_must_be_int_or_tuple(name, axis):
    with pytest.raises(TypeError, match="axis must be None, an int or a tuple of ints"):
        ll.get(name, axis=axis)


@pytest.mark.parametrize("case", cases_where(lambda loss: "ctc" != loss.name))
def test_float16_comes_back_as_float16(case, rng):
    # The README promises the input's precision: float16 inputs are computed in float32 and
    # returned as float16.
    loss = make(case)
    inputs = loss.sample_inputs(rng, 4)
    half = tuple(np.asarray(a, dtype=np.float16) if n in loss.info.differentiable else a
                 for a, n in zip(inputs, loss.info.inputs))
    value = loss(*half, reduction="none")
    assert value.dtype == np.float16
    for g in as_tuple(loss.gradient(*half)):
        assert g.dtype == np.float16


def test_ctc_takes_tensors_that_require_grad_and_names_unsupported_dtypes():
    torch = pytest.importorskip("torch")
    loss = ll.get("ctc")
    lp = torch.randn(6, 2, 4, dtype=torch.float64).log_softmax(-1).requires_grad_(True)
    args = (torch.tensor([[1, 2], [3, 1]]), torch.tensor([6, 5]), torch.tensor([2, 2]))
    ours = loss(lp, *args)
    assert not getattr(ours, "requires_grad", False)  # losslab returns its own derivatives
    ref = torch.nn.functional.ctc_loss(lp, *args, reduction="none").mean()  # oracle: torch
    assert float(ours) == pytest.approx(float(ref.detach()), rel=1e-12)
    with pytest.raises(TypeError, match="log_probs has dtype torch.bfloat16"):
        loss(lp.detach().to(torch.bfloat16), *args)


def test_weighted_reductions_do_not_overflow():
    # Oracle: closed forms. Weights of 1e308 are equal weights; their sum overflows, their ratios
    # do not.
    mse = ll.get("mse")
    assert float(mse([0, 0, 0], [1, 2, 3], sample_weight=[1e308] * 3)) == pytest.approx(14 / 3,
                                                                                          rel=1e-15)
    np.testing.assert_allclose(mse.gradient([0, 0, 0], [1, 2, 3], sample_weight=[1e308] * 3),
                               [2 / 3, 4 / 3, 2.0], rtol=1e-15)
    # The float32 Huber mean of [3e38, 3e38]: each value is 3e38 - 0.5, the mean too.
    v = ll.get("huber")(np.zeros(2, np.float32), np.array([3e38, 3e38], np.float32))
    assert v.dtype == np.float32 and math.isfinite(float(v))
    assert float(v) == pytest.approx(3e38, rel=1e-6)


@pytest.mark.parametrize("scale", [1e77, 1e150, 1e250])
def test_cosine_losses_are_right_at_huge_norms(scale):
    # Oracle: the same loss at unit scale. Cosines do not depend on length; the gradient scales
    # as 1/s and the hessian as 1/s^2 (1e-12 relative).
    rng = np.random.default_rng(5)
    y, p = rng.normal(size=(6, 4)), rng.normal(size=(6, 4))
    cd = ll.get("cosine_distance")
    np.testing.assert_allclose(cd(y, p * scale, reduction="none"), cd(y, p, reduction="none"),
                               rtol=1e-12)
    np.testing.assert_allclose(cd.gradient(y, p * scale) * scale, cd.gradient(y, p), rtol=1e-12)
    if scale <= 1e150:  # beyond, the hessian (~1/s^2) underflows to 0, as it should
        np.testing.assert_allclose(cd.hessian(y, p * scale) * scale * scale, cd.hessian(y, p),
                                   rtol=1e-12)
    else:
        assert np.all(np.isfinite(cd.hessian(y, p * scale)))
    ce = ll.get("cosine_embedding")
    assert float(ce(p * scale, p * scale, np.ones(6))) == pytest.approx(0.0, abs=1e-15)
    lab = np.array([1.0, -1.0, 1.0, -1.0, 1.0, -1.0])
    np.testing.assert_allclose(ce(y * scale, p * scale, lab, reduction="none"),
                               ce(y, p, lab, reduction="none"), rtol=1e-10, atol=1e-15)
    g_big, g = ce.gradient(y * scale, p * scale, lab), ce.gradient(y, p, lab)
    for a, b in zip(g_big, g):
        np.testing.assert_allclose(a * scale, b, rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("p", [1.0, 2.0, 3.0])
def test_triplet_and_contrastive_distances_at_huge_norms(p):
    # Oracle: homogeneity. A distance scales with the inputs; the gradient of the p-norm does not.
    rng = np.random.default_rng(6)
    a, pos, neg = ll.get("triplet", p=p).sample_inputs(rng, 5)
    s = 1e200
    t = ll.get("triplet", p=p, eps=0.0, margin=1.0)
    big = t(a * s, pos * s, neg * s, reduction="none")
    assert np.all(np.isfinite(big))
    raw = ll.get("triplet", p=p, eps=0.0, margin=1e-300)(a, pos, neg, reduction="none")
    np.testing.assert_allclose(big, raw * s, rtol=1e-12)
    for g in t.gradient(a * s, pos * s, neg * s):
        assert np.all(np.isfinite(g))
    c = ll.get("contrastive")
    x1, x2, y = c.sample_inputs(rng, 5)
    g = c.gradient(x1 * 1e160, x2 * 1e160, np.zeros(5))  # dissimilar pairs far apart: no push
    assert not np.any(g[0]) and not np.any(g[1])


@pytest.mark.parametrize("name,kw", [("exponential", {}), ("poisson_nll", {})])
def test_logits_that_overflow_do_so_as_torch_does(name, kw):
    # The README's exception to "logits of +-1e4 stay finite": exp(1e4) is not a float64.
    torch = pytest.importorskip("torch")
    loss = ll.get(name, **kw)
    with np.errstate(over="ignore"):
        value = float(loss([1.0], [-1e4] if name == "exponential" else [1e4]))
    assert value == math.inf
    ref = (torch.exp(torch.tensor(1e4, dtype=torch.float64)) if name == "exponential" else
           torch.nn.functional.poisson_nll_loss(torch.tensor([1e4], dtype=torch.float64),
                                                torch.tensor([1.0], dtype=torch.float64)))
    assert float(ref) == math.inf  # oracle: torch overflows alike


def test_a_model_takes_a_prepared_loss():
    # Oracle: the same cost and gradient from the loss and its targets (exact: same kernel).
    rng = np.random.default_rng(8)
    X, y, w = rng.normal(size=(20, 3)), rng.integers(0, 3, size=20), rng.uniform(0.5, 1.5, 20)
    model = ll.models.MLP(3, (5,), n_outputs=3, seed=0)
    loss = ll.get("sparse_cce", from_logits=True)
    v1, g1 = model.value_and_grad(loss, X, y, sample_weight=w)
    v2, g2 = model.value_and_grad(loss.prepare(y, sample_weight=w), X)
    assert v1 == v2 and all(np.array_equal(g1[k], g2[k]) for k in g1)
    with pytest.raises(TypeError, match="a prepared loss holds its targets"):
        model.value_and_grad(loss.prepare(y), X, y)
