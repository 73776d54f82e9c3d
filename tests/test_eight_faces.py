"""load_eight_faces / fetch_eight_faces: the course's HDF5 file, read and downloaded."""

import http.server
import re
import socket
import struct
import threading

import h5py
import numpy as np
import pytest

from facenet_sk.datasets import fetch_eight_faces, get_data_home, load_eight_faces
from facenet_sk.datasets._download import DownloadError
from facenet_sk.datasets._eight_faces import (
    EIGHT_FACES_FILENAME,
    EIGHT_FACES_NAMES,
    LayoutError,
    check_eight_faces_file,
)

KEYS = [f"{xy}_{s}_8_faces" for s in ("train", "valid", "test") for xy in ("X", "Y")]


# --------------------------------------------------------------------------- reading


@pytest.fixture
def h5_file(tmp_path, write_eight_faces_h5):
    return write_eight_faces_h5(tmp_path / "faces.hdf5")


@pytest.mark.parametrize("subset, n", [("train", 16), ("valid", 4), ("test", 4), ("all", 24)])
def test_read_subsets(h5_file, subset, n):
    faces = load_eight_faces(h5_file, subset=subset)
    assert faces.images.shape == (n, 48, 48, 3)
    assert faces.images.dtype == np.uint8
    assert faces.data.shape == (n, 6912)
    np.testing.assert_array_equal(faces.data, faces.images.reshape(n, -1))
    assert faces.target.dtype == np.int64 and faces.target.shape == (n,)
    assert list(faces.target_names) == list(EIGHT_FACES_NAMES)
    assert faces.path == str(h5_file)
    assert "8 faces" in faces.DESCR


def test_read_values_match_the_file(h5_file):
    faces = load_eight_faces(h5_file, subset="valid")
    with h5py.File(h5_file, "r") as h5:
        np.testing.assert_array_equal(faces.images, h5["X_valid_8_faces"][()])
        np.testing.assert_array_equal(faces.target, h5["Y_valid_8_faces"][()])


def test_all_concatenates_train_valid_test_in_order(h5_file):
    faces = load_eight_faces(h5_file, subset="all")
    np.testing.assert_array_equal(faces.subset, ["train"] * 16 + ["valid"] * 4 + ["test"] * 4)
    with h5py.File(h5_file, "r") as h5:
        expected = np.concatenate([h5[f"X_{s}_8_faces"][()] for s in ("train", "valid", "test")])
    np.testing.assert_array_equal(faces.images, expected)


def test_return_X_y(h5_file):
    X, y = load_eight_faces(h5_file, subset="test", return_X_y=True)
    assert X.shape == (4, 6912) and X.dtype == np.uint8
    np.testing.assert_array_equal(y, [0, 1, 2, 3])


def test_float_pixels_are_rounded_and_clipped_to_uint8(tmp_path, write_eight_faces_h5):
    x = np.zeros((16, 48, 48, 3), dtype=np.float32)
    x[0, 0, 0] = [12.4, 12.6, 254.7]
    x[1, 0, 0] = [-3.0, 300.0, 128.0]
    path = write_eight_faces_h5(tmp_path / "f.hdf5", overrides={"X_train_8_faces": x})
    images = load_eight_faces(path).images
    assert images.dtype == np.uint8
    np.testing.assert_array_equal(images[0, 0, 0], [12, 13, 255])
    np.testing.assert_array_equal(images[1, 0, 0], [0, 255, 128])


def test_one_hot_labels_are_accepted(tmp_path, write_eight_faces_h5):
    path = write_eight_faces_h5(tmp_path / "f.hdf5", one_hot=True)
    with h5py.File(path, "r") as h5:
        assert h5["Y_train_8_faces"].shape == (16, 8)
    faces = load_eight_faces(path, subset="train")
    np.testing.assert_array_equal(faces.target, np.arange(16) % 8)
    assert faces.target.dtype == np.int64


def test_invalid_subset(h5_file):
    with pytest.raises(ValueError, match="subset"):
        load_eight_faces(h5_file, subset="training")


def test_missing_path_raises_file_not_found(tmp_path):
    missing = tmp_path / "nope.hdf5"
    with pytest.raises(FileNotFoundError, match=re.escape(str(missing))):
        load_eight_faces(missing)


