"""Suggested names for ACE's concepts: the words a CLIP model finds closest to each concept's segments.

A concept's name is a *suggestion*, to help a person look at its segments, not a finding: the
concept is what its segments show (``ConceptResult.plot``). Each concept's segments (as the
network saw them: cut out on the mean colour) are embedded with the CLIP image encoder and
averaged; each word is embedded as "a photo of {word}"; the words with the highest cosine
similarity are suggested. The vocabulary is the user's, or :data:`VOCABULARY`: common things,
parts, materials, textures and colours.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

VOCABULARY = (
    # things and parts
    "person",
    "face",
    "eye",
    "hand",
    "hair",
    "text",
    "logo",
    "sign",
    "letters",
    "number",
    "wheel",
    "tyre",
    "window",
    "door",
    "roof",
    "wall",
    "floor",
    "ceiling",
    "table",
    "chair",
    "bed",
    "sofa",
    "lamp",
    "plant",
    "flower",
    "tree",
    "leaf",
    "grass",
    "sky",
    "cloud",
    "water",
    "sea",
    "sand",
    "snow",
    "mountain",
    "road",
    "car",
    "bus",
    "truck",
    "van",
    "bicycle",
    "boat",
    "building",
    "house",
    "kitchen",
    "bathroom",
    "food",
    "cup",
    "plate",
    "bottle",
    "glass",
    "box",
    "bag",
    "shoe",
    "shirt",
    "dress",
    "hat",
    "watch",
    "phone",
    "screen",
    "book",
    "paper",
    "painting",
    "frame",
    "signature",
    "animal",
    "dog",
    "cat",
    "bird",
    "horse",
    "fur",
    "feather",
    "metal",
    "wood",
    "stone",
    "brick",
    "fabric",
    "leather",
    "plastic",
    "glass surface",
    "light",
    "shadow",
    "reflection",
    "background",
    "sky background",
    "price tag",
    "product",
    "packaging",
    "label",
    "stripe",
    "dots",
    "pattern",
    "grid",
    "edge",
    "corner",
    "circle",
    "square",
    "line",
    "curve",
    # colours and qualities
    "red",
    "orange",
    "yellow",
    "green",
    "blue",
    "purple",
    "pink",
    "brown",
    "black",
    "white",
    "grey",
    "gold",
    "silver",
    "bright",
    "dark",
    "blurry",
    "sharp",
    "smooth",
    "rough",
    "shiny",
)


def suggest_names(result, clip: str, vocabulary: Sequence[str] | None = None, top: int = 3) -> list[list[str]]:
    """The ``top`` closest words for each concept of an ACE result; also sets ``result.table["suggested_names"]``."""
    from ..models.clip import ClipModel

    words = list(vocabulary or VOCABULARY)
    if not words:
        raise ValueError("the vocabulary for naming concepts is empty")
    model = ClipModel(clip)
    texts = model.embed_texts([f"a photo of {w}" for w in words])
    names = []
    for segs in result.concepts:
        image = model.embed_images([s.patch for s in segs]).mean(0)
        image = image / max(float(np.linalg.norm(image)), 1e-12)
        names.append([words[i] for i in np.argsort(-(texts @ image), kind="stable")[:top]])
    result.table["suggested_names"] = [", ".join(n) + " (suggestion)" for n in names]
    result.provenance["names"] = {
        "clip": model.provenance(),
        "vocabulary": "given" if vocabulary else "shipped",
        "words": len(words),
        "prompt": "a photo of {word}",
    }
    return names
