"""Test accuracy of the course's five networks in float32 and in bfloat16, over several seeds.

The measurement behind ``precision``'s default: mixed precision may become
the default only if every network's test accuracy stays within the
seed-to-seed spread of float32's. For each data set, precision and seed it
trains the five networks with the course's recipe (per-pixel
``StandardScaler``, then the network; 30 epochs, Adam 1e-3, batch 128) and
scores the test part:

- ``synthetic``: the embedded default's 2000/400/400 split (the course's
  protocol; validation images are not used here);
- ``lfw7``: the real-photo protocol of ``real_faces.py`` (the 7 people of
  ``lfw_deepfunneled`` with at least 70 photos, stratified 75/25 split).

The seed is each network's ``random_state`` (initialisation, shuffling,
dropout); the data and split stay fixed. The table gives, per network and
precision, the mean, min and max test accuracy over the seeds, and whether
bfloat16's mean lies within float32's range (widened by the difference one
test image makes, so that a tie at the edge counts as within).

Usage::

    python benchmarks/precision_accuracy.py                      # 3 seeds, both data sets
    python benchmarks/precision_accuracy.py --data synthetic --seeds 0,1,2,3,4
    python benchmarks/precision_accuracy.py --smoke              # tiny, for CI
"""

import argparse
import os
import time

import pandas as pd

from facenet_sk import MODEL_NAMES, make_course_pipeline
from facenet_sk._precision import cpu_flags
from facenet_sk.datasets import make_synthetic_faces


def synthetic_split(n_per_person):
    """(X_train, X_test, y_train, y_test) of the course's protocol on the embedded default."""
    faces = make_synthetic_faces(n_per_person=n_per_person)
    train, test = faces.subset == "train", faces.subset == "test"
    return faces.data[train], faces.data[test], faces.target[train], faces.target[test]


def lfw7_split(root):
    from real_faces import SETS, lfw_split

    X_train, X_test, y_train, y_test, _ = lfw_split(root, SETS["lfw7"])
    return X_train, X_test, y_train, y_test


def run(data, split, *, models, precisions, seeds, epochs):
    """One row per (network, precision, seed): test accuracy and fit seconds."""
    X_train, X_test, y_train, y_test = split
    rows = []
    for seed in seeds:
        for precision in precisions:
            for name in models:
                model = make_course_pipeline(
                    name, max_epochs=epochs, random_state=seed, precision=precision
                )
                start = time.perf_counter()
                model.fit(X_train, y_train)
                seconds = time.perf_counter() - start
                accuracy = model.score(X_test, y_test)
                rows.append(
                    dict(
                        data=data,
                        model=name,
                        precision=precision,
                        seed=seed,
                        test_accuracy=accuracy,
                        fit_seconds=seconds,
                    )
                )
                print(
                    f"{data} {name} {precision} seed {seed}: test {accuracy:.4f}, "
                    f"fit {seconds:.1f} s",
                    flush=True,
                )
    return pd.DataFrame(rows), len(y_test)


def summarize(results, n_test):
    """Mean, min and max test accuracy per network and precision; bf16 against f32's range."""
    table = (
        results.groupby(["data", "model", "precision"], sort=False)["test_accuracy"]
        .agg(["mean", "min", "max"])
        .unstack("precision")
    )
    table.columns = [f"{precision} {stat}" for stat, precision in table.columns]
    seconds = results.groupby(["data", "model", "precision"], sort=False)["fit_seconds"].median()
    for precision in results["precision"].unique():
        table[f"{precision} fit s"] = seconds.xs(precision, level="precision")
    if {"float32", "bfloat16"} <= set(results["precision"]):
        one_image = 1 / n_test
        table["bf16 within f32 spread"] = (
            table["bfloat16 mean"] >= table["float32 min"] - one_image / 2
        ) & (table["bfloat16 mean"] <= table["float32 max"] + one_image / 2)
    return table


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="synthetic,lfw7")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--precisions", default="float32,bfloat16")
    parser.add_argument("--models", default=",".join(MODEL_NAMES))
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--n-per-person", type=int, default=350)
    parser.add_argument(
        "--root",
        default=os.environ.get("FACENET_SK_LFW", None),
        help="lfw_deepfunneled folder (default: real_faces.py's)",
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for CI")
    args = parser.parse_args(argv)
    if args.smoke:
        args.data, args.seeds, args.epochs, args.n_per_person = "synthetic", "0,1", 1, 21
        args.models = "only_fc,cnn"
    flags = sorted(cpu_flags() & {"amx_bf16", "amx_tile", "avx512_bf16", "avx512f"})
    print(f"CPU: {os.cpu_count()} cores, bf16-related flags: {', '.join(flags) or 'none'}")
    seeds = [int(s) for s in args.seeds.split(",")]
    tables = []
    for data in args.data.split(","):
        if data == "synthetic":
            split = synthetic_split(args.n_per_person)
        else:
            from real_faces import DEFAULT_ROOT

            split = lfw7_split(args.root or DEFAULT_ROOT)
        results, n_test = run(
            data,
            split,
            models=args.models.split(","),
            precisions=args.precisions.split(","),
            seeds=seeds,
            epochs=args.epochs,
        )
        tables.append(summarize(results, n_test))
    table = pd.concat(tables)
    print(table.to_string(float_format=lambda v: f"{v:.4f}"))
    return table


if __name__ == "__main__":
    main()
