"""facenet_sk: the "8 faces" networks as scikit-learn classifiers.

Every network of the exercise is an ordinary scikit-learn classifier,
trained by skorch on PyTorch, so that Pipelines, cross-validation and
GridSearchCV compare them like any other estimator.
"""

import importlib

from ._version import __version__ as __version__

# Public names and the module defining each. They are imported on first use
# (PEP 562), so that ``import facenet_sk.cli`` and ``facenet-sk --help`` do
# not wait seconds for torch and scikit-learn.
_LAZY = {
    "AugmentationWarning": "._base",
    "VersionMismatchWarning": "._base",
    "config_context": "._config",
    "get_config": "._config",
    "set_config": "._config",
    "allow_malloc_tuning": "._malloc",
    "BASELINE_NAMES": ".baselines",
    "eigenfaces_baseline": ".baselines",
    "logistic_regression_baseline": ".baselines",
    "compare_models": ".compare",
    "compare_models_cv": ".compare",
    "CNNClassifier": ".estimators",
    "FCNetClassifier": ".estimators",
    "MODEL_NAMES": ".models",
    "PRESET_NAMES": ".models",
    "make_course_pipeline": ".models",
    "make_model": ".models",
    "train_valid_test_split": ".split",
    "summary": "._summary",
}

__all__ = sorted([*_LAZY, "__version__"])


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
