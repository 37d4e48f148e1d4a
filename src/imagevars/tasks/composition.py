"""``composition``: how a photo is lit, coloured and composed, the attribute family of Zhang et al. The codebook.

Zhang, Lee, Singh & Srinivasan (2022), "What makes a good image? Airbnb demand analytics
leveraging interpretable image features", Management Science 68(8), relate interpretable
attributes of listing photos to demand; they build on Datta, Joshi, Li & Wang (2006, ECCV,
"Studying aesthetics in photographic images using a computational approach") and on the
photography literature. The definitions below follow those papers; where a paper does not
publish a threshold or a scale, the one chosen here is stated (marked *chosen*).

All values are computed on the image decoded with EXIF orientation applied, in 8-bit RGB, shrunk
so its longer side is at most ``size`` pixels (default 512). HSV is OpenCV's: hue H in degrees
[0, 360), saturation S and value V in [0, 1]. Positions are fractions of the width (x, from the
left) and height (y, from the top), so (0.5, 0.5) is the centre.

**Saliency.** The spectral residual of Hou & Zhang (2007, CVPR, "Saliency detection: a spectral
residual approach"): the greyscale image resized to 64 x 64, the log amplitude of its Fourier
transform minus its 3 x 3 local mean, transformed back with the original phase, squared,
smoothed with a Gaussian (11 x 11, sigma 2.5, *chosen*) and scaled to [0, 1]. The **salient
figure** is the set of pixels whose saliency is at least twice the map's mean (Achanta,
Hemami, Estrada & Süsstrunk 2009, CVPR's adaptive threshold); the **visual centre** is the
saliency-weighted centroid of the figure (of the whole map if no pixel passes; the image centre
if the map is flat, as for a one-colour image).

Columns (``composition_`` + name):

================== ============================================================================
brightness         mean V, [0, 1]
brightness_sd      standard deviation of V ("contrast of brightness"), [0, 0.5]
saturation         mean S, [0, 1]
saturation_sd      standard deviation of S, [0, 0.5]
clarity            share of pixels with V > 0.7 (Zhang et al.'s image clarity), [0, 1]
warm_hue           share of pixels of a warm hue: H < 90 or H >= 330 degrees (red, orange, yellow)
                   with S >= 0.2 (greys have no hue) (*chosen* bounds), [0, 1]
salient_x          visual centre, fraction of the width from the left, [0, 1]
salient_y          visual centre, fraction of the height from the top, [0, 1]
rule_of_thirds     1 - (distance from the visual centre to the nearest of the four intersections of
                   the thirds lines) / (that distance's largest possible value, from a corner:
                   sqrt(2) * 2/3); 1 on an intersection, [0, 1]
diagonal_dominance 1 - (distance from the visual centre to the nearer image diagonal, in the
                   unit square) / (its largest possible value, sqrt(2) / 4, at the middle of an
                   edge); 1 on a diagonal (the centre lies on both), [0, 1]
balance_intensity  visual balance of intensity: 1 - (distance from the visual centre to the image
                   centre) / (sqrt(2) / 2); 1 when the salient weight is centred, [0, 1]
balance_color      visual balance of colour: 1 - the mean absolute difference between each pixel
                   and its left-right mirror image, over R, G and B on the 0-1 scale; 1 for a
                   left-right symmetric image, [0, 1]
figure_share       share of the image's pixels in the salient figure, [0, 1]
size_difference    |figure - ground| / all pixels: 1 when the figure is nothing or everything,
                   0 when it is half, [0, 1]
color_difference   distance between the mean RGB colour of the figure and of the ground, divided
                   by its largest possible value sqrt(3) (0-1 scale); 0 without a figure, [0, 1]
texture_difference |mean gradient magnitude of the figure - of the ground|, Sobel on luma on the
                   0-1 scale, divided by 4 (the Sobel magnitude's bound per axis; *chosen* scale)
                   and capped at 1; 0 without a figure, [0, 1]
dof_hue            low depth of field indicator (Datta et al. 2006, sec. 3.4) on H: the level-3
                   Haar (Daubechies-1) wavelet detail coefficients' absolute sum over the centre
                   4 of a 4 x 4 grid of cells, divided by their sum over the whole image. About
                   0.25 when detail is spread evenly, near 1 for a sharp subject on a blurred
                   background; null when the image has no detail at all in that channel (one
                   colour) or is under 32 pixels on a side (the grid would be empty), [0, 1]
dof_saturation     the same on S
dof_value          the same on V
================== ============================================================================

Hue is used as the papers use it, as a number: its wavelet detail counts the jump between 359 and
0 degrees as large.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from .base import Task

SALIENCY_SIDE = 64
THIRDS = np.array([[1 / 3, 1 / 3], [2 / 3, 1 / 3], [1 / 3, 2 / 3], [2 / 3, 2 / 3]])
COLUMNS = (
    "brightness",
    "brightness_sd",
    "saturation",
    "saturation_sd",
    "clarity",
    "warm_hue",
    "salient_x",
    "salient_y",
    "rule_of_thirds",
    "diagonal_dominance",
    "balance_intensity",
    "balance_color",
    "figure_share",
    "size_difference",
    "color_difference",
    "texture_difference",
    "dof_hue",
    "dof_saturation",
    "dof_value",
)


def spectral_residual(rgb: np.ndarray) -> np.ndarray:
    """Hou & Zhang's (2007) saliency map of an RGB image: 64 x 64 float32 in [0, 1] (all zero if flat).

    Example:
        >>> img = np.zeros((100, 100, 3), np.uint8); img[20:30, 60:70] = 255
        >>> s = spectral_residual(img)
        >>> s.shape, bool(np.unravel_index(s.argmax(), s.shape)[1] > 32)  # the bright square is on the right
        ((64, 64), True)
    """
    import cv2

    grey = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    grey = cv2.resize(grey, (SALIENCY_SIDE, SALIENCY_SIDE), interpolation=cv2.INTER_AREA)
    if float(grey.max() - grey.min()) < 1e-4:  # one colour (to rounding): nothing stands out
        return np.zeros((SALIENCY_SIDE, SALIENCY_SIDE), np.float32)
    spectrum = np.fft.fft2(grey)
    log_amp = np.log(np.abs(spectrum) + 1e-9).astype(np.float32)
    residual = log_amp - cv2.blur(log_amp, (3, 3), borderType=cv2.BORDER_REPLICATE)
    sal = np.abs(np.fft.ifft2(np.exp(residual + 1j * np.angle(spectrum)))) ** 2
    sal = cv2.GaussianBlur(sal.astype(np.float32), (11, 11), 2.5)
    lo, hi = float(sal.min()), float(sal.max())
    return (sal - lo) / (hi - lo) if hi - lo > 1e-12 else np.zeros_like(sal)


def visual_centre(sal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(figure mask, (x, y) centre as fractions) of a saliency map (the module docstring's rules)."""
    h, w = sal.shape
    mean = float(sal.mean())
    if mean <= 0:
        return np.zeros_like(sal, bool), np.array([0.5, 0.5])
    figure = sal >= 2.0 * mean
    weight = np.where(figure, sal, 0.0) if figure.any() else sal
    ys, xs = np.mgrid[0:h, 0:w]
    total = float(weight.sum())
    centre = np.array([((xs + 0.5) * weight).sum() / (total * w), ((ys + 0.5) * weight).sum() / (total * h)])
    return figure, centre


