"""Let training reuse freed memory instead of asking the kernel for fresh pages.

PyTorch's CPU allocator hands every tensor to ``malloc``. glibc's ``malloc``
serves blocks above its mmap threshold (at most 32 MB) with a fresh ``mmap``
and returns them with ``munmap`` when freed. A batch of 128 48x48 images with
32 channels is 37.7 MB, so every such activation and gradient of every step
comes as new pages that the kernel must fault in and zero: a large part of a
CNN's training time (``benchmarks/README.md``). While a network trains or
predicts, :func:`reuse_freed_memory` makes glibc serve all blocks from its
heap and keep what is freed there for the next step; afterwards it gives the
free memory back to the system (``malloc_trim``) and sets glibc's thresholds
to the values its own dynamic rule reaches after such work (a 32 MB mmap
threshold, a 64 MB trim threshold).

glibc cannot read its options back, and any ``mallopt`` call ends the
adaptation of its thresholds, so what remains after a fit is that: the
thresholds stay where glibc's rule had taken them, and stop moving. That is
done by default, in every process that fits a network (a notebook, a script,
``GridSearchCV``'s workers), except where the environment configures malloc
itself (``MALLOC_TRIM_THRESHOLD_``, ``MALLOC_MMAP_THRESHOLD_``,
``MALLOC_MMAP_MAX_``, ``MALLOC_TOP_PAD_`` or ``glibc.malloc`` tunables in
``GLIBC_TUNABLES``, as Dask's nannies set): there it is left alone. The
switch: ``facenet_sk.set_config(reuse_memory=False)`` in a process, or
``FACENET_SK_MALLOC=off`` in the environment (which child processes, such as
joblib's workers, inherit); ``FACENET_SK_MALLOC=reuse`` tunes even where the
environment configures malloc. Nothing happens outside glibc (macOS,
Windows, musl).
"""

import contextlib
import ctypes
import os
import sys
import threading

from ._config import get_config

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


#: The environment variable, and its values that force the tuning on or off.
ENV_VAR, ALLOWED, REFUSED = "FACENET_SK_MALLOC", "reuse", "off"
#: glibc's own ways of configuring malloc from the environment.
_GLIBC_MALLOC_ENV = (
    "MALLOC_TRIM_THRESHOLD_",
    "MALLOC_MMAP_THRESHOLD_",
    "MALLOC_MMAP_MAX_",
    "MALLOC_TOP_PAD_",
)


def allow_malloc_tuning(allowed=True):
    """Force the networks' malloc tuning on or off in this process and its children (glibc).

    By default ``fit`` and a CNN's ``predict_proba`` let glibc's ``malloc``
    keep freed memory for reuse while they run (see the module's notes),
    unless the environment configures malloc itself. ``allowed=True``
    tunes even then; ``allowed=False`` never tunes. It sets the environment
    variable ``FACENET_SK_MALLOC`` (``reuse`` or ``off``), which child
    processes inherit.

    Parameters
    ----------
    allowed : bool, default=True
        True to tune whatever the environment says, False never to tune.

    Examples
    --------
    >>> import os
    >>> from facenet_sk import allow_malloc_tuning
    >>> allow_malloc_tuning(False)
    >>> os.environ["FACENET_SK_MALLOC"]
    'off'
    >>> del os.environ["FACENET_SK_MALLOC"]
    """
    os.environ[ENV_VAR] = ALLOWED if allowed else REFUSED


def _environment_configures_malloc():
    tunables = os.environ.get("GLIBC_TUNABLES", "")
    return any(os.environ.get(name) for name in _GLIBC_MALLOC_ENV) or "glibc.malloc." in tunables


def _glibc():
    """The C library when tuning is on and it is glibc with ``mallopt`` and
    ``malloc_trim``, else None."""
    setting = os.environ.get(ENV_VAR, "")
    if not sys.platform.startswith("linux") or setting == REFUSED:
        return None
    if setting != ALLOWED and (
        not get_config()["reuse_memory"] or _environment_configures_malloc()
    ):
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

    Unless switched off (``set_config(reuse_memory=False)``,
    ``FACENET_SK_MALLOC=off``) or the environment configures malloc (see the
    module's notes); otherwise the block runs as it is. Re-entrant and safe
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
