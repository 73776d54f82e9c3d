"""predict_proba_in_batches: skorch's probabilities, the finiteness check per batch, modes kept."""

import numpy as np
import pytest
import torch
from torch import nn

from facenet_sk._predict import (ROW_WISE_BLOCK_ROWS, NonFiniteInputError,
                                 predict_proba_in_batches, rows_per_block)
from facenet_sk._net import standardize_input
from facenet_sk.nets import CNN, FCNet


@pytest.fixture(scope="module")
def X():
    return torch.from_numpy(np.random.default_rng(0).standard_normal((37, 12 * 12 * 3))
                            .astype(np.float32))


def _reference(module, X, batch_size):
    """The probabilities as skorch computes them: softmax of each batch's logits."""
    module.eval()
    with torch.no_grad():
        return torch.cat([torch.softmax(module(X[i:i + batch_size]), dim=-1)
                          for i in range(0, len(X), batch_size)]).numpy()


@pytest.mark.parametrize("make", [
    lambda: FCNet(432, 5, hidden_layer_sizes=(16,), dropout=0.3, batchnorm=True),
    lambda: CNN((12, 12, 3), 5, conv_filters=(4, 8), dense_units=8, dropout=0.3, batchnorm=True),
])
@pytest.mark.parametrize("batch_size", [1, 8, 37, 100])
def test_probabilities_equal_a_plain_loop(X, make, batch_size):
    torch.manual_seed(0)
    module = make()
    module.train()
    module(X)  # moves the batch-norm statistics away from their initial values
    proba = predict_proba_in_batches(module, X, batch_size)
    assert proba.dtype == np.float32 and proba.shape == (37, 5)
    # Bit for bit those of the plain loop over the blocks it runs...
    np.testing.assert_array_equal(proba, _reference(module, X, rows_per_block(module, batch_size)))
    # ...and, to float32 rounding, those of any other block size.
    np.testing.assert_allclose(proba, _reference(module, X, batch_size), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)


def test_row_wise_networks_predict_in_larger_blocks():
    fc = FCNet(432, 5, hidden_layer_sizes=(16,), dropout=0.3, batchnorm=True)
    assert rows_per_block(fc, 128) == ROW_WISE_BLOCK_ROWS
    assert rows_per_block(fc, 4096) == 4096
    assert rows_per_block(nn.Sequential(nn.Linear(4, 4), nn.Softmax(dim=1)), 128) == 128
    cnn = CNN((12, 12, 3), 5, conv_filters=(4, 8), dense_units=8)
    assert rows_per_block(cnn, 128) == 128  # a CNN's activations are large: batch_size rows
    # Hooks see the batches they always saw; the input standardization is no such hook.
    handle = fc[0].register_forward_hook(lambda *args: None)
    assert rows_per_block(fc, 128) == 128
    handle.remove()
    standardize_input(fc, [0.0], [1.0])
    assert rows_per_block(fc, 128) == ROW_WISE_BLOCK_ROWS
    # A module whose forward is its own may mix rows: batch_size rows too.
    assert rows_per_block(type("Mixing", (nn.Sequential,), {"forward": lambda self, x: x})(
        nn.Linear(4, 4)), 128) == 128


@pytest.mark.parametrize("training", [True, False])
def test_the_modules_mode_is_restored(X, training):
    module = FCNet(432, 3, hidden_layer_sizes=(4,), dropout=0.5).train(training)
    predict_proba_in_batches(module, X, 10)
    assert module.training is training
    with pytest.raises(NonFiniteInputError):
        predict_proba_in_batches(module, torch.full_like(X, float("nan")), 10)
    assert module.training is training


@pytest.mark.parametrize("value, word", [(float("nan"), "NaN"), (float("inf"), "infinity"),
                                         (-float("inf"), "infinity")])
def test_non_finite_rows_are_named(X, value, word):
    bad = X.clone()
    bad[23, 7] = value
    with pytest.raises(ValueError, match=f"Input X contains {word} \\(first in row 23\\)"):
        predict_proba_in_batches(nn.Linear(432, 3), bad, 10)
    # Unchecked, the value flows into the output.
    proba = predict_proba_in_batches(nn.Linear(432, 3), bad, 10, check_finite=False)
    assert not np.isfinite(proba[23]).all() and np.isfinite(np.delete(proba, 23, 0)).all()


def test_huge_finite_values_whose_sum_overflows_pass():
    X = torch.full((4, 6), 3e38)
    proba = predict_proba_in_batches(nn.Linear(6, 2), X, 2)
    assert proba.shape == (4, 2)


