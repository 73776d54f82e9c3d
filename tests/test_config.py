"""Every speed-up has one switch, and the model it trains equals the plain path's."""

import numpy as np
import pytest
import torch
from torch import nn

from facenet_sk import config_context, get_config, make_model, set_config
from facenet_sk._dropout import Dropout


def test_switches_are_known_booleans_and_restored_by_the_context():
    assert get_config() == {"fast_dropout": True, "fused_adam": True, "reuse_memory": True}
    with pytest.raises(ValueError, match="unknown switch.*fast_dropout"):
        set_config(fast_dropuot=False)
    with pytest.raises(TypeError, match="True or False"):
        set_config(fused_adam="no")
    with pytest.raises(KeyError):
        with config_context(fused_adam=False):
            assert get_config()["fused_adam"] is False
            raise KeyError("the block failed")
    assert get_config()["fused_adam"] is True


def test_fused_adam_off_trains_the_same_weights(faces):
    """Fused and per-tensor Adam do the same arithmetic: the same model to float rounding."""

    def fit():
        return make_model(
            "fc_with_hidden", hidden_layer_sizes=(16,), max_epochs=3, random_state=0
        ).fit(faces.images, faces.target)

    fused = fit()
    assert fused.net_.optimizer_.defaults["fused"] is True
    with config_context(fused_adam=False):
        plain = fit()
    assert not plain.net_.optimizer_.defaults["fused"]
    for (name, a), b in zip(
        fused.net_.module_.state_dict().items(), plain.net_.module_.state_dict().values()
    ):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5, msg=name)
    np.testing.assert_allclose(
        fused.predict_proba(faces.images), plain.predict_proba(faces.images), atol=1e-4
    )


@pytest.mark.parametrize("given", [{"foreach": True}, {"fused": False}])
def test_the_users_choice_of_implementation_wins(faces, given):
    """A user's foreach=True used to meet a forced fused=True, and torch raised."""
    model = make_model("only_fc", max_epochs=1, optimizer_params=given, random_state=0)
    model.fit(faces.images, faces.target)
    defaults = model.net_.optimizer_.defaults
    assert {k: defaults[k] for k in given} == given
    assert not defaults.get("fused")


def test_fast_dropout_off_is_pytorchs_dropout():
    """Off, the layer is nn.Dropout bit for bit (same masks from the same seed)."""
    x = torch.randn(64, 32)
    with config_context(fast_dropout=False):
        torch.manual_seed(3)
        ours = Dropout(0.3)(x)
    torch.manual_seed(3)
    theirs = nn.Dropout(0.3)(x)
    assert torch.equal(ours, theirs)


def test_fast_dropout_on_and_off_give_the_same_distribution_and_eval_output():
    """The random streams differ; what each mask means does not."""
    x = torch.ones(400_000)
    torch.manual_seed(0)
    fast = Dropout(0.3)(x)
    with config_context(fast_dropout=False):
        plain = Dropout(0.3)(x)
    assert set(fast.unique().tolist()) == set(plain.unique().tolist())
    # Kept shares within 5 standard deviations of 0.7 (sd 0.0007 here).
    for out in (fast, plain):
        assert abs(float((out != 0).float().mean()) - 0.7) < 0.0036
    layer = Dropout(0.3).eval()
    assert layer(x) is x


def test_reuse_memory_off_trains_the_same_model_bit_for_bit(faces):
    """Where malloc finds its memory changes no number."""

    def fit():
        return make_model(
            "cnn_dropout_batchnorm",
            conv_filters=(4, 8),
            dense_units=16,
            max_epochs=2,
            random_state=0,
        ).fit(faces.images, faces.target)

    tuned = fit()
    with config_context(reuse_memory=False):
        plain = fit()
    np.testing.assert_array_equal(
        tuned.predict_proba(faces.images), plain.predict_proba(faces.images)
    )
