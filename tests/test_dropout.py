"""Dropout with a cheap mask: the distribution, scaling, layouts and gradients of nn.Dropout."""

import math
import multiprocessing

import numpy as np
import pytest
import torch
from torch import nn

from facenet_sk._dropout import Dropout, dropout_noise
from facenet_sk.nets import CNN, FCNet


def _torch_scale(p, dtype=torch.float32):
    """The factor nn.Dropout gives the kept elements."""
    out = nn.functional.dropout(torch.ones(10_000, dtype=dtype), p, training=True)
    return out[out != 0][0].item()


@pytest.mark.parametrize("p", [0.1, 0.3, 0.5, 0.9])
def test_keep_rate_is_one_minus_p(p):
    torch.manual_seed(1)
    n = 2_000_000
    kept = int((dropout_noise(torch.empty(n), p) != 0).sum())
    sigma = math.sqrt(n * p * (1 - p))
    # A binomial count more than 5 standard deviations off happens once in 3.5 million runs.
    assert abs(kept - n * (1 - p)) < 5 * sigma


@pytest.mark.parametrize("p", [0.1, 0.3, 0.5, 0.7, 0.25])
def test_kept_values_are_scaled_exactly_as_nn_dropout_scales_them(p):
    torch.manual_seed(2)
    x = torch.randn(100_000)
    out = Dropout(p)(x)
    kept = out != 0
    assert torch.equal(out[kept], x[kept] * _torch_scale(p))
    assert torch.equal(out[~kept], torch.zeros(int((~kept).sum())))


@pytest.mark.parametrize("p", [0.1, 0.3, 0.5, 0.7])
def test_bfloat16_activations_get_the_cheap_mask_and_nn_dropouts_scale(p):
    # precision="bfloat16" hands dropout bfloat16 activations: they take the
    # cheap mask too, scaled by 1 / (1 - p) rounded to bfloat16 as PyTorch does.
    x = torch.randn(200_000, dtype=torch.bfloat16)
    torch.manual_seed(2)
    out = Dropout(p)(x)
    torch.manual_seed(2)
    noise = dropout_noise(x, p)
    assert out.dtype == noise.dtype == torch.bfloat16
    assert torch.equal(out, x * noise)
    kept = out != 0
    assert torch.equal(out[kept], x[kept] * _torch_scale(p, torch.bfloat16))
    sigma = math.sqrt(len(x) * p * (1 - p))
    assert abs(int(kept.sum()) - len(x) * (1 - p)) < 5 * sigma


def test_a_cnn_under_autocast_draws_the_cheap_masks(monkeypatch):
    import facenet_sk._dropout as module

    calls = []
    real = module.dropout_noise

    def spy(like, p):
        calls.append(like.dtype)
        return real(like, p)

    monkeypatch.setattr(module, "dropout_noise", spy)
    net = CNN((48, 48, 3), 8, dropout=0.3).train()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        net(torch.randn(4, 48 * 48 * 3)).sum().backward()
    assert calls == [torch.bfloat16] * 3


@pytest.mark.parametrize("p", [0.3, 0.1, 0.999])
def test_keep_rate_is_exact_where_the_first_byte_ties(p):
    # Deciding by the first byte alone would keep floor(256 * (1 - p)) / 256:
    # 0.69922 instead of 0.7 for p=0.3 (10 standard deviations off at this n),
    # and none at all for p=0.999.
    torch.manual_seed(4)
    n = 2**25
    kept = int(torch.count_nonzero(dropout_noise(torch.empty(n), p)))
    sigma = math.sqrt(n * p * (1 - p))
    assert abs(kept - n * (1 - p)) < 5 * sigma


