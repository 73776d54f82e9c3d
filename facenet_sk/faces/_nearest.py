"""NearestFaceClassifier: the nearest known face names the person, or "unknown"."""

from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.metrics import pairwise_distances_chunked
from sklearn.utils._param_validation import Interval
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

#: Default distance threshold, measured on LFW (see docs/user_guide/own_photos.rst).
DEFAULT_DISTANCE_THRESHOLD = 0.48


class NearestFaceClassifier(ClassifierMixin, BaseEstimator):
    """Name the nearest known face, or answer "unknown" when every known face is far.

    Meant for face embeddings (:class:`FaceEmbedding`): each photo is
    compared with every training photo, and takes the label of the nearest
    one, unless that one is farther than ``distance_threshold``: then the
    photo is of someone the model does not know, and ``predict`` returns
    ``unknown_label``.

    dlib suggests 0.6 to decide whether two photos show the same person; to
    tell whether a photo shows one of several known people, nearest-neighbour
    distances need a stricter threshold. The default, 0.48, was measured on
    LFW (10 known people, 9 never seen, 5 draws; see the user guide's page
    "Your own photos"): 0.6 let most strangers through as someone known.

    Photos labelled ``unknown_label`` in ``fit`` are not a class: they are
    left out of the known faces, so that a cross-validation (e.g. a
    ``GridSearchCV`` over ``distance_threshold`` with
    :func:`open_set_scorer`) can score how well strangers are rejected.

    Parameters
    ----------
    distance_threshold : float or None, default=0.48
        Largest Euclidean distance at which the nearest known face still
        names the person; None never answers "unknown".
    unknown_label : int, str or "auto", default="auto"
        Label of unknown people, in ``fit``'s ``y`` and in ``predict``'s
        answers. "auto": -1 for numeric labels, "unknown" for strings.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The known people.
    unknown_label_ : int or str
        The label of unknown people in use.
    n_features_in_ : int
        Features per sample (128 for dlib's embedding).
    n_known_ : int
        Training samples kept as known faces.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from facenet_sk.faces import FaceEmbedding, NearestFaceClassifier
    >>> model = make_pipeline(FaceEmbedding(), NearestFaceClassifier())
    >>> model.fit(X_known, names).predict(X_new)  # doctest: +SKIP
    array(['ann', 'unknown', 'bob'], dtype='<U7')
    """

    _parameter_constraints = {
        "distance_threshold": [Interval(Real, 0, None, closed="left"), None],
        "unknown_label": [Real, str],
    }

    def __init__(self, distance_threshold=DEFAULT_DISTANCE_THRESHOLD, *, unknown_label="auto"):
        self.distance_threshold = distance_threshold
        self.unknown_label = unknown_label

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Keep the known faces.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Embeddings of the training photos.
        y : array-like of shape (n_samples,)
            Their people; ``unknown_label`` marks photos of people that are
            not to be known (left out of the known faces).

        Returns
        -------
        self
        """
        X, y = validate_data(self, X, y, dtype=(np.float64, np.float32))
        check_classification_targets(y)
        numeric = np.issubdtype(y.dtype, np.number) or y.dtype == bool
        if self.unknown_label == "auto":
            self.unknown_label_ = -1 if numeric else "unknown"
        else:
            self.unknown_label_ = self.unknown_label
        known = y != self.unknown_label_
        if not known.any():
            raise ValueError(f"every sample of y is labelled unknown_label="
                             f"{self.unknown_label_!r}: at least one known class is needed")
        self.classes_, y_index = np.unique(y[known], return_inverse=True)
        # Known faces grouped by class, so that one reduceat per chunk of
        # distances gives each class's nearest face.
        order = np.argsort(y_index, kind="stable")
        self.known_faces_ = X[known][order]
        self.class_starts_ = np.searchsorted(y_index[order], np.arange(len(self.classes_)))
        self.n_known_ = int(known.sum())
        return self

    def class_distances(self, X):
        """Distance from each sample to the nearest known face of each class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=(np.float64, np.float32))

        def per_class(chunk, start):
            return np.minimum.reduceat(chunk, self.class_starts_, axis=1)

        return np.vstack(list(pairwise_distances_chunked(
            X, self.known_faces_, reduce_func=per_class, metric="euclidean")))

    def decision_function(self, X):
        """How much nearer than the threshold each class's nearest face is.

        Positive for a class whose nearest face is within
        ``distance_threshold`` (minus the distance when the threshold is
        None). ``predict`` answers the largest column, or "unknown" when no
        column is positive. With two classes, as in scikit-learn, one column:
        the second class's score minus the first's.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes) or (n_samples,)
        """
        scores = (self.distance_threshold or 0.0) - self.class_distances(X)
        if len(self.classes_) == 2:
            return scores[:, 1] - scores[:, 0]
        return scores

    def predict(self, X):
        """The person of the nearest known face, or ``unknown_label_`` when it is too far.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        distances = self.class_distances(X)
        predicted = self.classes_[np.argmin(distances, axis=1)]
        if self.distance_threshold is None:
            return predicted
        rejected = distances.min(axis=1) > self.distance_threshold
        if rejected.any():
            dtype = np.result_type(predicted.dtype, np.asarray([self.unknown_label_]).dtype)
            predicted = predicted.astype(dtype)
            predicted[rejected] = self.unknown_label_
        return predicted

    def score(self, X, y, sample_weight=None):
        """Accuracy, with ``unknown_label_`` as one more answer.

        A stranger labelled ``unknown_label_`` in ``y`` counts as right when
        rejected; a known person as right when named. Each photo weighs the
        same; :func:`open_set_score` weighs the two kinds of photo equally.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        float
        """
        from sklearn.metrics import accuracy_score

        return accuracy_score(y, self.predict(X), sample_weight=sample_weight)
