"""The PyTorch copy of dlib's face network: the reader, the weights kept on disk, the numbers."""

import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from facenet_sk.datasets import make_synthetic_faces
from facenet_sk.faces import FaceEmbedding, _resnet_weights
from facenet_sk.faces._dlib_format import DlibFormatError, DlibReader, read_resnet
from facenet_sk.faces._models import model_path
from facenet_sk.faces._resnet import FaceResNet, state_dict_from_dlib

pytest.importorskip("dlib", reason="the face pipeline's extra is not installed")

MODEL = "dlib_face_recognition_resnet_model_v1.dat"
#: Largest difference allowed between the engines, coordinate by coordinate.
ATOL = 1e-4
#: The deep-funneled photos' fixed crop around the face, as the course's data.
CROP = (60, 60, 190, 190)
#: lfw_more_people, next to lfw_deepfunneled (overridden by FACENET_SK_LFW_MORE).
_DEFAULT_MORE = (
    Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "lfw_more_people"
)


@pytest.fixture(scope="module")
def model_bytes():
    return Path(model_path(MODEL)).read_bytes()


def _chip(path):
    """A photo's fixed crop, resized to the network's 150 px: a chip for both engines."""
    with Image.open(path) as image:
        return np.asarray(
            image.convert("RGB").crop(CROP).resize((150, 150), Image.Resampling.BILINEAR)
        )


# --- dlib's serialization ---------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, value",
    [
        (b"\x01\x00", 0),
        (b"\x01\x96", 150),
        (b"\x81\x05", -5),
        (b"\x02\x00\x01", 256),
        (b"\x08" + (2**63 - 1).to_bytes(8, "little"), 2**63 - 1),
    ],
)
def test_reader_integers(raw, value):
    reader = DlibReader(raw)
    assert reader.int() == value and reader.pos == len(raw)


def test_reader_floats_strings_bools():
    # 0.04 and 0.6 as dlib writes them (the loss layer's margin and threshold),
    # 0.0, then inf, a string and a flag.
    raw = (
        b"\x03\x0a\xd7\xa3\x81\x1c"
        b"\x03\x9a\x99\x99\x81\x18"
        b"\x01\x00\x01\x0b"
        b"\x01\x00\x02\x00\x7d"
        b"\x01\x05relu_"
        b"1"
    )
    reader = DlibReader(raw)
    assert reader.float() == pytest.approx(0.04, rel=1e-7)
    assert reader.float() == pytest.approx(0.6, rel=1e-7)
    assert reader.float() == 0.0
    assert reader.float() == np.inf
    assert reader.string() == "relu_" and reader.bool() is True


def test_reader_parses_the_whole_model(model_bytes):
    net = read_resnet(model_bytes)
    np.testing.assert_allclose(net.input_mean, [122.782, 117.001, 104.298], rtol=1e-6)
    assert net.input_size == 150
    kinds = [kind for kind, _ in net.layers]
    assert kinds.count("con") == kinds.count("affine") == 29 and kinds[-1] == "fc_no_bias"
    first = net.layers[0][1]
    assert first["weight"].shape == (32, 3, 7, 7) and first["padding"] == (0, 0)
    assert net.layers[-1][1]["weight"].shape == (128, 256)


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda b: b[: len(b) // 2], "short"),  # truncated
        (lambda b: b + b"\x00", "unread byte"),  # trailing bytes
        (lambda b: b[:5] + b"x" + b[6:], "loss_metric_2"),  # another loss layer
        (lambda b: b"\x01\x02" + b[2:], "loss layer version"),
        (lambda b: b"", "short"),
    ],
)
def test_reader_refuses_damaged_or_other_files(model_bytes, damage, message):
    with pytest.raises(DlibFormatError, match=message):
        read_resnet(damage(model_bytes))


def test_reader_refuses_another_dlib_model():
    other = Path(model_path("shape_predictor_5_face_landmarks.dat")).read_bytes()
    with pytest.raises(DlibFormatError):
        read_resnet(other)


# --- the weights kept on disk -----------------------------------------------------------


