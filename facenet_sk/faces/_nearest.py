"""NearestFaceClassifier: the nearest known person names the face, or "unknown"."""

from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.metrics import pairwise_distances, pairwise_distances_chunked
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

#: Default distance threshold, measured on LFW (see docs/user_guide/own_photos.rst).
DEFAULT_DISTANCE_THRESHOLD = 0.48
#: Spread of one person's photos around their mean embedding (the sum of the
#: 128 variances), measured on LFW-19 with dlib's chips; used, in part, where
#: the known faces are too few to measure it (see ``within_variance_``).
PRIOR_WITHIN_VARIANCE = 0.10
#: Weight of that prior, in photos' worth of spread measured in ``fit``.
PRIOR_WEIGHT = 4


def within_person_variance(X, y_index, n_classes):
    """Spread of each person's photos around their mean, pooled over the known people.

    The sum over features of the within-class variances, with one degree of
    freedom per class spent on its mean, shrunk towards
    :data:`PRIOR_WITHIN_VARIANCE` with the weight of :data:`PRIOR_WEIGHT`
    photos (all prior when every class has one photo).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 0.0], [0.6, 0.0], [5.0, 0.0], [5.0, 0.6]])
    >>> round(within_person_variance(X, np.array([0, 0, 1, 1]), 2), 4)
    0.1267
    """
    counts = np.bincount(y_index, minlength=n_classes)
    means = np.zeros((n_classes, X.shape[1]))
    np.add.at(means, y_index, X)
    means /= counts[:, None]
    squares = float(((X - means[y_index]) ** 2).sum())
    dof = len(X) - n_classes
    return (squares + PRIOR_WEIGHT * PRIOR_WITHIN_VARIANCE) / (dof + PRIOR_WEIGHT)


