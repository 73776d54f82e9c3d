"""A fresh model's whole fit, as a notebook user runs it, against Keras's.

For each of the course's networks, on synthetic data of the course's shape
(2,000 images of 48x48x3, 8 classes, batch 128, Adam), this times in one
plain process (nothing opted in: no allocator tuning, no environment
variable) the wall time of

(a) ``make_model(name, max_epochs=E).fit(X, y)`` on a new model, for each
    ``--precisions`` (facenet_sk's ``precision`` hyper-parameter), and
(b) a new Keras 3 model's ``compile`` + ``fit`` for ``E`` epochs on the same
    data, in float32 and, with ``--keras-bf16``, under Keras's
    ``mixed_bfloat16`` policy (when ``tensorflow`` is installed;
    ``pip install tensorflow-cpu``, never a dependency of facenet_sk),

E being ``--fc-epochs`` for the fully connected networks and
``--cnn-epochs`` for the CNNs. The runs are interleaved ``--repeats`` times
and the medians compared (after one untimed fit of each, so that imports and
the process's one-time set-up are left out): ratios over Keras in float32
(and over Keras's best setting) above 1 mean facenet_sk is faster. The CPU's bfloat16
features are printed with the results.

Usage::

    python benchmarks/bench_whole_fit.py --repeats 3
    python benchmarks/bench_whole_fit.py --smoke
"""

import argparse
import os
import statistics
import time

import numpy as np
import torch
from bench_fit import keras_available, keras_course_model

from facenet_sk import MODEL_NAMES, make_model
from facenet_sk._precision import cpu_bf16_units

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
N_CLASSES = 8


def facenet_whole_fit(name, X, y, epochs, precision):
    start = time.perf_counter()
    make_model(name, max_epochs=epochs, precision=precision, random_state=0).fit(X, y)
    return time.perf_counter() - start


def keras_whole_fit(name, X, y, epochs, policy):
    """Seconds of a new Keras model's compile + fit (the course's model, Keras's defaults)."""
    import keras

    keras.mixed_precision.set_global_policy(policy)
    try:
        start = time.perf_counter()
        keras.utils.set_random_seed(0)
        conv = name.startswith("cnn")
        model = keras_course_model(name, X.shape[1])
        model.compile("adam", "sparse_categorical_crossentropy")
        model.fit(
            X.reshape(-1, 48, 48, 3) if conv else X, y, batch_size=128, epochs=epochs, verbose=0
        )
        return time.perf_counter() - start
    finally:
        keras.mixed_precision.set_global_policy("float32")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-images", type=int, default=2000)
    parser.add_argument("--fc-epochs", type=int, default=10)
    parser.add_argument("--cnn-epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--models", default=",".join(MODEL_NAMES))
    parser.add_argument(
        "--precisions", default="float32", help="facenet_sk precisions to time, e.g. float32,auto"
    )
    parser.add_argument(
        "--keras-bf16", action="store_true", help="also time Keras under its mixed_bfloat16 policy"
    )
    parser.add_argument("--no-keras", action="store_true")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for CI")
    args = parser.parse_args(argv)
    if args.smoke:
        args.n_images, args.fc_epochs, args.cnn_epochs, args.repeats = 128, 1, 1, 1
    with_keras = not args.no_keras and keras_available()
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, (args.n_images, 48 * 48 * 3)).astype(np.uint8)
    y = rng.integers(0, N_CLASSES, args.n_images)
    X_keras = X.astype(np.float32) / 255
    features = cpu_bf16_units() or ["no bf16 units"]
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; CPU: "
        f"{', '.join(features)}; {args.n_images} images; median of {args.repeats}"
    )
    precisions = args.precisions.split(",")
    keras_policies = (
        ["float32"] + (["mixed_bfloat16"] if args.keras_bf16 else []) if with_keras else []
    )
    for name in args.models.split(","):
        epochs = args.cnn_epochs if name.startswith("cnn") else args.fc_epochs
        times = {
            **{f"facenet_sk {p}": [] for p in precisions},
            **{f"keras {p}": [] for p in keras_policies},
        }
        # One untimed fit of each first: imports and one-time set-up of the process
        # (TensorFlow's and torch's) are not what a second fit in a notebook pays.
        for precision in precisions:
            facenet_whole_fit(name, X[:256], y[:256], 1, precision)
        for policy in keras_policies:
            keras_whole_fit(name, X_keras[:256], y[:256], 1, policy)
        for _ in range(args.repeats):
            for precision in precisions:
                times[f"facenet_sk {precision}"].append(
                    facenet_whole_fit(name, X, y, epochs, precision)
                )
            for policy in keras_policies:
                times[f"keras {policy}"].append(keras_whole_fit(name, X_keras, y, epochs, policy))
        med = {k: statistics.median(v) for k, v in times.items()}
        cells = [f"{k} {v:.2f} s" for k, v in med.items()]
        keras_best = min((v for k, v in med.items() if k.startswith("keras")), default=None)
        for precision in precisions:
            mine = med[f"facenet_sk {precision}"]
            if "keras float32" in med:
                cells.append(f"{precision} x{med['keras float32'] / mine:.2f} keras float32")
            if keras_best is not None and len(keras_policies) > 1:
                cells.append(f"{precision} x{keras_best / mine:.2f} keras best")
        print(f"{name} ({epochs} epochs): " + "; ".join(cells), flush=True)
    if not with_keras:
        print("keras: not measured (install tensorflow-cpu to add it)")


if __name__ == "__main__":
    main()
