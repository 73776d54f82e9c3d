"""Hyper-parameters: one declaration, checked once at the top of fit, numpy values welcome."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from facenet_sk import CNNClassifier, FCNetClassifier, make_model


def _tiny(cls, **params):
    base = dict(max_epochs=1, batch_size=16, random_state=0, n_threads=1)
    if cls is CNNClassifier:
        base.update(conv_filters=(4, 8), dense_units=8)
    else:
        base.update(hidden_layer_sizes=(8,))
    return cls(**{**base, **params})


def test_every_parameter_has_a_declared_constraint():
    for cls in (FCNetClassifier, CNNClassifier):
        assert set(cls._parameter_constraints) == set(cls().get_params(deep=False))


# Every integer parameter as an np.arange grid (GridSearchCV hands out its
# elements, numpy integers) and every sequence parameter as np.arange arrays;
# two values where it matters, one elsewhere to keep the search small.
_CNN_GRID = {
    "dense_units": np.arange(8, 17, 8),
    "conv_filters": [np.arange(2, 5, 2), np.arange(4, 9, 4)],
    "max_epochs": np.arange(2, 3),
    "batch_size": np.arange(16, 17),
    "n_iter_no_change": np.arange(2, 3),
    "n_threads": np.arange(1, 2),
    "verbose": np.arange(0, 1),
    "random_state": np.arange(0, 1),
    "image_shape": [np.array([16, 16, 3])],
    "dropout": np.linspace(0.1, 0.1, 1),
    "lr": np.array([1e-3], dtype=np.float32),
}
_FC_GRID = {
    "hidden_layer_sizes": [np.arange(8, 17, 8), np.array([], dtype=np.int64)],
    "max_epochs": np.arange(1, 3),
    "batch_size": np.arange(16, 17),
}


@pytest.mark.parametrize(
    "cls, grid", [(CNNClassifier, _CNN_GRID), (FCNetClassifier, _FC_GRID)], ids=["cnn", "fc"]
)
def test_grid_search_over_numpy_grids(faces, cls, grid):
    # early_stopping so that n_iter_no_change is used too.
    search = GridSearchCV(
        _tiny(cls, early_stopping=cls is CNNClassifier, validation_fraction=0.25),
        grid,
        cv=2,
        error_score="raise",
    )
    search.fit(faces.images, faces.target)
    n_candidates = np.prod([len(v) for v in grid.values()])
    assert len(search.cv_results_["params"]) == n_candidates
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    best = search.best_estimator_
    assert best.n_epochs_ >= 1 and best.predict(faces.images).shape == faces.target.shape


def test_numpy_scalars_build_the_same_network_as_python_ones(faces):
    X, y = faces.images, faces.target
    python = _tiny(CNNClassifier, dense_units=8, conv_filters=(4, 8), max_epochs=2).fit(X, y)
    numpy_ = _tiny(
        CNNClassifier,
        dense_units=np.int64(8),
        conv_filters=np.array([4, 8]),
        max_epochs=np.int32(2),
        batch_size=np.int64(16),
        dropout=np.float64(0.0),
    ).fit(X, y)
    np.testing.assert_array_equal(python.predict_proba(X), numpy_.predict_proba(X))


def test_numpy_arrays_survive_clone(faces):
    model = _tiny(CNNClassifier, conv_filters=np.array([4, 8]))
    copy = clone(model)
    assert copy.conv_filters is not model.conv_filters
    np.testing.assert_array_equal(copy.conv_filters, [4, 8])
    assert copy.fit(faces.images, faces.target).n_epochs_ == 1


def test_parameters_are_checked_once_before_the_data(faces, monkeypatch):
    """The check runs once per fit, before X is looked at."""
    calls = []
    model = _tiny(FCNetClassifier)
    original = type(model)._validate_params

    def counting(self):
        calls.append(1)
        return original(self)

    monkeypatch.setattr(type(model), "_validate_params", counting)
    model.fit(faces.images, faces.target)
    assert calls == [1]
    with pytest.raises(ValueError, match="'max_epochs' parameter"):
        model.set_params(max_epochs=0).fit("not even an array", None)


def test_make_model_takes_numpy_values_too(faces):
    model = make_model(
        "cnn",
        conv_filters=np.arange(4, 9, 4),
        dense_units=np.int64(8),
        max_epochs=np.int64(1),
        random_state=0,
    )
    assert model.fit(faces.images, faces.target).n_epochs_ == 1
