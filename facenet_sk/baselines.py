"""Classic baselines to compare the networks with."""

import numpy as np
from scipy.stats import loguniform
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import BaseCrossValidator, RandomizedSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from ._names import BASELINE_NAMES, FACE_BASELINE_NAMES


def logistic_regression_baseline(*, C=1.0, max_iter=1000, random_state=0):
    """Logistic regression on standardized pixels.

    Parameters
    ----------
    C : float, default=1.0
        Inverse regularization strength.
    max_iter : int, default=1000
        Iterations of the solver.
    random_state : int, default=0
        Seed of the solver.

    Returns
    -------
    sklearn.pipeline.Pipeline

    Examples
    --------
    >>> from facenet_sk.baselines import logistic_regression_baseline
    >>> logistic_regression_baseline().steps[-1][0]
    'logreg'
    """
    return Pipeline(
        [
            ("scale", StandardScaler()),
            ("logreg", LogisticRegression(C=C, max_iter=max_iter, random_state=random_state)),
        ]
    )


class _AtMostSamplesPCA(PCA):
    """PCA that keeps at most ``n_samples - 1`` components when fitted on few samples.

    A PCA asked for more components than the training set has samples fails
    (and a whitened component beyond the rank of the centred data divides by
    zero). This one fits ``min(n_components, n_samples - 1, n_features)``
    components instead; ``n_components_`` says how many. Its parameters are
    PCA's and are never changed by fitting.
    """

    def _capped(self, X):
        n_samples, n_features = np.shape(X)
        cap = min(n_samples - 1, n_features)
        if isinstance(self.n_components, (int, np.integer)) and self.n_components > cap >= 1:
            return PCA(**{**self.get_params(), "n_components": cap})
        return None

    def fit(self, X, y=None):
        self.fit_transform(X, y)
        return self

    def fit_transform(self, X, y=None):
        capped = self._capped(X)
        if capped is None:
            return super().fit_transform(X, y)
        Xt = capped.fit_transform(X, y)
        # Take on the fitted state (names ending in "_"), not the parameters.
        self.__dict__.update({k: v for k, v in vars(capped).items() if k.endswith("_")})
        return Xt


class _FoldsUpToRarestPerson(BaseCrossValidator):
    """Stratified k-fold with at most as many folds as the rarest person has photos.

    ``n_splits`` folds (scikit-learn's default 5, unshuffled) when every person
    has that many photos; otherwise as many folds as the rarest person has
    photos, at least 2. With a single photo for every person, no fold can
    hold a person on both sides: the one "split" trains and scores on all
    the photos, so a search keeps the candidate that fits them best (the
    first when they tie).
    """

    def __init__(self, n_splits=5):
        self.n_splits = n_splits

    def _n_folds(self, y):
        counts = np.unique(y, return_counts=True)[1]
        return 1 if counts.max() < 2 else max(2, min(self.n_splits, int(counts.min())))

    def get_n_splits(self, X=None, y=None, groups=None):
        return self.n_splits if y is None else self._n_folds(y)

    def split(self, X, y, groups=None):
        k = self._n_folds(y)
        if k == 1:
            everything = np.arange(len(y))
            yield everything, everything
            return
        yield from StratifiedKFold(k).split(X, y)


