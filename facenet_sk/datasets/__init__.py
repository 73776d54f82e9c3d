"""Loaders that return face images as scikit-learn Bunches or ``(X, y)``."""

from ._eight_faces import EIGHT_FACES_URL, fetch_eight_faces, load_eight_faces
from ._folder import load_face_folder
from ._home import get_data_home
from ._select import DATA_SOURCES, load_split
from ._synthetic import make_synthetic_faces

__all__ = [
    "DATA_SOURCES",
    "EIGHT_FACES_URL",
    "fetch_eight_faces",
    "get_data_home",
    "load_eight_faces",
    "load_face_folder",
    "load_split",
    "make_synthetic_faces",
]
