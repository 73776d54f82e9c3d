"""NearestFaceClassifier and the open-set score: naming known people, rejecting strangers."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from facenet_sk.faces import NearestFaceClassifier, open_set_score, open_set_scorer

# Two known people around (0, 0) and (1, 0); a stranger at (0, 5).
X = np.array([[0.0, 0.0], [0.1, 0.0], [1.0, 0.0], [1.1, 0.0]])
y = np.array(["ann", "ann", "bob", "bob"])


def test_predict_names_the_nearest_or_says_unknown():
    model = NearestFaceClassifier(distance_threshold=0.5).fit(X, y)
    assert model.unknown_label_ == "unknown" and list(model.classes_) == ["ann", "bob"]
    assert model.predict([[0.05, 0.1], [0.95, 0.0], [0.0, 5.0]]).tolist() == [
        "ann",
        "bob",
        "unknown",
    ]
    never = NearestFaceClassifier(distance_threshold=None).fit(X, y)
    assert never.predict([[0.0, 5.0]]).tolist() == ["ann"]


def test_numeric_labels_use_minus_one_and_unknown_samples_are_no_class():
    labels = np.array([3, 3, 7, 7, -1])
    model = NearestFaceClassifier(distance_threshold=0.5).fit(np.vstack([X, [[5, 5]]]), labels)
    assert model.unknown_label_ == -1 and model.classes_.tolist() == [3, 7]
    assert model.n_known_ == 4
    # The "unknown" training photo is not a known face: a photo next to it is rejected.
    assert model.predict([[5.0, 5.0]]).tolist() == [-1]
    custom = NearestFaceClassifier(unknown_label="stranger").fit(X, y)
    assert custom.predict([[9.0, 9.0]]).tolist() == ["stranger"]


@pytest.mark.parametrize("reference", ["mean", "nearest"])
def test_decision_function_agrees_with_predict(reference):
    three = np.vstack([X, [[0.0, 2.0], [0.1, 2.0]]])
    labels = np.array([0, 0, 1, 1, 2, 2])
    model = NearestFaceClassifier(distance_threshold=0.5, reference=reference).fit(three, labels)
    queries = np.array([[0.0, 0.1], [1.0, 0.3], [0.0, 1.9], [3.0, 3.0]])
    scores = model.decision_function(queries)
    assert scores.shape == (4, 3)
    expected = np.where(scores.max(axis=1) > 0, model.classes_[scores.argmax(axis=1)], -1)
    assert model.predict(queries).tolist() == expected.tolist() == [0, 1, 2, -1]
    if reference == "nearest":
        np.testing.assert_allclose(scores[0], 0.5 - np.array([0.1, np.hypot(1, 0.1), 1.9]))
    else:
        squared = ((queries[0] - model.means_) ** 2).sum(axis=1) - model.within_variance_ / 2
        np.testing.assert_allclose(scores[0], 0.5 - np.sqrt(np.maximum(squared, 0)))
    binary = NearestFaceClassifier().fit(X, y).decision_function([[0.9, 0.0]])
    assert binary.shape == (1,) and binary[0] > 0  # nearer to the second class, bob


def test_open_set_score_counts_both_errors():
    truth = [0, 1, -1, -1]
    assert open_set_score(truth, [0, 1, -1, -1]) == 1.0
    assert open_set_score(truth, [0, 0, -1, -1]) == 0.75  # a known person named wrongly
    assert open_set_score(truth, [0, 1, 1, -1]) == 0.75  # a stranger let through
    assert open_set_score([0, 1], [0, -1]) == 0.5  # known photos only
    with pytest.raises(ValueError, match="same length"):
        open_set_score([0, 1], [0])
    with pytest.raises(ValueError, match="empty"):
        open_set_score([], [])


def test_grid_search_tunes_the_threshold_with_unknown_samples_in_the_folds():
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0], [3, 0], [0, 3], [3, 3], [9, 9]], dtype=float)
    labels = np.repeat([0, 1, 2, 3, -1], 20)
    points = centres[np.repeat(np.arange(5), 20)] + rng.normal(0, 0.2, (100, 2))
    points[labels == -1] = rng.uniform(-6, 12, (20, 2)) + [0, 20]  # strangers, anywhere far
    search = GridSearchCV(
        NearestFaceClassifier(),
        {"distance_threshold": [0.01, 1.5, 30.0]},
        scoring=open_set_scorer,
        cv=StratifiedKFold(4, shuffle=True, random_state=0),
    )
    search.fit(points, labels)
    # Too strict rejects everyone, too loose accepts every stranger.
    assert search.best_params_ == {"distance_threshold": 1.5}
    assert search.best_score_ == 1.0


def test_open_set_scorer_needs_an_unknown_label():
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression().fit(X, y)
    with pytest.raises(ValueError, match="unknown_label_"):
        open_set_scorer(model, X, y)


def test_bad_input_and_parameters():
    with pytest.raises(ValueError, match="at least one known class"):
        NearestFaceClassifier().fit(X, [-1, -1, -1, -1])
    with pytest.raises(ValueError, match="distance_threshold"):
        NearestFaceClassifier(distance_threshold=-1).fit(X, y)
    with pytest.raises(ValueError, match="reference"):
        NearestFaceClassifier(reference="centroid").fit(X, y)
    with pytest.raises(ValueError, match="NaN"):
        NearestFaceClassifier().fit(np.full((2, 2), np.nan), [0, 1])
    model = NearestFaceClassifier().fit(X, y)
    with pytest.raises(ValueError, match="2 features"):
        model.predict(np.zeros((1, 3)))


def test_clone_and_pickle():
    model = NearestFaceClassifier(distance_threshold=0.3).fit(X, y)
    assert clone(model).get_params() == {
        "distance_threshold": 0.3,
        "reference": "mean",
        "unknown_label": "auto",
    }
    restored = pickle.loads(pickle.dumps(model))
    assert restored.predict(X).tolist() == model.predict(X).tolist()


# ---------------------------------------------- the spread, measured in fit
def _people(rng, n_people, n_photos, spread, dim=128, separation=1.0):
    """Synthetic embeddings: people's means far apart, photos spread around them."""
    means = rng.normal(0, separation / np.sqrt(2 * dim), (n_people, dim))
    labels = np.repeat(np.arange(n_people), n_photos)
    photos = means[labels] + rng.normal(0, np.sqrt(spread / dim), (len(labels), dim))
    return photos, labels, means


