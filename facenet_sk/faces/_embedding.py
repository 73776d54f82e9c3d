"""FaceEmbedding: dlib's pretrained ResNet as a scikit-learn transformer."""

import contextlib
import os
from numbers import Integral

import numpy as np
import torch
from joblib import Parallel, delayed, effective_n_jobs
from PIL import Image
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils._param_validation import HasMethods, StrOptions

from ._cache import EmbeddingCache
from ._chips import as_chips
from ._framing import FRAMINGS, reframe_box
from ._models import MODEL_FILES, face_recognizer
from ._resnet_weights import face_resnet

#: Side of the aligned chip the ResNet was trained on.
RESNET_CHIP_SIZE = 150
#: Dimension of the embedding.
N_EMBEDDING = 128
# Below this many images, starting worker processes costs more than it saves.
_MIN_IMAGES_PER_WORKER = 8
#: Images per forward pass of the PyTorch engine: large enough to keep every
#: core busy, small enough that activations stay near 100 MB (float32).
TORCH_BATCH_SIZE = 64


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
    return np.asarray(
        Image.fromarray(chip).resize(
            (RESNET_CHIP_SIZE, RESNET_CHIP_SIZE), Image.Resampling.LANCZOS, box=box
        )
    )


def embed_chips(chips, framing="course"):
    """Embeddings (n, 128) of uint8 chips by dlib's own network, in this process.

    The ResNet is loaded on the first call in each process.
    """
    recognizer = face_recognizer()
    out = np.empty((len(chips), N_EMBEDDING), dtype=np.float64)
    for i, chip in enumerate(chips):
        out[i] = recognizer.compute_face_descriptor(resnet_chip(chip, framing))
    return out


def resolve_device(device):
    """``"auto"``: CUDA when PyTorch sees a GPU, else the CPU."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            "device='cuda' was asked, but PyTorch sees no CUDA GPU; use device='cpu' or 'auto'"
        )
    return device


def _no_tf32():
    """cuDNN without TF32, whose 10-bit mantissas are too few for dlib's numbers."""
    cudnn = torch.backends.cudnn
    return cudnn.flags(
        enabled=cudnn.enabled,
        benchmark=cudnn.benchmark,
        deterministic=cudnn.deterministic,
        allow_tf32=False,
    )