def eigenfaces_baseline(*, n_components=150, n_iter=10, random_state=0):
    """scikit-learn's face-recognition example: PCA "eigenfaces" and an RBF SVM.

    Standardize, project on ``n_components`` whitened principal components,
    then an RBF SVC with balanced class weights whose ``C`` and ``gamma``
    are tuned by a randomized search with 5-fold stratified cross-validation,
    as in the example.

    It also fits on a few photos per person: the PCA keeps at most
    ``n_samples - 1`` components (``["pca"].n_components_`` says how many),
    and the search uses as many folds as the rarest person has photos when
    that is fewer than 5 (at least 2). With one photo per person no
    candidate can be cross-validated: the search scores them on the
    training photos and keeps the best there (the first when they tie).

    Parameters
    ----------
    n_components : int, default=150
        Principal components kept (at most the number of training samples
        minus one).
    n_iter : int, default=10
        Candidates of the randomized search over ``C`` and ``gamma``.
    random_state : int, default=0
        Seed of PCA and of the search.

    Returns
    -------
    sklearn.pipeline.Pipeline

    Examples
    --------
    >>> from facenet_sk.baselines import eigenfaces_baseline
    >>> eigenfaces_baseline(n_components=50)["pca"].n_components
    50
    """
    search = RandomizedSearchCV(
        SVC(kernel="rbf", class_weight="balanced"),
        {"C": loguniform(1e3, 1e5), "gamma": loguniform(1e-4, 1e-1)},
        n_iter=n_iter,
        cv=_FoldsUpToRarestPerson(5),
        random_state=random_state,
    )
    return Pipeline(
        [
            ("scale", StandardScaler()),
            (
                "pca",
                _AtMostSamplesPCA(
                    n_components=n_components,
                    whiten=True,
                    svd_solver="randomized",
                    random_state=random_state,
                ),
            ),
            ("svc", search),
        ]
    )


def face_embedding_baseline(
    *, C=10.0, max_iter=5000, framing="course", n_jobs=None, memory=None, random_state=0
):
    """dlib's pretrained 128-d face embedding and a logistic regression on top.

    The images go in raw (0..255): no scaler before the embedding. The
    embeddings are not standardized either: dlib's ResNet was trained so that
    Euclidean distances compare faces, and on LFW-19 a plain logistic
    regression on them with ``C=10`` did as well as or better than with a
    StandardScaler or a linear SVM (0.994 test accuracy from 48x48 crops, 0.973
    from one training photo per person, 0.991 from five).

    Needs ``pip install "facenet_sk[faces]"``.

    Parameters
    ----------
    C : float, default=10.0
        Inverse regularization strength of the logistic regression.
    max_iter : int, default=5000
        Iterations of the solver.
    framing : {"course", "dlib"}, default="course"
        How the images frame the face (see
        :class:`facenet_sk.faces.FaceEmbedding`): ``"course"`` for the
        course's crops and ``data`` of the loaders, ``"dlib"`` for the
        150x150 ``chips`` of ``load_face_folder(detect=True)``, cut from the
        photos at the resolution the network was trained on.
    n_jobs : int, default=None
        Processes that compute the embeddings.
    memory : None, str or joblib.Memory, default=None
        Where the embedding of each image is kept (see
        :class:`facenet_sk.faces.FaceEmbedding`).
    random_state : int, default=0
        Seed of the solver.

    Returns
    -------
    sklearn.pipeline.Pipeline
        Steps ``embed`` (:class:`~facenet_sk.faces.FaceEmbedding`) and ``logreg``.

    Examples
    --------
    >>> from facenet_sk.baselines import face_embedding_baseline
    >>> [name for name, _ in face_embedding_baseline().steps]
    ['embed', 'logreg']
    """
    from .faces import FaceEmbedding

    return Pipeline(
        [
            ("embed", FaceEmbedding(framing=framing, n_jobs=n_jobs, memory=memory)),
            ("logreg", LogisticRegression(C=C, max_iter=max_iter, random_state=random_state)),
        ]
    )


