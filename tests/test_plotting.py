"""Figures people can read: at 1 epoch and at many, legends off the bars, faces."""

import matplotlib
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb
from sklearn.dummy import DummyClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from facenet_sk import FCNetClassifier, compare_models
from facenet_sk.datasets import make_synthetic_faces
from facenet_sk.plotting import (
    MARKER_EPOCHS,
    plot_accuracy_bars,
    plot_face_gallery,
    plot_learning_curves,
)

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def faces():
    return make_synthetic_faces(n_people=3, n_per_person=14, image_size=16, random_state=0)


def tiny(epochs):
    return FCNetClassifier(hidden_layer_sizes=(8,), max_epochs=epochs, batch_size=8, random_state=0)


@pytest.fixture(scope="module")
def table(faces):
    train, test = faces.subset == "train", faces.subset != "train"
    X = faces.images / 255
    return compare_models(
        {"one_epoch": tiny(1), "dummy": DummyClassifier()},
        X[train],
        faces.target[train],
        X[test],
        faces.target[test],
        X_valid=X[test],
        y_valid=faces.target[test],
        progress=False,
    )


def drawn(fig):
    """The figure drawn by Agg (a Figure made without pyplot has no drawing canvas)."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas


def pixels_of(fig, colour, tol=0.08):
    """How many pixels of the rendered figure have ``colour``."""
    rgb = np.asarray(drawn(fig).buffer_rgba())[..., :3] / 255
    return int((np.abs(rgb - np.array(to_rgb(colour))).max(axis=-1) < tol).sum())


def test_one_epoch_shows_a_marker_per_curve_and_whole_epochs(table):
    fig = plot_learning_curves(table)
    ax_acc, ax_loss = fig.axes
    lines = [line for line in ax_acc.get_lines() if len(line.get_xdata())]
    assert len(lines) == 2  # train and valid of the only network; the dummy has no history
    for line in lines:
        assert line.get_marker() == "o" and list(line.get_xdata()) == [1]
    drawn(fig)
    for ax in (ax_acc, ax_loss):
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert ticks and all(float(t).is_integer() for t in ticks)
    assert pixels_of(fig, "C0") > 40  # the markers are drawn, not an empty frame


def test_long_runs_get_plain_lines(faces):
    model = tiny(MARKER_EPOCHS + 1).fit(faces.images / 255, faces.target)
    fig = plot_learning_curves(model)
    assert {line.get_marker() for line in fig.axes[0].get_lines()} == {"None"}


def test_learning_curves_take_a_fitted_estimator_or_pipeline(faces):
    X = faces.images.reshape(len(faces.images), -1)
    pipe = make_pipeline(StandardScaler(), tiny(2)).fit(X, faces.target)
    for model in (pipe, pipe[-1]):
        fig = plot_learning_curves(model)
        assert [line.get_label() for line in fig.axes[0].get_lines()] == ["FCNetClassifier train"]
    with pytest.raises(ValueError, match="none of the models has a training history"):
        plot_learning_curves(DummyClassifier().fit(X, faces.target))


def test_accuracy_legend_is_clear_of_the_bars_with_a_chance_line(table):
    full = table.copy()
    full.loc[:, ["train_accuracy", "valid_accuracy", "test_accuracy"]] = 1.0
    full.attrs = table.attrs
    fig = plot_accuracy_bars(full)
    ax = fig.axes[0]
    renderer = drawn(fig).get_renderer()
    legend = ax.get_legend().get_window_extent(renderer)
    for bar in ax.patches:
        assert not legend.overlaps(bar.get_window_extent(renderer))
    chance = [line for line in ax.get_lines() if line.get_label().startswith("chance")]
    assert len(chance) == 1 and chance[0].get_ydata()[0] == pytest.approx(1 / 3)
    assert plot_accuracy_bars(full, chance=0.5).axes[0].get_lines()[0].get_ydata()[0] == 0.5


def test_gallery_shows_misclassified_faces_first_titled_predicted_true(faces):
    X, y = faces.data, faces.target
    model = DummyClassifier(strategy="constant", constant=1).fit(X, y)
    names = ["ann", "bob", "cyd"]
    fig = plot_face_gallery(model, X[:9], y[:9], target_names=names, n_faces=9, n_cols=3)
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert len(shown) == 9
    wrong = int((y[:9] != 1).sum())
    titles = [ax.get_title() for ax in shown]
    assert all(t.startswith("bob\n") for t in titles)
    assert all(t != "bob\nbob" for t in titles[:wrong]) and all(
        t == "bob\nbob" for t in titles[wrong:]
    )
    colours = [to_rgb(ax.title.get_color()) for ax in shown]
    assert colours[:wrong] == [to_rgb("tab:red")] * wrong
    assert colours[wrong:] == [to_rgb("black")] * (9 - wrong)
    assert shown[0].get_images()[0].get_array().shape == (16, 16, 3)
    assert f"{wrong} of 9 misclassified" in fig._suptitle.get_text()


def test_gallery_of_an_empty_test_set_is_an_error(faces):
    model = DummyClassifier().fit(faces.data, faces.target)
    with pytest.raises(ValueError, match="empty"):
        plot_face_gallery(model, faces.data[:0], faces.target[:0])


def test_names_with_dollars_are_drawn_as_written():
    """A person or model named like mathtext ($...$) is text, not a formula that fails."""
    import io

    import pandas as pd

    from facenet_sk.plotting import plot_accuracy_bars, plot_confusion_matrices, plot_face_gallery

    X = np.repeat(np.eye(2), 3, axis=0) * 255
    y = np.repeat([0, 1], 3)
    model = DummyClassifier(strategy="most_frequent").fit(X, y)
    names = [r"$\undefined{x}$", "cost $5"]
    table = pd.DataFrame({"model": [r"$\bad$"], "test_accuracy": [0.5]})
    table.attrs["models"] = {r"$\bad$": model}
    figures = [
        plot_confusion_matrices(table, X, y, labels=names),
        plot_accuracy_bars(table),
        plot_face_gallery(
            model, np.zeros((6, 2, 2, 3), np.uint8), y, target_names=names, title="$\\bad$"
        ),
    ]
    for fig in figures:
        fig.savefig(io.BytesIO(), format="png")  # draws every text: no ParseFatalException
    texts = [t.get_text() for t in figures[0].axes[0].get_xticklabels()]
    assert texts == [r"\$\undefined{x}\$", r"cost \$5"]


def test_long_names_are_shortened_on_the_ticks():
    from facenet_sk.plotting import LABEL_CHARS, plot_confusion_matrices

    X, y = np.repeat(np.eye(2), 3, axis=0), np.repeat([0, 1], 3)
    model = DummyClassifier(strategy="most_frequent").fit(X, y)
    fig = plot_confusion_matrices({"m": model}, X, y, labels=["x" * 300, "bob"])
    texts = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert texts == ["x" * (LABEL_CHARS - 1) + "\u2026", "bob"]
