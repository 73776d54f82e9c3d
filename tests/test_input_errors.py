"""What the classifiers do with bad input and bad hyper-parameters: a clear error.

Every case names the exact exception type and a fragment of its message, so
that a change that swallows the error, or turns it into an obscure one from
deep inside numpy or torch, fails here.
"""

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from facenet_sk import CNNClassifier, FCNetClassifier, make_model
from facenet_sk.datasets import make_synthetic_faces


def tiny_cnn(**params):
    return CNNClassifier(
        **{
            **dict(
                conv_filters=(4, 8),
                dense_units=8,
                max_epochs=1,
                batch_size=16,
                random_state=0,
                n_threads=1,
            ),
            **params,
        }
    )


def tiny_fc(**params):
    return FCNetClassifier(
        **{
            **dict(
                hidden_layer_sizes=(8,), max_epochs=1, batch_size=16, random_state=0, n_threads=1
            ),
            **params,
        }
    )


MAKERS = pytest.mark.parametrize("make", [tiny_fc, tiny_cnn], ids=["fc", "cnn"])


@pytest.fixture(scope="module")
def faces():
    # 30 images: the messages below name the sizes of these arrays.
    return make_synthetic_faces(n_people=3, n_per_person=10, image_size=16, random_state=0)


@pytest.fixture(scope="module")
def fitted(faces):
    """One fitted FC and one fitted CNN, on 16x16 images; tests must not refit them."""
    X = faces.images / 255.0
    return {"fc": tiny_fc().fit(X, faces.target), "cnn": tiny_cnn().fit(X, faces.target)}


# ------------------------------------------------------------------ shapes
@pytest.mark.parametrize("kind", ["fc", "cnn"])
def test_images_of_another_size_name_both_shapes(fitted, kind):
    name = type(fitted[kind]).__name__
    with pytest.raises(
        ValueError,
        match=(
            rf"X has images of shape \(32, 32, 3\), but {name} "
            r"was fitted on images of shape \(16, 16, 3\)"
        ),
    ):
        fitted[kind].predict(np.zeros((2, 32, 32, 3)))
    with pytest.raises(ValueError, match=r"shape \(16, 16, 1\).*\(16, 16, 3\)"):
        fitted[kind].predict_proba(np.zeros((2, 16, 16, 1)))


@pytest.mark.parametrize("kind", ["fc", "cnn"])
def test_flat_rows_of_another_width_name_both_widths(fitted, kind):
    with pytest.raises(ValueError, match=r"X has 100 features, but \w+ is expecting 768"):
        fitted[kind].predict(np.zeros((2, 100)))


@pytest.mark.parametrize("kind", ["fc", "cnn"])
@pytest.mark.parametrize("shape", [(2, 16, 48), (2, 1, 16, 16, 3)])
def test_arrays_of_other_rank_name_the_expected_input(fitted, kind, shape):
    shown = str(shape).replace("(", r"\(").replace(")", r"\)")
    with pytest.raises(
        ValueError,
        match=rf"X has shape {shown}, but \w+ takes rows of 768 "
        r"features or images of shape \(16, 16, 3\)",
    ):
        fitted[kind].predict(np.zeros(shape))


def test_cnn_rejects_flat_features_that_are_no_image():
    X = np.random.default_rng(0).random((6, 100))
    with pytest.raises(ValueError, match="CNNClassifier needs images: X has 100 features"):
        tiny_cnn().fit(X, [0, 1] * 3)
    # The FC network takes any width.
    assert tiny_fc().fit(X, [0, 1] * 3).n_features_in_ == 100


def test_cnn_rejects_images_too_small_for_two_poolings():
    with pytest.raises(ValueError, match=r"image_shape \(3, 3, 3\) is too small"):
        tiny_cnn().fit(np.zeros((6, 3, 3, 3)), [0, 1] * 3)


def test_image_shape_parameter_must_match_the_data(faces):
    with pytest.raises(
        ValueError,
        match=r"X has images of shape \(16, 16, 3\), but "
        r"image_shape=\(8, 8, 3\)",
    ):
        tiny_cnn(image_shape=(8, 8, 3)).fit(faces.images, faces.target)
    with pytest.raises(
        ValueError,
        match=r"image_shape=\(10, 10, 3\) needs 300 features, "
        r"but X has 768",
    ):
        tiny_cnn(image_shape=(10, 10, 3)).fit(faces.data, faces.target)