def test_no_rows_give_an_empty_table_of_the_right_width():
    proba = predict_proba_in_batches(nn.Linear(6, 4), torch.empty((0, 6)), 8)
    assert proba.shape == (0, 4)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_a_first_linear_layer_reveals_any_non_finite_input_even_through_zero_weights(value):
    torch.manual_seed(0)
    module = FCNet(50, 3, hidden_layer_sizes=(8,))  # starts with a Linear 50 -> 8
    with torch.no_grad():
        module[0].weight[:, 7] = 0.0  # inf * 0 is NaN: the zero weights hide nothing
        module[0].weight[:4, 11] = 0.0
    rng = np.random.default_rng(1)
    for column in (7, 11, int(rng.integers(50))):
        X = torch.randn(20, 50)
        row = int(rng.integers(20))
        X[row, column] = value
        with pytest.raises(NonFiniteInputError, match=f"first in row {row}"):
            predict_proba_in_batches(module, X, 6)


def test_hooks_on_the_module_still_fire(X):
    module = FCNet(432, 3, hidden_layer_sizes=(4,))
    calls = []
    handle = module.register_forward_hook(lambda *args: calls.append(1))
    try:
        predict_proba_in_batches(module, X, 10)
    finally:
        handle.remove()
    assert len(calls) == 4


def test_forward_pre_hooks_run_first_as_in_the_modules_own_call(X):
    torch.manual_seed(0)
    module = FCNet(432, 3, hidden_layer_sizes=(6,))
    module.register_forward_pre_hook(lambda module, args: (args[0] * 2 - 1,))
    np.testing.assert_array_equal(predict_proba_in_batches(module, X, 10),
                                  _reference(module, X, 10))


def test_the_folded_bias_is_the_float64_one_to_float32_rounding():
    """At the course's width, 2,304 columns a channel, on pixel statistics."""
    from facenet_sk._net import _StandardizeInput

    torch.manual_seed(0)
    module = FCNet(6912, 8, hidden_layer_sizes=(400,))
    mean, scale = [131.5, 97.0, 80.25], [61.0, 55.5, 58.0]
    standardize_input(module, mean, scale)
    weight, bias = _StandardizeInput.fold(module, module[0])
    w64 = module[0].weight.detach().double()
    tiled_mean, tiled_scale = (torch.tensor(v, dtype=torch.float64).repeat(2304)
                               for v in (mean, scale))
    exact = module[0].bias.detach().double() - (w64 / tiled_scale) @ tiled_mean
    assert bias.dtype == weight.dtype == torch.float32
    # Within 2 float32 steps of the largest bias (a float32 matrix-vector product is not).
    np.testing.assert_allclose(bias.double(), exact, rtol=0, atol=2 * float(
        torch.finfo(torch.float32).eps * exact.abs().max()))
    np.testing.assert_allclose(weight.double(), w64 / tiled_scale, rtol=2 ** -23)


def test_the_input_standardization_is_folded_into_the_first_layer(monkeypatch):
    """As the hook computes it, to float32 rounding, on raw pixels far from zero mean."""
    from facenet_sk import _net

    torch.manual_seed(0)
    pixels = torch.from_numpy(np.random.default_rng(2).integers(0, 256, (40, 432))
                              .astype(np.float32))
    for module in (FCNet(432, 3, hidden_layer_sizes=()), FCNet(432, 3, hidden_layer_sizes=(6,))):
        standardize_input(module, [131.5, 97.0, 80.25], [61.0, 55.5, 58.0])
        hooked = _reference(module, pixels, 16)
        with monkeypatch.context() as patch:  # the rows are not standardized one by one
            patch.setattr(_net, "standardized", None)
            folded = predict_proba_in_batches(module, pixels, 16)
        np.testing.assert_allclose(folded, hooked, rtol=1e-5, atol=1e-6)
        bad = pixels.clone()
        bad[12, 4] = float("nan")
        with pytest.raises(NonFiniteInputError, match="first in row 12"):
            predict_proba_in_batches(module, bad, 10)


def _standardized_net():
    torch.manual_seed(0)
    return standardize_input(FCNet(432, 3, hidden_layer_sizes=(6,)), [131.5, 97.0, 80.25],
                             [61.0, 55.5, 58.0])


def _pixels():
    return torch.from_numpy(np.random.default_rng(3).integers(0, 256, (30, 432))
                            .astype(np.float32))


def _replace_weight(module):
    module[0].weight.data = torch.rand_like(module[0].weight) * 0.1 - 0.05


def _load_other_weights(module):
    other = FCNet(432, 3, hidden_layer_sizes=(6,))
    standardize_input(other, [120.0, 90.0, 70.0], [50.0, 40.0, 45.0])
    module.load_state_dict(other.state_dict())