def embed_chips_torch(
    chips,
    framing="course",
    device="cpu",
    n_threads=None,
    precision="float32",
    batch_size=TORCH_BATCH_SIZE,
):
    """Embeddings (n, 128) of uint8 chips by the PyTorch copy of dlib's network.

    Parameters
    ----------
    chips : ndarray of shape (n, side, side, 3), uint8
    framing : {"course", "dlib"}
    device : str
        ``"cpu"``, ``"cuda"`` or ``"auto"``.
    n_threads : int, default=None
        PyTorch's CPU threads during the call (None: its current setting);
        the setting is restored afterwards.
    precision : {"float32", "bfloat16"}
    batch_size : int

    Returns
    -------
    ndarray of shape (n, 128), float64
    """
    device = resolve_device(device)
    net = face_resnet(device)
    out = np.empty((len(chips), N_EMBEDDING), dtype=np.float64)
    threads = torch.get_num_threads()
    if n_threads is not None:
        torch.set_num_threads(n_threads)
    try:
        with contextlib.ExitStack() as stack:
            stack.enter_context(torch.inference_mode())
            if device.startswith("cuda"):
                stack.enter_context(_no_tf32())
            stack.enter_context(
                torch.autocast(
                    device.split(":")[0], dtype=torch.bfloat16, enabled=precision == "bfloat16"
                )
            )
            for start in range(0, len(chips), batch_size):
                batch = np.stack(
                    [resnet_chip(chip, framing) for chip in chips[start : start + batch_size]]
                )
                # (n, H, W, 3) seen as (n, 3, H, W): a channels-last view.
                images = torch.from_numpy(batch).to(device).permute(0, 3, 1, 2).float()
                out[start : start + len(batch)] = net(images).float().cpu().numpy()
    finally:
        torch.set_num_threads(threads)
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
        Cores used. ``engine="torch"``: PyTorch's CPU threads during
        :meth:`transform` (None: PyTorch's setting, every core by default;
        -1: every core). ``engine="dlib"``: worker processes, since dlib's
        network runs in one thread (None: 1, -1: every core).
    memory : None, str, path-like or joblib.Memory, default=None
        A folder (or a ``joblib.Memory``) where each image's embedding is
        kept, as scikit-learn's ``Pipeline(memory=...)`` does for steps. In a
        ``GridSearchCV`` over the classifier on top, every image is then
        embedded once, whatever fold and candidate it is used in.
    engine : {"torch", "dlib"}, default="torch"
        Which copy of dlib's network computes the embeddings. ``"torch"``:
        the same network in PyTorch, with dlib's weights (converted from
        dlib's model file on first use and kept in the data folder), batched
        on every core or on a GPU; its embeddings equal dlib's within 1e-4
        in each coordinate (float32). ``"dlib"``: dlib's own C++ network,
        one image at a time, for comparison.
    device : {"auto", "cpu", "cuda"}, default="auto"
        Where ``engine="torch"`` runs: ``"auto"`` takes a CUDA GPU when
        PyTorch sees one, else the CPU.
    precision : {"float32", "bfloat16"}, default="float32"
        Arithmetic of ``engine="torch"``. ``"bfloat16"`` was 1.5x to 1.9x
        faster on one thread of a CPU with AVX512-BF16 (no AMX), and moves
        the embeddings by up to about 0.004 in a coordinate (0.0031 to
        0.0035 measured on LFW chips), far less than the distances that tell
        people apart, but no longer dlib's numbers.

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
    150x150 pixels the network takes. On two CPU cores dlib's own network
    embeds about 18 faces a second; the PyTorch engine several times more
    (see the user guide). The PyTorch engine changes PyTorch's thread count
    during a call when ``n_jobs`` is set, and restores it afterwards.

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
        "engine": [StrOptions({"torch", "dlib"})],
        "device": [StrOptions({"auto", "cpu", "cuda"})],
        "precision": [StrOptions({"float32", "bfloat16"})],
    }

    def __init__(
        self,
        *,
        framing="course",
        n_jobs=None,
        memory=None,
        engine="torch",
        device="auto",
        precision="float32",
    ):
        self.framing = framing
        self.n_jobs = n_jobs
        self.memory = memory
        self.engine = engine
        self.device = device
        self.precision = precision

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
            raise ValueError(
                f"X has {chips[0].size} features, but {type(self).__name__} "
                f"was fitted on {expected} features"
            )
        cache = EmbeddingCache(self.memory, self._cache_namespace(), shape=(N_EMBEDDING,))
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
        if self.engine == "torch":
            threads = None if self.n_jobs is None else effective_n_jobs(self.n_jobs)
            return embed_chips_torch(chips, self.framing, self.device, threads, self.precision)
        n_workers = min(effective_n_jobs(self.n_jobs), max(1, len(chips) // _MIN_IMAGES_PER_WORKER))
        if n_workers == 1:
            return embed_chips(chips, self.framing)
        parts = np.array_split(chips, n_workers)
        return np.concatenate(
            Parallel(n_jobs=n_workers)(delayed(embed_chips)(part, self.framing) for part in parts)
        )

    def _cache_namespace(self):
        # Embeddings of other settings (or another network) never mix. Both
        # engines in float32 give the same numbers (within 1e-6 measured),
        # so they share their entries.
        model = MODEL_FILES["dlib_face_recognition_resnet_model_v1.dat"][:16]
        suffix = "-bfloat16" if self.engine == "torch" and self.precision == "bfloat16" else ""
        return f"resnet-{model}-{self.framing}{suffix}"

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
