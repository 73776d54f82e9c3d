"""Classic baselines to compare the networks with."""

from scipy.stats import loguniform
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import RandomizedSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

#: Names of the baselines, as the CLI and compare tables show them.
BASELINE_NAMES = ("logistic_regression", "eigenfaces_svm")


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
    return Pipeline([
        ("scale", StandardScaler()),
        ("logreg", LogisticRegression(C=C, max_iter=max_iter, random_state=random_state)),
    ])


def eigenfaces_baseline(*, n_components=150, n_iter=10, random_state=0):
    """scikit-learn's face-recognition example: PCA "eigenfaces" and an RBF SVM.

    Standardize, project on ``n_components`` whitened principal components,
    then an RBF SVC with balanced class weights whose ``C`` and ``gamma``
    are tuned by a randomized search, as in the example.

    Parameters
    ----------
    n_components : int, default=150
        Principal components kept (at most the number of training samples).
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
        random_state=random_state,
    )
    return Pipeline([
        ("scale", StandardScaler()),
        ("pca", PCA(n_components=n_components, whiten=True, svd_solver="randomized",
                    random_state=random_state)),
        ("svc", search),
    ])


def make_baseline(name, **params):
    """Return the baseline called ``name`` (one of :data:`BASELINE_NAMES`).

    Examples
    --------
    >>> from facenet_sk.baselines import make_baseline
    >>> type(make_baseline("logistic_regression")).__name__
    'Pipeline'
    """
    builders = {"logistic_regression": logistic_regression_baseline,
                "eigenfaces_svm": eigenfaces_baseline}
    if name not in builders:
        raise ValueError(f"unknown baseline {name!r}; choose one of {BASELINE_NAMES}")
    return builders[name](**params)
