"""The seed's five models by the names the course's notebooks used."""

from .estimators import CNNClassifier, FCNetClassifier

#: The exercise's models, in the order the course trains them.
MODEL_NAMES = ("only_fc", "fc_with_hidden", "cnn", "cnn_dropout", "cnn_dropout_batchnorm")

_SEED_MODELS = {
    "only_fc": (FCNetClassifier, {"hidden_layer_sizes": ()}),
    "fc_with_hidden": (FCNetClassifier, {"hidden_layer_sizes": (400, 200)}),
    "cnn": (CNNClassifier, {}),
    "cnn_dropout": (CNNClassifier, {"dropout": 0.3}),
    "cnn_dropout_batchnorm": (CNNClassifier, {"dropout": 0.3, "batchnorm": True}),
}


def make_model(name, **params):
    """Return an unfitted classifier configured as one of the seed's models.

    Parameters
    ----------
    name : str
        One of :data:`MODEL_NAMES`.
    **params
        Hyper-parameters that override the seed's (``max_epochs``,
        ``dropout``, ``random_state``...).

    Returns
    -------
    FCNetClassifier or CNNClassifier

    Examples
    --------
    >>> from facenet_sk import make_model
    >>> make_model("cnn_dropout", max_epochs=5)
    CNNClassifier(dropout=0.3, max_epochs=5)
    """
    if name not in _SEED_MODELS:
        raise ValueError(f"unknown model name {name!r}; choose one of {MODEL_NAMES}")
    cls, seed_params = _SEED_MODELS[name]
    model = cls(**seed_params)
    unknown = sorted(set(params) - set(model.get_params()))
    if unknown:
        raise ValueError(f"{cls.__name__} has no parameter(s) {unknown} (model {name!r})")
    return model.set_params(**params)
