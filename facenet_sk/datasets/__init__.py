"""Loaders that return face images as scikit-learn Bunches or ``(X, y)``."""

from .._names import DATA_SOURCES
from ._eight_faces import EIGHT_FACES_URL, fetch_eight_faces, load_eight_faces
from ._folder import load_face_folder
from ._home import get_data_home
from ._lfw import LFW_CROP, DamagedArchiveError, fetch_lfw_faces
from ._select import load_split
from ._synthetic import make_synthetic_faces

__all__ = [
    "DATA_SOURCES",
    "DamagedArchiveError",
    "EIGHT_FACES_URL",
    "LFW_CROP",
    "fetch_eight_faces",
    "fetch_lfw_faces",
    "get_data_home",
    "load_eight_faces",
    "load_face_folder",
    "load_split",
    "make_synthetic_faces",
]
