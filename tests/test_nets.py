"""The networks' initialisation (the course's he_normal or PyTorch's default): every weight set."""

import math

import numpy as np
import pytest
import torch
from scipy import stats
from torch import nn

from facenet_sk.nets import _TRUNCATED_STD_FACTOR, CNN, FCNet, _conv, _dense, he_normal_


def _std(layer):
    return math.sqrt(2.0 / layer.weight[0].numel()) / _TRUNCATED_STD_FACTOR


def test_he_normal_draws_a_normal_truncated_at_two_standard_deviations():
    torch.manual_seed(0)
    layer = he_normal_(nn.Linear(6912, 100))
    draws = layer.weight.detach().numpy().ravel() / _std(layer)
    assert stats.kstest(draws, stats.truncnorm(-2, 2).cdf).pvalue > 1e-3
    # Keras's rescaling: the truncated draw keeps He's standard deviation.
    assert draws.std() * _std(layer) == pytest.approx(math.sqrt(2 / 6912), rel=0.01)
    assert float(layer.bias.abs().sum()) == 0.0


def test_he_normal_is_seeded_by_torch():
    torch.manual_seed(3)
    first = he_normal_(nn.Conv2d(3, 8, 3)).weight.detach().clone()
    torch.manual_seed(3)
    assert torch.equal(first, he_normal_(nn.Conv2d(3, 8, 3)).weight)


@pytest.mark.parametrize(
    "net",
    [
        lambda: FCNet(6912, 8, hidden_layer_sizes=(400, 200)),
        lambda: CNN((48, 48, 3), 8, dropout=0.3, batchnorm=True),
    ],
    ids=["FCNet", "CNN"],
)
def test_every_weight_is_drawn_and_every_bias_zero(net):
    # The layers are built without PyTorch's default initialisation (which
    # would only be overwritten): nothing may be left as uninitialised memory.
    torch.manual_seed(0)
    for layer in net().modules():
        if isinstance(layer, (nn.Linear, nn.Conv2d)):
            weight = layer.weight.detach().numpy()
            assert np.isfinite(weight).all()
            assert np.abs(weight).max() <= 2 * _std(layer) * (1 + 1e-6)
            assert weight.std() > 0.5 * _std(layer)
            assert not layer.bias.detach().numpy().any()


@pytest.mark.parametrize(
    "build, reference",
    [
        (lambda: _dense(20, 5, "torch"), lambda: nn.Linear(20, 5)),
        (lambda: _conv(3, 8, "torch"), lambda: nn.Conv2d(3, 8, 3, padding="same")),
    ],
    ids=["dense", "conv"],
)
def test_torch_init_is_pytorchs_default_draw(build, reference):
    # The same draws as PyTorch's own layers from the same generator state.
    torch.manual_seed(5)
    layer = build()
    torch.manual_seed(5)
    expected = reference()
    assert torch.equal(layer.weight, expected.weight)
    assert torch.equal(layer.bias, expected.bias)


@pytest.mark.parametrize(
    "net",
    [
        lambda: FCNet(6912, 8, hidden_layer_sizes=(400, 200), weight_init="torch"),
        lambda: CNN((48, 48, 3), 8, dropout=0.3, batchnorm=True, weight_init="torch"),
    ],
    ids=["FCNet", "CNN"],
)
def test_torch_init_reaches_every_layer(net):
    torch.manual_seed(0)
    layers = [m for m in net().modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    assert len(layers) >= 3
    for layer in layers:
        bound = 1 / math.sqrt(layer.weight[0].numel())
        weight = layer.weight.detach().numpy()
        assert np.abs(weight).max() <= bound * (1 + 1e-6)
        # Uniform within the bound: its standard deviation, not he_normal's.
        assert weight.std() == pytest.approx(bound / math.sqrt(3), rel=0.1)
        assert layer.bias.detach().numpy().any()
