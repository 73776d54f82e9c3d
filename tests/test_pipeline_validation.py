"""A validation set given through a Pipeline reaches the network transformed, or is refused."""

import numpy as np
import pytest
import sklearn
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from facenet_sk import make_model
from facenet_sk.compare import fit_model
from facenet_sk.datasets import make_synthetic_faces


@pytest.fixture(scope="module")
def split():
    X, y = make_synthetic_faces(
        n_people=3, n_per_person=30, image_size=16, random_state=0, return_X_y=True
    )
    return X[:60], y[:60], X[60:], y[60:]


def _net(**params):
    return make_model(
        "only_fc", **{**dict(max_epochs=4, batch_size=16, random_state=0, n_threads=1), **params}
    )


@pytest.mark.parametrize("input_scaling", ["channel", None])
def test_untransformed_validation_set_is_refused_with_the_way_out(split, input_scaling):
    X, y, Xva, yva = split
    pipe = Pipeline([("scale", StandardScaler()), ("net", _net(input_scaling=input_scaling))])
    with pytest.raises(
        ValueError,
        match=r"X_valid is not on the scale of X(.|\n)*"
        r"transform_input=\['X_valid'\]",
    ):
        pipe.fit(X, y, net__X_valid=Xva, net__y_valid=yva)


def test_also_the_other_way_round(split):
    """Scaled validation images beside raw training images are as wrong."""
    X, y, Xva, yva = split
    with pytest.raises(ValueError, match="X_valid is not on the scale of X"):
        _net().fit(X, y, X_valid=StandardScaler().fit(X).transform(Xva), y_valid=yva)


def test_transform_input_routes_the_validation_set_through_the_scaler(split):
    X, y, Xva, yva = split
    with sklearn.config_context(enable_metadata_routing=True):
        net = _net(input_scaling=None, max_epochs=6).set_fit_request(X_valid=True, y_valid=True)
        pipe = Pipeline([("scale", StandardScaler()), ("net", net)], transform_input=["X_valid"])
        pipe.fit(X, y, X_valid=Xva, y_valid=yva)
    history = pipe[-1].history_
    # The network scored the validation set as the Pipeline itself does.
    assert history[-1, "valid_acc"] == pytest.approx(pipe.score(Xva, yva))
    assert history[-1, "valid_acc"] > 0.5


def test_compare_fit_model_transforms_too(split):
    X, y, Xva, yva = split
    pipe = Pipeline([("scale", StandardScaler()), ("net", _net(input_scaling=None))])
    fit_model(pipe, X, y, Xva, yva)
    assert pipe[-1].history_[-1, "valid_acc"] == pytest.approx(pipe.score(Xva, yva))


def test_raw_validation_beside_raw_training_images_is_fine(split):
    X, y, Xva, yva = split
    net = _net().fit(X, y, X_valid=Xva, y_valid=yva)
    assert net.history_[-1, "valid_acc"] == pytest.approx(net.score(Xva, yva))
    # A small validation set of other people's images stays within the tolerances.
    np.testing.assert_array_equal(
        net.fit(X, y, X_valid=Xva[:3], y_valid=yva[:3]).classes_, [0, 1, 2]
    )
