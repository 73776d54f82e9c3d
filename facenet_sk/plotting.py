"""Figures of a comparison: learning curves, confusion matrices, accuracy bars,
a gallery of test faces.

Figures are built with :class:`matplotlib.figure.Figure`, not pyplot, so they
need no display, leave pyplot's global state alone and work under ``Agg``.
"""

import math

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from sklearn.metrics import ConfusionMatrixDisplay

from .compare import final_estimator, fitted_models

#: Up to this many epochs, every epoch of a learning curve gets a marker.
MARKER_EPOCHS = 20
#: Names longer than this are shortened (with an ellipsis) on ticks and face titles.
LABEL_CHARS = 30


def _literal(text):
    r"""``text`` shown as written: a name with two ``$`` would otherwise be parsed as
    mathtext, and a name such as ``$\undefined$`` stop the drawing with an error.

    Examples
    --------
    >>> print(_literal("a $x$ b"))
    a \$x\$ b
    """
    return str(text).replace("$", r"\$")


def _label(text, limit=LABEL_CHARS):
    """A name for a tick or a face's title: shown as written, shortened with an
    ellipsis beyond ``limit`` characters, so that a long name cannot crowd the
    figure out."""
    text = str(text)
    return _literal(text if len(text) <= limit else text[: limit - 1] + "\u2026")


