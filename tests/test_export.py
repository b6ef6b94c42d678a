"""Exports: torch modules with losslab's backward; XGBoost and LightGBM objectives."""

import lightgbm as lgb
import numpy as np
import pytest
import torch
import xgboost as xgb
from sklearn.datasets import make_classification
from sklearn.metrics import average_precision_score, roc_auc_score

import losslab as ll
from losslab.verification import oracle_for

MODULE_CASES = [
    ("mse", {}), ("huber", {"delta": 0.5}), ("bce", {"from_logits": True, "pos_weight": 2.0}),
    ("focal", {"from_logits": True}), ("sparse_cce", {"from_logits": True, "label_smoothing": 0.1}),
    ("cce", {}), ("kl_div", {"from_logits": True}), ("dice", {}), ("triplet", {"p": 3.0}),
    ("cosine_embedding", {"margin": 0.2}), ("gaussian_nll", {}), ("ntxent", {}),
    ("multi_margin", {"p": 2}),
]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name,kw", MODULE_CASES, ids=[c[0] for c in MODULE_CASES])
def test_torch_module_matches_autograd_on_the_same_formula(name, kw, reduction):
    # Oracle: the loss's PyTorch oracle (built-in or formula), differentiated by autograd.
    # Tolerance: 1e-12 relative (float64; the two sides sum in different orders).
    loss = ll.get(name, **kw)
    if reduction == "none" and getattr(loss, "coupled", False):
        with pytest.raises(ValueError, match="not supported"):
            loss.to_torch(reduction="none")
        return
    module = loss.to_torch(reduction=reduction)
    inputs = loss.sample_inputs(np.random.default_rng(8), 10)
    wrt = [loss.inputs.index(n) for n in loss.differentiable]
    ours = [torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=i in wrt) for i, a in enumerate(inputs)]
    refs = [torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=i in wrt) for i, a in enumerate(inputs)]
    if loss.inputs == ("y_true", "y_pred"):
        out = module(ours[1], ours[0])  # torch order: (input, target)
    else:
        out = module(*ours)
    ref = oracle_for(loss)(torch, loss, *refs, reduction)
    upstream = torch.as_tensor(np.random.default_rng(9).normal(size=tuple(ref.shape)))
    (out * upstream).sum().backward()
    (ref * upstream).sum().backward()
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-12, atol=1e-15)
    for i in wrt:
        np.testing.assert_allclose(ours[i].grad.numpy(), refs[i].grad.numpy(), rtol=1e-12, atol=1e-14)


def test_torch_module_with_sample_weight_and_in_a_training_loop():
    # A linear model trained for 30 steps with losslab's Huber module and with torch's own huber
    # loss: the parameters agree step for step (float64, 1e-12).
    rng = np.random.default_rng(0)
    X = torch.tensor(rng.normal(size=(64, 3)))
    y = X @ torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64) + torch.tensor(rng.standard_t(2, 64))
    w = torch.tensor(rng.uniform(0.5, 2.0, 64))
    module = ll.get("huber", delta=1.0).to_torch()
    models = [torch.nn.Linear(3, 1, dtype=torch.float64) for _ in range(2)]
    models[1].load_state_dict(models[0].state_dict())
    opts = [torch.optim.SGD(m.parameters(), lr=0.1) for m in models]
    for _ in range(30):
        for m, opt, use_ll in zip(models, opts, (True, False)):
            opt.zero_grad()
            pred = m(X)[:, 0]
            if use_ll:
                value = module(pred, y, sample_weight=w)
            else:
                value = (torch.nn.functional.huber_loss(pred, y, reduction="none") * w).sum() / w.sum()
            value.backward()
            opt.step()
    for p1, p2 in zip(models[0].parameters(), models[1].parameters()):
        np.testing.assert_allclose(p1.detach().numpy(), p2.detach().numpy(), rtol=1e-12)


