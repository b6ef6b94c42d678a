"""The exercises: each one a statement from a course chapter, a signature, the hidden cases it is
checked on, its reference answer computed by losslab, and the mistakes it can recognise.

An exercise is data (``Exercise``): its ``kind`` of inputs says how cases are drawn (``_cases``),
its ``reference`` is a losslab computation, and its ``mutants`` are the answers a learner gets by
making one known mistake; ``check`` names a mistake when the learner's answers match that
mutant on every case (and not the reference).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .._core import get

# the chapters (../seeds), as learners know them
CH4 = "Chapter 4: Loss Functions and the Cost Landscape"
DL = "Deep Learning: Loss Functions"
CH3 = "Chapter 3: Loss Functions & Optimization Basics"
OBJ = "Loss Functions & Objectives"
POST = "03-01 Loss Functions"


@dataclass(frozen=True)
class Exercise:
    """One exercise. ``kind``: how its inputs are drawn (see ``_cases``); ``inputs``: the
    argument names; ``params``: hyperparameter -> the values a learner may be given (the seed
    picks one); ``reference(inputs, params)``: the answer, computed by losslab; ``mutants``:
    (finding, function(inputs, params) -> the answer that one mistake gives);
    ``kinks``: the exercise has cases exactly at a kink (and the statement says the convention)."""

    name: str
    title: str
    source: str
    statement: str
    kind: str
    inputs: tuple
    params: dict
    reference: Callable
    returns: str
    mutants: tuple = ()
    kinks: str = ""
    extreme: bool = True  # draw extreme logits (not for losses that overflow there themselves)
    reduction: str = "mean"  # what the mean is over, for "sum instead of mean" ("elements"/"rows")

    def signature(self, params=None) -> str:
        params = self.params_for(None) if params is None else params
        kw = ", ".join(f"{k}={v!r}" for k, v in params.items())
        return f"def {self.name}({', '.join(self.inputs)}{', ' + kw if kw else ''}):"

    def params_for(self, seed) -> dict:
        """The hyperparameters of learner ``seed`` (None: the first value of each)."""
        if seed is None:
            return {k: v[0] for k, v in self.params.items()}
        rng = np.random.default_rng(seed_int(seed, self.name + ":params"))
        return {k: v[int(rng.integers(len(v)))] for k, v in self.params.items()}

    def text(self, seed=None) -> str:
        """The statement with the learner's own hyperparameters, and the signature."""
        params = self.params_for(seed)
        shown = ", ".join(f"{k} = {v!r}" for k, v in params.items())
        out = [f"{self.name}: {self.title}", f"From: {self.source}", "", self.statement]
        if self.kinks:
            out += ["", f"At the kink: {self.kinks}"]
        if shown:
            out += ["", f"Your hyperparameters: {shown} (the checker passes them as keywords)."]
        out += ["", f"Returns: {self.returns}", "", self.signature(params), "    ..."]
        return "\n".join(out)


def seed_int(seed, salt="") -> int:
    """A seed from an integer or a learner id (a string), the same on every machine."""
    text = f"{seed}|{salt}"
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


# ---- references, computed by losslab -------------------------------------------------------
def _value(loss, **fixed):
    def ref(x, p):
        return float(get(loss, **fixed, **p)(*x))
    return ref


def _grad(loss, **fixed):
    def ref(x, p):
        return np.asarray(get(loss, **fixed, **p).gradient(*x), dtype=np.float64)
    return ref


def _hess(loss, **fixed):
    def ref(x, p):
        return np.asarray(get(loss, **fixed, **p).hessian(*x), dtype=np.float64)
    return ref


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=np.float64)))


def _softmax(z, axis=-1):
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _swapped(ref):
    def mutant(x, p):
        return ref((x[1], x[0]) + tuple(x[2:]), p)
    return mutant


def _n(x, rows=False):
    a = np.asarray(x[1])
    return a.shape[0] if rows else a.size


