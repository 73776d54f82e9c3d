"""skorch's settings the scikit-learn way: optimizer and loss arguments, more
epochs (warm_start, partial_fit), and the weights saved and loaded alone."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from facenet_sk import FCNetClassifier, make_model


def sgd(**params):
    return make_model(
        "only_fc",
        **{
            **dict(
                optimizer="sgd", lr=0.01, max_epochs=2, batch_size=16, random_state=0, n_threads=1
            ),
            **params,
        },
    )


def _momentum(estimator, X, y):
    """A 'score' that reports the momentum the fitted optimizer really used."""
    net = estimator[-1] if isinstance(estimator, Pipeline) else estimator
    return net.net_.optimizer_.param_groups[0]["momentum"]


def test_sgd_momentum_is_searched_by_grid_search(faces):
    search = GridSearchCV(
        sgd(),
        {"optimizer__momentum": [0.0, 0.5, 0.9]},
        cv=2,
        scoring=_momentum,
        error_score="raise",
    )
    search.fit(faces.images, faces.target)
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], [0.0, 0.5, 0.9])
    assert search.best_params_ == {"optimizer__momentum": 0.9}
    assert search.best_estimator_.optimizer_params == {"momentum": 0.9}


def test_routes_reach_through_a_pipeline(faces):
    pipe = Pipeline([("scale", StandardScaler()), ("net", sgd(input_scaling=None))])
    search = GridSearchCV(
        pipe,
        {"net__optimizer__momentum": [0.5, 0.9], "net__optimizer__nesterov": [True]},
        cv=2,
        scoring=_momentum,
        error_score="raise",
    )
    search.fit(faces.data, faces.target)
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], [0.5, 0.9])
    group = search.best_estimator_[-1].net_.optimizer_.param_groups[0]
    assert group["nesterov"] is True


def test_constructor_set_params_clone_and_pickle_keep_the_routes(faces):
    given = {"betas": (0.8, 0.9)}
    model = FCNetClassifier(
        hidden_layer_sizes=(),
        optimizer_params=given,
        criterion_params={"label_smoothing": 0.2},
        max_epochs=1,
        random_state=0,
    )
    model.set_params(optimizer__eps=1e-6)
    assert given == {"betas": (0.8, 0.9)}  # the caller's dict is not changed
    assert model.optimizer_params == {"betas": (0.8, 0.9), "eps": 1e-6}
    params = model.get_params()
    assert params["optimizer__betas"] == (0.8, 0.9)
    assert params["criterion__label_smoothing"] == 0.2
    assert "optimizer__betas" not in model.get_params(deep=False)
    copy = clone(model)
    assert copy.optimizer_params == model.optimizer_params
    assert copy.optimizer_params is not model.optimizer_params
    restored = pickle.loads(pickle.dumps(copy)).fit(faces.images, faces.target)
    group = restored.net_.optimizer_.param_groups[0]
    assert group["betas"] == (0.8, 0.9) and group["eps"] == 1e-6
    assert restored.net_.criterion_.label_smoothing == 0.2
    again = pickle.loads(pickle.dumps(restored))
    np.testing.assert_array_equal(
        again.predict_proba(faces.images), restored.predict_proba(faces.images)
    )


def test_label_smoothing_changes_the_loss(faces):
    plain = sgd(max_epochs=1).fit(faces.images, faces.target)
    smooth = sgd(max_epochs=1, criterion__label_smoothing=0.3).fit(faces.images, faces.target)
    assert plain.history_[0, "train_loss"] != smooth.history_[0, "train_loss"]


def test_partial_fit_adds_one_epoch_at_a_time(faces):
    X, y = faces.images, faces.target
    model = sgd()
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        model.partial_fit(X, y)
    model.partial_fit(X, y, classes=[0, 1, 2])
    first = [p.detach().clone() for p in model.net_.module_.parameters()]
    assert model.n_epochs_ == 1 and len(model.history_) == 1
    model.partial_fit(X[:20], y[:20])
    model.partial_fit(X, y, X_valid=X[:9], y_valid=y[:9])
    assert model.n_epochs_ == 3 and len(model.history_) == 3
    assert "valid_acc" in model.history_[-1] and "valid_acc" not in model.history_[0]
    after = list(model.net_.module_.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(first, after))
    with pytest.raises(ValueError, match=r"y has labels not seen in classes_: \[7\]"):
        model.partial_fit(X[:4], [0, 1, 2, 7])


def test_partial_fit_with_classes_not_in_the_first_batch(faces):
    X, y = faces.images, faces.target
    model = sgd().partial_fit(X[y < 2], y[y < 2], classes=[0, 1, 2])
    assert model.classes_.tolist() == [0, 1, 2]
    assert model.predict_proba(X).shape == (len(X), 3)


def test_warm_start_continues_training(faces):
    X, y = faces.images, faces.target
    model = sgd(max_epochs=2, warm_start=True).fit(X, y)
    weights = model.net_.module_.dense_1.weight.detach().clone()
    model.fit(X, y)
    assert model.n_epochs_ == 4 and len(model.history_) == 4
    assert not torch.equal(model.net_.module_.dense_1.weight, weights)
    # The second call continued: its first epoch starts from where the first ended.
    assert model.history_[2, "train_loss"] < model.history_[0, "train_loss"]
    cold = clone(model).set_params(warm_start=False).fit(X, y).fit(X, y)
    assert cold.n_epochs_ == 2


def test_warm_start_refuses_data_of_another_shape(faces):
    model = sgd(warm_start=True).fit(faces.images, faces.target)
    with pytest.raises(
        ValueError, match="X has 300 features, but FCNetClassifier is expecting 768 features"
    ):
        model.fit(np.zeros((6, 300)), [0, 1, 2] * 2)


def test_weights_alone_are_saved_and_loaded(faces, tmp_path):
    X, y = faces.images, faces.target
    model = sgd(max_epochs=3).fit(X, y)
    model.save_params(
        f_params=tmp_path / "w.pt",
        f_optimizer=tmp_path / "opt.pt",
        f_history=tmp_path / "history.json",
    )
    fresh = sgd(max_epochs=3).initialize(X, y)
    assert fresh.n_epochs_ == 0
    assert not np.array_equal(fresh.predict_proba(X), model.predict_proba(X))
    fresh.load_params(
        f_params=tmp_path / "w.pt",
        f_optimizer=tmp_path / "opt.pt",
        f_history=tmp_path / "history.json",
    )
    np.testing.assert_array_equal(fresh.predict_proba(X), model.predict_proba(X))
    assert fresh.n_epochs_ == 3
    # The input statistics travel with the weights.
    state = torch.load(tmp_path / "w.pt")
    assert {"standardize.mean", "standardize.scale"} <= set(state)
    # Weights of another architecture are refused by torch.
    with pytest.raises(RuntimeError, match="size mismatch|Missing key"):
        make_model("fc_with_hidden", max_epochs=1).initialize(X, y).load_params(
            f_params=tmp_path / "w.pt"
        )
