"""reuse_freed_memory: glibc serves big blocks from its heap inside, and is restored after;
and only in processes that allowed it: a fit in someone else's process leaves malloc alone."""

import ctypes
import os
import subprocess
import sys
import threading

import pytest

from facenet_sk import (
    _malloc,
    estimators,  # noqa: F401  (torch loads its libraries before CDLL is patched)
)
from facenet_sk._malloc import reuse_freed_memory


def _is_glibc():
    try:
        # Only glibc has it.
        return hasattr(ctypes.CDLL(None), "gnu_get_libc_version") and sys.platform.startswith(
            "linux"
        )
    except (OSError, AttributeError):
        return False


pytestmark = pytest.mark.skipif(not _is_glibc(), reason="malloc tuning applies to glibc only")


@pytest.fixture
def isolated(request):
    """True once the test has passed in a fresh interpreter of its own.

    glibc's counters are process-wide: in a long test session other tests'
    threads and earlier allocations move them, so the checks that read them
    run alone in a child ``pytest`` (where this fixture gives False).
    """
    if os.environ.get("_FACENET_SK_MALLOC_CHILD") == "1":
        return False
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", request.node.nodeid],
        cwd=request.config.rootpath,
        env={**os.environ, "_FACENET_SK_MALLOC_CHILD": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    return True


@pytest.fixture
def allowed(monkeypatch):
    """This test process allows the tuning (as the facenet-sk command does)."""
    monkeypatch.setenv("FACENET_SK_MALLOC", "reuse")


def _unset(monkeypatch):
    """No FACENET_SK_MALLOC in the test, and the caller's value back afterwards."""
    monkeypatch.setenv("FACENET_SK_MALLOC", "")  # records the value to restore
    monkeypatch.delenv("FACENET_SK_MALLOC")


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


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


def test_big_blocks_come_from_the_heap_inside_and_are_mapped_outside(allowed, isolated):
    if isolated:
        return
    before, _ = _mmapped_blocks_while_holding(1024)
    outside, outside_bytes = _mmapped_blocks_while_holding(BIG)
    assert outside == before + 1 and outside_bytes >= BIG
    with reuse_freed_memory():
        inside, _ = _mmapped_blocks_while_holding(BIG)
    assert inside == before
    after, _ = _mmapped_blocks_while_holding(BIG)
    assert after == before + 1


def test_nested_and_threaded_blocks_restore_only_when_the_last_one_leaves(allowed, isolated):
    if isolated:
        return
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
    assert seen == {"after_inner": before, "while_thread_inside": before, "after_all": before + 1}


def test_exceptions_still_restore(allowed, isolated):
    if isolated:
        return
    before, _ = _mmapped_blocks_while_holding(1024)
    with pytest.raises(RuntimeError):
        with reuse_freed_memory():
            raise RuntimeError("boom")
    assert _mmapped_blocks_while_holding(BIG)[0] == before + 1


@pytest.mark.parametrize("setting", ["off", "configured"])
def test_switched_off_malloc_is_left_alone(monkeypatch, setting, isolated):
    if isolated:
        return
    _unset(monkeypatch)
    if setting == "off":
        monkeypatch.setenv("FACENET_SK_MALLOC", "off")
    else:  # the environment configures malloc itself, as Dask's nannies do
        monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")
    before, _ = _mmapped_blocks_while_holding(1024)
    with reuse_freed_memory():
        assert _mmapped_blocks_while_holding(BIG)[0] == before + 1


class _RecordingLibc:
    """Stands for glibc and records every allocator option set."""

    def __init__(self):
        self.calls = []

    def mallopt(self, param, value):
        self.calls.append(("mallopt", param, value))
        return 1

    def malloc_trim(self, pad):
        self.calls.append(("malloc_trim", pad))
        return 1


def _fit_and_predict():
    import numpy as np

    from facenet_sk import FCNetClassifier

    X = np.random.default_rng(0).random((20, 12), dtype=np.float32)
    y = np.arange(20) % 2
    FCNetClassifier(hidden_layer_sizes=(), max_epochs=1, random_state=0).fit(X, y).predict(X)


@pytest.mark.parametrize("how", ["config", "environment", "malloc configured"])
def test_switched_off_a_fit_changes_no_allocator_option(monkeypatch, how):
    """Switched off, or where the environment configures malloc (a Dask worker
    under its nanny), fit and predict leave glibc's options as they found them."""
    from facenet_sk import config_context

    _unset(monkeypatch)
    libc = _RecordingLibc()
    libc.gnu_get_libc_version = None
    monkeypatch.setattr(_malloc.ctypes, "CDLL", lambda name: libc)
    if how == "environment":
        monkeypatch.setenv("FACENET_SK_MALLOC", "off")
    elif how == "malloc configured":
        monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=65536")
    with config_context(reuse_memory=how != "config"):
        _fit_and_predict()
    assert libc.calls == []


def test_by_default_a_fit_tunes_inside_fit_only(monkeypatch):
    """A plain script or notebook gets the fast path; the options are set on
    entry and set back, with a trim, on exit."""
    libc = _RecordingLibc()
    libc.gnu_get_libc_version = None
    monkeypatch.setattr(_malloc.ctypes, "CDLL", lambda name: libc)
    _unset(monkeypatch)
    for name in ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "GLIBC_TUNABLES"):
        monkeypatch.delenv(name, raising=False)
    _fit_and_predict()
    # fit: options set on entry, restored and trimmed on exit. The fully
    # connected network's prediction keeps activations of a few KB a row:
    # glibc's own thresholds serve them, and no trim costs the next call.
    assert libc.calls == _ENTRY + _EXIT


