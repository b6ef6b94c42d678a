"""Time losslab's models and training loop against PyTorch on the CPU, in the same run.

1. One gradient: ``model.value_and_grad`` (forward, loss, backward) of an MLP against the same
   network in torch (forward, loss, ``backward()``), float64, for three losses.
2. Training: ``ll.train`` with mini-batch Adam against a plain torch loop (``torch.optim.Adam``,
   the same batches), float64, same number of epochs.
3. Small problems: 2000 steps of ``optim.minimize`` with Adam on Rosenbrock against a torch loop.

Times are medians of ``--repeat`` runs after a warm-up; ``speed-up`` = torch time / losslab time.
Usage: python benchmarks/bench_training.py [--repeat 5] [--n 4096] [--width 128]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

import losslab as ll
from bench_losses import _median_time as _median  # same timing rule as the loss benchmark
from losslab import models, optim


def _torch_mlp(model):
    layers, fan_in = [], model.n_features
    for i, w in enumerate(model.hidden):
        lin = torch.nn.Linear(fan_in, w).double()
        with torch.no_grad():
            lin.weight.copy_(torch.tensor(model.params[f"W{i}"].T))
            lin.bias.copy_(torch.tensor(model.params[f"b{i}"]))
        layers += [lin, torch.nn.ReLU()]
        fan_in = w
    out = torch.nn.Linear(fan_in, model.n_outputs).double()
    with torch.no_grad():
        out.weight.copy_(torch.tensor(model.params["W_out"].T))
        out.bias.copy_(torch.tensor(model.params["b_out"]))
    return torch.nn.Sequential(*layers, out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--n", type=int, default=4096)
    ap.add_argument("--width", type=int, default=128)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    n, d, w = args.n, 32, args.width
    X = rng.normal(size=(n, d))
    tX = torch.tensor(X)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; n={n}, d={d}, "
          f"MLP({d}, ({w}, {w}))")
    print(f"{'benchmark':<44}{'losslab ms':>12}{'torch ms':>12}{'speed-up':>10}")
    rows = []
    cases = [
        ("value_and_grad mse", "mse", 1, rng.normal(size=n), torch.nn.functional.mse_loss),
        ("value_and_grad huber", ll.get("huber"), 1, rng.normal(size=n),
         torch.nn.functional.huber_loss),
        ("value_and_grad sparse_cce (logits)", ll.get("sparse_cce", from_logits=True), 10,
         rng.integers(0, 10, n), torch.nn.functional.cross_entropy),
    ]
    for label, loss, k, y, tloss in cases:
        loss = ll.get(loss) if isinstance(loss, str) else loss
        model = models.MLP(d, (w, w), k, seed=0)
        net = _torch_mlp(model)
        ty = torch.tensor(y)

        def ours():
            model.value_and_grad(loss, X, y)

        def theirs():
            net.zero_grad()
            out = net(tX)
            tloss(out[:, 0] if k == 1 else out, ty).backward()

        rows.append((label, _median(ours, args.repeat), _median(theirs, args.repeat)))
    # training: 5 epochs of mini-batch Adam, batch 128
    y = rng.normal(size=n)
    epochs, batch = 5, 128

    def ours_train():
        ll.train(models.MLP(d, (w, w), seed=0), "mse", X, y, optimizer=optim.Adam(1e-3),
                 epochs=epochs, batch_size=batch, seed=0, progress=False)

    def theirs_train():
        net = _torch_mlp(models.MLP(d, (w, w), seed=0))
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        ty = torch.tensor(y)
        g = torch.Generator().manual_seed(0)
        for _ in range(epochs):
            perm = torch.randperm(n, generator=g)
            for s in range(0, n, batch):
                idx = perm[s:s + batch]
                opt.zero_grad()
                torch.nn.functional.mse_loss(net(tX[idx])[:, 0], ty[idx]).backward()
                opt.step()
            with torch.no_grad():  # the full-data cost per epoch, as ll.train records it
                torch.nn.functional.mse_loss(net(tX)[:, 0], ty)

    rows.append((f"train MLP, Adam, {epochs} epochs, batch {batch}",
                 _median(ours_train, args.repeat), _median(theirs_train, args.repeat)))

    def rosen(v):
        x, yv = v
        return ((1 - x) ** 2 + 100 * (yv - x * x) ** 2,
                np.array([-2 * (1 - x) - 400 * x * (yv - x * x), 200 * (yv - x * x)]))

    def ours_small():
        optim.minimize(rosen, (-1.2, 1.0), optim.Adam(0.01), steps=2000)

    def theirs_small():
        p = torch.tensor([-1.2, 1.0], dtype=torch.float64, requires_grad=True)
        opt = torch.optim.Adam([p], lr=0.01)
        for _ in range(2000):
            opt.zero_grad()
            f = (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2
            f.backward()
            opt.step()

    rows.append(("Rosenbrock, 2000 Adam steps", _median(ours_small, args.repeat),
                 _median(theirs_small, args.repeat)))
    for label, a, b in rows:
        print(f"{label:<44}{a * 1e3:>12.2f}{b * 1e3:>12.2f}{b / a:>9.2f}x")


if __name__ == "__main__":
    main()
