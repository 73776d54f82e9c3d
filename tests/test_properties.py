"""Property-based tests of the classifiers' input handling (hypothesis).

For any small data set -- any number of samples and classes, images of any
size the CNN can pool or flat rows of any width, any real dtype of X, any
type of label -- a fit must give a model that honours scikit-learn's
classifier contract, and the representation of X and y must not change what
it learns. Bad shapes and non-finite values must be refused, whatever they
are.
"""

import functools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from facenet_sk import CNNClassifier, FCNetClassifier

# derandomize: the same examples on every run, so CI failures are reproducible;
# database=None: no .hypothesis folder written into the tree.
FITS = settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
CHECKS = settings(max_examples=40, deadline=None, derandomize=True, database=None)

X_DTYPES = (np.float64, np.float32, np.float16, np.int64, np.int32, np.int16, np.uint8)

# Label types, each an order-preserving map from class indices 0..k-1 (so that the
# sorted classes_ line up with the integer reference).
LABEL_TYPES = {
    "int64": lambda i: i.astype(np.int64),
    "int32-offset": lambda i: (i * 7 - 3).astype(np.int32),
    "uint8": lambda i: (i + 200).astype(np.uint8),
    "float": lambda i: i.astype(np.float64) + 1.0,
    "str": lambda i: np.array([f"person_{v:02d}" for v in i]),
    "object-str": lambda i: np.array([f"p{v}" for v in i], dtype=object),
    "object-int": lambda i: np.array([int(v) * 10 for v in i], dtype=object),
    "list-str": lambda i: [f"id-{v}" for v in i],
}


def make(kind, **params):
    defaults = dict(max_epochs=1, batch_size=8, random_state=0, n_threads=1)
    if kind == "cnn":
        return CNNClassifier(conv_filters=(2, 4), dense_units=4, **defaults, **params)
    return FCNetClassifier(hidden_layer_sizes=(4,), **defaults, **params)


@st.composite
def datasets(draw, kind=None):
    """(kind, X as float32 with integral values 0..255, class indices, image shape or None)."""
    kind = kind or draw(st.sampled_from(["fc", "cnn"]))
    n_classes = draw(st.integers(2, 4))
    n = draw(st.integers(n_classes, 14))
    as_images = kind == "cnn" or draw(st.booleans())
    if as_images:
        side = draw(st.integers(4, 7))  # the CNN pools twice: 4 pixels at least
        shape = (side, side, draw(st.sampled_from([1, 3])) if kind == "cnn" else 3)
    else:
        shape = (draw(st.integers(1, 20)),)
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    X = rng.integers(0, 256, size=(n, *shape)).astype(np.float32)
    # Every class appears at least once; the rest are drawn at random.
    classes = np.concatenate([np.arange(n_classes), rng.integers(0, n_classes, n - n_classes)])
    rng.shuffle(classes)
    return kind, X, classes, shape if as_images else None


@functools.cache
def reference_fit(kind, X_bytes, shape, y_bytes):
    """Fit on float32 X and int64 labels, cached: the examples shrink to repeats."""
    X = np.frombuffer(X_bytes, dtype=np.float32).reshape(shape)
    y = np.frombuffer(y_bytes, dtype=np.int64)
    return make(kind).fit(X, y)


# -------------------------------------------------------------- the contract
@FITS
@given(
    data=datasets(),
    x_dtype=st.sampled_from(X_DTYPES),
    label_type=st.sampled_from(sorted(LABEL_TYPES)),
)
def test_any_dtype_and_label_type_learn_the_same_model(data, x_dtype, label_type):
    kind, X, classes, image_shape = data
    reference = reference_fit(kind, X.tobytes(), X.shape, classes.astype(np.int64).tobytes())
    X_cast = X.astype(x_dtype)  # 0..255 is exact in every dtype above
    y = LABEL_TYPES[label_type](classes)
    model = make(kind).fit(X_cast, y)

    # scikit-learn's contract.
    y_array = np.asarray(y)
    assert list(model.classes_) == sorted(set(y_array.tolist()))
    assert model.n_features_in_ == int(np.prod(X.shape[1:]))
    if image_shape is not None:
        assert model.image_shape_ == image_shape
    proba = model.predict_proba(X_cast)
    assert proba.shape == (len(X), len(model.classes_)) and proba.dtype == np.float32
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    predicted = model.predict(X_cast)
    assert predicted.shape == (len(X),)
    assert set(predicted.tolist()) <= set(y_array.tolist())
    assert 0.0 <= model.score(X_cast, y) <= 1.0

    # The dtype of X and the type of the labels change nothing that is learned.
    np.testing.assert_array_equal(proba, reference.predict_proba(X))
    np.testing.assert_array_equal(predicted, model.classes_[reference.predict(X)])
    assert model.score(X_cast, y) == reference.score(X, classes)


