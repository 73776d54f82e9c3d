"""Saving and loading fitted models: pickle, joblib, copies, and version checks."""

import copy
import pickle
import warnings

import joblib
import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import facenet_sk._base as base
from facenet_sk import MODEL_NAMES, VersionMismatchWarning, __version__, make_model
from facenet_sk.datasets import make_synthetic_faces


@pytest.fixture(scope="module")
def faces():
    return make_synthetic_faces(n_people=3, n_per_person=10, image_size=16, random_state=4)


def seed_model(name):
    # The seed's architecture at its real width; 16x16 images keep it quick, and one
    # thread avoids OpenMP's slow spinning on a busy machine.
    return make_model(name, max_epochs=1, batch_size=16, random_state=0, n_threads=1)


def assert_same_model(restored, original, X):
    assert type(restored) is type(original)
    final = (lambda m: m[-1]) if hasattr(original, "steps") else (lambda m: m)
    assert final(restored).get_params() == final(original).get_params()
    np.testing.assert_array_equal(restored.predict_proba(X), original.predict_proba(X))
    np.testing.assert_array_equal(restored.predict(X), original.predict(X))


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_every_seed_model_round_trips(faces, name, tmp_path):
    X, y = faces.images / 255.0, faces.target_names[faces.target]
    model = seed_model(name).fit(X, y)
    by_pickle = pickle.loads(pickle.dumps(model))
    joblib.dump(model, tmp_path / "model.joblib", compress=3)
    by_joblib = joblib.load(tmp_path / "model.joblib")
    for restored in (by_pickle, by_joblib):
        assert_same_model(restored, model, X)
        np.testing.assert_array_equal(restored.classes_, model.classes_)
        assert restored.image_shape_ == model.image_shape_ == (16, 16, 3)
        assert restored.n_features_in_ == 768
        assert restored.n_params_ == model.n_params_
        assert restored.history_[:, "train_loss"] == model.history_[:, "train_loss"]
        assert restored.interrupted_ is False


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_every_seed_model_round_trips_in_a_pipeline(faces, name, tmp_path):
    pipe = make_pipeline(StandardScaler(), seed_model(name)).fit(faces.data, faces.target)
    joblib.dump(pipe, tmp_path / "pipe.joblib")
    restored = joblib.load(tmp_path / "pipe.joblib")
    assert_same_model(restored, pipe, faces.data)
    np.testing.assert_array_equal(restored[0].mean_, pipe[0].mean_)
    assert restored.score(faces.data, faces.target) == pipe.score(faces.data, faces.target)


def test_deepcopy_of_a_fitted_model_is_independent(faces):
    X = faces.images / 255.0
    model = seed_model("cnn_dropout_batchnorm").fit(X, faces.target)
    twin = copy.deepcopy(model)
    assert_same_model(twin, model, X)
    expected = model.predict_proba(X)
    twin.set_params(max_epochs=2).fit(X, faces.target)  # refitting the copy...
    np.testing.assert_array_equal(model.predict_proba(X), expected)  # ...leaves the original


def test_restored_model_refits_like_a_fresh_one(faces):
    X, y = faces.data / 255.0, faces.target
    restored = pickle.loads(pickle.dumps(seed_model("only_fc").fit(X[:15], y[:15])))
    restored.fit(X, y)
    np.testing.assert_array_equal(
        restored.predict_proba(X), seed_model("only_fc").fit(X, y).predict_proba(X)
    )


def test_unfitted_model_round_trips_without_a_warning():
    model = make_model("cnn_dropout", max_epochs=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", VersionMismatchWarning)
        restored = pickle.loads(pickle.dumps(model))
    assert restored.get_params() == model.get_params()
    assert not hasattr(restored, "net_")


def test_validation_set_is_not_saved_with_the_model(faces):
    X, y = faces.data / 255.0, faces.target
    plain = seed_model("only_fc").fit(X, y)
    big_valid = np.tile(X, (20, 1))  # 600 rows, 1.8 MB as float32
    with_valid = seed_model("only_fc").fit(X, y, X_valid=big_valid, y_valid=np.tile(y, 20))
    assert len(pickle.dumps(with_valid)) < len(pickle.dumps(plain)) + 50_000


def test_weights_are_saved_once_and_stay_the_trained_module(faces):
    model = seed_model("cnn_dropout_batchnorm").fit(faces.images / 255.0, faces.target)
    weights = sum(t.numel() * t.element_size() for t in model.net_.module_.state_dict().values())
    restored = pickle.loads(pickle.dumps(model))
    assert weights > 500_000
    # Weights once plus Adam's two moments, 3x, and some history; skorch's default
    # pickling also stored its ``module`` reference: 4x.
    assert len(pickle.dumps(model)) < 3 * weights + 100_000
    assert restored.net_.module is restored.net_.module_
    assert model.net_.module is model.net_.module_  # pickling left the original alone


# ------------------------------------------------------------- versions
@pytest.fixture(scope="module")
def fitted_fc(faces):
    return seed_model("only_fc").fit(faces.data / 255.0, faces.target)


def test_same_version_loads_silently(fitted_fc):
    data = pickle.dumps(fitted_fc)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pickle.loads(data)


def test_loading_under_another_version_warns(faces, fitted_fc, monkeypatch):
    data = pickle.dumps(fitted_fc)
    monkeypatch.setattr(base, "__version__", "9.9.9")
    with pytest.warns(
        VersionMismatchWarning,
        match=rf"FCNetClassifier was saved by facenet_sk {__version__} and is "
        r"loaded by 9\.9\.9.*Refit it",
    ) as record:
        restored = pickle.loads(data)
    assert len(record) == 1
    # The warning is advice: the model still loads and answers as before.
    X = faces.data / 255.0
    np.testing.assert_array_equal(restored.predict_proba(X), fitted_fc.predict_proba(X))


def test_model_saved_by_another_version_warns(fitted_fc, monkeypatch, tmp_path):
    monkeypatch.setattr(base, "__version__", "0.0.1")
    joblib.dump(fitted_fc, tmp_path / "old.joblib")
    monkeypatch.undo()
    with pytest.warns(
        VersionMismatchWarning,
        match=r"saved by facenet_sk 0\.0\.1 and is "
        rf"loaded by {__version__}",
    ):
        joblib.load(tmp_path / "old.joblib")


def test_model_saved_without_a_version_warns(fitted_fc):
    state = fitted_fc.__getstate__()
    del state["_facenet_sk_version"]  # as written before versions were recorded
    blank = type(fitted_fc).__new__(type(fitted_fc))
    with pytest.warns(VersionMismatchWarning, match="saved by facenet_sk unknown"):
        blank.__setstate__(state)
    assert "_facenet_sk_version" not in vars(blank)


def test_version_warning_reaches_through_a_pipeline(faces, monkeypatch):
    pipe = make_pipeline(StandardScaler(), seed_model("only_fc")).fit(faces.data, faces.target)
    data = pickle.dumps(pipe)
    monkeypatch.setattr(base, "__version__", "9.9.9")
    with pytest.warns(VersionMismatchWarning, match="loaded by 9.9.9"):
        pickle.loads(data)
