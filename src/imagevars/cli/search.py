"""``imagevars search``: the stored images most similar to a text or an image.

    imagevars run clip-embed PHOTOS/ -o emb.parquet; imagevars search emb.parquet "a dog"
"""

from __future__ import annotations

import argparse


def cmd_search(args: argparse.Namespace) -> int:
    from ..search import search

    import pandas as pd

    hits = search(args.embeddings, text=args.text, image=args.image, top=args.top)
    with pd.option_context("display.width", 200, "display.max_colwidth", 120):
        print(hits.to_string(index=False))
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser("search", help="the stored images most similar to a text or an image (clip-embed files)")
    p.add_argument("embeddings", help="a Parquet file written by `imagevars run clip-embed`")
    p.add_argument("text", nargs="?", help="what to look for, in words")
    p.add_argument("--image", help="an image to find similar ones to")
    p.add_argument("--top", type=int, default=20)
    p.set_defaults(func=cmd_search)
