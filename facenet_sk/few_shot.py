"""Test accuracy against the number of training photos per person.

A user with their own photos has a handful per person, not the course's 250.
Which model to pick then depends on how its accuracy falls when the photos
per person become few; :func:`few_shot_curve` measures exactly that, with
repeated random draws of the training photos and a test set that stays the
same, and :func:`plot_few_shot` draws it.
"""

import time
from numbers import Integral

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.metrics import accuracy_score, balanced_accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state

# tqdm's plain bar: tqdm.auto would want ipywidgets in a notebook and warn without it.
from tqdm import tqdm

#: Columns of the table :func:`few_shot_curve` returns.
FEW_SHOT_COLUMNS = (
    "model",
    "n_per_person",
    "all_photos",
    "draw",
    "n_train",
    "test_accuracy",
    "test_balanced_accuracy",
    "fit_seconds",
)

#: The photos per person measured by default (None: all of them).
DEFAULT_N_PER_PERSON = (1, 2, 3, 5, 10, 20, None)


def few_shot_split(y, *, test_size=0.25, random_state=0):
    """Indices of the fixed stratified train and test sides of :func:`few_shot_curve`.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Labels.
    test_size : float or int, default=0.25
        As in :func:`sklearn.model_selection.train_test_split`.
    random_state : int, default=0
        Seed of the split.

    Returns
    -------
    train, test : ndarray of int
        Sorted indices into ``y``.

    Examples
    --------
    >>> train, test = few_shot_split([0, 0, 0, 0, 1, 1, 1, 1], test_size=0.5)
    >>> len(train), len(test)
    (4, 4)
    """
    y = np.asarray(y)
    train, test = train_test_split(
        np.arange(len(y)), test_size=test_size, stratify=y, random_state=random_state
    )
    return np.sort(train), np.sort(test)


def _draw_orders(y_train, n_draws, seeds):
    """For every draw, each person's training indices in a random order.

    Taking the first n of each person's order gives that draw's n photos, so
    the photos of a draw are nested: its 5 photos include its 1, 2 and 3.
    """
    labels = np.unique(y_train)
    return [
        [
            np.random.default_rng(seed).permutation(np.flatnonzero(y_train == label))
            for label in labels
        ]
        for seed in seeds[:n_draws]
    ]


def _check_n_per_person(n_per_person):
    values = list(n_per_person) if np.iterable(n_per_person) else [n_per_person]
    if not values:
        raise ValueError("n_per_person is empty: give at least one number of photos (or None)")
    for n in values:
        if n is not None and (isinstance(n, bool) or not isinstance(n, Integral) or n < 1):
            raise ValueError(
                f"n_per_person must hold integers >= 1 or None (all photos), got {n!r}"
            )
    return values


def _fit_and_score(name, model, X, y, train, test):
    model = clone(model)
    start = time.perf_counter()
    model.fit(X[train], y[train])
    seconds = time.perf_counter() - start
    predicted = model.predict(X[test])
    return {
        "model": name,
        "test_accuracy": accuracy_score(y[test], predicted),
        "test_balanced_accuracy": balanced_accuracy_score(y[test], predicted),
        "fit_seconds": seconds,
    }


