"""The contract every loss follows: value, gradient, fused value-and-gradient, hessian, info.

A loss names its inputs in order (``inputs``; ``("y_true", "y_pred")`` unless it says otherwise)
and the ones it is differentiable in (``differentiable``), declares its metadata and domains as
data, and implements one method, ``_kernel(xp, inputs, order)``: ``inputs`` is the tuple of
validated arrays in ``inputs`` order, and it returns the *unreduced* value and, next to it, its
derivatives with respect to each differentiable input exactly as passed (logits when
``from_logits=True``): one array per differentiable input, or a tuple of them.

* ``order=0``: ``(value, None, None)``
* ``order=1``: ``(value, gradient(s), None)``
* ``order=2``: ``(value, gradient(s), hessian diagonal(s))``

Losses over a class axis receive class-major arrays, (n_classes, n_samples), and return
class-major derivatives (see ``_math``: it keeps NumPy's loops long); users never see that layout.
Coupled losses (one sample's value depends on other samples' inputs, e.g. ntxent) receive one
more trailing input, the per-sample coefficients ``c`` of the reduction, and return the
derivatives of ``sum_i c_i l_i`` themselves, since scaling rows afterwards would be wrong.

Everything else (converting inputs, validation, sample weights, reductions, the array namespace)
happens in one pipeline, ``PreparedLoss`` (``_prepared``): every public method is
``loss.prepare(fixed inputs, ...)`` applied to the differentiable ones. Kernels must return fresh
arrays (never an input array), because the reduction scales derivatives in place on NumPy.

Reductions (the same for every loss):

* ``"none"``: the unreduced values, times ``sample_weight`` when given; the gradient is the
  elementwise derivative of that.
* ``"sum"``: sum(w * l).
* ``"mean"``: mean(l) without weights; sum(w * l) / sum(w) with weights (scikit-learn's
  convention); weights that are all 0 are refused. Samples a loss ignores (``ignore_index``,
  ntxent anchors without a positive) get weight 0 and leave the denominator. When nothing is left
  to average (every target ignored) the value is 0 and the derivatives 0.

The gradient and hessian of a reduced value carry the same normalisation as the value.
"""

from __future__ import annotations

import abc
import inspect
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from . import _arrays as A
from . import _validation as V
from ._prepared import PreparedLoss


@dataclass(frozen=True)
class LossInfo:
    """Metadata of a loss, as data. Every field is filled for every registered loss."""

    name: str
    aliases: tuple[str, ...]
    task: str  # regression | binary | multiclass | multilabel
    summary: str
    formula: str  # unreduced loss, plain text
    formula_latex: str
    gradient: str  # derivative of the unreduced loss w.r.t. y_pred, plain text
    gradient_latex: str
    y_true_domain: str
    y_pred_domain: str
    activation: str  # output activation the loss pairs with
    convex: str  # convexity in y_pred as passed
    nondifferentiable: str  # where, and which subgradient is used
    outlier_sensitivity: str
    noise_model: str | None  # maximum-likelihood noise model, where there is one
    hessian: str  # "exact" or "diagonal"
    hvp: bool  # exact Hessian-vector products (``loss.hvp``): elementwise or with the cross terms
    reduces_class_axis: bool  # unreduced value per sample (True) or per element (False)
    convention: str  # which library the defaults follow, and where libraries disagree
    references: tuple[str, ...]
    hyperparameters: dict = field(default_factory=dict)
    inputs: tuple[str, ...] = ("y_true", "y_pred")  # the arrays the loss takes, in order
    differentiable: tuple[str, ...] = ("y_pred",)  # those the derivatives are taken with respect to
    # input name -> its domain as data: an Interval, a LabelSet, a ClassIndex, or None (any real
    # number; integers for integer inputs). Validation, export, models and cards read these.
    domains: dict = field(default_factory=dict)
    batch_axes: dict = field(default_factory=dict)  # input name -> the axis that indexes samples
    integer_inputs: tuple[str, ...] = ()  # inputs kept as integers (class indices, labels, lengths)
    # hyperparameter -> Control (range, step, values a card draws): how pictures vary it
    controls: dict = field(default_factory=dict)
    estimates: str = ""  # what a model fitted with this loss estimates ("the conditional median")

    @property
    def single_input(self) -> bool:
        """A loss of (y_true, y_pred): what models, training and the estimators fit."""
        return tuple(self.inputs) == ("y_true", "y_pred")



