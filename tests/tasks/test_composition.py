"""Composition attributes on constructed images with known answers, and on real photos."""

import numpy as np
import pytest
import skimage.data as data
from skimage.color import rgb2hsv

import imagevars
from imagevars.tasks.composition import COLUMNS, CompositionTask, measure


class _D:
    def __init__(self, rgb):
        self.rgb = rgb


def _disc(cx, cy, textured=False, w=600, h=400, r=25):
    import cv2

    rng = np.random.default_rng(0)
    img = (
        rng.normal(100, 8, (h, w, 1)).clip(0, 255).astype(np.uint8).repeat(3, 2)
        if textured
        else np.full((h, w, 3), 90, np.uint8)
    )
    cv2.circle(img, (int(cx * w), int(cy * h)), r, (230, 200, 40), -1)
    return img


@pytest.mark.parametrize("textured", [False, True])
@pytest.mark.parametrize("cx,cy", [(1 / 3, 1 / 3), (2 / 3, 1 / 3), (1 / 3, 2 / 3), (2 / 3, 2 / 3)])
def test_a_subject_on_a_thirds_intersection(cx, cy, textured):
    m = measure(_D(_disc(cx, cy, textured)))
    assert abs(m["salient_x"] - cx) < 0.02 and abs(m["salient_y"] - cy) < 0.02
    assert m["rule_of_thirds"] > 0.97
    assert m["diagonal_dominance"] > 0.95  # every thirds intersection lies on a diagonal
    assert abs(m["balance_intensity"] - (1 - np.hypot(1 / 6, 1 / 6) / (np.sqrt(2) / 2))) < 0.03


def test_centred_and_off_diagonal_subjects():
    centre = measure(_D(_disc(0.5, 0.5)))
    assert centre["balance_intensity"] > 0.97 and abs(centre["rule_of_thirds"] - 0.75) < 0.02
    top = measure(_D(_disc(0.5, 0.1)))
    assert top["diagonal_dominance"] < 0.3 and top["balance_intensity"] < 0.5 and top["rule_of_thirds"] < 0.75
    side = measure(_D(_disc(0.9, 0.5)))
    assert side["salient_x"] > 0.85 and side["diagonal_dominance"] < 0.3


def test_a_left_right_mirrored_photo_is_balanced_in_colour():
    a = data.astronaut()
    half = a[:, : a.shape[1] // 2]
    assert measure(_D(np.concatenate([half, half[:, ::-1]], 1)))["balance_color"] == 1.0
    assert measure(_D(a))["balance_color"] < 0.8


@pytest.mark.parametrize("name", ["astronaut", "coffee", "chelsea"])
def test_a_sharp_centre_on_a_blurred_ground_has_a_low_depth_of_field(name):
    import cv2

    a = getattr(data, name)()
    h, w = a.shape[:2]
    shallow = cv2.GaussianBlur(a, (0, 0), 5)
    shallow[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4] = a[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4]
    sharp, focused = measure(_D(a)), measure(_D(shallow))
    for ch in ("dof_value", "dof_saturation"):
        assert focused[ch] > sharp[ch] + 0.1 and focused[ch] > 0.4, ch
    noise = np.random.default_rng(0).integers(0, 256, (256, 256, 3), dtype=np.uint8)
    assert abs(measure(_D(noise))["dof_value"] - 0.25) < 0.03  # detail spread evenly: the centre's area share


def test_figure_ground_differences():
    rng = np.random.default_rng(1)
    img = np.full((300, 300, 3), 128, np.uint8)
    img[100:200, 100:200] = rng.integers(0, 256, (100, 100, 3))  # a busy, colourful square on a flat grey ground
    m = measure(_D(img))
    assert 0.08 < m["figure_share"] < 0.3
    assert m["texture_difference"] > 0.1 and m["size_difference"] > 0.4
    import cv2

    def disc(colour):
        img = np.full((400, 600, 3), 90, np.uint8)
        return cv2.circle(img, (300, 200), 30, colour, -1)

    # spectral residual marks small objects and edges; the figure around a disc includes some ground
    assert (
        measure(_D(disc((255, 0, 0))))["color_difference"] > 2 * measure(_D(disc((120, 120, 120))))["color_difference"]
    )


@pytest.mark.parametrize("name", ["astronaut", "coffee", "chelsea", "rocket"])
def test_colour_against_scikit_image_hsv(name):
    a = getattr(data, name)()
    m = measure(_D(a), size=10_000)  # the whole image, as scikit-image sees it
    hsv = rgb2hsv(a)
    assert m["brightness"] == pytest.approx(hsv[..., 2].mean(), abs=1e-5)
    assert m["saturation"] == pytest.approx(hsv[..., 1].mean(), abs=1e-4)
    assert m["brightness_sd"] == pytest.approx(hsv[..., 2].std(), abs=1e-5)
    assert m["clarity"] == pytest.approx((hsv[..., 2] > 0.7).mean(), abs=1e-4)
    hue = hsv[..., 0] * 360
    assert m["warm_hue"] == pytest.approx((((hue < 90) | (hue >= 330)) & (hsv[..., 1] >= 0.2)).mean(), abs=2e-3)


@pytest.mark.parametrize(
    "shape,value",
    [((1, 1, 3), 0), ((1, 50, 3), 128), ((50, 1, 3), 7), ((80, 100, 3), 0), ((80, 100, 3), 255), ((20, 20, 3), 200)],
)
def test_tiny_and_flat_images_get_defined_values(shape, value):
    m = measure(_D(np.full(shape, value, np.uint8)))
    for k in COLUMNS:
        if k.startswith("dof_"):
            assert m[k] is None  # no detail, or too small: null, as the codebook says
        else:
            assert np.isfinite(m[k]) and 0.0 <= m[k] <= 1.0, k
    assert (m["salient_x"], m["salient_y"], m["figure_share"]) == (0.5, 0.5, 0.0)


def test_greyscale_photo_has_no_hue_detail_and_the_run_writes_every_column(tmp_path):
    from PIL import Image

    Image.fromarray(data.camera()).save(tmp_path / "camera.png")
    Image.fromarray(data.coffee()).save(tmp_path / "coffee.jpg")
    Image.new("RGB", (1, 1)).save(tmp_path / "pixel.png")
    t = imagevars.run(["composition"], str(tmp_path), workers=0).to_pandas().set_index("source")
    t.index = [s.rsplit("/", 1)[-1] for s in t.index]
    assert t["error"].isna().all()
    assert list(t.columns[-len(COLUMNS) :]) == [f"composition_{c}" for c in COLUMNS]
    assert t.loc["camera.png", "composition_saturation"] == 0.0 and np.isnan(t.loc["camera.png", "composition_dof_hue"])
    assert 0 < t.loc["camera.png", "composition_dof_value"] < 1
    assert t.loc["coffee.jpg", "composition_warm_hue"] > 0.5  # a brown cup on a red-orange ground


def test_bad_size():
    with pytest.raises(ValueError, match="at least 64"):
        CompositionTask(size=10)