def few_shot_curve(
    models,
    X,
    y,
    *,
    n_per_person=DEFAULT_N_PER_PERSON,
    n_draws=5,
    test_size=0.25,
    random_state=0,
    n_jobs=None,
    progress=True,
):
    """Test accuracy of every model trained on n photos per person, over random draws.

    The data is split once, stratified, into a training side and a test set
    (``test_size``) that every fit is scored on. For every ``n`` in
    ``n_per_person`` and every draw, each model (cloned) is fitted on ``n``
    photos per person drawn at random from the training side, then scored
    on the whole test set. Each draw orders each person's training photos at
    random once and takes the first ``n``, so within a draw the photos are
    nested (the 5 photos include the 1, 2 and 3) and the curve of one draw
    moves only with the number of photos.

    Parameters
    ----------
    models : dict of str -> estimator
        Any scikit-learn classifiers or Pipelines; each fit uses a clone.
    X : array-like of shape (n_samples, ...)
        Images or flat rows (any array that indexes by rows).
    y : array-like of shape (n_samples,)
        Labels; every person needs at least 2 photos for the stratified split.
    n_per_person : sequence of int or None, default=(1, 2, 3, 5, 10, 20, None)
        Training photos per person. A person with fewer photos on the
        training side gives all theirs. ``None``, or any ``n`` at least the
        largest number of training photos of a person, means all the
        training side: it is fitted once (draw 0), since every draw would be
        the same data, and reported with ``n_per_person`` equal to that
        largest number and ``all_photos`` True.
    n_draws : int, default=5
        Random draws of the training photos for every ``n``.
    test_size : float or int, default=0.25
        Size of the fixed test set, as in
        :func:`~sklearn.model_selection.train_test_split`.
    random_state : int, default=0
        Seed of the split (the same as :func:`few_shot_split`'s) and of the
        draws. The split and the draws depend only on ``y``, ``test_size``,
        ``n_draws`` and ``random_state``: two
        calls on different features of the same photos (pixels, and
        embeddings computed once) fit on the same photos.
    n_jobs : int, default=None
        Fits run in parallel through joblib (None: one at a time).
    progress : bool, default=True
        Show a progress bar over the fits.

    Returns
    -------
    pandas.DataFrame
        One row per model, ``n`` and draw, with the columns of
        :data:`FEW_SHOT_COLUMNS`: ``n_train`` training photos in all,
        ``test_accuracy`` and ``test_balanced_accuracy`` on the fixed test
        set, ``fit_seconds``. ``attrs`` holds ``n_classes`` and ``n_test``.

    Notes
    -----
    Models must cope with tiny training sets: the networks do (a fixed
    number of epochs, so fewer optimizer steps on fewer photos), and the
    eigenfaces baseline adapts its PCA and its search (see
    :func:`~facenet_sk.eigenfaces_baseline`). A model that needs more
    photos than it gets fails with its own error.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from facenet_sk.datasets import make_synthetic_faces
    >>> from facenet_sk.few_shot import few_shot_curve
    >>> X, y = make_synthetic_faces(n_people=3, n_per_person=12, image_size=16,
    ...                             return_X_y=True)
    >>> table = few_shot_curve({"logreg": LogisticRegression(max_iter=300)}, X / 255, y,
    ...                        n_per_person=(1, 3, None), n_draws=2, progress=False)
    >>> table[["n_per_person", "draw", "n_train"]].values.tolist()
    [[1, 0, 3], [1, 1, 3], [3, 0, 9], [3, 1, 9], [9, 0, 27]]
    """
    if not models:
        raise ValueError("models is empty: give at least one name -> estimator")
    if isinstance(n_draws, bool) or not isinstance(n_draws, Integral) or n_draws < 1:
        raise ValueError(f"n_draws must be an integer >= 1, got {n_draws!r}")
    wanted = _check_n_per_person(n_per_person)
    y = np.asarray(y)
    if not hasattr(X, "shape"):
        X = np.asarray(X)
    if y.ndim != 1 or len(y) != len(X):
        raise ValueError(
            f"y must be 1-D with one label per row of X; got y of shape {y.shape} "
            f"for {len(X)} rows of X"
        )
    if len(np.unique(y)) < 2:
        raise ValueError("y has a single person: a classifier needs at least 2")
    train, test = few_shot_split(y, test_size=test_size, random_state=random_state)
    draw_seeds = check_random_state(random_state).randint(np.iinfo(np.int32).max, size=n_draws)
    orders = _draw_orders(y[train], n_draws, draw_seeds)
    largest = max(len(order) for order in orders[0])

    settings = []  # (n, all_photos, draw, training indices)
    for n in dict.fromkeys(largest if v is None else min(v, largest) for v in wanted):
        if n == largest:
            settings.append((n, True, 0, train))
            continue
        for draw, order in enumerate(orders):
            settings.append(
                (n, False, draw, np.sort(train[np.concatenate([person[:n] for person in order])]))
            )
    tasks = [(name, model, setting) for setting in settings for name, model in models.items()]
    results = Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(_fit_and_score)(name, model, X, y, idx, test)
        for name, model, (_, _, _, idx) in tasks
    )
    rows = []
    with tqdm(total=len(tasks), desc="few-shot fits", unit="fit", disable=not progress) as bar:
        for (_, _, (n, all_photos, draw, idx)), row in zip(tasks, results):
            rows.append(
                {
                    **row,
                    "n_per_person": n,
                    "all_photos": all_photos,
                    "draw": draw,
                    "n_train": len(idx),
                }
            )
            bar.set_postfix_str(f"{row['model']} n={n}: {row['test_accuracy']:.3f}")
            bar.update()
    table = pd.DataFrame(rows, columns=list(FEW_SHOT_COLUMNS))
    table = table.sort_values(
        ["model", "n_per_person", "draw"],
        kind="stable",
        key=lambda c: c.map(list(models).index) if c.name == "model" else c,
    ).reset_index(drop=True)
    table.attrs.update(n_classes=len(np.unique(y)), n_test=len(test))
    return table


