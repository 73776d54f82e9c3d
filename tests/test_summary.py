"""The Keras-style summary and the seed's parameter counts."""

import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from facenet_sk import MODEL_NAMES, CNNClassifier, make_model, summary
from facenet_sk.datasets import make_synthetic_faces
from facenet_sk.nets import CNN

# (total, trainable, non-trainable) from the course's Keras summaries.
SEED_COUNTS = {
    "only_fc": ("55,304", "55,304", "0"),
    "fc_with_hidden": ("2,847,008", "2,847,008", "0"),
    "cnn": ("1,910,576", "1,910,576", "0"),
    "cnn_dropout": ("1,910,576", "1,910,576", "0"),
    "cnn_dropout_batchnorm": ("1,912,144", "1,911,360", "784"),
}


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_seed_parameter_counts(name):
    total, trainable, frozen = SEED_COUNTS[name]
    assert summary(make_model(name)).splitlines()[-3:] == [
        f"Total params: {total}",
        f"Trainable params: {trainable}",
        f"Non-trainable params: {frozen}",
    ]


def test_summary_lists_keras_layers_and_shapes():
    text = summary(make_model("cnn_dropout_batchnorm"))
    assert "conv2d_1 (Conv2d)" in text
    assert "(None, 48, 48, 32)" in text
    assert "(None, 12, 12, 64)" in text
    assert "(None, 9216)" in text
    assert "dropout_3 (Dropout)" in text
    assert text.count("BatchNorm") == 5


def test_summary_of_fitted_model_uses_the_data_shape():
    faces = make_synthetic_faces(n_people=3, n_per_person=6, image_size=16)
    clf = CNNClassifier(conv_filters=(4, 8), dense_units=8, max_epochs=1, random_state=0)
    pipe = make_pipeline(StandardScaler(), clf).fit(faces.data, faces.target)
    text = summary(pipe)
    assert "(None, 16, 16, 4)" in text
    assert "(None, 3)" in text.splitlines()[-5]
    # 16x16 -> 4x4 after two poolings: 4*4*8 inputs to the dense layer.
    assert f"{4 * 4 * 8 * 8 + 8:,}" in text


def test_summary_of_unfitted_model_follows_image_shape():
    text = summary(make_model("cnn", image_shape=(32, 32, 3)))
    assert "(None, 32, 32, 32)" in text


def test_summary_of_plain_module_and_bad_input():
    assert "Total params: 1,910,576" in summary(CNN((48, 48, 3), 8))
    with pytest.raises(TypeError, match="summary"):
        summary("cnn")