# ---- common mistakes, as mutants -----------------------------------------------------------
def generic_mutants(ex: Exercise, gradient: bool):
    """Sign, sum for mean (or the per-sample gradient), swapped arguments."""
    rows = ex.reduction == "rows"
    ref = ex.reference
    out = [("sign flipped: the answer is the reference times -1",
            lambda x, p: -np.asarray(ref(x, p)))]
    if ex.reduction == "none":
        return out
    if gradient:
        out.append(("the gradient of the per-sample loss: the exercise asks for the gradient of "
                    "the mean, which is divided by the number of "
                    + ("samples" if rows else "elements") + " (the answer is n times too large)",
                    lambda x, p: np.asarray(ref(x, p)) * _n(x, rows)))
    else:
        out.append(("a sum instead of a mean: the answer is n times too large (divide by the "
                    "number of " + ("samples" if rows else "elements") + ")",
                    lambda x, p: np.asarray(ref(x, p)) * _n(x, rows)))
    if ex.kind in ("regression", "prob"):
        out.append(("y_true and y_pred swapped: the function takes (y_true, y_pred), in that "
                    "order", _swapped(ref)))
    return out


def _factor(k, why):
    def make(ref):
        return (why, lambda x, p: np.asarray(ref(x, p)) * k)
    return make


# ---- the bank ------------------------------------------------------------------------------
def _regression_pair(name, loss, title, source, formula, grad_formula, params=None,
                     kinks="", value_mutants=(), grad_mutants=(), fixed=None):
    fixed = fixed or {}
    params = params or {}
    v = Exercise(name, f"{title}: the mean value", source,
                 f"The mean over every element of {formula}, e = y_pred - y_true.",
                 "regression", ("y_true", "y_pred"), params, _value(loss, **fixed),
                 "a float", kinks=kinks)
    g = Exercise(f"{name}_gradient", f"{title}: the gradient of the mean", source,
                 f"The gradient of the mean of {formula} with respect to y_pred: {grad_formula} "
                 "divided by the number of elements, with the shape of y_pred.",
                 "regression", ("y_true", "y_pred"), params, _grad(loss, **fixed),
                 "an array shaped like y_pred", kinks=kinks)
    return [(v, value_mutants), (g, grad_mutants)]


