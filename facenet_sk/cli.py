"""The ``facenet-sk`` command: compare, grid, summary, fetch."""

import argparse
import ast
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ._version import __version__

EPILOG = "Errors are reported in one line; the exit code is 1 on error, 130 on Ctrl-C."


class CLIError(Exception):
    """A problem with the command line, reported in one line."""


# ------------------------------------------------------------------ data
def _parse_crop(text):
    if text is None or text == "center":
        return text
    try:
        box = tuple(int(v) for v in text.split(","))
    except ValueError:
        box = ()
    if len(box) != 4:
        raise CLIError(f"--crop must be 'center' or LEFT,TOP,RIGHT,BOTTOM, got {text!r}")
    return box


def load_split(args):
    """(X_train, y_train, X_valid, y_valid, X_test, y_test, target_names, description)."""
    from .datasets import (LFW_CROP, fetch_lfw_faces, load_eight_faces, load_face_folder,
                           make_synthetic_faces)
    from .split import train_valid_test_split

    if args.data == "synthetic":
        faces = make_synthetic_faces(random_state=args.random_state)
        description = "synthetic faces (8 people, 250/50/50 per person)"
    elif args.data == "eight-faces":
        faces = load_eight_faces(subset="all", data_home=args.data_home)
        description = f"8 faces ({faces.path})"
    else:
        if args.data == "lfw":
            # All of LFW is 13,233 photos of 5,749 people: default to its 7 largest.
            faces = fetch_lfw_faces(
                data_home=args.data_home,
                crop=LFW_CROP if args.crop is None else _parse_crop(args.crop),
                min_faces_per_person=70 if args.min_faces is None else args.min_faces,
                detect=args.detect)
            source = f"LFW ({faces.path})"
        else:
            faces = load_face_folder(args.data, crop=_parse_crop(args.crop),
                                     min_faces_per_person=args.min_faces or 0,
                                     detect=args.detect)
            source = f"folder {args.data}"
        X_tr, X_va, X_te, y_tr, y_va, y_te = train_valid_test_split(
            faces.data, faces.target, valid_size=args.valid_size, test_size=args.test_size,
            random_state=args.random_state)
        description = (f"{source} ({len(faces.target_names)} people, "
                       f"{len(faces.target)} images, stratified split "
                       f"{len(y_tr)}/{len(y_va)}/{len(y_te)})")
        return X_tr, y_tr, X_va, y_va, X_te, y_te, faces.target_names, description
    parts = [faces.subset == s for s in ("train", "valid", "test")]
    arrays = [a for part in parts for a in (faces.data[part], faces.target[part])]
    return (*arrays, faces.target_names, description)


# ---------------------------------------------------------------- models
def build_models(names, *, epochs, random_state, verbose, tensorboard=None):
    """Pipelines (StandardScaler + network, the seed's protocol) and baselines by name."""
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from .baselines import BASELINE_NAMES, FACE_BASELINE_NAMES, make_baseline
    from .models import MODEL_NAMES, make_model

    models = {}
    for name in names:
        if name in BASELINE_NAMES + FACE_BASELINE_NAMES:
            models[name] = make_baseline(name, random_state=random_state)
            continue
        if name not in MODEL_NAMES:
            raise CLIError(f"unknown model {name!r}; choose from "
                           f"{', '.join(MODEL_NAMES + BASELINE_NAMES + FACE_BASELINE_NAMES)}")
        # The course's recipe: the network takes the scaler's output as it is.
        params = dict(random_state=random_state, verbose=verbose, input_scaling=None)
        if epochs is not None:
            params["max_epochs"] = epochs
        if tensorboard is not None:
            params["callbacks"] = [_tensorboard_callback(tensorboard, name)]
        models[name] = Pipeline([("scale", StandardScaler()),
                                 ("net", make_model(name, **params))])
    return models


