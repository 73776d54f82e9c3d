"""What every facenet_sk network classifier shares: a scikit-learn estimator
that builds, trains and queries a skorch net around a PyTorch module."""

import contextlib
import math
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import StratifiedShuffleSplit
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch import NeuralNetClassifier
from skorch.callbacks import EarlyStopping, EpochScoring, ProgressBar
from skorch.helper import predefined_split
from torch import nn

from ._augment import FlipShift
from ._batches import BatchLoader, TensorDataset
from ._malloc import reuse_freed_memory
from ._predict import predict_proba_in_batches
from ._threads import dask_task_threads
from ._version import __version__

#: The exercise's input: 48x48 RGB images, 8 people.
DEFAULT_IMAGE_SHAPE = (48, 48, 3)
DEFAULT_N_CLASSES = 8

OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
}


class VersionMismatchWarning(UserWarning):
    """A model was pickled by another facenet_sk version than the one loading it."""


class _SkorchNet(NeuralNetClassifier):
    """skorch's classifier, remembering whether Ctrl-C ended its training,
    and pickling its module once.

    skorch stops training on KeyboardInterrupt and keeps the weights reached
    so far; the flag lets callers (the CLI, compare_models) stop too.
    """

    # skorch keeps the module instance it is given as ``module`` and trains that
    # very object as ``module_``, but saves only ``module_`` the device-aware way.
    # Pickled as is, the weights would be stored twice, and a model trained on a
    # GPU could not be loaded where there is none: save ``module`` as a reference.
    _SAME_AS_MODULE_ = "<module_>"

    def __getstate__(self):
        shared = self.__dict__.get("module") is self.__dict__.get("module_") is not None
        state = super().__getstate__()
        if shared:
            state["module"] = self._SAME_AS_MODULE_
        return state

    def __setstate__(self, state):
        shared = state.get("module") == self._SAME_AS_MODULE_
        super().__setstate__(state)
        if shared:
            self.module = self.module_

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        self.interrupted_ = False
        try:
            return super().fit_loop(X, y, epochs=epochs, **fit_params)
        except KeyboardInterrupt:
            self.interrupted_ = True
            raise


@contextlib.contextmanager
def torch_threads(n_threads):
    """Run the block with ``torch.set_num_threads(n_threads)``, then restore.

    None leaves torch's setting, except in a Dask task: there the task takes
    the threads its worker gives it (see ``_threads.dask_task_threads``).
    """
    if n_threads is None:
        n_threads = dask_task_threads()
    if n_threads is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _fused_optimizer_params(optimizer, device):
    """``{"optimizer__fused": True}`` where torch has a fused kernel for it, else {}.

    Fused Adam updates every weight in one pass instead of about ten, the
    same arithmetic: 3x faster steps on the CPU, a quarter of the training
    time of the MLP. Other optimizers and older torch keep their defaults.
    """
    if optimizer not in (torch.optim.Adam, torch.optim.AdamW):
        return {}
    try:
        from torch.utils._foreach_utils import _get_fused_kernels_supported_devices
        supported = _get_fused_kernels_supported_devices()
    except ImportError:  # a torch without the helper
        return {}
    return {"optimizer__fused": True} if torch.device(device).type in supported else {}


def _resolve_device(device):
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was asked for, but no CUDA device is available")
    return device


