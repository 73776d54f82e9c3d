"""A grid search over cnn_dropout's dropout rate: facenet_sk against plain skorch and SciKeras.

What a data scientist runs to choose a dropout rate: ``GridSearchCV`` with
scikit-learn's defaults (one fit at a time) over 3 rates x 3 folds, plus the
refit on the whole training set (10 fits of ``--epochs`` epochs), on the
embedded default's 2,000 training images (the course's shape). Each library
is used the plain way, nothing opted in:

(a) facenet_sk: ``make_model("cnn_dropout")`` on the raw pixels (the network
    standardizes them per channel itself), its default ``precision``;
(b) plain skorch: the course's CNN written in PyTorch (``nn.Dropout``,
    NCHW, the course's ``he_normal`` initialisation as the other two have
    it), ``NeuralNetClassifier`` with Adam 1e-3, batch 128, shuffled batches
    and no validation split (the same work as the others), behind a
    per-pixel ``StandardScaler`` (the course's recipe); ``--skorch-init
    torch`` keeps PyTorch's default initialisation instead;
(c) SciKeras, when ``scikeras`` and ``tensorflow`` are installed (never
    dependencies of facenet_sk): the course's Keras model in float32 behind
    the same scaler, grid over ``model__dropout``.

After one small untimed search of each library (one-time costs of the
process), the searches are interleaved ``--repeats`` times and the medians of their
wall times compared: "x faster" above 1 means facenet_sk's search took less
time. Then each library's chosen rate is trained ``--accuracy-epochs``
epochs (30, the course's) on the training images from each of
``--accuracy-seeds`` (one training's accuracy depends as much on its random
seed as on its library) and scored on the 400 test images: the mean and the
accuracy of each seed, and facenet_sk's difference from each library's mean
in standard errors of the difference. The CPU's bfloat16 features are printed with the
results.

Usage::

    python benchmarks/bench_grid.py                 # the grid (about 25 minutes on 2 cores)
    python benchmarks/bench_grid.py --smoke         # tiny sizes, for CI
"""

import argparse
import os
import statistics
import time

import numpy as np
import torch
from bench_fit import keras_available, keras_course_model
from scipy.stats import ttest_ind
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch import nn

from facenet_sk import make_model
from facenet_sk._precision import autocast_dtype, cpu_bf16_units
from facenet_sk.datasets import make_synthetic_faces

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
N_CLASSES = 8


def course_init_(module):
    """Keras's ``he_normal`` (the course's) in plain PyTorch: a normal of std
    sqrt(2 / fan_in) truncated at 2 standard deviations (and widened to keep
    that std), zero bias."""
    fan_in = module.weight[0].numel()
    std = (2 / fan_in) ** 0.5 / 0.87962566103423978
    nn.init.trunc_normal_(module.weight, std=std, a=-2 * std, b=2 * std)
    nn.init.zeros_(module.bias)


class CourseCNN(nn.Module):
    """The course's ``cnn_dropout`` as a PyTorch user writes it for skorch.

    ``init="course"`` initialises every layer as the course (and Keras's
    ``he_normal``) does; ``"torch"`` keeps PyTorch's default.
    """

    def __init__(self, dropout=0.3, init="course"):
        super().__init__()

        def block(in_channels, filters):
            return [
                nn.Conv2d(in_channels, filters, 3, padding=1),
                nn.ReLU(),
                nn.Conv2d(filters, filters, 3, padding=1),
                nn.ReLU(),
                nn.MaxPool2d(2),
                nn.Dropout(dropout),
            ]

        self.layers = nn.Sequential(
            *block(3, 32),
            *block(32, 64),
            nn.Flatten(),
            nn.Linear(64 * 12 * 12, 200),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(200, N_CLASSES),
        )
        if init == "course":
            for layer in self.layers:
                if isinstance(layer, (nn.Conv2d, nn.Linear)):
                    course_init_(layer)

    def forward(self, x):
        return self.layers(x.reshape(-1, 48, 48, 3).permute(0, 3, 1, 2))


