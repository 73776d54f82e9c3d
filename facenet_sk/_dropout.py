"""Dropout whose random mask costs little on the CPU.

PyTorch's CPU dropout draws its mask with ``bernoulli_``, one Mersenne
Twister number per element in a serial loop (about 16 ns an element on the
development machine): on the course's ``cnn_dropout`` that was a sixth of
every training step. :class:`Dropout` keeps the distribution (each element
kept independently with probability ``1 - p``, kept ones multiplied by the
same float32 ``1 / (1 - p)``, the identity in evaluation mode) and the
arithmetic (``x * noise`` forward, ``grad * noise`` backward), but draws one
uniform 32-bit number per element from NumPy's SFC64 generator (about 1 ns
an element), in fixed chunks that run on as many threads as torch uses.
The streams are seeded from PyTorch's global generator at every call, so
``torch.manual_seed`` fixes every mask, whatever the number of threads.
Other devices and dtypes keep PyTorch's own dropout.
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
from torch import nn

#: Elements per random stream. Fixed, so that the masks do not depend on how
#: many threads draw them.
CHUNK = 2**20
_DTYPES = {torch.float32: np.float32, torch.float64: np.float64}

_pool = None
_pool_pid = None
_pool_lock = threading.Lock()


def _thread_pool():
    """A thread pool for the draws; a fresh one in a forked child (threads do not survive a fork)."""
    global _pool, _pool_pid
    with _pool_lock:
        if _pool is None or _pool_pid != os.getpid():
            _pool = ThreadPoolExecutor(max_workers=max(1, (os.cpu_count() or 2) - 1),
                                       thread_name_prefix="facenet_sk-dropout")
            _pool_pid = os.getpid()
        return _pool


def dropout_noise(like, p):
    """The noise tensor of dropout: ``1 / (1 - p)`` with probability ``1 - p``, else 0.

    Shaped and laid out like ``like`` (contiguous or channels-last), with its
    dtype (float32 or float64). One uniform 32-bit draw per element is kept
    when it falls below ``round((1 - p) * 2**32)``: the keep probability is
    exact to 2**-33.

    Parameters
    ----------
    like : torch.Tensor
        A dense CPU tensor of dtype float32 or float64.
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
    threshold = round((1 - p) * 2**32) - 2**31  # the draws are uniform on [-2**31, 2**31)
    # The seed comes from torch's global generator, so torch.manual_seed (and
    # torch.random.fork_rng in fit) fixes the noise as it fixes nn.Dropout's.
    seed = int(torch.randint(0, 2**63 - 1, (), dtype=torch.int64))
    n = like.numel()
    flat = torch.empty(n, dtype=like.dtype)
    out = flat.numpy()

    def fill(chunks):
        for i in chunks:
            start, stop = i * CHUNK, min(n, (i + 1) * CHUNK)
            raw = np.random.SFC64([seed, i]).random_raw((stop - start + 1) // 2)
            keep = np.less(raw.view(np.int32)[:stop - start], threshold)
            np.multiply(keep, scale, out=out[start:stop])

    n_chunks = -(-n // CHUNK)
    workers = min(torch.get_num_threads(), n_chunks)
    if workers > 1:
        # NumPy releases the GIL while drawing and comparing: the chunks run in parallel.
        groups = [range(w, n_chunks, workers) for w in range(workers)]
        pending = [_thread_pool().submit(fill, group) for group in groups[1:]]
        fill(groups[0])
        for job in pending:
            job.result()
    else:
        fill(range(n_chunks))
    # The noise takes the memory layout of the tensor it multiplies, so that the
    # product walks both in memory order (channels-last activations included).
    return flat.as_strided(like.shape, like.stride())


def _dense(x):
    """Whether ``x``'s strides cover its elements exactly once (contiguous or channels-last)."""
    return x.is_contiguous() or (x.dim() == 4 and x.is_contiguous(
        memory_format=torch.channels_last))


class Dropout(nn.Dropout):
    """:class:`torch.nn.Dropout` with a cheaper random mask on the CPU.

    In training mode every element is zeroed with probability ``p`` and the
    others are multiplied by ``1 / (1 - p)``; in evaluation mode it returns
    its input. The distribution and the arithmetic are those of
    ``nn.Dropout``; only the random stream differs: one uniform 32-bit
    draw per element from NumPy's SFC64 generator, seeded from PyTorch's
    global generator at every call.

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
        if (x.device.type != "cpu" or x.dtype not in _DTYPES or self.inplace or self.p == 1
                or not _dense(x)):
            return super().forward(x)
        # As PyTorch's own: autograd saves the noise and multiplies the gradient by it.
        return x * dropout_noise(x, self.p)