def placement(centre: np.ndarray) -> dict[str, float]:
    """Rule of thirds, diagonal dominance and balance of a visual centre (x, y as fractions).

    Example:
        >>> {k: round(v, 3) for k, v in placement(np.array([1 / 3, 1 / 3])).items()}
        {'rule_of_thirds': 1.0, 'diagonal_dominance': 1.0, 'balance_intensity': 0.667}
    """
    x, y = centre
    thirds = float(np.min(np.hypot(THIRDS[:, 0] - x, THIRDS[:, 1] - y)))
    diagonal = min(abs(x - y), abs(x + y - 1)) / np.sqrt(2)
    return {
        "rule_of_thirds": float(1.0 - thirds / (np.sqrt(2) * 2 / 3)),
        "diagonal_dominance": float(max(0.0, 1.0 - diagonal / (np.sqrt(2) / 4))),
        "balance_intensity": float(1.0 - np.hypot(x - 0.5, y - 0.5) / (np.sqrt(2) / 2)),
    }


def colour(rgb: np.ndarray) -> dict[str, float]:
    """The HSV colour attributes of an RGB image (module docstring).

    Example:
        >>> img = np.zeros((2, 2, 3), np.uint8); img[:, 0] = (255, 0, 0); img[:, 1] = (0, 0, 255)
        >>> {k: round(v, 3) for k, v in colour(img).items()}
        {'brightness': 1.0, 'brightness_sd': 0.0, 'saturation': 1.0, 'saturation_sd': 0.0, 'clarity': 1.0, 'warm_hue': 0.5}
    """
    import cv2

    hsv = cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2HSV)
    h, s, v = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    warm = ((h < 90.0) | (h >= 330.0)) & (s >= 0.2)
    return {
        "brightness": float(v.mean()),
        "brightness_sd": float(v.std()),
        "saturation": float(s.mean()),
        "saturation_sd": float(s.std()),
        "clarity": float((v > 0.7).mean()),
        "warm_hue": float(warm.mean()),
    }


