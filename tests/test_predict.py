"""Prediction is a pure read: skorch's probabilities, the model unchanged, safe across threads."""

import numpy as np
import pytest
import torch

from facenet_sk import CNNClassifier, FCNetClassifier
from facenet_sk._predict import ROW_BLOCK, NonFiniteOutputError, predict_proba
from facenet_sk.datasets import make_synthetic_faces
from facenet_sk.nets import CNN, FCNet


@pytest.fixture(scope="module")
def X():
    return torch.from_numpy(
        np.random.default_rng(0).standard_normal((37, 12 * 12 * 3)).astype(np.float32)
    )


def _reference(module, X, batch_size):
    """The probabilities as skorch computes them: softmax of each batch's logits."""
    with torch.no_grad():
        return torch.cat(
            [
                torch.softmax(module(X[i : i + batch_size]), dim=-1)
                for i in range(0, len(X), batch_size)
            ]
        ).numpy()


@pytest.mark.parametrize(
    "make",
    [
        lambda: FCNet(432, 5, hidden_layer_sizes=(16,), dropout=0.3, batchnorm=True),
        lambda: CNN(
            (12, 12, 3), 5, conv_filters=(4, 8), dense_units=8, dropout=0.3, batchnorm=True
        ),
    ],
)
@pytest.mark.parametrize("batch_size", [1, 8, 37, 100])
def test_probabilities_equal_a_plain_loop_and_change_nothing(X, make, batch_size):
    torch.manual_seed(0)
    module = make()
    module(X)  # moves the batch-norm statistics away from their initial values
    module.eval()
    state = {k: v.clone() for k, v in module.state_dict().items()}
    proba = predict_proba(module, X, batch_size)
    assert proba.dtype == np.float32 and proba.shape == (37, 5)
    # Bit for bit those of the plain loop over the blocks it runs: a network
    # without convolutions takes at least ROW_BLOCK rows at a time.
    rows = batch_size if isinstance(module, CNN) else max(batch_size, ROW_BLOCK)
    np.testing.assert_array_equal(proba, _reference(module, X, rows))
    assert not module.training
    for key, value in module.state_dict().items():
        assert torch.equal(value, state[key]), key


def test_a_module_in_training_mode_is_refused(X):
    module = FCNet(432, 5, hidden_layer_sizes=(16,), dropout=0.5)
    with pytest.raises(RuntimeError, match="training mode.*eval"):
        predict_proba(module, X, 8)
    assert module.training  # and left as it was


def test_no_rows_give_an_empty_table_of_the_right_width():
    proba = predict_proba(torch.nn.Linear(6, 4).eval(), torch.empty((0, 6)), 8)
    assert proba.shape == (0, 4)


@pytest.fixture(scope="module")
def faces():
    return make_synthetic_faces(n_people=4, n_per_person=24, image_size=16)


@pytest.mark.parametrize(
    "make",
    [
        lambda: FCNetClassifier((16,), dropout=0.5, batchnorm=True, max_epochs=2, random_state=0),
        lambda: CNNClassifier(
            (4, 8), 16, dropout=0.5, batchnorm=True, max_epochs=2, random_state=0
        ),
    ],
    ids=["fcnet", "cnn"],
)
def test_eight_threads_predicting_at_once_get_the_single_threaded_answers(
    faces, make, predictions_from_threads
):
    """The served model's case: one fitted model, many threads, dropout and batch norm on."""
    model = make().fit(faces.images, faces.target)  # a plain fit, no validation set
    assert not model.net_.module_.training
    X = np.concatenate([faces.images] * 4)
    expected = model.predict_proba(X)
    state = {k: v.clone() for k, v in model.net_.module_.state_dict().items()}
    for proba in predictions_from_threads(model, X):
        np.testing.assert_allclose(proba, expected, rtol=0, atol=1e-6)
    for key, value in model.net_.module_.state_dict().items():
        assert torch.equal(value, state[key]), key
    np.testing.assert_array_equal(model.predict_proba(X), expected)


def test_scoring_and_predicting_leave_the_mode_and_statistics_alone(faces):
    model = CNNClassifier((4,), 8, batchnorm=True, dropout=0.3, max_epochs=1, random_state=0).fit(
        faces.images, faces.target
    )
    module = model.net_.module_
    state = {k: v.clone() for k, v in module.state_dict().items()}
    model.predict(faces.images)
    model.score(faces.images, faces.target)
    assert not module.training
    for key, value in module.state_dict().items():
        assert torch.equal(value, state[key]), key


def test_finite_input_that_overflows_is_an_error_not_nan(faces):
    """Values near float32's largest give NaN logits: an error naming the cause."""
    X = faces.data.astype(np.float32)
    model = FCNetClassifier((8,), max_epochs=1, input_scaling=None, random_state=0).fit(
        X / 255, faces.target
    )
    huge = np.where(np.arange(X.shape[1]) % 2, 3e38, -3e38).astype(np.float32)[None, :]
    with pytest.raises(NonFiniteOutputError, match="row 1 of X.*overflow"):
        model.predict_proba(np.concatenate([X[:1] / 255, huge]))
    assert isinstance(NonFiniteOutputError("x"), ValueError)
