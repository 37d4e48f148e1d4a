"""An int8 CenterNet by ONNX Runtime's static quantization: its speed and its agreement with the fp32 model.

    python bench/make_photos.py bench/data/jpegs --n 600
    python bench/detect_int8.py bench/data/jpegs --format qdq --ops wide
    python bench/detect_int8.py bench/data/jpegs --format qoperator --ops conv

The bundled fp32 CenterNet is quantized (per-channel int8 weights, uint8 activations) after ONNX
Runtime's pre-processing, calibrated on ``--calibration`` real-size JPEGs of the folder (crops of
scikit-image's astronaut, chelsea, coffee, rocket, retina, hubble, immunohistochemistry and camera
photos). It is judged on images of none of those kinds: the other scikit-image photos that ship
offline, every 6th frame of Big Buck Bunny (../shared), and 40 faces of ``lfw_subset`` on grey.
Agreement: the share of fp32 boxes at score >= 0.3 that int8 finds with the same label at IoU >= 0.9
(the issue asks for >= 95%). Speed: model-only images per second at 2 threads on the same 512 px
inputs, sides alternating over rounds (the issue asks for >= 1.8x fp32). Prints how busy the
machine was.

Measured on a quiet machine, QDQ (fp32 boxes at score >= 0.3 on the evaluation images: 12 only):
``--ops clip`` 0.95x, 5 of 12 boxes kept; ``wide-clip`` 1.23x, 6 of 12; ``all`` 1.32x, 3 of 12;
``wide`` (no Clip) 0.79-0.94x, 8-42%. Quantizing the activations lets ONNX Runtime fold them and
gains speed, but the boxes move: not shipped. At 1 thread (the local engine's copy per worker),
``wide-clip``: 1.35-1.37x, 6 of 12; with the feature pyramid and heads kept in float (``--keep
CenternetHead``, 46 nodes) 1.19-1.22x and 5 of 12; with only the output convolutions kept (``--keep
"CenternetHead _output"``) 1.14x and 4 of 12: the backbone's quantization itself moves the boxes.
Nor is it a usable option for counting: at 1 thread, ``wide-clip``, the objects at score >= 0.3
(what ``detect``'s counts hold) are fp32's on only 57 of the 76 images; scores shift by 0.1-0.2
either way, and int8 sees a cat (0.3-0.44) on faces on grey where fp32 sees nothing.

    python bench/detect_int8.py bench/data/jpegs --ops wide-clip --threads 1 --keep CenternetHead

Only 12 boxes: ``--real`` adds the real photos ``bench/real_photos.py`` fetches (20 ImageNet
validation photos, 91 OpenCV sample pictures, 4 others: 106 fp32 boxes at score >= 0.3), and fp32
against itself on the same photo shifted by 1 px or re-saved as a quality-95 JPEG. At 1 thread,
``wide-clip`` (1.36x, quiet: others 0.5%), int8 finds 56% / 37% / 33% of fp32's boxes with the same
label at IoU >= 0.9; fp32 itself finds 91% / 84% / 33% after the 1-px shift and 97% / 97% / 56%
after the JPEG re-save. The target is strict (a 1-px shift alone misses it) but fair (a JPEG
re-save meets it on the larger groups), and int8 is far from both:

    python bench/real_photos.py bench/data/real
    python bench/detect_int8.py bench/data/jpegs --ops wide-clip --threads 1 --real bench/data/real

The empirical bias correction that brought the int8 EfficientNet to fp32's answers
(``tools/quantize_efficientnet_lite.py``), tried here by an ad-hoc script (not kept) on the
``wide-clip`` file with 32 other bench photos: on the backbone's 46 convolutions, int8 finds 65% /
43% of the boxes (from 56% / 37%); on the heads as well, 56% / 17%: the heads' outputs (box sizes
in pixels, a scale folded into the convolution) do not take a mean shift. Far from 95% either way,
and int8 is 1.36x at best: not shipped.

Nor as an option (the issue's fallback): what ``detect``'s counts hold moves more under int8 than under
an invisible change of the input. The photos whose objects at score >= 0.3 are fp32's, label for label
(1 thread, ``wide-clip``, 1.35x; quiet: others 1.2%; same command as above), ImageNet photos / OpenCV
samples: int8 45% / 64%; fp32 after a 1-px shift 75% / 78%; after a JPEG re-save 75% / 96%. A 1.35x
faster model that changes the counts on a third to a half of the photos is not a measure a referee
would accept in place of fp32's.

Nor does another runtime reach 1.8x on this CPU (ad-hoc script, not kept; OpenVINO 2026.4.1 and NNCF
3.4.0 in a separate virtual environment; 1 thread, the same 111 ImageNet and OpenCV photos, against
ONNX Runtime's fp32 run of the bundled file; quiet, median of 3 alternating rounds): OpenVINO fp32
0.89x; NNCF's int8 (64 bench JPEGs) 1.07x, 43% of the boxes, the same objects on 60% of the photos;
OpenVINO's bfloat16 on AMX 1.29x, 97% of the boxes and the same objects on 92% of the photos.
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
from make_photos import photo_files  # noqa: E402
from quiet import Quiet, ratio  # noqa: E402

OPS = {
    "conv": ["Conv"],
    "wide": ["Conv", "Mul", "Add", "GlobalAveragePool"],
    # with the activations (Clip: ReLU6 and hard-swish's gate) quantized too, ONNX Runtime folds each into the
    # convolution before it; without them every convolution's raw output is quantized over its full range
    "clip": ["Conv", "Clip", "Relu"],
    "wide-clip": ["Conv", "Clip", "Relu", "Mul", "Add", "GlobalAveragePool"],
    "all": ["Conv", "Clip", "Relu", "Mul", "Add", "Div", "GlobalAveragePool", "Resize", "MaxPool", "Concat", "Sigmoid"],
}
EVAL_PHOTOS = (
    "horse",
    "page",
    "text",
    "brick",
    "grass",
    "gravel",
    "cell",
    "colorwheel",
    "logo",
    "moon",
    "clock",
    "microaneurysms",
    "coins",
    "checkerboard",
)


def model_input(rgb: np.ndarray, side: int = 512) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.fromarray(rgb).convert("RGB").resize((side, side), Image.BILINEAR), np.float32)[None]


def calibration_inputs(files: list[str], side: int) -> list[np.ndarray]:
    """The model inputs of the calibration JPEGs (decoded at reduced size, no smaller than twice ``side``)."""
    from PIL import Image

    out = []
    for f in files:
        img = Image.open(f)
        img.draft("RGB", (2 * side, 2 * side))
        out.append(model_input(np.asarray(img.convert("RGB")), side))
    return out


def quantize(
    src: Path,
    out: Path,
    calibration: list[np.ndarray],
    input_name: str,
    fmt: str,
    op_types: list[str],
    keep_depthwise: bool = False,
    method: str = "minmax",
    keep: str = "",
) -> None:
    """``src`` statically quantized to ``out`` after ONNX Runtime's pre-processing: per-channel int8 weights, uint8
    activations calibrated on ``calibration``, the ``op_types`` given, QDQ or QOperator format; with
    ``keep_depthwise``, the depthwise convolutions (group > 1) stay in float; ``method``: how activation ranges
    are calibrated (minmax, entropy, percentile); ``keep``: comma-separated patterns, each of space-separated
    words; the nodes whose names hold all the words of a pattern stay in float."""
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quant_pre_process,
        quantize_static,
    )

    class Inputs(CalibrationDataReader):
        def __init__(self):
            self.it = iter(calibration)

        def get_next(self):
            x = next(self.it, None)
            return None if x is None else {input_name: x}

    pre = out.with_name("pre.onnx")
    quant_pre_process(str(src), str(pre), skip_symbolic_shape=True)
    depthwise = [
        n.name
        for n in onnx.load(str(pre)).graph.node
        if n.op_type == "Conv" and any(a.name == "group" and a.i > 1 for a in n.attribute)
    ]
    patterns = [p.split() for p in keep.split(",") if p.strip()]
    kept = [n.name for n in onnx.load(str(pre)).graph.node if any(all(w in n.name for w in p) for p in patterns)]
    quantize_static(
        str(pre),
        str(out),
        Inputs(),
        per_channel=True,
        activation_type=QuantType.QUInt8,
        nodes_to_exclude=(depthwise if keep_depthwise else []) + kept,
        calibrate_method={
            "minmax": CalibrationMethod.MinMax,
            "entropy": CalibrationMethod.Entropy,
            "percentile": CalibrationMethod.Percentile,
        }[method],
        weight_type=QuantType.QInt8,
        op_types_to_quantize=op_types,
        quant_format=QuantFormat.QDQ if fmt == "qdq" else QuantFormat.QOperator,
    )


def sessions(src: Path, quantized: Path, threads: int = 2) -> dict:
    """{"fp32": ..., "int8": ...} ONNX Runtime CPU sessions at ``threads`` threads."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    return {
        k: ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        for k, path in (("fp32", src), ("int8", quantized))
    }


