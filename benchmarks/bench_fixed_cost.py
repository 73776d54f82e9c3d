"""What a fit costs before its first epoch: the intercept of fit time against epochs.

``GridSearchCV``, cross-validation and scikit-learn's estimator checks fit
many fresh models, so whatever a fit spends besides its epochs (set-up,
input statistics, copies, validation) is paid again on every one of them.
For each network this fits a fresh ``make_model(name, max_epochs=E)`` on
2,000 images of the course's shape for E in 1, 2, 4 and 8, ``--repeats``
times interleaved, and fits a straight line to the median time per E: its
intercept is the fixed cost per fit, its slope the time per epoch. Plain
skorch's ``NeuralNetClassifier`` with one linear layer (``only_fc``'s
network, ``train_split=None``) is measured the same way beside it.

Usage::

    python benchmarks/bench_fixed_cost.py --models only_fc,fc_with_hidden
    python benchmarks/bench_fixed_cost.py --smoke
"""

import argparse
import statistics
import time

import numpy as np
import torch

from facenet_sk import make_model
from facenet_sk._precision import cpu_bf16_units
from facenet_sk.datasets import make_synthetic_faces

EPOCHS = (1, 2, 4, 8)


def facenet_factory(name):
    return lambda epochs: make_model(name, max_epochs=epochs, random_state=0)


def skorch_linear_factory(n_features, n_classes):
    from skorch import NeuralNetClassifier

    def make(epochs):
        return NeuralNetClassifier(
            torch.nn.Linear(n_features, n_classes),
            criterion=torch.nn.CrossEntropyLoss,
            optimizer=torch.optim.Adam,
            lr=1e-3,
            batch_size=128,
            max_epochs=epochs,
            train_split=None,
            verbose=0,
        )

    return make


def fixed_cost(factory, X, y, repeats):
    """(intercept, slope) in seconds of the line through the median fit time per epoch count."""
    factory(1).fit(X, y)  # imports and the process's one-time set-up are not a fit's
    times = {epochs: [] for epochs in EPOCHS}
    for _ in range(repeats):
        for epochs in EPOCHS:
            start = time.perf_counter()
            factory(epochs).fit(X, y)
            times[epochs].append(time.perf_counter() - start)
    medians = [statistics.median(times[epochs]) for epochs in EPOCHS]
    slope, intercept = np.polyfit(EPOCHS, medians, 1)
    return intercept, slope


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="only_fc,fc_with_hidden")
    parser.add_argument("--n-images", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--no-skorch", action="store_true")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for CI")
    args = parser.parse_args(argv)
    if args.smoke:
        args.n_images, args.repeats = 64, 1

    X, y = make_synthetic_faces(
        n_per_person=-(-args.n_images // 8), return_X_y=True, random_state=0
    )
    # float32 pixels, which skorch's linear layer takes as they are
    X = X[: args.n_images].reshape(min(args.n_images, len(X)), -1).astype(np.float32)
    y = y[: args.n_images]
    flags = ", ".join(cpu_bf16_units()) or "none"
    print(f"CPU: {torch.get_num_threads()} threads, bf16 units: {flags}")
    print(f"{len(X)} images of {X.shape[1]} features, epochs {EPOCHS}, {args.repeats} repeats")
    print(f"{'model':34s} {'fixed cost ms':>14s} {'per epoch ms':>13s}")
    peers = [(name, facenet_factory(name)) for name in args.models.split(",")]
    if not args.no_skorch:
        linear = skorch_linear_factory(X.shape[1], len(np.unique(y)))
        peers.append(("skorch, one linear layer", linear))
    for label, factory in peers:
        intercept, slope = fixed_cost(factory, X, y, args.repeats)
        print(f"{label:34s} {intercept * 1e3:14.1f} {slope * 1e3:13.1f}", flush=True)


if __name__ == "__main__":
    main()
