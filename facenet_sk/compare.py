"""Train several classifiers on the same split and tabulate their accuracy."""

import contextlib
import sys
import time

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.model_selection import cross_validate
from sklearn.pipeline import Pipeline

# tqdm's plain bar, drawn only on a terminal: in a notebook the "[k/N] name"
# lines show the progress (tqdm.auto would want ipywidgets there).
from tqdm import tqdm

from ._base import BaseNetClassifier

#: Columns of the table :func:`compare_models` returns.
RESULT_COLUMNS = (
    "model",
    "n_params",
    "train_accuracy",
    "valid_accuracy",
    "test_accuracy",
    "fit_seconds",
    "epochs",
)

# Fitted arrays that hold a scikit-learn model's learned values.
_LEARNED_ARRAYS = ("coef_", "intercept_", "components_", "support_vectors_", "dual_coef_")


class FittedModels(dict):
    """The fitted models of a comparison, by name.

    pandas deep-copies ``DataFrame.attrs`` on many operations; the fitted
    networks are shared instead of copied, which would be slow and
    memory-hungry.
    """

    def __deepcopy__(self, memo):
        return self


def final_estimator(model):
    """The last step of a Pipeline, or the model itself."""
    return model[-1] if isinstance(model, Pipeline) else model


def fitted_models(results):
    """The name -> fitted model mapping of a compare_models table, a dict or one model.

    One fitted model is named after its (final) estimator's class.

    Examples
    --------
    >>> from sklearn.dummy import DummyClassifier
    >>> list(fitted_models(DummyClassifier().fit([[0], [1]], [0, 1])))
    ['DummyClassifier']
    """
    if isinstance(results, Pipeline) or hasattr(results, "predict"):
        return {type(final_estimator(results)).__name__: results}
    models = results.attrs.get("models") if hasattr(results, "attrs") else results
    if not models:
        raise ValueError(
            "no fitted models: pass the table compare_models returned, a "
            "dict name -> fitted model, or one fitted model"
        )
    return models


def count_parameters(model):
    """Trainable parameters of a fitted model, or NA when it has none to count.

    Networks report their trainable weights; other scikit-learn models the
    size of their learned arrays (``coef_``, ``components_``...), summed
    over the steps of a Pipeline (a search reports its best estimator).

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> count_parameters(LogisticRegression().fit([[0, 1], [1, 0]], [0, 1]))
    3
    """
    final = final_estimator(model)
    if isinstance(final, BaseNetClassifier):
        return final.n_params_
    steps = [s for _, s in model.steps] if isinstance(model, Pipeline) else [model]
    total, found = 0, False
    for step in steps:
        step = getattr(step, "best_estimator_", step)
        for attr in _LEARNED_ARRAYS:
            value = getattr(step, attr, None)
            if value is not None:
                total += np.size(value)
                found = True
    return total if found else pd.NA


def fit_model(model, X_train, y_train, X_valid=None, y_valid=None):
    """Fit ``model``, giving a network its validation set in the model's own features.

    In a Pipeline, the validation set goes through the fitted preceding
    steps (e.g. the StandardScaler fitted on the training set), as the course
    standardizes its validation images with the training statistics.

    Returns
    -------
    model
        The same object, fitted.
    """
    final = final_estimator(model)
    if X_valid is None or not isinstance(final, BaseNetClassifier):
        return model.fit(X_train, y_train)
    if isinstance(model, Pipeline):
        head = model[:-1]  # shares the step objects, so fitting it fits the model's steps
        Xt = head.fit_transform(X_train, y_train)
        final.fit(Xt, y_train, X_valid=head.transform(X_valid), y_valid=y_valid)
        return model
    return model.fit(X_train, y_train, X_valid=X_valid, y_valid=y_valid)


def _fit_and_score(name, model, X_train, y_train, X_test, y_test, X_valid, y_valid, header=None):
    if header is not None:
        # Printed where the model trains, just before its epoch table.
        print(header, flush=True)
    model = clone(model)
    start = time.perf_counter()
    fit_model(model, X_train, y_train, X_valid, y_valid)
    seconds = time.perf_counter() - start
    final = final_estimator(model)
    row = {
        "model": name,
        "n_params": count_parameters(model),
        "train_accuracy": model.score(X_train, y_train),
        "valid_accuracy": model.score(X_valid, y_valid) if X_valid is not None else np.nan,
        "test_accuracy": model.score(X_test, y_test),
        "fit_seconds": seconds,
        "epochs": getattr(final, "n_epochs_", pd.NA),
    }
    return name, model, row