def test_allowing_tunes_even_where_the_environment_configures_malloc(monkeypatch):
    from facenet_sk import allow_malloc_tuning

    libc = _RecordingLibc()
    libc.gnu_get_libc_version = None
    monkeypatch.setattr(_malloc.ctypes, "CDLL", lambda name: libc)
    _unset(monkeypatch)
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")
    allow_malloc_tuning()
    _fit_and_predict()
    assert libc.calls == _ENTRY + _EXIT
    allow_malloc_tuning(False)
    assert __import__("os").environ["FACENET_SK_MALLOC"] == "off"
    libc.calls.clear()
    _fit_and_predict()
    assert libc.calls == []


_ENTRY = [
    ("mallopt", _malloc._M_MMAP_MAX, 0),
    ("mallopt", _malloc._M_TRIM_THRESHOLD, _malloc._NO_TRIM),
]
_EXIT = [
    ("mallopt", _malloc._M_MMAP_MAX, _malloc._DEFAULT_MMAP_MAX),
    ("mallopt", _malloc._M_MMAP_THRESHOLD, _malloc._DYNAMIC_MMAP_THRESHOLD_MAX),
    ("mallopt", _malloc._M_TRIM_THRESHOLD, 2 * _malloc._DYNAMIC_MMAP_THRESHOLD_MAX),
    ("malloc_trim", 0),
]


def test_a_cnns_prediction_tunes_and_a_fully_connected_ones_does_not(monkeypatch):
    """A CNN's activations take tens of MB a batch; row-wise networks' a few KB a row."""
    import torch

    from facenet_sk._predict import predict_proba
    from facenet_sk.nets import CNN, FCNet

    libc = _RecordingLibc()
    libc.gnu_get_libc_version = None
    monkeypatch.setattr(_malloc.ctypes, "CDLL", lambda name: libc)
    monkeypatch.setenv("FACENET_SK_MALLOC", "reuse")
    X = torch.zeros((5, 12 * 12 * 3))
    predict_proba(FCNet(432, 3, hidden_layer_sizes=(4,)).eval(), X, 2)
    assert libc.calls == []
    predict_proba(CNN((12, 12, 3), 3, conv_filters=(4,), dense_units=4).eval(), X, 2)
    assert libc.calls == _ENTRY + _EXIT


def test_the_command_allows_it_and_library_calls_do_not(monkeypatch):
    """facenet-sk run as a command owns its process; main(argv) called from
    Python code (tests, notebooks) does not."""
    from facenet_sk import cli

    _unset(monkeypatch)
    monkeypatch.setattr(sys, "argv", ["facenet-sk", "summary", "only_fc"])
    assert cli.main(["summary", "only_fc"]) == 0
    assert "FACENET_SK_MALLOC" not in __import__("os").environ
    assert cli.main() == 0
    assert __import__("os").environ["FACENET_SK_MALLOC"] == "reuse"


def test_fit_runs_inside(monkeypatch):
    """The estimators' fit takes the block (one entry); a fully connected network's
    predict_proba does not (a CNN's does: see the test above)."""
    import numpy as np

    from facenet_sk import FCNetClassifier

    entries = []
    original = _malloc.reuse_freed_memory

    def counting():
        entries.append(1)
        return original()

    for module in ("facenet_sk._base", "facenet_sk._predict"):
        monkeypatch.setattr(sys.modules[module], "reuse_freed_memory", counting)
    X = np.random.default_rng(0).random((20, 12), dtype=np.float32)
    y = np.arange(20) % 2
    model = FCNetClassifier(hidden_layer_sizes=(), max_epochs=1, random_state=0).fit(X, y)
    assert len(entries) == 1
    model.predict(X)
    assert len(entries) == 1