def _tensorboard_callback(log_dir, name):
    try:
        from skorch.callbacks import TensorBoard
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as exc:
        raise CLIError("--tensorboard needs the tensorboard package: "
                       "pip install tensorboard") from exc
    return TensorBoard(SummaryWriter(log_dir=str(Path(log_dir) / name)))


def _model_names(args, default):
    names = [n.strip() for n in args.models.split(",") if n.strip()] if args.models \
        else list(default)
    if args.baselines:
        from .baselines import available_baselines

        names += [b for b in available_baselines() if b not in names]
    return names


# -------------------------------------------------------------- commands
def cmd_compare(args):
    from ._atomic import check_output_dir
    from .compare import compare_models, final_estimator
    from .models import MODEL_NAMES
    from .plotting import plot_accuracy_bars, plot_confusion_matrices, plot_learning_curves
    from .report import write_report

    check_output_dir(args.out)  # fail now, not after the training
    names = _model_names(args, MODEL_NAMES + ("logistic_regression",))
    models = build_models(names, epochs=args.epochs, random_state=args.random_state,
                          verbose=0 if args.quiet else 1, tensorboard=args.tensorboard)
    X_tr, y_tr, X_va, y_va, X_te, y_te, target_names, description = load_split(args)
    print(f"data: {description}", flush=True)
    start = time.perf_counter()
    with _scheduler(args.scheduler, scatter=[X_tr, y_tr, X_te, y_te, X_va, y_va]):
        table = compare_models(models, X_tr, y_tr, X_te, y_te, X_valid=X_va, y_valid=y_va,
                               n_jobs=args.n_jobs, progress=not args.quiet)
    elapsed = time.perf_counter() - start
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    figures = {"accuracy": plot_accuracy_bars(table),
               "confusion_matrices": plot_confusion_matrices(
                   table, X_te, y_te, labels=[str(n) for n in target_names])}
    if any(hasattr(final_estimator(m), "history_") for m in table.attrs["models"].values()):
        figures["learning_curves"] = plot_learning_curves(table)
    notes = [
        f"command: facenet-sk {' '.join(args.argv)}",
        f"data: {description}",
        f"machine: {platform.node() or 'unknown'}, {os.cpu_count()} CPU(s), "
        f"{platform.platform()}; facenet_sk {__version__}",
        f"total time: {elapsed:.0f} s",
    ]
    written = write_report(table, args.out, figures=figures, notes=notes,
                           title="facenet_sk: model comparison")
    print(f"wrote {', '.join(str(p) for p in written)}")
    return 0


def _parse_param(text):
    """'dropout=0.1,0.3' -> ('dropout', [0.1, 0.3])."""
    name, sep, values = text.partition("=")
    if not sep or not name or not values:
        raise CLIError(f"--param must look like NAME=V1,V2,...; got {text!r}")

    def value(v):
        try:
            return ast.literal_eval(v)
        except (ValueError, SyntaxError):
            return v

    return name.strip(), [value(v.strip()) for v in values.split(",")]


def cmd_grid(args):
    from sklearn.model_selection import GridSearchCV

    grid = dict(_parse_param(p) for p in args.param)
    pipe = build_models([args.model], epochs=args.epochs, random_state=args.random_state,
                        verbose=0)[args.model]
    step = pipe.steps[-1][0]
    valid = pipe.get_params()
    param_grid = {}
    for name, values in grid.items():
        key = name if name in valid else f"{step}__{name}"
        if key not in valid:
            raise CLIError(f"model {args.model!r} has no parameter {name!r}")
        param_grid[key] = values
    X_tr, y_tr, X_va, y_va, *_, description = load_split(args)
    # The search cross-validates on train + valid; the test part stays unseen.
    X = np.concatenate([X_tr, X_va])
    y = np.concatenate([y_tr, y_va])
    print(f"data: {description}; searching on train+valid ({len(y)} images)", flush=True)
    search = GridSearchCV(pipe, param_grid, cv=args.cv, n_jobs=args.n_jobs,
                          verbose=0 if args.quiet else 1, return_train_score=True)
    with _scheduler(args.scheduler, scatter=[X, y]):
        search.fit(X, y)
    keep = [c for c in search.cv_results_ if c.startswith("param_")] + [
        "mean_train_score", "mean_test_score", "std_test_score", "rank_test_score",
        "mean_fit_time"]
    table = pd.DataFrame(search.cv_results_)[keep].rename(
        columns=lambda c: c.replace(f"param_{step}__", "").replace("param_", ""))
    print(table.sort_values("rank_test_score").to_string(index=False))
    print(f"best: {search.best_params_} (mean CV accuracy {search.best_score_:.4f})")
    if args.out:
        from .report import write_report
        write_report(table, args.out, title=f"facenet_sk: grid search of {args.model}",
                     notes=[f"command: facenet-sk {' '.join(args.argv)}",
                            f"data: {description}"])
    return 0


