"""Training on the user's own folder: real digit images in mixed sizes, modes and formats."""

import json

import numpy as np
import pytest
from PIL import Image

from digits import write_digits  # tests/helpers
from imagevars.datasets import folder
from imagevars.io.decode import load_array
from imagevars.train.session import evaluate, train


@pytest.fixture(scope="module")
def photo_folder(tmp_path_factory, mnist):
    root = write_digits(tmp_path_factory.mktemp("photos"), mnist)
    (root / "digit_0" / "empty.png").write_bytes(b"")
    (root / "digit_1" / "notes.jpg").write_text("this is not an image")
    good = (root / "digit_2" / "0.png").read_bytes()
    (root / "digit_2" / "truncated.png").write_bytes(good[: len(good) // 2])
    (root / "README.txt").write_text("ignored: not in a class folder")
    return root


def test_train_on_a_folder_of_mixed_images(photo_folder, tmp_path):
    report = train(str(photo_folder), recipe="lecture", epochs=4, out=tmp_path / "run", seed=1, verbose=0)
    assert report.model.labels == ("digit_0", "digit_1", "digit_2")
    assert report.model.card.input_size == (28, 28, 3)  # median side 28; colour files present
    assert sorted(f.split("/")[-1] for f, _ in report.skipped) == ["empty.png", "notes.jpg", "truncated.png"]
    assert report.total == 48 and report.test_accuracy > 0.7  # chance is 1/3
    for name in (
        "right.png",
        "wrong.png",
        "confusion.png",
        "history.png",
        "metrics.json",
        "model/card.json",
        "model/model.onnx",
    ):
        assert (tmp_path / "run" / name).exists(), name
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert len(metrics["skipped"]) == 3 and "empty file" in " ".join(r for _, r in metrics["skipped"])
    # the saved model evaluates on the same split it was tested on
    again = evaluate(str(tmp_path / "run" / "model"), data=str(photo_folder), verbose=0)
    assert again.correct == report.correct


def test_train_test_layout_is_respected(tmp_path, mnist):
    write_digits(tmp_path / "data" / "train", mnist, classes=(3, 7), per_class=60)
    write_digits(tmp_path / "data" / "test", mnist, classes=(3, 7), per_class=12, offset=100)
    report = train(str(tmp_path / "data"), epochs=3, out=tmp_path / "run", verbose=0, onnx=False)
    assert report.total == 24 and report.model.labels == ("digit_3", "digit_7")
    assert report.test_accuracy > 0.7


def test_modes_are_converted_faithfully(tmp_path):
    grey = np.tile(np.arange(0, 256, 16, dtype=np.uint8), (16, 1))
    Image.fromarray(grey.astype(np.uint16) * 257).save(tmp_path / "g16.png")
    np.testing.assert_array_equal(load_array(tmp_path / "g16.png", None, 1)[..., 0], grey)
    rgba = Image.new("RGBA", (8, 8), (255, 0, 0, 0))  # fully transparent red -> white
    rgba.save(tmp_path / "t.png")
    assert load_array(tmp_path / "t.png", None, 3)[0, 0].tolist() == [255, 255, 255]
    Image.new("CMYK", (8, 8), (0, 255, 255, 0)).save(tmp_path / "c.jpg")
    r, g, b = load_array(tmp_path / "c.jpg", None, 3)[0, 0].tolist()
    assert r > 200 and g < 60 and b < 60


def test_exif_orientation_is_applied(tmp_path):
    img = Image.new("L", (30, 10), 0)
    exif = img.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    img.save(tmp_path / "r.jpg", exif=exif)
    assert load_array(tmp_path / "r.jpg", None, 1).shape == (30, 10, 1)


def test_folder_errors(tmp_path, mnist):
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        folder.load_folder(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="0 class subfolder"):
        folder.load_folder(tmp_path / "empty")
    write_digits(tmp_path / "one", mnist, classes=(5,), per_class=6)
    with pytest.raises(
        ValueError, match=r"1 class subfolder\(s\) with images \(digit_5\); a classifier needs at least two"
    ):
        folder.load_folder(tmp_path / "one")
    bad = tmp_path / "bad"
    for c in ("a", "b"):
        (bad / c).mkdir(parents=True)
        (bad / c / "x.png").write_bytes(b"")
    with pytest.raises(ValueError, match="no readable images"):
        folder.load_folder(bad, size=28, channels=1)


def test_split_is_stratified_and_seeded(photo_folder):
    data = folder.load_folder(photo_folder, progress=False)
    tr, te = folder.split(data, 0.2, seed=0)
    assert np.bincount(te.y).tolist() == [16, 16, 16]
    tr2, te2 = folder.split(data, 0.2, seed=0)
    assert te.files == te2.files and set(tr.files).isdisjoint(te.files)


def test_the_defaults_learn_a_small_folder_of_photos(tmp_path, capsys):
    """Issue 25's case: 2 x 120 noise textures; with the lecture's epochs this stayed at chance, silently."""
    from textures import write_textures  # tests/helpers

    root = write_textures(tmp_path / "data")
    report = train(str(root), out=tmp_path / "run", seed=0, verbose=1, onnx=False)
    assert report.test_accuracy >= 0.9
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    schedule = metrics["schedule"]
    assert schedule["epochs"] * schedule["steps_per_epoch"] >= 300 and schedule["batch_size"] <= 32
    assert set(metrics["per_class"]) == {"plain", "red"} and metrics["per_class"]["red"]["recall"] >= 0.8
    assert metrics["warnings"] == [] and "Warning" not in capsys.readouterr().out


def test_a_folder_that_cannot_be_learned_says_so(tmp_path, capsys):
    from textures import write_textures  # tests/helpers

    root = write_textures(tmp_path / "data", per_class=40)
    for f in sorted((root / "red").iterdir())[::2]:  # half of each class swapped: the labels mean nothing
        f.rename(root / "plain" / f"swapped_{f.name}")
    for f in sorted((root / "plain").glob("0*.png"))[::2]:
        f.rename(root / "red" / f"swapped_{f.name}")
    report = train(str(root), out=tmp_path / "run", seed=0, epochs=3, verbose=1, onnx=False)
    printed = capsys.readouterr().out
    assert "is not clearly above chance" in printed and "imagevars learn" in printed
    assert "validation set has" in printed  # 8 validation images: too few to say anything
    assert report.total == 16


def test_the_validation_share_of_a_class_ordered_folder_holds_every_class():
    from imagevars.train.folder_plan import stratified_validation

    y = np.repeat(np.arange(3), [100, 30, 6])  # read class by class, as a folder is
    train_rows, val = stratified_validation(y, 0.1, seed=0)
    assert sorted(np.unique(y[val])) == [0, 1, 2] and len(set(train_rows) & set(val)) == 0
    assert len(train_rows) + len(val) == len(y)
