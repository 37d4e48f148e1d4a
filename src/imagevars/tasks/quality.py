"""``quality``: photo variables used in published image studies, each defined here with its source.

All pixel measures are computed on the image decoded with EXIF orientation applied, converted
to 8-bit RGB (transparency on white), and scaled so its longer side is at most ``size`` pixels
(default 512; smaller images are used as they are). A fixed working size makes measures such as
sharpness comparable across photos of different resolutions, and lets JPEGs decode at reduced
size. Luma is ITU-R BT.601: Y = 0.299 R + 0.587 G + 0.114 B.

Columns (``quality_`` + name):

============== ==========================================================================
width, height  pixels of the original image after EXIF orientation
aspect_ratio   width / height
file_bytes     size of the file as read
brightness     mean luma / 255, in [0, 1] (e.g. Zhang, Lee, Singh & Srinivasan 2022, Mgmt Sci)
contrast       RMS contrast: standard deviation of luma / 255 (Peli 1990, JOSA A 7(10))
saturation     mean HSV saturation (max - min) / max, 0 for black (Datta et al. 2006, ECCV)
colorfulness   Hasler & Süsstrunk (2003, SPIE 5007): sigma_rgyb + 0.3 mu_rgyb, with
               rg = R - G and yb = (R + G) / 2 - B on the 0-255 scale
sharpness      variance of the Laplacian (4-neighbour kernel) of luma, on the 0-255 scale
               (Pech-Pacheco et al. 2000, ICPR); higher is sharper
edge_density   share of pixels on Canny edges of luma, sigma 1 (Canny 1986; scikit-image's
               definition and defaults, computed by :mod:`imagevars.tasks.edges`), a measure of
               visual complexity
entropy        Shannon entropy of the 256-bin luma histogram, bits (0 to 8)
colorN_hex     the N-th dominant colour (k-means, k = ``colors``, on a 64 px thumbnail,
colorN_share   RGB space, deterministic initialisation), and the share of pixels it covers
============== ==========================================================================
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from .base import Task


def luma(rgb: np.ndarray) -> np.ndarray:
    """BT.601 luma, float32 on the 0-255 scale."""
    f = rgb.astype(np.float32)
    return 0.299 * f[..., 0] + 0.587 * f[..., 1] + 0.114 * f[..., 2]


# luma, then the opponent channels of Hasler & Süsstrunk: rg = R - G, yb = (R + G) / 2 - B
_PLANES = np.array([[0.299, 0.587, 0.114], [1.0, -1.0, 0.0], [0.5, 0.5, -1.0]], np.float32)


def _planes(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(luma, rg, yb) planes as one (H, W, 3) float32 array, with the mean and std of each plane."""
    import cv2

    planes = cv2.transform(rgb.astype(np.float32), _PLANES)
    mean, std = cv2.meanStdDev(planes)
    return planes, mean.ravel(), std.ravel()


def _colorfulness(mean: np.ndarray, std: np.ndarray) -> float:
    return float(np.hypot(std[1], std[2]) + 0.3 * np.hypot(mean[1], mean[2]))


def colorfulness(rgb: np.ndarray) -> float:
    """Hasler & Süsstrunk (2003) colourfulness M^(3).

    Example:
        >>> colorfulness(np.zeros((4, 4, 3), np.uint8))
        0.0
    """
    _, mean, std = _planes(rgb)
    return _colorfulness(mean, std)


def saturation(rgb: np.ndarray) -> float:
    """Mean HSV saturation (max - min) / max over pixels, 0 where max is 0.

    Example:
        >>> saturation(np.array([[[255, 0, 0], [0, 0, 0]]], np.uint8))
        0.5
    """
    import cv2

    r, g, b = cv2.split(rgb)
    hi, lo = cv2.max(cv2.max(r, g), b), cv2.min(cv2.min(r, g), b)
    sat = cv2.divide(cv2.subtract(hi, lo), hi, dtype=cv2.CV_32F)
    cv2.patchNaNs(sat, 0.0)  # 0 / 0 for black pixels
    return float(cv2.mean(sat)[0])


def laplacian_variance(y: np.ndarray) -> float:
    """Variance of the 4-neighbour Laplacian over interior pixels (0 for images under 3x3)."""
    import cv2

    if y.shape[0] < 3 or y.shape[1] < 3:
        return 0.0
    lap = cv2.Laplacian(np.ascontiguousarray(y, dtype=np.float32), cv2.CV_32F, ksize=1)
    return float(cv2.meanStdDev(lap[1:-1, 1:-1])[1][0, 0] ** 2)


def entropy(y: np.ndarray) -> float:
    """Shannon entropy (bits) of the 256-bin histogram of luma (rounded to integers).

    Example:
        >>> entropy(np.array([[0.0, 0.4, 254.6, 255.0]], np.float32))  # two grey levels, equally often
        1.0
    """
    import cv2

    rounded = (y + 0.5).astype(np.uint8)  # luma is in [0, 255]: half up, no clipping needed
    hist = cv2.calcHist([rounded], [0], None, [256], [0, 256]).ravel().astype(np.float64)  # twice np.bincount's speed
    p = hist[hist > 0] / hist.sum()
    return float(-(p * np.log2(p)).sum())


