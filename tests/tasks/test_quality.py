"""Each quality variable against an independent computation on real photos (scikit-image's)."""

import io

import numpy as np
import pytest
import scipy.ndimage as ndi
import skimage.data as data
from PIL import Image
from skimage.color import rgb2hsv
from skimage.feature import canny
from skimage.measure import shannon_entropy

from imagevars.io.decode import decode
from imagevars.tasks import edges
from imagevars.tasks.quality import QualityTask, dominant_colors, measure, saturation

PHOTOS = ["astronaut", "chelsea", "coffee", "rocket"]


def _decoded(name, size=512):
    buf = io.BytesIO()
    Image.fromarray(getattr(data, name)()).save(buf, "PNG")
    return decode(buf.getvalue(), name, max_side=size)


@pytest.mark.parametrize("name", PHOTOS)
def test_against_independent_computations(name):
    d = _decoded(name)
    q = measure(d)
    rgb = d.rgb
    grey = np.asarray(Image.fromarray(rgb).convert("L"), dtype=np.float64)  # Pillow's BT.601 luma, rounded
    assert q["brightness"] == pytest.approx(grey.mean() / 255, abs=2e-3)
    assert q["contrast"] == pytest.approx(grey.std() / 255, abs=2e-3)
    assert q["saturation"] == pytest.approx(rgb2hsv(rgb)[..., 1].mean(), abs=1e-4)
    # Hasler & Süsstrunk, written out independently in float64
    r, g, b = (rgb[..., i].astype(np.float64) for i in range(3))
    rg, yb = r - g, 0.5 * (r + g) - b
    expected = np.sqrt(rg.std() ** 2 + yb.std() ** 2) + 0.3 * np.sqrt(rg.mean() ** 2 + yb.mean() ** 2)
    assert q["colorfulness"] == pytest.approx(expected, rel=1e-4)
    y = 0.299 * r + 0.587 * g + 0.114 * b
    assert q["sharpness"] == pytest.approx(ndi.laplace(y)[1:-1, 1:-1].var(), rel=1e-4)
    assert q["edge_density"] == pytest.approx(canny(y / 255, sigma=1.0).mean(), abs=1e-4)
    # float32 (task) vs float64 (here) luma puts a handful of pixels in the next bin: 1e-4 bits of 8
    assert q["entropy"] == pytest.approx(shannon_entropy(np.clip(y + 0.5, 0, 255).astype(np.uint8)), abs=1e-4)
    assert (q["width"], q["height"]) == getattr(data, name)().shape[1::-1]


@pytest.mark.parametrize("sigma, low, high", [(1.0, 0.1, 0.2), (2.0, 0.05, 0.3), (0.6, 0.2, 0.25)])
def test_canny_is_scikit_images_canny_on_photos(sigma, low, high, monkeypatch):
    for name in ("coffee", "camera", "text"):
        img = getattr(data, name)()
        rgb = img if img.ndim == 3 else np.stack([img] * 3, -1)
        y = 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]
        y = y[13:, 7:]  # odd sizes
        expected = canny(y / 255, sigma=sigma, low_threshold=low, high_threshold=high).mean()
        assert edges.canny_density(y.astype(np.float32), sigma, low, high) == pytest.approx(expected, abs=2e-5)
        with monkeypatch.context() as m:  # the fallback where scikit-image's routine has moved
            m.setattr(edges, "_suppression", lambda: None)
            assert edges.canny_density(y, sigma, low, high) == pytest.approx(expected, abs=1e-12)
    assert edges.canny_density(np.zeros((2, 40), np.float32)) == 0.0
    with pytest.raises(ValueError, match="2-D grey image"):
        edges.canny_density(np.zeros((8, 8, 3)))


def test_saturation_of_black_and_grey_pixels_is_zero():
    assert saturation(np.zeros((3, 3, 3), np.uint8)) == 0.0
    img = np.array([[[255, 0, 0], [0, 0, 0], [128, 128, 128], [200, 100, 50]]], np.uint8)
    assert saturation(img) == pytest.approx((1 + 0 + 0 + 0.75) / 4)


def test_orders_photos_as_a_person_would():
    sharp = _decoded("astronaut")
    blurred_rgb = np.stack([ndi.gaussian_filter(sharp.rgb[..., c], 3) for c in range(3)], -1)
    buf = io.BytesIO()
    Image.fromarray(blurred_rgb).save(buf, "PNG")
    blurred = decode(buf.getvalue(), "blurred")
    assert measure(blurred)["sharpness"] < measure(sharp)["sharpness"] / 5
    assert measure(_decoded("coffee"))["colorfulness"] > measure(_decoded("camera"))["colorfulness"] == 0


def test_dominant_colors_recovers_a_palette():
    img = np.zeros((60, 100, 3), np.uint8)
    img[:, :50] = (200, 30, 30)
    img[:, 50:80] = (20, 20, 220)
    img[:, 80:] = (250, 250, 250)
    assert dominant_colors(img, k=3) == [("#c81e1e", 0.5), ("#1414dc", 0.3), ("#fafafa", 0.2)]


def test_reduced_jpeg_decoding_keeps_original_size_facts():
    big = np.asarray(Image.fromarray(data.astronaut()).resize((2048, 2048)))
    buf = io.BytesIO()
    Image.fromarray(big).save(buf, "JPEG", quality=90)
    d = decode(buf.getvalue(), "big.jpg", max_side=512)
    assert d.rgb.shape == (512, 512, 3) and (d.width, d.height, d.format) == (2048, 2048, "JPEG")
    full = decode(buf.getvalue(), "big.jpg")
    assert full.rgb.shape == (2048, 2048, 3)
    # the DCT-scaled decode is a faithful small picture: close to a full decode resized
    ref = np.asarray(Image.fromarray(full.rgb).resize((512, 512), Image.Resampling.BOX), dtype=np.float64)
    assert np.abs(d.rgb.astype(np.float64) - ref).mean() < 4


def test_task_schema_and_bad_params():
    task = QualityTask(colors=2)
    names = [f.name for f in task.fields()]
    assert names[:4] == ["quality_width", "quality_height", "quality_aspect_ratio", "quality_file_bytes"]
    assert names[-2:] == ["quality_color2_hex", "quality_color2_share"]
    with pytest.raises(ValueError, match="at least 16 pixels"):
        QualityTask(size=8)
    with pytest.raises(ValueError, match="between 1 and 16"):
        QualityTask(colors=0)


def test_edge_density_does_not_depend_on_where_the_image_lies_in_memory():
    """The gradient magnitude, which the suppression compares with its neighbours' (ties on straight edges),
    is the same at every memory alignment of the gradients; cv2.magnitude's last bit moved with it, and a
    picture's edge density changed between calls (0.0133 or 0.0138 on a bar image)."""
    rng = np.random.default_rng(0)
    gx, gy = (rng.normal(0, 50, (64, 96)).astype(np.float32) for _ in range(2))

    def placed(a, offset):
        buf = np.empty(a.nbytes + 128, np.uint8)
        start = (-buf.ctypes.data) % 64 + offset
        out = buf[start : start + a.nbytes].view(np.float32).reshape(a.shape)
        out[:] = a
        return out

    first = edges._magnitude(gx.copy(), gy.copy())
    for offset in range(0, 64, 4):
        assert np.array_equal(edges._magnitude(placed(gx, offset), placed(gy, (offset * 3) % 64)), first), offset
    assert np.allclose(first, np.hypot(gx, gy), rtol=1e-6)
