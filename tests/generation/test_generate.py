"""Text-to-image generation on tiny random pipelines saved to disk and loaded by the user's path."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("diffusers")

from imagevars.generation import GenerationError, Generator, Request, generate, pixel_sha256, read_png_row  # noqa: E402
from imagevars.testing import save_random_pipeline  # noqa: E402

SMALL = dict(steps=3, width=64, height=64)


@pytest.fixture(scope="module")
def sd_dir(tmp_path_factory):
    return str(save_random_pipeline(tmp_path_factory.mktemp("tiny-sd"), "sd"))


@pytest.fixture(scope="module")
def sd(sd_dir):
    return Generator(sd_dir, threads=2)


def test_same_inputs_give_the_same_image_whatever_else_is_drawn(sd_dir, sd, tmp_path):
    a = generate(
        ["a red apple on a table", "Lithograph of a camel eating a pear"],
        tmp_path / "a",
        n=2,
        seed=7,
        generator=sd,
        progress=False,
        **SMALL,
    ).to_pandas()
    # a fresh load of the same folder, the camel alone: the same pixels for the same seeds
    b = generate(
        "Lithograph of a camel eating a pear",
        tmp_path / "b",
        n=2,
        seed=7,
        generator=Generator(sd_dir, threads=2),
        progress=False,
        **SMALL,
    ).to_pandas()
    camel = a[a.generate_prompt.str.startswith("Litho")]
    assert list(camel.generate_seed) == [7, 8] and list(b.generate_seed) == [7, 8]
    assert list(camel.generate_sha256) == list(b.generate_sha256)
    assert a.generate_sha256.nunique() == 4  # another seed or prompt: another image
    from PIL import Image

    pa_, pb = (np.asarray(Image.open(p)) for p in (camel.source.iloc[0], b.source.iloc[0]))
    assert pa_.shape == (64, 64, 3) and np.array_equal(pa_, pb) and pa_.std() > 0


def test_each_png_carries_its_row_and_the_table_its_provenance(sd, tmp_path):
    res = generate(
        "a lighthouse at dusk",
        tmp_path,
        seed=3,
        negative_prompt="blurry",
        guidance=5.0,
        generator=sd,
        progress=False,
        **SMALL,
    )
    row = res.to_pandas().iloc[0]
    assert row.error is None or row.error != row.error  # null
    png = read_png_row(row.source)
    for k in (
        "prompt",
        "negative_prompt",
        "seed",
        "steps",
        "guidance",
        "width",
        "height",
        "scheduler",
        "sha256",
        "key",
    ):
        assert png[k] == row[f"generate_{k}"], k
    assert (png["prompt"], png["negative_prompt"], png["seed"], png["guidance"]) == (
        "a lighthouse at dusk",
        "blurry",
        3,
        5.0,
    )
    assert pixel_sha256(row.source) == row.generate_sha256
    model = res.provenance["tasks"][0]["model"]
    assert model["pipeline"] == "StableDiffusionPipeline" and model["scheduler"] == "EulerDiscreteScheduler"
    from imagevars import Results

    again = Results.read(tmp_path / "generated.parquet")
    assert again.provenance["tasks"][0]["model"]["diffusers"] and len(again) == 1


def test_rerun_skips_images_on_disk_and_redraws_damaged_ones(sd, tmp_path):
    first = generate("a blue door", tmp_path, n=2, generator=sd, progress=False, **SMALL).to_pandas()
    # damage one file's pixels (its stored sha256 no longer matches)
    from PIL import Image

    damaged = first.source.iloc[1]
    meta = Image.open(damaged).info
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("imagevars", meta["imagevars"])
    Image.new("RGB", (64, 64), "white").save(damaged, pnginfo=info)
    second = generate("a blue door", tmp_path, n=2, generator=sd, progress=False, **SMALL).to_pandas()
    assert second.generate_created.iloc[0] == first.generate_created.iloc[0]  # reused from the PNG
    assert list(second.generate_sha256) == list(first.generate_sha256)  # the damaged one drawn again
    assert pixel_sha256(damaged) == first.generate_sha256.iloc[1]


def test_design_file_prompts_seeds_settings_and_pass_through(sd, tmp_path):
    design = tmp_path / "stimuli.csv"
    design.write_text("condition,prompt,seed,steps,guidance\nwarm,a smiling barista,11,2,\ncold,a barista,,,3.5\n")
    df = generate(
        design=design, output=tmp_path / "out", n=2, seed=100, generator=sd, progress=False, width=64, height=64
    ).to_pandas()
    assert list(df.condition) == ["warm", "warm", "cold", "cold"]
    assert list(df.generate_seed) == [11, 12, 100, 101]
    assert list(df.generate_steps) == [2, 2, 25, 25]  # empty cell: the model's default
    assert list(df.generate_guidance) == [7.5, 7.5, 3.5, 3.5]
    bad = tmp_path / "bad.csv"
    bad.write_text("prompt,seed\na cat,seven\n")
    with pytest.raises(ValueError, match=r"bad.csv row 2: seed 'seven' is not a number"):
        generate(design=bad, output=tmp_path / "x", generator=sd, progress=False)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"prompts": "   "}, "prompt is empty"),
        ({"prompts": "a cat", "width": 500}, "width 500 is not divisible by 8.*use 496 or 504"),
        ({"prompts": "a cat", "height": 60}, "height 60 is not divisible by 8.*use 56 or 64"),
        ({"prompts": "a cat", "seed": -1}, "seed -1 is out of range"),
        ({"prompts": "a cat", "seed": 2**32}, "seed 4294967296 is out of range"),
        ({"prompts": "a cat", "steps": 0}, "steps must be"),
    ],
)
def test_bad_requests_are_refused_before_anything_is_drawn(sd, tmp_path, kwargs, message):
    opts = {"width": 64, "height": 64, **kwargs}
    with pytest.raises(ValueError, match=message):
        generate(output=tmp_path, generator=sd, progress=False, **opts)
    assert not list(tmp_path.glob("*.png"))


def test_prompt_over_the_text_encoder_limit_is_truncated_with_a_warning(sd, tmp_path):
    long = "a very detailed photo of a camel " * 20
    with pytest.warns(UserWarning, match=r"tokens long and the text encoder reads 77"):
        row = generate(long, tmp_path, generator=sd, progress=False, **SMALL).to_pandas().iloc[0]
    assert row.generate_prompt_truncated and row.generate_prompt_tokens > 77
    assert row.generate_prompt == long  # the row keeps what was asked
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # a short prompt: no warning
        assert not sd.image(sd.check(Request("a camel", **SMALL)))[1]["prompt_truncated"]


def test_sdxl_class_pipeline_and_a_chosen_scheduler(tmp_path):
    folder = save_random_pipeline(tmp_path / "sdxl", "sdxl")
    g = Generator(str(folder), scheduler="euler-a", threads=2)
    assert type(g.pipe).__name__ == "StableDiffusionXLPipeline" and g.scheduler == "EulerAncestralDiscreteScheduler"
    r = g.check(Request("a camel", seed=5, steps=2, width=64, height=64))
    (a, _), (b, _) = g.image(r), g.image(r)
    assert pixel_sha256(a) == pixel_sha256(b)  # ancestral sampling, seeded: still reproducible
    with pytest.raises(ValueError, match="unknown scheduler 'fast'.*euler-a"):
        Generator(str(folder), scheduler="fast")


def test_missing_weights_offline_give_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("IMAGEVARS_HOME", str(tmp_path))
    monkeypatch.setenv("IMAGEVARS_OFFLINE", "1")
    with pytest.raises(GenerationError, match=r"'stabilityai/sdxl-turbo'.*downloads are off"):
        Generator("sdxl-turbo")
    with pytest.raises(GenerationError, match=r"nobody/no-such-model@v2"):
        Generator("nobody/no-such-model@v2")


def test_registered_generators_have_cards():
    import imagevars

    card = imagevars.get_card("sdxl-turbo")
    assert card.task == "generate" and card.config["steps"] == 1 and card.config["guidance"] == 0.0
    assert "Adversarial diffusion distillation" in card.citation and card.license
    assert imagevars.get_card("stable-diffusion-1.5").config["hf_repo"].endswith("stable-diffusion-v1-5")


def test_cli_generate(sd_dir, tmp_path, capsys):
    from imagevars.cli import main

    out = tmp_path / "stimuli"
    assert (
        main(
            [
                "generate",
                "Lithograph of a camel eating a pear",
                "-n",
                "2",
                "--seed",
                "7",
                "--model",
                sd_dir,
                "--steps",
                "2",
                "--width",
                "64",
                "--height",
                "64",
                "-o",
                str(out),
                "-q",
                "--table",
                str(tmp_path / "t.csv"),
            ]
        )
        == 0
    )
    assert len(list(out.glob("*.png"))) == 2 and (tmp_path / "t.csv").is_file()
    assert "2 images in" in capsys.readouterr().out
    assert main(["generate", "a cat", "--model", sd_dir, "--width", "500", "-o", str(out)]) == 2
    assert "width 500 is not divisible by 8" in capsys.readouterr().err


def test_offline_use_from_the_hub_cache_records_the_commit(sd_dir, tmp_path, offline_hub):
    """A pipeline in the hub cache layout under $IMAGEVARS_HOME/hf loads offline, by its repo id."""
    from imagevars.testing import put_in_hub_cache

    commit = "0123456789abcdef0123456789abcdef01234567"
    put_in_hub_cache(sd_dir, "someone/tiny-sd", offline_hub, commit)
    g = Generator("someone/tiny-sd", threads=2)
    assert g.commit == commit and g.repo == "someone/tiny-sd"
    row = generate("a camel", tmp_path / "out", generator=g, progress=False, **SMALL).to_pandas().iloc[0]
    assert row.generate_commit == commit and row.generate_model == "someone/tiny-sd"


@pytest.mark.parametrize("table", [None, "t.csv"])
def test_a_second_call_into_the_same_folder_adds_to_its_table(sd, tmp_path, table):
    """The folder's table lists every image in it (it held only the last call's rows)."""
    import pandas as pd

    out = dict(progress=False, table=tmp_path / table if table else None, **SMALL)
    generate("a blue door", tmp_path, n=2, generator=sd, **out)
    generate(["a red door", "a blue door"], tmp_path, n=1, generator=sd, **out)
    path = tmp_path / (table or "generated.parquet")
    df = pd.read_csv(path) if table else pd.read_parquet(path)
    pngs = sorted(str(p) for p in tmp_path.glob("*.png"))
    assert sorted(df["source"]) == pngs and len(pngs) == 3 and df["source"].is_unique
    assert sorted(df["generate_prompt"]) == ["a blue door", "a blue door", "a red door"]
