"""reuse_freed_memory: glibc serves big blocks from its heap inside, and is restored after."""

import ctypes
import sys
import threading

import pytest

from facenet_sk import _malloc
from facenet_sk._malloc import reuse_freed_memory

pytestmark = pytest.mark.skipif(_malloc._glibc() is None,
                                reason="malloc tuning applies to glibc only")


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]


def _mmapped_blocks_while_holding(n_bytes):
    """How many blocks glibc has mmapped while a malloc'd block of ``n_bytes`` is alive."""
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]
    libc.mallinfo2.restype = _MallInfo2
    block = libc.malloc(n_bytes)
    try:
        return libc.mallinfo2().hblks, libc.mallinfo2().hblkhd
    finally:
        libc.free(block)


BIG = 48 * 1024 * 1024  # above glibc's largest mmap threshold (32 MB)


def test_big_blocks_come_from_the_heap_inside_and_are_mapped_outside():
    before, _ = _mmapped_blocks_while_holding(1024)
    outside, outside_bytes = _mmapped_blocks_while_holding(BIG)
    assert outside == before + 1 and outside_bytes >= BIG
    with reuse_freed_memory():
        inside, _ = _mmapped_blocks_while_holding(BIG)
    assert inside == before
    after, _ = _mmapped_blocks_while_holding(BIG)
    assert after == before + 1


def test_nested_and_threaded_blocks_restore_only_when_the_last_one_leaves():
    before, _ = _mmapped_blocks_while_holding(1024)
    inner_left = threading.Event()
    seen = {}

    def other_thread():
        with reuse_freed_memory():
            inner_left.wait(timeout=30)

    with reuse_freed_memory():
        worker = threading.Thread(target=other_thread)
        worker.start()
        with reuse_freed_memory():
            pass
        seen["after_inner"] = _mmapped_blocks_while_holding(BIG)[0]
    seen["while_thread_inside"] = _mmapped_blocks_while_holding(BIG)[0]
    inner_left.set()
    worker.join()
    seen["after_all"] = _mmapped_blocks_while_holding(BIG)[0]
    assert seen == {"after_inner": before, "while_thread_inside": before,
                    "after_all": before + 1}


def test_exceptions_still_restore():
    before, _ = _mmapped_blocks_while_holding(1024)
    with pytest.raises(RuntimeError):
        with reuse_freed_memory():
            raise RuntimeError("boom")
    assert _mmapped_blocks_while_holding(BIG)[0] == before + 1


def test_environment_variable_leaves_malloc_alone(monkeypatch):
    monkeypatch.setenv("FACENET_SK_MALLOC", "default")
    before, _ = _mmapped_blocks_while_holding(1024)
    with reuse_freed_memory():
        assert _mmapped_blocks_while_holding(BIG)[0] == before + 1


def test_fit_runs_inside(monkeypatch):
    """The estimators' fit and predict_proba take the block (one entry each)."""
    from facenet_sk import FCNetClassifier
    import numpy as np

    entries = []
    original = _malloc.reuse_freed_memory

    def counting():
        entries.append(1)
        return original()

    monkeypatch.setattr(sys.modules["facenet_sk._base"], "reuse_freed_memory", counting)
    X = np.random.default_rng(0).random((20, 12), dtype=np.float32)
    y = np.arange(20) % 2
    model = FCNetClassifier(hidden_layer_sizes=(), max_epochs=1, random_state=0).fit(X, y)
    model.predict(X)
    assert len(entries) == 2