@FITS
@given(data=datasets(kind="cnn"))
def test_images_and_their_flat_rows_are_the_same_input(data):
    kind, X, classes, image_shape = data
    model = reference_fit(kind, X.tobytes(), X.shape, classes.astype(np.int64).tobytes())
    flat = X.reshape(len(X), -1)
    np.testing.assert_array_equal(model.predict_proba(flat), model.predict_proba(X))
    # Any subset of rows gets the same answers as in the whole batch.
    np.testing.assert_allclose(
        model.predict_proba(X[-1:]), model.predict_proba(X)[-1:], rtol=1e-5, atol=1e-6
    )


# ------------------------------------------------------------ refusals
@functools.cache
def fitted_on(kind, side):
    rng = np.random.default_rng(side)
    X = rng.random((6, side, side, 3))
    return make(kind).fit(X, [0, 1, 2] * 2)


@CHECKS
@given(
    kind=st.sampled_from(["fc", "cnn"]),
    side=st.sampled_from([4, 6]),
    other=st.tuples(st.integers(1, 9), st.integers(1, 9), st.integers(1, 4)),
    n=st.integers(1, 3),
)
def test_images_of_another_shape_are_refused_naming_both(kind, side, other, n):
    model = fitted_on(kind, side)
    if other == (side, side, 3):
        other = (side + 1, side, 3)
    with pytest.raises(ValueError) as info:
        model.predict(np.zeros((n, *other)))
    message = str(info.value)
    assert str(other) in message and str((side, side, 3)) in message


@CHECKS
@given(
    kind=st.sampled_from(["fc", "cnn"]),
    side=st.sampled_from([4, 6]),
    width=st.integers(1, 200),
    n=st.integers(1, 3),
)
def test_rows_of_another_width_are_refused_naming_both(kind, side, width, n):
    model = fitted_on(kind, side)
    expected = side * side * 3
    if width == expected:
        width += 1
    with pytest.raises(
        ValueError, match=f"X has {width} features, but .* is expecting {expected} features"
    ):
        model.predict_proba(np.zeros((n, width)))


@CHECKS
@given(
    kind=st.sampled_from(["fc", "cnn"]),
    shape=st.lists(st.integers(1, 4), min_size=2, max_size=4),
    n=st.integers(1, 3),
)
def test_arrays_of_another_rank_are_refused_naming_both(kind, shape, n):
    model = fitted_on(kind, 4)
    if len(shape) == 3:  # a 4-D batch of images: covered above
        shape.append(2)
    bad = (n, *shape)
    with pytest.raises(
        ValueError,
        match=r"X has shape \(.*\), but \w+ takes rows of 48 "
        r"features or images of shape \(4, 4, 3\)",
    ) as info:
        model.predict(np.zeros(bad))
    assert str(bad) in str(info.value)


@CHECKS
@given(
    kind=st.sampled_from(["fc", "cnn"]),
    value=st.sampled_from([np.nan, np.inf, -np.inf]),
    row=st.integers(0, 5),
    column=st.integers(0, 47),
    x_dtype=st.sampled_from([np.float64, np.float32, np.float16]),
    at=st.sampled_from(["fit", "predict"]),
)
def test_non_finite_values_are_refused_anywhere(kind, value, row, column, x_dtype, at):
    X = np.random.default_rng(column).random((6, 48)).astype(x_dtype)
    X[row, column] = value
    fragment = "NaN" if np.isnan(value) else "infinity"
    with pytest.raises(ValueError, match=f"Input X contains {fragment}"):
        if at == "fit":
            make(kind).fit(X.reshape(6, 4, 4, 3), [0, 1, 2] * 2)
        else:
            fitted_on(kind, 4).predict(X)


@CHECKS
@given(
    n_classes=st.integers(2, 5),
    n_missing=st.integers(1, 3),
    label_type=st.sampled_from(["int64", "str", "object-str", "object-int"]),
)
def test_lengths_of_X_and_y_must_agree(n_classes, n_missing, label_type):
    X = np.zeros((12, 48))
    y = LABEL_TYPES[label_type](np.arange(12 - n_missing) % n_classes)
    with pytest.raises(
        ValueError,
        match=rf"inconsistent numbers of samples: \[12, "
        rf"{12 - n_missing}\]",
    ):
        make("fc").fit(X, y)


@CHECKS
@given(
    label_type=st.sampled_from(sorted(LABEL_TYPES)),
    n=st.integers(1, 12),
    kind=st.sampled_from(["fc", "cnn"]),
)
def test_a_single_class_is_refused_whatever_its_type(label_type, n, kind):
    y = LABEL_TYPES[label_type](np.full(n, 1))
    with pytest.raises(ValueError, match="needs samples of at least 2 classes"):
        make(kind).fit(np.zeros((n, 4, 4, 3)), y)