@pytest.mark.parametrize("change", [
    lambda module: module[0].weight.data.mul_(1.5),  # unseen by autograd's version counter
    lambda module: module[0].bias.data.add_(0.5),
    lambda module: module.input_mean.add_(10.0),
    lambda module: standardize_input(module, [100.0, 90.0, 80.0], [30.0, 20.0, 10.0]),
    _replace_weight,
    _load_other_weights,
    lambda module: module.double()[0].weight.data.mul_(1.5),
], ids=["weight-data", "bias-data", "statistics", "new-statistics", "replaced", "loaded",
        "float64"])
def test_the_fold_follows_every_change_of_the_weights_and_reuses_its_memory(change):
    from facenet_sk import _predict

    module, pixels = _standardized_net(), _pixels()
    first = predict_proba_in_batches(module, pixels, 8)
    memory = _predict._FOLD_MEMORY[module[0]]
    np.testing.assert_array_equal(predict_proba_in_batches(module, pixels, 8), first)
    assert _predict._FOLD_MEMORY[module[0]] is memory  # the same memory, not a new allocation
    change(module)
    pixels = pixels.to(module[0].weight.dtype)
    changed = predict_proba_in_batches(module, pixels, 8)
    assert np.abs(changed - first).max() > 1e-3  # the change shows in the probabilities
    np.testing.assert_allclose(changed, _reference(module, pixels, 8), rtol=1e-5, atol=1e-6)
    assert _predict._FOLD_MEMORY[module[0]].dtype == module[0].weight.dtype


def test_a_prediction_while_another_holds_the_memory_gets_its_own():
    from facenet_sk import _predict

    module, pixels = _standardized_net(), _pixels()
    expected = predict_proba_in_batches(module, pixels, 8)
    with _predict._memory_like(module[0]) as held:
        held.fill_(float("nan"))  # what a prediction in another thread might be writing
        np.testing.assert_array_equal(predict_proba_in_batches(module, pixels, 8), expected)
        assert _predict._FOLD_MEMORY[module[0]] is not held
    assert _predict._FOLD_MEMORY[module[0]] is held  # the last to give it back keeps it


def test_the_folding_memory_goes_with_its_module():
    import gc
    import weakref

    from facenet_sk import _predict

    module = _standardized_net()
    predict_proba_in_batches(module, _pixels(), 8)
    layer = weakref.ref(module[0])
    assert layer() in _predict._FOLD_MEMORY
    del module
    gc.collect()
    assert layer() is None


def test_relus_watched_by_a_hook_see_their_input_unchanged():
    """Unwatched ReLUs after the first layer work in place; a hook still sees its ReLU's input."""
    module, pixels = _standardized_net(), _pixels()
    seen = []
    handle = module[1].register_forward_hook(
        lambda layer, args, out: seen.append((args[0].clone(), args[0] is out)))
    try:
        proba = predict_proba_in_batches(module, pixels, 8)
    finally:
        handle.remove()
    assert len(seen) == 4
    assert all(not same and bool((before < 0).any()) for before, same in seen)
    np.testing.assert_allclose(proba, _reference(module, pixels, 8), rtol=1e-5, atol=1e-6)


def test_the_modules_mode_is_restored_when_folding_fails(monkeypatch):
    from facenet_sk._net import _StandardizeInput

    def broken(*args, **kwargs):
        raise RuntimeError("fold failed")

    monkeypatch.setattr(_StandardizeInput, "fold", staticmethod(broken))
    module = _standardized_net().train()
    with pytest.raises(RuntimeError, match="fold failed"):
        predict_proba_in_batches(module, _pixels(), 8)
    assert module.training


def test_too_few_rows_to_repay_the_fold_are_standardized_instead(monkeypatch):
    from facenet_sk._net import _StandardizeInput

    folds = []
    fold = _StandardizeInput.fold
    monkeypatch.setattr(_StandardizeInput, "fold",
                        staticmethod(lambda *args, **kwargs: folds.append(1) or fold(*args,
                                                                                     **kwargs)))
    module, pixels = _standardized_net(), _pixels()  # a first layer of 6 outputs
    one = predict_proba_in_batches(module, pixels[:1], 8)
    assert folds == []  # 1 row: standardized, checked on the first layer's output
    np.testing.assert_allclose(one, _reference(module, pixels[:1], 8), rtol=1e-5, atol=1e-6)
    both = predict_proba_in_batches(module, pixels[:2], 8)
    assert folds == [1]
    np.testing.assert_allclose(both, _reference(module, pixels[:2], 8), rtol=1e-5, atol=1e-6)
    bad = pixels[:1].clone()
    bad[0, 3] = float("inf")
    with pytest.raises(NonFiniteInputError, match="first in row 0"):
        predict_proba_in_batches(module, bad, 8)