def test_weights_are_kept_and_reloaded(tmp_path, model_bytes):
    path = _resnet_weights.weights_path(tmp_path)
    assert not path.exists()
    first = _resnet_weights.load_state_dict(tmp_path)
    assert path.is_file() and not list(path.parent.glob(".partial-*"))
    assert path.stat().st_mode & 0o777 == 0o644  # not mkstemp's private 0600
    kept = torch.load(path, weights_only=True)
    assert kept["source_sha256"].startswith(path.name.split("_")[3])
    again = _resnet_weights.load_state_dict(tmp_path)
    assert again.keys() == first.keys()
    for name in first:
        assert torch.equal(first[name], again[name])
    reference = state_dict_from_dlib(model_bytes)
    assert all(torch.equal(first[name], reference[name]) for name in reference)


def _bad_kept_files(path, good):
    """Kept files that must not be trusted: damaged, of another model, altered."""
    yield "truncated", lambda: path.write_bytes(path.read_bytes()[:1000])
    yield "not torch", lambda: path.write_bytes(b"hello")
    yield "other digest", lambda: torch.save(dict(good, source_sha256="0" * 64), path)
    yield "other format", lambda: torch.save(dict(good, format=0), path)
    state = dict(good["state_dict"])
    state["fc.weight"] = state["fc.weight"][:64]
    yield "wrong shape", lambda: torch.save(dict(good, state_dict=state), path)
    nan = dict(good["state_dict"])
    nan["stem.bias"] = torch.full_like(nan["stem.bias"], float("nan"))
    yield "not finite", lambda: torch.save(dict(good, state_dict=nan), path)
    missing = dict(good["state_dict"])
    missing.pop("mean")
    yield "missing tensor", lambda: torch.save(dict(good, state_dict=missing), path)


def test_bad_kept_weights_are_converted_again(tmp_path, model_bytes):
    path = _resnet_weights.weights_path(tmp_path)
    reference = _resnet_weights.load_state_dict(tmp_path)
    good = torch.load(path, weights_only=True)
    for what, plant in _bad_kept_files(path, good):
        plant()
        state = _resnet_weights.load_state_dict(tmp_path)
        for name in reference:
            assert torch.equal(state[name], reference[name]), what
        # ...and the file is replaced by a good one.
        assert torch.load(path, weights_only=True)["source_sha256"] == good["source_sha256"], what


class _Planted:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_planted_pickle_runs_no_code(tmp_path):
    path = _resnet_weights.weights_path(tmp_path)
    path.parent.mkdir(parents=True)
    marker = tmp_path / "ran"
    torch.save({"source_sha256": _Planted(marker)}, path)
    _resnet_weights.load_state_dict(tmp_path)
    assert not marker.exists()


def test_read_only_data_folder_still_works(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError("read-only")

    monkeypatch.setattr(_resnet_weights, "_save", refuse)
    state = _resnet_weights.load_state_dict(tmp_path)
    assert "fc.weight" in state and not _resnet_weights.weights_path(tmp_path).exists()


# --- the same numbers as dlib -----------------------------------------------------------


@pytest.fixture(scope="module")
def synthetic_chips():
    faces = make_synthetic_faces(n_people=3, n_per_person=3, image_size=150, random_state=1)
    return faces.images


def test_torch_engine_equals_dlib_on_synthetic_chips(synthetic_chips):
    ours = FaceEmbedding(framing="dlib", device="cpu").transform(synthetic_chips)
    theirs = FaceEmbedding(framing="dlib", engine="dlib").transform(synthetic_chips)
    assert ours.dtype == np.float64 and ours.shape == (9, 128)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=ATOL)


def test_torch_engine_equals_dlib_on_lfw_chips(lfw_small):
    photos = sorted(lfw_small.glob("*/*.jpg"))[::6]
    chips = np.stack([_chip(p) for p in photos])
    ours = FaceEmbedding(framing="dlib", device="cpu").transform(chips)
    theirs = FaceEmbedding(framing="dlib", engine="dlib").transform(chips)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=ATOL)
    # The course framing goes through the same resizing for both engines.
    course = np.stack([np.asarray(Image.fromarray(c).resize((48, 48))) for c in chips[:4]])
    np.testing.assert_allclose(
        FaceEmbedding(device="cpu").transform(course),
        FaceEmbedding(engine="dlib").transform(course),
        rtol=0,
        atol=ATOL,
    )