def cmd_summary(args):
    from .models import make_model
    from ._summary import summary

    shape = tuple(int(v) for v in args.image_shape.split(",")) if args.image_shape else None
    print(summary(make_model(args.name, image_shape=shape)))
    return 0


def cmd_fetch(args):
    from .datasets import EIGHT_FACES_URL, fetch_eight_faces

    path = fetch_eight_faces(data_home=args.data_home, url=args.url or EIGHT_FACES_URL)
    print(path)
    return 0


class _scheduler:
    """Run joblib work on a Dask cluster when an address is given.

    ``scatter`` lists the arrays the tasks take: they are sent once to every
    worker. (Left to itself, joblib's dask backend sends each large argument
    to one worker only, and a search fails when that worker dies.)
    """

    def __init__(self, address, scatter=()):
        self.address = address
        self.scatter = [a for a in scatter if a is not None]
        self._stack = None

    def __enter__(self):
        if self.address is None:
            return self
        import contextlib

        try:
            from distributed import Client
        except ImportError as exc:
            raise CLIError("--scheduler needs dask: pip install 'facenet_sk[dask]'") from exc
        from joblib import parallel_config

        self._stack = contextlib.ExitStack()
        client = self._stack.enter_context(Client(self.address))
        self._stack.enter_context(parallel_config(backend="dask", scatter=self.scatter))
        print(f"scheduler: {client.scheduler.address}", flush=True)
        return self

    def __exit__(self, *exc):
        if self._stack is not None:
            self._stack.close()
        return False


# ---------------------------------------------------------------- parser
def _add_data_options(parser):
    parser.add_argument("--data", default="synthetic",
                        help="'synthetic' (default, offline), 'eight-faces' (the course's "
                             "HDF5 file, downloaded when missing), 'lfw' (Labeled Faces in "
                             "the Wild through scikit-learn, downloaded when missing) or a "
                             "folder with one sub-folder of images per person")
    parser.add_argument("--crop", help="for a folder or lfw: 'center' or LEFT,TOP,RIGHT,BOTTOM "
                                       "in source pixels (LFW: 60,60,190,190, lfw's default)")
    parser.add_argument("--detect", action="store_true",
                        help="for a folder or lfw: find, align and cut the largest face of each "
                             "photo (needs facenet_sk[faces]); photos without one are skipped "
                             "(lfw: keep the crop)")
    parser.add_argument("--min-faces", type=int,
                        help="for a folder or lfw: keep people with at least this many images "
                             "(default: 0; lfw: 70)")
    parser.add_argument("--test-size", type=float, default=0.25,
                        help="for a folder or lfw: fraction of images held out for test (0.25)")
    parser.add_argument("--valid-size", type=float, default=0.1,
                        help="for a folder or lfw: fraction of images for validation (0.1)")
    parser.add_argument("--data-home", help="folder of downloaded data "
                                            "(default: $FACENET_SK_DATA or ~/facenet_sk_data)")
    parser.add_argument("--random-state", type=int, default=0,
                        help="seed of the data, the split and every model (0)")
    parser.add_argument("--epochs", type=int, help="epochs per network (default: the seed's 30)")
    parser.add_argument("--n-jobs", type=int, help="models (or candidates) fitted in parallel")
    parser.add_argument("--scheduler", help="address of a Dask scheduler to run on, "
                                            "e.g. tcp://127.0.0.1:8786")
    parser.add_argument("--quiet", action="store_true", help="no progress output")