def test_objective_hessian_surrogate_and_weights():
    y = np.array([0.0, 1.0, 2.0, -1.0])
    p = np.array([0.5, 1.0, 0.0, 3.0])
    for name in ("mae", "quantile", "hinge"):
        labels = np.array([-1.0, 1.0, 1.0, -1.0]) if name == "hinge" else y
        g, h = ll.get(name).as_xgboost_objective()(labels, p)
        np.testing.assert_array_equal(h, 1.0)  # zero curvature -> 1, as scikit-learn and LightGBM
        np.testing.assert_array_equal(g, ll.get(name).gradient(labels, p, reduction="none"))
    focal = ll.get("focal", from_logits=True, gamma=2.0)
    margins = np.array([-50.0, -3.0, 0.0, 3.0, 50.0, 1e3])
    labels = np.array([1.0, 0.0, 1.0, 1.0, 0.0, 1.0])
    g, h = focal.as_lightgbm_objective()(labels, margins)
    assert np.all(h > 0) and np.all(np.isfinite(g))
    g_w, h_w = focal.as_lightgbm_objective()(labels, margins, np.full(6, 2.0))
    np.testing.assert_allclose(g_w, 2 * g)
    np.testing.assert_allclose(h_w, 2 * h)


def test_objective_refuses_what_boosting_cannot_use():
    with pytest.raises(ValueError, match=r"raw margins.*from_logits=True"):
        ll.get("focal").as_xgboost_objective()
    with pytest.raises(ValueError, match="needs a loss of \\(y_true, y_pred\\)"):
        ll.get("triplet").as_lightgbm_objective()
    with pytest.raises(ValueError, match="class-index form"):
        ll.get("cce", from_logits=True).as_xgboost_objective()


def _imbalanced():
    X, y = make_classification(n_samples=6000, n_features=10, n_informative=5, weights=[0.95],
                               flip_y=0.01, random_state=0)
    return X[:4000], y[:4000].astype(float), X[4000:], y[4000:].astype(float)


def _beats_constant(margins, y_test, y_train):
    # The best constant margin is the training log-odds; losslab's own focal loss is the judge,
    # plus two ranking metrics from scikit-learn (a constant scores AP = prevalence, AUC = 0.5).
    focal = ll.get("focal", from_logits=True)
    prior = np.log(y_train.mean() / (1 - y_train.mean()))
    assert float(focal(y_test, margins)) < float(focal(y_test, np.full_like(margins, prior)))
    assert roc_auc_score(y_test, margins) > 0.85
    assert average_precision_score(y_test, margins) > 3 * y_test.mean()


def test_xgboost_trains_with_the_focal_objective():
    X, y, X_test, y_test = _imbalanced()
    obj = ll.get("focal", from_logits=True).as_xgboost_objective()
    booster = xgb.train({"max_depth": 3, "eta": 0.1, "base_score": 0.0, "nthread": 2},
                        xgb.DMatrix(X, label=y), num_boost_round=150, obj=obj)
    _beats_constant(booster.predict(xgb.DMatrix(X_test), output_margin=True), y_test, y)


def test_lightgbm_trains_with_the_focal_objective():
    X, y, X_test, y_test = _imbalanced()
    obj = ll.get("focal", from_logits=True).as_lightgbm_objective()
    booster = lgb.train({"objective": obj, "learning_rate": 0.1, "num_leaves": 15, "verbose": -1,
                         "num_threads": 2, "min_sum_hessian_in_leaf": 1e-6},
                        lgb.Dataset(X, label=y), num_boost_round=150)
    _beats_constant(booster.predict(X_test), y_test, y)


def test_lightgbm_quantile_objective_through_the_sklearn_interface():
    # Pinball loss at q (hessian surrogate 1) through LGBMRegressor. On the training data the
    # model covers q of the targets; held out it covers what LightGBM's own quantile objective
    # covers (oracle: objective="quantile", alpha=q, same settings; both overfit alike).
    rng = np.random.default_rng(1)
    X = rng.uniform(-2, 2, size=(3000, 2))
    y = X[:, 0] + rng.normal(0, 1 + 0.5 * np.abs(X[:, 1]), 3000)
    settings = {"n_estimators": 300, "learning_rate": 0.1, "verbose": -1, "n_jobs": 2}
    for q in (0.5, 0.9):
        ours = lgb.LGBMRegressor(objective=ll.get("quantile", quantile=q).as_lightgbm_objective(),
                                 **settings).fit(X[:2000], y[:2000])
        native = lgb.LGBMRegressor(objective="quantile", alpha=q, **settings).fit(X[:2000], y[:2000])
        train_cover = float(np.mean(y[:2000] <= ours.predict(X[:2000])))
        test_cover = float(np.mean(y[2000:] <= ours.predict(X[2000:])))
        native_cover = float(np.mean(y[2000:] <= native.predict(X[2000:])))
        assert abs(train_cover - q) <= 0.02, (q, train_cover)
        assert abs(test_cover - native_cover) <= 0.03, (q, test_cover, native_cover)


