"""Quantize the bundled EfficientNet-Lite0 to int8: the ``efficientnet-lite0-int8`` file imagevars ships as an option.

A one-off build step, never run at install time:

    python tools/quantize_efficientnet_lite.py -o src/imagevars/models/weights/

1. Calibration images: 64 crops of scikit-image's photos (seeded: the same every run), each a
   random square of a quarter to all of the photo's shorter side, resized to 224 px as
   ``classify`` gives them to the model.
2. ONNX Runtime's pre-processing, then static quantization: QDQ format, int8 weights per output
   channel, uint8 activations with MinMax ranges; the convolutions *and* their ReLU6 activations
   (``Clip``) are quantized, so ONNX Runtime folds each activation into its convolution. Without
   the ``Clip`` nodes every convolution's raw output is quantized over its full range and the
   features lose most of their signal (correlation 0.64 with fp32's instead of 0.98:
   ``bench/classify_int8.py``). The stem and the first block stay in float (``FLOAT_NODES``, below).
3. Empirical bias correction (``bias_correct``): layer by layer, each int8 convolution's bias
   moves by minus its output's mean error against fp32's, per channel, over 256 more seeded
   crops of the same photos.
   Top-1 agreement with fp32 on OpenCV's sample pictures rises from 91.2% to 96.3% of views, on
   ImageNet's validation photos from 98.0% to 99.0%, at no cost in speed.
4. Prints the file's sha256 for the model card, and int8's agreement with fp32 on
   scikit-image's photos, which the calibration crops did not come from.

Agreement and speed on real photos of things ImageNet names, as the card records them:
``python bench/real_photos.py bench/data/real`` then
``python bench/classify_int8.py bench/data/jpegs --real bench/data/real --quantized src/imagevars/models/weights/efficientnet-lite0-int8.onnx``.
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
CALIBRATION_PHOTOS = (
    "astronaut",
    "chelsea",
    "coffee",
    "rocket",
    "camera",
    "hubble_deep_field",
    "immunohistochemistry",
    "retina",
)
# Left in float: the stem and the first block (at 112 px, 1.1% of the multiply-adds). Quantizing one layer at a time
# and measuring the KL divergence of the output from fp32's, block 0's depthwise convolution costs 0.019, 3.6x the next
# (the stem, 0.005) and 10x anything past block 1. In float these layers lift int8's top-1 agreement with fp32 from
# 85.8% to 91.2% of the views of OpenCV's sample photos and from 74.5% to 83.8% on CIFAR's, for 7% of the speed
# (1.93x to 1.77x fp32's): bench/classify_int8.py --real. A convolution and its Clip stay together: a quantized
# convolution whose Clip is float is quantized over its raw output's range, and the features lose their signal.
FLOAT_NODES = (
    "/_conv_stem/Conv",
    "/_swish/Clip",
    "/_blocks.0/_depthwise_conv/Conv",
    "/_blocks.0/_swish/Clip",
    "/_blocks.0/_project_conv/Conv",
)
HELD_OUT = ("horse", "page", "brick", "grass", "gravel", "colorwheel", "logo", "moon", "clock", "coins", "cat")


def _rgb(name: str) -> np.ndarray:
    import skimage.data as data

    a = getattr(data, name)()
    a = (a * 255 if a.dtype == bool else a).astype(np.uint8)
    return np.stack([a] * 3, -1) if a.ndim == 2 else a[..., :3]


def calibration(n: int = 64, seed: int = 0) -> list[np.ndarray]:
    """``n`` model inputs (1, 224, 224, 3) float32: seeded random square crops of the calibration photos."""
    from imagevars.models.efficientnet import center_crop

    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        rgb = _rgb(CALIBRATION_PHOTOS[k % len(CALIBRATION_PHOTOS)])
        h, w = rgb.shape[:2]
        side = int(min(h, w) * rng.uniform(0.25, 1.0))
        y, x = rng.integers(0, h - side + 1), rng.integers(0, w - side + 1)
        out.append(center_crop(rgb[y : y + side, x : x + side], crop=1.0).astype(np.float32)[None])
    return out


def quantize(src: Path, out: Path, inputs: list[np.ndarray]) -> None:
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quant_pre_process,
        quantize_static,
    )

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter(inputs)

        def get_next(self):
            x = next(self.it, None)
            return None if x is None else {"image": x}

    with tempfile.TemporaryDirectory() as tmp:
        pre = Path(tmp) / "pre.onnx"
        quant_pre_process(str(src), str(pre), skip_symbolic_shape=True)
        quantize_static(
            str(pre),
            str(out),
            Reader(),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            op_types_to_quantize=["Conv", "Clip"],
            nodes_to_exclude=list(FLOAT_NODES),
            calibrate_method=CalibrationMethod.MinMax,
        )


def channel_means(model, names: list[str], inputs: np.ndarray) -> list[np.ndarray]:
    """The mean over images and positions of each named (N, C, H, W) tensor, per channel, with ``names`` made outputs."""
    import onnx
    import onnxruntime as ort

    m = onnx.ModelProto()
    m.CopyFrom(model)
    outputs = {v.name for v in m.graph.output}
    m.graph.output.extend(
        onnx.helper.make_tensor_value_info(n, onnx.TensorProto.FLOAT, None) for n in names if n not in outputs
    )
    session = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    sums = [0.0] * len(names)
    for i in range(0, len(inputs), 16):
        batch = inputs[i : i + 16]
        sums = [s + a.mean(axis=(0, 2, 3)) * len(batch) for s, a in zip(sums, session.run(names, {"image": batch}))]
    return [s / len(inputs) for s in sums]


def bias_correct(src: Path, quantized: Path, inputs: np.ndarray) -> None:
    """Empirical bias correction (Nagel et al. 2019, ICCV; Finkelstein et al. 2019), in place: layer by layer in the
    network's order, each int8 convolution's bias moves by minus the mean error of its output against fp32's, per
    output channel, over ``inputs``, the layers before it already corrected. Quantizing weights and activations
    shifts a convolution's output on average, not only at random; the shift adds up through 16 blocks."""
    import onnx
    from onnx import numpy_helper

    fp32, int8 = onnx.load(str(src)), onnx.load(str(quantized))
    convs = [n for n in fp32.graph.node if n.op_type == "Conv"]
    reference = dict(zip((n.name for n in convs), channel_means(fp32, [n.output[0] for n in convs], inputs)))
    int8_convs = {n.name: n for n in int8.graph.node if n.op_type == "Conv"}
    made_by = {out: n for n in int8.graph.node for out in n.output}
    initializers = {i.name: i for i in int8.graph.initializer}
    for conv in convs:
        node = int8_convs[conv.name]
        bias = made_by.get(node.input[2]) if len(node.input) > 2 else None
        if bias is None or bias.op_type != "DequantizeLinear":  # a layer left in float
            continue
        # the int8 convolution's output before its QuantizeLinear: the raw output, as fp32's (its Clip is folded)
        error = channel_means(int8, [node.output[0]], inputs)[0] - reference[conv.name]
        q, scale = (numpy_helper.to_array(initializers[bias.input[k]]) for k in (0, 1))
        corrected = np.round(q - error / scale).astype(np.int32)
        initializers[bias.input[0]].CopyFrom(numpy_helper.from_array(corrected, bias.input[0]))
    onnx.save(int8, str(quantized))


