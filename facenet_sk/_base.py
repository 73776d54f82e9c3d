"""What every facenet_sk network classifier shares: the scikit-learn side.

Hyper-parameters are declared in ``estimators.py`` (one
:class:`~facenet_sk._params.Param` each), from which every subclass gets its
``__init__`` and ``_parameter_constraints``; they are checked once, at the
top of ``fit``. Data is validated here; the skorch net that trains the
PyTorch module is built by ``_net.build_net``; prediction is a pure read of
the fitted module (``_predict.py``).
"""

import math
import warnings
from numbers import Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.model_selection import StratifiedShuffleSplit
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from ._augment import FlipShift
from ._batches import TensorDataset
from ._malloc import reuse_freed_memory
from ._net import (
    CRITERION,
    SkorchNet,
    build_net,
    optimizer_class,
    resolve_device,
    set_validation,
    torch_threads,
)
from ._params import check_routed_args, declared_init
from ._precision import autocast_dtype
from ._predict import predict_proba
from ._version import __version__
from .preprocessing import channel_stats

#: The exercise's input: 48x48 RGB images, 8 people.
DEFAULT_IMAGE_SHAPE = (48, 48, 3)
DEFAULT_N_CLASSES = 8

# Fitted models pickled by facenet_sk 0.x name their skorch net here.
_SkorchNet = SkorchNet

#: Prefixes of ``set_params`` keys routed into a dict hyper-parameter, as
#: skorch routes ``optimizer__momentum`` to the optimizer.
_ROUTES = {"optimizer__": "optimizer_params", "criterion__": "criterion_params"}

# A validation set whose channel means lie further than this many standard
# deviations of X from X's, or whose spread differs by more than this factor,
# was not preprocessed like X (e.g. raw images beside standardized ones).
_VALID_MEAN_TOLERANCE = 4.0
_VALID_SCALE_TOLERANCE = 5.0


class VersionMismatchWarning(UserWarning):
    """A model was pickled by another facenet_sk version than the one loading it."""


class AugmentationWarning(UserWarning):
    """``augment=True`` on input standardized feature by feature, where flips and shifts
    move standardized values rather than faces."""


