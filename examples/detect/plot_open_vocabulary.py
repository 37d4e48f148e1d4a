"""Count the objects you name in words: open-vocabulary detection with OWLv2 or Grounding DINO.

Needs internet once (the model downloads to the hub cache) and `pip install 'imagevars[hub]'`.
The carded models are pinned to a hub commit; `hf:<owner>/<name>@<revision>` takes any other
zero-shot object detector transformers loads. Each named class gets the COCO detector's columns:
counts, covered area, the top labels, and with `long=True` one row per box.

Run: python examples/detect/plot_open_vocabulary.py [FOLDER] [MODEL]
"""

import os
import sys

import imagevars
from imagevars.tasks.detect import DetectTask

folder = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(__import__("skimage.data").data.__file__)
model = sys.argv[2] if len(sys.argv) > 2 else "owlv2-base"
task = DetectTask(model=model, classes="cat, coffee cup, rocket, person", threshold=0.2)
table = imagevars.run([task], folder).to_pandas()
print(
    table[
        [
            "source",
            "detect_count_cat",
            "detect_count_coffee_cup",
            "detect_count_rocket",
            "detect_count_person",
            "detect_area_person",
            "detect_top1_label",
        ]
    ].to_string(index=False)
)
