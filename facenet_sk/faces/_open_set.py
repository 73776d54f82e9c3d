"""Scoring a classifier that may answer "unknown": both of its errors count."""

import numpy as np


def open_set_score(y_true, y_pred, *, unknown_label=-1):
    """Mean of the share of known faces named correctly and of unknown faces rejected.

    A recognizer that may say "unknown" makes two kinds of error: it names a
    known person wrongly (or rejects them), and it accepts a stranger as
    someone known. Each kind gets half the weight, whatever the number of
    photos of each; with only known (or only unknown) photos the score is
    the share of that kind handled right.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels; ``unknown_label`` marks people the model was not
        trained on.
    y_pred : array-like of shape (n_samples,)
        Predicted labels (``unknown_label`` for a rejection).
    unknown_label : int or str, default=-1
        The label of unknown people.

    Returns
    -------
    float
        Between 0 and 1.

    Examples
    --------
    >>> from facenet_sk.faces import open_set_score
    >>> open_set_score(["ann", "bob", "unknown", "unknown"],
    ...                ["ann", "ann", "unknown", "bob"], unknown_label="unknown")
    0.5
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(
            f"y_true and y_pred must be 1-d and of the same length, got shapes "
            f"{y_true.shape} and {y_pred.shape}"
        )
    if not len(y_true):
        raise ValueError("y_true is empty")
    unknown = y_true == unknown_label
    parts = []
    if (~unknown).any():
        parts.append(np.mean(y_pred[~unknown] == y_true[~unknown]))
    if unknown.any():
        parts.append(np.mean(y_pred[unknown] == unknown_label))
    return float(np.mean(parts))


def open_set_scorer(estimator, X, y):
    """Scorer for ``GridSearchCV(..., scoring=open_set_scorer)``: :func:`open_set_score`.

    Reads the unknown label from the fitted estimator (its ``unknown_label_``,
    or that of the last step of a Pipeline).

    Examples
    --------
    >>> from sklearn.model_selection import GridSearchCV
    >>> from facenet_sk.faces import NearestFaceClassifier, open_set_scorer
    >>> search = GridSearchCV(NearestFaceClassifier(),
    ...                       {"distance_threshold": [0.4, 0.45, 0.5]},
    ...                       scoring=open_set_scorer)
    """
    final = estimator[-1] if hasattr(estimator, "steps") else estimator
    unknown_label = getattr(final, "unknown_label_", None)
    if unknown_label is None:
        raise ValueError(
            f"{type(final).__name__} has no unknown_label_: open_set_scorer "
            "scores a fitted classifier that can answer 'unknown', such as "
            "NearestFaceClassifier"
        )
    return open_set_score(y, estimator.predict(X), unknown_label=unknown_label)
