"""Any Array-API array in, the same namespace out, the same numbers as NumPy (1e-13 relative).

Oracle: losslab's own NumPy path, which the rest of the suite checks against PyTorch and finite
differences. Namespaces: array-api-strict (the standard, nothing more) and PyTorch CPU tensors.
"""

import array_api_strict as xs
import numpy as np
import pytest
import torch

from conftest import as_tuple, make, methods

NAMESPACES = {
    "array_api_strict": (lambda a: xs.asarray(a), "array_api_strict"),
    "torch": (lambda a: torch.asarray(a), "torch"),
}


@pytest.mark.parametrize("ns", list(NAMESPACES))
def test_every_loss_in_every_namespace(case, ns):
    to, module = NAMESPACES[ns]
    loss = make(case)
    inputs = loss.sample_inputs(np.random.default_rng(5), 9)
    w = np.random.default_rng(6).uniform(0.5, 1.5, size=loss.n_samples(*inputs))
    converted = [to(a) for a in inputs]
    for reduction in ("none", "mean"):
        v0, g0 = loss.value_and_gradient(*inputs, sample_weight=w, reduction=reduction)
        v, g = loss.value_and_gradient(*converted, sample_weight=to(w), reduction=reduction)
        h = h0 = ()
        if len(methods(loss)) == 3:
            h0 = loss.hessian(*inputs, sample_weight=w, reduction=reduction)
            h = loss.hessian(*converted, sample_weight=to(w), reduction=reduction)
        pairs = [(v, v0)] + list(zip(as_tuple(g), as_tuple(g0))) + list(zip(as_tuple(h), as_tuple(h0)))
        for ours, ref in pairs:
            assert type(ours).__module__.split(".")[0] == module
            np.testing.assert_allclose(np.asarray(ours), ref, rtol=1e-13, atol=1e-300)


def test_mixed_inputs_follow_the_array_namespace():
    import losslab as ll

    g = ll.get("mse").gradient([1.0, 2.0], torch.tensor([1.5, 2.5], dtype=torch.float64))
    assert isinstance(g, torch.Tensor) and g.dtype == torch.float64
    g32 = ll.get("huber").gradient(np.zeros(2), torch.tensor([1.5, 0.5]))
    assert g32.dtype == torch.float32  # the prediction's precision is kept


def test_errors_are_the_same_in_other_namespaces():
    import losslab as ll

    with pytest.raises(ValueError, match=r"y_pred must be finite; 1 of 2 values"):
        ll.get("mse")(xs.asarray([1.0, 2.0]), xs.asarray([1.0, float("nan")]))
    with pytest.raises(ValueError, match=r"y_pred must be in \[0, 1\]"):
        ll.get("bce")(torch.tensor([1.0, 0.0]), torch.tensor([1.5, 0.5]))
