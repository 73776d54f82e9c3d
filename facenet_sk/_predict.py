"""Class probabilities of a trained network, batch by batch, with the set-up paid once.

skorch's ``predict_proba`` switches the module to evaluation mode, converts
the batch and the output and appends them to a list for every batch, and
scikit-learn's input validation scans the whole of X for NaN and infinity
before the first batch: for the fully connected networks, whose forward
pass is a single small matrix product, that overhead cost as much as the
arithmetic. Here the module is switched once, the probabilities are
written into one preallocated array, and the finiteness check runs batch by
batch, on the smallest tensor that reveals a NaN or an infinity of the input
(see :func:`_split_first_linear`).
"""

import contextlib
import functools
import weakref

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.modules import module as _torch_module

from ._malloc import reuse_freed_memory
from .nets import _observed


class NonFiniteInputError(ValueError):
    """X holds NaN or infinity (a ValueError, as scikit-learn's validation raises)."""


def _check_finite(batch, offset):
    """Raise :class:`NonFiniteInputError` naming the first bad row if ``batch`` is not finite."""
    # The sum is finite for finite input unless it overflows: only then look closer.
    if torch.isfinite(batch.sum()):
        return
    finite = torch.isfinite(batch)
    if bool(finite.all()):
        return
    row = offset + int((~finite).any(dim=1).nonzero()[0, 0])
    kind = "NaN" if bool(torch.isnan(batch).any()) else "infinity"
    raise NonFiniteInputError(f"Input X contains {kind} (first in row {row}); the network "
                              "needs finite values")


def _plain_sequential(module):
    """Whether ``module`` is an ``nn.Sequential`` that runs its layers in order."""
    return isinstance(module, nn.Sequential) and type(module).forward is nn.Sequential.forward


def _module_watched(module):
    """Whether a forward hook of every module, or of ``module`` itself, would see its calls.

    Its forward pre-hooks without keyword arguments are left to the caller.
    """
    return bool(_torch_module._global_forward_hooks or _torch_module._global_forward_pre_hooks
                or module._forward_hooks or module._forward_pre_hooks_with_kwargs)


def _split_first_linear(module, lent, n_rows):
    """(pre-hooks, first Linear layer, the layers after it) when the check may look at its output.

    A NaN or an infinity anywhere in a row of X makes every output of a
    Linear layer on that row NaN or infinite, whatever the weights: the
    product with the weight is NaN or infinite (``inf * 0`` is NaN) and no
    finite term cancels it. So when a plain ``nn.Sequential`` starts with a
    Linear layer narrower than its input, a finite output of that layer
    proves the input row finite, and only its much smaller output needs
    checking (for ``only_fc``, 8 values a row instead of 6,912). Forward
    pre-hooks of the module run first, as the module's own call runs them;
    a hook that can ``fold`` itself into the first layer (the per-channel
    standardization of ``input_scaling="channel"``) is folded instead
    when ``n_rows`` rows are enough to repay it, so the input rows are
    read once, by the matrix product; the folded weight is written into
    memory that ``lent`` (a :class:`contextlib.ExitStack`) gives back when
    the call ends. Otherwise, or while other hooks watch the module, None:
    the input itself is checked.
    """
    if not (_plain_sequential(module) and len(module) and type(module[0]) is nn.Linear
            and module[0].out_features < module[0].in_features):
        return None
    layers = list(module)
    if _module_watched(module):
        return None
    pre_hooks = list(module._forward_pre_hooks.values())
    first = layers[0]
    # Folding costs about three passes over the first layer's weights,
    # standardizing about four over the rows: measured for fc_with_hidden
    # (400 outputs), they break even at about 130 rows.
    if len(pre_hooks) == 1 and hasattr(pre_hooks[0], "fold") and 3 * n_rows >= first.out_features:
        # The input standardization folded into the first layer's weights, once per call.
        memory = lent.enter_context(_memory_like(first))
        weight, bias = pre_hooks[0].fold(module, first, out=memory)
        pre_hooks, first = [], functools.partial(F.linear, weight=weight, bias=bias)
    # Every layer after the first gets a tensor of this prediction's own: an
    # unwatched ReLU may overwrite it instead of allocating another.
    rest = [torch.relu_ if type(layer) is nn.ReLU and not _observed([layer]) else layer
            for layer in layers[1:]]
    return pre_hooks, first, rest


# Memory for the folded weight of each first layer that predicted, while the
# layer lives; lent to one prediction at a time.
_FOLD_MEMORY = weakref.WeakKeyDictionary()


@contextlib.contextmanager
def _memory_like(layer):
    """An uninitialized tensor shaped like ``layer.weight``, kept beside ``layer`` between calls.

    Folding writes a copy of the first layer's weights (11 MB for
    ``fc_with_hidden``). Freshly allocated, those pages come from the
    kernel, faulted in and zeroed on every prediction: that cost more than
    the division itself. Kept, the memory is reused; the fold is still
    computed again on every call, from the weights of that moment. A
    prediction that runs while another holds the memory gets its own.
    """
    weight = layer.weight
    memory = _FOLD_MEMORY.pop(layer, None)
    if memory is None or (memory.shape, memory.dtype, memory.device) != (
            weight.shape, weight.dtype, weight.device):
        memory = torch.empty_like(weight)
    try:
        yield memory
    finally:
        _FOLD_MEMORY[layer] = memory