def dominant_colors(rgb: np.ndarray, k: int = 3, iters: int = 12) -> list[tuple[str, float]]:
    """k dominant colours by Lloyd's k-means on a 64 px thumbnail, largest share first.

    Initial centres are the pixels at evenly spaced quantiles of luma, so the result is
    deterministic. At most ``iters`` rounds; it stops early once no pixel changes its centre
    (the later rounds would change nothing). Returns (hex, share) pairs; fewer distinct colours
    give zero shares.

    Example:
        >>> img = np.zeros((10, 10, 3), np.uint8); img[:, :7] = (255, 0, 0)
        >>> dominant_colors(img, k=2)
        [('#ff0000', 0.7), ('#000000', 0.3)]
    """
    h, w = rgb.shape[:2]
    step = max(1, int(max(h, w) / 64))
    px = rgb[::step, ::step].reshape(-1, 3)
    n_px = len(px)
    # initial centres: the pixels at ranks 0 ... N-1 of luma, ties broken by position (a stable
    # sort); luma is a float32 >= 0, whose bits order as its value, so one int64 key partitions
    key = (luma(px[None])[0].view(np.int32).astype(np.int64) << 32) | np.arange(n_px)
    ranks = np.linspace(0, n_px - 1, k).astype(int)
    centres = px[np.partition(key, ranks)[ranks] & 0xFFFFFFFF].astype(np.float64)  # (k, 3)
    px = np.ascontiguousarray(px.T, dtype=np.float64)  # (3, N)
    sq = (px**2).sum(0)
    ids = np.arange(k)[:, None]
    label = None
    for _ in range(iters):
        dist = (sq - 2.0 * (centres @ px)) + (centres**2).sum(1)[:, None]  # (k, N) squared distances
        nearest, best = np.zeros(n_px, np.intp), dist[0].copy()
        for j in range(1, k):  # argmin over k rows, first on ties; faster than argmin(axis=0)
            nearest[dist[j] < best] = j
            np.minimum(best, dist[j], out=best)
        if label is not None and np.array_equal(nearest, label):
            break
        label = nearest
        member = (ids == label).astype(np.float64)  # (k, N) one-hot
        n = member.sum(1)
        centres = np.where(n[:, None] > 0, (member @ px.T) / np.maximum(n, 1)[:, None], centres)
    counts = np.bincount(label, minlength=k) / n_px
    out = []
    for j in np.argsort(-counts, kind="stable"):
        r, g, b = np.clip(np.round(centres[j]), 0, 255).astype(int)
        out.append((f"#{r:02x}{g:02x}{b:02x}", round(float(counts[j]), 6)))
    return out


def measure(decoded, colors: int = 3) -> dict[str, Any]:
    """All quality variables of one decoded image (runs in the decode workers)."""
    from .edges import canny_density

    rgb = decoded.rgb
    planes, mean, std = _planes(rgb)
    y = np.ascontiguousarray(planes[..., 0])
    out = {
        "width": decoded.width,
        "height": decoded.height,
        "aspect_ratio": decoded.width / decoded.height,
        "file_bytes": decoded.nbytes,
        "brightness": float(mean[0] / 255.0),
        "contrast": float(std[0] / 255.0),
        "saturation": saturation(rgb),
        "colorfulness": _colorfulness(mean, std),
        "sharpness": laplacian_variance(y),
        "edge_density": canny_density(y, sigma=1.0),
        "entropy": entropy(y),
    }
    for i, (hex_, share) in enumerate(dominant_colors(rgb, colors), 1):
        out[f"color{i}_hex"] = hex_
        out[f"color{i}_share"] = share
    return out


class QualityTask(Task):
    """Photo-quality variables (see the module docstring for definitions and citations).

    Args:
        size: longest side, in pixels, at which pixel measures are computed (default 512).
        colors: number of dominant colours to report (default 3).

    Example:
        >>> import imagevars
        >>> imagevars.run(["quality"], "PHOTOS/").to_pandas()  # doctest: +SKIP
    """

    name = "quality"
    per_worker = None  # no model: its calls run wherever the run's models do

    def __init__(self, size: int = 512, colors: int = 3):
        if size < 16:
            raise ValueError(f"quality size must be at least 16 pixels, got {size}")
        if not 1 <= colors <= 16:
            raise ValueError(f"quality colors must be between 1 and 16, got {colors}")
        self.size, self.colors = size, colors
        self.max_side = size

    def params(self) -> dict[str, Any]:
        return {"size": self.size, "colors": self.colors}

    def preprocessor(self):
        return functools.partial(measure, colors=self.colors)

    def fields(self) -> list:
        import pyarrow as pa

        f = [("width", pa.int64()), ("height", pa.int64()), ("aspect_ratio", pa.float64()), ("file_bytes", pa.int64())]
        f += [
            (n, pa.float64())
            for n in ("brightness", "contrast", "saturation", "colorfulness", "sharpness", "edge_density", "entropy")
        ]
        for i in range(1, self.colors + 1):
            f += [(f"color{i}_hex", pa.string()), (f"color{i}_share", pa.float64())]
        return [pa.field(f"quality_{n}", t) for n, t in f]

    def __call__(self, batch: list[dict[str, Any]]) -> dict[str, list]:
        return {field.name: [row[field.name[len("quality_") :]] for row in batch] for field in self.fields()}
