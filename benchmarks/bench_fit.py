"""Training and inference throughput of facenet_sk against a hand-written loop and skorch.

For each of the course's five networks, on synthetic data of the course's shape
(48x48x3, 8 classes, batch 128, Adam), this measures in one process:

(a) facenet_sk's estimator ``fit`` (and ``predict_proba``),
(b) a plain PyTorch loop with the same module and optimizer (the reference),
(c) skorch's ``NeuralNetClassifier`` with default settings on the same module,
(d) Keras 3 on TensorFlow, when ``tensorflow`` is installed (skipped otherwise;
    ``pip install tensorflow-cpu``, never a dependency of facenet_sk).

Each is timed over ``--epochs`` epochs after one warm-up epoch, or more for a
network whose epochs are short: as many as make the plain loop's timed span
last ``--min-seconds`` (estimated from one epoch before the runs; the fully
connected networks' epochs last 10-200 ms, at the mercy of the machine). The
runs are interleaved ``--repeats`` times (every network in every repetition),
each run taking every place in the order in turn, and the median taken, so that
a noisy, shared machine (and TensorFlow's threads winding down after a Keras
fit) affects all of them alike. facenet_sk's epoch is timed by the wall clock
from one epoch's end to the next, every callback included. Prediction of the
whole set is timed once after each fit and ``--predict-repeats`` times more,
alternating with the plain loop's; the medians are compared. It also reports
the CNN's achieved GFLOP/s against the machine's measured fp32 matmul GFLOP/s,
and the price of dropout: ``cnn_dropout``'s epoch over ``cnn``'s of the same
repetition.

Usage::

    python benchmarks/bench_fit.py                 # full run (a few minutes)
    python benchmarks/bench_fit.py --smoke         # tiny sizes, seconds
"""

import argparse
import math
import os
import statistics
import time

import numpy as np
import torch
from skorch.callbacks import Callback
from torch import nn

import facenet_sk
from facenet_sk import MODEL_NAMES, make_model
from facenet_sk._precision import autocast_dtype, cpu_bf16_units

# TensorFlow's C++ start-up notices and retracing warnings would bury the table.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

N_CLASSES = 8


def forward_flops_per_image(module, image_shape):
    """Multiply-adds x 2 of the Linear and Conv2d layers for one image."""
    flops = 0
    hooks = []

    def count(layer, inputs, output):
        nonlocal flops
        if isinstance(layer, nn.Conv2d):
            flops += (
                2
                * output[0].numel()
                * layer.in_channels
                * layer.kernel_size[0]
                * layer.kernel_size[1]
                // layer.groups
            )
        elif isinstance(layer, nn.Linear):
            flops += 2 * layer.in_features * layer.out_features

    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            hooks.append(layer.register_forward_hook(count))
    was_training = module.training
    module.eval()
    with torch.no_grad():
        module(torch.zeros(1, int(np.prod(image_shape))))
    module.train(was_training)
    for hook in hooks:
        hook.remove()
    return flops


