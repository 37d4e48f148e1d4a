"""The lecture's top objects and P(at least one person), for scikit-image's photos, offline.

Run: python examples/detect/plot_lecture_objects.py  (seconds; writes astronaut_boxes.jpg)
"""

import os

import skimage.data
from PIL import Image

import imagevars
from imagevars.draw import draw_objects
from imagevars.tasks.detect import detect_file

os.makedirs("photos", exist_ok=True)
for name in ("astronaut", "coffee", "chelsea"):
    Image.fromarray(getattr(skimage.data, name)()).save(f"photos/{name}.png")

# 1. One row per photo: top objects, person variables, counts and areas per class
table = imagevars.run(["detect"], "photos/")
print(
    table.to_pandas()[
        [
            "source",
            "detect_top1_label",
            "detect_top1_score",
            "detect_top2_label",
            "detect_person_max",
            "detect_person_any",
            "detect_count_cup",
        ]
    ]
)

# 2. One photo's objects as rows, drawn
objects = detect_file("photos/astronaut.png")
draw_objects(skimage.data.astronaut(), objects, "astronaut_boxes.jpg")
print(objects[:3])
