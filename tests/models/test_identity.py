"""Which weights made the rows: a local Hugging Face folder is recorded with the sha256 of its weight files,
hashed once per process, and a resumed run never keeps rows that other weights made."""

from __future__ import annotations

import pytest
import skimage.data as data
from PIL import Image

import imagevars
from hubmodels import save_tiny_vit  # tests/helpers
from imagevars.models import identity
from imagevars.models.identity import folder_sha256


def _vit(folder, seed: int):
    return save_tiny_vit(folder, ["a", "b"], seed)


def test_a_local_hub_folder_is_recorded_by_its_weights_and_rows_of_other_weights_are_never_resumed(tmp_path):
    from imagevars.tasks import ClassifyTask

    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("coffee", "chelsea", "rocket"):
        Image.fromarray(getattr(data, name)()).save(photos / f"{name}.jpg")
    model = _vit(tmp_path / "vit", seed=0)
    out = tmp_path / "vars.parquet"
    first = imagevars.run([ClassifyTask(str(model), top=1)], photos, out, workers=0, progress=False)
    recorded = first.provenance["tasks"][0]["weights_sha256"]
    assert recorded == folder_sha256(model) and len(recorded) == 64
    # a run stopped after its first image leaves its rows and settings on disk, as a crash does ...
    with pytest.raises(KeyboardInterrupt):
        _interrupt(model, photos, tmp_path / "b.parquet")
    assert list((tmp_path / "b.parquet.parts").glob("part-*.parquet"))
    _vit(model, seed=1)  # ... then the folder gets other weights: its rows are not resumed under the new ones
    assert folder_sha256(model) != recorded
    with pytest.raises(ValueError, match=r"made with other weights \(sha256 .*run without --resume strict"):
        imagevars.run(
            [ClassifyTask(str(model), top=1)],
            photos,
            tmp_path / "b.parquet",
            workers=0,
            progress=False,
            resume="strict",
        )
    with pytest.warns(UserWarning, match="measuring every row again with these weights"):
        again = imagevars.run(
            [ClassifyTask(str(model), top=1)], photos, tmp_path / "b.parquet", workers=0, progress=False
        )
    fresh = imagevars.run([ClassifyTask(str(model), top=1)], photos, workers=0, progress=False)
    assert again.provenance["tasks"][0]["weights_sha256"] == folder_sha256(model)
    assert again.to_pandas()["classify_top1_score"].tolist() == fresh.to_pandas()["classify_top1_score"].tolist()
    assert again.provenance["counts"]["skipped"] == 0  # nothing kept from the old weights


def _interrupt(model, photos, out):
    """A run of the classifier that stops after its first image, leaving its parts and settings on disk."""
    from imagevars.tasks import ClassifyTask

    class Once(ClassifyTask):
        calls = 0

        def __call__(self, batch):
            Once.calls += 1
            if Once.calls == 2:
                raise KeyboardInterrupt
            return super().__call__(batch)

    imagevars.run([Once(str(model), top=1)], photos, out, workers=0, progress=False, batch_size=1, chunk_rows=1)


def test_each_file_is_hashed_once_until_it_changes(tmp_path, monkeypatch):
    calls = []
    real = identity.sha256_file
    monkeypatch.setattr(identity, "sha256_file", lambda p: calls.append(p) or real(p))
    (tmp_path / "model.safetensors").write_bytes(b"one")
    (tmp_path / "config.json").write_text("{}")  # not weights: not hashed
    a = folder_sha256(tmp_path)
    assert folder_sha256(tmp_path) == a and len(calls) == 1
    (tmp_path / "model.safetensors").write_bytes(b"two!")
    assert folder_sha256(tmp_path) != a and len(calls) == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    assert folder_sha256(empty) is None


def test_a_hub_snapshot_is_recorded_by_the_weights_in_its_cache(tmp_path, offline_hub):
    from hubmodels import tiny_vit  # tests/helpers
    from imagevars.models.identity import hub_sha256
    from imagevars.tasks import EmbedTask

    folder = tiny_vit(tmp_path / "vit", offline_hub, repo="someone/tiny-vit")
    assert hub_sha256("someone/tiny-vit") == folder_sha256(folder) is not None
    assert hub_sha256("someone/not-cached") is None
    Image.fromarray(data.coffee()).save(tmp_path / "coffee.jpg")
    table = imagevars.run([EmbedTask(model="hf:someone/tiny-vit")], tmp_path / "coffee.jpg", workers=0, progress=False)
    task = table.provenance["tasks"][0]
    assert task["weights_sha256"] == task["hub"]["weights_sha256"] == folder_sha256(folder)