def facenet_search(rates, epochs, seed):
    return make_model("cnn_dropout", max_epochs=epochs, random_state=seed), {"dropout": rates}


def skorch_search(rates, epochs, seed, init="course"):
    from skorch import NeuralNetClassifier

    torch.manual_seed(seed)
    net = NeuralNetClassifier(
        CourseCNN,
        module__init=init,
        criterion=nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=1e-3,
        batch_size=128,
        max_epochs=epochs,
        iterator_train__shuffle=True,
        train_split=None,
        verbose=0,
    )
    return make_pipeline(StandardScaler(), net), {"neuralnetclassifier__module__dropout": rates}


def keras_model(dropout, meta):
    return keras_course_model(
        "cnn_dropout", meta["n_features_in_"], dropout=dropout, flat_input=True
    )


def scikeras_search(rates, epochs, seed):
    from scikeras.wrappers import KerasClassifier

    net = KerasClassifier(
        keras_model,
        model__dropout=0.3,
        loss="sparse_categorical_crossentropy",
        optimizer="adam",
        optimizer__learning_rate=1e-3,
        batch_size=128,
        epochs=epochs,
        verbose=0,
        random_state=seed,
    )
    return make_pipeline(StandardScaler(), net), {"kerasclassifier__model__dropout": rates}


def scikeras_available():
    try:
        import scikeras  # noqa: F401
    except ImportError:
        return False
    return keras_available()


#: Each library's search, the parameter that sets its epochs on a clone and the
#: one that sets its seed (None where only torch's global generator seeds it).
LIBRARIES = {
    "facenet_sk": (facenet_search, "max_epochs", "random_state"),
    "skorch": (skorch_search, "neuralnetclassifier__max_epochs", None),
    "scikeras": (scikeras_search, "kerasclassifier__epochs", "kerasclassifier__random_state"),
}


def chosen_rate_accuracy(library, search, X, y, X_test, y_test, *, epochs, seed):
    """Test accuracy of the search's chosen estimator trained ``epochs`` epochs from ``seed``."""
    _, epochs_param, seed_param = LIBRARIES[library]
    model = clone(search.best_estimator_).set_params(**{epochs_param: epochs})
    if seed_param is None:
        torch.manual_seed(seed)
    else:
        model.set_params(**{seed_param: seed})
    return model.fit(X, y).score(X_test, y_test)


