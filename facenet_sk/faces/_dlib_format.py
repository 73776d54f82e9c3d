"""A reader of dlib's serialization, enough for its face recognition ResNet.

dlib writes a network with its own format (``dlib/serialize.h``): integers
as a length byte (low nibble: how many bytes follow, bit 7: negative)
followed by the magnitude's bytes, least significant first; floating point
numbers as two such integers, a mantissa and a power of two; strings as a
length and their bytes; booleans as the characters ``'0'`` and ``'1'``;
tensors (``dlib/cuda/tensor.h``) as four dimensions and raw little-endian
float32 values. A network (``dlib/dnn/core.h``) is written outside in: each
layer writes its version, then the whole network below it, then its own
details, so the versions of all layers come first and the layers' contents
follow from the input upwards.

This module reads those values and walks the layer stack of
``dlib_face_recognition_resnet_model_v1.dat`` (the ``anet_type`` of dlib's
``examples/dnn_face_recognition_ex.cpp``), checking every layer's kind and
shape on the way: a file of another network is an error, never a silently
wrong model. It needs numpy only: no compiler, no dlib.
"""

import math
from dataclasses import dataclass, field

import numpy as np

# float_details' exponents that stand for special values.
_IS_INF, _IS_NINF, _IS_NAN = 32000, 32001, 32002


class DlibFormatError(ValueError):
    """The bytes are not the serialized network expected."""


class DlibReader:
    """Reads dlib's serialized values from bytes, front to back.

    Parameters
    ----------
    data : bytes-like
        The serialized bytes.

    Examples
    --------
    >>> reader = DlibReader(bytes([0x01, 0x96, 0x81, 0x05, 0x02, 0x00, 0x01]))
    >>> reader.int(), reader.int(), reader.int()
    (150, -5, 256)
    """

    def __init__(self, data):
        self.data = memoryview(data)
        self.pos = 0

    def _take(self, n):
        if self.pos + n > len(self.data):
            raise DlibFormatError(
                f"the file ends at byte {len(self.data)}, "
                f"{self.pos + n - len(self.data)} byte(s) short"
            )
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def int(self):
        """A signed or unsigned integer."""
        head = self._take(1)[0]
        size = head & 0x0F
        if size > 8 or head & 0x70:
            raise DlibFormatError(f"bad integer header 0x{head:02x} at byte {self.pos - 1}")
        value = int.from_bytes(self._take(size), "little")
        return -value if head & 0x80 else value

    def float(self):
        """A floating point number: mantissa * 2**exponent."""
        mantissa = self.int()
        exponent = self.int()
        if exponent == _IS_INF:
            return math.inf
        if exponent == _IS_NINF:
            return -math.inf
        if exponent == _IS_NAN:
            return math.nan
        return math.ldexp(mantissa, exponent)

    def string(self):
        """A string: its length, then its bytes."""
        n = self.int()
        if not 0 <= n <= 1024:
            raise DlibFormatError(f"bad string length {n} at byte {self.pos}")
        return bytes(self._take(n)).decode("latin-1")

    def bool(self):
        """A boolean, written as the character '0' or '1'."""
        char = bytes(self._take(1))
        if char not in (b"0", b"1"):
            raise DlibFormatError(f"bad boolean {char!r} at byte {self.pos - 1}")
        return char == b"1"

    def tensor(self):
        """A tensor: float32 array of shape (num_samples, k, nr, nc)."""
        self.expect_int(2, "tensor version")
        shape = tuple(self.int() for _ in range(4))
        if min(shape) < 0:
            raise DlibFormatError(f"bad tensor shape {shape} at byte {self.pos}")
        count = int(np.prod(shape))
        raw = self._take(4 * count)
        return np.frombuffer(raw, dtype="<f4").astype(np.float32).reshape(shape)

    def alias(self):
        """An alias_tensor: the shape of a view into a layer's parameters."""
        self.expect_int(1, "alias_tensor version")
        return tuple(self.int() for _ in range(4))

    def expect_int(self, value, what):
        got = self.int()
        if got != value:
            raise DlibFormatError(f"{what}: expected {value}, found {got} at byte {self.pos}")
        return got

    def expect_string(self, value):
        got = self.string()
        if got != value:
            raise DlibFormatError(f"expected layer {value!r}, found {got!r} at byte {self.pos}")
        return got


