"""Professional or amateur photos: a linear probe, then fine-tuning (after Zhang, Lee, Singh & Srinivasan).

Run: python examples/learn/plot_professional_photos.py   (scikit-image's photos; a few minutes on 2 cores)

The study's design: listing photos coded as taken by a professional or not, a classifier learned
from the codes, and its scores used as a variable in a demand model. The referee's questions
are answered by the report: accuracy on images the model never saw, with an interval, against
the majority-class baseline.

What is simulated, plainly: the photographs and their codes. Crops of scikit-image's real photos
stand in for listings; "amateur" versions are made from them by what amateurs do (a tilted
horizon, blur from a shaking hand, under- or over-exposure, sensor noise), "professional" ones
are left clean. Everything after that is what a study does with its own coded photos.

What to read in the output: both estimates keep each scene's crops on one side (a model must not
be tested on another crop of a photo it learned from). ImageNet's features say what a photo
shows more than how it was taken, so the linear probe on them does modestly; fine-tuning teaches
the network itself to see blur, noise and exposure. On real listings, code a few hundred photos,
compare the two the same way, and use the better one's scores.
"""

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import skimage.data as data
from PIL import Image, ImageEnhance, ImageFilter

from imagevars.learn import learn
from imagevars.learn.finetune import finetune

rng = np.random.default_rng(0)
photos = [
    Image.fromarray(f()).convert("RGB")
    for f in (
        data.astronaut,
        data.chelsea,
        data.coffee,
        data.rocket,
        data.camera,
        data.immunohistochemistry,
        data.hubble_deep_field,
        data.retina,
        data.cat,
        data.colorwheel,
    )
]
folder = Path(tempfile.mkdtemp())
rows = []
for k in range(160):
    photo = photos[k % len(photos)]
    w, h = photo.size
    side = int(min(w, h) * rng.uniform(0.5, 0.9))
    x0, y0 = rng.integers(0, w - side + 1), rng.integers(0, h - side + 1)
    img = photo.crop((x0, y0, x0 + side, y0 + side)).resize((256, 256))
    amateur = k % 2 == 1
    if amateur:
        img = img.rotate(rng.uniform(-12, 12), resample=Image.Resampling.BILINEAR)
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(1.0, 3.0)))
        img = ImageEnhance.Brightness(img).enhance(rng.choice([rng.uniform(0.35, 0.6), rng.uniform(1.5, 1.9)]))
        noisy = np.asarray(img, np.float32) + rng.normal(0, 12, (256, 256, 3))
        img = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))
    cls = "amateur" if amateur else "professional"
    (folder / "photos" / cls).mkdir(parents=True, exist_ok=True)
    img.save(folder / "photos" / cls / f"{k}.jpg", quality=90)
    rows.append({"path": str(folder / "photos" / cls / f"{k}.jpg"), "professional": cls, "scene": k % len(photos)})
pd.DataFrame(rows).to_csv(folder / "codes.csv", index=False)

# 1. The linear probe, cross-validated with each scene's crops kept together (no scene in train and test)
probe = learn(folder / "codes.csv", ["professional"], folder / "probe", group="scene")
a = probe.results["professional"]["metrics"]["accuracy"]
print(f"linear probe, by scene: accuracy {a['mean']:.3f} [{a['low']:.3f}, {a['high']:.3f}]")

# 2. Fine-tuning the whole network, tested on a held-out fifth of the scenes
tuned = finetune(folder / "codes.csv", "professional", folder / "finetuned", group="scene", epochs=4)
t = tuned.results["professional"]["metrics"]["accuracy"]
print(f"fine-tuned, scenes held out: accuracy {t['mean']:.3f} [{t['low']:.3f}, {t['high']:.3f}]")
print("Reports:", folder / "probe" / "report.md", folder / "finetuned" / "report.md")
print("Score the listings: imagevars run classify LISTINGS/ --model", folder / "finetuned")