def balance_color(rgb: np.ndarray) -> float:
    """1 - mean |pixel - its left-right mirror| on the 0-1 scale; 1 for a symmetric image.

    Example:
        >>> balance_color(np.array([[[0, 0, 0], [255, 255, 255]]], np.uint8))
        0.0
    """
    f = rgb.astype(np.float32) / 255.0
    return float(1.0 - np.abs(f - f[:, ::-1]).mean())


def figure_ground(rgb: np.ndarray, figure_small: np.ndarray) -> dict[str, float]:
    """Size, colour and texture differences between the salient figure and the ground."""
    import cv2

    h, w = rgb.shape[:2]
    figure = cv2.resize(figure_small.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST).astype(bool)
    share = float(figure.mean())
    out = {
        "figure_share": share,
        "size_difference": abs(2.0 * share - 1.0),
        "color_difference": 0.0,
        "texture_difference": 0.0,
    }
    if figure.all() or not figure.any():
        return out
    f = rgb.astype(np.float32) / 255.0
    out["color_difference"] = float(np.linalg.norm(f[figure].mean(0) - f[~figure].mean(0)) / np.sqrt(3))
    y = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    grad = np.hypot(cv2.Sobel(y, cv2.CV_32F, 1, 0), cv2.Sobel(y, cv2.CV_32F, 0, 1))
    out["texture_difference"] = min(1.0, abs(float(grad[figure].mean() - grad[~figure].mean())) / 4.0)
    return out


def depth_of_field(channel: np.ndarray) -> float | None:
    """Datta et al.'s low depth of field indicator of one channel: centre cells' share of level-3 detail.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> round(depth_of_field(rng.random((256, 256))), 1)   # detail everywhere: the centre's area share
        0.2
    """
    import pywt

    if min(channel.shape) < 32:
        return None
    _, (ch, cv, cd), *_ = pywt.wavedec2(channel.astype(np.float64), "haar", level=3)
    detail = np.abs(ch) + np.abs(cv) + np.abs(cd)
    total = float(detail.sum())
    if total <= 1e-12:
        return None
    rows = np.linspace(0, detail.shape[0], 5).round().astype(int)
    cols = np.linspace(0, detail.shape[1], 5).round().astype(int)
    return float(detail[rows[1] : rows[3], cols[1] : cols[3]].sum() / total)


def measure(decoded, size: int = 512) -> dict[str, Any]:
    """All composition attributes of one decoded image (runs in the decode workers)."""
    import cv2

    from ..io.decode import shrink

    rgb = np.ascontiguousarray(shrink(decoded.rgb, size))
    out: dict[str, Any] = colour(rgb)
    figure, centre = visual_centre(spectral_residual(rgb))
    out["salient_x"], out["salient_y"] = float(centre[0]), float(centre[1])
    out.update(placement(centre))
    out["balance_color"] = balance_color(rgb)
    out.update(figure_ground(rgb, figure))
    hsv = cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2HSV)
    for i, name in enumerate(("hue", "saturation", "value")):
        out[f"dof_{name}"] = depth_of_field(hsv[..., i] / (360.0 if i == 0 else 1.0))
    return out


class CompositionTask(Task):
    """Colour, composition, figure-ground and depth-of-field attributes (the module docstring defines each).

    Args:
        size: longest side, in pixels, at which the attributes are computed (default 512).

    Example:
        >>> import imagevars
        >>> imagevars.run(["composition"], "PHOTOS/").to_pandas()  # doctest: +SKIP
    """

    name = "composition"
    per_worker = None  # no model: its calls run wherever the run's models do

    def __init__(self, size: int = 512):
        from .._extras import require

        require("pywt", "the composition task's depth of field")
        if size < 64:
            raise ValueError(f"composition size must be at least 64 pixels, got {size}")
        self.size = self.max_side = size

    def params(self) -> dict[str, Any]:
        return {"size": self.size}

    def preprocessor(self):
        return functools.partial(measure, size=self.size)

    def fields(self) -> list:
        import pyarrow as pa

        return [pa.field(f"composition_{n}", pa.float64()) for n in COLUMNS]

    def __call__(self, batch: list[dict[str, Any]]) -> dict[str, list]:
        return {f"composition_{n}": [row[n] for row in batch] for n in COLUMNS}