def _infer_image_shape(n_features):
    """(s, s, 3) when ``n_features`` is 3 * s * s, else None."""
    side = math.isqrt(n_features // 3)
    return (side, side, 3) if n_features and 3 * side * side == n_features else None


class BaseNetClassifier(ClassifierMixin, BaseEstimator):
    """Shared machinery of the network classifiers; not used directly.

    Subclasses define ``__init__`` (every hyper-parameter as a plain
    argument) and ``_module(n_features, n_classes, image_shape)``.
    """

    #: Whether the network needs to know the images' shape (CNNs do).
    _needs_image_shape = False

    # ----------------------------------------------------------- parameters
    def _check_params(self):
        """Raise ValueError naming any hyper-parameter outside its range."""
        checks = [
            ("lr", self.lr, Real, lambda v: 0 < v < math.inf, "> 0 and finite"),
            ("max_epochs", self.max_epochs, Integral, lambda v: v >= 1, ">= 1"),
            ("batch_size", self.batch_size, Integral, lambda v: v >= 1, ">= 1"),
            ("dropout", self.dropout, Real, lambda v: 0 <= v < 1, "in [0, 1)"),
            ("batchnorm_momentum", self.batchnorm_momentum, Real, lambda v: 0 < v <= 1,
             "in (0, 1]"),
            ("weight_decay", self.weight_decay, Real, lambda v: v >= 0, ">= 0"),
            ("validation_fraction", self.validation_fraction, Real, lambda v: 0 < v < 1,
             "in (0, 1)"),
            ("n_iter_no_change", self.n_iter_no_change, Integral, lambda v: v >= 1, ">= 1"),
            ("verbose", self.verbose, Integral, lambda v: v >= 0, ">= 0"),
        ]
        if self.n_threads is not None:
            checks.append(("n_threads", self.n_threads, Integral, lambda v: v >= 1, ">= 1"))
        for name, value, kind, ok, allowed in checks:
            if isinstance(value, bool) or not isinstance(value, kind) or not ok(value):
                raise ValueError(f"{name} must be {kind.__name__.lower()} {allowed}, "
                                 f"got {value!r}")
        for name in ("early_stopping", "augment", "batchnorm"):
            # A string such as "no" would be truthy and silently switch the option on.
            if not isinstance(getattr(self, name, False), (bool, np.bool_)):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")
        if not (isinstance(self.optimizer, str) and self.optimizer.lower() in OPTIMIZERS
                or isinstance(self.optimizer, type)
                and issubclass(self.optimizer, torch.optim.Optimizer)):
            raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)} or a "
                             f"torch.optim.Optimizer class, got {self.optimizer!r}")
        if self.class_weight not in (None, "balanced") and not isinstance(self.class_weight,
                                                                           dict):
            raise ValueError("class_weight must be None, 'balanced' or a dict label -> "
                             f"weight, got {self.class_weight!r}")
        if self.device not in ("auto", "cpu", "mps") and not str(self.device).startswith("cuda"):
            raise ValueError(f"device must be 'cpu', 'cuda', 'cuda:N', 'mps' or 'auto', "
                             f"got {self.device!r}")

    # ---------------------------------------------------------------- input
    def _check_X(self, X, ensure_all_finite=True):
        """Validate X for prediction: float32 2-D features of the fitted shape."""
        X, image_shape = _flatten_images(X)
        if getattr(X, "ndim", 2) > 2:
            images = f" or images of shape {self.image_shape_}" if self.image_shape_ else ""
            raise ValueError(f"X has shape {tuple(X.shape)}, but {type(self).__name__} takes "
                             f"rows of {self.n_features_in_} features{images}")
        if image_shape is not None and self.image_shape_ is not None \
                and image_shape != self.image_shape_:
            raise ValueError(f"X has images of shape {image_shape}, but {type(self).__name__} "
                             f"was fitted on images of shape {self.image_shape_}")
        return _writeable(validate_data(self, X, reset=False, dtype=np.float32,
                                        ensure_all_finite=ensure_all_finite))

    def _check_X_y(self, X, y):
        """Validate training data; set ``n_features_in_``, ``classes_``, ``image_shape_``."""
        X, image_shape = _flatten_images(X)
        X, y = validate_data(self, X, y, dtype=np.float32)
        y = self._encode_y(y)
        self.image_shape_ = self._resolve_image_shape(image_shape, X.shape[1])
        return _writeable(X), y

    def _resolve_image_shape(self, given, n_features):
        """The image shape from X, the ``image_shape`` parameter, or the width."""
        if self.image_shape is not None:
            wanted = tuple(self.image_shape)
            if given is not None and given != wanted:
                raise ValueError(f"X has images of shape {given}, but image_shape={wanted}")
            if math.prod(wanted) != n_features:
                raise ValueError(f"image_shape={wanted} needs {math.prod(wanted)} features, "
                                 f"but X has {n_features}")
            return wanted
        shape = given or _infer_image_shape(n_features)
        if shape is None and self._needs_image_shape:
            raise ValueError(
                f"{type(self).__name__} needs images: X has {n_features} features, which is not "
                "a square RGB image (3 * side * side values). Pass images of shape "
                "(n, height, width, channels) or set image_shape=(height, width, channels)."
            )
        return shape

    def _encode_y(self, y):
        y = _numeric_object_labels(y)
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        if len(encoder.classes_) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes in the data, but "
                f"the data contains only one class: {encoder.classes_.tolist()[0]!r}"
            )
        self.classes_ = encoder.classes_
        return encoder.transform(y).astype(np.int64)

    def _validation_data(self, X, y, X_valid, y_valid, seed):
        """(X_train, y_train, X_valid, y_valid) with y encoded; valid may be None."""
        if X_valid is not None:
            if y_valid is None:
                raise ValueError("X_valid was given without y_valid")
            X_valid = self._check_X(X_valid)
            y_valid = np.asarray(y_valid)
            if len(y_valid) != len(X_valid):
                raise ValueError(f"X_valid has {len(X_valid)} samples but y_valid has "
                                 f"{len(y_valid)}")
            unseen = np.setdiff1d(y_valid, self.classes_)
            if unseen.size:
                raise ValueError(f"y_valid has labels not seen in y: {unseen[:5].tolist()}")
            return X, y, X_valid, np.searchsorted(self.classes_, y_valid).astype(np.int64)
        if not self.early_stopping:
            return X, y, None, None
        # A stratified split keeps every class in both parts, as MLPClassifier's does.
        splitter = StratifiedShuffleSplit(test_size=self.validation_fraction, random_state=seed)
        try:
            train, valid = next(splitter.split(X, y))
        except ValueError as exc:
            raise ValueError(f"early_stopping cannot split off validation_fraction="
                             f"{self.validation_fraction} of {len(y)} samples: {exc}") from exc
        return X[train], y[train], X[valid], y[valid]

    # ----------------------------------------------------------------- fit
    def fit(self, X, y, *, X_valid=None, y_valid=None):
        """Train the network on X, y.

        Parameters
        ----------
        X : array-like of shape (n_samples, height, width, channels) or (n_samples, n_features)
            Images, or images flattened row-major; any real dtype.
        y : array-like of shape (n_samples,)
            Labels of any type (ints, strings...).
        X_valid, y_valid : array-like, default=None
            A fixed validation set, scored after every epoch (``history_``
            gets ``valid_loss`` and ``valid_acc``) and used by
            ``early_stopping``. Without it, ``early_stopping=True`` splits
            off ``validation_fraction`` of X (stratified).

        Returns
        -------
        self
        """
        self._check_params()
        if hasattr(self, "net_"):
            del self.net_  # a failed refit must not pair the old net with new classes_
        X, y = self._check_X_y(X, y)
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        X, y, X_valid, y_valid = self._validation_data(X, y, X_valid, y_valid, seed)
        device = _resolve_device(self.device)

        train = TensorDataset(torch.from_numpy(X), torch.from_numpy(y))
        valid = None if X_valid is None else TensorDataset(torch.from_numpy(X_valid),
                                                           torch.from_numpy(y_valid))
        # fork_rng keeps the caller's global torch RNG untouched while the
        # seed fixes weight initialisation and dropout masks.
        forked = [] if device == "cpu" else None
        with torch_threads(self.n_threads), reuse_freed_memory(), \
                torch.random.fork_rng(devices=forked):
            torch.manual_seed(seed)
            net = self._make_net(y, device, seed, valid)
            net.fit(train, None)
        # The validation set is needed only while training: do not pickle it.
        net.train_split = None
        self.net_ = net
        self.history_ = net.history
        self.n_epochs_ = len(net.history)
        self.interrupted_ = bool(getattr(net, "interrupted_", False))
        return self

    def _make_net(self, y, device, seed, valid):
        """The skorch net for encoded training labels ``y`` and a validation set."""
        n_classes = len(self.classes_)
        module = self._module(self.n_features_in_, n_classes, self.image_shape_)
        optimizer = OPTIMIZERS[self.optimizer.lower()] if isinstance(self.optimizer, str) \
            else self.optimizer
        criterion_weight = None
        if self.class_weight is not None:
            weights = compute_class_weight(self.class_weight, classes=self.classes_,
                                           y=self.classes_[y])
            criterion_weight = torch.as_tensor(weights, dtype=torch.float32)
        callbacks = [("train_acc", EpochScoring("accuracy", lower_is_better=False,
                                                on_train=True, name="train_acc"))]
        if self.early_stopping:
            callbacks.append(("early_stopping", EarlyStopping(
                monitor="valid_loss", patience=self.n_iter_no_change, load_best=True,
                sink=print if self.verbose else _silent)))
        if self.verbose >= 2:
            callbacks.append(("progress_bar", ProgressBar()))
        callbacks += list(self.callbacks or [])
        transform = None
        if self.augment:
            if self.image_shape_ is None:
                raise ValueError("augment=True needs images: X is not a square RGB image and "
                                 "image_shape is not set")
            transform = FlipShift(self.image_shape_, seed=seed)
        return _SkorchNet(
            module=module,
            criterion=nn.CrossEntropyLoss,
            criterion__weight=criterion_weight,
            optimizer=optimizer,
            lr=self.lr,
            **({"optimizer__weight_decay": self.weight_decay} if self.weight_decay else {}),
            **_fused_optimizer_params(optimizer, device),
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            iterator_train=BatchLoader,
            iterator_train__shuffle=True,
            iterator_train__generator=torch.Generator().manual_seed(seed),
            iterator_train__transform=transform,
            iterator_valid=BatchLoader,
            train_split=None if valid is None else predefined_split(valid),
            callbacks=callbacks,
            classes=np.arange(n_classes),
            device=device,
            verbose=self.verbose,
        )

    # -------------------------------------------------------------- predict
    def predict_proba(self, X):
        """Class probabilities, columns in the order of ``classes_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, height, width, channels) or (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        # NaN and infinity are looked for batch by batch, just before each forward pass.
        X = self._check_X(X, ensure_all_finite=False)
        with torch_threads(self.n_threads), reuse_freed_memory():
            return predict_proba_in_batches(self.net_.module_, torch.from_numpy(X),
                                            self.net_.batch_size, self.net_.device)

    def predict(self, X):
        """Predicted labels, taken from ``classes_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, height, width, channels) or (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    # ------------------------------------------------------------- helpers
    def module_for_summary(self):
        """The trained module, or for an unfitted model the one its parameters describe."""
        if hasattr(self, "net_"):
            return self.net_.module_
        shape = tuple(self.image_shape) if self.image_shape is not None else DEFAULT_IMAGE_SHAPE
        return self._module(math.prod(shape), DEFAULT_N_CLASSES, shape)

    @property
    def n_params_(self):
        """Number of trainable parameters of the fitted network."""
        check_is_fitted(self)
        return sum(p.numel() for p in self.net_.module_.parameters() if p.requires_grad)

    def score(self, X, y, sample_weight=None):
        """Accuracy on X, y, as ClassifierMixin's (an object array of numbers is cast)."""
        return super().score(X, _numeric_object_labels(y), sample_weight=sample_weight)

    def __sklearn_is_fitted__(self):
        return hasattr(self, "net_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags

    def __getstate__(self):
        state = super().__getstate__()
        state["_facenet_sk_version"] = __version__
        return state

    def __setstate__(self, state):
        saved = state.pop("_facenet_sk_version", None)
        if saved != __version__:
            warnings.warn(
                f"This {type(self).__name__} was saved by facenet_sk {saved or 'unknown'} and is "
                f"loaded by {__version__}; it may not behave the same. Refit it to be sure.",
                VersionMismatchWarning,
                stacklevel=2,
            )
        super().__setstate__(state)


def _flatten_images(X):
    """Flatten (n, H, W, C) images row-major; return (X, (H, W, C) or None)."""
    if hasattr(X, "ndim") and not hasattr(X, "columns") and X.ndim == 4:
        return (np.asarray(X).reshape(len(X), math.prod(X.shape[1:])),
                tuple(int(s) for s in X.shape[1:]))
    return X, None


def _numeric_object_labels(y):
    """An object array of numbers (e.g. a pandas object column of ints) as a numeric array.

    scikit-learn calls such labels of "unknown" type; strings stay as they are.
    """
    if getattr(y, "dtype", None) == object and all(isinstance(v, Real) for v in np.ravel(y)):
        return np.asarray(np.asarray(y).tolist())
    return y


def _writeable(X):
    """torch cannot wrap read-only memory (e.g. a memory-mapped file): copy it."""
    return X if X.flags.writeable else X.copy()


def _silent(*args, **kwargs):
    """A sink that drops skorch's messages when the estimator is not verbose."""
