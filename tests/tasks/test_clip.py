"""CLIP: a tiny random model saved to a folder and loaded like a hub model; zero-shot scores,
prompt files, embeddings and search."""

from __future__ import annotations

import json

import numpy as np
import pytest

transformers = pytest.importorskip("transformers")
pytest.importorskip("yaml")

import imagevars  # noqa: E402
from imagevars.models.clip import ClipModel  # noqa: E402
from imagevars.search import search, top_k  # noqa: E402
from imagevars.tasks.clip import ClipEmbedTask, ClipTask, load_prompts  # noqa: E402


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory):
    """A tiny randomly initialised CLIP saved as a hub snapshot would be, loaded by the same path."""
    from imagevars.models.clip import save_random_clip

    text = dict(
        hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2, max_position_embeddings=24
    )
    vision = dict(hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2, patch_size=8)
    return str(
        save_random_clip(
            tmp_path_factory.mktemp("tiny-clip"), text=text, vision=vision, projection_dim=8, image_side=32
        )
    )


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    import skimage.data
    from PIL import Image

    folder = tmp_path_factory.mktemp("photos")
    for name in ("astronaut", "coffee", "chelsea", "rocket"):
        Image.fromarray(getattr(skimage.data, name)()).save(folder / f"{name}.png")
    (folder / "zz_broken.png").write_bytes(b"not an image")
    return folder


def test_model_embeds_unit_vectors(tiny_clip):
    m = ClipModel(tiny_clip)
    e = m.embed_images([np.zeros((40, 50, 3), np.uint8), np.full((90, 30, 3), 200, np.uint8)])
    t = m.embed_texts(["a dog", "a cat"])
    assert e.shape == (2, 8) and t.shape == (2, 8)
    np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1, atol=1e-5)
    assert not np.allclose(t[0], t[1])
    with pytest.warns(UserWarning, match="longer than the text encoder"):
        assert m.embed_texts(["word " * 60]).shape == (1, 8)


def test_zero_shot_columns_follow_the_codebook(tiny_clip, photos):
    prompts = {
        "templates": ["a photo of {}.", "a picture of {}."],
        "constructs": {
            "luxury": {"prompts": {"luxurious": "luxury"}, "contrast": {"plain": "plain"}},
            "animal": ["a cat", "a dog", "a bird"],
        },
    }
    task = ClipTask(prompts=prompts, model=tiny_clip)
    r = imagevars.run([task], photos, workers=0, progress=False)
    df = r.to_pandas()
    ok = df[df["error"].isna()]
    assert len(ok) == 4 and df["error"].notna().sum() == 1
    probs = ok[["clip_prob_animal_a_cat", "clip_prob_animal_a_dog", "clip_prob_animal_a_bird"]].sum(axis=1)
    np.testing.assert_allclose(probs, 1.0, atol=1e-6)
    np.testing.assert_allclose(ok["clip_prob_luxury"], ok["clip_prob_luxury_luxurious"])
    assert "clip_prob_animal" not in df.columns  # no contrast: the prompts share the whole probability
    # recompute one column from the model: the ensembled prompt against the image embedding
    m = task.model
    img = m.embed_images([task.preprocessor()(_decoded(photos / "coffee.png", task.max_side))])[0]
    lux = m.embed_texts(["a photo of luxury.", "a picture of luxury."]).mean(0)
    sim = float(img @ (lux / np.linalg.norm(lux)))
    row = ok[ok["source"].str.endswith("coffee.png")].iloc[0]
    assert row["clip_sim_luxury_luxurious"] == pytest.approx(sim, abs=1e-5)
    assert row["clip_score_luxury_luxurious"] == pytest.approx(2.5 * max(sim, 0), abs=1e-5)
    assert r.provenance["tasks"][0]["hub"]["architecture"] == "CLIPModel"


def _decoded(path, max_side):
    from imagevars.io.decode import decode

    return decode(path.read_bytes(), str(path), max_side=max_side)  # as the pipeline decodes it


def test_shipped_prompt_sets_load():
    aaker = load_prompts("brand-personality")["aaker"]
    assert list(aaker["prompts"]) == ["sincerity", "excitement", "competence", "sophistication", "ruggedness"]
    assert len(load_prompts("coco")["coco"]["prompts"]) == 80
    assert set(load_prompts("photo-quality")) >= {"quality", "sharpness", "luxury"}


def test_bad_prompt_files(tmp_path):
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    with pytest.raises(ValueError, match="defines no constructs"):
        load_prompts(empty)
    with pytest.raises(ValueError, match="one prompt and no contrast"):
        load_prompts({"constructs": {"luxury": {"prompts": ["a luxurious room"]}}})
    with pytest.raises(ValueError, match="has no '\\{\\}'"):
        load_prompts({"templates": ["a photo"], "constructs": {"x": ["a", "b"]}})
    with pytest.raises(FileNotFoundError, match="shipped set"):
        load_prompts("no-such-set")


def test_embeddings_and_search(tiny_clip, photos, tmp_path):
    out = tmp_path / "emb.parquet"
    r = imagevars.run([ClipEmbedTask(model=tiny_clip)], photos, out, workers=0, progress=False)
    import pyarrow.parquet as pq

    t = pq.read_table(out)
    assert t.schema.field("clip_emb").type.list_size == 8 and len(r) == 5
    emb = np.array([v for v in t.column("clip_emb").to_pylist() if v is not None], np.float32)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1, atol=1e-5)
    # image search: a stored image finds itself first, with similarity 1
    hits = search(out, image=str(photos / "chelsea.png"), top=3)
    assert hits["source"].iloc[0].endswith("chelsea.png") and hits["score"].iloc[0] == pytest.approx(1, abs=1e-4)
    assert len(hits) == 3 and hits["score"].is_monotonic_decreasing
    text = search(out, "a cat", top=10)
    assert len(text) == 4  # the broken file's row has no embedding
    assert (tmp_path / "emb.parquet.index.npy").exists()  # later searches map the index


