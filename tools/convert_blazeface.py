"""Convert the face detector of @vladmandic/human 3.3.6 (BlazeFace, and FaceMesh's face check) to ONNX.

A one-off build step in the converter's own virtual environment (the one
``tools/convert_centernet.py`` describes), never at install time:

    npm pack @vladmandic/human@3.3.6 && tar xzf vladmandic-human-3.3.6.tgz
    /tmp/tfvenv/bin/python tools/convert_blazeface.py package/models \\
        -o src/imagevars/models/weights/blazeface-back.onnx \\
        --faceflag src/imagevars/models/weights/facemesh-faceflag.onnx \\
        --reference tests/data/blazeface_reference.npz

The model is MediaPipe's BlazeFace, "back camera" variant (Bazarevsky et al. 2019, "BlazeFace:
sub-millisecond neural face detection on mobile GPUs"), as @vladmandic/human ships it (MIT).
Steps as for CenterNet: the graph loaded in TFLite compatibility mode, ``_`` attributes
stripped, tf2onnx at opset 17. Input ``images``: (1, 256, 256, 3) float32 RGB scaled to
[-1, 1]. Outputs, one row per anchor: ``scores16`` (1, 512, 1) and ``scores8`` (1, 384, 1)
logits; ``boxes16`` (1, 512, 16) and ``boxes8`` (1, 384, 16): the box centre's offset from its
anchor, width and height, then six keypoints' x, y, all in 256-px units. Anchors: a 16 x 16
grid with 2 per cell, then an 8 x 8 grid with 6 per cell, at the cells' centres
(``imagevars.models.blazeface.anchors``).

``--faceflag``: MediaPipe's FaceMesh (Kartynnik, Ablavatski, Grishchenko & Grundmann 2019,
arXiv:1907.06724) as the same package ships it (``models/facemesh.json``), cut down to its
face-presence output: input ``images`` (1, 192, 192, 3) float32 RGB in [0, 1], a face crop;
output ``faceflag`` (1, 1), the probability that the crop holds a face. tf2onnx keeps only the
part of the graph that output needs, so the landmark head is not in the file.

With ``--reference`` it stores TensorFlow's outputs of the original graphs on scikit-image's
photos and face crops (the detector's logits, and its boxes at the 20 best anchors; the face
check on centre crops), against which the test suite checks the shipped ONNX files.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np
from convert_centernet import load_graph_def  # noqa: E402  the same loading route

INPUT = "input"
OUTPUTS = {"Identity": "scores16", "Identity_1": "scores8", "Identity_2": "boxes16", "Identity_3": "boxes8"}
PHOTOS = ("astronaut", "chelsea", "coffee", "camera")


FACEFLAG_INPUT, FACEFLAG_OUTPUT = "input_1", "Identity_1"


def to_onnx(graph_def, inputs: str = INPUT, outputs: dict[str, str] = OUTPUTS) -> bytes:
    import tf2onnx

    model, _ = tf2onnx.convert.from_graph_def(
        graph_def, input_names=[inputs + ":0"], output_names=[k + ":0" for k in outputs], opset=17
    )
    rename = {inputs + ":0": "images", **{k + ":0": v for k, v in outputs.items()}}
    for v in list(model.graph.input) + list(model.graph.output):
        v.name = rename.get(v.name, v.name)
    for node in model.graph.node:
        node.input[:] = [rename.get(i, i) for i in node.input]
        node.output[:] = [rename.get(o, o) for o in node.output]
    model.producer_name, model.producer_version = "imagevars tools/convert_blazeface.py", "tf2onnx 1.17.0"
    return model.SerializeToString(deterministic=True)


def photo_images() -> dict[str, np.ndarray]:
    """Reference images: scikit-image photos, a 2 x 2 mosaic of its face crops and one crop, RGB uint8."""
    import skimage.data

    images = {name: getattr(skimage.data, name)() for name in PHOTOS}
    faces = skimage.data.lfw_subset()[:4]
    images["lfw_mosaic"] = (np.block([[faces[0], faces[1]], [faces[2], faces[3]]]) * 255).astype(np.uint8)
    images["lfw_face"] = (faces[0] * 255).astype(np.uint8)  # one face filling the frame: the face check's input
    return images


def photo_inputs(side: int = 256, low: float = -1.0) -> dict[str, np.ndarray]:
    """The reference images as a network takes them: RGB resized to side x side (bilinear), scaled to [low, 1]."""
    from PIL import Image

    out = {}
    for name, rgb in photo_images().items():
        img = Image.fromarray(rgb).convert("RGB").resize((side, side), Image.Resampling.BILINEAR)
        out[name] = (np.asarray(img, np.float32) / 255.0 * (1.0 - low) + low)[None]
    return out


def run_tf(graph_def, feed: str, fetch: list[str], x: np.ndarray) -> list[np.ndarray]:
    import tensorflow as tf

    graph = tf.Graph()
    with graph.as_default():
        tf.import_graph_def(graph_def, name="")
    with tf.compat.v1.Session(graph=graph) as sess:
        return sess.run([f + ":0" for f in fetch], {feed + ":0": x})


def reference(graph_def, flag_def, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """TensorFlow's outputs: per image the 896 logits, the 20 best anchors and their boxes, and the face
    check's probability on the whole image at 192 px (0-1 scale)."""
    crops = photo_inputs(192, 0.0)
    out = {}
    for k, x in inputs.items():
        s16, s8, b16, b8 = run_tf(graph_def, INPUT, list(OUTPUTS), x)
        scores = np.concatenate([s16[0, :, 0], s8[0, :, 0]])
        boxes = np.concatenate([b16[0], b8[0]])
        top = np.argsort(-scores)[:20]
        out.update({f"{k}/scores": scores, f"{k}/top": top.astype(np.int32), f"{k}/boxes": boxes[top]})
        if flag_def is not None:
            out[f"{k}/faceflag"] = run_tf(flag_def, FACEFLAG_INPUT, [FACEFLAG_OUTPUT], crops[k])[0]
    return out


