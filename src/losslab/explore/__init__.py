"""``losslab explore``: an interactive lab in the browser, computing live with losslab's own
kernels (no second implementation of any loss in JavaScript).

Built on Dash: the report already draws with Plotly, and Dash serves Plotly figures whose
callbacks run in Python, so every curve, fit and path on the page is a losslab computation.
Pages (tabs):

* loss explorer: any plotted loss, its main hyperparameter as a slider, value, exact gradient
  and hessian along the error (regression) or the score (classification), other losses
  overlaid, the value at a chosen point, and the focal family (focal against p_t for several
  gammas);
* regression playground: points with outliers (count and size as sliders); each point is an
  editable shape to drag, a click on the plot adds one; the lines of MSE, MAE, Huber and the
  tau-quantile at their exact optima (``LossRegressor``'s solvers), refitted on each drop;
* classification playground: imbalance ratio and focal gamma as sliders, precision-recall
  curves of BCE, class-weighted BCE and focal, with their average precision;
* landscape: the course's (w, b) MSE surface or a demonstration surface, an optimiser, its
  learning rate and momentum as sliders, the path drawn, the critical points marked.

Dash is an optional extra (``pip install -e '.[explore]'``).
"""

from ._app import make_app, serve
from ._compute import classification_data, colour, grouped
from ._state import defaults as default_state
from ._state import encode as address
from ._state import parse as state_from_address


def __getattr__(name):
    # the notebook widget needs the notebook extra (ipywidgets, anywidget): imported when asked
    if name == "LossExplorer":
        from ._widget import LossExplorer

        return LossExplorer
    raise AttributeError(f"module 'losslab.explore' has no attribute {name!r}")


__all__ = ["LossExplorer", "address", "classification_data", "colour", "default_state", "grouped",
           "make_app", "serve", "state_from_address"]
