"""Splitting data into train, valid and test parts: the course's named splits
and a stratified split for data sets without a fixed one."""

from numbers import Integral

import numpy as np
from sklearn.model_selection import train_test_split

#: The fixed splits of the course's data, in the order the course uses them.
SUBSETS = ("train", "valid", "test")


def check_subset(subset):
    """Return ``subset`` if it names a split or ``"all"``, else raise ValueError.

    Examples
    --------
    >>> check_subset("valid")
    'valid'
    """
    if subset not in SUBSETS + ("all",):
        raise ValueError(f"subset must be one of {SUBSETS + ('all',)}, got {subset!r}")
    return subset


def train_valid_test_split(
    X, y, *, valid_size=1 / 7, test_size=1 / 7, random_state=None, stratify=True
):
    """Split ``X, y`` into train, valid and test parts, stratified by ``y``.

    Two calls of :func:`sklearn.model_selection.train_test_split`: the test
    part first, then the valid part from what remains. The defaults are the
    course's 250/50/50 out of 350 images per person.

    Parameters
    ----------
    X : array-like of shape (n_samples, ...)
        Images or flat features.
    y : array-like of shape (n_samples,)
        Labels.
    valid_size, test_size : float or int, default=1/7
        Fraction of all samples (float in (0, 1)) or absolute count (int).
    random_state : int, RandomState instance or None, default=None
        Seed of the shuffle.
    stratify : bool, default=True
        Keep the class proportions in every part.

    Returns
    -------
    X_train, X_valid, X_test, y_train, y_valid, y_test : arrays

    Examples
    --------
    >>> from facenet_sk.datasets import make_synthetic_faces
    >>> from facenet_sk import train_valid_test_split
    >>> X, y = make_synthetic_faces(return_X_y=True)
    >>> X_tr, X_va, X_te, y_tr, y_va, y_te = train_valid_test_split(X, y, random_state=0)
    >>> len(y_tr), len(y_va), len(y_te)
    (2000, 400, 400)
    """
    n = len(y)
    # Integral, not int: numpy integers (an element of an array of counts) are counts too.
    n_valid = valid_size if isinstance(valid_size, Integral) else round(valid_size * n)
    n_test = test_size if isinstance(test_size, Integral) else round(test_size * n)
    if n_valid < 1 or n_test < 1 or n_valid + n_test >= n:
        raise ValueError(
            f"valid_size={valid_size!r} and test_size={test_size!r} must each give at least "
            f"one of the {n} samples and leave some for training"
        )
    if stratify:
        # Checked here, not left to train_test_split: its message would call the
        # validation part "test_size" (it is the test part of the second call).
        n_classes = len(np.unique(y))
        parts = (
            ("test_size", test_size, n_test, "test"),
            ("valid_size", valid_size, n_valid, "validation"),
        )
        for name, size, count, part in parts:
            if count < n_classes:
                raise ValueError(
                    f"{name}={size!r} gives {count} {part} samples, fewer than the "
                    f"{n_classes} classes: a stratified split needs at least one sample of "
                    "each class in every part"
                )
        if n - n_valid - n_test < n_classes:
            raise ValueError(
                f"valid_size={valid_size!r} and test_size={test_size!r} leave "
                f"{n - n_valid - n_test} training samples, fewer than the {n_classes} "
                "classes: a stratified split needs at least one sample of each class in "
                "every part"
            )
    X_rest, X_test, y_rest, y_test = train_test_split(
        X, y, test_size=n_test, random_state=random_state, stratify=y if stratify else None
    )
    X_train, X_valid, y_train, y_valid = train_test_split(
        X_rest,
        y_rest,
        test_size=n_valid,
        random_state=random_state,
        stratify=y_rest if stratify else None,
    )
    return X_train, X_valid, X_test, y_train, y_valid, y_test