def timed_search(library, X, y, *, rates, epochs, folds, seed, skorch_init="course"):
    """The fitted GridSearchCV of ``library`` and its wall time in seconds."""
    make = LIBRARIES[library][0]
    options = {"init": skorch_init} if library == "skorch" else {}
    estimator, grid = make(rates, epochs, seed, **options)
    cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
    search = GridSearchCV(estimator, grid, cv=cv)
    start = time.perf_counter()
    search.fit(X, y)
    return search, time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", default="0.1,0.3,0.5")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--accuracy-epochs", type=int, default=30, help="0 skips the accuracy")
    parser.add_argument("--n-per-person", type=int, default=350)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--libraries", default="facenet_sk,skorch,scikeras")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--accuracy-seeds",
        default="0,1,2",
        help="seeds of the chosen rate's trainings (one run's accuracy depends on its seed)",
    )
    parser.add_argument(
        "--skorch-init",
        choices=["course", "torch"],
        default="course",
        help="plain skorch's initialisation: the course's he_normal (as facenet_sk's and "
        "the Keras model's) or PyTorch's default",
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for CI")
    args = parser.parse_args(argv)
    if args.smoke:
        args.rates, args.folds, args.epochs, args.accuracy_epochs = "0.1,0.5", 2, 1, 1
        args.n_per_person, args.accuracy_seeds = 14, "0,1"
    rates = [float(r) for r in args.rates.split(",")]
    accuracy_seeds = [int(seed) for seed in args.accuracy_seeds.split(",")]
    libraries = args.libraries.split(",")
    if "scikeras" in libraries and not scikeras_available():
        print("scikeras: not measured (install scikeras and tensorflow-cpu to add it)")
        libraries.remove("scikeras")

    faces = make_synthetic_faces(n_per_person=args.n_per_person)
    train, test = faces.subset == "train", faces.subset == "test"
    X, y = faces.data[train].astype(np.float32), faces.target[train]
    X_test, y_test = faces.data[test].astype(np.float32), faces.target[test]
    features = cpu_bf16_units() or ["no bf16 units"]
    default = make_model("cnn_dropout").precision
    precision = "bfloat16" if autocast_dtype(default, "cpu") is not None else "float32"
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; CPU: "
        f"{', '.join(features)}; facenet_sk's precision={default!r} trains in {precision}; "
        f"{len(y)} training "
        f"images; {len(rates)} rates x {args.folds} folds + refit, {args.epochs} epochs; "
        f"median of {args.repeats}; skorch initialised as {args.skorch_init!r}",
        flush=True,
    )
    # One small untimed search each first: the process's one-time costs (torch
    # imports its compiler stack on the first optimizer, TensorFlow builds its
    # runtime) are not what a second search in a notebook pays.
    for library in libraries:
        timed_search(
            library,
            X[:96],
            y[:96],
            rates=rates[:1],
            epochs=1,
            folds=2,
            seed=args.seed,
            skorch_init=args.skorch_init,
        )
    seconds = {library: [] for library in libraries}
    searches, scores = {}, {}
    for _ in range(args.repeats):
        for library in libraries:
            searches[library], elapsed = timed_search(
                library,
                X,
                y,
                rates=rates,
                epochs=args.epochs,
                folds=args.folds,
                seed=args.seed,
                skorch_init=args.skorch_init,
            )
            seconds[library].append(elapsed)
            print(f"  {library}: {elapsed:.1f} s", flush=True)
    median = {library: statistics.median(times) for library, times in seconds.items()}
    for library in libraries:
        search = searches[library]
        best = next(iter(search.best_params_.values()))
        cells = [f"{median[library]:.1f} s", f"best dropout {best}"]
        if library != "facenet_sk" and "facenet_sk" in median:
            cells.append(f"facenet_sk x{median[library] / median['facenet_sk']:.2f} faster")
        if args.accuracy_epochs:
            accuracies = [
                chosen_rate_accuracy(
                    library, search, X, y, X_test, y_test, epochs=args.accuracy_epochs, seed=seed
                )
                for seed in accuracy_seeds
            ]
            scores[library] = accuracies
            cells.append(
                f"test accuracy at {args.accuracy_epochs} epochs {np.mean(accuracies):.4f} "
                f"(seeds {args.accuracy_seeds}: "
                + ", ".join(f"{accuracy:.4f}" for accuracy in accuracies)
                + ")"
            )
        print(f"{library}: " + "; ".join(cells), flush=True)
    if "facenet_sk" in scores and len(accuracy_seeds) > 1:
        for library in [library for library in scores if library != "facenet_sk"]:
            print(accuracy_gap("facenet_sk", library, scores), flush=True)
    return median


def accuracy_gap(mine, theirs, scores):
    """One line: the difference of two libraries' mean accuracies, in standard errors.

    One training's accuracy moves from random seed to random seed about as
    much as from library to library, so a difference of means is read
    against its standard error: Welch's t statistic (each library's seed
    variance over its number of seeds), with its two-sided p-value.
    """
    a, b = np.asarray(scores[mine]), np.asarray(scores[theirs])
    difference = a.mean() - b.mean()
    line = f"{mine} - {theirs}: {difference:+.4f} mean test accuracy"
    if a.var() == 0 and b.var() == 0:
        return line + " (every seed gave the same accuracy)"
    welch = ttest_ind(a, b, equal_var=False)
    return line + (
        f", {welch.statistic:+.1f} standard errors of the difference (Welch's p={welch.pvalue:.2f})"
    )


if __name__ == "__main__":
    main()