def test_lightgbm_multiclass_with_the_softmax_cross_entropy_objective():
    # sparse_cce on (n_samples, n_classes) raw margins: LightGBM trains a 3-class model that
    # beats the majority class on held-out iris (scikit-learn's accuracy).
    from sklearn.datasets import load_iris
    from sklearn.metrics import accuracy_score

    X, y = load_iris(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(y))
    X, y = X[order], y[order]
    obj = ll.get("sparse_cce", from_logits=True).as_lightgbm_objective()
    booster = lgb.train({"objective": obj, "num_class": 3, "learning_rate": 0.1, "verbose": -1,
                         "num_threads": 2, "min_data_in_leaf": 5}, lgb.Dataset(X[:100], label=y[:100]),
                        num_boost_round=50)
    margins = booster.predict(X[100:])
    assert margins.shape == (50, 3)
    acc = accuracy_score(y[100:], margins.argmax(axis=1))
    assert acc > 0.9 > np.bincount(y[100:]).max() / 50


# ---- second derivatives of the torch export -----------------------------------------------

from conftest import cases_where, make  # noqa: E402


def _torch_inputs(loss, n=4, seed=3):
    inputs = loss.sample_inputs(np.random.default_rng(seed), n)
    wrt = [loss.inputs.index(name) for name in loss.differentiable]
    out = []
    for i, a in enumerate(inputs):
        a = np.asarray(a)
        t = torch.tensor(a) if a.dtype.kind in "iub" else torch.tensor(a, dtype=torch.float64)
        out.append(t.requires_grad_(i in wrt))
    return out, wrt


def _call(loss, module, inputs, sample_weight=None):
    if loss.inputs == ("y_true", "y_pred"):
        return module(inputs[1], inputs[0], sample_weight=sample_weight)
    return module(*inputs, sample_weight=sample_weight)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("case", cases_where(lambda loss: loss.info.hvp))
def test_gradgradcheck_passes_for_every_loss_with_an_exact_hessian(case, reduction):
    # Oracle: torch.autograd.gradcheck and gradgradcheck (central differences of the export's
    # own backward, float64, their default tolerances atol 1e-5, rtol 1e-3 on 1e-6 steps), with
    # sample weights.
    loss = make(case)
    if reduction == "none" and loss.coupled:
        return
    module = loss.to_torch(reduction=reduction)
    inputs, wrt = _torch_inputs(loss)
    weight = torch.rand(loss.n_samples(*[t.detach().numpy() for t in inputs]),
                        dtype=torch.float64, generator=torch.Generator().manual_seed(0)) + 0.5

    def f(*diff):
        full = list(inputs)
        for k, d in zip(wrt, diff):
            full[k] = d
        return _call(loss, module, full, weight)

    diff = tuple(inputs[k] for k in wrt)
    assert torch.autograd.gradcheck(f, diff)
    assert torch.autograd.gradgradcheck(f, diff)


@pytest.mark.parametrize("case", cases_where(lambda loss: not loss.info.hvp
                                             and loss.info.hessian != "none"
                                             and not loss.coupled)[:6]
                         + cases_where(lambda loss: loss.name in ("triplet", "ctc")))
def test_double_backward_without_an_exact_hvp_is_refused(case):
    loss = make(case)
    module = loss.to_torch()
    inputs, wrt = _torch_inputs(loss)
    value = _call(loss, module, inputs)
    grads = torch.autograd.grad(value, [inputs[k] for k in wrt], create_graph=True)
    with pytest.raises(RuntimeError, match=f"second derivatives of {loss.name}: it has no exact "
                                           "Hessian-vector product"):
        torch.autograd.grad(sum(g.sum() for g in grads), [inputs[k] for k in wrt])


