"""BatchAccuracy: the epoch's accuracy counted batch by batch, as skorch's EpochScoring does."""

import numpy as np
import pytest
import torch
from skorch.callbacks import EpochScoring

from facenet_sk import make_model
from facenet_sk._accuracy import BatchAccuracy
from facenet_sk.datasets import make_synthetic_faces


@pytest.fixture(scope="module")
def fitted():
    faces = make_synthetic_faces(n_people=4, n_per_person=30, image_size=12, random_state=0)
    X, y = faces.images, faces.target
    # skorch's own scoring beside ours, on the same batches (its cached outputs).
    reference = [
        (
            f"skorch_{name}",
            EpochScoring(
                "accuracy",
                lower_is_better=False,
                on_train=name == "train_acc",
                name=f"skorch_{name}",
            ),
        )
        for name in ("train_acc", "valid_acc")
    ]
    model = make_model(
        "fc_with_hidden",
        hidden_layer_sizes=(16,),
        max_epochs=6,
        batch_size=16,
        dropout=0.3,
        random_state=0,
        callbacks=reference,
    )
    return model.fit(X[:90], y[:90], X_valid=X[90:], y_valid=y[90:])


@pytest.mark.parametrize("name", ["train_acc", "valid_acc"])
def test_the_same_accuracies_as_skorchs_epoch_scoring(fitted, name):
    ours, skorchs = fitted.history_[:, name], fitted.history_[:, f"skorch_{name}"]
    assert len(ours) == 6 and len(set(ours)) > 1  # it moves while the network learns
    np.testing.assert_allclose(ours, skorchs, rtol=0, atol=1e-12)
    assert fitted.history_[:, f"{name}_best"] == fitted.history_[:, f"skorch_{name}_best"]


def test_both_accuracies_are_counted_batch_by_batch(fitted):
    callbacks = dict(fitted.net_.callbacks_)
    assert isinstance(callbacks["train_acc"], BatchAccuracy) and callbacks["train_acc"].on_train
    assert isinstance(callbacks["valid_acc"], BatchAccuracy)
    assert not callbacks["valid_acc"].on_train


def test_an_epoch_without_validation_records_no_valid_accuracy():
    X, y = make_synthetic_faces(
        n_people=2, n_per_person=10, image_size=12, return_X_y=True, random_state=0
    )
    model = make_model("only_fc", max_epochs=2, random_state=0).fit(X, y)
    assert "train_acc" in model.history_[-1] and "valid_acc" not in model.history_[-1]


def test_the_count_by_hand():
    callback = BatchAccuracy().initialize()

    class History(dict):
        def record(self, key, value):
            self[key] = value

    class Net:
        history = History()

    logits = torch.tensor([[2.0, 1.0], [0.0, 3.0], [5.0, 1.0]])
    callback.on_epoch_begin(Net)
    callback.on_batch_end(Net, (None, torch.tensor([0, 1, 1])), logits, training=True)
    callback.on_batch_end(Net, (None, torch.tensor([0])), logits[:1], training=True)
    callback.on_batch_end(Net, (None, torch.tensor([1])), logits[:1], training=False)  # valid
    callback.on_epoch_end(Net)
    assert Net.history == {"train_acc": 0.75, "train_acc_best": True}
    callback.on_epoch_begin(Net)
    callback.on_batch_end(Net, (None, torch.tensor([1])), logits[:1], training=True)
    callback.on_epoch_end(Net)
    assert Net.history == {"train_acc": 0.0, "train_acc_best": False}