def median_rates(sides: dict, one_pass, images: int, rounds: int) -> dict[str, float]:
    """Images per second of each side, ``one_pass(session)`` timed over ``images`` images, sides alternating in
    order over ``rounds``; the medians."""
    rates: dict[str, list[float]] = {k: [] for k in sides}
    for r in range(rounds):
        for name in sides if r % 2 == 0 else reversed(list(sides)):
            t = time.perf_counter()
            one_pass(sides[name])
            rates[name].append(images / (time.perf_counter() - t))
    return {k: statistics.median(v) for k, v in rates.items()}


def evaluation_images() -> list[np.ndarray]:
    import av
    import skimage.data as data
    from PIL import Image

    out = []
    for name in EVAL_PHOTOS:
        a = getattr(data, name)()
        a = (a * 255 if a.dtype == bool else a).astype(np.uint8)
        out.append(np.stack([a] * 3, -1) if a.ndim == 2 else a[..., :3])
    with av.open(str(Path(__file__).parents[2] / "shared" / "data" / "video" / "bigbuckbunny.mp4")) as c:
        out += [f.to_ndarray(format="rgb24") for i, f in enumerate(c.decode(video=0)) if i % 6 == 0]
    for face in data.lfw_subset()[:40]:
        canvas = np.full((400, 400, 3), 128, np.uint8)
        canvas[120:280, 120:280] = np.asarray(Image.fromarray((face * 255).astype(np.uint8)).resize((160, 160)))[
            ..., None
        ]
        out.append(canvas)
    return out