def test_third_derivatives_are_refused():
    module = ll.get("log_cosh").to_torch()
    x = torch.linspace(-1, 1, 5, dtype=torch.float64, requires_grad=True)
    y = torch.zeros(5, dtype=torch.float64)
    (g,) = torch.autograd.grad(module(x, y), x, create_graph=True)
    (h,) = torch.autograd.grad(g.sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="third derivatives of log_cosh are not available"):
        torch.autograd.grad(h.sum(), x)


class _CNN(torch.nn.Module):
    def __init__(self, n_out):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 3, 3)
        self.fc = torch.nn.Linear(3 * 4 * 4, n_out)

    def forward(self, x):
        return self.fc(torch.tanh(self.conv(x)).flatten(1))


@pytest.mark.parametrize("arch", ["mlp", "cnn"])
@pytest.mark.parametrize("name,builtin,kind", [
    ("sparse_cce", "cross_entropy", "class"), ("mse", "mse_loss", "regression"),
    ("huber", "huber_loss", "regression"), ("bce", "binary_cross_entropy_with_logits", "binary"),
    ("poisson_nll", "poisson_nll_loss", "count")])
def test_torch_hvp_with_the_export_equals_the_builtin(arch, name, builtin, kind):
    # Oracle: torch_hvp (double backward) with the torch built-in loss on the same network;
    # 1e-12 relative to the largest entry (float64). The loss's own curvature J^T H J v is in.
    from losslab.landscapes import torch_hvp

    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    n_out = 3 if kind == "class" else 1
    if arch == "mlp":
        net = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Tanh(), torch.nn.Linear(6, n_out))
        X = rng.normal(size=(16, 4))
    else:
        net = _CNN(n_out)
        X = rng.normal(size=(16, 1, 6, 6))
    if n_out == 1:
        net = torch.nn.Sequential(net, torch.nn.Flatten(0))
    net = net.double()
    y = {"class": rng.integers(0, 3, 16), "regression": 2 * rng.normal(size=16),
         "binary": rng.integers(0, 2, 16).astype(float), "count": rng.poisson(2.0, 16).astype(float)}[kind]
    params = {"from_logits": True} if name in ("sparse_cce", "bce") else {}
    ours = torch_hvp(net, ll.get(name, **params).to_torch(), X, y)
    ref_fn = getattr(torch.nn.functional, builtin)
    if name == "poisson_nll":
        ref = torch_hvp(net, lambda out, t: ref_fn(out, t, log_input=True, full=False), X, y)
    else:
        ref = torch_hvp(net, ref_fn, X, y)
    for seed in range(3):
        v = np.random.default_rng(seed).normal(size=sum(p.numel() for p in net.parameters()))
        a, b = ours(v), ref(v)
        assert np.max(np.abs(a - b)) <= 1e-12 * np.max(np.abs(b))