def summarize_few_shot(results):
    """Mean and standard deviation over the draws, one row per model and ``n``.

    Parameters
    ----------
    results : pandas.DataFrame
        The table :func:`few_shot_curve` returned (or several, concatenated).

    Returns
    -------
    pandas.DataFrame
        ``model``, ``n_per_person``, ``all_photos``, ``n_draws``,
        ``test_accuracy_mean``, ``test_accuracy_std``,
        ``test_balanced_accuracy_mean``, ``test_balanced_accuracy_std``.

    Examples
    --------
    >>> summary = summarize_few_shot(table)  # doctest: +SKIP
    """
    missing = set(FEW_SHOT_COLUMNS) - set(results.columns)
    if missing:
        raise ValueError(f"not a few_shot_curve table: columns {sorted(missing)} are missing")
    grouped = results.groupby(["model", "n_per_person", "all_photos"], sort=False)
    summary = grouped.agg(
        n_draws=("draw", "size"),
        test_accuracy_mean=("test_accuracy", "mean"),
        test_accuracy_std=("test_accuracy", "std"),
        test_balanced_accuracy_mean=("test_balanced_accuracy", "mean"),
        test_balanced_accuracy_std=("test_balanced_accuracy", "std"),
    ).reset_index()
    return summary


def plot_few_shot(results, *, metric="test_accuracy", n_classes=None):
    """Accuracy against training photos per person: mean over the draws, with a band.

    Parameters
    ----------
    results : pandas.DataFrame
        The table :func:`few_shot_curve` returned (or several, concatenated).
    metric : {"test_accuracy", "test_balanced_accuracy"}, default="test_accuracy"
        What to draw.
    n_classes : int, default=None
        Number of people, for the chance line at ``1 / n_classes``; by
        default taken from ``results.attrs`` (no line when unknown).

    Returns
    -------
    matplotlib.figure.Figure
        One line per model (mean over the draws) with a band of one
        standard deviation, a logarithmic x-axis whose last tick is "all"
        when the table measured all the training photos, and a dotted
        chance line.

    Examples
    --------
    >>> plot_few_shot(table).savefig("few_shot.png")  # doctest: +SKIP
    """
    from matplotlib.figure import Figure  # only the figure needs matplotlib

    if metric not in ("test_accuracy", "test_balanced_accuracy"):
        raise ValueError(
            f"metric must be 'test_accuracy' or 'test_balanced_accuracy', got {metric!r}"
        )
    summary = summarize_few_shot(results)
    if summary.empty:
        raise ValueError("the few-shot table is empty: nothing to plot")
    n_classes = n_classes or results.attrs.get("n_classes")
    fig = Figure(figsize=(7.5, 4.6), layout="constrained")
    ax = fig.subplots()
    for i, (name, part) in enumerate(summary.groupby("model", sort=False)):
        part = part.sort_values("n_per_person")
        x = part["n_per_person"].to_numpy(float)
        mean = part[f"{metric}_mean"].to_numpy(float)
        std = np.nan_to_num(part[f"{metric}_std"].to_numpy(float))
        colour = f"C{i % 10}"
        ax.plot(x, mean, marker="o", color=colour, label=name)
        ax.fill_between(
            x,
            np.clip(mean - std, 0, 1),
            np.clip(mean + std, 0, 1),
            color=colour,
            alpha=0.15,
            linewidth=0,
        )
    ticks = sorted(summary["n_per_person"].unique())
    everything = set(summary.loc[summary["all_photos"], "n_per_person"])
    ax.set_xscale("log")
    ax.set_xticks(ticks, [f"all\n({t})" if t in everything else str(t) for t in ticks])
    ax.minorticks_off()
    if n_classes:
        ax.axhline(1 / n_classes, color="grey", linestyle=":", label=f"chance (1/{n_classes})")
    label = metric.replace("test_", "test ").replace("_", " ")
    ax.set(
        xlabel="training photos per person",
        ylabel=label,
        ylim=(0, 1.02),
        title=f"{label.capitalize()} against photos per person (mean and 1 std over draws)",
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="lower right")
    return fig
