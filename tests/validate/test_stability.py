"""validate.stability: each variable re-measured on the same images shifted by a pixel and re-saved as JPEG."""

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import imagevars
from imagevars.io.table import Results
from imagevars.validate.stability import _compare, resaved, shifted, stability


def _bars(folder, n=6):
    """Black 100 x 200 PNGs with a white left column: a 1-px shift doubles it, a known change of brightness."""
    paths = []
    for i in range(n):
        a = np.zeros((100, 200, 3), np.uint8)
        a[:, 0] = 255
        a[40 + i : 60 + i, 60:120] = 60 + 20 * i  # images differ, so brightness varies between them
        paths.append(str(folder / f"bar{i}.png"))
        Image.fromarray(a).save(paths[-1])
    return paths


def test_the_changes_are_a_one_pixel_shift_and_a_quality_95_jpeg():
    import skimage.data as data

    a = data.astronaut()[100:228, 150:310]
    s = shifted(a)
    assert s.shape == a.shape and (s[:, 1:] == a[:, :-1]).all() and (s[:, 0] == a[:, 0]).all()
    r = resaved(a)
    psnr = 10 * np.log10(255**2 / np.mean((r.astype(float) - a) ** 2))
    assert r.shape == a.shape and not (r == a).all() and psnr > 38  # changed, invisibly


def test_a_known_change_is_measured_and_file_facts_stay(tmp_path):
    paths = _bars(tmp_path)
    imagevars.run(["quality"], paths, str(tmp_path / "vars.parquet"), progress=False, workers=0)
    result = stability(tmp_path / "vars.parquet", n=10, progress=False)
    assert result.attrs["images"] == 6 and result.attrs["errors"] == []
    row = result.set_index(["variable", "change"])
    # the white column doubles: brightness rises by 255/255 * 100/(100*200) = 0.005 on every image
    shift = row.loc[("quality_brightness", "1-px shift")]
    assert shift["n"] == 6 and shift["mean_abs_change"] == pytest.approx(0.005, abs=2e-5)
    assert shift["unchanged"] == 0 and shift["r"] > 0.99
    for facts in ("quality_width", "quality_height", "quality_file_bytes"):
        assert (row.loc[facts, "unchanged"] == 1).all()  # the original's, in every copy
    assert (row.xs("re-run", level="change")["unchanged"] == 1).all()  # same code, same values
    assert set(result["kind"]) == {"count", "number", "label"}


def test_a_stored_value_that_is_not_reproduced_shows_in_the_rerun_row(tmp_path):
    paths = _bars(tmp_path)
    made = imagevars.run(["quality"], paths, progress=False, workers=0)
    df = made.table.to_pandas()
    df.loc[2, "quality_contrast"] += 0.01  # as if another version had made this one value
    Results(made.table.from_pandas(df, schema=made.table.schema), made.provenance).write(tmp_path / "vars.parquet")
    row = stability(tmp_path / "vars.parquet", progress=False).set_index(["variable", "change"])
    assert row.loc[("quality_contrast", "re-run"), "unchanged"] == pytest.approx(5 / 6)
    assert row.loc[("quality_brightness", "re-run"), "unchanged"] == 1


def test_an_image_gone_since_the_run_is_an_error_line_not_a_crash(tmp_path):
    paths = _bars(tmp_path)
    imagevars.run(["quality"], paths, str(tmp_path / "vars.parquet"), progress=False, workers=0)
    (tmp_path / "bar3.png").unlink()
    out = tmp_path / "st"
    result = stability(tmp_path / "vars.parquet", n=10, out=out, progress=False)
    assert result.attrs["images"] == 5 and len(result.attrs["errors"]) == 1 and "bar3.png" in result.attrs["errors"][0]
    assert pd.read_csv(out / "stability.csv")["n"].max() == 5
    assert "bar3.png" in (out / "provenance.json").read_text()


def test_the_draw_is_seeded_and_bounded(tmp_path):
    paths = _bars(tmp_path, n=8)
    imagevars.run(["quality"], paths, str(tmp_path / "vars.parquet"), progress=False, workers=0)
    a, b = (stability(tmp_path / "vars.parquet", n=3, seed=s, progress=False) for s in (1, 1))
    pd.testing.assert_frame_equal(a, b)
    assert a.attrs["images"] == 3 and a["n"].max() == 3
    with pytest.raises(ValueError, match="--n 0"):
        stability(tmp_path / "vars.parquet", n=0, progress=False)