def test_the_export_works_under_torch_func_and_in_float32():
    from torch.func import grad, hessian, jacrev, vmap

    rng = np.random.default_rng(0)
    y = torch.tensor(rng.dirichlet(np.ones(3), size=4))
    z = torch.tensor(rng.normal(size=(4, 3)))
    ours = ll.get("cce", from_logits=True).to_torch()
    ref = torch.nn.functional.cross_entropy
    # oracle: the same transforms of torch's cross_entropy (1e-13 absolute, float64)
    torch.testing.assert_close(grad(lambda t: ours(t, y))(z), grad(lambda t: ref(t, y))(z),
                               rtol=0, atol=1e-13)
    torch.testing.assert_close(hessian(lambda t: ours(t, y))(z), hessian(lambda t: ref(t, y))(z),
                               rtol=0, atol=1e-13)
    torch.testing.assert_close(jacrev(jacrev(lambda t: ours(t, y)))(z),
                               hessian(lambda t: ref(t, y))(z), rtol=0, atol=1e-13)
    stack = torch.tensor(rng.normal(size=(5, 4, 3)))
    torch.testing.assert_close(vmap(lambda t: ours(t, y))(stack),
                               torch.stack([ref(s, y) for s in stack]), rtol=0, atol=1e-13)
    none = ll.get("huber").to_torch(reduction="none")
    x, t, v = (torch.tensor(rng.normal(size=6)) for _ in range(3))
    torch.testing.assert_close(torch.func.jvp(lambda a: none(a, t), (x,), (v,))[1],
                               torch.func.jvp(lambda a: torch.nn.functional.huber_loss(
                                   a, t, reduction="none"), (x,), (v,))[1], rtol=0, atol=1e-14)
    # float32: values, gradients and Hessian-vector products stay float32 (oracle: torch, 1e-6)
    z32 = z.float().requires_grad_(True)
    (g,) = torch.autograd.grad(ours(z32, y.float()), z32, create_graph=True)
    (hv,) = torch.autograd.grad((g * z32.detach()).sum(), z32)
    z32r = z.float().requires_grad_(True)
    (gr,) = torch.autograd.grad(ref(z32r, y.float()), z32r, create_graph=True)
    (hvr,) = torch.autograd.grad((gr * z32r.detach()).sum(), z32r)
    assert g.dtype == hv.dtype == torch.float32
    torch.testing.assert_close(hv, hvr, rtol=1e-5, atol=1e-6)


# ---- boosting objectives that reproduce the built-ins ---------------------------------------


def _boosting_data():
    rng = np.random.default_rng(0)
    n = 600
    X = rng.normal(size=(n, 5))
    y_reg = X @ np.array([1.0, 2.0, 0.0, 0.0, 1.0]) + 3 + rng.normal(size=n)
    y_bin = (rng.random(n) < 1 / (1 + np.exp(-X[:, 0] - 1))).astype(float)
    logits = 2 * X[:, :3]
    y_cls = np.array([rng.choice(3, p=np.exp(r) / np.exp(r).sum()) for r in logits])
    w = rng.uniform(0.5, 2.0, n)
    return X, {"regression": y_reg, "binary": y_bin, "multiclass": y_cls}, w


BUILTINS = [("mse", {}, "regression", "reg:squarederror", "regression"),
            ("bce", {"from_logits": True}, "binary", "binary:logistic", "binary"),
            ("sparse_cce", {"from_logits": True}, "multiclass", "multi:softprob", "multiclass")]


@pytest.mark.parametrize("name,params,task,xgb_name,lgb_name", BUILTINS, ids=[b[0] for b in BUILTINS])
def test_library_convention_and_init_score_reproduce_the_builtins(name, params, task, xgb_name,
                                                                   lgb_name):
    # Oracle: the libraries' own objectives, 20 rounds, sample weights; margins agree to 1e-6
    # (XGBoost keeps margins in float32: 7e-7 measured; LightGBM 3e-8).
    X, ys, w = _boosting_data()
    y = ys[task]
    loss = ll.get(name, **params)
    extra = {"num_class": 3} if task == "multiclass" else {}
    obj = loss.as_xgboost_objective(hessian="library")
    assert obj.builtin == xgb_name
    params_x = {"max_depth": 3, "eta": 0.3, "nthread": 1, **extra}
    built = xgb.train({**params_x, "objective": xgb_name}, xgb.DMatrix(X, label=y, weight=w), 20)
    start = obj.init_score(y, w)
    custom = xgb.train(params_x, xgb.DMatrix(X, label=y, weight=w, base_margin=start), 20, obj=obj)
    margin_b = built.predict(xgb.DMatrix(X), output_margin=True)
    margin_c = custom.predict(xgb.DMatrix(X, base_margin=start), output_margin=True)
    assert np.max(np.abs(margin_b - margin_c)) < 1e-6

    obj = loss.as_lightgbm_objective(hessian="library")
    assert obj.builtin == lgb_name
    params_l = {"learning_rate": 0.3, "num_leaves": 8, "verbose": -1, "num_threads": 1,
                "deterministic": True, **extra}
    built = lgb.train({**params_l, "objective": lgb_name}, lgb.Dataset(X, label=y, weight=w), 20)
    start = obj.init_score(y, w)
    custom = lgb.train({**params_l, "objective": obj},
                       lgb.Dataset(X, label=y, weight=w, init_score=start), 20)
    margin_b = built.predict(X, raw_score=True)
    margin_c = custom.predict(X, raw_score=True) + start.reshape(margin_b.shape)
    assert np.max(np.abs(margin_b - margin_c)) < 1e-6


