import numpy as np
from PIL import Image

from imagevars.train import figures


def test_pick_examples_chooses_right_and_wrong_per_class():
    y_true = np.array([0, 0, 1, 1, 2, 2])
    y_pred = np.array([0, 1, 1, 1, 2, 0])
    right = figures.pick_examples(y_true, y_pred, correct=True)
    wrong = figures.pick_examples(y_true, y_pred, correct=False)
    assert right[0] == 0 and right[1] in (2, 3) and right[2] == 4
    assert wrong == [1, None, 5]


def test_confusion_matrix_counts():
    cm = figures.confusion_matrix(np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 2, 0]), 3)
    assert cm.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]


def test_figures_are_written_as_png(tmp_path, small_mnist):
    (_, _), (vx, vy) = small_mnist
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(10), size=len(vy)).astype(np.float32)
    labels = [str(d) for d in range(10)]
    paths = [
        figures.gallery(vx, vy, probs, labels, True, tmp_path / "right.png"),
        figures.gallery(vx, vy, probs, labels, False, tmp_path / "wrong.png"),
        figures.plot_confusion(vy, probs.argmax(1), labels, tmp_path / "cm.png"),
        figures.plot_history({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7], "accuracy": [0.5, 0.8]}, tmp_path / "h.png"),
    ]
    for p in paths:
        with Image.open(p) as im:
            assert im.format == "PNG" and im.size[0] > 300 and im.size[1] > 200
