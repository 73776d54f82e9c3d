"""Which floating-point precision a network computes in: the ``precision`` hyper-parameter.

``"bfloat16"`` runs the forward pass under :func:`torch.autocast` (mixed
precision: matrix products and convolutions in bfloat16, reductions, the
loss and the weights in float32), in training and in prediction.
``"float32"`` computes in float32 throughout. ``"auto"`` chooses bfloat16
where the device has hardware for it -- a CUDA device that supports it, or a
CPU with AMX or AVX512-BF16 instructions (read from ``/proc/cpuinfo`` on
Linux) -- and float32 elsewhere, so that it is never slower than float32.
"""

import functools

import torch

PRECISIONS = ("auto", "float32", "bfloat16")
#: CPU flags (Linux's names) of instructions that compute bfloat16 products.
BF16_CPU_FLAGS = ("amx_bf16", "avx512_bf16")


@functools.lru_cache(maxsize=1)
def cpu_flags():
    """The CPU's feature flags as Linux lists them (an empty set elsewhere).

    Examples
    --------
    >>> isinstance(cpu_flags(), frozenset)
    True
    """
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def cpu_bf16_units():
    """The CPU's instruction sets that compute bfloat16 products, sorted (Linux's names).

    Examples
    --------
    >>> set(cpu_bf16_units()) <= set(BF16_CPU_FLAGS)
    True
    """
    return sorted(cpu_flags() & set(BF16_CPU_FLAGS))


def autocast_dtype(precision, device):
    """The autocast dtype for ``precision`` on ``device``: ``torch.bfloat16`` or None (float32).

    Parameters
    ----------
    precision : {"auto", "float32", "bfloat16"}
    device : str or torch.device

    Returns
    -------
    torch.dtype or None

    Examples
    --------
    >>> autocast_dtype("float32", "cpu") is None
    True
    >>> autocast_dtype("bfloat16", "cpu")
    torch.bfloat16
    """
    if precision == "float32":
        return None
    kind = torch.device(device).type
    if kind == "cuda":
        supported = torch.cuda.is_bf16_supported()
    elif kind == "cpu":
        supported = bool(cpu_bf16_units())
    else:
        supported = False
    if precision == "bfloat16":
        if kind not in ("cpu", "cuda") or (kind == "cuda" and not supported):
            raise ValueError(
                f"precision='bfloat16' is not supported on device {str(device)!r}; "
                "use 'float32' or 'auto'"
            )
        return torch.bfloat16
    return torch.bfloat16 if supported else None
