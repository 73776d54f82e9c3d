"""Does augmentation help on real faces? ``make_model("cnn_best")`` with and without it, on LFW-7.

The natural path: raw uint8 crops straight into the network, which
standardizes them per channel after augmenting. Same protocol as
``real_faces.py`` (LFW-7, stratified 75/25 split, ``random_state=42``), the
same seed for both fits; prints test accuracy and fit time of each and the
CPU's features. The results page's ``cnn_best`` (the same configuration
behind a per-channel scaler) reached 0.988.

Usage::

    python benchmarks/augmentation.py [--root PATH] [--epochs 60]
"""

import argparse
import os
import time

from real_faces import DEFAULT_ROOT, SETS, lfw_split

from facenet_sk import make_model
from facenet_sk._precision import cpu_flags


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=os.environ.get("FACENET_SK_LFW", DEFAULT_ROOT))
    parser.add_argument(
        "--epochs", type=int, default=None, help="epochs of each fit (default: cnn_best's 60)"
    )
    args = parser.parse_args(argv)
    X_train, X_test, y_train, y_test, _ = lfw_split(args.root, SETS["lfw7"])
    features = sorted(f for f in cpu_flags() if f.startswith(("amx", "avx512_bf16", "avx512f")))
    print(
        f"LFW-7: {len(X_train)} train / {len(X_test)} test photos; CPU features: "
        f"{' '.join(features) or 'none of amx/avx512'}"
    )
    epochs = {} if args.epochs is None else {"max_epochs": args.epochs}
    for augment in (True, False):
        model = make_model("cnn_best", augment=augment, random_state=0, **epochs)
        start = time.perf_counter()
        model.fit(X_train, y_train)
        seconds = time.perf_counter() - start
        print(
            f"cnn_best augment={augment!s:5}  epochs {model.n_epochs_:3d}  "
            f"test accuracy {model.score(X_test, y_test):.3f}  fit {seconds:.0f} s",
            flush=True,
        )


if __name__ == "__main__":
    main()
