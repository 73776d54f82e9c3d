"""Standardization of images per colour channel."""

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data


class ChannelStandardScaler(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Standardize images with one mean and one standard deviation per channel.

    scikit-learn's ``StandardScaler`` standardizes every pixel on its own,
    as the exercise does. That changes each pixel by a different affine map,
    so moving pixels afterwards (the shifts and flips of ``augment=True``)
    puts values where the scale no longer fits them: a border pixel that is
    nearly constant in the training images gets a tiny standard deviation,
    and shifted into the face it becomes an extreme value. One affine map per
    channel commutes with moving pixels, so augmenting after this scaler is
    the same as augmenting the raw images.

    Input is flat (n_samples, height * width * n_channels) rows in the
    loaders' row-major (H, W, C) order, or images (n_samples, height, width,
    n_channels); the output has the input's shape.

    Parameters
    ----------
    n_channels : int, default=3
        Channels per pixel (the last axis of the images).

    Attributes
    ----------
    mean_ : ndarray of shape (n_channels,)
        Mean of each channel over all pixels of the training images.
    scale_ : ndarray of shape (n_channels,)
        Standard deviation of each channel (1 where it is 0).
    n_features_in_ : int
        Values per (flattened) image.

    Examples
    --------
    >>> from facenet_sk.datasets import make_synthetic_faces
    >>> from facenet_sk.preprocessing import ChannelStandardScaler
    >>> X, y = make_synthetic_faces(n_per_person=5, return_X_y=True)
    >>> scaled = ChannelStandardScaler().fit_transform(X)
    >>> (scaled.reshape(-1, 3).mean(axis=0).round(6) + 0.0).tolist()
    [0.0, 0.0, 0.0]
    """

    def __init__(self, n_channels=3):
        self.n_channels = n_channels

    def fit(self, X, y=None):
        """Compute the channels' mean and standard deviation.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, H, W, n_channels)
            Training images.
        y : None
            Ignored.

        Returns
        -------
        self
        """
        if (
            isinstance(self.n_channels, bool)
            or not isinstance(self.n_channels, (int, np.integer))
            or self.n_channels < 1
        ):
            raise ValueError(f"n_channels must be an int >= 1, got {self.n_channels!r}")
        flat, _ = self._flat(X, reset=True)
        if flat.shape[1] % self.n_channels:
            raise ValueError(
                f"X has {flat.shape[1]} features per sample, which is not a "
                f"multiple of n_channels={self.n_channels}"
            )
        # A constant channel is centred but not scaled, as StandardScaler does.
        self.mean_, self.scale_, _ = channel_stats(flat, self.n_channels)
        return self

    def transform(self, X):
        """Standardize X with the fitted channel statistics.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, H, W, n_channels)

        Returns
        -------
        ndarray of the input's shape, float32 or float64 as X
        """
        return self._apply(X, lambda pixels: (pixels - self.mean_) / self.scale_)

    def inverse_transform(self, X):
        """Undo :meth:`transform`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, H, W, n_channels)

        Returns
        -------
        ndarray of the input's shape
        """
        return self._apply(X, lambda pixels: pixels * self.scale_ + self.mean_)

    def _apply(self, X, function):
        check_is_fitted(self)
        flat, shape = self._flat(X, reset=False)
        pixels = flat.reshape(len(flat), -1, self.n_channels)
        return function(pixels).astype(flat.dtype, copy=False).reshape(shape)

    def _flat(self, X, reset):
        """X validated as finite float rows, and the shape to give back."""
        if getattr(X, "ndim", 2) == 4 and not hasattr(X, "columns"):
            X = np.asarray(X)
            if X.shape[-1] != self.n_channels:
                raise ValueError(
                    f"X has images of shape {X.shape[1:]}, whose last axis is "
                    f"not n_channels={self.n_channels}"
                )
            shape = X.shape
            X = X.reshape(len(X), -1)
        else:
            shape = None
        flat = validate_data(self, X, reset=reset, dtype=(np.float64, np.float32))
        return flat, shape if shape is not None else flat.shape

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def channel_stats(X, n_channels, rows_per_block=64):
    """Per-channel mean, scale (std, 1 where 0) and std of flat rows.

    One pass over X in blocks of rows, in X's own dtype: the sums of the
    deviations from the first block's mean and of their squares (the
    shifted-data algorithm, exact for data far from zero). The sums run down
    the columns, a matrix-vector product per block, so that the reduction is
    contiguous and vectorised (summing interleaved channels directly is an
    order of magnitude slower), and accumulate in float64 between blocks.
    No copy of the whole of X is made. The one computation of channel
    statistics: :class:`ChannelStandardScaler` and the networks' own input
    standardization both use it.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Rows whose values cycle through the channels (float32 or float64).
    n_channels : int
    rows_per_block : int, default=64
        Rows summed per matrix-vector product (a block stays in cache).

    Returns
    -------
    mean, scale, std : ndarray of shape (n_channels,), float64

    Examples
    --------
    >>> import numpy as np
    >>> mean, scale, std = channel_stats(np.array([[1.0, 10.0, 3.0, 10.0]]), 2)
    >>> mean.tolist(), scale.tolist(), std.tolist()
    ([2.0, 10.0], [1.0, 1.0], [1.0, 0.0])
    """
    n_rows, n_features = X.shape
    ones = np.ones(min(rows_per_block, n_rows), dtype=X.dtype)

    def per_channel(column_sums, rows):
        return (
            column_sums.reshape(-1, n_channels).sum(axis=0)
            / max(rows, 1)
            / (n_features // n_channels)
        )

    first = X[:rows_per_block]
    shift = per_channel((ones[: len(first)] @ first).astype(np.float64), len(first))
    tiled = np.tile(shift.astype(X.dtype), n_features // n_channels)
    deviations, squares = np.zeros(n_features), np.zeros(n_features)
    for start in range(0, n_rows, rows_per_block):
        deviation = X[start : start + rows_per_block] - tiled
        deviations += ones[: len(deviation)] @ deviation
        squares += ones[: len(deviation)] @ np.square(deviation, out=deviation)
    mean_deviation = per_channel(deviations, n_rows)
    std = np.sqrt(np.maximum(per_channel(squares, n_rows) - mean_deviation**2, 0.0))
    return shift + mean_deviation, np.where(std > 0, std, 1.0), std