# ------------------------------------------------------------ bad values
@pytest.mark.parametrize(
    "value, fragment",
    [
        (np.nan, "Input X contains NaN"),
        (np.inf, "Input X contains infinity"),
        (-np.inf, "Input X contains infinity"),
    ],
)
@MAKERS
def test_non_finite_X_is_rejected_at_fit(faces, make, value, fragment):
    X = faces.images / 255.0
    X[3, 5, 7, 1] = value
    with pytest.raises(ValueError, match=fragment):
        make().fit(X, faces.target)


@pytest.mark.parametrize(
    "value, fragment", [(np.nan, "Input X contains NaN"), (np.inf, "Input X contains infinity")]
)
@pytest.mark.parametrize("kind", ["fc", "cnn"])
def test_non_finite_X_is_rejected_at_predict(faces, fitted, kind, value, fragment):
    X = faces.data / 255.0
    X[-1, -1] = value
    for method in (fitted[kind].predict, fitted[kind].predict_proba):
        with pytest.raises(ValueError, match=fragment):
            method(X)


def test_nan_label_is_rejected(faces):
    y = faces.target.astype(float)
    y[0] = np.nan
    with pytest.raises(ValueError, match="Input y contains NaN"):
        tiny_fc().fit(faces.data, y)


# ----------------------------------------------------------- bad sizes
@MAKERS
@pytest.mark.parametrize("as_images", [True, False], ids=["images", "flat"])
def test_empty_X_is_rejected(faces, make, as_images):
    X = (faces.images if as_images else faces.data)[:0]
    with pytest.raises(ValueError, match=r"Found array with 0 sample\(s\)"):
        make().fit(X, faces.target[:0])


@pytest.mark.parametrize("kind", ["fc", "cnn"])
def test_empty_X_is_rejected_at_predict(faces, fitted, kind):
    with pytest.raises(ValueError, match=r"Found array with 0 sample\(s\)"):
        fitted[kind].predict(faces.images[:0])


@MAKERS
def test_X_and_y_of_different_lengths(faces, make):
    with pytest.raises(ValueError, match=r"inconsistent numbers of samples: \[30, 29\]"):
        make().fit(faces.images, faces.target[:-1])


def test_validation_set_of_different_lengths(faces):
    X, y = faces.data / 255.0, faces.target
    with pytest.raises(ValueError, match="X_valid has 6 samples but y_valid has 5"):
        tiny_fc().fit(X[:24], y[:24], X_valid=X[24:], y_valid=y[24:-1])
    with pytest.raises(ValueError, match=r"y_valid has labels not seen in y: \[7\]"):
        tiny_fc().fit(X[:24], y[:24], X_valid=X[24:], y_valid=np.full(6, 7))


# --------------------------------------------------------------- labels
@MAKERS
@pytest.mark.parametrize("label", [0, "alice"])
def test_a_single_class_is_rejected(faces, make, label):
    with pytest.raises(ValueError, match="needs samples of at least 2 classes.*only one class"):
        make().fit(faces.images, np.full(len(faces.images), label, dtype=object))


@pytest.mark.parametrize(
    "y, fragment",
    [
        (np.linspace(0, 1, 30), "Unknown label type: continuous"),
        (np.eye(3)[np.arange(30) % 3], "y should be a 1d array"),
    ],
)
def test_regression_and_multilabel_targets_are_rejected(faces, y, fragment):
    with pytest.raises(ValueError, match=fragment):
        tiny_fc().fit(faces.data, y)


@pytest.mark.parametrize("kind", ["fc", "cnn"])
def test_unseen_labels_count_as_wrong_in_score(faces, fitted, kind):
    X, y = faces.images / 255.0, faces.target.copy()
    model = fitted[kind]
    y[::2] = 99  # never seen in fit: these can only be wrong
    predicted = model.predict(X)
    assert model.score(X, y) == pytest.approx(np.mean(predicted == y))
    assert model.score(X, np.full(len(y), 99)) == 0.0


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_unseen_string_labels_behave_like_logistic_regression(faces):
    X, names = faces.data / 255.0, faces.target_names[faces.target]
    ours = tiny_fc().fit(X, names)
    theirs = LogisticRegression(max_iter=50).fit(X, names)
    unseen = np.array(["nobody"] * len(names), dtype=object)
    assert ours.score(X, unseen) == theirs.score(X, unseen) == 0.0
    # Labels of another type than the fitted ones: scikit-learn's own error, for both.
    for model in (ours, theirs):
        with pytest.raises(ValueError, match="Mix of label input types"):
            model.score(X, np.zeros(len(names), dtype=int))


