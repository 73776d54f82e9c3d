"""The registry of the seed's five models."""

import pytest

from facenet_sk import MODEL_NAMES, CNNClassifier, FCNetClassifier, make_model


def test_model_names_are_the_notebooks():
    assert MODEL_NAMES == (
        "only_fc",
        "fc_with_hidden",
        "cnn",
        "cnn_dropout",
        "cnn_dropout_batchnorm",
    )


@pytest.mark.parametrize(
    "name, cls, params",
    [
        ("only_fc", FCNetClassifier, {"hidden_layer_sizes": ()}),
        ("fc_with_hidden", FCNetClassifier, {"hidden_layer_sizes": (400, 200)}),
        ("cnn", CNNClassifier, {"dropout": 0.0, "batchnorm": False}),
        ("cnn_dropout", CNNClassifier, {"dropout": 0.3, "batchnorm": False}),
        ("cnn_dropout_batchnorm", CNNClassifier, {"dropout": 0.3, "batchnorm": True}),
    ],
)
def test_make_model_configures_the_seed(name, cls, params):
    model = make_model(name)
    assert type(model) is cls
    got = model.get_params()
    assert {k: got[k] for k in params} == params
    assert (got["max_epochs"], got["batch_size"], got["lr"], got["optimizer"]) == (
        30,
        128,
        0.001,
        "adam",
    )


def test_make_model_overrides_and_errors():
    assert make_model("cnn_dropout", dropout=0.5).dropout == 0.5
    with pytest.raises(ValueError, match="unknown model name 'resnet'"):
        make_model("resnet")
    with pytest.raises(ValueError, match="no parameter"):
        make_model("cnn", hidden_layer_sizes=(3,))