def agreement(src: Path, quantized: Path) -> None:
    import onnxruntime as ort

    from imagevars.models.efficientnet import center_crop

    fp32, int8 = (ort.InferenceSession(str(p), providers=["CPUExecutionProvider"]) for p in (src, quantized))
    same, corr = 0, []
    for name in HELD_OUT:
        x = center_crop(_rgb(name)).astype(np.float32)[None]
        (pa, fa), (pb, fb) = fp32.run(None, {"image": x}), int8.run(None, {"image": x})
        same += int(pa.argmax() == pb.argmax())
        corr.append(np.corrcoef(fa.ravel(), fb.ravel())[0, 1])
        print(f"  {name:18s} fp32 {int(pa.argmax()):4d} ({pa.max():.2f})  int8 {int(pb.argmax()):4d} ({pb.max():.2f})")
    print(
        f"held-out photos: top-1 the same on {same} of {len(HELD_OUT)}; feature correlation median "
        f"{np.median(corr):.3f}"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-o", "--out", default=str(REPO / "src" / "imagevars" / "models" / "weights"))
    args = p.parse_args()
    src = REPO / "src" / "imagevars" / "models" / "weights" / "efficientnet-lite0.onnx"
    out = Path(args.out) / "efficientnet-lite0-int8.onnx"
    quantize(src, out, calibration())
    bias_correct(src, out, np.concatenate(calibration(256, seed=5)))
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB), sha256 {hashlib.sha256(out.read_bytes()).hexdigest()}")
    agreement(src, out)


if __name__ == "__main__":
    main()