def test_batches_and_threads_do_not_change_the_numbers(synthetic_chips, monkeypatch):
    from facenet_sk.faces import _embedding

    whole = _embedding.embed_chips_torch(synthetic_chips, "dlib", "cpu", 1)
    threads = torch.get_num_threads()
    split = _embedding.embed_chips_torch(synthetic_chips, "dlib", "cpu", 2, batch_size=2)
    assert torch.get_num_threads() == threads  # restored
    np.testing.assert_allclose(split, whole, rtol=0, atol=1e-6)


def test_bfloat16_is_close_and_cached_apart(synthetic_chips, tmp_path):
    exact = FaceEmbedding(framing="dlib", device="cpu").transform(synthetic_chips)
    low = FaceEmbedding(
        framing="dlib", device="cpu", precision="bfloat16", memory=tmp_path
    ).transform(synthetic_chips)
    assert not np.array_equal(low, exact)
    assert np.abs(low - exact).max() < 0.02
    FaceEmbedding(framing="dlib", memory=tmp_path).transform(synthetic_chips)
    namespaces = {p.name for p in (tmp_path / "facenet_sk_face_embeddings").iterdir()}
    assert len(namespaces) == 2 and any(n.endswith("-bfloat16") for n in namespaces)


def test_device_auto_and_a_missing_gpu():
    chips = make_synthetic_faces(n_people=2, n_per_person=3, random_state=0).images[:2]
    FaceEmbedding(device="auto").transform(chips)
    if torch.cuda.is_available():
        pytest.skip("a GPU is present: device='cuda' works")
    with pytest.raises(ValueError, match="no CUDA GPU"):
        FaceEmbedding(device="cuda").transform(chips)


def test_bad_engine_parameters():
    X = np.zeros((1, 48, 48, 3))
    for params, name in [
        ({"engine": "onnx"}, "engine"),
        ({"device": "tpu"}, "device"),
        ({"precision": "float16"}, "precision"),
    ]:
        with pytest.raises(ValueError, match=name):
            FaceEmbedding(**params).fit(X)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU")
def test_cuda_equals_cpu(synthetic_chips):
    cpu = FaceEmbedding(framing="dlib", device="cpu").transform(synthetic_chips)
    gpu = FaceEmbedding(framing="dlib", device="cuda").transform(synthetic_chips)
    np.testing.assert_allclose(gpu, cpu, rtol=0, atol=ATOL)


def test_module_from_dlib_weights_runs_any_batch(model_bytes):
    net = FaceResNet()
    net.load_state_dict(state_dict_from_dlib(model_bytes))
    with torch.inference_mode():
        out = net.eval()(torch.full((3, 3, 150, 150), 128.0))
    assert out.shape == (3, 128) and torch.isfinite(out).all()
    assert torch.allclose(out[0], out[2])


# --- every LFW photo ----------------------------------------------------------------------


def _lfw_more_or_skip():
    root = Path(os.environ.get("FACENET_SK_LFW_MORE") or _DEFAULT_MORE)
    if not root.is_dir():
        reason = f"folder {str(root)!r} is absent (set FACENET_SK_LFW_MORE)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason}; CI must not skip the real-data tests")
        pytest.skip(reason)
    return root


@pytest.mark.slow
def test_torch_engine_equals_dlib_on_every_lfw_photo(lfw_root):
    """Every photo of both shared LFW folders (4,039): within ATOL of dlib's own network."""
    photos = sorted(lfw_root.glob("*/*.jpg")) + sorted(_lfw_more_or_skip().glob("*/*.jpg"))
    assert len(photos) > 4000
    worst = 0.0
    for start in range(0, len(photos), 512):
        chips = np.stack([_chip(p) for p in photos[start : start + 512]])
        ours = FaceEmbedding(framing="dlib", device="cpu").transform(chips)
        theirs = FaceEmbedding(framing="dlib", engine="dlib", n_jobs=2).transform(chips)
        worst = max(worst, float(np.abs(ours - theirs).max()))
    print(f"largest coordinate difference over {len(photos)} photos: {worst:.3g}")
    assert worst < ATOL
