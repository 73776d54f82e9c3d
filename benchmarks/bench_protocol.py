"""Wall time and peak memory of the whole course protocol through ``compare_models``.

The protocol: the five networks (StandardScaler + network, Adam 1e-3, batch
128), 30 epochs each, on the synthetic default's 2000/400/400 split, with
validation after every epoch. Peak memory is the largest resident set size
of this process and of any worker processes (``--n-jobs``).

Usage::

    python benchmarks/bench_protocol.py              # the full protocol
    python benchmarks/bench_protocol.py --epochs 2   # shorter
    python benchmarks/bench_protocol.py --smoke      # tiny, for CI
"""

import argparse
import resource
import sys
import time

from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from facenet_sk import MODEL_NAMES, compare_models, make_model
from facenet_sk.datasets import make_synthetic_faces


def peak_rss_mb():
    """Peak resident memory of this process and its finished children, in MB."""
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss is bytes on macOS, KiB on Linux
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * scale
    return own / 2**20, children / 2**20


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--n-per-person", type=int, default=350)
    parser.add_argument("--models", default=",".join(MODEL_NAMES))
    parser.add_argument(
        "--n-jobs", type=int, default=None, help="models trained in parallel processes"
    )
    parser.add_argument(
        "--n-threads", type=int, default=None, help="torch threads per model (default: torch's)"
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for CI")
    args = parser.parse_args(argv)
    if args.smoke:
        args.epochs, args.n_per_person = 1, 21

    faces = make_synthetic_faces(n_per_person=args.n_per_person)
    parts = [faces.subset == s for s in ("train", "valid", "test")]
    X_train, y_train, X_valid, y_valid, X_test, y_test = (
        a for p in parts for a in (faces.data[p], faces.target[p])
    )
    models = {
        name: make_pipeline(
            StandardScaler(),
            make_model(name, max_epochs=args.epochs, random_state=0, n_threads=args.n_threads),
        )
        for name in args.models.split(",")
    }
    print(
        f"protocol: {len(models)} networks x {args.epochs} epochs, "
        f"{len(y_train)}/{len(y_valid)}/{len(y_test)} images, n_jobs={args.n_jobs}",
        flush=True,
    )
    start = time.perf_counter()
    table = compare_models(
        models,
        X_train,
        y_train,
        X_test,
        y_test,
        X_valid=X_valid,
        y_valid=y_valid,
        n_jobs=args.n_jobs,
        progress=False,
    )
    wall = time.perf_counter() - start
    own, children = peak_rss_mb()
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"wall time: {wall:.1f} s ({wall / 60:.2f} min)")
    print(f"peak RSS: {own:.0f} MB (this process), {children:.0f} MB (largest worker)")
    return wall, own, children


if __name__ == "__main__":
    main()
