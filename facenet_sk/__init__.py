"""facenet_sk: the "8 faces" networks as scikit-learn classifiers.

Every network of the exercise is an ordinary scikit-learn classifier,
trained by skorch on PyTorch, so that Pipelines, cross-validation and
GridSearchCV compare them like any other estimator.
"""

from ._base import VersionMismatchWarning
from ._malloc import allow_malloc_tuning
from ._version import __version__
from .baselines import BASELINE_NAMES, eigenfaces_baseline, logistic_regression_baseline
from .compare import compare_models, compare_models_cv
from .estimators import CNNClassifier, FCNetClassifier
from .models import MODEL_NAMES, PRESET_NAMES, make_course_pipeline, make_model
from .split import train_valid_test_split
from ._summary import summary

__all__ = [
    "BASELINE_NAMES",
    "CNNClassifier",
    "FCNetClassifier",
    "MODEL_NAMES",
    "PRESET_NAMES",
    "VersionMismatchWarning",
    "__version__",
    "allow_malloc_tuning",
    "compare_models",
    "compare_models_cv",
    "eigenfaces_baseline",
    "logistic_regression_baseline",
    "make_course_pipeline",
    "make_model",
    "summary",
    "train_valid_test_split",
]