# --------------------------------------------------------------------------- layout errors


@pytest.mark.parametrize("key", KEYS)
def test_missing_key_names_file_and_key(tmp_path, write_eight_faces_h5, key):
    path = write_eight_faces_h5(tmp_path / "f.hdf5", overrides={key: None})
    with pytest.raises(LayoutError, match=re.escape(str(path))) as info:
        load_eight_faces(path)
    assert key in str(info.value)


@pytest.mark.parametrize(
    "key, value",
    [
        ("X_train_8_faces", np.zeros((16, 48, 48), np.uint8)),  # no channel axis
        ("X_train_8_faces", np.zeros((16, 48, 48, 1), np.uint8)),  # grey
        ("X_valid_8_faces", np.zeros((0, 48, 48, 3), np.uint8)),  # empty
        ("Y_test_8_faces", np.zeros(5, np.int64)),  # 5 labels for 4 images
        ("Y_train_8_faces", np.zeros((16, 8, 1), np.float32)),  # 3-D labels
    ],
)
def test_wrong_shape_names_file_and_key(tmp_path, write_eight_faces_h5, key, value):
    path = write_eight_faces_h5(tmp_path / "f.hdf5", overrides={key: value})
    with pytest.raises(LayoutError, match=re.escape(str(path))) as info:
        load_eight_faces(path)
    assert key in str(info.value)


@pytest.mark.parametrize("content", [b"<html>not hdf5</html>", b"", b"\x89HDF\r\n\x1a\n"])
def test_not_an_hdf5_file_names_the_file(tmp_path, content):
    path = tmp_path / "f.hdf5"
    path.write_bytes(content)
    with pytest.raises(LayoutError, match=re.escape(str(path))):
        load_eight_faces(path)


def test_layout_error_is_a_value_error(tmp_path):
    path = tmp_path / "f.hdf5"
    path.write_text("text")
    with pytest.raises(ValueError):
        check_eight_faces_file(path)


def test_negative_labels_are_rejected(tmp_path, write_eight_faces_h5):
    path = write_eight_faces_h5(tmp_path / "f.hdf5", overrides={"Y_train_8_faces": np.full(16, -1)})
    with pytest.raises(LayoutError, match=re.escape(str(path))):
        load_eight_faces(path)


@pytest.mark.parametrize("labels", [[0, 3000000], [0, 2**40], [0, 24]])
def test_absurd_labels_are_refused_in_one_line(tmp_path, write_eight_faces_h5, labels):
    """A label beyond the images (or the cap) would build millions of names."""
    y = np.zeros(16, dtype=np.int64)
    y[: len(labels)] = labels
    path = write_eight_faces_h5(tmp_path / "f.hdf5", overrides={"Y_train_8_faces": y})
    for call in (check_eight_faces_file, load_eight_faces):
        with pytest.raises(LayoutError, match="labels must lie in 0..") as info:
            call(path)
        assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_negative_and_one_hot_labels_are_checked_by_the_layout_check(
    tmp_path, write_eight_faces_h5
):
    path = write_eight_faces_h5(tmp_path / "f.hdf5", overrides={"Y_test_8_faces": np.full(4, -3)})
    with pytest.raises(LayoutError, match="found -3"):
        check_eight_faces_file(path)
    one_hot = write_eight_faces_h5(tmp_path / "g.hdf5", one_hot=True)
    assert check_eight_faces_file(one_hot) is None


def test_check_accepts_a_good_file(h5_file):
    assert check_eight_faces_file(h5_file) is None