class Loss(abc.ABC):
    """Base class of every losslab loss. See the module docstring for the contract."""

    # ---- metadata declared by each subclass (data, not code) --------------------------------
    name: ClassVar[str]
    aliases: ClassVar[tuple[str, ...]] = ()
    task: ClassVar[str]
    summary: ClassVar[str]
    formula: ClassVar[str]
    formula_latex: ClassVar[str]
    gradient_formula: ClassVar[str]
    gradient_latex: ClassVar[str]
    activation: ClassVar[str] = "identity"
    convex: ClassVar[str] = "yes"
    nondifferentiable: ClassVar[str] = "nowhere"
    outlier_sensitivity: ClassVar[str] = "n/a"
    noise_model: ClassVar[str | None] = None
    hessian_kind: ClassVar[str] = "exact"
    convention: ClassVar[str] = ""
    references: ClassVar[tuple[str, ...]] = ()
    # shape rule: "same" (y_true and y_pred alike), "class_index" (y_true (N,), y_pred (N, C)),
    # "rows" (both (N, C), the loss sums over the last axis), "samples" (both (N, ...), the loss
    # reduces every non-batch axis: one value per sample), "multi" (declared by the loss)
    shape_rule: ClassVar[str] = "same"
    inputs: ClassVar[tuple[str, ...]] = ("y_true", "y_pred")
    differentiable: ClassVar[tuple[str, ...]] = ("y_pred",)
    batch_axes: ClassVar[tuple[int, ...] | None] = None  # per input; None: all 0
    integer_inputs: ClassVar[tuple[str, ...]] = ()  # kept as integers (class indices, lengths)
    coupled: ClassVar[bool] = False  # see the module docstring
    # The verification: the hyperparameter settings ``losslab verify`` cycles through, and what
    # its PyTorch oracle is (a torch built-in, or the formula in torch ops), as its table shows.
    verify_settings: ClassVar[tuple[dict, ...]] = ({},)
    torch_reference: ClassVar[str | None] = None
    # Pictures and the explorer: hyperparameter -> Control (its range, step, the values a card
    # draws), for each numeric hyperparameter that changes the curve's shape.
    controls: ClassVar[dict] = {}
    # What a model fitted with the loss estimates (formatted with the hyperparameters), and the
    # held-out check of it the advisor runs: (check name, its ideal value or the name of the
    # hyperparameter that holds it, or None where there is no ideal).
    estimates: ClassVar[str] = ""
    estimate_check: ClassVar[tuple] = ("none", None)

    def __init__(self, *, check_finite: bool = True):
        self.check_finite = V.check_bool(check_finite, "check_finite")

    # ---- domains (may depend on hyperparameters such as from_logits) ------------------------
    def _y_true_domain(self):
        return None

    def _y_pred_domain(self):
        return None

    def _input_domains(self) -> dict:
        """Input name -> Interval / LabelSet / ClassIndex / None."""
        return {"y_true": self._y_true_domain(), "y_pred": self._y_pred_domain()}

    @property
    def reduces_class_axis(self) -> bool:
        return self.shape_rule in ("class_index", "rows", "samples", "multi")

    # ---- hyperparameters, repr, equality, pickling -------------------------------------------
    @classmethod
    def _param_names(cls) -> tuple[str, ...]:
        names = cls.__dict__.get("_PARAM_NAMES")  # per class: a subclass has its own signature
        if names is None:
            sig = inspect.signature(cls.__init__)
            names = tuple(p.name for p in sig.parameters.values()
                          if p.kind is p.KEYWORD_ONLY and p.name != "check_finite")
            cls._PARAM_NAMES = names
        return names

    def get_params(self) -> dict:
        """The hyperparameters, as passed to the constructor (keyword -> value)."""
        out = {}
        for n in self._param_names():
            v = getattr(self, n)
            out[n] = tuple(float(x) for x in v) if isinstance(v, np.ndarray) else v
        return out

    def __repr__(self) -> str:
        parts = [f"{k}={v!r}" for k, v in self.get_params().items()]
        if not self.check_finite:
            parts.append("check_finite=False")
        return f"{type(self).__name__}({', '.join(parts)})"

    def __eq__(self, other) -> bool:
        return (type(self) is type(other) and self.get_params() == other.get_params()
                and self.check_finite == other.check_finite)

    def __hash__(self) -> int:
        return hash((type(self), tuple(sorted((k, repr(v)) for k, v in self.get_params().items()))))

    @property
    def info(self) -> LossInfo:
        domains = self._input_domains()
        return LossInfo(
            name=self.name,
            aliases=tuple(self.aliases),
            task=self.task,
            summary=self.summary,
            formula=self.formula,
            formula_latex=self.formula_latex,
            gradient=self.gradient_formula,
            gradient_latex=self.gradient_latex,
            y_true_domain=self._domain_text(self._y_true_domain()),
            y_pred_domain=self._domain_text(self._y_pred_domain()),
            activation=self._activation_text(),
            convex=self.convex,
            nondifferentiable=self.nondifferentiable,
            outlier_sensitivity=self.outlier_sensitivity,
            noise_model=self.noise_model,
            hessian=self.hessian_kind,
            hvp=self.has_hvp,
            reduces_class_axis=self.reduces_class_axis,
            convention=self.convention,
            references=tuple(self.references),
            hyperparameters=self.get_params(),
            inputs=tuple(self.inputs),
            differentiable=tuple(self.differentiable),
            domains={n: domains.get(n) for n in self.inputs},
            batch_axes={n: self._batch_axis(n) for n in self.inputs},
            integer_inputs=tuple(self.integer_inputs),
            controls=dict(self.controls),
            estimates=self.estimand()[0],
        )

    def estimand(self) -> tuple:
        """(what a model fitted with this loss estimates, the held-out check of it, the check's
        ideal value or None), from the declared ``estimates`` and ``estimate_check``."""
        params = self.get_params()
        check, ideal = self.estimate_check
        if isinstance(ideal, str):
            ideal = params[ideal]
        return self.estimates.format(**params), check, ideal

    def _repr_html_(self) -> str:
        """The loss's card in a notebook (Jupyter, VS Code, Colab): its fields, the formulas as
        MathML, and its value and slope along its probe."""
        from ._card import card_html

        return card_html(self)

    def probe(self):
        """The x axis a picture of this loss is drawn along and its curves (a ``Probe``; see
        ``_curves``): chosen from the declared task, shape rule and domains unless a loss
        declares its own."""
        from ._curves import default_probe

        return default_probe(self)

    def _activation_text(self) -> str:
        return self.activation

    @staticmethod
    def _domain_text(domain) -> str:
        if domain is None:
            return "real numbers"
        text = str(domain)
        note = getattr(domain, "note", "")
        return f"{text} ({note})" if note else text

    # ---- the public contract -------------------------------------------------------------------
    def __call__(self, *inputs, sample_weight=None, reduction="mean", **named):
        """The loss value: unreduced (``"none"``), ``"sum"`` or ``"mean"`` (weighted mean)."""
        return self._evaluate(inputs, named, sample_weight, reduction, 0)[0]

    def gradient(self, *inputs, sample_weight=None, reduction="mean", **named):
        """d value / d y_pred, with the shape of ``y_pred`` (one array per differentiable input,
        as a tuple, for losses of several inputs)."""
        return self._unpack(self._evaluate(inputs, named, sample_weight, reduction, 1)[1])

    def value_and_gradient(self, *inputs, sample_weight=None, reduction="mean", **named):
        """(value, gradient) from one pass over the data."""
        value, grads, _ = self._evaluate(inputs, named, sample_weight, reduction, 1)
        return value, self._unpack(grads)

    def hessian(self, *inputs, sample_weight=None, reduction="mean", **named):
        """Diagonal of d2 value / d y_pred2, with the shape of ``y_pred`` (see ``info.hessian``)."""
        self._check_has_hessian()
        return self._unpack(self._evaluate(inputs, named, sample_weight, reduction, 2)[2])

    def hvp(self, *inputs, v, sample_weight=None, reduction="mean", **named):
        """The exact Hessian-vector product of the reduced value with respect to the
        differentiable input(s), ``v`` shaped like them (see ``PreparedLoss.hvp``)."""
        arrays = self._named(inputs, named, self.inputs)
        fixed = {n: arrays[n] for n in self.inputs if n not in self.differentiable}
        prepared = PreparedLoss(self, fixed, sample_weight, reduction)
        return prepared.hvp(*(arrays[n] for n in self.differentiable), v=v)

    def init_score(self, y_true, sample_weight=None, *, n_classes=None):
        """The optimal constant prediction (raw score): what a boosting library starts from
        (``base_margin`` / ``init_score``) and where a linear fit starts its intercept. Exact:
        closed forms where they exist, else the root of the summed derivative to the last bit.

        >>> import losslab as ll
        >>> ll.get("mse").init_score([1.0, 2.0, 6.0])
        3.0
        """
        from ._constant import init_score

        return init_score(self, y_true, sample_weight, n_classes)

    def prepare(self, *fixed, sample_weight=None, reduction="mean", **named) -> PreparedLoss:
        """The loss with its fixed inputs (the ones it is not differentiable in: ``y_true``;
        labels, lengths) validated and converted once; see ``PreparedLoss``.

        >>> import losslab as ll
        >>> p = ll.get("mse").prepare([0.0, 1.0])
        >>> float(p.value([1.0, 1.0])), p.values([[1.0, 1.0], [0.0, 1.0]]).tolist()
        (0.5, [0.5, 0.0])
        """
        fixed_names = tuple(n for n in self.inputs if n not in self.differentiable)
        return PreparedLoss(self, self._named(fixed, named, fixed_names), sample_weight, reduction)

    def sample_inputs(self, rng, n: int = 8) -> tuple:
        """Random valid inputs for about ``n`` samples, in ``info.inputs`` order (NumPy float64,
        integer labels), kept away from kinks: what the verification and the tests draw."""
        raise NotImplementedError(f"{self.name} has no sampler of inputs")

    def n_samples(self, *inputs, **named) -> int:
        """The number of samples in these inputs: the length ``sample_weight`` has (the batch axis
        of the first differentiable input)."""
        arrays = self._named(inputs, named, self.inputs)
        name = self.differentiable[0]
        return int(np.shape(arrays[name])[self._batch_axis(name)])

    def sample_mask(self, *inputs, **named):
        """Which samples count in a mean (a boolean array over the unreduced values), or None
        when every sample counts. Samples with ``ignore_index`` targets, or ntxent anchors
        without a positive, do not."""
        arrays = self._named(inputs, named, self.inputs)
        prepared = PreparedLoss(self, {n: arrays[n] for n in self.inputs
                                       if n not in self.differentiable})
        diff = [arrays[n] for n in self.differentiable]
        xp, like = A.namespace(*diff, *prepared._fixed.values())
        bound = prepared._bind(xp, like, prepared._diff_inputs(xp, like, diff))[0]
        return self._sample_mask(xp, bound)

    # ---- export (imports the framework only when called) --------------------------------------
    def to_torch(self, *, reduction="mean"):
        """A ``torch.nn.Module`` whose backward is this loss's analytic gradient (see
        ``losslab.export.to_torch``)."""
        from ._export import to_torch

        return to_torch(self, reduction=reduction)

    def as_xgboost_objective(self, *, min_hessian=1e-6, hessian="exact"):
        """(gradient, hessian) callable for XGBoost, on raw margins (``losslab.export``);
        ``hessian="library"`` follows the built-in objective's convention."""
        from ._export import boosting_objective

        return boosting_objective(self, "xgboost", min_hessian=min_hessian, hessian=hessian)

    def as_lightgbm_objective(self, *, min_hessian=1e-6, hessian="exact"):
        """(gradient, hessian) callable for LightGBM, on raw margins (``losslab.export``);
        ``hessian="library"`` follows the built-in objective's convention."""
        from ._export import boosting_objective

        return boosting_objective(self, "lightgbm", min_hessian=min_hessian, hessian=hessian)

    # ---- machinery: the hooks the pipeline calls ------------------------------------------------
    @abc.abstractmethod
    def _kernel(self, xp, inputs, order):
        """(value, gradient(s), hessian(s)) of the unreduced loss; see the module docstring."""

    @property
    def _pair(self) -> bool:
        """A loss of (y_true, y_pred): derivatives come back as one array, not a tuple."""
        return tuple(self.inputs) == ("y_true", "y_pred") and self.shape_rule != "multi"

    def _unpack(self, derivatives):
        return derivatives[0] if self._pair and derivatives is not None else derivatives

    @property
    def has_hvp(self) -> bool:
        """Exact Hessian-vector products: true where the hessian diagonal is the whole hessian
        (``info.hessian == "exact"``); losses with cross terms they compute say so themselves."""
        return self.hessian_kind == "exact"

    def _check_has_hvp(self):
        if not self.has_hvp:
            raise TypeError(
                f"{self.name} has no exact Hessian-vector product: its hessian is "
                f"'{self.hessian_kind}' (info.hessian), so a product built from it would drop the "
                "cross terms; use first derivatives, or finite differences of the gradient")

    def _hvp_kernel(self, xp, arrays, vectors):
        """The unreduced Hessian-vector product, one array per differentiable input. Here: the
        hessian diagonal times v (exact when the diagonal is the whole hessian)."""
        _, _, hess = self._run_kernel(xp, arrays, 2)
        return tuple(h * vec for h, vec in zip(hess, vectors))

    def _check_has_hessian(self):
        if self.hessian_kind == "none":
            raise TypeError(f"{self.name} provides no hessian (info.hessian is 'none'); its "
                            "gradient is exact")

    def _named(self, arrays, named, names):
        """Inputs given by position (in ``names`` order) and by name, as a dict over ``names``."""
        what = ", ".join(names) or "none"
        if len(arrays) > len(names):
            raise TypeError(f"{self.name} takes {len(names)} input(s) here ({what}), got {len(arrays)}")
        values = dict(zip(names, arrays))
        for k, v in named.items():
            if k not in names:
                hint = (f"; {k!r} is differentiable: pass it to the prepared loss's methods"
                        if k in self.inputs else f"; its inputs are {', '.join(self.inputs)}")
                raise TypeError(f"{self.name} has no input {k!r} here{hint}")
            if k in values:
                raise TypeError(f"{self.name} got input {k!r} twice")
            values[k] = v
        missing = [n for n in names if n not in values]
        if missing:
            raise TypeError(f"{self.name} is missing input(s) {', '.join(missing)}; "
                            f"its inputs are {', '.join(self.inputs)}")
        return values

    def _evaluate(self, inputs, named, sample_weight, reduction, order):
        arrays = self._named(inputs, named, self.inputs)
        fixed = {n: arrays[n] for n in self.inputs if n not in self.differentiable}
        prepared = PreparedLoss(self, fixed, sample_weight, reduction)
        return prepared.evaluate(tuple(arrays[n] for n in self.differentiable), order)

    def _batch_axis(self, name) -> int:
        return 0 if self.batch_axes is None else self.batch_axes[self.inputs.index(name)]

    def _check_shapes(self, arrays):
        """Shapes of the inputs, by ``shape_rule``; losses of several inputs override this."""
        y_true, y_pred = arrays
        rule = self.shape_rule
        if rule == "same":
            V.check_same_shape(y_true, y_pred, "y_true", "y_pred")
            return
        if rule == "samples":
            V.check_same_shape(y_true, y_pred, "y_true", "y_pred")
            if y_pred.ndim < 2:
                raise ValueError("y_pred must have a batch axis and at least one more, shape "
                                 f"(n_samples, ...), got {tuple(y_pred.shape)}")
            return
        if y_pred.ndim != 2:
            raise ValueError(
                f"y_pred must have shape (n_samples, n_classes), got {tuple(y_pred.shape)}")
        if y_pred.shape[1] < 2:
            raise ValueError(f"y_pred must have at least 2 classes, got shape {tuple(y_pred.shape)}")
        if rule == "rows":
            V.check_same_shape(y_true, y_pred, "y_true", "y_pred")
        elif tuple(y_true.shape) != (y_pred.shape[0],):
            raise ValueError(
                "y_true must hold one class index per row of y_pred; "
                f"got y_true {tuple(y_true.shape)} and y_pred {tuple(y_pred.shape)}")

    def _class_index_kwargs(self, arrays) -> dict:
        """What a ClassIndex domain is checked against: the number of classes (last axis of the
        first differentiable input) and the ignored index, if any."""
        first = arrays[self.inputs.index(self.differentiable[0])]
        return {"n_classes": first.shape[-1], "ignore_index": getattr(self, "ignore_index", None)}

    def _standardise(self, xp, arrays):
        """Map validated inputs to the form the kernel uses (e.g. labels {0, 1} -> {-1, +1})."""
        return arrays

    def _value_shape(self, arrays):
        y_pred = arrays[-1]
        return tuple(y_pred.shape[:1]) if self.reduces_class_axis else tuple(y_pred.shape)

    def _sample_mask(self, xp, arrays):
        """Boolean array over the unreduced values: which samples count (None: all)."""
        return None

    def _run_kernel(self, xp, arrays, order):
        """Call the kernel, derivatives as tuples; losses over a class axis get class-major (C, N)
        arrays and return class-major derivatives, put back in the caller's (N, C) layout here."""
        if self.shape_rule in ("class_index", "rows"):
            y_true, y_pred = arrays
            y_true = A.transpose(xp, y_true) if y_true.ndim == 2 else y_true
            value, grad, hess = self._kernel(xp, (y_true, A.transpose(xp, y_pred)), order)
            grad, hess = A.transpose(xp, grad), A.transpose(xp, hess)
        else:
            value, grad, hess = self._kernel(xp, arrays, order)
        return value, _as_tuple(grad), _as_tuple(hess)

    def _expand_scale(self, xp, s, name, ndim):
        """Give a per-sample (or per-value) scale the derivative's number of axes: the batch axis
        goes where the input has it and the axes the loss reduced are appended (losses that
        reduce other axes override this)."""
        b = self._batch_axis(name)
        return xp.reshape(s, (1,) * b + tuple(s.shape) + (1,) * (ndim - b - s.ndim))


def _as_tuple(d):
    return d if d is None or isinstance(d, tuple) else (d,)
