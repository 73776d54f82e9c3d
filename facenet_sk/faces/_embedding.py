"""FaceEmbedding: dlib's pretrained ResNet as a scikit-learn transformer."""

import os
from numbers import Integral

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from PIL import Image
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin, \
    _fit_context
from sklearn.utils._param_validation import HasMethods, StrOptions

from ._cache import EmbeddingCache
from ._chips import as_chips
from ._framing import FRAMINGS, reframe_box
from ._models import MODEL_FILES, face_recognizer

#: Side of the aligned chip the ResNet was trained on.
RESNET_CHIP_SIZE = 150
#: Dimension of the embedding.
N_EMBEDDING = 128
# Below this many images, starting worker processes costs more than it saves.
_MIN_IMAGES_PER_WORKER = 8


def resnet_chip(chip, framing="course"):
    """One uint8 chip as the ResNet wants it: dlib's framing, 150x150 pixels.

    Parameters
    ----------
    chip : ndarray of shape (side, side, 3), uint8
        An aligned face.
    framing : {"course", "dlib"}, default="course"
        How ``chip`` frames the face (see :class:`FaceEmbedding`).

    Returns
    -------
    ndarray of shape (150, 150, 3), uint8
    """
    box = reframe_box(framing, chip.shape[0])
    if box is None and chip.shape[0] == RESNET_CHIP_SIZE:
        return chip
    # Pillow resamples a sub-pixel box straight to the output size.
    return np.asarray(Image.fromarray(chip).resize(
        (RESNET_CHIP_SIZE, RESNET_CHIP_SIZE), Image.Resampling.LANCZOS, box=box))


def embed_chips(chips, framing="course"):
    """Embeddings (n, 128) of uint8 chips, computed in this process.

    The ResNet is loaded on the first call in each process.
    """
    recognizer = face_recognizer()
    out = np.empty((len(chips), N_EMBEDDING), dtype=np.float64)
    for i, chip in enumerate(chips):
        out[i] = recognizer.compute_face_descriptor(resnet_chip(chip, framing))
    return out


class FaceEmbedding(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Map aligned face images to dlib's pretrained 128-d face embeddings.

    dlib's ResNet (public domain; trained on about 3 million faces of people
    who are not in LFW) gives embeddings in which two photos of the same
    person lie closer than 0.6 apart, and photos of different people farther
    apart. A linear classifier or :class:`NearestFaceClassifier` on top tells
    people apart from a handful of photos each.

    The transformer is stateless: it has nothing to learn, :meth:`fit` only
    checks its input, and :meth:`transform` works without it. The network is
    loaded once per process, never stored on the estimator, so clones and
    pickles stay small.

    Parameters
    ----------
    framing : {"course", "dlib"}, default="course"
        How the images frame the face. ``"course"``: as the course's data,
        the ``(60, 60, 190, 190)`` crops of LFW and :class:`FaceAligner`'s
        output (forehead to chin, some background); the central part the
        ResNet expects is cut out before it is resized. ``"dlib"``: images are
        already framed as ``dlib.get_face_chip`` frames them with its default
        padding of 0.25, and are only resized.
    n_jobs : int, default=None
        Worker processes that compute embeddings (None: 1, -1: every core).
        The network runs in one thread, so this is the way to use several
        cores.
    memory : None, str, path-like or joblib.Memory, default=None
        A folder (or a ``joblib.Memory``) where each image's embedding is
        kept, as scikit-learn's ``Pipeline(memory=...)`` does for steps. In a
        ``GridSearchCV`` over the classifier on top, every image is then
        embedded once, whatever fold and candidate it is used in.

    Attributes
    ----------
    n_features_in_ : int
        Values per image seen by :meth:`fit` (side * side * 3).

    See Also
    --------
    FaceAligner : find, align and crop faces in photos.
    NearestFaceClassifier : names the nearest known face, or says "unknown".

    Notes
    -----
    X holds RGB images of any square size of at least 16x16 pixels: an array
    (n, side, side, 3), or the same images flattened row-major (n, side *
    side * 3) as the loaders' ``data``; any real dtype with values 0..255
    (put a scaler after this step, never before). Each face is resized to the
    150x150 pixels the network takes. The ResNet runs at about 18 faces per
    second per process on a CPU.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from facenet_sk.faces import FaceEmbedding
    >>> model = make_pipeline(FaceEmbedding(n_jobs=-1), LogisticRegression())
    >>> model.fit(X_train, y_train).score(X_test, y_test)  # doctest: +SKIP
    0.99...
    """

    _parameter_constraints = {
        "framing": [StrOptions(set(FRAMINGS))],
        "n_jobs": [Integral, None],
        "memory": [None, str, os.PathLike, HasMethods(["cache"])],
    }

    def __init__(self, *, framing="course", n_jobs=None, memory=None):
        self.framing = framing
        self.n_jobs = n_jobs
        self.memory = memory

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check X; there is nothing to learn.

        Parameters
        ----------
        X : array-like of shape (n_samples, side, side, 3) or (n_samples, side * side * 3)
            Face images, values 0..255.
        y : None
            Ignored.

        Returns
        -------
        self
        """
        chips = as_chips(X)
        self.n_features_in_ = chips[0].size
        return self

    def transform(self, X):
        """Embed each face.

        Parameters
        ----------
        X : array-like of shape (n_samples, side, side, 3) or (n_samples, side * side * 3)
            Face images, values 0..255.

        Returns
        -------
        ndarray of shape (n_samples, 128)
        """
        self._validate_params()
        chips = as_chips(X)
        expected = getattr(self, "n_features_in_", None)
        if expected is not None and chips[0].size != expected:
            raise ValueError(f"X has {chips[0].size} features, but {type(self).__name__} "
                             f"was fitted on {expected} features")
        cache = EmbeddingCache(self.memory, self._cache_namespace())
        out = np.empty((len(chips), N_EMBEDDING), dtype=np.float64)
        keys = [cache.key(chip) for chip in chips] if cache.enabled else None
        todo = []
        for i in range(len(chips)):
            found = cache.get(keys[i]) if cache.enabled else None
            if found is None:
                todo.append(i)
            else:
                out[i] = found
        if todo:
            computed = self._embed(chips[todo])
            out[todo] = computed
            if cache.enabled:
                for i, embedding in zip(todo, computed):
                    cache.put(keys[i], embedding)
        return out

    def _embed(self, chips):
        n_workers = min(effective_n_jobs(self.n_jobs),
                        max(1, len(chips) // _MIN_IMAGES_PER_WORKER))
        if n_workers == 1:
            return embed_chips(chips, self.framing)
        parts = np.array_split(chips, n_workers)
        return np.concatenate(Parallel(n_jobs=n_workers)(
            delayed(embed_chips)(part, self.framing) for part in parts))

    def _cache_namespace(self):
        # Embeddings of other settings (or another network) never mix.
        model = MODEL_FILES["dlib_face_recognition_resnet_model_v1.dat"][:16]
        return f"resnet-{model}-{self.framing}"

    @property
    def _n_features_out(self):
        return N_EMBEDDING

    def get_feature_names_out(self, input_features=None):
        """Names of the 128 output features: ``faceembedding0`` ... ``faceembedding127``.

        Parameters
        ----------
        input_features : None
            Ignored (the output does not depend on the input's names).

        Returns
        -------
        ndarray of str
        """
        return np.asarray([f"faceembedding{i}" for i in range(N_EMBEDDING)], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.transformer_tags.preserves_dtype = []
        tags.input_tags.positive_only = True
        return tags