def test_a_long_table_and_a_foreign_table_are_refused_in_one_line(tmp_path):
    import pyarrow as pa

    Results(pa.table({"source": ["a.jpg"], "error": pa.array([None], pa.string())}), {}).write(tmp_path / "x.parquet")
    with pytest.raises(ValueError, match="no tasks in its provenance"):
        stability(tmp_path / "x.parquet", progress=False)
    Results(
        pa.table({"source": ["a.jpg"], "error": pa.array([None], pa.string())}),
        {"tasks": [{"name": "detect", "params": {"long": True}}]},
    ).write(tmp_path / "long.parquet")
    with pytest.raises(ValueError, match="without --long"):
        stability(tmp_path / "long.parquet", progress=False)


def test_detect_on_real_photos_through_the_command_line(tmp_path, capsys):
    """The bundled detector, the embedder and the hashes on scikit-image's photos: the re-run reproduces the
    table (embeddings and hashes included), and the command names the variables that move most."""
    import skimage.data as data

    from imagevars.cli import main

    paths = []
    for name in ("astronaut", "chelsea", "coffee", "rocket"):
        paths.append(str(tmp_path / f"{name}.jpg"))
        Image.fromarray(getattr(data, name)()).save(paths[-1], quality=90)
    imagevars.run(["detect", "embed", "hash"], paths, str(tmp_path / "vars.parquet"), progress=False, workers=0)
    assert main(["validate", "stability", str(tmp_path / "vars.parquet"), "--quiet", "-o", str(tmp_path / "st")]) == 0
    said = capsys.readouterr().out
    assert "4 images measured again" in said and "After a 1-px shift: least often unchanged: detect_" in said
    assert "median cosine: embed_vector 0.9" in said and "bits changed: hash_phash" in said
    assert "Not reproduced" not in said
    table = pd.read_csv(tmp_path / "st" / "stability.csv")
    shift = table[(table["change"] == "1-px shift") & (table["variable"] == "detect_top1_score")].iloc[0]
    assert 0 < shift["mean_abs_change"] < 0.1  # scores move a little, not wildly
    vector = table[table["variable"] == "embed_vector"].set_index("change")
    assert vector.loc["re-run", "unchanged"] == 1 and vector.loc["re-run", "cosine"] == pytest.approx(1)
    assert 0.9 < vector.loc["1-px shift", "cosine"] < 1 and vector.loc["1-px shift", "unchanged"] == 0
    phash = table[table["variable"] == "hash_phash"].set_index("change")
    assert phash.loc["re-run", "mean_abs_change"] == 0 and phash.loc["JPEG re-save", "mean_abs_change"] <= 6


def test_the_statistics_of_one_variable():
    """Known values: unchanged share, mean change, SD, and r only where enough images vary."""
    before, after = pd.Series([0.0] * 9 + [1.0]), pd.Series([0.0] * 9 + [0.5])
    rare = _compare("detect_area_clock", "1-px shift", "number", before, after)
    assert rare[3:5] == [10, 0.9] and rare[7:] == [pytest.approx(0.05), pytest.approx(np.std(before, ddof=1))]
    assert np.isnan(rare[5]) and np.isnan(rare[6])  # one image off zero: no correlation to speak of
    x = pd.Series(np.arange(10, dtype=float))
    y = x + np.array([0, 0, 1, 0, 0, -1, 0, 0, 0, 2])
    row = _compare("detect_n_objects", "JPEG re-save", "count", x, y)
    assert row[3] == 10 and row[4] == pytest.approx(0.7) and row[7] == pytest.approx(0.4)
    assert row[5] == pytest.approx(np.corrcoef(x, y)[0, 1])
    labels = _compare(
        "detect_top1_label",
        "1-px shift",
        "label",
        pd.Series(["cat", "dog", None, "cup"]),
        pd.Series(["cat", "cup", "cup", None]),
    )
    assert labels[3:5] == [2, 0.5]  # images with a label both times: 2, one of them the same
    x = [np.array([1.0, 0.0]), np.array([0.0, 2.0]), np.array([3.0, 4.0]), None]
    y = [np.array([1.0, 0.0]), np.array([1.0, 1.0]), np.array([4.0, 3.0]), np.array([1.0, 1.0])]
    vectors = _compare("embed_vector", "JPEG re-save", "vector", pd.Series(x), pd.Series(y))
    assert vectors[3:5] == [3, pytest.approx(1 / 3)]  # the fourth has no vector before
    assert vectors[6] == pytest.approx(np.median([1.0, 2 / (2 * np.sqrt(2)), 24 / 25]))  # cosines 1, 0.707, 0.96
    hashes = _compare(
        "hash_phash",
        "1-px shift",
        "hash",
        pd.Series(["00000000000000ff", "000000000000000f"]),
        pd.Series(["00000000000000fe", "00000000000000f0"]),
    )
    assert hashes[3:5] == [2, 0.0] and hashes[7] == pytest.approx((1 + 8) / 2)  # bits changed: 1 and 8