class BaseNetClassifier(ClassifierMixin, BaseEstimator):
    """Shared machinery of the network classifiers; not used directly.

    Subclasses declare ``_params`` (a tuple of :class:`~facenet_sk._params.Param`,
    every hyper-parameter once), from which they get ``__init__`` and
    ``_parameter_constraints``, and define
    ``_module(n_features, n_classes, image_shape, input_stats=None)``.
    """

    #: The hyper-parameters, declared by each subclass.
    _params = ()
    _parameter_constraints = {}

    #: Whether the network needs to know the images' shape (CNNs do).
    _needs_image_shape = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "_params" in cls.__dict__:
            cls.__init__ = declared_init(cls._params)
            cls._parameter_constraints = {p.name: p.constraints for p in cls._params}

    # ----------------------------------------------------------- parameters
    def get_params(self, deep=True):
        """Hyper-parameters; with ``deep=True`` also ``optimizer__*`` and ``criterion__*``.

        Parameters
        ----------
        deep : bool, default=True
            Also list the entries of ``optimizer_params`` and
            ``criterion_params`` under skorch's prefixed names.

        Returns
        -------
        dict
        """
        params = super().get_params(deep=deep)
        if deep:
            for prefix, attr in _ROUTES.items():
                routed = getattr(self, attr, None)
                # A wrong value is fit's to report, not get_params's.
                for key, value in routed.items() if isinstance(routed, dict) else ():
                    params[f"{prefix}{key}"] = value
        return params

    def set_params(self, **params):
        """Set hyper-parameters; ``optimizer__x`` and ``criterion__x`` go to the dicts.

        ``set_params(optimizer__momentum=0.9)`` is
        ``set_params(optimizer_params={**optimizer_params, "momentum": 0.9})``
        (a new dict: the one given to the constructor is not changed), so
        that a search grid can name skorch's routed arguments directly.

        Parameters
        ----------
        **params
            Hyper-parameters by name.

        Returns
        -------
        self
        """
        routed = {}
        for key in list(params):
            for prefix, attr in _ROUTES.items():
                if key.startswith(prefix):
                    routed.setdefault(attr, {})[key[len(prefix) :]] = params.pop(key)
        super().set_params(**params)
        for attr, values in routed.items():
            current = getattr(self, attr)
            setattr(self, attr, {**(current if isinstance(current, dict) else {}), **values})
        return self

    def _check_params(self):
        """The checks no constraint can express: the routed arguments' names."""
        check_routed_args(self, optimizer_class(self.optimizer), CRITERION)

    # ---------------------------------------------------------------- input
    def _check_X(self, X, ensure_all_finite=True):
        """Validate X for prediction: float32 2-D features of the fitted shape."""
        X, image_shape = _flatten_images(X)
        if getattr(X, "ndim", 2) > 2:
            images = f" or images of shape {self.image_shape_}" if self.image_shape_ else ""
            raise ValueError(
                f"X has shape {tuple(X.shape)}, but {type(self).__name__} takes "
                f"rows of {self.n_features_in_} features{images}"
            )
        if (
            image_shape is not None
            and self.image_shape_ is not None
            and image_shape != self.image_shape_
        ):
            raise ValueError(
                f"X has images of shape {image_shape}, but {type(self).__name__} "
                f"was fitted on images of shape {self.image_shape_}"
            )
        return _writeable(
            validate_data(
                self, X, reset=False, dtype=np.float32, ensure_all_finite=ensure_all_finite
            )
        )

    def _check_X_y(self, X, y, *, classes=None, reset=True):
        """Validate training data.

        With ``reset`` (a new fit), set ``n_features_in_``, ``classes_`` (from
        ``classes`` if given, else from y) and ``image_shape_``; otherwise
        check X and y against them (training that continues).
        """
        X, image_shape = _flatten_images(X)
        if not reset:
            X = self._check_X(X if image_shape is None else X.reshape(len(X), *image_shape))
            y = _numeric_object_labels(y)
            check_consistent_length(X, y)
            check_classification_targets(y)
            return X, self._encode_known(column_or_1d(y), "y", "classes_")
        X, y = validate_data(self, X, y, dtype=np.float32)
        y = self._encode_y(y, classes)
        self.image_shape_ = self._resolve_image_shape(image_shape, X.shape[1])
        return _writeable(X), y

    def _resolve_image_shape(self, given, n_features):
        """The image shape from X, the ``image_shape`` parameter, or the width."""
        if self.image_shape is not None:
            wanted = tuple(int(s) for s in self.image_shape)
            if given is not None and given != wanted:
                raise ValueError(f"X has images of shape {given}, but image_shape={wanted}")
            if math.prod(wanted) != n_features:
                raise ValueError(
                    f"image_shape={wanted} needs {math.prod(wanted)} features, "
                    f"but X has {n_features}"
                )
            return wanted
        shape = given or _infer_image_shape(n_features)
        if shape is None and self._needs_image_shape:
            raise ValueError(
                f"{type(self).__name__} needs images: X has {n_features} features, which is not "
                "a square RGB image (3 * side * side values). Pass images of shape "
                "(n, height, width, channels) or set image_shape=(height, width, channels)."
            )
        return shape

    def _encode_y(self, y, classes=None):
        y = _numeric_object_labels(y)
        check_classification_targets(y)
        encoder = LabelEncoder().fit(
            y if classes is None else _numeric_object_labels(np.asarray(classes))
        )
        if len(encoder.classes_) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes in the data, but "
                f"the data contains only one class: {encoder.classes_.tolist()[0]!r}"
            )
        self.classes_ = encoder.classes_
        return self._encode_known(y, "y", "classes")

    def _encode_known(self, labels, name, known):
        """Labels as indices into ``classes_``; ValueError for any other label."""
        labels = np.asarray(_numeric_object_labels(labels))
        unseen = np.setdiff1d(labels, self.classes_)
        if unseen.size:
            raise ValueError(f"{name} has labels not seen in {known}: {unseen[:5].tolist()}")
        return np.searchsorted(self.classes_, labels).astype(np.int64)

    def _check_valid_like_train(self, X_valid):
        """Refuse a validation set that was not preprocessed like the training set.

        In a Pipeline, ``net__X_valid`` reaches the network without going
        through the preceding steps (scikit-learn passes fit parameters as
        they are), so the network would score and early-stop on raw images
        while it trains on scaled ones.
        """
        mean, _, spread = channel_stats(X_valid, len(self.input_mean_))
        train_spread = self._input_spread
        off = np.abs(mean - self.input_mean_) > _VALID_MEAN_TOLERANCE * np.maximum(
            train_spread, np.finfo(np.float32).eps
        )
        ratio = (spread + 1e-12) / (train_spread + 1e-12)
        off |= (train_spread > 0) & (
            (ratio > _VALID_SCALE_TOLERANCE) | (ratio < 1 / _VALID_SCALE_TOLERANCE)
        )
        if off.any():
            raise ValueError(
                "X_valid is not on the scale of X: mean per channel "
                f"{_rounded(mean)} and standard deviation {_rounded(spread)}, where X has "
                f"{_rounded(self.input_mean_)} and {_rounded(train_spread)}. Preprocess X_valid "
                "as X. In a "
                "Pipeline, net__X_valid reaches the network untransformed: build it as "
                "Pipeline(steps, transform_input=['X_valid']) with "
                "sklearn.set_config(enable_metadata_routing=True) and "
                "set_fit_request(X_valid=True, y_valid=True) on the network, then call "
                "fit(X, y, X_valid=..., y_valid=...); or use "
                "facenet_sk.compare.fit_model(pipeline, X, y, X_valid, y_valid)."
            )

    def _validation_data(self, X, y, X_valid, y_valid, seed):
        """(X_train, y_train, X_valid, y_valid) with y encoded; valid may be None."""
        if X_valid is not None:
            if y_valid is None:
                raise ValueError("X_valid was given without y_valid")
            X_valid = self._check_X(X_valid)
            y_valid = np.asarray(y_valid)
            if len(y_valid) != len(X_valid):
                raise ValueError(
                    f"X_valid has {len(X_valid)} samples but y_valid has {len(y_valid)}"
                )
            self._check_valid_like_train(X_valid)
            return X, y, X_valid, self._encode_known(y_valid, "y_valid", "y")
        if y_valid is not None:
            raise ValueError("y_valid was given without X_valid")
        if not self.early_stopping:
            return X, y, None, None
        # A stratified split keeps every class in both parts, as MLPClassifier's does.
        splitter = StratifiedShuffleSplit(test_size=self.validation_fraction, random_state=seed)
        try:
            train, valid = next(splitter.split(X, y))
        except ValueError as exc:
            raise ValueError(
                f"early_stopping cannot split off validation_fraction="
                f"{self.validation_fraction} of {len(y)} samples: {exc}"
            ) from exc
        return X[train], y[train], X[valid], y[valid]

    # ----------------------------------------------------------------- fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, *, X_valid=None, y_valid=None):
        """Train the network on X, y.

        Every hyper-parameter is checked first. With ``warm_start=True`` and
        a fitted network, training continues from it for ``max_epochs`` more
        epochs (``history_`` grows); otherwise a new network is trained.

        Parameters
        ----------
        X : array-like of shape (n_samples, height, width, channels) or (n_samples, n_features)
            Images, or images flattened row-major; any real dtype (raw uint8
            pixels are fine: with ``input_scaling="channel"`` the network
            standardizes them with statistics learned here).
        y : array-like of shape (n_samples,)
            Labels of any type (ints, strings...).
        X_valid, y_valid : array-like, default=None
            A fixed validation set, scored after every epoch (``history_``
            gets ``valid_loss`` and ``valid_acc``) and used by
            ``early_stopping``; preprocessed as X (refused otherwise). Without
            it, ``early_stopping=True`` splits off ``validation_fraction`` of
            X (stratified).

        Returns
        -------
        self
        """
        self._check_params()
        continuing = self.warm_start and hasattr(self, "net_")
        if not continuing and hasattr(self, "net_"):
            del self.net_  # a failed refit must not pair the old net with new classes_
        X, y = self._check_X_y(X, y, reset=not continuing)
        return self._train(X, y, X_valid, y_valid, epochs=self.max_epochs)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, *, X_valid=None, y_valid=None):
        """Train one more epoch on X, y (the first call builds the network).

        Parameters
        ----------
        X : array-like of shape (n_samples, height, width, channels) or (n_samples, n_features)
            Images or flat rows, as for :meth:`fit`.
        y : array-like of shape (n_samples,)
            Labels, all among ``classes``.
        classes : array-like of shape (n_classes,), default=None
            Every label the model will know. Needed on the first call (as in
            scikit-learn's ``partial_fit``), ignored afterwards.
        X_valid, y_valid : array-like, default=None
            A validation set scored after the epoch, as in :meth:`fit`.

        Returns
        -------
        self

        Examples
        --------
        >>> from facenet_sk import make_model
        >>> from facenet_sk.datasets import make_synthetic_faces
        >>> X, y = make_synthetic_faces(n_people=3, n_per_person=10, return_X_y=True)
        >>> model = make_model("only_fc", random_state=0)
        >>> for _ in range(3):
        ...     model = model.partial_fit(X, y, classes=[0, 1, 2])
        >>> model.n_epochs_
        3
        """
        self._check_params()
        first = not hasattr(self, "net_")
        if first and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit")
        X, y = self._check_X_y(X, y, classes=classes, reset=first)
        return self._train(X, y, X_valid, y_valid, epochs=1)

    def _train(self, X, y, X_valid, y_valid, *, epochs):
        """Train ``epochs`` epochs on validated X and encoded y, from scratch or on."""
        continuing = hasattr(self, "net_")
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        if continuing:
            # Not the first epochs' dropout masks and shuffles over again.
            seed = (seed + self.n_epochs_) % np.iinfo(np.int32).max
        else:
            self._fit_input_stats(X)
        if self.augment:
            _warn_if_standardized_per_feature(X)
        X, y, X_valid, y_valid = self._validation_data(X, y, X_valid, y_valid, seed)
        device = self.net_.device if continuing else resolve_device(self.device)
        train = TensorDataset(torch.from_numpy(X), torch.from_numpy(y))
        valid = (
            None
            if X_valid is None
            else TensorDataset(torch.from_numpy(X_valid), torch.from_numpy(y_valid))
        )
        # fork_rng keeps the caller's global torch RNG untouched while the
        # seed fixes weight initialisation and dropout masks.
        forked = [] if device == "cpu" else None
        with (
            torch_threads(self.n_threads),
            reuse_freed_memory(),
            torch.random.fork_rng(devices=forked),
        ):
            torch.manual_seed(seed)
            if continuing:
                net = self.net_
                set_validation(net, valid)
                net.batch_size = int(self.batch_size)
                net.autocast_dtype = autocast_dtype(self.precision, device)
            else:
                net = self._make_net(y, device, seed, valid)
                net.initialize()
            try:
                net.partial_fit(train, None, epochs=int(epochs))
            finally:
                # Prediction reads the module as it is: in evaluation mode.
                net.module_.eval()
        # The validation set is needed only while training: do not pickle it.
        net.train_split = None
        self.net_ = net
        self.history_ = net.history
        self.n_epochs_ = len(net.history)
        self.interrupted_ = bool(getattr(net, "interrupted_", False))
        return self

    def _fit_input_stats(self, X):
        """Learn the per-channel mean and scale the network standardizes with."""
        n_channels = self.image_shape_[-1] if self.image_shape_ is not None else 1
        mean, scale, spread = channel_stats(X, n_channels)
        self.input_mean_, self.input_scale_ = mean, scale
        self._input_spread = spread

    def _make_net(self, y, device, seed, valid):
        """The skorch net for encoded training labels ``y`` and a validation set."""
        n_classes = len(self.classes_)
        stats = (self.input_mean_, self.input_scale_) if self.input_scaling == "channel" else None
        module = self._module(self.n_features_in_, n_classes, self.image_shape_, input_stats=stats)
        criterion_weight = None
        if self.class_weight is not None:
            weights = compute_class_weight(
                self.class_weight, classes=self.classes_, y=self.classes_[y]
            )
            criterion_weight = torch.as_tensor(weights, dtype=torch.float32)
        transform = None
        if self.augment:
            if self.image_shape_ is None:
                raise ValueError(
                    "augment=True needs images: X is not a square RGB image and "
                    "image_shape is not set"
                )
            transform = FlipShift(self.image_shape_, seed=seed)
        return build_net(
            self,
            module,
            n_classes=n_classes,
            device=device,
            seed=seed,
            valid=valid,
            criterion_weight=criterion_weight,
            transform=transform,
        )

    # ---------------------------------------------------------- weights
    def save_params(self, f_params=None, f_optimizer=None, f_criterion=None, f_history=None):
        """Save the fitted network's weights (and optionally more) alone; skorch's.

        The weights include the input statistics of ``input_scaling``.
        Load them with :meth:`load_params` into a model of the same
        hyper-parameters fitted or initialized on data of the same shape and
        classes. Pickle the whole estimator to keep everything instead.

        Parameters
        ----------
        f_params, f_optimizer, f_criterion, f_history : file-like or path, default=None
            Where to write the module's ``state_dict``, the optimizer's, the
            loss's and the history (JSON); None skips that part.

        Examples
        --------
        >>> import tempfile, os
        >>> from facenet_sk import make_model
        >>> from facenet_sk.datasets import make_synthetic_faces
        >>> X, y = make_synthetic_faces(n_people=2, n_per_person=10, return_X_y=True)
        >>> model = make_model("only_fc", max_epochs=2, random_state=0).fit(X, y)
        >>> path = os.path.join(tempfile.mkdtemp(), "weights.pt")
        >>> model.save_params(f_params=path)
        >>> fresh = make_model("only_fc").initialize(X, y).load_params(f_params=path)
        >>> bool((fresh.predict_proba(X) == model.predict_proba(X)).all())
        True
        """
        check_is_fitted(self)
        self.net_.save_params(
            f_params=f_params, f_optimizer=f_optimizer, f_criterion=f_criterion, f_history=f_history
        )

    def load_params(self, f_params=None, f_optimizer=None, f_criterion=None, f_history=None):
        """Load what :meth:`save_params` saved into this fitted or initialized model.

        Parameters
        ----------
        f_params, f_optimizer, f_criterion, f_history : file-like or path, default=None
            As for :meth:`save_params`; None leaves that part as it is.

        Returns
        -------
        self
        """
        check_is_fitted(self)
        self.net_.load_params(
            f_params=f_params, f_optimizer=f_optimizer, f_criterion=f_criterion, f_history=f_history
        )
        standardize = getattr(self.net_.module_, "standardize", None)
        if standardize is not None:  # the loaded statistics are the model's now
            self.input_mean_, self.input_scale_ = (
                tensor.detach().cpu().numpy().astype(np.float64)
                for tensor in (standardize.mean, standardize.scale)
            )
        self.history_ = self.net_.history
        self.n_epochs_ = len(self.net_.history)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def initialize(self, X, y):
        """Build the untrained network for data like X, y (skorch's ``initialize``).

        Sets ``classes_``, the input statistics and ``net_`` without training
        (``n_epochs_`` is 0), ready for :meth:`load_params`.

        Parameters
        ----------
        X : array-like of shape (n_samples, height, width, channels) or (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        self
        """
        self._check_params()
        X, y = self._check_X_y(X, y)
        self._fit_input_stats(X)
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        forked = [] if resolve_device(self.device) == "cpu" else None
        with torch.random.fork_rng(devices=forked):
            torch.manual_seed(seed)
            self.net_ = self._make_net(y, resolve_device(self.device), seed, None).initialize()
        self.net_.module_.eval()
        self.history_ = self.net_.history
        self.n_epochs_ = 0
        self.interrupted_ = False
        return self

    # -------------------------------------------------------------- predict
    def predict_proba(self, X):
        """Class probabilities, columns in the order of ``classes_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, height, width, channels) or (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)

        Notes
        -----
        A pure read of the fitted network: safe to call from several
        threads at once on one fitted model.
        """
        check_is_fitted(self)
        X = self._check_X(X)
        with torch_threads(self.n_threads):
            return predict_proba(
                self.net_.module_,
                torch.from_numpy(X),
                self.net_.batch_size,
                self.net_.device,
                getattr(self.net_, "autocast_dtype", None),
            )

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
    # (n, s, s) with s wider than any colour axis: square grey images.
    if (
        hasattr(X, "ndim")
        and not hasattr(X, "columns")
        and X.ndim == 3
        and X.shape[1] == X.shape[2] > 4
    ):
        raise ValueError(
            f"X has shape {tuple(X.shape)}: grey images without a colour axis. The networks "
            "take RGB images (n, height, width, 3): give np.repeat(X[..., None], 3, axis=-1)"
        )
    # (n, 1 or 3, s, s) with s wider than any colour axis: square images, channels first.
    if (
        hasattr(X, "ndim")
        and not hasattr(X, "columns")
        and X.ndim == 4
        and X.shape[1] in (1, 3)
        and X.shape[2] == X.shape[3] > 4
    ):
        raise ValueError(
            f"X has shape {tuple(X.shape)}: channels first, PyTorch's layout. The networks "
            "take channels last (n, height, width, channels): give np.moveaxis(X, 1, -1)"
        )
    if hasattr(X, "ndim") and not hasattr(X, "columns") and X.ndim == 4:
        return (
            np.asarray(X).reshape(len(X), math.prod(X.shape[1:])),
            tuple(int(s) for s in X.shape[1:]),
        )
    return X, None