def build_parser():
    from .models import MODEL_NAMES

    parser = argparse.ArgumentParser(
        prog="facenet-sk",
        description="Train and compare the '8 faces' networks as scikit-learn classifiers.",
        epilog=EPILOG)
    parser.add_argument("--version", action="version", version=f"facenet_sk {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    compare = commands.add_parser(
        "compare", epilog=EPILOG,
        help="train the networks and baselines, write a results table, figures and report",
        description="Train the five networks (StandardScaler + network, 30 epochs, Adam, "
                    "batch 128, validation every epoch) and the logistic-regression "
                    "baseline on the same split, print the accuracy table and write "
                    "results.csv, results.md, PNG figures and a self-contained report.html.")
    _add_data_options(compare)
    compare.add_argument("--models", help=f"comma-separated names among {', '.join(MODEL_NAMES)}"
                                          ", logistic_regression, eigenfaces_svm, "
                                          "face_embedding, face_embedding_fcnet "
                                          "(default: the five networks + logistic_regression)")
    compare.add_argument("--baselines", action="store_true",
                         help="add both classic baselines (logistic regression and the "
                              "eigenfaces PCA + RBF SVM) and, with facenet_sk[faces] "
                              "installed, the pretrained face-embedding rows")
    compare.add_argument("--out", default="facenet_sk_results",
                         help="folder for the result files (facenet_sk_results)")
    compare.add_argument("--tensorboard", help="write TensorBoard logs to DIR/<model>")
    compare.set_defaults(func=cmd_compare)

    grid = commands.add_parser(
        "grid", epilog=EPILOG, help="GridSearchCV over a network's hyper-parameters",
        description="Cross-validated grid search (GridSearchCV) of one network on the "
                    "train+valid part of the data; prints cv_results_ as a table.")
    _add_data_options(grid)
    grid.add_argument("--model", required=True, choices=MODEL_NAMES, help="network to tune")
    grid.add_argument("--param", action="append", required=True,
                      help="NAME=V1,V2,... (repeatable), e.g. dropout=0.1,0.3,0.5")
    grid.add_argument("--cv", type=int, default=3, help="folds (3)")
    grid.add_argument("--out", help="also write the table to this folder")
    grid.set_defaults(func=cmd_grid)

    summary = commands.add_parser("summary", epilog=EPILOG,
                                  help="print a network's Keras-style summary",
                                  description="Print the layers, output shapes and parameter "
                                              "counts of one of the seed's networks.")
    summary.add_argument("name", choices=MODEL_NAMES)
    summary.add_argument("--image-shape", help="H,W,C of the input (48,48,3)")
    summary.set_defaults(func=cmd_summary)

    fetch = commands.add_parser("fetch", epilog=EPILOG,
                                help="download the course's 8 faces HDF5 file",
                                description="Download Data_8_faces_no_cut.hdf5 into the data "
                                            "folder, checking its layout before keeping it.")
    fetch.add_argument("--data-home", help="folder for the file")
    fetch.add_argument("--url", help="download address (default: the course's)")
    fetch.set_defaults(func=cmd_fetch)
    return parser


def main(argv=None):
    """Entry point of the ``facenet-sk`` command; returns the exit code."""
    if argv is None:
        # Run as the command, this process is the library's own: let training
        # tune glibc's malloc for speed (a process-wide change).
        from ._malloc import allow_malloc_tuning
        allow_malloc_tuning()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("facenet-sk: interrupted; no result files were written", file=sys.stderr)
        return 130
    except (CLIError, ValueError, OSError, TypeError, ImportError) as exc:
        print(f"facenet-sk: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