def _build():
    pairs = []
    pairs += _regression_pair(
        "mse", "mse", "Mean squared error", f"{CH4}, 4.1; {POST}, MSE", "e^2", "2 e",
        value_mutants=[lambda r: ("a factor 1/2: the mean squared error has no 1/2 (that is "
                                  "the 'half MSE' some books use)",
                                  lambda x, p: 0.5 * np.asarray(r(x, p)))],
        grad_mutants=[lambda r: ("a missing factor 2: the derivative of e^2 is 2 e",
                                 lambda x, p: 0.5 * np.asarray(r(x, p)))])
    pairs += _regression_pair(
        "mae", "mae", "Mean absolute error", f"{CH4}, 4.2; {POST}, MAE", "|e|", "sign(e)",
        kinks="at e = 0 the gradient is 0 (the subgradient torch's autograd takes: sign(0) = 0)",
        grad_mutants=[lambda r: ("the wrong branch at the kink: at e = 0 the gradient is "
                                 "sign(0) = 0, not +1 or -1",
                                 lambda x, p: _kink_mae(x))])
    pairs += _regression_pair(
        "huber", "huber", "Huber loss", f"{CH4}, 4.3; {POST}, Huber",
        "0.5 e^2 where |e| <= delta, else delta (|e| - delta / 2)",
        "e where |e| <= delta, else delta sign(e)", params={"delta": (1.0, 0.5, 1.5, 2.0)},
        kinks="|e| = delta belongs to the quadratic branch (both branches meet there)",
        value_mutants=[lambda r: ("a missing factor 1/2 in the quadratic branch: Huber is "
                                  "0.5 e^2 where |e| <= delta",
                                  lambda x, p: _huber_no_half(x, p))])
    pairs += _regression_pair(
        "log_cosh", "log_cosh", "Log-cosh loss", f"{DL}, 7", "log(cosh(e))", "tanh(e)")
    pairs += _regression_pair(
        "quantile", "quantile", "Quantile (pinball) loss", f"{CH4}, 11",
        "max(q (y_true - y_pred), (q - 1)(y_true - y_pred)), q = quantile",
        "(1 - q) where y_pred > y_true, -q where y_pred < y_true, 0 where equal",
        params={"quantile": (0.5, 0.1, 0.25, 0.75, 0.9)},
        kinks="at e = 0 the gradient is 0",
        value_mutants=[lambda r: ("q and 1 - q exchanged: under-predictions cost q per unit",
                                  lambda x, p: _quantile_flipped(x, p))])
    pairs += _regression_pair(
        "smooth_l1", "smooth_l1", "Smooth L1 loss (the box loss of detectors)", f"{CH4}, 11",
        "0.5 e^2 / beta where |e| < beta, else |e| - beta / 2", "e / beta or sign(e)",
        params={"beta": (1.0, 0.5, 2.0)})
    pairs += _regression_pair(
        "asymmetric_mse", "asymmetric_mse", "Asymmetric MSE (a business loss)", f"{CH4}, 11",
        "w e^2 with w = under where y_pred < y_true (an under-prediction) and w = over "
        "elsewhere", "2 w e", params={"under": (3.0, 2.0, 5.0), "over": (1.0,)},
        value_mutants=[lambda r: ("under and over exchanged: under-predictions (y_pred < "
                                  "y_true) take the weight under",
                                  lambda x, p: r(x, {"under": p["over"], "over": p["under"]}))])
    pairs += _regression_pair(
        "msle", "msle", "Mean squared logarithmic error", f"{DL}, 7",
        "(log(1 + y_pred) - log(1 + y_true))^2 (targets and predictions >= 0)",
        "2 (log(1 + y_pred) - log(1 + y_true)) / (1 + y_pred)")
    # classification on probabilities
    bce_note = ("the mean over every element of -(y log p + (1 - y) log(1 - p)), p = y_pred, a "
                "probability; clip p to [eps, 1 - eps] (eps = 1e-7 or smaller) so that p = 0 "
                "or 1 gives a finite number")
    pairs += [
        (Exercise("bce", "Binary cross-entropy on probabilities: the mean value",
                  f"{CH4}, 4.4; {POST}, BCE", bce_note.capitalize() + ".", "prob",
                  ("y_true", "y_pred"), {}, _value("bce"), "a float"),
         [lambda r: ("logits where probabilities are expected: this exercise passes "
                     "probabilities (a sigmoid was applied to them)",
                     lambda x, p: float(get("bce", from_logits=True)(*x)))]),
        (Exercise("bce_gradient", "Binary cross-entropy on probabilities: the gradient",
                  f"{CH4}, 4.4", "The gradient of " + bce_note + ", with respect to y_pred: "
                  "(p - y) / (p (1 - p)) divided by the number of elements, taken at the "
                  "clipped p.", "prob", ("y_true", "y_pred"), {}, _grad("bce"),
                  "an array shaped like y_pred"),
         [lambda r: ("the gradient with respect to the logit (p - y) where the gradient with "
                     "respect to the probability is asked: divide by p (1 - p)",
                     lambda x, p: (np.asarray(x[1]) - np.asarray(x[0])) / np.asarray(x[1]).size)]),
    ]
    focal_note = ("the mean over every element of -alpha_t (1 - p_t)^gamma log(p_t), with p_t = p "
                  "and alpha_t = alpha where y = 1, p_t = 1 - p and alpha_t = 1 - alpha where y "
                  "= 0 (p = y_pred, a probability, clipped as in bce)")
    pairs += [
        (Exercise("focal", "Focal loss: the mean value", f"{CH4}, 4.7; {OBJ}",
                  focal_note.capitalize() + ".", "prob", ("y_true", "y_pred"),
                  {"gamma": (2.0, 1.0, 3.0), "alpha": (0.25, 0.5, 0.75)}, _value("focal"),
                  "a float"),
         [lambda r: ("alpha applied to the wrong class: alpha weighs the positives (y = 1), "
                     "1 - alpha the negatives",
                     lambda x, p: r(x, {"gamma": p["gamma"], "alpha": 1 - p["alpha"]})),
          lambda r: ("the focusing term (1 - p_t)^gamma is missing: that is alpha-weighted "
                     "cross-entropy", lambda x, p: r(x, {"gamma": 0.0, "alpha": p["alpha"]}))]),
        (Exercise("focal_gradient", "Focal loss: the gradient", f"{CH4}, 4.7",
                  "The gradient of " + focal_note + ", with respect to y_pred.", "prob",
                  ("y_true", "y_pred"), {"gamma": (2.0, 1.0, 3.0), "alpha": (0.25, 0.5, 0.75)},
                  _grad("focal"), "an array shaped like y_pred"), []),
    ]
    # on logits
    logit_note = ("the mean over every element of binary cross-entropy computed from the logit "
                  "z = y_pred: softplus(-z) where y = 1 and softplus(z) where y = 0, written so "
                  "that it stays finite for |z| in the hundreds (softplus(z) = max(z, 0) + "
                  "log(1 + exp(-|z|)))")
    pairs += [
        (Exercise("bce_logits", "Binary cross-entropy on logits: the mean value",
                  f"{CH4}, 7.4 (BCEWithLogitsLoss)", logit_note.capitalize() + ".", "logit",
                  ("y_true", "y_pred"), {}, _value("bce", from_logits=True), "a float"),
         [lambda r: ("a sigmoid applied twice: the function receives logits and must apply "
                     "the sigmoid once", lambda x, p: r((x[0], _sigmoid(x[1])), p))]),
        (Exercise("bce_logits_gradient", "Binary cross-entropy on logits: the gradient",
                  f"{CH4}, 4.4", "The gradient of " + logit_note + ", with respect to z: "
                  "(sigmoid(z) - y) divided by the number of elements.", "logit",
                  ("y_true", "y_pred"), {}, _grad("bce", from_logits=True),
                  "an array shaped like y_pred"),
         [lambda r: ("the gradient with respect to the probability where the gradient with "
                     "respect to the logit is asked: through the sigmoid it is p - y",
                     lambda x, p: get("bce").gradient(x[0], _sigmoid(x[1])))]),
        (Exercise("bce_logit_gradient", "Derive dL/dz for BCE with a sigmoid (per sample)",
                  f"{CH4}, 10 (derive dL/dz)", "For each sample, L = -(y log sigmoid(z) + (1 - y) "
                  "log(1 - sigmoid(z))). Return dL/dz for each sample (no mean): it simplifies "
                  "to sigmoid(z) - y.", "logit", ("y_true", "y_pred"), {},
                  lambda x, p: np.asarray(get("bce", from_logits=True).gradient(
                      *x, reduction="none"), dtype=np.float64),
                  "an array shaped like y_pred", reduction="none"),
         [lambda r: ("the sigmoid's derivative multiplied in again: dL/dz is sigmoid(z) - y, "
                     "the sigmoid' term cancels", lambda x, p: np.asarray(r(x, p))
                     * _sigmoid(x[1]) * (1 - _sigmoid(x[1])))]),
        (Exercise("bce_logits_hessian", "Binary cross-entropy on logits: the hessian diagonal",
                  f"{CH4}, 5.2", "The diagonal of the hessian of " + logit_note + ", with "
                  "respect to z: sigmoid(z) (1 - sigmoid(z)) divided by the number of elements.",
                  "logit", ("y_true", "y_pred"), {}, _hess("bce", from_logits=True),
                  "an array shaped like y_pred"), []),
    ]
    # margin losses (labels -1 / +1)
    for name, title, formula, grad_formula, kinks, extreme in (
            ("hinge", "Hinge loss", "max(0, 1 - y s)", "-y where y s < 1, else 0",
             "at y s = 1 the gradient is 0", True),
            ("squared_hinge", "Squared hinge loss", "max(0, 1 - y s)^2",
             "-2 y max(0, 1 - y s)", "", True),
            ("exponential", "Exponential loss (AdaBoost)", "exp(-y s)", "-y exp(-y s)", "",
             False),
            ("logistic", "Logistic loss", "log(1 + exp(-y s)), finite for |s| in the hundreds",
             "-y sigmoid(-y s)", "", True)):
        ex_v = Exercise(name, f"{title}: the mean value", f"{CH4}, 4.6 (implement and compare)",
                        f"The mean over every element of {formula}, with labels y = y_true in "
                        "{-1, +1} and scores s = y_pred.", "margin", ("y_true", "y_pred"), {},
                        _value(name), "a float", kinks=kinks, extreme=extreme)
        ex_g = Exercise(f"{name}_gradient", f"{title}: the gradient",
                        f"{CH4}, 4.6 (compare their gradients)",
                        f"The gradient of the mean of {formula} with respect to the scores: "
                        f"{grad_formula}, divided by the number of elements.", "margin",
                        ("y_true", "y_pred"), {}, _grad(name), "an array shaped like y_pred",
                        kinks=kinks, extreme=extreme)
        gm = []
        if name == "hinge":
            gm = [lambda r: ("the wrong branch at the kink: at a margin y s = 1 the hinge is "
                             "flat, its gradient 0 (not -y)", lambda x, p: _kink_hinge(x))]
        pairs += [(ex_v, []), (ex_g, gm)]
    # multi-class
    cce_note = ("the mean over samples (rows) of -sum_c y_c log p_c, y one-hot rows, p = y_pred "
                "rows of probabilities, clipped to [eps, 1] (eps = 1e-7 or smaller)")
    wrong_axis = ("the class sum over the wrong axis: sum over the classes (axis 1, the last), "
                  "then average over the samples")
    pairs += [
        (Exercise("cce", "Categorical cross-entropy: the mean value", f"{CH4}, 4.5; {DL}, 7",
                  cce_note.capitalize() + ".", "rows", ("y_true", "y_pred"), {}, _value("cce"),
                  "a float", reduction="rows"),
         [lambda r: (wrong_axis, lambda x, p: float(np.mean(np.sum(
             -np.asarray(x[0]) * np.log(np.clip(x[1], 1e-300, 1)), axis=0)))),
          lambda r: ("logits where probabilities are expected: this exercise passes "
                     "probability rows (a softmax was applied to them)",
                     lambda x, p: float(get("cce", from_logits=True)(*x)))]),
        (Exercise("cce_gradient", "Categorical cross-entropy: the gradient", f"{CH4}, 4.5",
                  "The gradient of " + cce_note + ", with respect to y_pred: -y / p divided by "
                  "the number of samples.", "rows", ("y_true", "y_pred"), {}, _grad("cce"),
                  "an array shaped like y_pred", reduction="rows"), []),
        (Exercise("cce_logits", "Cross-entropy on logits (torch's CrossEntropyLoss)",
                  f"{CH4}, 7.4", "The mean over samples of -sum_c y_c log softmax(z)_c with y "
                  "one-hot rows and z = y_pred rows of logits (no softmax applied yet); finite "
                  "for logits in the hundreds (log-sum-exp).", "rows_logit",
                  ("y_true", "y_pred"), {}, _value("cce", from_logits=True), "a float",
                  reduction="rows"),
         [lambda r: ("softmax applied twice: the function receives logits and applies the "
                     "softmax once (inside the log-sum-exp)",
                     lambda x, p: r((x[0], _softmax(x[1])), p)),
          lambda r: ("the softmax over the wrong axis: normalise each row (axis 1, the "
                     "classes), not each column",
                     lambda x, p: float(np.mean(np.sum(-np.asarray(x[0]) * np.log(
                         _softmax(x[1], axis=0)), axis=1))))]),
        (Exercise("cce_logits_gradient", "Cross-entropy on logits: the gradient", f"{CH4}, 4.5",
                  "The gradient of the mean over samples of -sum_c y_c log softmax(z)_c with "
                  "respect to the logits z: (softmax(z) - y) divided by the number of samples.",
                  "rows_logit", ("y_true", "y_pred"), {}, _grad("cce", from_logits=True),
                  "an array shaped like y_pred", reduction="rows"),
         [lambda r: ("the softmax over the wrong axis: normalise each row (axis 1, the "
                     "classes), not each column",
                     lambda x, p: (_softmax(x[1], axis=0) - x[0]) / np.shape(x[1])[0])]),
        (Exercise("sparse_cce", "Sparse categorical cross-entropy: the mean value",
                  f"{DL}, 16 (class indices)", "The mean over samples of -log p[i, y_i], y = "
                  "y_true integer class indices, p = y_pred rows of probabilities (clipped as "
                  "in cce).", "index", ("y_true", "y_pred"), {}, _value("sparse_cce"),
                  "a float", reduction="rows"), []),
        (Exercise("sparse_cce_gradient", "Sparse categorical cross-entropy: the gradient",
                  f"{DL}, 16", "The gradient of the mean over samples of -log p[i, y_i] with "
                  "respect to y_pred: -1 / p[i, y_i] in the true class's column, 0 elsewhere, "
                  "divided by the number of samples.", "index", ("y_true", "y_pred"), {},
                  _grad("sparse_cce"), "an array shaped like y_pred", reduction="rows"), []),
        (Exercise("kl_div", "KL divergence between distributions: the mean value", f"{DL}, 7",
                  "The mean over samples of sum_c t_c log(t_c / q_c), t = y_true and q = "
                  "y_pred rows of probabilities (terms with t_c = 0 count 0).", "rows_soft",
                  ("y_true", "y_pred"), {}, _value("kl_div"), "a float", reduction="rows"),
         [lambda r: ("the arguments' roles exchanged: KL(t || q) = sum t log(t / q), the "
                     "target first", _swapped(r))]),
    ]
    # hessians and others
    pairs += [
        (Exercise("mse_hessian", "MSE: the hessian diagonal", f"{CH4}, 5.2",
                  "The diagonal of the hessian of the mean squared error with respect to "
                  "y_pred: 2 divided by the number of elements, shaped like y_pred.",
                  "regression", ("y_true", "y_pred"), {}, _hess("mse"),
                  "an array shaped like y_pred"), []),
        (Exercise("huber_hessian", "Huber loss: the hessian diagonal", f"{CH4}, 5.2",
                  "The diagonal of the hessian of the mean Huber loss with respect to y_pred: "
                  "1 / n where |e| < delta, 0 elsewhere.", "regression", ("y_true", "y_pred"),
                  {"delta": (1.0, 0.5, 2.0)}, _hess("huber"), "an array shaped like y_pred",
                  kinks="at |e| = delta the second derivative is 0 (the linear branch's)"),
         [lambda r: ("the wrong branch at the kink: at |e| = delta the curvature is the linear "
                     "branch's, 0", lambda x, p: _kink_huber_hess(x, p))]),
        (Exercise("linear_mse_gradient", "The gradient of a line's MSE cost",
                  f"{CH3}, worked example; {CH4}, B7", "For the line y_hat = w x + b and J = "
                  "mean((y_hat - y)^2) over the samples, return (dJ/dw, dJ/db) as a tuple of two "
                  "floats.", "line", ("x", "y", "w", "b"), {}, _linear_mse_gradient,
                  "a tuple (dJ/dw, dJ/db)", reduction="none"),
         [lambda r: ("sign flipped: the residual is y_hat - y (or the minus sign of "
                     "-2/N sum (y - y_hat) x was dropped)", lambda x, p: -np.asarray(r(x, p))),
          lambda r: ("a missing factor 2: the derivative of (y_hat - y)^2 is 2 (y_hat - y)",
                     lambda x, p: 0.5 * np.asarray(r(x, p)))]),
        (Exercise("multi_task", "A loss for a model that classifies and predicts boxes",
                  f"{CH4}, 11 (multi-task)", "Return the mean binary cross-entropy on the "
                  "logits of the class (y_cls, z) plus lam times the mean smooth L1 loss "
                  "(beta = 1) of the box coordinates (box_true, box_pred, each (n, 4)).",
                  "multitask", ("y_cls", "z", "box_true", "box_pred"),
                  {"lam": (1.0, 0.5, 2.0)}, _multi_task, "a float", reduction="none"),
         [lambda r: ("the box term is not weighted by lam",
                     lambda x, p: _multi_task(x, {"lam": 1.0}))]),
    ]
    out = []
    for ex, extra in pairs:
        gradient = "gradient" in ex.name or "hessian" in ex.name
        own = [m(ex.reference) for m in extra]
        mutants = [g for g in generic_mutants(ex, gradient)
                   if not any(o[0].split(":")[0] == g[0].split(":")[0] for o in own)]
        mutants += own
        out.append(Exercise(**{**ex.__dict__, "mutants": tuple(mutants)}))
    return {ex.name: ex for ex in out}


