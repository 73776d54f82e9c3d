"""CNN.forward's fast path (pooling before a ReLU, a convolution and its ReLU fused,
ReLUs in place): the outputs and gradients of the layers one by one."""

import pytest
import torch
from torch import nn

from facenet_sk import _conv_relu, make_model, summary
from facenet_sk.nets import CNN


def _assert_listed_order_equal(net, x):
    """CNN.forward and the layers one by one: equal outputs and gradients (same dropout masks)."""
    with torch.random.fork_rng():
        fast = net(x)
    fast.square().sum().backward()
    fast_grads = [p.grad.clone() for p in net.parameters()]
    net.zero_grad()
    listed = nn.Sequential.forward(net, x)
    listed.square().sum().backward()
    assert torch.equal(fast, listed)
    for a, b in zip(fast_grads, (p.grad for p in net.parameters())):
        assert torch.equal(a, b)


@pytest.mark.parametrize("batchnorm", [False, True])
@pytest.mark.parametrize("training", [True, False])
def test_outputs_and_gradients_equal_the_listed_order(batchnorm, training):
    torch.manual_seed(0)
    net = CNN((16, 16, 3), 4, conv_filters=(4, 8), dense_units=8, batchnorm=batchnorm)
    net.train(training)
    x = torch.randn(6, 16 * 16 * 3)
    x[0] = -1.0  # whole windows below zero: the ReLU's gradient is 0 either way
    _assert_listed_order_equal(net, x)


@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_fused_convolution_and_relu_match_the_layers_bit_for_bit(dropout, monkeypatch):
    torch.manual_seed(0)
    net = CNN((16, 16, 3), 4, conv_filters=(4, 8), dense_units=8, dropout=dropout)
    fused = []
    apply = _conv_relu._Conv2dReLU.apply
    monkeypatch.setattr(_conv_relu._Conv2dReLU, "apply", lambda *a: fused.append(1) or apply(*a))
    _assert_listed_order_equal(net, torch.randn(6, 16 * 16 * 3))
    assert len(fused) == 2  # the first convolution of each block, in CNN.forward only


def test_a_hook_on_a_layer_sees_that_layers_own_output():
    net = CNN((16, 16, 3), 4, conv_filters=(4, 8), dense_units=8)
    seen = []
    net.activation_2.register_forward_hook(lambda m, i, out: seen.append(out.shape))
    net(torch.randn(2, 16 * 16 * 3))
    assert seen == [torch.Size([2, 4, 16, 16])]  # before the pooling, as listed


def test_the_summary_still_lists_keras_shapes():
    text = summary(make_model("cnn"))
    assert "activation_2 (Activation)" in text or "activation_2 (ReLU)" in text
    line = next(row for row in text.splitlines() if row.startswith("activation_2"))
    assert "(None, 48, 48, 32)" in line