def test_fit_measures_the_spread_of_each_persons_photos():
    from facenet_sk.faces._nearest import PRIOR_WEIGHT, PRIOR_WITHIN_VARIANCE

    rng = np.random.default_rng(0)
    photos, labels, _ = _people(rng, 10, 30, spread=0.25)
    model = NearestFaceClassifier().fit(photos, labels)
    # 290 degrees of freedom against the prior's 4: the measure wins.
    assert abs(model.within_variance_ - 0.25) < 0.02
    np.testing.assert_array_equal(model.class_counts_, np.full(10, 30))
    np.testing.assert_allclose(model.means_[3], photos[labels == 3].mean(axis=0))
    # One photo per person measures nothing: the prior stands.
    single = NearestFaceClassifier().fit(photos[::30], labels[::30])
    assert single.within_variance_ == pytest.approx(PRIOR_WITHIN_VARIANCE)
    # Photos labelled unknown are not known faces and do not count.
    marked = np.where(labels < 2, labels, -1)
    two = NearestFaceClassifier().fit(photos, marked)
    assert two.n_known_ == 60 and two.classes_.tolist() == [0, 1]
    expected = (
        sum(((photos[labels == k] - photos[labels == k].mean(0)) ** 2).sum() for k in (0, 1))
        + PRIOR_WEIGHT * PRIOR_WITHIN_VARIANCE
    ) / (58 + PRIOR_WEIGHT)
    assert two.within_variance_ == pytest.approx(expected)


def test_one_threshold_holds_for_few_and_many_photos_per_person():
    """The corrected distance to a mean of 2 photos is that to a mean of 20."""
    rng = np.random.default_rng(1)
    photos, labels, _ = _people(rng, 8, 40, spread=0.1, separation=1.2)
    test = np.arange(len(labels)) % 40 >= 20
    medians, raw = {}, {}
    for n in (2, 20):
        gallery = ~test & (np.arange(len(labels)) % 40 < n)
        model = NearestFaceClassifier().fit(photos[gallery], labels[gallery])
        own = model.class_distances(photos[test])[np.arange(test.sum()), labels[test]]
        medians[n] = np.median(own)
        raw[n] = np.median(np.linalg.norm(photos[test] - model.means_[labels[test]], axis=1))
    # The same person's photos lie as far from a mean of 2 as from a mean of
    # 20 once corrected; uncorrected, farther from the mean of 2.
    assert abs(medians[2] - medians[20]) < 0.02, medians
    assert raw[2] - raw[20] > 0.04, raw
    # ... and about the spread's square root: the distance to the true mean.
    assert abs(medians[20] - np.sqrt(0.1)) < 0.03, medians


def test_strangers_are_rejected_whatever_the_gallery_size():
    rng = np.random.default_rng(2)
    photos, labels, _ = _people(rng, 20, 12, spread=0.1, separation=1.4)
    known = labels < 8
    for n in (2, 3, 6):
        gallery = known & (np.arange(len(labels)) % 12 < n)
        test = known & (np.arange(len(labels)) % 12 >= 6)
        model = NearestFaceClassifier(distance_threshold=0.5).fit(photos[gallery], labels[gallery])
        named = (model.predict(photos[test]) == labels[test]).mean()
        rejected = (model.predict(photos[~known]) == -1).mean()
        assert named >= 0.95 and rejected >= 0.95, (n, named, rejected)


def test_on_real_faces_strangers_are_rejected(lfw_small_embeddings):
    """3 known LFW people, 3 never seen: the default threshold tells them apart."""
    faces, embeddings = lfw_small_embeddings.faces, lfw_small_embeddings.embeddings
    known = faces.target < 3
    train = known & (np.arange(len(known)) % 4 != 0)
    test_known = known & ~train
    model = NearestFaceClassifier().fit(embeddings[train], faces.target[train])
    named = (model.predict(embeddings[test_known]) == faces.target[test_known]).mean()
    rejected = (model.predict(embeddings[~known]) == -1).mean()
    assert named >= 0.8 and rejected >= 0.9, (named, rejected)
    loose = NearestFaceClassifier(distance_threshold=0.7).fit(
        embeddings[train], faces.target[train]
    )
    assert (loose.predict(embeddings[~known]) == -1).mean() < rejected
