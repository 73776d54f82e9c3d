"""Check the ``device="cuda"`` path end to end on a machine with a GPU.

CI machines have no GPU, so this is a script to run by hand where one is
present. It exits non-zero on the first failed check. What it checks:

1. each of the course's five models trains on the GPU (its weights live there),
   returns NumPy probabilities, and reaches about the accuracy of the same
   model trained on the CPU (and far above chance);
2. ``device="auto"`` picks the GPU;
3. augmentation, ``class_weight`` and early stopping with a fixed validation
   set run on the GPU;
4. a GPU-trained model survives pickling, and in a process that sees no GPU it
   loads on the CPU and predicts the same labels;
5. ``compare_models`` runs GPU models;
6. it prints the training throughput of each model on the GPU and the CPU.

Usage::

    python benchmarks/check_cuda.py [--epochs 8]
    python benchmarks/check_cuda.py --device cpu --epochs 1 --n-per-person 20 \
        --min-accuracy 0   # a dry run of the script itself, without a GPU
"""

import argparse
import os
import pickle
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from facenet_sk import MODEL_NAMES, compare_models, make_model
from facenet_sk.datasets import make_synthetic_faces
from facenet_sk.preprocessing import ChannelStandardScaler

_LOAD_ON_CPU = """
import pickle, sys, warnings
import numpy as np, torch
assert not torch.cuda.is_available()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    with open(sys.argv[1], "rb") as f:
        model = pickle.load(f)
X = np.load(sys.argv[2])
np.save(sys.argv[3], model.predict(X))
print("warnings on load:", sorted({type(w.message).__name__ for w in caught}))
"""


def check(condition, message):
    print(("ok    " if condition else "FAIL  ") + message, flush=True)
    if not condition:
        sys.exit(1)


def on_device(model, device):
    """Whether a fitted network's weights are on ``device``."""
    return next(model.net_.module_.parameters()).device.type == torch.device(device).type


