"""The network classifiers in scikit-learn's tools: searches, pipelines, persistence."""

import pickle

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import Callback

from facenet_sk import CNNClassifier, FCNetClassifier
from facenet_sk.datasets import make_synthetic_faces


@pytest.fixture(scope="module")
def faces():
    return make_synthetic_faces(n_people=4, n_per_person=21, image_size=16, random_state=1)


def small_cnn(**params):
    defaults = dict(
        conv_filters=(4, 8), dense_units=16, max_epochs=3, batch_size=16, random_state=0
    )
    return CNNClassifier(**{**defaults, **params})


def small_fc(**params):
    defaults = dict(hidden_layer_sizes=(32,), max_epochs=3, batch_size=16, random_state=0)
    return FCNetClassifier(**{**defaults, **params})


@pytest.mark.parametrize("make", [small_fc, small_cnn])
def test_fit_predict_score(faces, make):
    X = faces.data / 255.0
    clf = make(max_epochs=15, lr=0.01)
    assert clf.fit(X, faces.target) is clf
    assert clf.n_features_in_ == 16 * 16 * 3
    assert clf.image_shape_ == (16, 16, 3)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    assert set(clf.predict(X)) <= set(clf.classes_)
    # 15 epochs on 84 images: far above the 0.25 of chance on its own data.
    assert clf.score(X, faces.target) > 0.6
    assert clf.n_epochs_ == 15 and len(clf.history_) == 15
    assert {"train_loss", "train_acc", "dur"} <= set(clf.history_[-1])


def test_string_labels_come_back(faces):
    names = faces.target_names[faces.target]
    clf = small_fc().fit(faces.data / 255.0, names)
    assert list(clf.classes_) == sorted(set(names))
    assert clf.predict(faces.data[:5] / 255.0).dtype == clf.classes_.dtype
    assert set(clf.predict(faces.data / 255.0)) <= set(names)


def test_images_and_flat_input_give_the_same_model(faces):
    X_images = faces.images / 255.0
    by_images = small_cnn().fit(X_images, faces.target)
    by_flat = small_cnn().fit(faces.data / 255.0, faces.target)
    np.testing.assert_array_equal(
        by_images.predict_proba(X_images), by_flat.predict_proba(faces.data / 255.0)
    )
    # A model fitted on images predicts flat rows of the same pixels, and back.
    np.testing.assert_array_equal(
        by_images.predict_proba(faces.data / 255.0), by_flat.predict_proba(X_images)
    )


@pytest.mark.parametrize("make", [small_fc, small_cnn])
def test_random_state_makes_fits_identical(faces, make):
    X = faces.data / 255.0
    a = make(dropout=0.3).fit(X, faces.target)
    b = make(dropout=0.3).fit(X, faces.target)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert a.history_[:, "train_loss"] == b.history_[:, "train_loss"]
    c = make(dropout=0.3).set_params(random_state=1).fit(X, faces.target)
    assert not np.array_equal(a.predict_proba(X), c.predict_proba(X))


def test_fit_leaves_the_global_torch_rng_alone(faces):
    import torch

    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    small_fc().fit(faces.data / 255.0, faces.target)
    np.testing.assert_array_equal(torch.rand(3), expected)


def test_pipeline_with_standard_scaler(faces):
    pipe = make_pipeline(StandardScaler(), small_cnn(max_epochs=8, lr=0.003))
    pipe.fit(faces.data, faces.target)
    assert pipe.score(faces.data, faces.target) > 0.5
    assert pipe.predict(faces.data).shape == (len(faces.data),)


def test_cross_validate(faces):
    result = cross_validate(
        small_fc(), faces.data / 255.0, faces.target, cv=3, return_train_score=True
    )
    assert result["test_score"].shape == (3,)
    assert np.all((0 <= result["test_score"]) & (result["test_score"] <= 1))


@pytest.mark.parametrize(
    "grid",
    [
        {"dropout": [0.0, 0.5]},
        {"batchnorm": [False, True]},
        {"weight_init": ["he_normal", "torch"]},
    ],
)
def test_grid_search(faces, grid):
    search = GridSearchCV(small_cnn(max_epochs=2), grid, cv=2).fit(faces.data / 255.0, faces.target)
    ((name, values),) = grid.items()
    assert list(search.cv_results_[f"param_{name}"]) == values
    assert search.best_params_[name] in values
    assert getattr(search.best_estimator_, name) in values
    assert hasattr(search.best_estimator_, "net_")


@pytest.mark.parametrize("make", [small_fc, small_cnn])
def test_weight_init_reaches_the_fitted_network(faces, make):
    X = faces.data / 255.0
    course = make(max_epochs=1).fit(X, faces.target)
    torch_init = make(max_epochs=1, weight_init="torch").fit(X, faces.target)

    def first_bias(model):
        biases = [p for name, p in model.net_.module_.named_parameters() if "bias" in name]
        return float(biases[0].abs().max())

    # PyTorch's default draws biases within 1 / sqrt(fan_in); he_normal starts
    # them at zero, and Adam moves them about lr (0.001) a step.
    assert first_bias(torch_init) > 0.02 > 0.01 > first_bias(course)
    assert not np.allclose(torch_init.predict_proba(X), course.predict_proba(X))
    # The same seed, the same network.
    again = make(max_epochs=1, weight_init="torch").fit(X, faces.target)
    np.testing.assert_array_equal(again.predict_proba(X), torch_init.predict_proba(X))


def test_clone_keeps_params_drops_fit(faces):
    clf = small_cnn(dropout=0.2).fit(faces.data / 255.0, faces.target)
    copy = clone(clf)
    assert copy.get_params() == clf.get_params()
    assert not hasattr(copy, "net_")