# --------------------------------------------------------------------------- download


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves ``server.routes[path] = (status, body, content_length)``."""

    def do_GET(self):
        self.server.requests.append(self.path)
        status, body, length = self.server.routes.get(self.path, (404, b"not found", None))
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def log_message(self, *args):  # keep the test output quiet
        pass


@pytest.fixture
def server(monkeypatch):
    """A real HTTP server on 127.0.0.1 (any free port), shut down after the test."""
    # The download must reach this server directly, never through a proxy.
    for var in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.routes, httpd.requests = {}, []
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    # A short poll interval makes shutdown() return quickly.
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture
def good_bytes(tmp_path, write_eight_faces_h5):
    return write_eight_faces_h5(tmp_path / "source.hdf5").read_bytes()


@pytest.fixture
def data_home(tmp_path):
    return tmp_path / "data_home"


def _left_in(folder):
    """Every entry in ``folder`` (hidden temporary files included)."""
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_download_good_file_lands_in_data_home_and_loads(server, good_bytes, data_home):
    server.routes["/good.hdf5"] = (200, good_bytes, None)
    faces = load_eight_faces(data_home=data_home, url=server.url + "/good.hdf5", subset="all")
    assert _left_in(data_home) == [EIGHT_FACES_FILENAME]
    assert (data_home / EIGHT_FACES_FILENAME).read_bytes() == good_bytes
    assert faces.images.shape == (24, 48, 48, 3)
    assert faces.path == str(data_home / EIGHT_FACES_FILENAME)
    assert server.requests == ["/good.hdf5"]


def test_fetch_returns_path_and_does_not_download_twice(server, good_bytes, data_home):
    server.routes["/good.hdf5"] = (200, good_bytes, None)
    url = server.url + "/good.hdf5"
    first = fetch_eight_faces(data_home=data_home, url=url, progress=False)
    second = fetch_eight_faces(data_home=data_home, url=url, progress=False)
    assert first == second == data_home / EIGHT_FACES_FILENAME
    load_eight_faces(data_home=data_home, url=url)
    assert server.requests == ["/good.hdf5"]


def _assert_fails_cleanly(server, data_home, path, error=DownloadError):
    with pytest.raises(error) as info:
        load_eight_faces(data_home=data_home, url=server.url + path)
    message = str(info.value)
    assert "by hand" in message
    assert server.url + path in message
    assert str(data_home / EIGHT_FACES_FILENAME) in message
    assert _left_in(data_home) == [], "a failed download must leave nothing behind"
    return info.value


def test_short_read_against_full_content_length(server, good_bytes, data_home):
    server.routes["/cut.hdf5"] = (200, good_bytes[: len(good_bytes) // 2], len(good_bytes))
    error = _assert_fails_cleanly(server, data_home, "/cut.hdf5")
    # Caught by the length check, before the content is even looked at.
    assert isinstance(error.__cause__, DownloadError)
    assert re.search("incomplete|cut off", str(error))


def test_truncated_file_with_its_true_length_is_invalid(server, good_bytes, data_home):
    server.routes["/short.hdf5"] = (200, good_bytes[: len(good_bytes) // 2], None)
    error = _assert_fails_cleanly(server, data_home, "/short.hdf5")
    assert isinstance(error.__cause__, LayoutError)


def test_html_body_is_rejected(server, data_home):
    server.routes["/login"] = (200, b"<!DOCTYPE html><html><body>Sign in</body></html>", None)
    error = _assert_fails_cleanly(server, data_home, "/login")
    assert isinstance(error.__cause__, LayoutError)


def test_valid_hdf5_with_wrong_layout_is_rejected(
    server, tmp_path, data_home, write_eight_faces_h5
):
    wrong = write_eight_faces_h5(tmp_path / "wrong.hdf5", overrides={"X_test_8_faces": None})
    server.routes["/wrong.hdf5"] = (200, wrong.read_bytes(), None)
    error = _assert_fails_cleanly(server, data_home, "/wrong.hdf5")
    assert "X_test_8_faces" in str(error)


@pytest.mark.parametrize("status", [404, 500])
def test_http_error_status(server, data_home, status):
    server.routes["/err"] = (status, b"oops", None)
    error = _assert_fails_cleanly(server, data_home, "/err")
    assert str(status) in str(error)


def test_unreachable_server(server, data_home):
    # A port that was just free and is now closed: connection refused.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/x.hdf5"
    with pytest.raises(DownloadError, match="by hand"):
        load_eight_faces(data_home=data_home, url=url)
    assert _left_in(data_home) == []


def test_connection_reset_mid_body(server, good_bytes, data_home):
    class _Reset(_Handler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", str(len(good_bytes)))
            self.end_headers()
            self.wfile.write(good_bytes[:1000])
            self.wfile.flush()
            # SO_LINGER with a zero timeout makes close() send a TCP reset
            # (and no FIN first), so the client's next read fails with
            # ConnectionResetError rather than seeing a clean end of file.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True

    server.RequestHandlerClass = _Reset
    _assert_fails_cleanly(server, data_home, "/reset.hdf5")


def test_retry_after_failure_succeeds(server, good_bytes, data_home):
    server.routes["/cut.hdf5"] = (200, good_bytes[:100], len(good_bytes))
    server.routes["/good.hdf5"] = (200, good_bytes, None)
    with pytest.raises(DownloadError):
        load_eight_faces(data_home=data_home, url=server.url + "/cut.hdf5")
    assert _left_in(data_home) == []
    faces = load_eight_faces(data_home=data_home, url=server.url + "/good.hdf5")
    assert faces.images.shape == (16, 48, 48, 3)
    assert _left_in(data_home) == [EIGHT_FACES_FILENAME]


def test_no_download_when_disabled(server, data_home):
    server.routes["/good.hdf5"] = (200, b"unused", None)
    with pytest.raises(FileNotFoundError, match=re.escape(str(data_home))):
        load_eight_faces(
            data_home=data_home, url=server.url + "/good.hdf5", download_if_missing=False
        )
    assert server.requests == []
    assert _left_in(data_home) == []


def test_existing_file_is_used_without_download(server, data_home, write_eight_faces_h5):
    data_home.mkdir()
    write_eight_faces_h5(data_home / EIGHT_FACES_FILENAME, n_per_split=(8, 8, 8))
    faces = load_eight_faces(
        data_home=data_home, url=server.url + "/missing", download_if_missing=False, subset="valid"
    )
    assert faces.images.shape == (8, 48, 48, 3)
    assert server.requests == []


def test_env_var_overrides_default_data_home(server, good_bytes, tmp_path, monkeypatch):
    env_home = tmp_path / "from_env"
    monkeypatch.setenv("FACENET_SK_DATA", str(env_home))
    assert get_data_home() == env_home
    server.routes["/good.hdf5"] = (200, good_bytes, None)
    faces = load_eight_faces(url=server.url + "/good.hdf5")
    assert faces.path == str(env_home / EIGHT_FACES_FILENAME)
    assert _left_in(env_home) == [EIGHT_FACES_FILENAME]


def test_explicit_data_home_beats_env_var(tmp_path, monkeypatch):
    monkeypatch.setenv("FACENET_SK_DATA", str(tmp_path / "from_env"))
    assert get_data_home(tmp_path / "explicit") == tmp_path / "explicit"
    assert (tmp_path / "explicit").is_dir()


def test_data_home_that_is_a_file_is_rejected(tmp_path):
    path = tmp_path / "file"
    path.write_text("x")
    with pytest.raises(NotADirectoryError, match=re.escape(str(path))):
        get_data_home(path)


def test_target_names_cover_the_files_classes(tmp_path, write_eight_faces_h5):
    path = write_eight_faces_h5(tmp_path / "three.hdf5", n_per_split=(6, 3, 3), n_classes=3)
    for subset in ("train", "valid", "all"):
        assert list(load_eight_faces(path, subset=subset).target_names) == list(
            EIGHT_FACES_NAMES[:3]
        )


def test_a_download_with_absurd_labels_is_not_kept(
    server, tmp_path, data_home, write_eight_faces_h5
):
    y = np.zeros(16, dtype=np.int64)
    y[1] = 3000000
    bad = write_eight_faces_h5(tmp_path / "bad.hdf5", overrides={"Y_train_8_faces": y})
    server.routes["/bad.hdf5"] = (200, bad.read_bytes(), None)
    with pytest.raises(DownloadError, match="labels must lie in 0.."):
        fetch_eight_faces(data_home=data_home, url=server.url + "/bad.hdf5", progress=False)
    assert _left_in(data_home) == []


def test_a_downloaded_file_gets_the_usual_mode(server, good_bytes, data_home):
    """Not the 0600 of the temporary file: what open() would give under the umask."""
    import os

    server.routes["/good.hdf5"] = (200, good_bytes, None)
    old = os.umask(0o022)
    try:
        path = fetch_eight_faces(data_home=data_home, url=server.url + "/good.hdf5", progress=False)
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644
