"""The course's five models by the names its notebooks used, and the best one found."""

from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from ._base import _ROUTES
from ._names import MODEL_NAMES  # the exercise's models, in the course's order
from .estimators import CNNClassifier, FCNetClassifier

#: Further named configurations: ``cnn_best`` is the best configuration of the
#: results page (``cnn_dropout_batchnorm`` with augmentation, batch-norm
#: statistics that settle within the training and 60 epochs, standardizing
#: its input per channel).
PRESET_NAMES = ("cnn_best",)

_MODELS = {
    "only_fc": (FCNetClassifier, {"hidden_layer_sizes": ()}),
    "fc_with_hidden": (FCNetClassifier, {"hidden_layer_sizes": (400, 200)}),
    "cnn": (CNNClassifier, {}),
    "cnn_dropout": (CNNClassifier, {"dropout": 0.3}),
    "cnn_dropout_batchnorm": (CNNClassifier, {"dropout": 0.3, "batchnorm": True}),
    "cnn_best": (
        CNNClassifier,
        {
            "dropout": 0.3,
            "batchnorm": True,
            "batchnorm_momentum": 0.1,
            "augment": True,
            "max_epochs": 60,
        },
    ),
}


def make_model(name, **params):
    """Return an unfitted classifier configured as one of the named models.

    Parameters
    ----------
    name : str
        One of :data:`MODEL_NAMES` (the course's five networks) or
        :data:`PRESET_NAMES` (``"cnn_best"``).
    **params
        Hyper-parameters that override the model's (``max_epochs``,
        ``dropout``, ``random_state``...), including skorch's routed
        ``optimizer__*`` and ``criterion__*`` arguments.

    Returns
    -------
    FCNetClassifier or CNNClassifier

    Examples
    --------
    >>> from facenet_sk import make_model
    >>> make_model("cnn_dropout", max_epochs=5)
    CNNClassifier(dropout=0.3, max_epochs=5)
    >>> make_model("only_fc", optimizer="sgd", optimizer__momentum=0.9)
    FCNetClassifier(hidden_layer_sizes=(), optimizer='sgd',
                    optimizer_params={'momentum': 0.9})
    """
    if name not in _MODELS:
        raise ValueError(f"unknown model name {name!r}; choose one of {MODEL_NAMES + PRESET_NAMES}")
    cls, preset = _MODELS[name]
    model = cls(**preset)
    unknown = sorted(
        key for key in set(params) - set(model.get_params()) if not key.startswith(tuple(_ROUTES))
    )
    if unknown:
        raise ValueError(f"{cls.__name__} has no parameter(s) {unknown} (model {name!r})")
    return model.set_params(**params)


def make_course_pipeline(name, **params):
    """The course's recipe for a named model: per-pixel ``StandardScaler``, then the network.

    The network takes its input as the scaler gives it
    (``input_scaling=None``), as in the course and the results page's
    protocol, so that results are those of the results page.

    Parameters
    ----------
    name : str
        One of :data:`MODEL_NAMES`.
    **params
        Hyper-parameters of the network, as for :func:`make_model`.

    Returns
    -------
    sklearn.pipeline.Pipeline
        Steps ``"scale"`` and ``"net"``.

    Examples
    --------
    >>> from facenet_sk import make_course_pipeline
    >>> make_course_pipeline("cnn", random_state=0).named_steps["net"]
    CNNClassifier(input_scaling=None, random_state=0)
    """
    if name not in MODEL_NAMES:
        raise ValueError(f"unknown model name {name!r}; the course's models are {MODEL_NAMES}")
    return Pipeline(
        [
            ("scale", StandardScaler()),
            ("net", make_model(name, **{"input_scaling": None, **params})),
        ]
    )
