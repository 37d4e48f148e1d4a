"""Every registered model has a complete card and builds with random weights (pretrained=False), offline.

Hub models read only their configuration for that (config.json, tokenizer, image processor):
here the hub cache holds those small files for each registered repo (the families' own default
or tiny configurations, not the published ones) and no weights, and downloads are off, so a
model that tried to fetch its weights would fail the test.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import imagevars
from imagevars.io.files import sha256_file

TASKS = {"classify", "detect", "embed", "generate", "faces", "ask"}
SNAPSHOT = "0123456789abcdef0123456789abcdef01234567"  # the commit of the test cache's snapshots, unless pinned


@pytest.mark.parametrize("name", imagevars.list_models())
def test_every_card_says_what_where_from_license_and_citation(name):
    card = imagevars.get_card(name)
    assert card.name == name and card.task in TASKS
    assert len(card.input_size) == 3 and all(isinstance(v, int) and v > 0 for v in card.input_size)
    assert card.license and card.citation or card.weights is None  # trained by imagevars: license only
    assert card.license and card.description and card.architecture
    assert len(card.mean) in (1, card.input_size[2]) and len(card.std) == len(card.mean)
    if card.task in ("classify", "detect") and not card.config.get("open_vocabulary"):  # those: classes named at use
        assert len(card.labels) >= 2 and len(set(card.labels)) == len(card.labels)
    w = card.weights
    if w is not None and w.bundled:
        from imagevars import models

        path = Path(models.__file__).parent / "weights" / w.filename
        assert sha256_file(path) == w.sha256
    elif w is not None and w.hf_repo:
        assert card.config["hf_repo"] == w.hf_repo
    assert imagevars.ModelCard.from_dict(card.to_dict()) == card


@pytest.fixture(scope="module")
def hub_configs(tmp_path_factory):
    """The hub cache with, for each registered hub repo, its small files only (no weights)."""
    import transformers

    from imagevars.models.clip import save_random_clip, save_random_siglip
    from imagevars.models.open_vocab import save_random_grounding_dino, save_random_owlv2
    from imagevars.models.vlm import save_random_vlm
    from imagevars.testing import put_in_hub_cache, save_random_pipeline

    root = tmp_path_factory.mktemp("hub")
    cache = root / "hf"
    coco = dict(enumerate(imagevars.get_card("rtdetr-r18").labels))
    for name in imagevars.list_models():
        card = imagevars.get_card(name)
        if not (card.weights and card.weights.hf_repo):
            continue
        folder = root / name
        if card.config.get("open_vocabulary"):
            (save_random_grounding_dino if "grounding" in name else save_random_owlv2)(folder)
        elif card.task == "ask":
            save_random_vlm(folder)
        elif card.task == "detect":
            config = (transformers.DFineConfig if name.startswith("dfine") else transformers.RTDetrConfig)(
                id2label=coco
            )
            config.save_pretrained(folder)
            transformers.RTDetrImageProcessor(size={"height": 640, "width": 640}).save_pretrained(folder)
        elif name.startswith("siglip"):
            save_random_siglip(
                folder,
                text=dict(hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2),
                vision=dict(
                    hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2, patch_size=16
                ),
            )
        elif card.task == "embed":
            save_random_clip(
                folder,
                text=dict(hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2),
                vision=dict(
                    hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2, patch_size=32
                ),
                projection_dim=card.config["dim"],
            )
        else:
            save_random_pipeline(folder, kind="sdxl" if "xl" in name else "sd")
        for weights in [*folder.rglob("*.safetensors"), *folder.rglob("*.bin")]:
            weights.unlink()  # what is built must come from the configuration alone
        put_in_hub_cache(folder, card.weights.hf_repo, cache, commit=card.weights.revision or SNAPSHOT)
    return root


@pytest.mark.parametrize("name", imagevars.list_models())
def test_every_model_builds_with_random_weights_without_downloading_them(name, hub_configs, monkeypatch):
    monkeypatch.setenv("IMAGEVARS_HOME", str(hub_configs))
    monkeypatch.setenv("IMAGEVARS_OFFLINE", "1")
    monkeypatch.delenv("HF_HOME", raising=False)
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    card = imagevars.get_card(name)
    classes = {"classes": ["cat", "price tag"]} if card.config.get("open_vocabulary") else {}
    model = imagevars.create_model(name, pretrained=False, **classes)
    if card.task == "classify" and card.config.get("format") == "onnx":  # ships as a converted graph only
        probabilities, features = model.predict(np.zeros((2, *card.input_size), np.uint8))
        assert probabilities.shape == (2, len(card.labels)) and features.shape == (2, card.config["features"])
    elif card.task == "classify":
        assert model.card.labels == card.labels and model.count_params() > 0
        assert model.predict(np.zeros((2, *card.input_size), np.uint8)).shape == (2, len(card.labels))
    elif card.task == "detect":
        side = card.input_size[0]
        if card.weights.hf_repo:  # the snapshot's commit is what the provenance records
            assert model.commit == (card.weights.revision or SNAPSHOT)
        assert tuple(model.labels) == (("cat", "price tag") if classes else card.labels)
        assert np.asarray(model.predict(np.zeros((1, side, side, 3), np.uint8))[0]).shape[1] == 6
    elif card.task == "faces":  # the bundled face detector and its face check: converted graphs only
        if name == "blazeface-back":
            boxes, scores, checks = model.detect(np.zeros((card.input_size[0], card.input_size[1], 3), np.uint8))
            assert boxes.shape[1] == 4 and len(scores) == len(checks)
        else:
            out = model.run(None, {"images": np.zeros((1, *card.input_size), np.float32)})[0]
            assert out.shape == (1, 1) and 0.0 <= float(out[0, 0]) <= 1.0
    elif card.task == "ask":
        assert model.commit == card.weights.revision and (model.repo, model.revision) == (
            card.config["hf_repo"],
            card.weights.revision,
        )
        assert model.score(np.zeros((32, 32, 3), np.uint8), model.prompt("Is it?"), ["yes", "no"]).shape == (2,)
    elif card.task == "embed":
        assert model.commit == SNAPSHOT
        emb = model.embed_texts(["a dog on a beach"])
        assert emb.shape == (1, model.dim) and np.allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
        assert (
            model.kind == ("siglip" if name.startswith("siglip") else "clip") and model.repo == card.config["hf_repo"]
        )
    else:
        assert model.repo == card.config["hf_repo"] and model.defaults["steps"] == card.config["steps"]
        assert hasattr(model.pipe, "unet") and hasattr(model.pipe, "vae")
    assert not list(hub_configs.rglob("*.safetensors"))  # nothing was downloaded


def test_a_hub_model_that_is_not_cached_says_how_to_get_it(monkeypatch, tmp_path):
    monkeypatch.setenv("IMAGEVARS_HOME", str(tmp_path))
    monkeypatch.setenv("IMAGEVARS_OFFLINE", "1")
    with pytest.raises(Exception, match="downloads are off"):
        imagevars.create_model("clip-vit-b32", pretrained=False)


def test_a_fresh_process_sees_every_family_registered():
    """Registration happens on `import imagevars`, not as a side effect of whatever a test imported first."""
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", "import imagevars; print(' '.join(imagevars.list_models()))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out == imagevars.list_models()
    assert {
        "mnist-cnn",
        "centernet-mbv3-coco",
        "rtdetr-r18",
        "clip-vit-b32",
        "siglip-base",
        "stable-diffusion-1.5",
    } <= set(out)
