"""Train the lecture's CNN on your own labelled folder: one subfolder of images per class.

Run: python examples/train/plot_own_folder.py PHOTOS/
Here we first write Fashion-MNIST (Debian package dataset-fashion-mnist, or a download) as PNGs.
"""

import sys
from pathlib import Path

from PIL import Image

from imagevars.datasets import fashion_mnist
from imagevars.train.session import train

if len(sys.argv) > 1:
    folder = Path(sys.argv[1])
else:
    folder = Path("fashion_png")
    (x, y), (tx, ty) = fashion_mnist.load_data()
    for split, images, labels, n in (("train", x, y, 6000), ("test", tx, ty, 1000)):
        for i in range(n):
            d = folder / split / fashion_mnist.LABELS[labels[i]].replace("/", "-")
            d.mkdir(parents=True, exist_ok=True)
            Image.fromarray(images[i]).save(d / f"{i}.png")

report = train(str(folder), recipe="lecture", epochs=5, out="own_folder_run")
print(f"{report.correct} of {report.total} test images correct; figures in own_folder_run/")
