"""conv2d_relu: relu(conv2d(x)) in one operator, with the two layers' values and gradients."""

import pytest
import torch
from torch import nn

from facenet_sk import _conv_relu
from facenet_sk._conv_relu import conv2d_relu


def _both(layer, x):
    """Output and gradients (input, weight, bias) of conv2d_relu and of the two layers."""
    results = []
    for run in (lambda v: conv2d_relu(layer, v), lambda v: torch.relu(layer(v))):
        layer.zero_grad()
        v = x.detach().clone().requires_grad_()
        out = run(v)
        out.backward(torch.linspace(-1, 1, out.numel()).reshape(out.shape))
        results.append((out.detach(), v.grad, layer.weight.grad.clone(),
                        None if layer.bias is None else layer.bias.grad.clone()))
    return results


@pytest.mark.parametrize("kwargs", [
    dict(padding="same"),
    dict(padding=0),
    dict(padding=(1, 2), stride=2),
    dict(padding="same", dilation=2, bias=False),
    dict(padding=1, groups=2),
])
@pytest.mark.parametrize("channels_last", [False, True])
def test_values_and_gradients_are_those_of_conv_then_relu(kwargs, channels_last):
    torch.manual_seed(0)
    layer = nn.Conv2d(4, 6, 3, **kwargs)
    x = torch.randn(3, 4, 11, 9)
    if channels_last:
        layer = layer.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    (out, *grads), (ref, *ref_grads) = _both(layer, x)
    assert (ref == 0).any() and (ref > 0).any()  # both sides of the ReLU are exercised
    assert torch.equal(out, ref)
    for got, expected in zip(grads, ref_grads):
        assert (got is None) == (expected is None)
        if got is not None:
            assert torch.equal(got, expected)


def test_the_fused_operator_is_used_for_float32_on_the_cpu(monkeypatch):
    calls = []
    original = _conv_relu._Conv2dReLU.apply
    monkeypatch.setattr(_conv_relu._Conv2dReLU, "apply",
                        lambda *a: calls.append(1) or original(*a))
    layer = nn.Conv2d(3, 4, 3, padding="same")
    conv2d_relu(layer, torch.randn(2, 3, 8, 8))
    assert calls == [1]
    conv2d_relu(layer.double(), torch.randn(2, 3, 8, 8, dtype=torch.float64))  # two steps
    layer = nn.Conv2d(3, 4, 3, padding="same", padding_mode="reflect")
    conv2d_relu(layer, torch.randn(2, 3, 8, 8))
    assert calls == [1]


def test_autocast_casts_as_it_casts_the_convolution():
    layer = nn.Conv2d(3, 4, 3, padding="same")
    x = torch.randn(2, 3, 8, 8)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out, ref = conv2d_relu(layer, x), torch.relu(layer(x))
    assert out.dtype == ref.dtype == torch.bfloat16
    assert torch.equal(out, ref)


def test_bad_input_raises_pytorchs_error_and_keeps_the_fused_path():
    layer = nn.Conv2d(3, 4, 3, padding="same")
    with pytest.raises(RuntimeError, match="channels"):
        conv2d_relu(layer, torch.randn(2, 5, 8, 8))
    assert _conv_relu._fused_available


def test_an_operator_that_fails_falls_back_to_two_steps(monkeypatch):
    def broken(*args):
        raise RuntimeError("unexpected arguments")

    monkeypatch.setattr(torch.ops.mkldnn, "_convolution_pointwise", broken, raising=False)
    monkeypatch.setattr(_conv_relu, "_fused_available", True)
    layer = nn.Conv2d(3, 4, 3, padding="same")
    x = torch.randn(2, 3, 8, 8)
    assert torch.equal(conv2d_relu(layer, x), torch.relu(layer(x)))
    assert not _conv_relu._fused_available
