"""What a person watching training sees: skorch's epoch table without colour
codes where they do not belong, and a line per fit of a long search.

skorch's PrintLog colours the best value of each column with ANSI codes,
always: written to a file or a pipe, or with ``NO_COLOR`` set
(https://no-color.org), they show up as ``\\x1b[36m`` garbage.
"""

import os
import re
import sys
import time

from skorch.callbacks import Callback, PrintLog

_ANSI_CODE = re.compile(r"\x1b\[[0-9;]*m")


def use_colour(stream=None):
    """Whether ``stream`` (default: stdout) takes colour codes.

    Only a terminal does, and only while ``NO_COLOR`` is unset or empty.

    Examples
    --------
    >>> import io
    >>> use_colour(io.StringIO())
    False
    """
    if os.environ.get("NO_COLOR"):
        return False
    stream = sys.stdout if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def strip_colour(text):
    """``text`` without ANSI colour codes.

    Examples
    --------
    >>> strip_colour("\\x1b[36m0.5000\\x1b[0m")
    '0.5000'
    """
    return _ANSI_CODE.sub("", text)


class EpochTable(PrintLog):
    """skorch's per-epoch table, coloured only on a terminal without ``NO_COLOR``.

    Its ``train_loss`` and ``train_acc`` are averages over the epoch's
    batches, measured while the network learns (weights changing, dropout
    on); the ``train_accuracy`` of a results table scores the finished model
    on the whole training set, so the two differ.
    """

    def format_row(self, row, key, color):
        text = super().format_row(row, key, color)
        if isinstance(text, str) and not use_colour():
            return strip_colour(text)
        return text


def _clock(seconds):
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class FitProgress(Callback):
    """A line before every fit of a search: fit k of N, time elapsed, time left.

    One instance is shared by every clone of the estimator (cloned or
    deep-copied, it stays itself), so it counts the fits of a sequential
    :class:`~sklearn.model_selection.GridSearchCV`.
    The estimate of the time left is the mean time of the finished fits
    times the fits still to come.

    Parameters
    ----------
    total : int
        Fits to expect (candidates x folds, plus 1 for the refit).
    refit : bool, default=True
        Whether the last fit is the refit of the best candidate.
    sink : callable, default=print
        Where the lines go.

    Examples
    --------
    >>> progress = FitProgress(total=3)
    >>> progress.on_train_begin(None)
    fit 1/3: elapsed 0:00
    """

    def __init__(self, total, refit=True, sink=print):
        self.total = total
        self.refit = refit
        self.sink = sink
        self.started_ = None
        self.begun_ = 0
        self.finished_ = 0
        self.fit_seconds_ = 0.0
        self.fit_start_ = None

    # scikit-learn's clone treats a skorch callback as an estimator and builds a
    # new one from its parameters; the count must survive, so a clone is itself.
    def __sklearn_clone__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        now = time.perf_counter()
        if self.started_ is None:
            self.started_ = now
        self.begun_ += 1
        self.fit_start_ = now
        what = (
            " (refit of the best candidate on all the data)"
            if self.refit and self.begun_ == self.total
            else ""
        )
        line = f"fit {self.begun_}/{self.total}{what}: elapsed {_clock(now - self.started_)}"
        if self.finished_:
            left = self.fit_seconds_ / self.finished_ * (self.total - self.begun_ + 1)
            line += f", about {_clock(left)} left"
        self.sink(line)

    def on_train_end(self, net, X=None, y=None, **kwargs):
        if self.fit_start_ is not None:
            self.fit_seconds_ += time.perf_counter() - self.fit_start_
            self.finished_ += 1
            self.fit_start_ = None
