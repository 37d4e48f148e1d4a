"""`embed`: EfficientNet-Lite0 features on real photos: like images close, the classifier's own input."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import imagevars
from imagevars.tasks.embed import EmbedTask


@pytest.fixture(scope="module")
def vectors(tmp_path_factory):
    import skimage.data as data

    folder = tmp_path_factory.mktemp("photos")
    cat = data.chelsea()
    Image.fromarray(cat).save(folder / "cat.jpg", quality=92)
    Image.fromarray(cat[:, ::-1]).save(folder / "cat_mirrored.jpg", quality=92)  # the same cat, mirrored
    Image.fromarray(data.coffee()).save(folder / "coffee.jpg", quality=92)
    Image.fromarray(data.rocket()).save(folder / "rocket.jpg", quality=92)
    res = imagevars.run(["embed"], folder, workers=0, progress=False)
    df = res.to_pandas().set_index("source")
    return {p.split("/")[-1]: np.asarray(v, np.float32) for p, v in df["embed_vector"].items()}, res


def _cos(a, b):
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def test_the_same_scene_is_closer_than_other_scenes(vectors):
    v, _ = vectors
    assert all(x.shape == (1280,) for x in v.values())
    same = _cos(v["cat.jpg"], v["cat_mirrored.jpg"])
    assert same > 0.8 and same > max(_cos(v["cat.jpg"], v["coffee.jpg"]), _cos(v["cat.jpg"], v["rocket.jpg"])) + 0.2


def test_the_vector_is_what_the_classifier_reads(vectors, tmp_path):
    """A linear layer on the features gives the classifier's answer: the features are its input."""
    from imagevars.tasks.classify import ClassifyTask

    v, res = vectors
    assert res.provenance["tasks"][0]["weights_sha256"] == imagevars.get_card("efficientnet-lite0").weights.sha256
    task = ClassifyTask(top=1)
    probabilities, features = task.model.predict(np.stack([task.preprocessor()(_decoded(tmp_path))]))
    assert features.shape == (1, 1280) and probabilities[0].argmax() == 967  # espresso
    assert np.allclose(features[0], v["coffee.jpg"], atol=1e-5)


def _decoded(tmp_path):
    import skimage.data as data

    from imagevars.io.decode import decode

    path = tmp_path / "coffee.jpg"
    Image.fromarray(data.coffee()).save(path, quality=92)
    return decode(path.read_bytes(), str(path), max_side=448)


def test_a_model_without_features_is_refused():
    with pytest.raises(ValueError, match="no backbone 'mnist-cnn' with features"):
        EmbedTask(model="mnist-cnn")


def test_a_hub_backbone_gives_its_own_pooled_output(tmp_path, offline_hub):
    import torch
    import transformers

    from hubmodels import tiny_vit  # tests/helpers

    folder = tiny_vit(tmp_path / "tiny-vit", offline_hub)
    photo = tmp_path / "coffee.png"
    import skimage.data as data

    Image.fromarray(data.coffee()).save(photo)
    res = imagevars.run([EmbedTask("hf:someone/tiny-vit")], photo, workers=0, progress=False)
    got = np.asarray(res.to_pandas()["embed_vector"].item(), np.float32)
    from imagevars.io.decode import decode
    from imagevars.models.efficientnet import center_crop

    crop = center_crop(decode(photo.read_bytes(), "p", max_side=64).rgb, 32)
    with torch.no_grad():
        want = transformers.ViTModel.from_pretrained(folder)(
            **transformers.ViTImageProcessor.from_pretrained(folder)(images=[crop], return_tensors="pt")
        ).pooler_output
    assert got.shape == (16,) and np.allclose(got, want[0].numpy(), atol=1e-5)
    hub = res.provenance["tasks"][0]["hub"]
    assert hub["pooling"] == "pooler_output" and hub["dim"] == 16 and hub["commit"]


def test_an_embed_file_is_searched_by_image(tmp_path, capsys):
    import skimage.data as data

    from imagevars.cli import main
    from imagevars.search import search

    folder = tmp_path / "photos"
    folder.mkdir()
    cat = data.chelsea()
    Image.fromarray(cat).save(folder / "cat.jpg", quality=92)
    Image.fromarray(cat[:, ::-1]).save(folder / "cat_mirrored.jpg", quality=92)
    Image.fromarray(data.coffee()).save(folder / "coffee.jpg", quality=92)
    Image.fromarray(data.rocket()).save(folder / "rocket.jpg", quality=92)
    emb = tmp_path / "emb.parquet"
    imagevars.run(["embed"], folder, emb, workers=0, progress=False)
    hits = search(emb, image=str(folder / "cat.jpg"), top=3)
    assert hits["source"].tolist()[:2] == [str(folder / "cat.jpg"), str(folder / "cat_mirrored.jpg")]
    assert abs(hits["score"].iloc[0] - 1) < 1e-4 and hits["score"].iloc[1] > 0.8 > hits["score"].iloc[2]
    with pytest.raises(ValueError, match="features have no text side"):
        search(emb, "a cat")
    assert main(["search", str(emb), "--image", str(folder / "coffee.jpg"), "--top", "1"]) == 0
    assert "coffee.jpg" in capsys.readouterr().out
