"""FaceAligner: find, align and crop the face of each image in memory."""

import warnings
from numbers import Integral

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from PIL import Image
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions

from ._align import as_rgb_uint8, find_face
from ._framing import FRAMINGS

# Below this many images, starting worker processes costs more than it saves.
_MIN_IMAGES_PER_WORKER = 16


def _centre_square(image, image_size):
    image = as_rgb_uint8(image)
    side = min(image.shape[:2])
    top, left = (image.shape[0] - side) // 2, (image.shape[1] - side) // 2
    square = Image.fromarray(image[top : top + side, left : left + side])
    return np.asarray(square.resize((image_size, image_size), Image.Resampling.LANCZOS))


def _find_faces(images, image_size, upsample, max_side, framing):
    return [
        find_face(
            image, image_size=image_size, upsample=upsample, max_side=max_side, framing=framing
        )
        for image in images
    ]


class FaceAligner(TransformerMixin, BaseEstimator):
    """Find the face in each image, align it by its landmarks, cut and resize it.

    For every image: dlib's HOG frontal-face detector finds the faces; the
    LARGEST one is kept (in a photo of several people, the one nearest the
    camera); dlib's 5-point landmark model aligns it (eyes level, fixed size
    and place), and it is cut with the framing of the course's data, the same
    as the ``(60, 60, 190, 190)`` crop of ``lfw_deepfunneled``, and resized to
    ``image_size``; or, with ``framing="dlib"``, cut as dlib cuts the chips
    its face network takes (``dlib.get_face_chip(image, landmarks,
    size=image_size, padding=0.25)``).

    For embeddings, ``FaceAligner(image_size=150, framing="dlib")`` followed
    by ``FaceEmbedding(framing="dlib")`` is dlib's own route, pixel for pixel;
    the course's 48x48 framing is for the pixel networks.

    The transformer is stateless: :meth:`fit` only checks the parameters.

    Parameters
    ----------
    image_size : int, default=48
        Side of the aligned faces returned (at least 16).
    upsample : int, default=1
        Times each image is doubled before detection. The detector finds faces
        of about 80x80 pixels with 0, 40x40 with 1, 20x20 with 2; each step
        costs about 4 times the time.
    max_side : int or None, default=1024
        Images whose longer side is larger are scaled down to it first: phone
        photos of 4000 pixels would take seconds each, and their faces stay
        large enough. None: never scale down.
    framing : {"course", "dlib"}, default="course"
        How the faces are cut: as the course's data (forehead to chin, some
        background), or as dlib's chips (padding 0.25), which
        :class:`FaceEmbedding` takes with ``framing="dlib"`` at 150x150.
    on_missing : {"raise", "center"}, default="raise"
        What to do with an image where no face is found: raise an error that
        counts them and gives their indices, or use the image's largest
        centred square, resized, unaligned (with a warning that counts them).
    flatten : bool, default=False
        Return flat rows (n, image_size * image_size * 3), as the loaders'
        ``data``, instead of images (n, image_size, image_size, 3).
    n_jobs : int, default=None
        Worker processes (None: 1, -1: every core).

    See Also
    --------
    facenet_sk.datasets.load_face_folder : the same with ``detect=True``, for a
        folder of photos (photos without a face are skipped and listed).
    FaceEmbedding : 128-d embeddings of the aligned faces.

    Notes
    -----
    X is a sequence of images of any sizes: an array (n, height, width,
    channels) or a list of arrays, each grey (h, w), RGB (h, w, 3) or RGBA
    (h, w, 4) with alpha dropped, of uint8, 16-bit (scaled by 1/257) or any
    real dtype with values 0..255. The detector finds frontal faces and faces
    turned up to about 45 degrees; it misses faces in profile and very dark or
    blurred ones. Images too small to hold a face of about 40 pixels (with
    ``upsample=1``) have no face found.

    Examples
    --------
    >>> from facenet_sk.faces import FaceAligner
    >>> faces = FaceAligner(image_size=48).fit_transform(photos)  # doctest: +SKIP
    >>> faces.shape  # doctest: +SKIP
    (10, 48, 48, 3)

    From photos to embeddings, at the resolution the network was trained on:

    >>> from sklearn.pipeline import make_pipeline
    >>> from facenet_sk.faces import FaceEmbedding
    >>> embed = make_pipeline(FaceAligner(image_size=150, framing="dlib"),
    ...                       FaceEmbedding(framing="dlib"))
    """

    _parameter_constraints = {
        "image_size": [Interval(Integral, 16, None, closed="left")],
        "upsample": [Interval(Integral, 0, 4, closed="both")],
        "max_side": [Interval(Integral, 64, None, closed="left"), None],
        "framing": [StrOptions(set(FRAMINGS))],
        "on_missing": [StrOptions({"raise", "center"})],
        "flatten": ["boolean"],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        image_size=48,
        *,
        upsample=1,
        max_side=1024,
        framing="course",
        on_missing="raise",
        flatten=False,
        n_jobs=None,
    ):
        self.image_size = image_size
        self.upsample = upsample
        self.max_side = max_side
        self.framing = framing
        self.on_missing = on_missing
        self.flatten = flatten
        self.n_jobs = n_jobs

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X=None, y=None):
        """Check the parameters; there is nothing to learn.

        Parameters
        ----------
        X : ignored
        y : ignored

        Returns
        -------
        self
        """
        return self

    def transform(self, X):
        """Align the largest face of each image.

        Parameters
        ----------
        X : array-like of shape (n_samples, height, width[, channels]) or list of images
            Images of any size (see Notes).

        Returns
        -------
        ndarray of shape (n_samples, image_size, image_size, 3), uint8
            Or (n_samples, image_size * image_size * 3) with ``flatten=True``.
        """
        self._validate_params()
        images = list(X) if not isinstance(X, np.ndarray) or X.ndim >= 3 else None
        if images is None:
            raise ValueError(
                f"X has shape {X.shape}; FaceAligner takes a sequence of images "
                "(n, height, width[, channels]) or a list of images"
            )
        if not images:
            raise ValueError("X holds no images")
        found = self._find(images)
        missing = [i for i, (chip, _) in enumerate(found) if chip is None]
        if missing and self.on_missing == "raise":
            raise ValueError(
                f"no face found in {len(missing)} of {len(images)} image(s), e.g. at index "
                f"{missing[:10]}; try upsample={self.upsample + 1} for small faces, or "
                "on_missing='center' to keep their centre square"
            )
        if missing:
            warnings.warn(
                f"no face found in {len(missing)} of {len(images)} image(s) (e.g. "
                f"index {missing[:10]}); their centre square is used, unaligned",
                UserWarning,
                stacklevel=2,
            )
        chips = np.stack(
            [
                chip if chip is not None else _centre_square(images[i], self.image_size)
                for i, (chip, _) in enumerate(found)
            ]
        )
        return chips.reshape(len(chips), -1) if self.flatten else chips

    def _find(self, images):
        n_workers = min(
            effective_n_jobs(self.n_jobs), max(1, len(images) // _MIN_IMAGES_PER_WORKER)
        )
        args = (self.image_size, self.upsample, self.max_side, self.framing)
        if n_workers == 1:
            return _find_faces(images, *args)
        parts = np.array_split(np.arange(len(images)), n_workers)
        results = Parallel(n_jobs=n_workers)(
            delayed(_find_faces)([images[i] for i in part], *args) for part in parts
        )
        return [item for part in results for item in part]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        return tags
