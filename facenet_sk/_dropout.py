"""Dropout whose random mask costs little on the CPU.

PyTorch's CPU dropout draws its mask with ``bernoulli_``, one Mersenne
Twister number per element in a serial loop: on the course's
``cnn_dropout`` a large part of every training step. :class:`Dropout` keeps
the distribution (each element kept independently with probability
``1 - p``, kept ones multiplied by the same float32 ``1 / (1 - p)``, the
identity in evaluation mode) and the arithmetic (``x * noise`` forward,
``grad * noise`` backward), but decides each element as if by a uniform
32-bit draw against a 32-bit threshold, drawing lazily from NumPy's SFC64
generator: one random byte per element settles all but the 1 in 256 whose
byte equals the threshold's first byte, and only those draw the next 24
bits (the cost is measured in ``benchmarks/README.md``). The
generator is seeded from PyTorch's global generator at every call, so
``torch.manual_seed`` fixes every mask. The masks are drawn this way for
float32, float64 and bfloat16 tensors (the activations of
``precision="bfloat16"``); other devices and dtypes keep PyTorch's own
dropout, and so does every call while the ``fast_dropout`` switch is off
(:func:`facenet_sk.set_config`).
"""

import numpy as np
import torch
from torch import nn

from ._config import get_config

# The dtype in which each tensor dtype's scale is computed: bfloat16 as
# PyTorch computes it, in float32 and then rounded (by the multiplication below).
_DTYPES = {torch.float32: np.float32, torch.float64: np.float64, torch.bfloat16: np.float32}


def dropout_noise(like, p):
    """The noise tensor of dropout: ``1 / (1 - p)`` with probability ``1 - p``, else 0.

    Shaped and laid out like ``like`` (contiguous or channels-last), with its
    dtype (float32, float64 or bfloat16, where ``1 / (1 - p)`` is rounded to
    bfloat16 as in PyTorch's dropout). An element is kept with probability
    ``round((1 - p) * 2**32) / 2**32``: ``1 - p`` to within 2**-33.

    Parameters
    ----------
    like : torch.Tensor
        A dense CPU tensor of dtype float32, float64 or bfloat16.
    p : float
        Probability of a zero, in [0, 1).

    Returns
    -------
    torch.Tensor

    Examples
    --------
    >>> import torch
    >>> _ = torch.manual_seed(0)
    >>> noise = dropout_noise(torch.empty(1000, 100), 0.3)
    >>> sorted(set(noise.unique().tolist()))
    [0.0, 1.4285714626312256]
    >>> round((noise > 0).float().mean().item(), 2)
    0.7
    """
    dtype = _DTYPES[like.dtype]
    # PyTorch scales by the reciprocal of the keep rate computed in the tensor's dtype.
    scale = dtype(1) / dtype(1 - p)
    # An element is kept when a uniform 32-bit draw falls below `threshold`.
    # Its first byte decides unless it equals the threshold's first byte
    # (1 in 256); only then are the other 24 bits drawn, and compared with
    # the threshold's other 24: the keep probability is threshold / 2**32.
    threshold = round((1 - p) * 2**32)
    first_byte, other_bits = divmod(threshold, 2**24)
    # The seed comes from torch's global generator, so torch.manual_seed (and
    # torch.random.fork_rng in fit) fixes the noise as it fixes nn.Dropout's.
    generator = np.random.SFC64(int(torch.randint(0, 2**63 - 1, (), dtype=torch.int64)))
    n = like.numel()
    first = generator.random_raw(-(-n // 8)).view(np.uint8)[:n]
    keep = np.less(first, first_byte)
    if other_bits:
        ties = np.flatnonzero(np.equal(first, first_byte))
        keep[ties] = generator.random_raw(ties.size) >> np.uint64(40) < other_bits
    # Read as bytes, the mask converts on torch's threads (vectorized; a bool
    # tensor or NumPy's bool-to-float conversion is several times slower).
    flat = torch.empty(n, dtype=like.dtype).copy_(torch.from_numpy(keep.view(np.uint8)))
    flat.mul_(float(scale))
    # The noise takes the memory layout of the tensor it multiplies, so that the
    # product walks both in memory order (channels-last activations included).
    return flat.as_strided(like.shape, like.stride())


def _dense(x):
    """Whether ``x``'s strides cover its elements exactly once (contiguous or channels-last)."""
    return x.is_contiguous() or (
        x.dim() == 4 and x.is_contiguous(memory_format=torch.channels_last)
    )


class Dropout(nn.Dropout):
    """:class:`torch.nn.Dropout` with a cheaper random mask on the CPU.

    In training mode every element is zeroed with probability ``p`` and the
    others are multiplied by ``1 / (1 - p)``; in evaluation mode it returns
    its input. The distribution and the arithmetic are those of
    ``nn.Dropout``; only the random stream differs: random bytes from
    NumPy's SFC64 generator (see :func:`dropout_noise`), seeded from
    PyTorch's global generator at every call.

    Parameters
    ----------
    p : float, default=0.5
        Probability of an element to be zeroed.
    inplace : bool, default=False
        As ``nn.Dropout``'s (takes PyTorch's own path).

    Examples
    --------
    >>> import torch
    >>> layer = Dropout(0.3)
    >>> out = layer(torch.ones(10000))
    >>> sorted({round(v, 4) for v in out.tolist()})
    [0.0, 1.4286]
    >>> bool((layer.eval()(torch.ones(3)) == 1).all())
    True
    """

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        if (
            x.device.type != "cpu"
            or x.dtype not in _DTYPES
            or self.inplace
            or self.p == 1
            or not _dense(x)
            or not get_config()["fast_dropout"]
        ):
            return super().forward(x)
        # As PyTorch's own: autograd saves the noise and multiplies the gradient by it.
        return x * dropout_noise(x, self.p)