def compare(onnx_path: str, flag_path: str | None, ref: dict[str, np.ndarray], inputs: dict[str, np.ndarray]) -> None:
    import onnxruntime as ort

    crops = photo_inputs(192, 0.0)
    sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    flag = ort.InferenceSession(flag_path, providers=["CPUExecutionProvider"]) if flag_path else None
    names = [o.name for o in sess.get_outputs()]
    for k, x in inputs.items():
        got = dict(zip(names, sess.run(None, {"images": x})))
        scores = np.concatenate([got["scores16"][0, :, 0], got["scores8"][0, :, 0]])
        boxes = np.concatenate([got["boxes16"][0], got["boxes8"][0]])[ref[f"{k}/top"]]
        line = (
            f"{k}: ONNX vs TF max |diff| logits {np.abs(scores - ref[f'{k}/scores']).max():.2e}, boxes "
            f"{np.abs(boxes - ref[f'{k}/boxes']).max():.2e} px; best face score {1 / (1 + np.exp(-scores.max())):.3f}"
        )
        if flag is not None:
            p = flag.run(None, {"images": crops[k]})[0]
            line += f"; face check {float(p.ravel()[0]):.3f} (TF {float(ref[f'{k}/faceflag'].ravel()[0]):.3f})"
        print(line)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model_dir", help="folder with blazeface.json and blazeface.bin")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--faceflag", help="also convert FaceMesh's face check to this ONNX file")
    ap.add_argument("--reference", help="also write TensorFlow's outputs on reference images to this .npz")
    args = ap.parse_args()

    graph_def = load_graph_def(os.path.join(args.model_dir, "blazeface.json"))
    outputs = [(args.output, to_onnx(graph_def))]
    flag_def = None
    if args.faceflag:
        flag_def = load_graph_def(os.path.join(args.model_dir, "facemesh.json"))
        outputs.append((args.faceflag, to_onnx(flag_def, FACEFLAG_INPUT, {FACEFLAG_OUTPUT: "faceflag"})))
    for path, data in outputs:
        with open(path, "wb") as f:
            f.write(data)
        print(f"{path}: {len(data):,} bytes, sha256 {hashlib.sha256(data).hexdigest()}")
    if args.reference:
        inputs = photo_inputs()
        ref = reference(graph_def, flag_def, inputs)
        compare(args.output, args.faceflag, ref, inputs)
        np.savez_compressed(args.reference, **{k: v for k, v in ref.items()})
        print(f"{args.reference}: TF outputs for {', '.join(inputs)}")


if __name__ == "__main__":
    main()
