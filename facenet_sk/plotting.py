"""Figures of a comparison: learning curves, confusion matrices, accuracy bars.

Figures are built with :class:`matplotlib.figure.Figure`, not pyplot, so they
need no display, leave pyplot's global state alone and work under ``Agg``.
"""

import math

import numpy as np
from matplotlib.figure import Figure
from sklearn.metrics import ConfusionMatrixDisplay

from .compare import final_estimator


def _models(results):
    """The name -> fitted model mapping of a compare_models table (or a dict)."""
    models = results.attrs.get("models") if hasattr(results, "attrs") else results
    if not models:
        raise ValueError("no fitted models: pass the table compare_models returned, or a "
                         "dict name -> fitted model")
    return models


def plot_learning_curves(results):
    """Accuracy and loss per epoch of every fitted network.

    Parameters
    ----------
    results : pandas.DataFrame or dict
        The table :func:`~facenet_sk.compare_models` returned, or a dict
        name -> fitted model. Models without ``history_`` are left out.

    Returns
    -------
    matplotlib.figure.Figure
        Two panels (accuracy, loss); training solid, validation dashed.

    Examples
    --------
    >>> fig = plot_learning_curves(table)  # doctest: +SKIP
    >>> fig.savefig("learning_curves.png")  # doctest: +SKIP
    """
    fig = Figure(figsize=(11, 4.2), layout="constrained")
    ax_acc, ax_loss = fig.subplots(1, 2)
    colours = (f"C{i % 10}" for i in range(10**6))  # matplotlib's default cycle
    drawn = False
    for name, model in _models(results).items():
        history = getattr(final_estimator(model), "history_", None)
        if history is None or not len(history):
            continue
        drawn = True
        colour = next(colours)
        epochs = history[:, "epoch"]
        for key, ax in (("acc", ax_acc), ("loss", ax_loss)):
            ax.plot(epochs, history[:, f"train_{key}"], color=colour, label=f"{name} train")
            if f"valid_{key}" in history[-1]:
                ax.plot(epochs, history[:, f"valid_{key}"], color=colour, linestyle="--",
                        label=f"{name} valid")
    if not drawn:
        raise ValueError("none of the models has a training history (history_) to plot")
    ax_acc.set(title="Accuracy", xlabel="epoch", ylabel="accuracy")
    ax_loss.set(title="Loss", xlabel="epoch", ylabel="cross-entropy")
    ax_loss.legend(fontsize="small", loc="upper right")
    for ax in (ax_acc, ax_loss):
        ax.grid(alpha=0.3)
    return fig


def plot_confusion_matrices(results, X_test, y_test, *, labels=None, normalize=None):
    """One confusion matrix per model on the test set (scikit-learn's display).

    Parameters
    ----------
    results : pandas.DataFrame or dict
        The table :func:`~facenet_sk.compare_models` returned, or a dict
        name -> fitted model.
    X_test, y_test : array-like
        Test data.
    labels : list of str, default=None
        Names shown for the classes (e.g. ``target_names``).
    normalize : {"true", "pred", "all"}, default=None
        Normalization, as in :func:`sklearn.metrics.confusion_matrix`.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = plot_confusion_matrices(table, X_test, y_test)  # doctest: +SKIP
    """
    models = _models(results)
    n_cols = min(3, len(models))
    n_rows = math.ceil(len(models) / n_cols)
    fig = Figure(figsize=(4.6 * n_cols, 4.4 * n_rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(n_rows, n_cols)).ravel()
    for ax, (name, model) in zip(axes, models.items()):
        display = ConfusionMatrixDisplay.from_estimator(
            model, X_test, y_test, ax=ax, colorbar=False, normalize=normalize,
            display_labels=labels, values_format=".2f" if normalize else "d")
        display.ax_.set_title(name)
        if labels is not None:
            ax.tick_params(axis="x", labelrotation=90)
    for ax in axes[len(models):]:
        ax.set_visible(False)
    return fig


def plot_accuracy_bars(table):
    """Train, valid and test accuracy of every model side by side.

    Parameters
    ----------
    table : pandas.DataFrame
        The table :func:`~facenet_sk.compare_models` returned.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> plot_accuracy_bars(table).savefig("accuracy.png")  # doctest: +SKIP
    """
    columns = [c for c in ("train_accuracy", "valid_accuracy", "test_accuracy")
               if c in table and table[c].notna().any()]
    fig = Figure(figsize=(max(6.0, 1.3 * len(table) + 2), 4.2), layout="constrained")
    ax = fig.subplots()
    x = np.arange(len(table))
    width = 0.8 / len(columns)
    for i, column in enumerate(columns):
        values = table[column].astype(float).to_numpy()
        bars = ax.bar(x + (i - (len(columns) - 1) / 2) * width, values, width,
                      label=column.replace("_accuracy", ""))
        ax.bar_label(bars, fmt="%.2f", fontsize="x-small", padding=1)
    ax.set_xticks(x, table["model"], rotation=20, ha="right")
    ax.set(ylabel="accuracy", ylim=(0, 1.08), title="Accuracy by model")
    ax.legend(loc="lower right")
    ax.grid(axis="y", alpha=0.3)
    return fig
