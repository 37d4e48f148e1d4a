"""Aaker's brand personality of photos, zero-shot with CLIP, and a text search over them.

Run: python examples/clip/plot_brand_personality.py PHOTOS/
Needs internet once (openai/clip-vit-base-patch32 from the Hugging Face hub; cached after).
"""

import sys

import imagevars
from imagevars.search import search
from imagevars.tasks.clip import ClipEmbedTask, ClipTask

photos = sys.argv[1] if len(sys.argv) > 1 else "photos/"

# 1. Which personality dimension does each photo express? (softmax over the five)
scores = imagevars.run([ClipTask(prompts="brand-personality")], photos, "personality.parquet")
df = scores.to_pandas()
dims = [c for c in df.columns if c.startswith("clip_prob_aaker_")]
print(df[["source", *dims]].round(3))

# 2. Embeddings once, then any number of searches in words
imagevars.run([ClipEmbedTask(backend="onnx")], photos, "emb.parquet")
print(search("emb.parquet", "a rugged outdoor scene", top=5))