# --------------------------------------------------------------- dtypes
@MAKERS
def test_any_real_X_dtype_gives_the_same_model(faces, make):
    reference = make().fit(faces.images.astype(np.float32), faces.target)
    expected = reference.predict_proba(faces.images.astype(np.float32))
    for dtype in (np.float64, np.int32, np.uint8):
        X = faces.images.astype(dtype)  # values 0..255 are exact in every one of these
        model = make().fit(X, faces.target)
        np.testing.assert_array_equal(model.predict_proba(X), expected, err_msg=str(dtype))


@pytest.mark.parametrize(
    "convert",
    [
        lambda y: y.astype(np.int32),
        lambda y: y.astype(np.uint8),
        lambda y: np.array([f"person_{v}" for v in y]),
        lambda y: np.array([f"person_{v}" for v in y], dtype=object),
        lambda y: y.astype(object),  # a pandas object column of ints
        lambda y: y.tolist(),
    ],
    ids=["int32", "uint8", "str", "object-str", "object-int", "list"],
)
def test_label_types_round_trip(faces, convert):
    X = faces.data / 255.0
    reference = tiny_fc().fit(X, faces.target)
    y = convert(faces.target)
    model = tiny_fc().fit(X, y)
    expected = [np.asarray(y)[np.flatnonzero(faces.target == k)[0]] for k in range(3)]
    assert list(model.classes_) == list(expected)
    np.testing.assert_array_equal(model.predict_proba(X), reference.predict_proba(X))
    predicted = model.predict(X)
    assert set(predicted) <= set(np.asarray(y).tolist())
    np.testing.assert_array_equal(predicted, model.classes_[reference.predict(X)])
    assert model.score(X, y) == reference.score(X, faces.target)


def test_mixed_label_types_are_a_type_error(faces):
    y = np.array(["a", 1] * 15, dtype=object)
    with pytest.raises(TypeError, match="not supported between instances"):
        tiny_fc().fit(faces.data, y)


# --------------------------------------------------------------- fitted?
@MAKERS
def test_unfitted_model_raises_not_fitted(faces, make):
    model = make()
    for query in (model.predict, model.predict_proba, lambda X: model.score(X, faces.target)):
        with pytest.raises(NotFittedError, match="not fitted yet"):
            query(faces.images)
    with pytest.raises(NotFittedError):
        model.n_params_  # noqa: B018 - the weights' summary needs a fitted model
    pipe = make_pipeline(StandardScaler(), make())
    with pytest.raises(NotFittedError):
        pipe.predict(faces.data)


@pytest.mark.parametrize(
    "make, params, X_of",
    [
        (tiny_cnn, {"conv_filters": (0, 8)}, lambda f: f.images),
        (tiny_fc, {"hidden_layer_sizes": (-1,)}, lambda f: f.images),
        (tiny_fc, {"augment": True}, lambda f: f.data[:, :100]),
    ],
    ids=["conv_filters", "hidden_layer_sizes", "augment-without-images"],
)
def test_a_failed_fit_leaves_the_model_unfitted(faces, make, params, X_of):
    model = make(**params)
    with pytest.raises(ValueError):
        model.fit(X_of(faces), faces.target)
    with pytest.raises(NotFittedError):
        model.predict(X_of(faces))


def test_a_bad_hyper_parameter_leaves_the_fitted_model_as_it_was(faces):
    X = faces.images / 255.0
    model = tiny_cnn().fit(X, faces.target)
    before = model.predict_proba(X)
    four = np.arange(len(X)) % 4
    # Checked before any data work (scikit-learn's rule): nothing changes.
    with pytest.raises(ValueError, match="dense_units"):
        model.set_params(dense_units=0).fit(X, four)
    np.testing.assert_array_equal(model.predict_proba(X), before)
    assert model.classes_.tolist() == [0, 1, 2]