def compare_models(
    models,
    X_train,
    y_train,
    X_test,
    y_test,
    *,
    X_valid=None,
    y_valid=None,
    n_jobs=None,
    progress=True,
):
    """Fit every model on the same training set and tabulate its accuracy.

    Parameters
    ----------
    models : dict of str -> estimator
        Any scikit-learn classifiers or Pipelines (facenet_sk networks,
        LogisticRegression, the eigenfaces pipeline...). Each is cloned
        before fitting; the originals are left untouched.
    X_train, y_train : array-like
        Training data (images or flat rows; any labels).
    X_test, y_test : array-like
        Held-out test data, scored once at the end.
    X_valid, y_valid : array-like, default=None
        A fixed validation set: scored for every model, and monitored by the
        networks after every epoch (their ``history_`` shows it).
    n_jobs : int, default=None
        Models fitted in parallel through joblib (None: one at a time).
        Under ``joblib.parallel_config(backend="dask")`` they run on a Dask
        cluster, which then uses all its workers whatever ``n_jobs`` says.
    progress : bool, default=True
        Print "[k/N] name" before each model trains and its test accuracy
        after; on a terminal, also a bar over the models.

    Returns
    -------
    pandas.DataFrame
        One row per model with the columns of :data:`RESULT_COLUMNS`
        (``valid_accuracy`` is NaN without a validation set; ``epochs`` and
        ``n_params`` are NA where they do not apply). ``attrs["models"]``
        maps each name to its fitted model, for plots.

    Examples
    --------
    >>> from facenet_sk import compare_models, make_model
    >>> from facenet_sk.baselines import logistic_regression_baseline
    >>> from facenet_sk.datasets import make_synthetic_faces
    >>> train = make_synthetic_faces(n_per_person=20, subset="train")
    >>> test = make_synthetic_faces(n_per_person=20, subset="test")
    >>> table = compare_models({"only_fc": make_model("only_fc", max_epochs=2),
    ...                         "logreg": logistic_regression_baseline()},
    ...                        train.data / 255, train.target, test.data / 255, test.target,
    ...                        progress=False)
    >>> list(table["model"])
    ['only_fc', 'logreg']
    """
    if not models:
        raise ValueError("models is empty: give at least one name -> estimator")
    if (X_valid is None) != (y_valid is None):
        raise ValueError("give both X_valid and y_valid, or neither")
    data = (X_train, y_train, X_test, y_test, X_valid, y_valid)
    n = len(models)
    tasks = (
        delayed(_fit_and_score)(
            name, model, *data, header=f"[{i}/{n}] {name}" if progress else None
        )
        for i, (name, model) in enumerate(models.items(), start=1)
    )
    fitted, rows = FittedModels(), []
    # The bar (on a terminal only) and the lines printed meanwhile (headers,
    # skorch's epoch tables) each get their own lines: prints go through
    # tqdm.write, which lifts the bar out of their way when both share a stream.
    out = sys.stdout
    bar = tqdm(
        total=n,
        desc="models",
        unit="model",
        file=out,
        disable=None if progress else True,
        leave=False,
    )
    redirect = contextlib.nullcontext()
    if not bar.disable:
        # Imported only for a bar on a terminal: tqdm.contrib imports tqdm.auto,
        # which warns in a notebook without ipywidgets.
        from tqdm.contrib import DummyTqdmFile

        redirect = contextlib.redirect_stdout(DummyTqdmFile(out))
    with bar, redirect:
        results = Parallel(n_jobs=n_jobs, return_as="generator")(tasks)
        for i, (name, model, row) in enumerate(results, start=1):
            final = final_estimator(model)
            if getattr(final, "interrupted_", False):
                # skorch ended this fit on Ctrl-C; end the whole comparison too.
                raise KeyboardInterrupt(f"training of {name!r} was interrupted")
            fitted[name] = model
            rows.append(row)
            if progress:
                print(
                    f"[{i}/{n}] {name} done: test accuracy {row['test_accuracy']:.3f}, "
                    f"{row['fit_seconds']:.0f} s",
                    flush=True,
                )
            bar.update()
    table = pd.DataFrame(rows, columns=list(RESULT_COLUMNS))
    table["n_params"] = table["n_params"].astype("Int64")
    table["epochs"] = table["epochs"].astype("Int64")
    table.attrs["models"] = fitted
    return table


def compare_models_cv(models, X, y, *, cv=5, n_jobs=None, progress=True):
    """Cross-validate every model and tabulate the mean and spread of its accuracy.

    Built on :func:`sklearn.model_selection.cross_validate`.

    Parameters
    ----------
    models : dict of str -> estimator
        The classifiers to compare.
    X, y : array-like
        All the data; ``cv`` splits it.
    cv : int or cross-validation generator, default=5
        As in :func:`~sklearn.model_selection.cross_validate` (stratified
        k-fold for an int).
    n_jobs : int, default=None
        Folds fitted in parallel.
    progress : bool, default=True
        Show a progress bar over the models.

    Returns
    -------
    pandas.DataFrame
        One row per model: ``model``, ``train_accuracy_mean``,
        ``train_accuracy_std``, ``test_accuracy_mean``, ``test_accuracy_std``,
        ``fit_seconds_mean``, ``n_splits``.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from facenet_sk import compare_models_cv
    >>> from facenet_sk.datasets import make_synthetic_faces
    >>> X, y = make_synthetic_faces(n_per_person=10, return_X_y=True)
    >>> compare_models_cv({"logreg": LogisticRegression(max_iter=200)}, X / 255, y, cv=2,
    ...                   progress=False).shape
    (1, 7)
    """
    if not models:
        raise ValueError("models is empty: give at least one name -> estimator")
    rows = []
    for name, model in tqdm(models.items(), desc="models", unit="model", disable=not progress):
        scores = cross_validate(
            model, X, y, cv=cv, n_jobs=n_jobs, return_train_score=True, scoring="accuracy"
        )
        rows.append(
            {
                "model": name,
                "train_accuracy_mean": scores["train_score"].mean(),
                "train_accuracy_std": scores["train_score"].std(),
                "test_accuracy_mean": scores["test_score"].mean(),
                "test_accuracy_std": scores["test_score"].std(),
                "fit_seconds_mean": scores["fit_time"].mean(),
                "n_splits": len(scores["test_score"]),
            }
        )
    return pd.DataFrame(rows)