def plot_learning_curves(results):
    """Accuracy and loss per epoch of every fitted network.

    Parameters
    ----------
    results : pandas.DataFrame, dict or estimator
        The table :func:`~facenet_sk.compare_models` returned, a dict
        name -> fitted model, or one fitted network or Pipeline ending in
        one. Models without ``history_`` are left out.

    Returns
    -------
    matplotlib.figure.Figure
        Two panels (accuracy, loss); training solid, validation dashed;
        whole epochs on the x axis, and a marker on every epoch of short
        runs (up to :data:`MARKER_EPOCHS`), so that even one epoch shows.

    Examples
    --------
    >>> from facenet_sk import make_model
    >>> from facenet_sk.datasets import make_synthetic_faces
    >>> X, y = make_synthetic_faces(n_per_person=10, return_X_y=True)
    >>> model = make_model("only_fc", max_epochs=2).fit(X / 255, y)
    >>> plot_learning_curves(model).savefig("learning_curves.png")  # doctest: +SKIP
    """
    fig = Figure(figsize=(11, 4.2), layout="constrained")
    ax_acc, ax_loss = fig.subplots(1, 2)
    colours = (f"C{i % 10}" for i in range(10**6))  # matplotlib's default cycle
    drawn, longest = False, 0
    for name, model in fitted_models(results).items():
        history = getattr(final_estimator(model), "history_", None)
        if history is None or not len(history):
            continue
        drawn, longest = True, max(longest, len(history))
        colour = next(colours)
        epochs = history[:, "epoch"]
        marker = "o" if len(epochs) <= MARKER_EPOCHS else None
        for key, ax in (("acc", ax_acc), ("loss", ax_loss)):
            ax.plot(
                epochs,
                history[:, f"train_{key}"],
                color=colour,
                marker=marker,
                markersize=4,
                label=_literal(f"{name} train"),
            )
            if f"valid_{key}" in history[-1]:
                ax.plot(
                    epochs,
                    history[:, f"valid_{key}"],
                    color=colour,
                    linestyle="--",
                    marker=marker,
                    markersize=4,
                    markerfacecolor="white",
                    label=_literal(f"{name} valid"),
                )
    if not drawn:
        raise ValueError("none of the models has a training history (history_) to plot")
    ax_acc.set(
        title="Accuracy (train: during the epoch, dropout on)", xlabel="epoch", ylabel="accuracy"
    )
    ax_loss.set(title="Loss", xlabel="epoch", ylabel="cross-entropy")
    ax_loss.legend(fontsize="small", loc="upper right")
    for ax in (ax_acc, ax_loss):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
        if longest <= MARKER_EPOCHS:
            # Half an epoch of margin: room for whole-epoch ticks even at 1 epoch.
            ax.set_xlim(0.5, longest + 0.5)
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
    models = fitted_models(results)
    n_cols = min(3, len(models))
    n_rows = math.ceil(len(models) / n_cols)
    fig = Figure(figsize=(4.6 * n_cols, 4.4 * n_rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(n_rows, n_cols)).ravel()
    for ax, (name, model) in zip(axes, models.items()):
        display = ConfusionMatrixDisplay.from_estimator(
            model,
            X_test,
            y_test,
            ax=ax,
            colorbar=False,
            normalize=normalize,
            display_labels=None if labels is None else [_label(v) for v in labels],
            values_format=".2f" if normalize else "d",
        )
        display.ax_.set_title(_literal(name))
        if labels is not None:
            ax.tick_params(axis="x", labelrotation=90)
    for ax in axes[len(models) :]:
        ax.set_visible(False)
    return fig


def _n_classes(table):
    for model in table.attrs.get("models", {}).values():
        classes = getattr(final_estimator(model), "classes_", None)
        if classes is not None:
            return len(classes)
    return None


def plot_accuracy_bars(table, *, chance=None):
    """Train, valid and test accuracy of every model side by side.

    Parameters
    ----------
    table : pandas.DataFrame
        The table :func:`~facenet_sk.compare_models` returned; bars in its order.
    chance : float, default=None
        Accuracy of guessing, drawn as a line; None takes 1 / number of
        classes of the fitted models in ``table.attrs["models"]``.

    Returns
    -------
    matplotlib.figure.Figure
        The legend sits above the axes, clear of the bars.

    Examples
    --------
    >>> plot_accuracy_bars(table).savefig("accuracy.png")  # doctest: +SKIP
    """
    columns = [
        c
        for c in ("train_accuracy", "valid_accuracy", "test_accuracy")
        if c in table and table[c].notna().any()
    ]
    fig = Figure(figsize=(max(6.0, 1.3 * len(table) + 2), 4.6), layout="constrained")
    ax = fig.subplots()
    x = np.arange(len(table))
    width = 0.8 / len(columns)
    for i, column in enumerate(columns):
        values = table[column].astype(float).to_numpy()
        bars = ax.bar(
            x + (i - (len(columns) - 1) / 2) * width,
            values,
            width,
            label=column.replace("_accuracy", ""),
        )
        ax.bar_label(bars, fmt="%.2f", fontsize="x-small", padding=1)
    if chance is None:
        n_classes = _n_classes(table)
        chance = 1 / n_classes if n_classes else None
    if chance is not None:
        ax.axhline(
            chance, color="0.3", linestyle=":", linewidth=1.2, label=f"chance ({chance:.2f})"
        )
    ax.set_xticks(x, [_label(m) for m in table["model"]], rotation=20, ha="right")
    ax.set(ylabel="accuracy", ylim=(0, 1.08))
    ax.set_title("Accuracy by model", pad=28)
    # Above the axes, in one row: never over a bar, whatever the accuracies.
    ax.legend(
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        ncols=len(columns) + 1,
        frameon=False,
        fontsize="small",
    )
    ax.grid(axis="y", alpha=0.3)
    return fig


def plot_face_gallery(
    model, X_test, y_test, *, target_names=None, image_shape=None, n_faces=24, n_cols=8, title=None
):
    """Test faces titled "predicted / true", the misclassified ones first (in red).

    As in scikit-learn's faces recognition example.

    Parameters
    ----------
    model : estimator
        A fitted classifier (or Pipeline) that takes ``X_test``.
    X_test : array-like of shape (n, H, W, C) or (n, H*W*C)
        Test images, uint8 (0-255) or floats in [0, 1].
    y_test : array-like of shape (n,)
        True labels.
    target_names : list of str, default=None
        Names of the classes, indexed by integer label.
    image_shape : tuple, default=None
        (H, W, C) of flat rows; None: a square RGB image.
    n_faces : int, default=24
        Faces shown (at most the test set).
    n_cols : int, default=8
        Faces per row.
    title : str, default=None
        Start of the figure's title ("Test faces" when None); the count of
        misclassified faces follows.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from facenet_sk.baselines import logistic_regression_baseline
    >>> from facenet_sk.datasets import make_synthetic_faces
    >>> faces = make_synthetic_faces(n_people=3, n_per_person=10)
    >>> model = logistic_regression_baseline().fit(faces.data, faces.target)
    >>> fig = plot_face_gallery(model, faces.data, faces.target, n_faces=6)
    >>> len([ax for ax in fig.axes if ax.get_visible()])
    6
    """
    X_test = np.asarray(X_test)
    y_test = np.asarray(y_test)
    if len(X_test) == 0:
        raise ValueError("X_test is empty: there is no face to show")
    predicted = np.asarray(model.predict(X_test))
    wrong = predicted != y_test
    # Misclassified first, then the rest, each in the test set's order.
    order = np.concatenate([np.flatnonzero(wrong), np.flatnonzero(~wrong)])[:n_faces]
    images = X_test[order]
    if images.ndim == 2:
        if image_shape is None:
            side = math.isqrt(images.shape[1] // 3)
            image_shape = (side, side, 3)
        images = images.reshape(len(images), *image_shape)
    if images.dtype.kind == "f" and images.max() > 1.0:
        images = images / 255.0

    def name(label):
        if target_names is not None and isinstance(label, (int, np.integer)):
            return _label(target_names[label])
        return _label(label)

    n_cols = min(n_cols, len(order))
    n_rows = math.ceil(len(order) / n_cols)
    fig = Figure(figsize=(1.45 * n_cols, 1.75 * n_rows + 0.4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(n_rows, n_cols)).ravel()
    for ax, image, index in zip(axes, images, order):
        ax.imshow(image.squeeze(), cmap="gray" if image.shape[-1] == 1 else None)
        ax.set_title(
            f"{name(predicted[index])}\n{name(y_test[index])}",
            fontsize="x-small",
            color="tab:red" if wrong[index] else "black",
        )
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axes[len(order) :]:
        ax.set_visible(False)
    fig.suptitle(
        f"{_literal(title or 'Test faces')}: predicted / true ({int(wrong.sum())} of "
        f"{len(y_test)} misclassified, in red, first)",
        fontsize="medium",
    )
    return fig