@pytest.mark.parametrize("make", [small_fc, small_cnn])
def test_pickle_and_joblib_round_trip(faces, make, tmp_path):
    X = faces.data / 255.0
    clf = make(batchnorm=True).fit(X, faces.target)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    joblib.dump(clf, tmp_path / "model.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "model.joblib").predict(X), clf.predict(X))


def test_fixed_validation_set_shows_in_history(faces):
    X, y = faces.data / 255.0, faces.target
    clf = small_fc(max_epochs=4).fit(X[:60], y[:60], X_valid=X[60:], y_valid=y[60:])
    assert len(clf.history_) == 4
    for epoch in clf.history_:
        assert {"valid_loss", "valid_acc", "train_acc"} <= set(epoch)
    # The last epoch's valid_acc is the model's accuracy on that set.
    assert clf.history_[-1, "valid_acc"] == pytest.approx(clf.score(X[60:], y[60:]))
    assert (
        sum(b["valid_batch_size"] for b in clf.history_[-1, "batches"] if "valid_batch_size" in b)
        == 24
    )


def test_without_validation_trains_on_everything(faces):
    clf = small_fc(max_epochs=1).fit(faces.data / 255.0, faces.target)
    assert "valid_loss" not in clf.history_[-1]
    n_seen = sum(b["train_batch_size"] for b in clf.history_[-1, "batches"])
    assert n_seen == len(faces.data)


class _RecordValidLoss(Callback):
    """Remembers the weights of every epoch, to check early stopping's restore."""

    def initialize(self):
        self.weights = []
        return self

    def on_epoch_end(self, net, **kwargs):
        self.weights.append(net.module_.dense_1.weight.detach().clone())


def test_early_stopping_restores_the_best_epoch(faces):
    X, y = faces.data / 255.0, faces.target
    recorder = _RecordValidLoss()
    # A large learning rate makes the validation loss bounce, so stopping happens.
    clf = small_fc(
        max_epochs=40, lr=0.05, early_stopping=True, n_iter_no_change=3, callbacks=[recorder]
    ).fit(X, y)
    losses = clf.history_[:, "valid_loss"]
    best = int(np.argmin(losses))
    assert clf.n_epochs_ < 40
    assert clf.n_epochs_ == best + 1 + 3
    restored = clf.net_.module_.dense_1.weight.detach()
    np.testing.assert_array_equal(restored, recorder.weights[best])
    assert not np.array_equal(restored, recorder.weights[-1])


def test_early_stopping_split_is_stratified(faces):
    clf = small_fc(max_epochs=1, early_stopping=True, validation_fraction=0.25)
    clf.fit(faces.data / 255.0, faces.target)
    n_valid = sum(
        b["valid_batch_size"] for b in clf.history_[-1, "batches"] if "valid_batch_size" in b
    )
    assert n_valid == 21


def test_class_weight_balanced_changes_the_loss(faces):
    X, y = faces.data / 255.0, faces.target
    keep = (y != 0) | (np.arange(len(y)) % 5 == 0)
    plain = small_fc().fit(X[keep], y[keep])
    weighted = small_fc(class_weight="balanced").fit(X[keep], y[keep])
    weight = weighted.net_.criterion_.weight
    assert weight[0] > weight[1]
    assert plain.net_.criterion_.weight is None


@pytest.mark.parametrize("make", [small_fc, small_cnn])
def test_batchnorm_momentum_sets_how_fast_running_statistics_move(faces, make):
    X, y = faces.images / 255.0, faces.target
    slow = make(batchnorm=True, max_epochs=1).fit(X, y)
    fast = make(batchnorm=True, batchnorm_momentum=0.5, max_epochs=1).fit(X, y)
    norms = [
        [m for m in model.net_.module_.modules() if "BatchNorm" in type(m).__name__]
        for model in (slow, fast)
    ]
    assert norms[0] and all(m.momentum == 0.01 for m in norms[0])
    assert all(m.momentum == 0.5 for m in norms[1])
    # The running means start at 0: after the same steps, the faster ones moved further.
    moved = [sum(float(m.running_mean.abs().sum()) for m in group) for group in norms]
    assert moved[1] > 5 * moved[0]


@pytest.mark.parametrize("optimizer, fused", [("adam", True), ("adamw", True), ("sgd", None)])
def test_adam_takes_the_fused_kernel(faces, optimizer, fused):
    model = small_fc(optimizer=optimizer, max_epochs=1).fit(faces.data / 255.0, faces.target)
    assert model.net_.optimizer_.defaults.get("fused") is fused


def test_augment_changes_training_but_not_prediction_shape(faces):
    X = faces.images / 255.0
    plain = small_cnn().fit(X, faces.target)
    augmented = small_cnn(augment=True).fit(X, faces.target)
    assert plain.history_[:, "train_loss"] != augmented.history_[:, "train_loss"]
    assert augmented.predict(X).shape == (len(X),)


def test_n_threads_is_restored(faces):
    import torch

    before = torch.get_num_threads()
    small_fc(n_threads=1).fit(faces.data / 255.0, faces.target)
    assert torch.get_num_threads() == before


def test_interrupt_keeps_the_weights_reached(faces):
    class Interrupt(Callback):
        def on_epoch_end(self, net, **kwargs):
            if len(net.history) == 2:
                raise KeyboardInterrupt

    clf = small_fc(max_epochs=10, callbacks=[Interrupt()]).fit(faces.data / 255.0, faces.target)
    assert clf.interrupted_
    assert clf.n_epochs_ == 2
    assert clf.predict(faces.data[:3] / 255.0).shape == (3,)
