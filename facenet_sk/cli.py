"""The ``facenet-sk`` command: compare, grid, summary, fetch.

Only the standard library is imported at start-up, so that ``--help`` and
command-line errors answer at once; torch, scikit-learn and pandas are
imported by the command that needs them. Every flag is checked before any
data is loaded or any model trains.
"""

import argparse
import ast
import contextlib
import difflib
import os
import platform
import re
import sys
import time
from pathlib import Path

from ._atomic import MANIFEST
from ._names import BASELINE_NAMES, DATA_SOURCES, FACE_BASELINE_NAMES, MODEL_NAMES
from ._version import __version__

EPILOG = (
    "Errors are reported in one line; the exit code is 1 on error, 2 on a wrong "
    "command line, 130 on Ctrl-C."
)

#: The files ``grid`` writes into --out.
GRID_FILES = ("results.csv", "results.md", "report.html")
#: The files ``compare`` may write into --out (the learning curves only for networks).
COMPARE_FILES = GRID_FILES + (
    "per_person.csv",
    "accuracy.png",
    "faces.png",
    "confusion_matrices.png",
    "learning_curves.png",
)

#: Library parameter names and the flags that set them, for error messages.
FLAG_NAMES = {
    "max_epochs": "--epochs",
    "min_faces_per_person": "--min-faces",
    "max_people": "--max-people",
    "max_per_person": "--max-per-person",
    "valid_size": "--valid-size",
    "test_size": "--test-size",
    "random_state": "--random-state",
    "n_jobs": "--n-jobs",
}


class CLIError(Exception):
    """A problem with the command line, reported in one line."""


class UsageError(CLIError):
    """A wrong command line (exit code 2)."""


def did_you_mean(word, choices):
    """'; did you mean X?' for a near miss among ``choices``, else ''.

    Examples
    --------
    >>> did_you_mean("syntetic", ["synthetic", "eight-faces"])
    "; did you mean 'synthetic'?"
    """
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _flag_names(message):
    """Library parameter names in an error message replaced by the flags that set them."""
    pattern = r"\b(" + "|".join(FLAG_NAMES) + r")\b(?=\s*(=|must|\)|,))"
    return re.sub(pattern, lambda m: FLAG_NAMES[m.group(1)], message)


# ----------------------------------------------------------- flag types
def _integer(low):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be an integer >= {low}, got {value}")
        return value

    parse.__name__ = "integer"
    return parse


