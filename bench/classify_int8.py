"""An int8 EfficientNet-Lite0 by ONNX Runtime's static quantization: its speed and its top-1 agreement with fp32.

    python bench/make_photos.py bench/data/jpegs --n 600
    python bench/classify_int8.py bench/data/jpegs --format qdq [--conv-only]

As ``bench/detect_int8.py`` does for CenterNet (same calibration photos, same unseen evaluation
images): the bundled classifier's convolutions and matrix products quantized (per-channel int8
weights, uint8 activations). Agreement: the share of evaluation images whose top-1 class is the
fp32 model's (the issue asks for >= 99%). Speed: images per second at 2 threads, batches of 16,
sides alternating over rounds (the issue asks for >= 1.8x). Prints how busy the machine was.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from detect_int8 import evaluation_images  # noqa: E402
from make_photos import photo_files  # noqa: E402
from quiet import Quiet, ratio  # noqa: E402


def _input(rgb: np.ndarray) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.fromarray(rgb).convert("RGB").resize((224, 224), Image.BILINEAR), np.float32)[None]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folder")
    p.add_argument("--calibration", type=int, default=64)
    p.add_argument("--format", choices=("qdq", "qoperator"), default="qdq")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--conv-only", action="store_true", help="leave the classifier head (MatMul, Gemm) in float")
    args = p.parse_args()
    import onnxruntime as ort
    from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType, quant_pre_process,
                                          quantize_static)
    from PIL import Image

    from imagevars import models

    src = Path(models.__file__).parent / "weights" / "efficientnet-lite0.onnx"
    calibration = []
    for f in photo_files(args.folder, args.calibration):
        img = Image.open(f)
        img.draft("RGB", (448, 448))
        calibration.append(_input(np.asarray(img.convert("RGB"))))

    class Photos(CalibrationDataReader):
        def __init__(self):
            self.it = iter(calibration)

        def get_next(self):
            x = next(self.it, None)
            return None if x is None else {"image": x}

    with tempfile.TemporaryDirectory() as tmp:
        pre, out = Path(tmp) / "pre.onnx", Path(tmp) / "int8.onnx"
        quant_pre_process(str(src), str(pre), skip_symbolic_shape=True)
        quantize_static(str(pre), str(out), Photos(), per_channel=True, activation_type=QuantType.QUInt8,
                        weight_type=QuantType.QInt8, op_types_to_quantize=["Conv"] if args.conv_only else ["Conv", "MatMul", "Gemm"],
                        quant_format=QuantFormat.QDQ if args.format == "qdq" else QuantFormat.QOperator)
        options = ort.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = 2, 1
        sides = {"fp32": ort.InferenceSession(str(src), options, providers=["CPUExecutionProvider"]),
                 "int8": ort.InferenceSession(str(out), options, providers=["CPUExecutionProvider"])}
        inputs = [_input(a) for a in evaluation_images()]
        top1 = {k: [int(np.argmax(s.run(None, {"image": x})[0])) for x in inputs] for k, s in sides.items()}
        same = sum(a == b for a, b in zip(top1["fp32"], top1["int8"]))
        print(f"{len(inputs)} evaluation images: int8's top-1 is fp32's on {same} ({same / len(inputs):.1%}; "
              "target >= 99%)")
        batch = np.concatenate(inputs[:16])
        rates: dict[str, list[float]] = {k: [] for k in sides}
        with Quiet() as q:
            for r in range(args.rounds):
                for name in (sides if r % 2 == 0 else reversed(list(sides))):
                    t = time.perf_counter()
                    for _ in range(4):
                        sides[name].run(None, {"image": batch})
                    rates[name].append(64 / (time.perf_counter() - t))
            med = {k: statistics.median(v) for k, v in rates.items()}
            print(f"2 threads, batches of 16: fp32 {med['fp32']:.1f} img/s, int8 ({args.format}) {med['int8']:.1f} "
                  f"img/s: int8 / fp32 = {ratio(med['int8'], med['fp32'])} (target >= 1.8x)")
        print(q.line())


if __name__ == "__main__":
    main()