def test_a_failed_refit_does_not_keep_the_old_network(faces):
    model = tiny_cnn().fit(faces.images / 255.0, faces.target)
    # New classes, and a network that cannot be built for these images.
    with pytest.raises(ValueError, match="too small"):
        model.fit(np.zeros((8, 3, 3, 3)), np.arange(8) % 4)
    # Not the old 3-class network answering with the new 4 classes_.
    with pytest.raises(NotFittedError):
        model.predict(faces.images)


# ------------------------------------------------------- hyper-parameters
def _msg(name, allowed, got=None):
    """The start of scikit-learn's message for a parameter out of its range."""
    text = rf"The '{name}' parameter of \w+ must be {allowed}"
    return text + (rf"\. Got {got} instead" if got is not None else "")


@pytest.mark.parametrize(
    "make, params, message",
    [
        (tiny_fc, {"dropout": 1.5}, _msg("dropout", r"a float in the range \[0.0, 1.0\)", "1.5")),
        (
            tiny_cnn,
            {"dropout": -0.1},
            _msg("dropout", r"a float in the range \[0.0, 1.0\)", "-0.1"),
        ),
        (
            tiny_cnn,
            {"batchnorm_momentum": 0},
            _msg("batchnorm_momentum", r"a float in the range \(0.0, 1.0\]", "0"),
        ),
        (
            tiny_fc,
            {"batchnorm_momentum": 1.5},
            _msg("batchnorm_momentum", r"a float in the range \(0.0, 1.0\]"),
        ),
        (
            tiny_cnn,
            {"weight_init": "glorot_uniform"},
            # A set: its order is the hash seed's.
            _msg("weight_init", r"a str among \{.*'torch'.*\}", "'glorot_uniform'"),
        ),
        (tiny_cnn, {"max_epochs": 0}, _msg("max_epochs", r"an int in the range \[1, inf\)", "0")),
        (
            tiny_fc,
            {"max_epochs": 2.5},
            _msg("max_epochs", r"an int in the range \[1, inf\)", "2.5"),
        ),
        (tiny_fc, {"batch_size": 0}, _msg("batch_size", r"an int in the range \[1, inf\)", "0")),
        (
            tiny_fc,
            {"batch_size": True},
            _msg("batch_size", r"an int in the range \[1, inf\)", "True"),
        ),
        (tiny_fc, {"lr": 0}, _msg("lr", r"a float in the range \(0.0, inf\)", "0")),
        (tiny_fc, {"lr": float("inf")}, _msg("lr", r"a float in the range \(0.0, inf\)", "inf")),
        (tiny_fc, {"lr": float("nan")}, _msg("lr", r"a float in the range \(0.0, inf\)", "nan")),
        (
            tiny_fc,
            {"weight_decay": -1.0},
            _msg("weight_decay", r"a float in the range \[0.0, inf\)"),
        ),
        (
            tiny_fc,
            {"validation_fraction": 1.0},
            _msg("validation_fraction", r"a float in the range \(0.0, 1.0\)"),
        ),
        (tiny_fc, {"n_iter_no_change": 0}, _msg("n_iter_no_change", r"an int in the range")),
        (
            tiny_fc,
            {"n_threads": 0},
            _msg("n_threads", r"an int in the range \[1, inf\) or None", "0"),
        ),
        (tiny_fc, {"verbose": -1}, _msg("verbose", r"an int in the range \[0, inf\)")),
        (
            tiny_fc,
            {"optimizer": "lbfgs"},
            _msg(
                "optimizer",
                r"a str among .*'adam'.* or a "
                r"torch.optim.Optimizer class",
            ),
        ),
        (tiny_fc, {"optimizer": "Adam"}, _msg("optimizer", r"a str among")),
        (
            tiny_fc,
            {"optimizer_params": [("momentum", 0.9)]},
            _msg("optimizer_params", "an instance of 'dict' or None"),
        ),
        (tiny_fc, {"class_weight": "auto"}, _msg("class_weight", r"a str among \{'balanced'\}")),
        (tiny_fc, {"device": "tpu"}, _msg("device", r"a str among .* or 'cuda' or 'cuda:N'")),
        (tiny_fc, {"early_stopping": "no"}, _msg("early_stopping", "an instance of 'bool'")),
        (tiny_cnn, {"augment": "yes"}, _msg("augment", "an instance of 'bool'")),
        (tiny_cnn, {"batchnorm": 1}, _msg("batchnorm", "an instance of 'bool'.*", "1")),
        (
            tiny_cnn,
            {"input_scaling": "pixel"},
            _msg(
                "input_scaling",
                r"a str among \{'channel'\} "
                "or None",
            ),
        ),
        (
            tiny_cnn,
            {"conv_filters": ()},
            _msg(
                "conv_filters",
                "a sequence of one or more integers "
                r">= 1 .*",
                r"\(\)",
            ),
        ),
        (tiny_cnn, {"conv_filters": (4, 8.0)}, _msg("conv_filters", "a sequence")),
        (tiny_cnn, {"dense_units": 0}, _msg("dense_units", r"an int in the range \[1, inf\)", "0")),
        (
            tiny_fc,
            {"hidden_layer_sizes": (8, 0)},
            _msg("hidden_layer_sizes", "a sequence of integers >= 1"),
        ),
        (
            tiny_fc,
            {"hidden_layer_sizes": np.array([[8]])},
            _msg("hidden_layer_sizes", "a sequence of integers"),
        ),
        (tiny_fc, {"image_shape": (16, 16)}, _msg("image_shape", "a sequence of 3 integers")),
        (
            tiny_fc,
            {"optimizer__lr": 0.1},
            "optimizer__lr cannot be set through optimizer_params: set lr= instead",
        ),
        (
            tiny_fc,
            {"criterion__weight": [1, 2, 3]},
            "criterion__weight cannot be set through criterion_params: set class_weight=",
        ),
        (tiny_fc, {"optimizer__momentum": 0.9}, r"Adam takes no argument\(s\) \['momentum'\]"),
        (
            tiny_fc,
            {"criterion__smoothing": 0.1},
            r"CrossEntropyLoss takes no argument\(s\) "
            r"\['smoothing'\] \(criterion__\*\); it takes "
            r"\[.*'label_smoothing'",
        ),
    ],
)
def test_bad_hyper_parameter_is_named_at_fit(faces, make, params, message):
    model = make().set_params(**params)  # scikit-learn's rule: __init__ stores, fit validates
    with pytest.raises(ValueError, match=message):
        model.fit(faces.images, faces.target)


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_hyper_parameters_are_checked_before_the_data(method):
    """A bad value is named even when the data is bad too: no data work comes first."""
    model = tiny_fc(dropout=2.0)
    with pytest.raises(ValueError, match="'dropout' parameter"):
        getattr(model, method)(
            np.full((4, 3), np.nan),
            [0, 1, 0, 1],
            **({"classes": [0, 1]} if method == "partial_fit" else {}),
        )