def _resnet_stack():
    """Layers of dlib's face ResNet, from the input upwards.

    Each entry is ``(kind, arguments)``; ``tag``/``skip`` are dlib's tag and
    skip layers, which hold no data.
    """
    layers = [("con", (32, 7, 7, 2, 2)), ("affine", ()), ("relu", ()), ("max_pool", (3, 3, 2, 2))]

    def block(n, stride):
        return [
            ("con", (n, 3, 3, stride, stride)),
            ("affine", ()),
            ("relu", ()),
            ("con", (n, 3, 3, 1, 1)),
            ("affine", ()),
        ]

    def ares(n):
        return [("tag", 1)] + block(n, 1) + [("add_prev", 1), ("relu", ())]

    def ares_down(n):
        return (
            [("tag", 1)]
            + block(n, 2)
            + [("tag", 2), ("skip", 1), ("avg_pool", (2, 2, 2, 2)), ("add_prev", 2), ("relu", ())]
        )

    for n, n_plain, down in [
        (32, 3, False),
        (64, 3, True),
        (128, 2, True),
        (256, 2, True),
        (256, 0, True),
    ]:
        if down:
            layers += ares_down(n)
        for _ in range(n_plain):
            layers += ares(n)
    layers += [("avg_pool", (0, 0, 1, 1)), ("fc_no_bias", (128,))]
    return layers


#: The layer stack of ``dlib_face_recognition_resnet_model_v1.dat``.
RESNET_LAYERS = _resnet_stack()


@dataclass
class DlibResNet:
    """What the model file holds, as numpy arrays.

    Attributes
    ----------
    input_mean : ndarray of shape (3,)
        Mean of red, green and blue subtracted from each pixel.
    input_size : int
        Side of the input image (150).
    layers : list of (str, dict)
        The layer stack from the input upwards, with each layer's
        parameters: ``con``: ``weight`` (out, in, kh, kw), ``bias`` (out,),
        ``stride``, ``padding``; ``affine``: ``scale`` and ``shift`` (C,);
        ``max_pool``/``avg_pool``: ``window``, ``stride``, ``padding``
        (window 0: the whole image); ``fc_no_bias``: ``weight`` (out, in);
        ``tag``/``skip``/``add_prev``: the tag number.
    """

    input_mean: np.ndarray
    input_size: int
    layers: list = field(default_factory=list)


def _read_trailer(reader):
    # add_layer's bookkeeping after a layer's details: three flags, then the
    # (empty in a saved model) gradient, output and parameter-gradient tensors.
    for _ in range(3):
        reader.bool()
    for _ in range(3):
        reader.tensor()


def _read_con(reader, args):
    n, nr, nc, sy, sx = args
    version = reader.string()
    if version not in ("con_4", "con_5"):
        raise DlibFormatError(f"expected a con_ layer, found {version!r} at byte {reader.pos}")
    params = reader.tensor().ravel()
    fields = [reader.int() for _ in range(7)]
    if fields[:5] != [n, nr, nc, sy, sx]:
        raise DlibFormatError(f"con layer of {fields[:5]}, expected {list(args)}")
    pad_y, pad_x = fields[5:]
    filters = reader.alias()
    biases = reader.alias()
    for _ in range(4):  # learning rate and weight decay multipliers
        reader.float()
    use_bias = reader.bool() if version == "con_5" else True
    n_weight = int(np.prod(filters))
    if filters[0] != n or filters[2:] != (nr, nc):
        raise DlibFormatError(f"con filters of shape {filters}, expected ({n}, _, {nr}, {nc})")
    expected = n_weight + (n if use_bias else 0)
    if params.size != expected:
        raise DlibFormatError(f"con layer holds {params.size} values, expected {expected}")
    bias = params[n_weight:] if use_bias else np.zeros(n, np.float32)
    if use_bias and int(np.prod(biases)) != n:
        raise DlibFormatError(f"con biases of shape {biases}, expected {n} values")
    return {
        "weight": params[:n_weight].reshape(filters),
        "bias": bias,
        "stride": (sy, sx),
        "padding": (pad_y, pad_x),
    }