def _fraction(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be a fraction between 0 and 1, got {text}")
    return value


def _n_jobs(text):
    value = _integer(-(2**31))(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must not be 0 (1 runs one at a time, -1 uses every core)")
    return value


def _crop(text):
    if text == "center":
        return text
    try:
        box = tuple(int(v) for v in text.split(","))
    except ValueError:
        box = ()
    if len(box) != 4:
        raise argparse.ArgumentTypeError(f"must be 'center' or LEFT,TOP,RIGHT,BOTTOM, got {text!r}")
    if box[2] <= box[0] or box[3] <= box[1]:
        raise argparse.ArgumentTypeError(
            f"box {text} is empty: it needs LEFT < RIGHT and TOP < BOTTOM"
        )
    return box


def _literal(text):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text  # a bare word: a string such as adam


def _assignment(text):
    """'NAME=VALUE' -> (NAME, VALUE), the value read as a Python literal."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip() or not value.strip():
        raise argparse.ArgumentTypeError(f"must look like NAME=VALUE, got {text!r}")
    return name.strip(), _literal(value.strip())


def _grid_values(text):
    """'dropout=0.1,0.3' -> ('dropout', [0.1, 0.3])."""
    name, sep, values = text.partition("=")
    if not sep or not name.strip() or not values.strip():
        raise argparse.ArgumentTypeError(f"must look like NAME=V1,V2,...; got {text!r}")
    return name.strip(), [_literal(v.strip()) for v in values.split(",")]


# ------------------------------------------------------ checks, no data
def check_data_flag(data):
    """A --data that is neither a named source nor an existing path fails here."""
    if data in DATA_SOURCES or Path(data).expanduser().exists():
        return
    raise UsageError(
        f"--data {data!r}: folder {data!r} does not exist and it is not one of "
        f"{', '.join(DATA_SOURCES)}{did_you_mean(data, DATA_SOURCES)}"
    )


def check_out_dir(out, overwrite, will_write=COMPARE_FILES):
    """Check --out before any work: writable; empty, or --overwrite and nothing of
    another origin that this run would replace.

    A run records the files it writes (see :data:`facenet_sk._atomic.MANIFEST`);
    with --overwrite, a file of a name in ``will_write`` that no run recorded,
    or that changed since, is an error: it is never replaced.
    """
    from ._atomic import check_output_dir, foreign_files

    out = Path(out)
    if out.is_dir():
        unrecorded, changed = foreign_files(out)
        if not overwrite:
            present = sorted(set(unrecorded) | set(changed) | _recorded_present(out))
            if present:
                shown = ", ".join(present[:4]) + (", ..." if len(present) > 4 else "")
                raise UsageError(
                    f"--out {str(out)!r} is not empty ({shown}); add --overwrite "
                    "to replace a previous run's results there, or choose "
                    "another --out"
                )
        clash = [name for name in sorted(unrecorded + changed) if name in will_write]
        if overwrite and clash:
            raise UsageError(
                f"--out {str(out)!r} holds {', '.join(clash)}, which facenet-sk did not write "
                "(or which changed since): --overwrite replaces only a previous run's files; "
                "move them away or choose another --out"
            )
    check_output_dir(out)


def _recorded_present(out):
    from ._atomic import is_recorded, read_manifest

    manifest = read_manifest(out)
    return {name for name in manifest if is_recorded(out, name, manifest)}


def finish_out_dir(out, written):
    """After a run: remove the files an earlier run recorded that this one did not
    write again; say what was removed and what was left alone."""
    from ._atomic import foreign_files, remove_recorded

    unrecorded, changed = foreign_files(out)
    removed = remove_recorded(out, keep=[Path(p).name for p in written])
    print(f"wrote {', '.join(str(p) for p in written)}")
    if removed:
        print(f"removed the previous run's {', '.join(removed)}")
    if unrecorded:
        print(f"left alone (not written by facenet-sk): {', '.join(unrecorded)}")
    if changed:
        print(f"left alone (changed since facenet-sk wrote it): {', '.join(changed)}")
    return removed


def model_names(args, default):
    """The names of --models (and --baselines), checked, with a hint for a near miss."""
    from .baselines import available_baselines

    names = (
        [n.strip() for n in args.models.split(",") if n.strip()] if args.models else list(default)
    )
    if args.baselines:
        names += [b for b in available_baselines() if b not in names]
    known = MODEL_NAMES + BASELINE_NAMES + FACE_BASELINE_NAMES
    for name in names:
        if name not in known:
            raise UsageError(
                f"--models: unknown model {name!r}{did_you_mean(name, known)} "
                f"(choose from {', '.join(known)})"
            )
    if len(set(names)) != len(names):
        raise UsageError(f"--models names a model twice: {args.models}")
    return names


def network_params(names, settings, epochs):
    """{network name: {param: value}} from --set and --epochs, checked by the estimators.

    A parameter goes to every network that has it; one that no network has
    is an error naming the nearest real parameter.
    """
    from .models import make_model

    networks = [n for n in names if n in MODEL_NAMES]
    settings = dict(settings or [])
    if epochs is not None:
        if "max_epochs" in settings:
            raise UsageError("give --epochs or --set max_epochs=..., not both")
        settings["max_epochs"] = epochs
    params = {name: {} for name in networks}
    accepted = {name: set(make_model(name).get_params()) for name in networks}
    for key, value in settings.items():
        takers = [n for n in networks if key in accepted[n]]
        if networks and not takers:
            every = sorted(set().union(*accepted.values()))
            raise UsageError(
                f"--set {key}=...: no network has a parameter {key!r}{did_you_mean(key, every)}"
            )
        for name in takers:
            params[name][key] = value
    for name in networks:
        try:
            _check_estimator_params(make_model(name, **params[name]))
        except (ValueError, TypeError) as exc:
            raise UsageError(f"--set: {exc}") from None
    return params


def _check_estimator_params(model):
    """Run the checks the estimator runs at fit, now, before any data is loaded."""
    if hasattr(model, "_parameter_constraints"):  # scikit-learn's own declarative checks
        model._validate_params()
    if hasattr(model, "_check_params"):
        model._check_params()


# ---------------------------------------------------------------- data
def load_split(args):
    """The data the flags of a command ask for (see :func:`facenet_sk.datasets.load_split`)."""
    from .datasets import load_split as load

    return load(
        args.data,
        crop=args.crop,
        detect=args.detect,
        min_faces_per_person=args.min_faces,
        max_people=args.max_people,
        max_per_person=args.max_per_person,
        valid_size=args.valid_size,
        test_size=args.test_size,
        random_state=args.random_state,
        data_home=args.data_home,
    )


# -------------------------------------------------------------- models
def build_models(
    names, *, epochs=None, random_state=0, verbose=0, tensorboard=None, params=None, callbacks=()
):
    """Pipelines (StandardScaler + network, the exercise's protocol) and baselines by name.

    ``params`` maps a network name to extra hyper-parameters (from --set).
    """
    from .baselines import make_baseline
    from .models import make_course_pipeline

    models = {}
    for name in names:
        if name in BASELINE_NAMES + FACE_BASELINE_NAMES:
            models[name] = make_baseline(name, random_state=random_state)
            continue
        if name not in MODEL_NAMES:
            known = MODEL_NAMES + BASELINE_NAMES + FACE_BASELINE_NAMES
            raise CLIError(f"unknown model {name!r}{did_you_mean(name, known)}")
        # The course's recipe (StandardScaler, then the network taking the
        # scaler's output as it is), as on the results page.
        net_params = dict(random_state=random_state, verbose=verbose)
        if epochs is not None:
            net_params["max_epochs"] = epochs
        net_params.update((params or {}).get(name, {}))
        extra = list(callbacks)
        if tensorboard is not None:
            extra.append(_tensorboard_callback(tensorboard, name))
        if extra:
            net_params["callbacks"] = extra
        models[name] = make_course_pipeline(name, **net_params)
    return models


def _embed_chips(models, faces, chips):
    """The face rows on dlib's 150 px chips of the detected faces, not their 48x48 crops.

    Every row of the table gets the same X (the 48x48 faces the networks
    take); a ChipLookup in front of a face row turns each face into the chip
    cut from the same photo, the embedding's own input.
    """
    from sklearn.pipeline import make_pipeline

    from .faces import ChipLookup

    return {
        name: make_pipeline(ChipLookup(faces, chips), model.set_params(embed__framing="dlib"))
        if name in FACE_BASELINE_NAMES
        else model
        for name, model in models.items()
    }


def _tensorboard_callback(log_dir, name):
    try:
        from skorch.callbacks import TensorBoard
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as exc:
        raise CLIError(
            "--tensorboard needs the tensorboard package: pip install tensorboard"
        ) from exc
    return TensorBoard(SummaryWriter(log_dir=str(Path(log_dir) / name)))


def _versions():
    import numpy
    import sklearn
    import skorch
    import torch

    return (
        f"facenet_sk {__version__}, torch {torch.__version__}, scikit-learn "
        f"{sklearn.__version__}, skorch {skorch.__version__}, numpy {numpy.__version__}"
    )


def _machine():
    from ._precision import cpu_bf16_units

    # precision="auto" depends on these units, so a result names them.
    units = cpu_bf16_units()
    return (
        f"{platform.node() or 'unknown'}, {os.cpu_count()} CPU(s), {platform.platform()}, "
        f"Python {platform.python_version()}, CPU bfloat16 units: {', '.join(units) or 'none'}"
    )


EPOCH_TABLE_NOTE = (
    "in the epoch tables, train_loss and train_acc are averages over each "
    "epoch's batches while the network learns (dropout on); the results "
    "table's train_accuracy scores the finished model on the whole training set"
)


# ------------------------------------------------------------ commands
def cmd_compare(args):
    names = model_names(args, MODEL_NAMES + ("logistic_regression",))
    params = network_params(names, args.set, args.epochs)
    # Fail now, not after the training. Only networks (and the pretrained rows'
    # network) draw learning curves.
    will_write = (
        COMPARE_FILES
        if not set(names) <= set(BASELINE_NAMES)
        else tuple(f for f in COMPARE_FILES if f != "learning_curves.png")
    )
    check_out_dir(args.out, args.overwrite, will_write)

    from .compare import compare_models, final_estimator
    from .plotting import (
        plot_accuracy_bars,
        plot_confusion_matrices,
        plot_face_gallery,
        plot_learning_curves,
    )
    from .report import model_parameters, per_person_table, sort_results, write_report

    verbose = 0 if args.quiet else 1
    models = build_models(
        names,
        random_state=args.random_state,
        verbose=verbose,
        tensorboard=args.tensorboard,
        params=params,
    )
    split = load_split(args)
    print(f"data: {split.description}", flush=True)
    if split.chips is not None:
        models = _embed_chips(models, *split.chips)
    from .baselines import few_photos_hint

    if split.info["source"] == "folder" and (hint := few_photos_hint(split.y_train, names)):
        print(hint, flush=True)
    if verbose and any(n in MODEL_NAMES for n in names):
        print(f"note: {EPOCH_TABLE_NOTE}", flush=True)
    start = time.perf_counter()
    with _dask_scheduler(
        args.scheduler,
        scatter=[
            split.X_train,
            split.y_train,
            split.X_test,
            split.y_test,
            split.X_valid,
            split.y_valid,
        ],
    ):
        table = compare_models(
            models,
            split.X_train,
            split.y_train,
            split.X_test,
            split.y_test,
            X_valid=split.X_valid,
            y_valid=split.y_valid,
            n_jobs=args.n_jobs,
            progress=not args.quiet,
        )
    elapsed = time.perf_counter() - start
    table = sort_results(table)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    labels = [str(n) for n in split.target_names]
    fitted = table.attrs["models"]
    best = table["model"].iloc[0]
    figures = {
        "accuracy": plot_accuracy_bars(table),
        "faces": plot_face_gallery(
            fitted[best],
            split.X_test,
            split.y_test,
            target_names=labels,
            image_shape=split.image_shape,
            title=f"Test faces, {best}",
        ),
        "confusion_matrices": plot_confusion_matrices(
            table, split.X_test, split.y_test, labels=labels
        ),
    }
    if any(hasattr(final_estimator(m), "history_") for m in fitted.values()):
        figures["learning_curves"] = plot_learning_curves(table)
    per_person = per_person_table(table, split.X_test, split.y_test, target_names=labels)
    notes = [
        f"command: facenet-sk {' '.join(args.argv)}",
        f"data: {split.description}",
        f"total time: {elapsed:.0f} s",
        f"machine: {_machine()}",
        f"versions: {_versions()}",
    ]
    if verbose:
        notes.append(f"note: {EPOCH_TABLE_NOTE}")
    written = write_report(
        table,
        args.out,
        figures=figures,
        notes=notes,
        title="facenet_sk: model comparison",
        sections={"data": split.info, "hyper-parameters": model_parameters(fitted)},
        per_person=per_person,
    )
    finish_out_dir(args.out, written)
    return 0


def _grid_keys(grid, pipe, step):
    """--param names (with or without the pipeline's step prefix) -> search keys."""
    valid = pipe.get_params()
    own = sorted(
        k[len(step) + 2 :]
        for k in valid
        if k.startswith(f"{step}__") and "__" not in k[len(step) + 2 :]
    )
    param_grid = {}
    for name, values in grid:
        short = name[len(step) + 2 :] if name.startswith(f"{step}__") else name
        key = f"{step}__{short}"
        if key not in valid:
            raise UsageError(
                f"--param {name}=...: {pipe[-1].__class__.__name__} has no "
                f"parameter {short!r}{did_you_mean(short, own)}"
            )
        param_grid[key] = values
    return param_grid


def cmd_grid(args):
    if args.out is not None:
        check_out_dir(args.out, args.overwrite, GRID_FILES)
    params = network_params([args.model], args.set, args.epochs)

    from sklearn.model_selection import GridSearchCV, ParameterGrid

    from ._progress import FitProgress

    probe = build_models([args.model], random_state=args.random_state, params=params)
    step = probe[args.model].steps[-1][0]
    param_grid = _grid_keys(args.param, probe[args.model], step)
    # The fits of a sequential search run here, one after the other: a shared
    # callback can count them. In parallel, scikit-learn's own lines must do.
    sequential = args.n_jobs in (None, 1) and args.scheduler is None
    n_fits = len(ParameterGrid(param_grid)) * args.cv + 1
    progress = [FitProgress(n_fits)] if sequential and not args.quiet else []
    pipe = build_models(
        [args.model], random_state=args.random_state, params=params, callbacks=progress
    )[args.model]

    import numpy as np
    import pandas as pd

    split = load_split(args)
    # The search cross-validates on train + valid; the test part stays unseen
    # until the refitted best model is scored on it, once.
    X = np.concatenate([split.X_train, split.X_valid])
    y = np.concatenate([split.y_train, split.y_valid])
    print(
        f"data: {split.description}; searching on train+valid ({len(y)} images), "
        f"{len(split.y_test)} test images kept apart",
        flush=True,
    )
    search = GridSearchCV(
        pipe,
        param_grid,
        cv=args.cv,
        n_jobs=args.n_jobs,
        verbose=0 if args.quiet else 1,
        return_train_score=True,
    )
    with _dask_scheduler(args.scheduler, scatter=[X, y]):
        search.fit(X, y)

    def short(name):
        return name.replace(f"{step}__", "")

    keep = [c for c in search.cv_results_ if c.startswith("param_")] + [
        "mean_train_score",
        "mean_test_score",
        "std_test_score",
        "rank_test_score",
        "mean_fit_time",
    ]
    table = pd.DataFrame(search.cv_results_)[keep].rename(
        columns=lambda c: short(c.replace("param_", ""))
    )
    table = table.sort_values(["rank_test_score", "mean_fit_time"], kind="stable")
    print(table.to_string(index=False))
    best = ", ".join(f"{short(k)}={v!r}" for k, v in search.best_params_.items())
    test_accuracy = search.score(split.X_test, split.y_test)
    summary = [
        f"best: {best} (mean CV accuracy {search.best_score_:.4f})",
        f"test accuracy of the best model, refitted on train+valid, on the untouched "
        f"test set ({len(split.y_test)} images): {test_accuracy:.4f}",
    ]
    print("\n".join(summary))
    if args.out is not None:
        from .report import model_parameters, write_report

        written = write_report(
            table,
            args.out,
            title=f"facenet_sk: grid search of {args.model}",
            notes=[
                f"command: facenet-sk {' '.join(args.argv)}",
                f"data: {split.description}",
                *summary,
                f"machine: {_machine()}",
                f"versions: {_versions()}",
            ],
            sections={
                "data": split.info,
                "hyper-parameters": model_parameters(
                    {f"{args.model} (best)": search.best_estimator_}
                ),
            },
        )
        finish_out_dir(args.out, written)
    return 0


def cmd_summary(args):
    from ._summary import summary
    from .models import make_model

    print(summary(make_model(args.name, image_shape=args.image_shape)))
    return 0


def cmd_fetch(args):
    from .datasets import EIGHT_FACES_URL, fetch_eight_faces

    path = fetch_eight_faces(data_home=args.data_home, url=args.url or EIGHT_FACES_URL)
    print(path)
    return 0


@contextlib.contextmanager
def _dask_scheduler(address, scatter=()):
    """Run joblib work on a Dask cluster when an address is given.

    ``scatter`` lists the arrays the tasks take: they are sent once to every
    worker. (Left to itself, joblib's dask backend sends each large argument
    to one worker only, and a search fails when that worker dies.)
    """
    if address is None:
        yield
        return
    try:
        from distributed import Client
    except ImportError as exc:
        raise CLIError("--scheduler needs dask: pip install 'facenet_sk[dask]'") from exc
    from joblib import parallel_config

    with (
        Client(address) as client,
        parallel_config(backend="dask", scatter=[a for a in scatter if a is not None]),
    ):
        print(f"scheduler: {client.scheduler.address}", flush=True)
        yield


# -------------------------------------------------------------- parser
class _Parser(argparse.ArgumentParser):
    """argparse, with its errors raised for main() to report in one line."""

    def error(self, message):
        raise UsageError(f"{message} (see {self.prog} --help)")


def _network_name(text):
    if text not in MODEL_NAMES:
        raise argparse.ArgumentTypeError(
            f"unknown network {text!r}{did_you_mean(text, MODEL_NAMES)} (choose from "
            f"{', '.join(MODEL_NAMES)})"
        )
    return text


def _image_shape(text):
    try:
        shape = tuple(int(v) for v in text.split(","))
    except ValueError:
        shape = ()
    if len(shape) != 3 or min(shape) < 1:
        raise argparse.ArgumentTypeError(f"must be H,W,C such as 48,48,3, got {text!r}")
    return shape


def add_data_options(parser):
    """The flags that choose the data and the training run (shared by compare and grid)."""
    data = parser.add_argument_group("data")
    data.add_argument(
        "--data",
        default="synthetic",
        help="'synthetic' (default, offline), 'eight-faces' (the course's "
        "HDF5 file, downloaded when missing), 'lfw' (Labeled Faces in the "
        "Wild through scikit-learn, downloaded when missing) or a folder "
        "with one sub-folder of images per person",
    )
    data.add_argument(
        "--crop",
        type=_crop,
        help="for a folder or lfw: 'center' or LEFT,TOP,RIGHT,BOTTOM in source "
        "pixels, inside the photo (LFW: 60,60,190,190, lfw's default)",
    )
    data.add_argument(
        "--detect",
        action="store_true",
        help="for a folder or lfw: find, align and cut the largest face of a photo "
        "(needs facenet_sk[faces]); photos without one are skipped",
    )
    data.add_argument(
        "--min-faces",
        type=_integer(0),
        help="for a folder or lfw: keep people with at least this many images "
        "(default: 0; lfw: 70)",
    )
    data.add_argument(
        "--max-people",
        type=_integer(2),
        help="keep at most this many people (those with the most images; "
        "for the synthetic faces: generate this many)",
    )
    data.add_argument(
        "--max-per-person",
        type=_integer(3),
        help="keep at most this many images per person, drawn at random",
    )
    data.add_argument(
        "--test-size",
        type=_fraction,
        default=0.25,
        help="for a folder: fraction of images held out for test (0.25)",
    )
    data.add_argument(
        "--valid-size",
        type=_fraction,
        default=0.1,
        help="for a folder: fraction of images for validation (0.1)",
    )
    data.add_argument(
        "--data-home",
        help="folder of downloaded data (default: $FACENET_SK_DATA or ~/facenet_sk_data)",
    )
    run = parser.add_argument_group("training")
    run.add_argument(
        "--random-state",
        type=int,
        default=0,
        help="random seed of the data, the split and every model (0)",
    )
    run.add_argument(
        "--epochs", type=_integer(1), help="epochs per network (default: the exercise's 30)"
    )
    run.add_argument(
        "--set",
        action="append",
        type=_assignment,
        metavar="NAME=VALUE",
        help="set a network parameter (repeatable), e.g. --set lr=0.0005 "
        "--set batchnorm_momentum=0.1; see the FCNetClassifier and "
        "CNNClassifier docs for the names",
    )
    run.add_argument(
        "--n-jobs", type=_n_jobs, help="models (or fits) run in parallel (default: one at a time)"
    )
    run.add_argument(
        "--scheduler", help="address of a Dask scheduler to run on, e.g. tcp://127.0.0.1:8786"
    )
    run.add_argument("--quiet", action="store_true", help="no progress output")
    return parser


def _add_out_options(parser, default):
    parser.add_argument(
        "--out",
        default=default,
        help="folder for the result files" + (f" ({default})" if default else ""),
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="write into a non-empty --out: replace the files an earlier "
        f"run wrote there (recorded in its {MANIFEST}) and "
        "remove those this run does not write again; any other file is "
        "left alone, and one this run would replace is an error",
    )


def build_parser():
    """The argument parser of ``facenet-sk`` (imports nothing heavy)."""
    parser = _Parser(
        prog="facenet-sk",
        description="Train and compare the '8 faces' networks as scikit-learn classifiers.",
        epilog=EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"facenet_sk {__version__}")
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_Parser
    )

    compare = commands.add_parser(
        "compare",
        epilog=EPILOG,
        help="train the networks and baselines, write a results table, figures and report",
        description="Train the five networks (StandardScaler + network, 30 epochs, Adam, "
        "batch 128, validation every epoch) and the logistic-regression "
        "baseline on the same split, print the accuracy table and write "
        "results.csv, results.md, per_person.csv, PNG figures and a "
        "self-contained report.html.",
    )
    add_data_options(compare)
    compare.add_argument(
        "--models",
        help=f"comma-separated names among "
        f"{', '.join(MODEL_NAMES + BASELINE_NAMES)}, "
        f"{', '.join(FACE_BASELINE_NAMES)} "
        "(default: the five networks + logistic_regression)",
    )
    compare.add_argument(
        "--baselines",
        action="store_true",
        help="add both classic baselines (logistic regression and the "
        "eigenfaces PCA + RBF SVM) and, with facenet_sk[faces] "
        "installed, the pretrained face-embedding rows",
    )
    _add_out_options(compare, "facenet_sk_results")
    compare.add_argument("--tensorboard", help="write TensorBoard logs to DIR/<model>")
    compare.set_defaults(func=cmd_compare)

    grid = commands.add_parser(
        "grid",
        epilog=EPILOG,
        help="GridSearchCV over a network's hyper-parameters",
        description="Cross-validated grid search (GridSearchCV) of one network on the "
        "train+valid part of the data; prints cv_results_ as a table, then "
        "scores the refitted best model once on the untouched test part.",
    )
    add_data_options(grid)
    grid.add_argument(
        "--model",
        required=True,
        type=_network_name,
        metavar="NAME",
        help=f"network to tune: {', '.join(MODEL_NAMES)}",
    )
    grid.add_argument(
        "--param",
        action="append",
        required=True,
        type=_grid_values,
        metavar="NAME=V1,V2,...",
        help="values to try (repeatable), e.g. dropout=0.1,0.3,0.5",
    )
    grid.add_argument("--cv", type=_integer(2), default=3, help="folds (3)")
    _add_out_options(grid, None)
    grid.set_defaults(func=cmd_grid)

    summary = commands.add_parser(
        "summary",
        epilog=EPILOG,
        help="print a network's Keras-style summary",
        description="Print the layers, output shapes and parameter "
        "counts of one of the exercise's networks.",
    )
    summary.add_argument(
        "name", type=_network_name, metavar="NAME", help=f"one of {', '.join(MODEL_NAMES)}"
    )
    summary.add_argument("--image-shape", type=_image_shape, help="H,W,C of the input (48,48,3)")
    summary.set_defaults(func=cmd_summary)

    fetch = commands.add_parser(
        "fetch",
        epilog=EPILOG,
        help="download the course's 8 faces HDF5 file",
        description="Download Data_8_faces_no_cut.hdf5 into the data "
        "folder, checking its layout before keeping it.",
    )
    fetch.add_argument("--data-home", help="folder for the file")
    fetch.add_argument("--url", help="download address (default: the course's)")
    fetch.set_defaults(func=cmd_fetch)
    return parser


def main(argv=None):
    """Entry point of the ``facenet-sk`` command; returns the exit code."""
    as_command = argv is None
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
        args.argv = argv
        if getattr(args, "data", None) is not None:
            check_data_flag(args.data)
        if as_command:
            # Run as the command, this process is the library's own: let training
            # tune glibc's malloc for speed (a process-wide change).
            from ._malloc import allow_malloc_tuning

            allow_malloc_tuning()
        return args.func(args)
    except KeyboardInterrupt:
        print("facenet-sk: interrupted; no result files were written", file=sys.stderr)
        return 130
    except UsageError as exc:
        print(f"facenet-sk: error: {exc}", file=sys.stderr)
        return 2
    except (CLIError, ValueError, OSError, TypeError, ImportError) as exc:
        print(f"facenet-sk: error: {_flag_names(str(exc))}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
