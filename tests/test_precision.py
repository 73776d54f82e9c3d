"""The precision hyper-parameter: mixed bfloat16 where asked (or where "auto" finds hardware)."""

import numpy as np
import pytest
import torch

from facenet_sk import _precision, make_model
from facenet_sk._precision import autocast_dtype


def _fit(faces, precision, name="cnn_dropout_batchnorm", **params):
    if name.startswith("cnn"):
        params = {"conv_filters": (4, 8), "dense_units": 16, **params}
    return make_model(name, max_epochs=3, precision=precision, random_state=0, **params).fit(
        faces.images, faces.target
    )


def test_bfloat16_trains_float32_weights_and_predicts_close_to_float32(faces):
    mixed, plain = _fit(faces, "bfloat16"), _fit(faces, "float32")
    assert mixed.net_.autocast_dtype is torch.bfloat16 and plain.net_.autocast_dtype is None
    for value in mixed.net_.module_.state_dict().values():
        assert value.dtype in (torch.float32, torch.int64)  # weights and statistics stay float32
    proba = mixed.predict_proba(faces.images)
    assert proba.dtype == np.float32 and np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1, atol=1e-5)
    # Same start, same batches: bfloat16's 8-bit mantissa moves the result a little, not a lot.
    assert np.abs(proba - plain.predict_proba(faces.images)).max() < 0.3
    assert mixed.history_[-1, "train_loss"] < mixed.history_[0, "train_loss"] * 1.5


def test_bfloat16_prediction_really_runs_in_bfloat16(faces, monkeypatch):
    model = _fit(faces, "bfloat16", name="only_fc", hidden_layer_sizes=())
    seen = []
    model.net_.module_[-1].register_forward_hook(lambda mod, inp, out: seen.append(out.dtype))
    model.predict_proba(faces.images[:3])
    assert seen == [torch.bfloat16]


@pytest.mark.parametrize(
    "flags, expected",
    [
        (frozenset({"avx2", "fma"}), None),
        (frozenset({"avx512f", "avx512_bf16"}), torch.bfloat16),
        (frozenset({"amx_tile", "amx_bf16"}), torch.bfloat16),
    ],
)
def test_auto_takes_bfloat16_only_where_the_cpu_has_it(monkeypatch, flags, expected):
    monkeypatch.setattr(_precision, "cpu_flags", lambda: flags)
    assert autocast_dtype("auto", "cpu") is expected
    assert autocast_dtype("float32", "cpu") is None
    assert autocast_dtype("bfloat16", "cpu") is torch.bfloat16  # asked for: even if emulated


def test_auto_on_a_cpu_without_bf16_trains_exactly_as_float32(faces, monkeypatch):
    monkeypatch.setattr(_precision, "cpu_flags", lambda: frozenset({"avx2"}))
    auto, plain = _fit(faces, "auto"), _fit(faces, "float32")
    np.testing.assert_array_equal(
        auto.predict_proba(faces.images), plain.predict_proba(faces.images)
    )


def test_bad_precision_and_devices_are_clear_errors(faces):
    with pytest.raises(ValueError, match="precision.*'float16'"):
        _fit(faces, "float16")
    with pytest.raises(ValueError, match="not supported on device 'mps'"):
        autocast_dtype("bfloat16", "mps")
    assert autocast_dtype("auto", "mps") is None


def test_warm_start_follows_a_changed_precision(faces):
    model = _fit(faces, "bfloat16", name="only_fc", hidden_layer_sizes=())
    model.set_params(warm_start=True, precision="float32", max_epochs=1).fit(
        faces.images, faces.target
    )
    assert model.net_.autocast_dtype is None and model.n_epochs_ == 4