def face_embedding_fcnet_baseline(
    *,
    hidden_layer_sizes=(128,),
    dropout=0.3,
    max_epochs=50,
    batch_size=64,
    framing="course",
    n_jobs=None,
    memory=None,
    random_state=0,
    **net_params,
):
    """Transfer learning: a facenet_sk network trained on the pretrained 128-d embeddings.

    The exercise's fully connected network (:class:`~facenet_sk.FCNetClassifier`)
    learns on top of dlib's frozen face embedding, standardized.

    Needs ``pip install "facenet_sk[faces]"``.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(128,)
        Hidden layers of the network.
    dropout : float, default=0.3
        Dropout after each hidden layer.
    max_epochs : int, default=50
        Training epochs (an epoch over 128 features is fast).
    batch_size : int, default=64
        Mini-batch size.
    framing : {"course", "dlib"}, default="course"
        How the images frame the face: ``"dlib"`` for the ``chips`` of
        ``load_face_folder(detect=True)`` (see :func:`face_embedding_baseline`).
    n_jobs : int, default=None
        Processes that compute the embeddings.
    memory : None, str or joblib.Memory, default=None
        Where the embedding of each image is kept.
    random_state : int, default=0
        Seed of the network.
    **net_params
        Other parameters of :class:`~facenet_sk.FCNetClassifier` (``lr``,
        ``verbose``, ``callbacks``...).

    Returns
    -------
    sklearn.pipeline.Pipeline
        Steps ``embed``, ``scale`` and ``net``.

    Examples
    --------
    >>> from facenet_sk.baselines import face_embedding_fcnet_baseline
    >>> face_embedding_fcnet_baseline()["net"].hidden_layer_sizes
    (128,)
    """
    from .estimators import FCNetClassifier
    from .faces import FaceEmbedding

    # The StandardScaler standardizes the embeddings; the network takes them as they are.
    net_params.setdefault("input_scaling", None)
    return Pipeline(
        [
            ("embed", FaceEmbedding(framing=framing, n_jobs=n_jobs, memory=memory)),
            ("scale", StandardScaler()),
            (
                "net",
                FCNetClassifier(
                    hidden_layer_sizes=hidden_layer_sizes,
                    dropout=dropout,
                    max_epochs=max_epochs,
                    batch_size=batch_size,
                    random_state=random_state,
                    **net_params,
                ),
            ),
        ]
    )


#: Below this many training photos per person (the median person), the
#: models trained on pixels trail the face rows far behind (docs/results.rst).
FEW_PHOTOS_PER_PERSON = 30


def few_photos_hint(y_train, model_names):
    """A one-line hint for the face rows when there are few photos per person, or None.

    None when a face row is among ``model_names`` or when the median person
    has at least :data:`FEW_PHOTOS_PER_PERSON` training photos.

    Examples
    --------
    >>> from facenet_sk.baselines import few_photos_hint
    >>> few_photos_hint([0] * 8 + [1] * 8, ["cnn"])[:43]
    'hint: 8 training photos per person (median)'
    >>> few_photos_hint([0] * 8 + [1] * 8, ["cnn", "face_embedding"]) is None
    True
    """
    import numpy as np

    if any(name in FACE_BASELINE_NAMES for name in model_names):
        return None
    _, counts = np.unique(np.asarray(y_train), return_counts=True)
    median = int(np.median(counts))
    if median >= FEW_PHOTOS_PER_PERSON:
        return None
    return (
        f"hint: {median} training photos per person (median): on LFW-19 with 20 per person "
        "the fully connected networks reach 0.48-0.62 test accuracy, the eigenfaces "
        "SVM 0.77, the pretrained face embedding 0.992 (docs/results.rst, "
        "'Few photos per person'); add --baselines "
        "(with facenet_sk[faces] installed) or --models ...,face_embedding"
    )


def available_baselines():
    """The baselines this installation can run: the classic two, plus the face rows.

    The face-embedding rows are included when ``facenet_sk[faces]`` (dlib and
    its model files) is installed.

    Examples
    --------
    >>> from facenet_sk.baselines import available_baselines
    >>> available_baselines()[:2]
    ('logistic_regression', 'eigenfaces_svm')
    """
    from .faces import faces_available

    return BASELINE_NAMES + (FACE_BASELINE_NAMES if faces_available() else ())


def make_baseline(name, **params):
    """Return the baseline called ``name`` (one of :data:`BASELINE_NAMES`).

    Examples
    --------
    >>> from facenet_sk.baselines import make_baseline
    >>> type(make_baseline("logistic_regression")).__name__
    'Pipeline'
    """
    builders = {
        "logistic_regression": logistic_regression_baseline,
        "eigenfaces_svm": eigenfaces_baseline,
        "face_embedding": face_embedding_baseline,
        "face_embedding_fcnet": face_embedding_fcnet_baseline,
    }
    if name not in builders:
        raise ValueError(
            f"unknown baseline {name!r}; choose one of {BASELINE_NAMES + FACE_BASELINE_NAMES}"
        )
    return builders[name](**params)
