"""How a hyper-parameter is declared: one :class:`Param`, and the rules it may use.

Every hyper-parameter of the network classifiers is one :class:`Param` in
``facenet_sk/estimators.py``: its name, default, allowed values and
documentation together. From that one declaration a classifier gets its
``__init__`` signature (what ``get_params``, ``clone`` and ``repr`` read),
its ``_parameter_constraints`` (checked by scikit-learn's ``_fit_context``
at the top of ``fit``) and the "Parameters" section of its docstring.

The allowed values use scikit-learn's own vocabulary
(:class:`~sklearn.utils._param_validation.Interval`, ``StrOptions``,
``"boolean"``...). numpy numbers count as numbers everywhere
(``np.int64(50)``, ``np.float32(0.3)``) and numpy arrays as sequences, so that
grids built with ``np.arange`` search as lists do. The few rules
scikit-learn has no word for are constraints of the same kind, defined here.
"""

import inspect
import re
import textwrap
from dataclasses import dataclass
from numbers import Integral

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, Options

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
        size = (
            f"{self.length} "
            if self.length is not None
            else ""
            if self.allow_empty
            else "one or more "
        )
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


@dataclass(frozen=True)
class Param:
    """One hyper-parameter: name, default, allowed values and documentation.

    Parameters
    ----------
    name : str
        The constructor argument (and attribute) name.
    default : object
        Its default value (immutable: a tuple, not a list).
    constraints : list
        scikit-learn constraints of its allowed values.
    type_doc : str
        The type part of its numpydoc line, e.g. ``"float"``.
    doc : str
        What it does (wrapped and indented when the docstring is built).
    positional : bool, default=False
        Whether it may be given by position (the family's own leading
        arguments); the others are keyword-only.

    Examples
    --------
    >>> from sklearn.utils._param_validation import Interval
    >>> from numbers import Real
    >>> lr = Param("lr", 0.001, [Interval(Real, 0, None, closed="neither")], "float",
    ...            "Learning rate.")
    >>> print(lr.docstring())
        lr : float, default=0.001
            Learning rate.
    """

    name: str
    default: object
    constraints: list
    type_doc: str
    doc: str
    positional: bool = False

    def docstring(self):
        """The parameter's entry in a numpydoc "Parameters" section (4-space indented)."""
        body = textwrap.fill(
            " ".join(self.doc.split()), width=88, initial_indent=" " * 8, subsequent_indent=" " * 8
        )
        return f"    {self.name} : {self.type_doc}, default={self.default!r}\n{body}"


def declared_init(params):
    """An ``__init__`` that stores each of ``params`` as an attribute, with their signature.

    scikit-learn reads hyper-parameter names from the signature of
    ``__init__`` (``inspect.signature``, which honours ``__signature__``), so
    the generated method behaves as one written out by hand: arguments
    stored unchanged, nothing else done.

    Parameters
    ----------
    params : sequence of Param

    Returns
    -------
    function

    Examples
    --------
    >>> import inspect
    >>> init = declared_init([Param("a", 1, [], "int", "A.", positional=True),
    ...                       Param("b", None, [], "None", "B.")])
    >>> str(inspect.signature(init))
    '(self, a=1, *, b=None)'
    """
    kinds = {True: inspect.Parameter.POSITIONAL_OR_KEYWORD, False: inspect.Parameter.KEYWORD_ONLY}
    signature = inspect.Signature(
        [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        + [inspect.Parameter(p.name, kinds[p.positional], default=p.default) for p in params]
    )

    def __init__(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        for name, value in list(bound.arguments.items())[1:]:
            setattr(self, name, value)

    __init__.__signature__ = signature
    return __init__


# Arguments of the optimizer and the loss that other hyper-parameters own.
_OWNED_OPTIMIZER_ARGS = {"params": None, "lr": "lr", "weight_decay": "weight_decay"}
_OWNED_CRITERION_ARGS = {"weight": "class_weight"}


def check_routed_args(estimator, optimizer, criterion):
    """Raise ValueError for an ``optimizer_params`` or ``criterion_params`` key
    that ``optimizer`` or ``criterion`` does not take, or that another
    hyper-parameter sets.
    """

    for attr, target, owned in (
        ("optimizer_params", optimizer, _OWNED_OPTIMIZER_ARGS),
        ("criterion_params", criterion, _OWNED_CRITERION_ARGS),
    ):
        given = getattr(estimator, attr) or {}
        prefix = attr.split("_")[0]
        for key in given:
            if not isinstance(key, str):
                raise ValueError(f"{attr} keys must be argument names, got {key!r}")
            if key in owned:
                instead = (
                    f"set {owned[key]}= instead"
                    if owned[key]
                    else "the network's parameters are given by fit"
                )
                raise ValueError(f"{prefix}__{key} cannot be set through {attr}: {instead}")
        accepted = inspect.signature(target).parameters
        takes_any = any(p.kind is p.VAR_KEYWORD for p in accepted.values())
        unknown = sorted(k for k in given if k not in accepted)
        if unknown and not takes_any:
            names = sorted(k for k in accepted if k not in owned and k != "self")
            raise ValueError(
                f"{target.__name__} takes no argument(s) {unknown} ({prefix}__*); it takes {names}"
            )