def _iou(a, b) -> float:
    w, h = max(0, min(a[2], b[2]) - max(a[0], b[0])), max(0, min(a[3], b[3]) - max(a[1], b[1]))
    return w * h / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h + 1e-9)


def _same_objects(ref: np.ndarray, got: np.ndarray) -> bool:
    """Whether ``got`` has fp32's objects at score >= 0.3, label for label (what ``detect``'s counts hold)."""
    return sorted(ref[ref[:, 4] >= 0.3][:, 5].tolist()) == sorted(got[got[:, 4] >= 0.3][:, 5].tolist())


def _found(ref: np.ndarray, got: np.ndarray) -> tuple[int, int]:
    """(fp32's boxes at score >= 0.3, how many of them ``got`` has with the same label at IoU >= 0.9)."""
    boxes = ref[ref[:, 4] >= 0.3]
    return len(boxes), sum(any(int(c[5]) == int(b[5]) and _iou(b, c) >= 0.9 for c in got) for b in boxes)


def agreement(sides: dict, inputs: list[np.ndarray]) -> tuple[int, int, int]:
    """(fp32's boxes at score >= 0.3, how many int8 finds with the same label at IoU >= 0.9, images whose objects at
    score >= 0.3 have fp32's labels)."""
    total = found = same_counts = 0
    for x in inputs:
        ref, got = (s.run(None, {"images": x})[0][0] for s in sides.values())
        n, k = _found(ref, got)
        total, found = total + n, found + k
        same_counts += _same_objects(ref, got)
    return total, found, same_counts


