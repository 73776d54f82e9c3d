"""dlib and its model files: found, checked and loaded once per process.

The models are never stored on an estimator: estimators keep only their
parameters, so that clone, pickle and joblib's worker processes stay cheap,
and each process loads a model the first time it needs it.
"""

import functools
import hashlib
import importlib
import importlib.util
import os
from pathlib import Path

#: The command that installs the face pipeline's dependencies.
INSTALL_COMMAND = 'pip install "facenet_sk[faces]"'

#: Environment variable naming a folder that holds the model files instead
#: of the ``face_recognition_models`` package.
MODELS_ENV = "FACENET_SK_FACE_MODELS"

#: The model files used, with their SHA-256 digests. Both are Davis King's
#: public-domain dlib models; the 68-point landmark predictor is not used, as
#: its training data (iBUG 300-W) forbids commercial use.
MODEL_FILES = {
    "shape_predictor_5_face_landmarks.dat": (
        "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888"
    ),
    "dlib_face_recognition_resnet_model_v1.dat": (
        "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30"
    ),
}


def import_dlib():
    """Import dlib, or raise an ImportError that says how to install it."""
    try:
        return importlib.import_module("dlib")
    except ImportError as exc:
        raise ImportError(
            f"the face pipeline needs dlib, which is not installed: {INSTALL_COMMAND}"
        ) from exc


def models_folder():
    """Folder of the model files: ``$FACENET_SK_FACE_MODELS`` or the package's."""
    if os.environ.get(MODELS_ENV):
        return Path(os.environ[MODELS_ENV]).expanduser()
    # The package's __init__ imports pkg_resources, which recent setuptools
    # lacks: locate its folder without importing it.
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "the face pipeline needs the model files of the face-recognition-models "
            f"package, which is not installed: {INSTALL_COMMAND}"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "models"


@functools.cache
def model_path(name):
    """Path of the model file ``name``, checked against its SHA-256 digest."""
    path = models_folder() / name
    if not path.is_file():
        raise FileNotFoundError(
            f"face model file {str(path)!r} is missing; reinstall it with "
            f"{INSTALL_COMMAND} (or set {MODELS_ENV} to a folder that holds {name})"
        )
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != MODEL_FILES[name]:
        raise OSError(
            f"face model file {str(path)!r} is damaged (its SHA-256 is {digest[:12]}..., "
            f"expected {MODEL_FILES[name][:12]}...); reinstall it with "
            f"pip install --force-reinstall face-recognition-models"
        )
    return str(path)


@functools.cache
def face_detector():
    """dlib's HOG + linear SVM frontal face detector (built into dlib)."""
    return import_dlib().get_frontal_face_detector()


@functools.cache
def shape_predictor():
    """dlib's 5-point landmark predictor (eye corners and the base of the nose)."""
    dlib = import_dlib()
    return dlib.shape_predictor(model_path("shape_predictor_5_face_landmarks.dat"))


@functools.cache
def face_recognizer():
    """dlib's ResNet that maps a 150x150 aligned face to a 128-d embedding."""
    dlib = import_dlib()
    return dlib.face_recognition_model_v1(model_path("dlib_face_recognition_resnet_model_v1.dat"))


def check_installed():
    """Raise a clear error unless dlib and both model files are usable.

    Examples
    --------
    >>> from facenet_sk.faces import check_installed
    >>> check_installed()  # doctest: +SKIP
    """
    import_dlib()
    for name in MODEL_FILES:
        model_path(name)


def faces_available():
    """True when dlib and the model files are installed and intact.

    Examples
    --------
    >>> from facenet_sk.faces import faces_available
    >>> faces_available()  # doctest: +SKIP
    True
    """
    try:
        check_installed()
    except (ImportError, OSError):
        return False
    return True