#: Rows per forward pass, at least, of networks made only of row-wise layers.
#: Their activations take a few KB a row (``fc_with_hidden``: 2.4 KB), so
#: 2,048 rows stay under 5 MB, and the larger matrix products run faster:
#: ``only_fc`` predicts 2,000 images in 3.4 ms instead of 5.8 ms at 128.
ROW_WISE_BLOCK_ROWS = 2048

# Layers that treat every row on its own in evaluation mode (facenet_sk's
# Dropout is an nn.Dropout).
_ROW_WISE_LAYERS = (nn.Linear, nn.ReLU, nn.BatchNorm1d, nn.Dropout, nn.Identity)


def _row_wise(module):
    """Whether ``module`` is a plain ``nn.Sequential`` of row-wise layers only."""
    return (_plain_sequential(module)
            and all(isinstance(layer, _ROW_WISE_LAYERS) for layer in module))


def rows_per_block(module, batch_size):
    """Rows of X per forward pass when predicting with ``module``.

    ``batch_size`` rows, as in training, except for a plain
    ``nn.Sequential`` of row-wise layers (Linear, ReLU, BatchNorm1d,
    Dropout), such as the fully connected networks: at least
    :data:`ROW_WISE_BLOCK_ROWS`. In evaluation mode each row's output
    depends on that row alone, so the probabilities are those of any
    other block size, to float32 rounding. Not while a hook watches the
    module or one of its layers: each call then sees ``batch_size`` rows.

    Examples
    --------
    >>> from torch import nn
    >>> rows_per_block(nn.Sequential(nn.Linear(6912, 8)), 128)
    2048
    >>> rows_per_block(nn.Sequential(nn.Conv2d(3, 8, 3)), 128)
    128
    """
    row_wise = _row_wise(module)
    # A hook may count or keep what each call sees: it sees batch_size rows, as
    # it always did. The input standardization (foldable) is no such hook.
    if row_wise and not (
            _module_watched(module) or _observed(list(module))
            or not all(hasattr(hook, "fold") for hook in module._forward_pre_hooks.values())):
        return max(int(batch_size), ROW_WISE_BLOCK_ROWS)
    return int(batch_size)


def predict_proba_in_batches(module, X, batch_size, device="cpu", check_finite=True):
    """Softmax of ``module``'s outputs on ``X``, computed ``batch_size`` rows at a time.

    Parameters
    ----------
    module : torch.nn.Module
        A classifier returning logits; run in evaluation mode (its previous
        mode is restored afterwards).
    X : torch.Tensor of shape (n_samples, n_features)
        Float input on the CPU.
    batch_size : int
        Rows per forward pass (more for networks of row-wise layers, see
        :func:`rows_per_block`).
    device : str or torch.device, default="cpu"
        Where the module's parameters are; each batch is moved there.
    check_finite : bool, default=True
        Raise a ValueError (:class:`NonFiniteInputError`) when X holds NaN or
        infinity, as scikit-learn's validation does, checking each batch
        before its forward pass.

    Returns
    -------
    ndarray of shape (n_samples, n_classes), float32

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> proba = predict_proba_in_batches(nn.Linear(4, 3), torch.zeros(5, 4), batch_size=2)
    >>> proba.shape, bool(abs(proba.sum(axis=1) - 1).max() < 1e-6)
    ((5, 3), True)
    """
    n = len(X)
    batch_size = rows_per_block(module, batch_size)
    was_training = module.training
    module.train(False)
    on_cpu = torch.device(device).type == "cpu"
    logits = None
    held = contextlib.ExitStack()  # released when the call ends, however it ends
    if not _row_wise(module):
        # A CNN's activations take tens of MB a batch: glibc would map fresh
        # pages for each (see reuse_freed_memory, where allowed). Row-wise
        # networks' take a few MB even in blocks of 2,048 rows, which glibc
        # serves from its heap anyway, and trimming the heap after every
        # call would only cost the next one fresh pages.
        held.enter_context(reuse_freed_memory())
    try:
        split = _split_first_linear(module, held, n) if check_finite else None
        with torch.inference_mode():
            for start in range(0, n, batch_size):
                batch = X[start:start + batch_size]
                if not on_cpu:
                    batch = batch.to(device)
                if split is None:
                    if check_finite:
                        _check_finite(batch, start)
                    out = module(batch)
                else:
                    pre_hooks, first, rest = split
                    out = batch
                    for hook in pre_hooks:
                        changed = hook(module, (out,))
                        if changed is not None:
                            out = changed[0] if isinstance(changed, tuple) else changed
                    out = first(out)
                    # A non-finite value makes the sum non-finite: one reduction, no mask.
                    if rest and not torch.isfinite(out.sum()):
                        _check_finite(batch, start)  # raises unless huge values overflowed
                    for layer in rest:
                        out = layer(out)
                if logits is None:
                    logits = torch.empty((n, out.shape[1]), dtype=out.dtype)
                logits[start:start + len(batch)] = out
            if logits is None:  # no rows: ask the module for its width
                logits = torch.empty((0, module(X.new_zeros((1, *X.shape[1:])).to(device))
                                      .shape[1]))
            if split is not None and not split[2] and not torch.isfinite(logits.sum()):
                # A single Linear layer: its outputs are the logits, checked once for all
                # batches. Every row with a NaN or an infinity has non-finite logits.
                for row in (~torch.isfinite(logits)).any(dim=1).nonzero()[:, 0].tolist():
                    _check_finite(X[row:row + 1], row)
            # Row by row, as skorch's batch by batch: the same probabilities.
            proba = torch.softmax(logits, dim=-1)
    finally:
        held.close()
        module.train(was_training)
    return proba.numpy()