def judge_real(sides: dict, folder: str) -> None:
    """Boxes on real photos (``bench/real_photos.py``), beside fp32's own: the same photo shifted by 1 px, or re-saved
    as a quality-95 JPEG, moves some of fp32's boxes too; the target is fair where those stay above it."""
    import real_photos
    from PIL import Image

    fp32 = sides["fp32"]
    for group, files in real_photos.groups(folder).items():
        if group == "cifar":  # 32 px: nothing a 512 px detector finds
            continue
        counts = {"int8": [0, 0, 0], "fp32, 1-px shift": [0, 0, 0], "fp32, JPEG re-save": [0, 0, 0]}
        for f in files:
            x = model_input(np.asarray(Image.open(f).convert("RGB")))
            ref = fp32.run(None, {"images": x})[0][0]
            shifted = fp32.run(None, {"images": np.roll(x, 1, axis=2)})[0][0] - [1, 0, 1, 0, 0, 0]  # boxes moved back
            for k, got in (
                ("int8", sides["int8"].run(None, {"images": x})[0][0]),
                ("fp32, 1-px shift", shifted),
                ("fp32, JPEG re-save", fp32.run(None, {"images": real_photos.resaved_jpeg(x)})[0][0]),
            ):
                n, m = _found(ref, got)
                counts[k] = [counts[k][0] + n, counts[k][1] + m, counts[k][2] + _same_objects(ref, got)]
        print(
            f"  {group}: {len(files)} photos, {counts['int8'][0]} fp32 boxes at score >= 0.3; found with the same "
            "label at IoU >= 0.9 by "
            + ", ".join(f"{k} {m} ({m / max(n, 1):.0%})" for k, (n, m, _) in counts.items())
            + "; photos whose objects at score >= 0.3 are fp32's: "
            + ", ".join(f"{k} {c} ({c / len(files):.0%})" for k, (_, _, c) in counts.items())
        )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folder")
    p.add_argument("--real", help="also judge the boxes on the real photos bench/real_photos.py fetched to this folder")
    p.add_argument("--calibration", type=int, default=64)
    p.add_argument("--format", choices=("qdq", "qoperator"), default="qdq")
    p.add_argument("--ops", choices=tuple(OPS), default="wide")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument(
        "--keep",
        default="",
        help="nodes whose names hold all these words stay in float: "
        "'CenternetHead' (the feature pyramid and the heads), 'CenternetHead _output' (the output convs)",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=2,
        help="ONNX Runtime threads of each side (the local engine runs a single-thread copy per worker)",
    )
    args = p.parse_args()
    from imagevars import models

    src = Path(models.__file__).parent / "weights" / "centernet-mbv3-coco.onnx"
    with tempfile.TemporaryDirectory() as tmp:
        quantized = Path(tmp) / "centernet-int8.onnx"
        quantize(
            src,
            quantized,
            calibration_inputs(photo_files(args.folder, args.calibration), 512),
            "images",
            args.format,
            OPS[args.ops],
            keep=args.keep,
        )
        sides = sessions(src, quantized, args.threads)
        inputs = [model_input(a) for a in evaluation_images()]
        total, found, same_counts = agreement(sides, inputs)
        print(
            f"{len(inputs)} evaluation images; fp32 boxes at score >= 0.3: {total}; int8 finds {found} "
            f"({found / max(total, 1):.1%}) with the same label at IoU >= 0.9 (target >= 95%); images whose "
            f"objects at score >= 0.3 (detect's counts) are fp32's: {same_counts} ({same_counts / len(inputs):.0%})"
        )
        if args.real:
            judge_real(sides, args.real)
        with Quiet() as q:
            med = median_rates(sides, lambda s: [s.run(None, {"images": x}) for x in inputs[:30]], 30, args.rounds)
            print(
                f"model only, {args.threads} thread(s): fp32 {med['fp32']:.1f} img/s, int8 ({args.format}, {args.ops}) "
                f"{med['int8']:.1f} img/s: int8 / fp32 = {ratio(med['int8'], med['fp32'])} (target >= 1.8x)"
            )
        print(q.line())


if __name__ == "__main__":
    main()