@pytest.mark.parametrize("n", [1, 7, 9, 1001])
def test_sizes_that_are_not_a_multiple_of_eight(n):
    torch.manual_seed(6)
    noise = torch.cat([dropout_noise(torch.empty(n), 0.3) for _ in range(20_000 // n + 1)])
    assert set(noise.unique().tolist()) == {0.0, _torch_scale(0.3)}
    kept = int(torch.count_nonzero(noise))
    assert abs(kept - len(noise) * 0.7) < 5 * math.sqrt(len(noise) * 0.21)


def test_the_mean_is_preserved_and_elements_are_independent():
    p = 0.3
    torch.manual_seed(3)
    n = 3 * 2**20
    noise = dropout_noise(torch.empty(n), p)
    assert noise.mean().item() == pytest.approx(1.0, abs=5 * math.sqrt(p / (1 - p) / len(noise)))
    keep = (noise != 0).numpy()
    # Neighbours (bytes of the same 64-bit draw) kept together as often as independence says.
    both = np.mean(keep[:-1] & keep[1:])
    assert both == pytest.approx((1 - p) ** 2, abs=5 * math.sqrt((1 - p) ** 2 / len(keep)))
    # Elements eight apart take their bytes from neighbouring 64-bit draws.
    apart = np.mean(keep[:-8] & keep[8:])
    assert apart == pytest.approx((1 - p) ** 2, abs=5 * math.sqrt((1 - p) ** 2 / len(keep)))
    half = n // 2
    agree = np.mean(keep[:half] == keep[half:])
    assert agree == pytest.approx(p**2 + (1 - p) ** 2, abs=5 * math.sqrt(0.25 / half))


def test_masks_change_every_call_and_follow_torch_manual_seed():
    layer = Dropout(0.5)
    x = torch.ones(5000)
    torch.manual_seed(7)
    a, b = layer(x), layer(x)
    assert not torch.equal(a, b)
    torch.manual_seed(7)
    assert torch.equal(layer(x), a)


def test_masks_do_not_depend_on_the_number_of_threads():
    x = torch.ones(3 * 2**20 + 5)
    previous = torch.get_num_threads()
    try:
        results = []
        for threads in (1, 2, 3):
            torch.set_num_threads(threads)
            torch.manual_seed(11)
            results.append(Dropout(0.3)(x))
    finally:
        torch.set_num_threads(previous)
    assert torch.equal(results[0], results[1]) and torch.equal(results[0], results[2])


def test_eval_mode_returns_the_input_itself():
    layer = Dropout(0.3).eval()
    x = torch.randn(4, 10)
    assert layer(x) is x


def test_channels_last_input_keeps_its_layout():
    x = torch.randn(8, 16, 6, 6).to(memory_format=torch.channels_last)
    out = Dropout(0.4)(x)
    assert out.is_contiguous(memory_format=torch.channels_last)
    kept = out != 0
    assert torch.equal(out[kept], x[kept] * _torch_scale(0.4))


def test_the_gradient_is_the_noise_times_the_incoming_gradient():
    torch.manual_seed(5)
    x = torch.randn(64, 32, 5, 5).to(memory_format=torch.channels_last).requires_grad_()
    out = Dropout(0.3)(x)
    grad = torch.randn_like(out)
    out.backward(grad)
    noise = out.detach() / x.detach()
    assert torch.allclose(x.grad, grad * noise, rtol=1e-6)
    assert torch.equal(x.grad == 0, out.detach() == 0)


def test_gradcheck_with_a_fixed_mask():
    layer = Dropout(0.3).double()

    def seeded(x):
        torch.manual_seed(0)
        return layer(x)

    x = torch.randn(3, 7, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(seeded, (x,))


def test_other_inputs_take_pytorchs_own_path():
    torch.manual_seed(0)
    assert torch.equal(Dropout(1.0)(torch.ones(10)), torch.zeros(10))
    strided = torch.randn(20, 20)[:, ::2]  # neither contiguous nor channels-last
    out = Dropout(0.5)(strided)
    assert out.shape == strided.shape and set(out.unique().tolist()) - {0.0} <= set(
        (strided * 2).flatten().tolist()
    )
    half = Dropout(0.5)(torch.ones(1000, dtype=torch.float16))
    assert set(half.unique().tolist()) == {0.0, 2.0}


def _draw_in_child(queue):
    # A forked child must run torch single-threaded (its OpenMP pool does not survive a fork).
    torch.set_num_threads(1)
    torch.manual_seed(3)
    queue.put(int(Dropout(0.3)(torch.ones(2**21)).nonzero().sum()))


def test_a_forked_child_draws_the_same_masks():
    torch.manual_seed(3)
    expected = int(Dropout(0.3)(torch.ones(2**21)).nonzero().sum())
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_draw_in_child, args=(queue,))
    child.start()
    child.join(timeout=120)
    if child.is_alive():
        child.kill()
    assert child.exitcode == 0
    assert queue.get(timeout=5) == expected


def test_the_networks_use_it():
    for net in (CNN((48, 48, 3), 8, dropout=0.3), FCNet(6912, 8, dropout=0.2)):
        layers = [m for m in net.modules() if isinstance(m, nn.Dropout)]
        assert layers and all(isinstance(m, Dropout) for m in layers)
