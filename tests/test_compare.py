"""compare_models, compare_models_cv and the baselines."""

import copy

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from facenet_sk import (
    CNNClassifier,
    FCNetClassifier,
    compare_models,
    compare_models_cv,
    eigenfaces_baseline,
    logistic_regression_baseline,
)
from facenet_sk.baselines import make_baseline
from facenet_sk.compare import RESULT_COLUMNS, count_parameters, fit_model
from facenet_sk.datasets import make_synthetic_faces


@pytest.fixture(scope="module")
def split():
    faces = make_synthetic_faces(n_people=3, n_per_person=28, image_size=16, random_state=2)
    parts = [faces.subset == s for s in ("train", "valid", "test")]
    return [a for p in parts for a in (faces.data[p], faces.target[p])]


def _models():
    return {
        "fc": make_pipeline(
            StandardScaler(),
            FCNetClassifier(hidden_layer_sizes=(16,), max_epochs=3, random_state=0),
        ),
        "cnn": make_pipeline(
            StandardScaler(),
            CNNClassifier(conv_filters=(4, 8), dense_units=8, max_epochs=2, random_state=0),
        ),
        "logreg": logistic_regression_baseline(),
    }


def test_compare_models_table(split):
    X_tr, y_tr, X_va, y_va, X_te, y_te = split
    models = _models()
    table = compare_models(
        models, X_tr, y_tr, X_te, y_te, X_valid=X_va, y_valid=y_va, progress=False
    )
    assert tuple(table.columns) == RESULT_COLUMNS
    assert list(table["model"]) == ["fc", "cnn", "logreg"]
    for column in ("train_accuracy", "valid_accuracy", "test_accuracy"):
        assert table[column].between(0, 1).all()
    assert list(table["epochs"][:2]) == [3, 2] and pd.isna(table["epochs"][2])
    fitted = table.attrs["models"]
    assert table["n_params"][0] == fitted["fc"][-1].n_params_ == 16 * 16 * 3 * 16 + 16 + 16 * 3 + 3
    assert table["n_params"][2] == 16 * 16 * 3 * 3 + 3  # coef_ + intercept_
    assert (table["fit_seconds"] > 0).all()
    # The test accuracy in the table is the fitted model's score.
    assert table["test_accuracy"][1] == fitted["cnn"].score(X_te, y_te)
    # The networks monitored the validation set every epoch, standardized.
    assert "valid_acc" in fitted["fc"][-1].history_[-1]
    assert fitted["fc"][-1].history_[-1, "valid_acc"] == pytest.approx(table["valid_accuracy"][0])
    # The caller's models stay unfitted; the fitted ones survive a deepcopy of the table.
    assert not hasattr(models["fc"][-1], "net_")
    assert copy.deepcopy(table).attrs["models"]["fc"] is fitted["fc"]


def test_compare_without_validation_and_errors(split):
    X_tr, y_tr, _, _, X_te, y_te = split
    table = compare_models(
        {"logreg": LogisticRegression(max_iter=300)},
        X_tr / 255,
        y_tr,
        X_te / 255,
        y_te,
        progress=False,
    )
    assert table["valid_accuracy"].isna().all()
    with pytest.raises(ValueError, match="empty"):
        compare_models({}, X_tr, y_tr, X_te, y_te)
    with pytest.raises(ValueError, match="both X_valid and y_valid"):
        compare_models({"a": LogisticRegression()}, X_tr, y_tr, X_te, y_te, X_valid=X_te)


def test_compare_in_parallel_equals_sequential(split):
    X_tr, y_tr, X_va, y_va, X_te, y_te = split
    models = {k: v for k, v in _models().items() if k != "cnn"}
    one = compare_models(models, X_tr, y_tr, X_te, y_te, X_valid=X_va, y_valid=y_va, progress=False)
    two = compare_models(
        models, X_tr, y_tr, X_te, y_te, X_valid=X_va, y_valid=y_va, n_jobs=2, progress=False
    )
    cols = ["model", "n_params", "train_accuracy", "valid_accuracy", "test_accuracy", "epochs"]
    pd.testing.assert_frame_equal(one[cols], two[cols])


def test_fit_model_passes_scaled_validation_to_the_network(split):
    X_tr, y_tr, X_va, y_va, _, _ = split
    pipe = make_pipeline(
        StandardScaler(), FCNetClassifier(hidden_layer_sizes=(), max_epochs=2, random_state=0)
    )
    fit_model(pipe, X_tr, y_tr, X_va, y_va)
    assert pipe[-1].history_[-1, "valid_acc"] == pytest.approx(pipe.score(X_va, y_va))


def test_compare_models_cv(split):
    X, y = split[0], split[1]
    table = compare_models_cv(
        {
            "logreg": logistic_regression_baseline(),
            "fc": FCNetClassifier(hidden_layer_sizes=(8,), max_epochs=2, random_state=0),
        },
        X / 255,
        y,
        cv=3,
        progress=False,
    )
    assert list(table["model"]) == ["logreg", "fc"]
    assert (table["n_splits"] == 3).all()
    assert table["test_accuracy_mean"].between(0, 1).all()
    assert (table["test_accuracy_std"] >= 0).all()


def test_baselines(split):
    X_tr, y_tr, _, _, X_te, y_te = split
    eigen = eigenfaces_baseline(n_components=20, n_iter=3).fit(X_tr, y_tr)
    assert eigen["pca"].n_components_ == 20 and eigen["pca"].whiten
    assert eigen["svc"].best_estimator_.kernel == "rbf"
    assert eigen.score(X_te, y_te) > 1 / 3
    assert count_parameters(eigen) > 20 * X_tr.shape[1]
    assert type(make_baseline("logistic_regression")[-1]) is LogisticRegression
    with pytest.raises(ValueError, match="unknown baseline"):
        make_baseline("knn")
    assert pd.isna(count_parameters(make_pipeline(StandardScaler()).fit(X_tr)))
    assert np.isfinite(logistic_regression_baseline().fit(X_tr, y_tr).score(X_te, y_te))