def test_top_k_is_exact_across_blocks(tmp_path, monkeypatch):
    import pyarrow as pa
    import pyarrow.parquet as pq

    import imagevars.search as s

    rng = np.random.default_rng(0)
    v = rng.normal(size=(1000, 16)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    flat = pa.FixedSizeListArray.from_arrays(pa.array(v.reshape(-1)), 16)
    pq.write_table(
        pa.table({"source": [f"img{i}" for i in range(1000)], "clip_emb": flat}),
        tmp_path / "e.parquet",
        row_group_size=300,
    )
    monkeypatch.setattr(s, "BLOCK", 128)
    q = v[7]
    hits = top_k([tmp_path / "e.parquet"], q, k=10)
    want = np.argsort(-(v @ q))[:10]
    assert [h[0] for h in hits] == [f"img{i}" for i in want]


def test_search_refuses_mixed_models(tiny_clip, photos, tmp_path):
    import pyarrow.parquet as pq

    a = tmp_path / "a.parquet"
    imagevars.run([ClipEmbedTask(model=tiny_clip)], photos / "coffee.png", a, workers=0, progress=False)
    t = pq.read_table(a)
    meta = json.loads(t.schema.metadata[b"imagevars"])
    meta["tasks"][0]["params"]["model"] = "openai/clip-vit-large-patch14"
    pq.write_table(t.replace_schema_metadata({b"imagevars": json.dumps(meta).encode()}), tmp_path / "b.parquet")
    with pytest.raises(ValueError, match="different models"):
        search([a, tmp_path / "b.parquet"], "a cup")


def test_offline_hub_model_error(monkeypatch):
    monkeypatch.setenv("IMAGEVARS_OFFLINE", "1")
    with pytest.raises(RuntimeError, match="not in the cache.*run once with internet"):
        ClipModel("openai/clip-vit-base-patch32")


def test_onnx_image_encoder_matches_torch(tiny_clip, photos):
    onnx = ClipModel(tiny_clip, backend="onnx")
    torch_model = ClipModel(tiny_clip)
    imgs = [np.asarray(__import__("PIL.Image").Image.open(p).convert("RGB")) for p in sorted(photos.glob("[a-r]*.png"))]
    a, b = onnx.embed_images(imgs), torch_model.embed_images(imgs)
    assert a.shape == b.shape == (4, 8)
    assert np.abs(a - b).max() < 1e-4 and onnx.onnx_check < 1e-4
    assert onnx.provenance()["backend"] == "onnx" and onnx.provenance()["onnx_max_abs_diff_vs_torch"] < 1e-4
    again = ClipModel(tiny_clip, backend="onnx")  # the cached export is reused
    assert np.abs(again.embed_images(imgs) - a).max() == 0
    with pytest.raises(ValueError, match="backend"):
        ClipModel(tiny_clip, backend="tensorrt")


@pytest.fixture(scope="module")
def tiny_siglip(tmp_path_factory):
    """A tiny random SigLIP (SentencePiece tokenizer trained here) saved to disk, loaded like a hub model."""
    pytest.importorskip("sentencepiece")
    from imagevars.models.clip import save_random_siglip

    layers = dict(hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2)
    return str(
        save_random_siglip(
            tmp_path_factory.mktemp("tiny-siglip"),
            text={**layers, "max_position_embeddings": 16},
            vision={**layers, "patch_size": 8},
            image_side=32,
        )
    )


def test_siglip_embeds_scores_and_searches_through_the_same_path(tiny_siglip, photos, tmp_path):
    m = ClipModel(tiny_siglip)
    assert m.kind == "siglip" and type(m.model).__name__ == "SiglipModel" and m.max_tokens == 16
    t = m.embed_texts(["a dog", "a cat on a red sofa"])
    np.testing.assert_allclose(np.linalg.norm(t, axis=1), 1, atol=1e-5)
    # SigLIP reads texts padded to its full length: a text's vector does not depend on its batch
    np.testing.assert_allclose(m.embed_texts(["a dog"])[0], t[0], atol=1e-5)
    with pytest.warns(UserWarning, match="longer than the text encoder's 16 tokens"):
        m.embed_texts(["a photo of " * 20])
    r = imagevars.run(
        [ClipTask(prompts={"constructs": {"animal": ["a cat", "a dog"]}}, model=tiny_siglip)],
        photos,
        workers=0,
        progress=False,
    )
    df = r.to_pandas()
    ok = df[df.error.isna()]
    np.testing.assert_allclose(ok.clip_prob_animal_a_cat + ok.clip_prob_animal_a_dog, 1, atol=1e-6)
    assert r.provenance["tasks"][0]["hub"]["architecture"] == "SiglipModel"
    emb = tmp_path / "emb.parquet"
    imagevars.run([ClipEmbedTask(model=tiny_siglip, backend="onnx")], photos, emb, workers=0, progress=False)
    hits = search(emb, "a cat", top=2)
    assert len(hits) == 2 and hits.score.is_monotonic_decreasing
