"""The allowed values of the classifiers' hyper-parameters, declared once.

Each classifier lists its hyper-parameters in ``_parameter_constraints``, in
scikit-learn's own vocabulary (:class:`~sklearn.utils._param_validation.Interval`,
``StrOptions``, ``"boolean"``...), and ``fit`` checks them all before it
touches the data (scikit-learn's ``_fit_context``). numpy numbers count as
numbers everywhere (``np.int64(50)``, ``np.float32(0.3)``) and numpy arrays as
sequences, so that grids built with ``np.arange`` search as lists do.

The few rules scikit-learn has no word for are constraints of the same kind,
defined here.
"""

import math
import re
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, Options, StrOptions

#: The optimizers known by name; any ``torch.optim.Optimizer`` subclass works too.
OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
}


def _is_int(value):
    # bool is an Integral, but ``batch_size=True`` is a mistake, not 1.
    return isinstance(value, Integral) and not isinstance(value, (bool, np.bool_))


class Ints(Interval):
    """An integer (Python or numpy, not bool) in an interval."""

    def __init__(self, left, right=None, *, closed="left"):
        super().__init__(Integral, left, right, closed=closed)

    def is_satisfied_by(self, val):
        return _is_int(val) and super().is_satisfied_by(val)


class _Rule(Options):
    """A constraint of our own that scikit-learn's validation accepts.

    scikit-learn takes constraint objects of its own classes only; an
    ``Options`` whose test is overridden is one.
    """

    def __init__(self):
        super().__init__(object, set())


class PositiveInts(_Rule):
    """A sequence (tuple, list, 1-d array) of integers >= 1.

    Parameters
    ----------
    length : int, default=None
        The exact length wanted, if any.
    allow_empty : bool, default=True
        Whether ``()`` is allowed.
    """

    def __init__(self, *, length=None, allow_empty=True):
        super().__init__()
        self.length = length
        self.allow_empty = allow_empty

    def is_satisfied_by(self, val):
        if isinstance(val, (str, bytes)) or isinstance(val, np.ndarray) and val.ndim != 1:
            return False
        try:
            values = list(val)
        except TypeError:
            return False
        if self.length is not None and len(values) != self.length:
            return False
        if not values and not self.allow_empty:
            return False
        return all(_is_int(v) and v >= 1 for v in values)

    def __str__(self):
        size = (f"{self.length} " if self.length is not None
                else "" if self.allow_empty else "one or more ")
        return f"a sequence of {size}integers >= 1 (tuple, list or 1-d array)"


class OptimizerClass(_Rule):
    """A subclass of :class:`torch.optim.Optimizer`."""

    def is_satisfied_by(self, val):
        return isinstance(val, type) and issubclass(val, torch.optim.Optimizer)

    def __str__(self):
        return "a torch.optim.Optimizer class"


class CudaDevice(_Rule):
    """A CUDA device name, ``"cuda"`` or ``"cuda:N"``."""

    def is_satisfied_by(self, val):
        return isinstance(val, str) and re.fullmatch(r"cuda(:\d+)?", val) is not None

    def __str__(self):
        return "'cuda' or 'cuda:N'"


#: Hyper-parameters both classifiers share, with their allowed values.
SHARED_CONSTRAINTS = {
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "batchnorm": ["boolean"],
    "batchnorm_momentum": [Interval(Real, 0, 1, closed="right")],
    "lr": [Interval(Real, 0, math.inf, closed="neither")],
    "max_epochs": [Ints(1)],
    "batch_size": [Ints(1)],
    "optimizer": [StrOptions(set(OPTIMIZERS)), OptimizerClass()],
    "optimizer_params": [dict, None],
    "criterion_params": [dict, None],
    "weight_decay": [Interval(Real, 0, math.inf, closed="left")],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "n_iter_no_change": [Ints(1)],
    "augment": ["boolean"],
    "input_scaling": [StrOptions({"channel"}), None],
    "class_weight": [StrOptions({"balanced"}), dict, None],
    "image_shape": [PositiveInts(length=3), None],
    "warm_start": ["boolean"],
    "random_state": ["random_state"],
    "device": [StrOptions({"cpu", "mps", "auto"}), CudaDevice()],
    "n_threads": [Ints(1), None],
    "verbose": [Ints(0)],
    "callbacks": [list, tuple, None],
}

# Arguments of the optimizer and the loss that other hyper-parameters own.
_OWNED_OPTIMIZER_ARGS = {"params": None, "lr": "lr", "weight_decay": "weight_decay"}
_OWNED_CRITERION_ARGS = {"weight": "class_weight"}


def check_routed_args(estimator, optimizer, criterion):
    """Raise ValueError for an ``optimizer_params`` or ``criterion_params`` key
    that ``optimizer`` or ``criterion`` does not take, or that another
    hyper-parameter sets.
    """
    import inspect

    for attr, target, owned in (("optimizer_params", optimizer, _OWNED_OPTIMIZER_ARGS),
                                ("criterion_params", criterion, _OWNED_CRITERION_ARGS)):
        given = getattr(estimator, attr) or {}
        prefix = attr.split("_")[0]
        for key in given:
            if not isinstance(key, str):
                raise ValueError(f"{attr} keys must be argument names, got {key!r}")
            if key in owned:
                instead = (f"set {owned[key]}= instead" if owned[key]
                           else "the network's parameters are given by fit")
                raise ValueError(f"{prefix}__{key} cannot be set through {attr}: {instead}")
        accepted = inspect.signature(target).parameters
        takes_any = any(p.kind is p.VAR_KEYWORD for p in accepted.values())
        unknown = sorted(k for k in given if k not in accepted)
        if unknown and not takes_any:
            names = sorted(k for k in accepted if k not in owned and k != "self")
            raise ValueError(f"{target.__name__} takes no argument(s) {unknown} "
                             f"({prefix}__*); it takes {names}")
