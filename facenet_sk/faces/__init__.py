"""Faces in any photo: detection, alignment, pretrained embeddings, unknown people.

Built on dlib's public-domain models, installed by the optional extra
``pip install "facenet_sk[faces]"``. This package imports without them; the
first use of a face feature without them raises an ImportError that names
that command.
"""

from ._aligner import FaceAligner
from ._chip_lookup import ChipLookup
from ._embedding import FaceEmbedding
from ._models import INSTALL_COMMAND, check_installed, faces_available
from ._nearest import NearestFaceClassifier
from ._open_set import open_set_score, open_set_scorer

__all__ = [
    "ChipLookup",
    "FaceAligner",
    "FaceEmbedding",
    "INSTALL_COMMAND",
    "NearestFaceClassifier",
    "check_installed",
    "faces_available",
    "open_set_score",
    "open_set_scorer",
]
