"""A per-image cache of embeddings on disk, shared by processes and by clones.

scikit-learn's ``Pipeline(memory=...)`` caches a whole ``fit_transform``
call, so each fold of a cross-validation computes its own copy. Caching each
image's embedding instead means a search over the classifier on top computes
every image once, whatever folds it lands in.
"""

import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np
from sklearn.utils.validation import check_memory


class EmbeddingCache:
    """Embeddings stored as one small ``.npy`` file per image under ``location``.

    Parameters
    ----------
    memory : None, str, path-like or joblib.Memory
        As for scikit-learn's ``Pipeline``: a folder, or a ``joblib.Memory``
        whose ``location`` is used; None (or a Memory without a location)
        caches nothing.
    namespace : str
        Sub-folder that separates embeddings computed with different
        settings (the model and its options).
    shape : tuple of int, default=(128,)
        Shape of one embedding. An entry of another shape, of a dtype that
        is not floating point, or holding NaN or infinity is not trusted:
        :meth:`get` answers None and the embedding is computed again.
    """

    def __init__(self, memory, namespace, shape=(128,)):
        self.shape = tuple(shape)
        if isinstance(memory, os.PathLike):
            memory = os.fspath(memory)
        location = check_memory(memory).location
        self.folder = (
            None if location is None else Path(location) / "facenet_sk_face_embeddings" / namespace
        )

    @property
    def enabled(self):
        return self.folder is not None

    @staticmethod
    def key(chip):
        """Digest of one uint8 chip: its shape and its bytes."""
        digest = hashlib.blake2b(str(chip.shape).encode(), digest_size=20)
        digest.update(np.ascontiguousarray(chip).data)
        return digest.hexdigest()

    def _path(self, key):
        return self.folder / key[:2] / f"{key}.npy"

    def get(self, key):
        """The cached embedding for ``key``, or None when missing or not valid."""
        try:
            # allow_pickle=False: an entry planted by someone else runs no code.
            found = np.load(self._path(key), allow_pickle=False)
        except (FileNotFoundError, ValueError, OSError):
            # Missing, or unreadable (e.g. a disk that filled up): recompute.
            return None
        if found.shape != self.shape or found.dtype.kind != "f" or not np.isfinite(found).all():
            # A scalar would broadcast into a whole embedding, a short one
            # would not fit: recompute, and put() replaces the entry.
            return None
        return found

    def put(self, key, embedding):
        """Store ``embedding``: written to a temporary file, then renamed."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".partial-", suffix=".npy")
        try:
            # mkstemp's files are private (0600); the folder's files are not.
            os.chmod(tmp, 0o644)
            with os.fdopen(fd, "wb") as file:
                np.save(file, embedding)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