# ---- the references and mutants that are not a losslab call as such ---------------------------
def _kink_mae(x):
    e = np.asarray(x[1], dtype=np.float64) - np.asarray(x[0], dtype=np.float64)
    return np.where(e >= 0, 1.0, -1.0) / e.size


def _kink_hinge(x):
    y, s = (np.asarray(a, dtype=np.float64) for a in x)
    return np.where(y * s <= 1, -y, 0.0) / s.size


def _kink_huber_hess(x, p):
    e = np.asarray(x[1], dtype=np.float64) - np.asarray(x[0], dtype=np.float64)
    return np.where(np.abs(e) <= p["delta"], 1.0, 0.0) / e.size


def _huber_no_half(x, p):
    e = np.asarray(x[1], dtype=np.float64) - np.asarray(x[0], dtype=np.float64)
    d = p["delta"]
    return float(np.mean(np.where(np.abs(e) <= d, e * e, d * (np.abs(e) - d / 2))))


def _quantile_flipped(x, p):
    return float(get("quantile", quantile=1 - p["quantile"])(*x))


def _linear_mse_gradient(x, p):
    xs, y, w, b = (np.asarray(v, dtype=np.float64) for v in x)
    g = get("mse").gradient(y, w * xs + b)
    return (float(g @ xs), float(g.sum()))


def _multi_task(x, p):
    y_cls, z, box_true, box_pred = x
    return (float(get("bce", from_logits=True)(y_cls, z))
            + p["lam"] * float(get("smooth_l1")(box_true, box_pred)))


EXERCISES = _build()
