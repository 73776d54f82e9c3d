"""The course's "8 faces" HDF5 file: layout checks, reading and download."""

from pathlib import Path

import h5py
import numpy as np

from ..split import SUBSETS, check_subset
from ._bunch import make_bunch
from ._download import DownloadError, download_file
from ._home import get_data_home

#: Where the course published the file (not reachable from every network).
EIGHT_FACES_URL = "https://www.dropbox.com/s/l0ck0xddlaazhb9/Data_8_faces_no_cut.hdf5?dl=1"
#: Name of the file in ``data_home``.
EIGHT_FACES_FILENAME = "Data_8_faces_no_cut.hdf5"
#: The people, in the order the course's notebook lists them (the file stores
#: no names, so the label-to-name mapping is the notebook's, unconfirmed).
EIGHT_FACES_NAMES = (
    "Miranda_Cosgrove",
    "Chris_Martin",
    "Emma_Stone",
    "Jamie_Foxx",
    "Steve_Jobs",
    "Zac_Efron",
    "Sandra_Oh",
    "Taryn_Manning",
)

DESCR = """The "8 faces" data set
=======================

48x48 RGB photos of 8 people sampled from the Oxford VGG Face data set, as
published by a deep-learning course in ``Data_8_faces_no_cut.hdf5``:
2,000 train, 400 valid and 400 test images (250/50/50 per person), labels
0..7. ``target_names`` follow the order the course's notebook lists the
people in; the file itself stores no names.
"""


class LayoutError(ValueError):
    """An HDF5 file does not have the course's layout."""


def _keys(subset):
    return f"X_{subset}_8_faces", f"Y_{subset}_8_faces"


def check_eight_faces_file(path):
    """Check that ``path`` opens as HDF5 and has the course's keys, shapes and labels.

    Labels must lie in 0..n-1 for a file of n images (each class has at
    least one image); one-hot labels are read by their largest column.

    Parameters
    ----------
    path : path-like
        The file to check.

    Raises
    ------
    LayoutError
        Naming the file and what is wrong with it.

    Examples
    --------
    >>> check_eight_faces_file("Data_8_faces_no_cut.hdf5")  # doctest: +SKIP
    """
    try:
        h5 = h5py.File(path, "r")
    except OSError as exc:
        raise LayoutError(f"{str(path)!r} is not a readable HDF5 file ({exc})") from exc
    with h5:
        for subset in SUBSETS:
            x_key, y_key = _keys(subset)
            missing = [k for k in (x_key, y_key) if k not in h5]
            if missing:
                raise LayoutError(
                    f"{str(path)!r} lacks the dataset(s) {missing}; the course's layout has "
                    f"{[k for s in SUBSETS for k in _keys(s)]}"
                )
            x_shape, y_shape = h5[x_key].shape, h5[y_key].shape
            if len(x_shape) != 4 or x_shape[3] != 3 or x_shape[0] == 0:
                raise LayoutError(
                    f"{str(path)!r}: {x_key} has shape {x_shape}, expected (n, height, width, 3)"
                )
            if len(y_shape) not in (1, 2) or y_shape[0] != x_shape[0]:
                raise LayoutError(
                    f"{str(path)!r}: {y_key} has shape {y_shape}, expected ({x_shape[0]},) "
                    f"to match {x_key}"
                )
        _check_labels(h5, path)


def _check_labels(h5, path):
    """Labels must lie in 0..n-1 for a file of n images.

    Each class needs at least one image, so a larger label is a damaged (or
    crafted) file; left in, it would make :func:`load_eight_faces` build one
    name per label up to it (millions of names, or a MemoryError).
    """
    n_images = sum(h5[_keys(s)[0]].shape[0] for s in SUBSETS)
    for subset in SUBSETS:
        labels = _read_labels(h5, subset)
        low, high = int(labels.min()), int(labels.max())
        if low < 0 or high >= n_images:
            raise LayoutError(
                f"{str(path)!r}: {_keys(subset)[1]} labels must lie in 0..{n_images - 1} "
                f"(the file holds {n_images} images), found {low if low < 0 else high}"
            )


def _read_labels(h5, subset):
    labels = h5[_keys(subset)[1]][()]
    if labels.ndim == 2:  # one-hot labels, as Keras notebooks often store them
        labels = labels.argmax(axis=1)
    return labels.astype(np.int64)