@pytest.mark.parametrize(
    "name, params, message",
    [
        (
            "cnn_dropout",
            {"dropout": 1.5},
            _msg("dropout", r"a float in the range \[0.0, 1.0\)", "1.5"),
        ),
        ("only_fc", {"max_epochs": 0}, _msg("max_epochs", r"an int in the range \[1, inf\)", "0")),
        ("cnn", {"batch_size": 0}, _msg("batch_size", r"an int in the range \[1, inf\)", "0")),
    ],
)
def test_bad_hyper_parameter_of_a_seed_model(faces, name, params, message):
    model = make_model(name, image_shape=(16, 16, 3), **params)
    with pytest.raises(ValueError, match=message):
        model.fit(faces.data, faces.target)


@MAKERS
def test_channels_first_images_say_how_to_turn_them(make, faces):
    channels_first = np.moveaxis(faces.images, -1, 1)  # PyTorch's (n, 3, H, W)
    with pytest.raises(
        ValueError,
        match=r"X has shape \(30, 3, 16, 16\): channels first, "
        r"PyTorch's layout.*np\.moveaxis\(X, 1, -1\)",
    ):
        make().fit(channels_first, faces.target)


@MAKERS
def test_grey_images_say_how_to_make_them_rgb(make, faces, fitted):
    grey = faces.images.mean(axis=-1)  # (n, 16, 16)
    message = r"X has shape \(30, 16, 16\): grey images .* np\.repeat\(X\[\.\.\., None\], 3"
    with pytest.raises(ValueError, match=message):
        make().fit(grey, faces.target)
    with pytest.raises(ValueError, match=message):
        fitted["cnn" if make is tiny_cnn else "fc"].predict(grey)
