"""Class probabilities of a trained network: a pure read of the fitted module.

Prediction never changes a model: the module is used in the mode ``fit``
left it in (evaluation mode), under ``torch.inference_mode``, so that
dropout stays off, batch normalization uses its running statistics and
nothing is written to the module. Concurrent predictions on one fitted model
(a threaded web server, say) therefore give the single-threaded answers.
"""

import contextlib

import numpy as np
import torch
from torch import nn

from ._malloc import reuse_freed_memory

#: Rows per forward pass, at least, of a network without convolutions.
ROW_BLOCK = 512


class NonFiniteOutputError(ValueError):
    """The network's output overflowed (a ValueError, as scikit-learn's validation raises)."""


def predict_proba(module, X, batch_size, device="cpu", autocast_dtype=None):
    """Softmax of ``module``'s outputs on ``X``, computed ``batch_size`` rows at a time.

    Parameters
    ----------
    module : torch.nn.Module
        A classifier returning logits, in evaluation mode (a module in
        training mode is refused: it would predict with dropout and batch
        statistics, and change its batch normalization's statistics).
    X : torch.Tensor of shape (n_samples, n_features)
        Finite float input on the CPU.
    batch_size : int
        Rows per forward pass (at least :data:`ROW_BLOCK` for a network
        without convolutions).
    device : str or torch.device, default="cpu"
        Where the module's parameters are; each batch is moved there.
    autocast_dtype : torch.dtype, default=None
        Run the forward passes under :func:`torch.autocast` with this dtype
        (mixed precision); None for the module's own dtype.

    Returns
    -------
    ndarray of shape (n_samples, n_classes), float32

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> proba = predict_proba(nn.Linear(4, 3).eval(), torch.zeros(5, 4), batch_size=2)
    >>> proba.shape, bool(abs(proba.sum(axis=1) - 1).max() < 1e-6)
    ((5, 3), True)
    """
    if module.training:
        raise RuntimeError(
            "the network is in training mode, so it would predict with dropout and batch "
            "statistics and change its running statistics; fit leaves it in evaluation mode: "
            "call net_.module_.eval() after training it by hand"
        )
    outputs = []
    # A CNN's activations take tens of MB a batch (see reuse_freed_memory); a
    # fully connected network's a few KB a row, which malloc's heap serves
    # anyway, and trimming it after the call would cost the next one.
    convolutional = any(isinstance(layer, nn.Conv2d) for layer in module.modules())
    if not convolutional:
        # A few KB a row: blocks of ROW_BLOCK rows run larger matrix products
        # and their copies stay below glibc's largest mmap threshold (reused, not
        # mapped afresh); in evaluation mode each row's output is its own.
        batch_size = max(batch_size, ROW_BLOCK)
    autocast = torch.autocast(
        torch.device(device).type, dtype=autocast_dtype, enabled=autocast_dtype is not None
    )
    with (
        reuse_freed_memory() if convolutional else contextlib.nullcontext(),
        torch.inference_mode(),
        autocast,
    ):
        for start in range(0, len(X), batch_size):
            logits = module(X[start : start + batch_size].to(device))
            outputs.append(torch.softmax(logits.float(), dim=-1).cpu())
        if not outputs:  # no rows: ask the module for its width
            width = module(X.new_zeros((1, *X.shape[1:])).to(device)).shape[1]
            return np.empty((0, width), dtype=np.float32)
    proba = torch.cat(outputs).numpy()
    bad = ~np.isfinite(proba).all(axis=1)
    if bad.any():
        # Finite input was checked before: only values too large for float32
        # arithmetic get here (e.g. 3e38 times a weight overflows).
        row = int(np.flatnonzero(bad)[0])
        largest = float(X[row].abs().max())
        raise NonFiniteOutputError(
            f"the network's output for row {row} of X is not finite: its values (up to "
            f"{largest:.3g} in absolute value) overflow float32 arithmetic; scale X (e.g. "
            "input_scaling='channel' or a StandardScaler)"
        )
    return proba