def _read_subset(h5, subset):
    images = h5[_keys(subset)[0]][()]
    if images.dtype != np.uint8:
        images = np.clip(np.rint(images), 0, 255).astype(np.uint8)
    return images, _read_labels(h5, subset)


def fetch_eight_faces(*, data_home=None, url=EIGHT_FACES_URL, progress=True):
    """Return the path of the course's HDF5 file, downloading it when missing.

    The download goes to a temporary file, is checked to open with the
    expected keys and shapes, and only then is renamed into place.

    Parameters
    ----------
    data_home : path-like, default=None
        Folder for the file (see :func:`get_data_home`).
    url : str, default=EIGHT_FACES_URL
        Where to download from.
    progress : bool, default=True
        Show a progress bar while downloading.

    Returns
    -------
    pathlib.Path
        Path of the valid file.

    Examples
    --------
    >>> from facenet_sk.datasets import fetch_eight_faces
    >>> fetch_eight_faces()  # doctest: +SKIP
    PosixPath('/home/me/facenet_sk_data/Data_8_faces_no_cut.hdf5')
    """
    path = get_data_home(data_home) / EIGHT_FACES_FILENAME
    if path.exists():
        return path
    try:
        return download_file(url, path, validate=check_eight_faces_file, progress=progress)
    except (DownloadError, LayoutError) as exc:
        raise DownloadError(
            f"Could not fetch the 8 faces file: {exc}. Nothing was written to {str(path)!r}. "
            f"To place the file by hand, download {url} and save it as {str(path)!r} "
            "(or pass path=... to load_eight_faces)."
        ) from exc


def load_eight_faces(
    path=None,
    *,
    subset="train",
    data_home=None,
    download_if_missing=True,
    url=EIGHT_FACES_URL,
    return_X_y=False,
):
    """Load the course's "8 faces" data set from its HDF5 file.

    Parameters
    ----------
    path : path-like, default=None
        Read this file. When None, use ``Data_8_faces_no_cut.hdf5`` in
        ``data_home``, downloading it first if it is missing.
    subset : {"train", "valid", "test", "all"}, default="train"
        Which of the file's fixed splits to return.
    data_home : path-like, default=None
        Folder for the downloaded file (see :func:`get_data_home`).
    download_if_missing : bool, default=True
        Download the file when it is not in ``data_home``; otherwise raise.
    url : str, default=EIGHT_FACES_URL
        Where to download from.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    sklearn.utils.Bunch or tuple
        ``images`` (n, 48, 48, 3) uint8, ``data`` (n, 6912), ``target`` (n,)
        int64, ``target_names``, ``subset`` (n,) naming each image's split,
        ``path`` (the HDF5 file read) and ``DESCR``.

    Examples
    --------
    >>> from facenet_sk.datasets import load_eight_faces
    >>> X_train, y_train = load_eight_faces(subset="train", return_X_y=True)  # doctest: +SKIP
    >>> X_train.shape  # doctest: +SKIP
    (2000, 6912)
    """
    subset = check_subset(subset)
    if path is None:
        default = get_data_home(data_home) / EIGHT_FACES_FILENAME
        if not default.exists() and not download_if_missing:
            raise FileNotFoundError(
                f"{str(default)!r} does not exist and download_if_missing=False; "
                f"download {url} and save it there, or pass path=..."
            )
        path = fetch_eight_faces(data_home=data_home, url=url)
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"8 faces file {str(path)!r} does not exist")
    check_eight_faces_file(path)
    parts = SUBSETS if subset == "all" else (subset,)
    with h5py.File(path, "r") as h5:
        read = [_read_subset(h5, s) for s in parts]
        # The names cover the classes of the whole file, whatever the subset.
        n_classes = max(int(_read_labels(h5, s).max()) for s in SUBSETS) + 1
    images = np.concatenate([r[0] for r in read])
    target = np.concatenate([r[1] for r in read])
    names = (
        EIGHT_FACES_NAMES[:n_classes] if n_classes <= len(EIGHT_FACES_NAMES) else range(n_classes)
    )
    return make_bunch(
        images,
        target,
        [str(name) for name in names],
        return_X_y=return_X_y,
        subset=np.concatenate([[s] * len(r[1]) for s, r in zip(parts, read)]),
        path=str(path),
        DESCR=DESCR,
    )
