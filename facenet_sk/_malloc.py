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

Nothing happens outside glibc (macOS, Windows, musl) or when the environment
variable ``FACENET_SK_MALLOC`` is ``default``.
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


def _glibc():
    """The C library when it is glibc with ``mallopt`` and ``malloc_trim``, else None."""
    if not sys.platform.startswith("linux") or os.environ.get("FACENET_SK_MALLOC") == "default":
        return None
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # only glibc has it
        return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
    except (OSError, AttributeError):
        return None


@contextlib.contextmanager
def reuse_freed_memory():
    """Within the block, glibc keeps freed memory for reuse instead of unmapping it.

    Re-entrant and safe across threads: the first block to enter sets the
    options and the last to leave restores them and trims the heap.

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
