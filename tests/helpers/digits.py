"""MNIST digits written as a folder of class subfolders, in mixed formats and sizes (as users' folders are)."""

import numpy as np
from PIL import Image


def write_digits(root, mnist, classes=(0, 1, 2), per_class=80, offset=0):
    """Write ``per_class`` digits of each class into ``root/digit_<c>/``, cycling through file kinds."""
    (tx, ty), _ = mnist
    for c in classes:
        d = root / f"digit_{c}"
        d.mkdir(parents=True, exist_ok=True)
        idx = np.flatnonzero(ty == c)[offset : offset + per_class]
        for k, i in enumerate(idx):
            img = Image.fromarray(tx[i])
            kind = k % 6
            if kind == 0:
                img.save(d / f"{k}.png")  # L, 28x28
            elif kind == 1:
                img.convert("RGB").resize((40, 40)).save(d / f"{k}.jpg", quality=95)  # RGB, larger
            elif kind == 2:
                rgba = img.convert("RGBA")
                rgba.putalpha(255)
                rgba.save(d / f"{k}.png")  # RGBA
            elif kind == 3:
                img.convert("P").save(d / f"{k}.gif")  # palette
            elif kind == 4:
                Image.fromarray(tx[i].astype(np.uint16) * 257).save(d / f"{k}.png")  # 16-bit greyscale
            else:
                img.resize((20, 20)).save(d / f"{k}.webp")  # smaller, WebP
    return root