def matmul_gflops(size=2048, repeats=10):
    """The machine's fp32 matrix-multiply speed (the roofline of dense layers and convs)."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9


def hand_loop(module, X, y, epochs, batch_size, lr, autocast=None):
    """Seconds per epoch of the reference loop (after a warm-up epoch).

    ``autocast`` (e.g. ``torch.bfloat16``) runs the forward pass under
    ``torch.autocast``, as facenet_sk's ``precision="bfloat16"`` does.
    """
    optimizer = torch.optim.Adam(module.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(0)
    times = []
    module.train()
    for epoch in range(epochs + 1):
        start = time.perf_counter()
        order = torch.randperm(len(X), generator=generator)
        for i in range(0, len(X), batch_size):
            index = order[i : i + batch_size]
            optimizer.zero_grad(set_to_none=True)
            with torch.autocast("cpu", dtype=autocast, enabled=autocast is not None):
                logits = module(X[index])
            loss = loss_fn(logits.float(), y[index])
            loss.backward()
            optimizer.step()
        if epoch:
            times.append(time.perf_counter() - start)
    return statistics.mean(times)


def hand_predict(module, X, batch_size, autocast=None):
    module.eval()
    start = time.perf_counter()
    with torch.no_grad(), torch.autocast("cpu", dtype=autocast, enabled=autocast is not None):
        for i in range(0, len(X), batch_size):
            module(X[i : i + batch_size]).softmax(1)
    return time.perf_counter() - start


class EpochWallClock(Callback):
    """Seconds between the ends of consecutive epochs, every callback's work included.

    skorch's ``dur`` stops at the first callback of the epoch's end, before
    the scoring callbacks run; the plain loop's time has nothing left out.
    Added last, this callback sees the end of everything but the log line.
    """

    def on_train_begin(self, net, **kwargs):
        self.ends_ = []

    def on_epoch_end(self, net, **kwargs):
        self.ends_.append(time.perf_counter())


def facenet_fit(name, X, y, epochs, batch_size, precision):
    clock = EpochWallClock()
    model = make_model(
        name,
        max_epochs=epochs + 1,
        batch_size=batch_size,
        random_state=0,
        callbacks=[clock],
        precision=precision,
    )
    model.fit(X, y)
    fit_seconds = (clock.ends_[-1] - clock.ends_[0]) / epochs
    start = time.perf_counter()
    model.predict_proba(X)
    return fit_seconds, time.perf_counter() - start, model


def facenet_predict(model, X):
    start = time.perf_counter()
    model.predict_proba(X)
    return time.perf_counter() - start


def skorch_default(module, X, y, epochs, batch_size, lr):
    from skorch import NeuralNetClassifier

    net = NeuralNetClassifier(
        module,
        criterion=nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=lr,
        batch_size=batch_size,
        max_epochs=epochs + 1,
        train_split=None,
        verbose=0,
    )
    net.fit(X, y)
    fit_seconds = statistics.mean(net.history[1:, "dur"])
    start = time.perf_counter()
    net.predict_proba(X)
    return fit_seconds, time.perf_counter() - start


def keras_available():
    """Whether Keras 3 on TensorFlow can be imported (an optional comparison)."""
    try:
        import keras  # noqa: F401
        import tensorflow as tf
    except ImportError:
        return False
    tf.get_logger().setLevel("ERROR")
    return keras.backend.backend() == "tensorflow"


def keras_course_model(name, n_features, *, dropout=0.3, flat_input=False):
    """The course's Keras model ``name`` (uncompiled), with Keras's defaults.

    Under a mixed-precision policy the softmax stays in float32, as Keras's
    mixed-precision guide asks. ``dropout`` is the rate of the dropout
    models' layers; with ``flat_input`` a CNN takes flat rows (as a
    scikit-learn Pipeline gives them) and reshapes them first.
    """
    import keras
    from keras import layers

    conv = name.startswith("cnn")
    image = conv and not flat_input
    model = keras.Sequential([keras.Input((48, 48, 3) if image else (n_features,))])
    if conv and flat_input:
        model.add(layers.Reshape((48, 48, 3)))
    if conv:
        for filters in (32, 64):
            for _ in range(2):
                model.add(layers.Conv2D(filters, 3, padding="same", kernel_initializer="he_normal"))
                if name.endswith("batchnorm"):
                    model.add(layers.BatchNormalization())
                model.add(layers.Activation("relu"))
            model.add(layers.MaxPooling2D())
            if "dropout" in name:
                model.add(layers.Dropout(dropout))
        model.add(layers.Flatten())
        model.add(layers.Dense(200, kernel_initializer="he_normal"))
        if name.endswith("batchnorm"):
            model.add(layers.BatchNormalization())
        model.add(layers.Activation("relu"))
        if "dropout" in name:
            model.add(layers.Dropout(dropout))
    else:
        for units in (400, 200) if name == "fc_with_hidden" else ():
            model.add(layers.Dense(units, activation="relu", kernel_initializer="he_normal"))
    model.add(layers.Dense(N_CLASSES, kernel_initializer="he_normal"))
    model.add(layers.Activation("softmax", dtype="float32"))
    return model


def keras_fit(name, X, y, epochs, batch_size):
    """Seconds per epoch and prediction seconds of the course's Keras model.

    The course's model in Keras with Keras's defaults (``compile`` with
    ``jit_compile="auto"``): one warm-up epoch, then ``epochs`` timed epochs
    on the same data, batch size and optimizer (Adam, lr 1e-3) as the others.
    """
    import keras

    keras.utils.set_random_seed(0)
    model = keras_course_model(name, X.shape[1])
    model.compile("adam", "sparse_categorical_crossentropy")
    data = X.reshape(-1, 48, 48, 3) if name.startswith("cnn") else X
    model.fit(data, y, batch_size=batch_size, epochs=1, verbose=0)
    start = time.perf_counter()
    model.fit(data, y, batch_size=batch_size, epochs=epochs, verbose=0)
    fit_seconds = (time.perf_counter() - start) / epochs
    model.predict(data[:batch_size], batch_size=batch_size, verbose=0)  # builds predict_function
    start = time.perf_counter()
    model.predict(data, batch_size=batch_size, verbose=0)
    return fit_seconds, time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-images", type=int, default=2000)
    parser.add_argument(
        "--epochs", type=int, default=2, help="timed epochs after the warm-up, at least"
    )
    parser.add_argument(
        "--min-seconds",
        type=float,
        default=None,
        help="more timed epochs for a network until the plain loop's last "
        "this long (default 1; 0 with --smoke: --epochs for all)",
    )
    parser.add_argument("--repeats", type=int, default=3, help="interleaved repetitions")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument(
        "--predict-repeats",
        type=int,
        default=4,
        help="further predictions of facenet_sk and the plain loop, alternating, per repetition",
    )
    parser.add_argument("--models", default=",".join(MODEL_NAMES))
    parser.add_argument(
        "--no-skorch",
        action="store_true",
        help="skip skorch's defaults (saves a quarter of the run)",
    )
    parser.add_argument(
        "--no-keras", action="store_true", help="skip Keras/TensorFlow even when it is installed"
    )
    parser.add_argument(
        "--precision",
        default=None,
        help="facenet_sk's precision (default: its default); the plain loop follows it "
        "(torch.autocast when it resolves to bfloat16), skorch and Keras stay float32",
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for CI")
    args = parser.parse_args(argv)
    if args.smoke:
        args.n_images, args.epochs, args.repeats, args.predict_repeats = 128, 1, 1, 1
    if args.precision is None:
        args.precision = make_model("cnn").precision
    args.autocast = autocast_dtype(args.precision, "cpu")
    if args.min_seconds is None:
        args.min_seconds = 0.0 if args.smoke else 1.0
    names = args.models.split(",")
    with_keras = not args.no_keras and keras_available()

    rng = np.random.default_rng(0)
    X = rng.standard_normal((args.n_images, 48 * 48 * 3)).astype(np.float32)
    y = rng.integers(0, N_CLASSES, args.n_images).astype(np.int64)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    roofline = matmul_gflops(1024 if args.smoke else 2048)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"fp32 matmul {roofline:.1f} GFLOP/s; {args.n_images} images, batch "
        f"{args.batch_size}, at least {args.epochs} timed epoch(s) (and {args.min_seconds:g} "
        f"s of the plain loop) after 1 warm-up, "
        f"median of {args.repeats}; facenet_sk {facenet_sk.__version__} from "
        f"{os.path.dirname(facenet_sk.__file__)}; precision={args.precision!r} "
        f"({'bfloat16' if args.autocast else 'float32'} here, the plain loop too; CPU: "
        f"{', '.join(cpu_bf16_units()) or 'no bf16 units'})"
    )
    if with_keras:
        import keras
        import tensorflow as tf

        print(f"keras {keras.__version__} on tensorflow {tf.__version__}")

    benches = [_ModelBench(name, X, y, Xt, yt, args, with_keras) for name in names]
    for repeat in range(args.repeats):
        # Every model in every repetition, so that model against model (the
        # price of dropout) is side by side too, not minutes apart.
        for bench in benches:
            bench.run(repeat)
        print(f"  repetition {repeat + 1}/{args.repeats} done", flush=True)
    rows = [bench.row(roofline) for bench in benches]
    for row in rows:
        keras_ratio = f", x{row['vs keras']:.2f} keras" if row["vs keras"] else ""
        skorch_ratio = f", x{row['vs skorch']:.2f} skorch" if row["vs skorch"] else ""
        print(
            f"  {row['model']}: {row['facenet_sk img/s']:.0f} img/s, x{row['vs hand loop']:.2f} "
            f"hand loop{skorch_ratio}{keras_ratio}",
            flush=True,
        )

    import pandas as pd

    table = pd.DataFrame(rows)
    print()
    print(table.to_string(index=False, float_format=lambda v: f"{v:.2f}", na_rep="-"))
    if not with_keras:
        print("keras: not measured (install tensorflow-cpu to add it)")
    by_name = {bench.name: bench.runs for bench in benches}
    if "cnn" in by_name and "cnn_dropout" in by_name:
        # The price of dropout: cnn_dropout's epoch over cnn's of the same
        # repetition, the median of these ratios.
        for who in ("facenet_sk", "keras"):
            pairs = [d / c for c, d in zip(by_name["cnn"][who], by_name["cnn_dropout"][who])]
            if pairs:
                print(
                    f"dropout cost ({who}): cnn_dropout takes "
                    f"{statistics.median(pairs) - 1:+.1%} of cnn's time per epoch (median "
                    f"of {len(pairs)} repetitions, {min(pairs) - 1:+.1%} to "
                    f"{max(pairs) - 1:+.1%})"
                )
    print(
        "GFLOP/s counts 3x the forward FLOPs per training image (forward + backward); "
        "roofline = GFLOP/s / fp32 matmul GFLOP/s."
    )
    return table


class _ModelBench:
    """One network's contestants, run once per repetition, and their timings."""

    def __init__(self, name, X, y, Xt, yt, args, with_keras):
        self.name, self.X, self.y, self.Xt, self.yt, self.args = name, X, y, Xt, yt, args
        self.runs = {
            "facenet_sk": [],
            "hand_loop": [],
            "skorch": [],
            "keras": [],
            "pred_facenet_sk": [],
            "pred_hand": [],
            "pred_skorch": [],
            "pred_keras": [],
        }
        template = make_model(name)
        module = template.module_for_summary()
        self.module_type, self.module_args = type(module), _module_args(template, module)
        self.flops = forward_flops_per_image(module, (48, 48, 3))
        self.trained = {}
        self.epochs = self.timed_epochs()
        self.contestants = (
            [self.run_facenet_sk, self.run_hand_loop]
            + ([] if args.no_skorch else [self.run_skorch])
            + ([self.run_keras] if with_keras else [])
        )

    def timed_epochs(self):
        """``--epochs``, or more if the plain loop's would last under ``--min-seconds``."""
        if self.args.min_seconds <= 0:
            return self.args.epochs
        epoch = hand_loop(
            self.fresh_module(), self.Xt, self.yt, 1, self.args.batch_size, 1e-3, self.args.autocast
        )
        return max(self.args.epochs, math.ceil(self.args.min_seconds / epoch))

    def fresh_module(self):
        torch.manual_seed(0)
        return self.module_type(*self.module_args)

    def run_facenet_sk(self):
        fit_s, pred_s, self.trained["model"] = facenet_fit(
            self.name, self.X, self.y, self.epochs, self.args.batch_size, self.args.precision
        )
        self.runs["facenet_sk"].append(fit_s)
        self.runs["pred_facenet_sk"].append(pred_s)

    def run_hand_loop(self):
        self.trained["ref"] = ref = self.fresh_module()
        autocast = self.args.autocast
        self.runs["hand_loop"].append(
            hand_loop(ref, self.Xt, self.yt, self.epochs, self.args.batch_size, 1e-3, autocast)
        )
        self.runs["pred_hand"].append(hand_predict(ref, self.Xt, self.args.batch_size, autocast))

    def run_skorch(self):
        fit_s, pred_s = skorch_default(
            self.fresh_module(), self.X, self.y, self.epochs, self.args.batch_size, 1e-3
        )
        self.runs["skorch"].append(fit_s)
        self.runs["pred_skorch"].append(pred_s)

    def run_keras(self):
        fit_s, pred_s = keras_fit(self.name, self.X, self.y, self.epochs, self.args.batch_size)
        self.runs["keras"].append(fit_s)
        self.runs["pred_keras"].append(pred_s)

    def run(self, repeat):
        # Each takes every place in the order in turn: whoever runs right after
        # Keras meets TensorFlow's worker threads still spinning down.
        turn = repeat % len(self.contestants)
        for run in self.contestants[turn:] + self.contestants[:turn]:
            run()
        # Warm calls, alternating, beside the first call after training above:
        # one call of a few milliseconds is at the mercy of the machine.
        for _ in range(self.args.predict_repeats):
            self.runs["pred_facenet_sk"].append(facenet_predict(self.trained["model"], self.X))
            self.runs["pred_hand"].append(
                hand_predict(self.trained["ref"], self.Xt, self.args.batch_size, self.args.autocast)
            )

    def row(self, roofline):
        runs = self.runs
        med = {k: statistics.median(v) if v else None for k, v in runs.items()}
        n = self.args.n_images
        row = {
            "model": self.name,
            "epochs": self.epochs,
            "facenet_sk img/s": n / med["facenet_sk"],
            "hand loop img/s": n / med["hand_loop"],
            "skorch img/s": n / med["skorch"] if med["skorch"] else None,
            "keras img/s": n / med["keras"] if med["keras"] else None,
            "vs hand loop": med["hand_loop"] / med["facenet_sk"],
            "vs skorch": med["skorch"] / med["facenet_sk"] if med["skorch"] else None,
            "vs keras": med["keras"] / med["facenet_sk"] if med["keras"] else None,
            "spread": (max(runs["facenet_sk"]) - min(runs["facenet_sk"])) / med["facenet_sk"],
            "GFLOP/s": 3 * self.flops * n / med["facenet_sk"] / 1e9,
            "pred img/s": n / med["pred_facenet_sk"],
            "pred vs hand": med["pred_hand"] / med["pred_facenet_sk"],
            "pred vs skorch": (
                med["pred_skorch"] / med["pred_facenet_sk"] if med["pred_skorch"] else None
            ),
            "pred vs keras": (
                med["pred_keras"] / med["pred_facenet_sk"] if med["pred_keras"] else None
            ),
        }
        row["roofline"] = row["GFLOP/s"] / roofline
        return row


def _module_args(model, module):
    """Constructor arguments that build ``module`` of ``model`` anew, with fresh weights."""
    if hasattr(module, "image_shape"):
        return (
            module.image_shape,
            N_CLASSES,
            tuple(model.conv_filters),
            model.dense_units,
            model.dropout,
            model.batchnorm,
        )
    return (
        module.input_shape[0],
        N_CLASSES,
        tuple(model.hidden_layer_sizes),
        model.dropout,
        model.batchnorm,
    )


if __name__ == "__main__":
    main()
