"""The switches of facenet_sk's speed-ups, one each, in one place.

Each speed-up gives the same model as PyTorch's plain path (to float
rounding, or the same distribution for random masks); a switch turns it off,
to compare, to debug or to work around a platform where it misbehaves. The
settings are process-wide (not per thread) and are read when a network is
built or trained.

=================  =======  ===================================================
switch             default  what it turns off
=================  =======  ===================================================
``fast_dropout``   True     dropout masks drawn from random bytes (NumPy's SFC64
                            generator) instead of ``torch.nn.Dropout``'s
                            ``bernoulli_``, about 5x cheaper on the CPU
``fused_adam``     True     PyTorch's fused Adam/AdamW kernel (one pass over the
                            weights) where the device has it and the user's
                            ``optimizer_params`` choose no implementation
``reuse_memory``   True     glibc's malloc keeping freed memory for the next
                            step while a network trains or a CNN predicts
                            (``FACENET_SK_MALLOC=off`` in the environment
                            turns it off in child processes too)
=================  =======  ===================================================
"""

import contextlib

_DEFAULTS = {"fast_dropout": True, "fused_adam": True, "reuse_memory": True}
_config = dict(_DEFAULTS)


def get_config():
    """The current switches, as a new dict.

    Examples
    --------
    >>> from facenet_sk import get_config
    >>> get_config()["fast_dropout"]
    True
    """
    return dict(_config)


def set_config(**switches):
    """Turn speed-ups on or off for the rest of the process.

    Parameters
    ----------
    **switches : bool
        Any of ``fast_dropout``, ``fused_adam``, ``reuse_memory`` (see the
        module's table).

    Examples
    --------
    >>> from facenet_sk import get_config, set_config
    >>> set_config(fused_adam=False)
    >>> get_config()["fused_adam"]
    False
    >>> set_config(fused_adam=True)
    """
    unknown = sorted(set(switches) - set(_DEFAULTS))
    if unknown:
        raise ValueError(f"unknown switch(es) {unknown}; the switches are {sorted(_DEFAULTS)}")
    for name, value in switches.items():
        if not isinstance(value, bool):
            raise TypeError(f"{name} must be True or False, got {value!r}")
    _config.update(switches)


@contextlib.contextmanager
def config_context(**switches):
    """Set switches within a ``with`` block, then restore the previous ones.

    Examples
    --------
    >>> from facenet_sk import config_context, get_config
    >>> with config_context(fast_dropout=False):
    ...     get_config()["fast_dropout"]
    False
    >>> get_config()["fast_dropout"]
    True
    """
    previous = get_config()
    set_config(**switches)
    try:
        yield
    finally:
        _config.clear()
        _config.update(previous)