def _numeric_object_labels(y):
    """An object array of numbers (e.g. a pandas object column of ints) as a numeric array.

    scikit-learn calls such labels of "unknown" type; strings stay as they are.
    """
    if str(getattr(y, "dtype", "")) == "object" and all(isinstance(v, Real) for v in np.ravel(y)):
        return np.asarray(np.asarray(y).tolist())
    return y


def _writeable(X):
    """torch cannot wrap read-only memory (e.g. a memory-mapped file): copy it."""
    return X if X.flags.writeable else X.copy()


def _rounded(values):
    """Values for a message: 3 decimals, no negative zero."""
    return (np.round(values, 3) + 0.0).tolist()


def _infer_image_shape(n_features):
    """(s, s, 3) when ``n_features`` is 3 * s * s, else None."""
    side = math.isqrt(n_features // 3)
    return (side, side, 3) if n_features and 3 * side * side == n_features else None


def _warn_if_standardized_per_feature(X):
    """Warn when every varying feature of X has mean 0 and standard deviation 1.

    That is what a per-pixel ``StandardScaler`` fitted on X gives; images
    scaled per channel, or raw, have pixels of different means.
    """
    total, squares = np.zeros(X.shape[1]), np.zeros(X.shape[1])
    for start in range(0, len(X), 256):  # no float64 copy of the whole of X
        block = X[start : start + 256].astype(np.float64)
        total += block.sum(axis=0)
        squares += (block**2).sum(axis=0)
    mean = total / len(X)
    std = np.sqrt(np.maximum(squares / len(X) - mean**2, 0))
    varying = std > 1e-6
    if (
        varying.sum() > 1
        and np.abs(mean[varying]).max() < 1e-3
        and np.abs(std[varying] - 1).max() < 1e-3
    ):
        warnings.warn(
            "augment=True on input standardized feature by feature (e.g. a StandardScaler "
            "before the network): flips and shifts then move standardized values, not faces, "
            "which usually lowers accuracy. Give the network the images (its own "
            "input_scaling='channel' standardizes after augmenting), or put "
            "facenet_sk.preprocessing.ChannelStandardScaler in front instead.",
            AugmentationWarning,
            stacklevel=4,
        )
