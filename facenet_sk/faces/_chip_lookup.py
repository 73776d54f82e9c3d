"""ChipLookup: the 150 px chip cut from the same photo as each 48x48 face.

``load_face_folder(detect=True)`` gives two images of every face: the
course's 48x48 crop (``data``, for the pixel networks) and dlib's 150 px
chip (``chips``, for the embedding), both cut from the photo with the same
landmarks. A comparison table (``compare_models``, ``facenet-sk compare
--detect``) hands every model the same X, the 48x48 rows; put this step in
front of an embedding so that it embeds the sharper chip of each row.
"""

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin


class ChipLookup(TransformerMixin, BaseEstimator):
    """Replace each 48x48 face row by the 150 px chip of the same photo.

    Stateless: the pairs are given when it is built, ``fit`` does nothing.

    Parameters
    ----------
    faces : ndarray of shape (n_faces, n_features), uint8
        The course's crops, flat (``data`` of ``load_face_folder(detect=True)``).
    chips : ndarray of shape (n_faces, side, side, 3), uint8
        The chips of the same faces, in the same order (``chips``).

    Examples
    --------
    >>> import numpy as np
    >>> faces = np.arange(12, dtype=np.uint8).reshape(2, 6)
    >>> chips = np.stack([np.full((2, 2, 3), 7, np.uint8), np.full((2, 2, 3), 9, np.uint8)])
    >>> ChipLookup(faces, chips).transform(faces[::-1])[:, 0, 0, 0].tolist()
    [9, 7]
    """

    def __init__(self, faces, chips):
        self.faces = faces
        self.chips = chips

    def fit(self, X=None, y=None):
        """Nothing to learn; returns self."""
        return self

    def transform(self, X):
        """The chips of the faces in X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, H, W, 3)
            Faces among ``faces`` (any order, repeats allowed).

        Returns
        -------
        ndarray of shape (n_samples, side, side, 3), uint8
        """
        faces = np.asarray(self.faces)
        if len(faces) != len(self.chips):
            raise ValueError(f"ChipLookup has {len(faces)} faces but {len(self.chips)} chips")
        index = {row.tobytes(): i for i, row in enumerate(faces.reshape(len(faces), -1))}
        X = np.asarray(X)
        rows = X.reshape(len(X), -1)
        if rows.shape[1] != faces.reshape(len(faces), -1).shape[1] or not np.array_equal(
            rows, rows.astype(faces.dtype)
        ):
            raise ValueError(
                f"X has rows of {rows.shape[1]} values; ChipLookup knows faces of "
                f"{faces.reshape(len(faces), -1).shape[1]} {faces.dtype} values"
            )
        found = [index.get(row.astype(faces.dtype).tobytes()) for row in rows]
        missing = [i for i, position in enumerate(found) if position is None]
        if missing:
            raise ValueError(
                f"row {missing[0]} of X is not one of the faces whose chips "
                "ChipLookup was given; embed the chips themselves "
                "(load_face_folder(detect=True).chips)"
            )
        return np.asarray(self.chips)[found]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        return tags
