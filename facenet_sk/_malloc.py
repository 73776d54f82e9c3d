"""Let training reuse freed memory instead of asking the kernel for fresh pages.

PyTorch's CPU allocator hands every tensor to ``malloc``. glibc's ``malloc``
serves blocks above its mmap threshold (at most 32 MB) with a fresh ``mmap``
and returns them with ``munmap`` when freed. A batch of 128 48x48 images with
32 channels is 37.7 MB, so every such activation and gradient of every step
comes as new pages that the kernel must fault in and zero: with batch
normalization that is about a third of the training time. While a network
trains or predicts, :func:`reuse_freed_memory` makes glibc serve all blocks
from its heap and keep what is freed there for the next step; afterwards it
gives the free memory back to the system (``malloc_trim``) and leaves glibc
with the thresholds its own dynamic rule reaches for such work.

That last part is a lasting change to the whole process: glibc has no way to
read its options back, and any ``mallopt`` call ends its dynamic thresholds
for good. So the tuning happens only in processes that ask for it, by
:func:`allow_malloc_tuning` or the environment variable
``FACENET_SK_MALLOC=reuse`` (which child processes, such as joblib's workers,
inherit): the ``facenet-sk`` command and the benchmarks do; a library call in
someone else's process (a notebook, a Dask worker) leaves ``malloc`` alone.
Nothing happens outside glibc (macOS, Windows, musl).
"""

import contextlib
import ctypes
import os
import sys
import threading

# mallopt parameters, from glibc's <malloc.h>.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_MMAP_MAX = -4

# glibc's default for M_MMAP_MAX, and the largest mmap threshold its dynamic
# rule reaches on 64-bit systems (with a trim threshold of twice that).
_DEFAULT_MMAP_MAX = 65536
_DYNAMIC_MMAP_THRESHOLD_MAX = 32 * 1024 * 1024
# While training, give heap memory back only past 2 GB free (malloc_trim does
# it afterwards).
_NO_TRIM = 2**31 - 1

_lock = threading.Lock()
_depth = 0


#: The environment variable, and its value, that let facenet_sk tune malloc.
ENV_VAR, ALLOWED = "FACENET_SK_MALLOC", "reuse"


def allow_malloc_tuning(allowed=True):
    """Let the networks keep freed memory for reuse in this process (glibc only).

    With it, ``fit`` and ``predict_proba`` ask glibc's ``malloc`` to serve
    every block from its heap while they run (faster training of the CNNs on
    the CPU, whose 37.7 MB activations are otherwise fresh pages from the
    kernel at every step; ``benchmarks/README.md`` has the figures), and
    give the free memory back when they end. It changes glibc's options for
    the rest of the process (its dynamic mmap threshold stops adapting), so
    call it only in a process you own, e.g. a training script; the
    ``facenet-sk`` command does. It sets the environment variable
    ``FACENET_SK_MALLOC=reuse``, which child processes inherit.

    Parameters
    ----------
    allowed : bool, default=True
        False takes the permission back (later fits leave malloc alone).

    Examples
    --------
    >>> import os
    >>> from facenet_sk import allow_malloc_tuning
    >>> allow_malloc_tuning()
    >>> os.environ["FACENET_SK_MALLOC"]
    'reuse'
    >>> allow_malloc_tuning(False)
    """
    if allowed:
        os.environ[ENV_VAR] = ALLOWED
    else:
        os.environ.pop(ENV_VAR, None)


def _glibc():
    """The C library when tuning is allowed and it is glibc with ``mallopt``
    and ``malloc_trim``, else None."""
    if not sys.platform.startswith("linux") or os.environ.get(ENV_VAR) != ALLOWED:
        return None
    try:
        libc = ctypes.CDLL(None)
        names = ("gnu_get_libc_version", "mallopt", "malloc_trim")  # the first: glibc only
        return libc if all(hasattr(libc, name) for name in names) else None
    except (OSError, AttributeError):
        return None


@contextlib.contextmanager
def reuse_freed_memory():
    """Within the block, glibc keeps freed memory for reuse instead of unmapping it.

    Only where :func:`allow_malloc_tuning` (or ``FACENET_SK_MALLOC=reuse``)
    allowed it; otherwise the block runs as it is. Re-entrant and safe
    across threads: the first block to enter sets the options and the last
    to leave restores them and trims the heap.

    Examples
    --------
    >>> import torch
    >>> with reuse_freed_memory():
    ...     total = sum(float(torch.ones(2**23).sum()) for _ in range(3))
    >>> total
    25165824.0
    """
    global _depth
    libc = _glibc()
    if libc is None:
        yield
        return
    with _lock:
        _depth += 1
        if _depth == 1:
            libc.mallopt(_M_MMAP_MAX, 0)
            libc.mallopt(_M_TRIM_THRESHOLD, _NO_TRIM)
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                libc.mallopt(_M_MMAP_MAX, _DEFAULT_MMAP_MAX)
                libc.mallopt(_M_MMAP_THRESHOLD, _DYNAMIC_MMAP_THRESHOLD_MAX)
                libc.mallopt(_M_TRIM_THRESHOLD, 2 * _DYNAMIC_MMAP_THRESHOLD_MAX)
                libc.malloc_trim(0)