class NearestFaceClassifier(ClassifierMixin, BaseEstimator):
    """Name the nearest known person, or answer "unknown" when every known person is far.

    Meant for face embeddings (:class:`FaceEmbedding`): each photo is
    compared with every known person, and takes the name of the nearest one,
    unless that one is farther than ``distance_threshold``: then the photo is
    of someone the model does not know, and ``predict`` returns
    ``unknown_label``.

    By default (``reference="mean"``) a person is their mean embedding, and
    the distance to it is corrected for how many photos were averaged: a
    mean of few photos lies farther from a new photo of the same person
    than a mean of many, by the spread of one person's photos, which ``fit``
    measures on the known faces themselves (``within_variance_``). The
    distance is ``sqrt(d**2 - within_variance_ / n_photos)``: the distance to
    the person's true mean, whatever the number of photos, so that one
    threshold holds for any set of people and any gallery. The default, 0.48,
    was chosen on LFW-19 (10 known people, 9 never seen); on 131 other LFW
    people it names 98.4 % of the known photos and rejects 98.8 % of the
    strangers (7 known people and 8 strangers, 100 draws, half of each known
    person's photos to fit on; see the user guide's page "Your own
    photos"). ``reference="nearest"`` compares with every known photo and
    takes the nearest: at the same 0.48 it names fewer of the known (94.9 %,
    and 83.3 % from 2 photos per person), and its best threshold moves with
    the number of photos per person.

    dlib suggests 0.6 to decide whether two photos show the same person; to
    tell whether a photo shows one of several known people, a stricter
    threshold is needed: 0.6 lets most strangers through as someone known.

    Photos labelled ``unknown_label`` in ``fit`` are not a class: they are
    left out of the known faces, so that a cross-validation (e.g. a
    ``GridSearchCV`` over ``distance_threshold`` with
    :func:`open_set_scorer`) can score how well strangers are rejected.

    Parameters
    ----------
    distance_threshold : float or None, default=0.48
        Largest distance at which the nearest known person still names the
        photo; None never answers "unknown".
    reference : {"mean", "nearest"}, default="mean"
        What a photo is compared with: each known person's mean embedding,
        with the distance corrected for the photos averaged (see above), or
        each known photo (the person of the nearest photo names it).
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
    means_ : ndarray of shape (n_classes, n_features)
        Each known person's mean embedding.
    class_counts_ : ndarray of shape (n_classes,)
        Photos of each known person.
    within_variance_ : float
        Spread of one person's photos around their mean (sum of the
        per-feature variances), measured on the known faces, shrunk towards
        :data:`PRIOR_WITHIN_VARIANCE` by a weight of :data:`PRIOR_WEIGHT`
        photos (see :func:`within_person_variance`).

    Examples
    --------
    >>> import numpy as np
    >>> from facenet_sk.faces import NearestFaceClassifier
    >>> X = np.array([[0.0, 0.0], [0.3, 0.0], [2.0, 0.0], [2.3, 0.0]])
    >>> model = NearestFaceClassifier().fit(X, ["ann", "ann", "bob", "bob"])
    >>> model.predict([[0.2, 0.1], [2.1, 0.0], [1.0, 3.0]]).tolist()
    ['ann', 'bob', 'unknown']

    On photos, after the embedding:

    >>> from sklearn.pipeline import make_pipeline
    >>> from facenet_sk.faces import FaceEmbedding
    >>> model = make_pipeline(FaceEmbedding(framing="dlib"), NearestFaceClassifier())
    >>> model.fit(chips_known, names).predict(chips_new)  # doctest: +SKIP
    array(['ann', 'unknown', 'bob'], dtype='<U7')
    """

    _parameter_constraints = {
        "distance_threshold": [Interval(Real, 0, None, closed="left"), None],
        "reference": [StrOptions({"mean", "nearest"})],
        "unknown_label": [Real, str],
    }

    def __init__(
        self,
        distance_threshold=DEFAULT_DISTANCE_THRESHOLD,
        *,
        reference="mean",
        unknown_label="auto",
    ):
        self.distance_threshold = distance_threshold
        self.reference = reference
        self.unknown_label = unknown_label

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Keep the known faces, their people's means and the spread around them.

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
            raise ValueError(
                f"every sample of y is labelled unknown_label="
                f"{self.unknown_label_!r}: at least one known class is needed"
            )
        self.classes_, y_index = np.unique(y[known], return_inverse=True)
        n_classes = len(self.classes_)
        # Known faces grouped by class, so that one reduceat per chunk of
        # distances gives each class's nearest face.
        order = np.argsort(y_index, kind="stable")
        self.known_faces_ = X[known][order]
        self.class_starts_ = np.searchsorted(y_index[order], np.arange(n_classes))
        self.n_known_ = int(known.sum())
        self.class_counts_ = np.bincount(y_index, minlength=n_classes)
        self.means_ = np.zeros((n_classes, X.shape[1]))
        np.add.at(self.means_, y_index, X[known])
        self.means_ /= self.class_counts_[:, None]
        self.within_variance_ = within_person_variance(
            X[known].astype(np.float64), y_index, n_classes
        )
        return self

    def class_distances(self, X):
        """Distance from each sample to each known person.

        With ``reference="mean"``, to the person's mean embedding, corrected
        for the photos averaged: ``sqrt(max(d**2 - within_variance_ /
        class_counts_, 0))``; with ``"nearest"``, to the person's nearest
        photo.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=(np.float64, np.float32))
        if self.reference == "mean":
            squared = pairwise_distances(X, self.means_, metric="sqeuclidean")
            # A mean of n photos lies farther from a new photo of the same
            # person than the true mean does, by the spread over n.
            squared -= self.within_variance_ / self.class_counts_
            return np.sqrt(np.maximum(squared, 0.0))

        def per_class(chunk, start):
            return np.minimum.reduceat(chunk, self.class_starts_, axis=1)

        return np.vstack(
            list(
                pairwise_distances_chunked(
                    X, self.known_faces_, reduce_func=per_class, metric="euclidean"
                )
            )
        )

    def decision_function(self, X):
        """How much nearer than the threshold each known person is.

        Positive for a class whose distance (see :meth:`class_distances`) is within
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
        """The nearest known person, or ``unknown_label_`` when they are too far.

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