def _read_affine(reader):
    reader.expect_string("affine_")
    params = reader.tensor().ravel()
    gamma = reader.alias()
    beta = reader.alias()
    mode = reader.int()
    n = int(np.prod(gamma))
    if mode != 0 or int(np.prod(beta)) != n or params.size != 2 * n:
        # mode 0 is CONV_MODE: one scale and shift per channel.
        raise DlibFormatError(
            f"affine layer of mode {mode} with {params.size} values "
            f"for {n} channels, expected a per-channel one"
        )
    return {"scale": params[:n], "shift": params[n:]}


def _read_pool(reader, kind, args):
    reader.expect_string(f"{kind}_2")
    fields = [reader.int() for _ in range(6)]
    if fields[:4] != list(args):
        raise DlibFormatError(f"{kind} of {fields[:4]}, expected {list(args)}")
    return {"window": tuple(fields[:2]), "stride": tuple(fields[2:4]), "padding": tuple(fields[4:])}


def _read_fc(reader, args):
    reader.expect_string("fc_2")
    n_out = reader.int()
    n_in = reader.int()
    params = reader.tensor().ravel()
    weights = reader.alias()
    reader.alias()  # the (absent) biases
    bias_mode = reader.int()
    for _ in range(4):
        reader.float()
    if (
        n_out != args[0]
        or bias_mode != 1
        or weights[:2] != (n_in, n_out)
        or params.size != n_in * n_out
    ):
        raise DlibFormatError(
            f"fc layer {n_in} -> {n_out} (bias mode {bias_mode}, "
            f"{params.size} values), expected -> {args[0]} without bias"
        )
    # dlib multiplies rows of inputs by a (n_in, n_out) matrix.
    return {"weight": np.ascontiguousarray(params.reshape(n_in, n_out).T)}


def read_resnet(data):
    """Parse the bytes of ``dlib_face_recognition_resnet_model_v1.dat``.

    Parameters
    ----------
    data : bytes-like
        The whole file.

    Returns
    -------
    DlibResNet

    Raises
    ------
    DlibFormatError
        When the bytes are not that network, with the first thing that differs.

    Examples
    --------
    >>> from facenet_sk.faces._models import model_path
    >>> from pathlib import Path
    >>> path = model_path("dlib_face_recognition_resnet_model_v1.dat")  # doctest: +SKIP
    >>> net = read_resnet(Path(path).read_bytes())  # doctest: +SKIP
    >>> net.layers[0][1]["weight"].shape  # doctest: +SKIP
    (32, 3, 7, 7)
    """
    reader = DlibReader(data)
    reader.expect_int(1, "loss layer version")
    reader.expect_string("loss_metric_2")
    reader.float()  # margin and distance threshold: training settings only
    reader.float()
    # The versions, outside in: add_layer 2, tag and skip 1, and 3 for the
    # first layer, which holds the input layer.
    for kind, _ in reversed(RESNET_LAYERS[1:]):
        reader.expect_int(1 if kind in ("tag", "skip") else 2, f"version of a {kind} layer")
    reader.expect_int(3, "version of the first layer")
    reader.expect_string("input_rgb_image_sized")
    mean = np.array([reader.float() for _ in range(3)], dtype=np.float32)
    size = reader.int()
    if reader.int() != size or size <= 0:
        raise DlibFormatError("the input layer takes a non-square image")
    net = DlibResNet(input_mean=mean, input_size=size)
    for kind, args in RESNET_LAYERS:
        if kind in ("tag", "skip"):
            net.layers.append((kind, {"id": args}))
            continue
        if kind == "con":
            params = _read_con(reader, args)
        elif kind == "affine":
            params = _read_affine(reader)
        elif kind == "relu":
            reader.expect_string("relu_")
            params = {}
        elif kind in ("max_pool", "avg_pool"):
            params = _read_pool(reader, kind, args)
        elif kind == "add_prev":
            reader.expect_string("add_prev_")
            params = {"id": args}
        else:
            params = _read_fc(reader, args)
        _read_trailer(reader)
        if not net.layers:
            # The first layer (version 3) also keeps its input's sample
            # expansion factor: one tensor row per image.
            reader.expect_int(1, "sample expansion factor")
        net.layers.append((kind, params))
    if reader.pos != len(reader.data):
        raise DlibFormatError(f"{len(reader.data) - reader.pos} unread byte(s) at the end")
    return net
