"""The fully connected networks standardize their data once per fit, not every batch:
the same training, bit for bit, and raw input still standardized wherever it comes from."""

import numpy as np
import pytest
from skorch.callbacks import Callback

from facenet_sk import make_model
from facenet_sk.datasets import make_synthetic_faces


@pytest.fixture(scope="module")
def data():
    faces = make_synthetic_faces(n_people=3, n_per_person=30, image_size=12, random_state=0)
    X, y = faces.images, faces.target  # raw uint8 pixels
    return X[:70], y[:70], X[70:], y[70:]


def _fit(once, data, **params):
    X, y, X_valid, y_valid = data
    model = make_model("fc_with_hidden", hidden_layer_sizes=(16,), max_epochs=3, batch_size=16,
                       dropout=0.2, random_state=0, **params)
    model._standardize_once = once  # the class's choice, overridden for the comparison
    return model.fit(X, y, X_valid=X_valid, y_valid=y_valid)


@pytest.mark.parametrize("name", ["only_fc", "fc_with_hidden"])
def test_the_fully_connected_networks_standardize_once(name):
    assert make_model(name)._standardize_once
    assert not make_model("cnn")._standardize_once


def test_training_is_the_same_bit_for_bit(data):
    once, per_batch = _fit(True, data), _fit(False, data)
    for key, value in per_batch.net_.module_.state_dict().items():
        np.testing.assert_array_equal(once.net_.module_.state_dict()[key].numpy(), value.numpy(),
                                      err_msg=key)
    for column in ("train_loss", "valid_loss", "valid_acc"):
        assert once.history_[:, column] == per_batch.history_[:, column], column


def test_the_callers_data_is_left_as_it_was(data):
    X, y, X_valid, y_valid = data
    X_float, X_valid_float = X.astype(np.float32), X_valid.astype(np.float32)
    before = X_float.copy(), X_valid_float.copy()
    _fit(True, (X_float, y, X_valid_float, y_valid))
    np.testing.assert_array_equal(X_float, before[0])
    np.testing.assert_array_equal(X_valid_float, before[1])


class _ProbabilitiesWhileTraining(Callback):
    """Scores raw pixels through the skorch net at the end of every epoch."""

    def __init__(self, X):
        self.X = X

    def initialize(self):
        self.seen_ = []
        return self

    def on_epoch_end(self, net, **kwargs):
        self.seen_.append(net.predict_proba(self.X.reshape(len(self.X), -1)
                                            .astype(np.float32)))


def test_raw_input_during_training_is_still_standardized(data):
    X, _, X_valid, _ = data
    spy = _ProbabilitiesWhileTraining(X_valid)
    model = _fit(True, data, callbacks=[spy])
    # After the last epoch, skorch's own prediction on raw pixels equals the model's.
    np.testing.assert_allclose(spy.seen_[-1], model.predict_proba(X_valid), rtol=1e-5, atol=1e-6)
    assert len(spy.seen_) == 3


def test_with_augmentation_every_batch_is_standardized_as_it_comes(data):
    # Shifts fill with black pixels before the standardization, as without this path.
    X, y, X_valid, y_valid = data
    model = make_model("only_fc", max_epochs=2, augment=True, random_state=0)
    model.fit(X, y, X_valid=X_valid, y_valid=y_valid)
    assert 0 <= model.score(X_valid, y_valid) <= 1
