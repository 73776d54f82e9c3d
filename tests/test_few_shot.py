"""few_shot_curve and plot_few_shot: accuracy against training photos per person."""

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from facenet_sk import MODEL_NAMES, eigenfaces_baseline, logistic_regression_baseline, make_model
from facenet_sk._batches import BatchLoader, TensorDataset
from facenet_sk.datasets import make_synthetic_faces
from facenet_sk.few_shot import (
    FEW_SHOT_COLUMNS,
    few_shot_curve,
    few_shot_split,
    plot_few_shot,
    summarize_few_shot,
)

#: (training ids, test ids) of every fit of a RecordingClassifier, in order.
CALLS = []


class RecordingClassifier(ClassifierMixin, BaseEstimator):
    """Remembers which rows (ids in column 0) it was fitted on and asked about."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        self.train_ids_ = X[:, 0].astype(int)
        return self

    def predict(self, X):
        CALLS.append((self.train_ids_, X[:, 0].astype(int)))
        return np.full(len(X), self.classes_[0])


@pytest.fixture
def ids():
    """X = the row ids; 4 people with 12, 10, 8 and 6 photos."""
    CALLS.clear()
    y = np.repeat([0, 1, 2, 3], [12, 10, 8, 6])
    return np.arange(len(y))[:, None].astype(float), y


def test_one_row_per_model_n_and_draw(ids):
    X, y = ids
    table = few_shot_curve(
        {"rec": RecordingClassifier(), "logreg": LogisticRegression()},
        X,
        y,
        n_per_person=(1, 2, None),
        n_draws=3,
        progress=False,
    )
    assert tuple(table.columns) == FEW_SHOT_COLUMNS
    assert list(table["model"]) == ["rec"] * 7 + ["logreg"] * 7
    rec = table[table["model"] == "rec"]
    # The training side holds 27 photos, 9 of the first person (25 % held out, stratified).
    assert list(rec["n_per_person"]) == [1, 1, 1, 2, 2, 2, 9]
    assert list(rec["draw"]) == [0, 1, 2, 0, 1, 2, 0]
    assert list(rec["n_train"]) == [4, 4, 4, 8, 8, 8, 27]
    assert list(rec["all_photos"]) == [False] * 6 + [True]
    assert table["test_accuracy"].between(0, 1).all()
    assert table["test_balanced_accuracy"].between(0, 1).all()
    # Always predicting person 0: balanced accuracy is exactly chance.
    assert np.allclose(rec["test_balanced_accuracy"], 0.25)
    assert table.attrs == {"n_classes": 4, "n_test": 9}


def test_fixed_test_set_random_nested_draws(ids):
    X, y = ids
    few_shot_curve(
        {"rec": RecordingClassifier()}, X, y, n_per_person=(1, 3, None), n_draws=4, progress=False
    )
    tests = {tuple(t) for _, t in CALLS}
    assert len(tests) == 1  # every fit is scored on the same test photos
    test = np.array(next(iter(tests)))
    assert np.all(np.abs(np.bincount(y[test]) - np.bincount(y) / 4) <= 1)  # stratified
    trains = [set(tr) for tr, _ in CALLS]
    assert all(not tr & set(test) for tr in trains)
    ones, threes, everything = trains[:4], trains[4:8], trains[8]
    for one, three in zip(ones, threes):
        assert np.bincount(y[list(one)]).tolist() == [1, 1, 1, 1]
        assert np.bincount(y[list(three)]).tolist() == [3, 3, 3, 3]
        assert one < three < everything  # nested within a draw
    assert len({frozenset(s) for s in ones}) > 1 and len({frozenset(s) for s in threes}) > 1
    assert everything == set(range(len(y))) - set(test)


def test_few_shot_split_is_stratified_and_disjoint(ids):
    _, y = ids
    train, test = few_shot_split(y, test_size=0.25, random_state=3)
    assert not set(train) & set(test) and len(train) + len(test) == len(y)
    assert len(test) == 9 and np.all(np.abs(np.bincount(y[test]) - np.bincount(y) / 4) <= 1)


def test_same_photos_whatever_the_features(ids):
    """The split and the draws depend on y and random_state only, not on X."""
    X, y = ids
    few_shot_curve(
        {"rec": RecordingClassifier()},
        X,
        y,
        n_per_person=(2,),
        n_draws=3,
        random_state=7,
        progress=False,
    )
    first = [list(c[0]) for c in CALLS]
    CALLS.clear()
    features = np.hstack([X, np.random.default_rng(0).normal(size=(len(y), 5))])
    few_shot_curve(
        {"rec": RecordingClassifier()},
        features,
        y,
        n_per_person=(2,),
        n_draws=3,
        random_state=7,
        progress=False,
    )
    assert [list(c[0]) for c in CALLS] == first
    CALLS.clear()
    few_shot_curve(
        {"rec": RecordingClassifier()},
        X,
        y,
        n_per_person=(2,),
        n_draws=3,
        random_state=8,
        progress=False,
    )
    assert [list(c[0]) for c in CALLS] != first


def test_a_number_beyond_the_training_side_means_all_photos(ids):
    X, y = ids
    table = few_shot_curve(
        {"rec": RecordingClassifier()},
        X,
        y,
        n_per_person=(6, 9, 100, None),
        n_draws=2,
        progress=False,
    )
    train, _ = few_shot_split(y)
    # 6 photos: the last person, with fewer on the training side, gives all theirs.
    assert list(table["n_per_person"]) == [6, 6, 9]
    assert list(table["n_train"]) == [np.minimum(np.bincount(y[train]), 6).sum()] * 2 + [27]
    assert table["n_train"].iloc[0] < 24


def test_parallel_fits_give_the_same_table():
    X, y = make_synthetic_faces(n_people=3, n_per_person=12, image_size=12, return_X_y=True)
    models = {"logreg": logistic_regression_baseline(max_iter=200)}
    serial = few_shot_curve(models, X, y, n_per_person=(1, 4), n_draws=2, progress=False)
    parallel = few_shot_curve(
        models, X, y, n_per_person=(1, 4), n_draws=2, n_jobs=2, progress=False
    )
    pd.testing.assert_frame_equal(
        serial.drop(columns="fit_seconds"), parallel.drop(columns="fit_seconds")
    )
    assert serial["test_accuracy"].iloc[-1] > 1 / 3  # it learned something from 4 photos


def test_every_network_and_baseline_fits_on_one_photo_per_person():
    X, y = make_synthetic_faces(n_people=4, n_per_person=8, return_X_y=True)
    models = {
        name: make_pipeline(StandardScaler(), make_model(name, max_epochs=2, random_state=0))
        for name in MODEL_NAMES
    }
    models["logistic_regression"] = logistic_regression_baseline()
    models["eigenfaces_svm"] = eigenfaces_baseline(n_iter=2)
    table = few_shot_curve(models, X, y, n_per_person=(1, 2), n_draws=1, progress=False)
    assert len(table) == 2 * len(models)
    assert table["test_accuracy"].notna().all() and (table["n_train"] <= 8).all()


@pytest.mark.parametrize("n_per_person, n_folds", [(1, 1), (2, 2), (3, 3), (6, 5)])
def test_eigenfaces_adapts_to_few_photos(n_per_person, n_folds):
    X, y = make_synthetic_faces(n_people=3, n_per_person=6, image_size=16, return_X_y=True)
    keep = np.concatenate([np.flatnonzero(y == label)[:n_per_person] for label in range(3)])
    X, y = X[keep], y[keep]
    model = eigenfaces_baseline(n_iter=2).fit(X, y)
    assert model["pca"].n_components == 150  # the parameter is left alone
    assert model["pca"].n_components_ == min(150, len(y) - 1)
    assert model["svc"].n_splits_ == n_folds
    assert model.predict(X).shape == (len(y),)


def test_eigenfaces_unchanged_on_enough_photos():
    X, y = make_synthetic_faces(n_people=3, n_per_person=30, image_size=16, return_X_y=True)
    model = eigenfaces_baseline(n_components=20, n_iter=2).fit(X, y)
    assert model["pca"].n_components_ == 20 and model["svc"].n_splits_ == 5


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"models": {}}, "models is empty"),
        ({"n_draws": 0}, "n_draws must be an integer >= 1"),
        ({"n_per_person": (0, 2)}, "n_per_person must hold integers >= 1 or None"),
        ({"n_per_person": ("few",)}, "n_per_person must hold integers"),
        ({"n_per_person": ()}, "n_per_person is empty"),
        ({"y": np.zeros(36)}, "single person"),
        ({"y": np.zeros(5)}, "one label per row of X"),
    ],
)
def test_bad_input_is_named(ids, kwargs, message):
    X, y = ids
    args = {"models": {"rec": RecordingClassifier()}, "y": y, **kwargs}
    with pytest.raises(ValueError, match=message):
        few_shot_curve(args.pop("models"), X, args.pop("y"), progress=False, **args)


def test_a_person_with_one_photo_cannot_be_split(ids):
    X, y = ids
    y = y.copy()
    y[0] = 9
    with pytest.raises(ValueError, match="least populated class"):
        few_shot_curve({"rec": RecordingClassifier()}, X, y, progress=False)


def test_summary_and_figure(ids):
    X, y = ids
    table = few_shot_curve(
        {"rec": RecordingClassifier(), "logreg": LogisticRegression()},
        X,
        y,
        n_per_person=(1, 2, None),
        n_draws=3,
        progress=False,
    )
    summary = summarize_few_shot(table)
    assert list(summary["n_draws"]) == [3, 3, 1, 3, 3, 1]
    rec = summary[summary["model"] == "rec"]
    assert np.allclose(rec["test_balanced_accuracy_mean"], 0.25)
    fig = plot_few_shot(table, metric="test_balanced_accuracy")
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "2", "all\n(9)"]
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["rec", "logreg", "chance (1/4)"]
    assert np.allclose(ax.get_lines()[0].get_ydata(), 0.25)
    assert len(ax.collections) == 2  # one band per model
    assert "balanced accuracy" in ax.get_ylabel()
    with pytest.raises(ValueError, match="metric must be"):
        plot_few_shot(table, metric="f1")
    with pytest.raises(ValueError, match="not a few_shot_curve table"):
        summarize_few_shot(table.drop(columns="draw"))


def test_batch_normalization_trains_when_one_sample_is_left_over():
    """129 images at batch 128 left a last batch of 1, on which batch normalization fails."""
    loader = BatchLoader(
        TensorDataset(torch.arange(257.0)[:, None]),
        128,
        shuffle=True,
        generator=torch.Generator().manual_seed(0),
    )
    sizes = [len(Xb) for Xb, _ in loader]
    assert sizes == [128, 129] and len(loader) == 2
    assert sorted(torch.cat([Xb for Xb, _ in loader]).ravel().tolist()) == list(range(257))
    evaluation = BatchLoader(TensorDataset(torch.arange(257.0)[:, None]), 128)
    assert [len(Xb) for Xb, _ in evaluation] == [128, 128, 1]
    rng = np.random.default_rng(0)
    X, y = rng.random((129, 48 * 48 * 3), dtype=np.float32), np.arange(129) % 3
    model = make_model("cnn_dropout_batchnorm", max_epochs=1, random_state=0).fit(X, y)
    assert model.predict(X).shape == (129,)
