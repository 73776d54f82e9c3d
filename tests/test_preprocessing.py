"""ChannelStandardScaler: per-channel statistics, shapes, errors, and why it exists."""

import numpy as np
import pytest
from sklearn.preprocessing import StandardScaler

from facenet_sk._augment import FlipShift
from facenet_sk.preprocessing import ChannelStandardScaler, channel_stats


@pytest.fixture
def images():
    rng = np.random.default_rng(0)
    # Channels with clearly different means and spreads.
    X = rng.normal([100.0, 20.0, 200.0], [30.0, 5.0, 1.0], size=(40, 6, 6, 3))
    return X.astype(np.float32)


def test_statistics_are_per_channel(images):
    scaler = ChannelStandardScaler().fit(images)
    pixels = images.reshape(-1, 3).astype(np.float64)
    np.testing.assert_allclose(scaler.mean_, pixels.mean(axis=0))
    np.testing.assert_allclose(scaler.scale_, pixels.std(axis=0))
    out = scaler.transform(images).reshape(-1, 3)
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(out.std(axis=0), 1, atol=1e-4)


def test_flat_and_image_input_agree_and_keep_their_shape(images):
    flat = images.reshape(len(images), -1)
    scaler = ChannelStandardScaler().fit(flat)
    as_images = ChannelStandardScaler().fit(images)
    assert scaler.n_features_in_ == as_images.n_features_in_ == 108
    assert as_images.transform(images).shape == images.shape
    np.testing.assert_array_equal(
        scaler.transform(flat), as_images.transform(images).reshape(len(images), -1)
    )


def test_dtype_is_kept_and_inverse_round_trips(images):
    scaler = ChannelStandardScaler().fit(images)
    assert scaler.transform(images).dtype == np.float32
    assert scaler.transform(images.astype(np.float64)).dtype == np.float64
    np.testing.assert_allclose(
        scaler.inverse_transform(scaler.transform(images)), images, rtol=1e-5
    )


def test_constant_channel_is_centred_not_divided_by_zero():
    X = np.zeros((4, 2, 2, 3))
    X[..., 0] = 7.0
    X[..., 1] = np.arange(16).reshape(4, 2, 2)
    scaler = ChannelStandardScaler().fit(X)
    assert scaler.scale_[0] == 1.0 and scaler.scale_[2] == 1.0
    assert np.isfinite(scaler.transform(X)).all()


def test_augmenting_after_it_equals_augmenting_the_raw_images(images):
    """Per-channel scaling commutes with flips and shifts; per-pixel scaling does not."""
    flat = images.reshape(len(images), -1)
    # One pixel column nearly constant, like LFW's black borders.
    flat[:, :3] = 1.0 + 1e-3 * np.arange(len(flat))[:, None]
    import torch

    def augment(X):
        return FlipShift((6, 6, 3), max_shift=2, seed=0)(torch.from_numpy(X)).numpy()

    channel = ChannelStandardScaler().fit(flat)
    np.testing.assert_allclose(
        augment(channel.transform(flat)), channel.transform(augment(flat)), rtol=1e-4, atol=1e-4
    )
    pixel = StandardScaler().fit(flat)
    moved = augment(pixel.transform(flat))
    assert not np.allclose(moved, pixel.transform(augment(flat)), atol=1e-2)


@pytest.mark.parametrize(
    "X, message",
    [
        (np.zeros((3, 10)), "not a multiple of n_channels=3"),
        (np.zeros((3, 2, 2, 4)), "last axis is not n_channels=3"),
        (np.full((3, 12), np.nan), "NaN"),
        (np.zeros((0, 12)), "0 sample"),
    ],
)
def test_bad_input_is_named(X, message):
    with pytest.raises(ValueError, match=message):
        ChannelStandardScaler().fit(X)


@pytest.mark.parametrize("n_channels", [0, -1, 1.5, True, "3"])
def test_bad_n_channels(n_channels):
    with pytest.raises(ValueError, match="n_channels must be an int >= 1"):
        ChannelStandardScaler(n_channels=n_channels).fit(np.zeros((2, 6)))


def test_transform_checks_the_fitted_width(images):
    scaler = ChannelStandardScaler().fit(images)
    with pytest.raises(ValueError, match="features"):
        scaler.transform(np.zeros((2, 12)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_rows", [1, 63, 64, 65, 300])
def test_channel_stats_match_float64_numpy_for_any_block_split(dtype, n_rows):
    rng = np.random.default_rng(n_rows)
    X = rng.normal([100.0, 20.0, 200.0], [30.0, 5.0, 1.0], size=(n_rows, 10, 3)).astype(dtype)
    mean, scale, std = channel_stats(X.reshape(n_rows, -1), 3)
    pixels = X.reshape(-1, 3).astype(np.float64)
    rtol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(mean, pixels.mean(axis=0), rtol=rtol)
    np.testing.assert_allclose(std, pixels.std(axis=0), rtol=rtol * 10)
    np.testing.assert_array_equal(scale, std)


def test_channel_stats_keep_a_small_spread_far_from_zero():
    # Sums of squares taken from zero would lose the spread of values around
    # 1e4 in float32 (catastrophic cancellation); deviations from a shift keep it.
    rng = np.random.default_rng(0)
    X = (1e4 + rng.normal(0, [1.0, 0.01, 3.0], size=(500, 40, 3))).astype(np.float32)
    _, _, std = channel_stats(X.reshape(500, -1), 3)
    np.testing.assert_allclose(std, X.reshape(-1, 3).astype(np.float64).std(axis=0), rtol=1e-4)


def test_channel_stats_of_a_batch_sorted_by_brightness():
    # The shift comes from the first block: a first block unlike the rest
    # must not spoil the result.
    X = np.concatenate([np.zeros((64, 6)), np.full((200, 6), 1e5) + np.arange(6)]).astype(
        np.float32
    )
    mean, _, std = channel_stats(X, 3)
    pixels = X.reshape(-1, 3).astype(np.float64)
    np.testing.assert_allclose(mean, pixels.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(std, pixels.std(axis=0), rtol=1e-6)