def fit_timed(model, X, y, **fit_params):
    start = time.perf_counter()
    model.fit(X, y, **fit_params)
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument(
        "--device", default="cuda", help="the device to check ('cpu' only dry-runs this script)"
    )
    parser.add_argument(
        "--n-per-person", type=int, default=350, help="synthetic images per person (8 people)"
    )
    parser.add_argument(
        "--min-accuracy",
        type=float,
        default=0.4,
        help="test accuracy every model must reach (chance is 0.125)",
    )
    args = parser.parse_args(argv)
    gpu = args.device
    if gpu.startswith("cuda") and not torch.cuda.is_available():
        sys.exit("no CUDA device is visible: run this on a machine with a GPU")
    where = torch.cuda.get_device_name(0) if gpu.startswith("cuda") else gpu
    print(f"torch {torch.__version__} on {where}; {torch.get_num_threads()} CPU threads")

    X, y = make_synthetic_faces(n_per_person=args.n_per_person, return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    n_train = len(X_train)

    # 1. Every model of the course on the GPU against the same model on the CPU.
    gpu_models = {}
    for name in MODEL_NAMES:
        scores, speed = {}, {}
        for device in (gpu, "cpu"):
            model = make_pipeline(
                StandardScaler(),
                make_model(name, max_epochs=args.epochs, random_state=0, device=device),
            )
            seconds = fit_timed(model, X_train, y_train)
            proba = model.predict_proba(X_test)
            check(
                isinstance(proba, np.ndarray)
                and proba.shape == (len(X_test), 8)
                and np.allclose(proba.sum(axis=1), 1, atol=1e-4),
                f"{name} on {device}: predict_proba gives NumPy probabilities",
            )
            scores[device] = model.score(X_test, y_test)
            speed[device] = n_train * args.epochs / seconds
            if device == gpu:
                check(on_device(model[-1], gpu), f"{name}: the weights live on {gpu}")
                gpu_models[name] = model
        print(
            f"      {name}: test accuracy {gpu} {scores[gpu]:.3f} / cpu {scores['cpu']:.3f};"
            f" {speed[gpu]:,.0f} / {speed['cpu']:,.0f} img/s (fit incl. set-up), "
            f"x{speed[gpu] / speed['cpu']:.1f}"
        )
        check(
            scores[gpu] >= args.min_accuracy and abs(scores[gpu] - scores["cpu"]) <= 0.1,
            f"{name}: GPU accuracy at least {args.min_accuracy} and within 0.1 of the CPU's",
        )

    # 2. device="auto".
    auto = make_model("only_fc", max_epochs=1, random_state=0, device="auto")
    auto.fit(X_train / 255, y_train)
    check(
        on_device(auto, "cuda" if torch.cuda.is_available() else "cpu"),
        'device="auto" trains on the GPU when there is one',
    )

    # 3. Augmentation, class weights and early stopping on the GPU, against the CPU.
    X_fit, X_valid, y_fit, y_valid = train_test_split(
        X_train, y_train, test_size=0.1, stratify=y_train, random_state=0
    )
    scaler = ChannelStandardScaler().fit(X_fit)
    scores = {}
    for device in (gpu, "cpu"):
        options = make_model(
            "cnn_dropout_batchnorm",
            max_epochs=args.epochs,
            augment=True,
            class_weight="balanced",
            early_stopping=True,
            n_iter_no_change=5,
            random_state=0,
            device=device,
        )
        options.fit(
            scaler.transform(X_fit), y_fit, X_valid=scaler.transform(X_valid), y_valid=y_valid
        )
        scores[device] = options.score(scaler.transform(X_test), y_test)
        print(
            f"      augment + class_weight + early stopping on {device}: test accuracy "
            f"{scores[device]:.3f} after {options.n_epochs_} epochs"
        )
    check(
        scores[gpu] >= args.min_accuracy and abs(scores[gpu] - scores["cpu"]) <= 0.1,
        f"augment + class_weight + early stopping: GPU accuracy at least "
        f"{args.min_accuracy} and within 0.1 of the CPU's",
    )

    # 4. Pickling, on the GPU and in a process without one.
    model = gpu_models["cnn_dropout_batchnorm"]
    expected = model.predict(X_test)
    restored = pickle.loads(pickle.dumps(model))
    check(
        np.array_equal(restored.predict(X_test), expected),
        "a pickled GPU model predicts the same labels after loading",
    )
    with tempfile.TemporaryDirectory() as tmp:
        paths = [os.path.join(tmp, f) for f in ("model.pkl", "X.npy", "pred.npy")]
        with open(paths[0], "wb") as f:
            pickle.dump(model, f)
        np.save(paths[1], X_test)
        env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
        done = subprocess.run(
            [sys.executable, "-c", _LOAD_ON_CPU, *paths], env=env, capture_output=True, text=True
        )
        print("      " + (done.stdout + done.stderr).strip().replace("\n", "\n      "))
        check(done.returncode == 0, "a GPU model loads in a process that sees no GPU")
        on_cpu = np.load(paths[2])
        agreement = np.mean(on_cpu == expected)
        check(
            agreement >= 0.99,
            f"... and predicts the GPU's labels on the CPU ({agreement:.3f} agree)",
        )

    # 5. compare_models with GPU models.
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no device warnings expected here
        table = compare_models(
            {
                name: make_pipeline(
                    StandardScaler(), make_model(name, max_epochs=2, random_state=0, device=gpu)
                )
                for name in MODEL_NAMES
            },
            X_train,
            y_train,
            X_test,
            y_test,
        )
    check(
        list(table["model"]) == list(MODEL_NAMES)
        and table["test_accuracy"].ge(min(args.min_accuracy, 0.2)).all(),
        "compare_models trains the five models on the GPU",
    )
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print("all checks passed")


if __name__ == "__main__":
    main()
