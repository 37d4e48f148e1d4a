"""Near-duplicate groups: the banded search finds exactly the pairs an all-pairs comparison finds."""

import numpy as np
import pandas as pd
import pytest

from imagevars.cli import main
from imagevars.duplicates import brute_hamming_pairs, find_duplicates, groups, hamming_pairs, near_pairs, plan_bands


def _planted(n, seed, clusters=40, spread=8):
    """n random 64-bit hashes, plus clusters of copies with up to `spread` random bits flipped."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 2**63, n, dtype=np.int64).astype(np.uint64) * np.uint64(2) + rng.integers(0, 2, n).astype(
        np.uint64
    )
    for _ in range(clusters):
        base = codes[rng.integers(n)]
        for _ in range(rng.integers(1, 5)):
            flips = rng.choice(64, rng.integers(0, spread + 1), replace=False)
            codes = np.append(codes, base ^ np.uint64(sum(1 << int(b) for b in flips)))
    return codes


@pytest.mark.parametrize("n,d", [(300, 0), (300, 3), (3000, 6), (3000, 10), (20000, 6), (500, 20)])
def test_banded_search_is_exact(n, d):
    codes = _planted(n, seed=n + d)
    codes = np.unique(codes)  # hamming_pairs takes distinct hashes; near_pairs handles repeats
    got = hamming_pairs(codes, d)
    want = brute_hamming_pairs(codes, d)
    assert len(want[0]) > 0 or d == 0
    order_g, order_w = np.lexsort(got[:2]), np.lexsort(want[:2])
    for g, w in zip(got, want):
        assert np.array_equal(g[order_g], w[order_w])
    assert (got[2] <= d).all()


def test_clustered_hashes_sharing_a_prefix():
    """Real hashes are not uniform: many share their high bits, which a naive band split would overload."""
    rng = np.random.default_rng(1)
    codes = np.unique((np.uint64(0xABCD) << np.uint64(48)) | rng.integers(0, 2**20, 4000).astype(np.uint64))
    got, want = hamming_pairs(codes, 4), brute_hamming_pairs(codes, 4)
    assert len(got[0]) == len(want[0]) > 1000


def test_band_plan_covers_the_distance():
    for n in (2, 100, 10**4, 10**6, 10**8):
        for d in range(0, 30):
            bands, radius = plan_bands(n, d)
            assert bands * (radius + 1) > d  # the pigeonhole guarantee that makes the search exact


def test_identical_hashes_are_compared_once_and_every_pair_listed():
    codes = np.array([5] * 300 + [7, 1 << 50], np.uint64)  # 300 copies of a placeholder, a near one, a far one
    i, j, d = near_pairs(codes, 2)
    assert len(i) == 300 * 299 // 2 + 300  # among the copies, and each copy with the hash one bit away
    assert set(d.tolist()) == {0, 1}
    assert (i < j).all()


def test_groups_follow_chains():
    g = groups(6, np.array([0, 1, 4]), np.array([1, 2, 5]))
    assert g.tolist() == [0, 0, 0, 1, 2, 2]


def test_table_groups_error_rows_and_cosine():
    t = pd.DataFrame(
        {
            "source": ["a", "b", "c", "d", "e"],
            "error": [None, None, "e: not an image", None, None],
            "hash_phash": ["ff00ff00ff00ff00", "ff00ff00ff00ff03", None, "0123456789abcdef", "fedcba9876543210"],
            "embed_vector": [
                np.array([1, 0], np.float32),
                np.array([1, 0.1], np.float32),
                None,
                np.array([0, 1], np.float32),
                np.array([0.05, 1], np.float32),
            ],
        }
    )
    g, pairs = find_duplicates(t, max_distance=6)
    assert g["dup_group"].tolist()[:2] == [0, 0] and pd.isna(g["dup_group"][2])
    assert g["dup_group_size"].tolist()[:2] == [2, 2] and g["dup_nearest_distance"][0] == 2
    assert g["dup_uniqueness"].tolist()[3:] == [1.0, 1.0] and g["error"][2] == "e: not an image"
    g2, pairs2 = find_duplicates(t, max_distance=6, min_cosine=0.99)
    assert g2["dup_group"][3] == g2["dup_group"][4] and g2["dup_group_size"][4] == 2  # joined by their embeddings
    row = pairs2[(pairs2.source_a == "d") & (pairs2.source_b == "e")].iloc[0]
    assert pd.isna(row["distance"]) and row["cosine"] > 0.99
    with pytest.raises(ValueError, match="run hash"):
        find_duplicates(t.drop(columns="hash_phash"))
    with pytest.raises(ValueError, match="embeddings"):
        find_duplicates(t.drop(columns="embed_vector"), min_cosine=0.9)


def test_command_on_a_run_of_real_photos(tmp_path, capsys):

    import skimage.data as data
    from PIL import Image

    photos = tmp_path / "photos"
    photos.mkdir()
    a = Image.fromarray(data.astronaut())
    a.save(photos / "astronaut.jpg", quality=90)
    a.resize((256, 256)).save(photos / "repost.jpg", quality=40)  # smaller and recompressed: a near-copy
    Image.fromarray(data.coffee()).save(photos / "coffee.png")
    (photos / "broken.jpg").write_bytes(b"not a jpeg")
    table, out, pairs = tmp_path / "h.parquet", tmp_path / "groups.csv", tmp_path / "pairs.parquet"
    assert main(["run", "hash", str(photos), "-o", str(table), "--workers", "0"]) == 0
    assert main(["duplicates", str(table), "--max-distance", "6", "-o", str(out), "--pairs", str(pairs)]) == 0
    g = pd.read_csv(out).set_index("source")
    g.index = [s.rsplit("/", 1)[-1] for s in g.index]
    assert g.loc["astronaut.jpg", "dup_group"] == g.loc["repost.jpg", "dup_group"] != g.loc["coffee.png", "dup_group"]
    assert np.isnan(g.loc["broken.jpg", "dup_group"]) and "not an image" in g.loc["broken.jpg", "error"]
    assert len(pd.read_parquet(pairs)) == 1
    assert "2 in 1 groups" in capsys.readouterr().out
