"""Class names of the label sets the bundled models use, read from the package's data files.

- ``data/coco.txt``: the 80 COCO object classes in the 0-based order detectors trained on COCO use
  (Lin et al. 2014, "Microsoft COCO: common objects in context", ECCV; the 80 "thing" categories of
  the detection challenge, ids compacted to 0..79).
- ``data/imagenet.txt``: ImageNet-1k's class names in the standard order, the first WordNet lemma
  of each synset. Written by ``tools/convert_efficientnet_lite.py`` from timm 1.0.31's
  ``imagenet_synsets.txt`` and ``imagenet_synset_to_lemma.txt`` (Apache-2.0); the names are
  WordNet's (Princeton, WordNet license).

One label per line, UTF-8; line ``i`` is class ``i``.
"""

from __future__ import annotations

from importlib import resources


def read_labels(name: str) -> tuple[str, ...]:
    """The labels of the set ``name`` (``"coco"`` or ``"imagenet"``), in class order.

    Example:
        >>> read_labels("coco")[:3]
        ('person', 'bicycle', 'car')
        >>> len(read_labels("imagenet"))
        1000
    """
    text = resources.files(__package__).joinpath("data", f"{name}.txt").read_text(encoding="utf-8")
    return tuple(text.splitlines())


COCO_LABELS = read_labels("coco")
IMAGENET_LABELS = read_labels("imagenet")


def column_name(label: str) -> str:
    """A label as a column-name fragment: ``"traffic light"`` -> ``"traffic_light"``.

    Example:
        >>> column_name("dining table")
        'dining_table'
    """
    return label.replace(" ", "_")