def test_exact_convention_differs_where_the_readme_says():
    # mse: XGBoost's reg_lambda=1 sees losslab's (y - p)^2 with twice the gradient and hessian
    # of its (y - p)^2 / 2, so leaves differ; LightGBM (lambda_l2 = 0) is unchanged by the factor.
    # softmax: the exact diagonal p(1 - p) against XGBoost's 2p(1 - p) and LightGBM's K/(K-1).
    X, ys, w = _boosting_data()
    y = ys["regression"]
    exact = ll.get("mse").as_xgboost_objective()
    library = ll.get("mse").as_xgboost_objective(hessian="library")
    p = np.zeros_like(y)
    g_e, h_e = exact(y, p)
    g_l, h_l = library(y, p)
    np.testing.assert_allclose(g_e, 2 * g_l, rtol=1e-15)
    np.testing.assert_allclose(h_e, 2 * h_l, rtol=1e-15)
    labels = ys["multiclass"]
    margins = np.random.default_rng(1).normal(size=(len(labels), 3))
    _, h_exact = ll.get("sparse_cce", from_logits=True).as_lightgbm_objective()(labels, margins)
    _, h_lgb = ll.get("sparse_cce", from_logits=True).as_lightgbm_objective(
        hessian="library")(labels, margins)
    _, h_xgb = ll.get("sparse_cce", from_logits=True).as_xgboost_objective(
        hessian="library")(labels, margins)
    np.testing.assert_allclose(h_lgb, 1.5 * h_exact, rtol=1e-15)
    np.testing.assert_allclose(h_xgb, 2.0 * h_exact, rtol=1e-15)


def test_multiclass_preds_layout_is_checked():
    obj = ll.get("sparse_cce", from_logits=True).as_xgboost_objective()
    labels = np.array([0, 1, 2, 1, 0])
    margins = np.zeros((5, 3))
    g, h = obj(labels, margins)
    assert g.shape == h.shape == (5, 3)
    with pytest.raises(ValueError, match=r"got \(3, 5\) \(class-major: transpose it\)"):
        obj(labels, margins.T)
    with pytest.raises(ValueError, match="A flat array is ambiguous"):
        obj(labels, margins.ravel())
    with pytest.raises(ValueError, match="hessian='library' follows a built-in objective of "
                                         "xgboost; Huber"):
        ll.get("huber").as_xgboost_objective(hessian="library")
    with pytest.raises(ValueError, match="has none"):
        ll.get("bce", from_logits=True, label_smoothing=0.1).as_lightgbm_objective(
            hessian="library")
    score = ll.get("sparse_cce", from_logits=True).as_lightgbm_objective().init_score(labels)
    np.testing.assert_allclose(np.exp(score[0]), [0.4, 0.4, 0.2], rtol=1e-14)  # log frequencies


def test_a_target_that_requires_grad_is_refused_not_silently_ignored():
    torch = pytest.importorskip("torch")
    module = ll.get("mse").to_torch()
    x = torch.randn(5, dtype=torch.float64, requires_grad=True)
    t = torch.randn(5, dtype=torch.float64, requires_grad=True)
    # before: the target got no gradient (F.mse_loss gives it -2 e / n)
    with pytest.raises(ValueError, match="target requires grad .* pass target.detach"):
        module(x, t)
    w = torch.ones(5, dtype=torch.float64, requires_grad=True)
    with pytest.raises(ValueError, match="sample_weight requires grad"):
        module(x, t.detach(), sample_weight=w)
    # detached, or with autograd off, it computes as before (oracle: F.mse_loss, 1e-15)
    value = module(x, t.detach())
    assert float(value) == pytest.approx(float(torch.nn.functional.mse_loss(x, t)), rel=1e-15)
    with torch.no_grad():
        assert float(module(x, t)) == pytest.approx(float(value), rel=0)
