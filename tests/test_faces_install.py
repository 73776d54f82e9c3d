"""Without the faces extra, or with damaged model files: clear errors, the rest keeps working."""

import os
import subprocess
import sys

import pytest

_BLOCK_DLIB = """
import sys
class _NoDlib:
    def find_spec(self, name, path=None, target=None):
        if name == "dlib" or name == "face_recognition_models":
            raise ImportError(f"No module named {name!r}")
sys.meta_path.insert(0, _NoDlib())
"""


def _python(code, **env):
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **env},
    )
    return result.returncode, result.stdout + result.stderr


def test_without_dlib_the_package_imports_and_face_tools_name_the_install_command():
    code, out = _python(
        _BLOCK_DLIB
        + """
import numpy as np
import facenet_sk, facenet_sk.faces
from facenet_sk.baselines import available_baselines
from facenet_sk.faces import FaceAligner, FaceEmbedding, faces_available
print("available", faces_available(), available_baselines())
for tool in (FaceEmbedding(), FaceAligner()):
    try:
        tool.fit_transform(np.zeros((2, 48, 48, 3), np.uint8))
    except ImportError as exc:
        print("error:", exc)
"""
    )
    assert code == 0, out
    assert "available False ('logistic_regression', 'eigenfaces_svm')" in out
    assert out.count('pip install "facenet_sk[faces]"') == 2, out


def test_load_face_folder_detect_without_dlib(tmp_path):
    code, out = _python(
        _BLOCK_DLIB
        + f"""
from facenet_sk.datasets import load_face_folder
try:
    load_face_folder({str(tmp_path)!r}, detect=True)
except ImportError as exc:
    print("error:", exc)
"""
    )
    assert code == 0 and "error: the face pipeline needs dlib" in out, out


@pytest.mark.parametrize(
    "damage, message",
    [
        ("missing", 'is missing; reinstall it with pip install "facenet_sk[faces]"'),
        ("damaged", "is damaged"),
    ],
)
def test_missing_or_damaged_model_file_is_named(tmp_path, damage, message):
    pytest.importorskip("dlib", reason="the face pipeline's extra is not installed")
    from facenet_sk.faces._models import models_folder

    real = models_folder()
    for name in (
        "shape_predictor_5_face_landmarks.dat",
        "dlib_face_recognition_resnet_model_v1.dat",
    ):
        (tmp_path / name).symlink_to(real / name)
    resnet = tmp_path / "dlib_face_recognition_resnet_model_v1.dat"
    resnet.unlink()
    if damage == "damaged":
        resnet.write_bytes((real / resnet.name).read_bytes()[:1000])
    code, out = _python(
        """
import numpy as np
from facenet_sk.faces import FaceEmbedding, faces_available
print("available", faces_available())
FaceEmbedding().transform(np.zeros((1, 48, 48, 3), np.uint8))
""",
        FACENET_SK_FACE_MODELS=str(tmp_path),
    )
    assert code != 0 and "available False" in out
    assert str(resnet) in out and message in out, out
