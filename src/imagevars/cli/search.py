"""``imagevars search`` and ``duplicates``: similar images, from stored embeddings and hashes.

imagevars run clip-embed PHOTOS/ -o emb.parquet; imagevars search emb.parquet "a dog"
imagevars run hash PHOTOS/ -o h.parquet; imagevars duplicates h.parquet --max-distance 6 -o groups.parquet
"""

from __future__ import annotations

import argparse


def cmd_search(args: argparse.Namespace) -> int:
    import pandas as pd

    from ..search import search

    hits = search(args.embeddings, text=args.text, image=args.image, top=args.top)
    with pd.option_context("display.width", 200, "display.max_colwidth", 120):
        print(hits.to_string(index=False))
    return 0


def cmd_duplicates(args: argparse.Namespace) -> int:
    from ..duplicates import find_duplicates, write_table

    grouped, pairs = find_duplicates(
        args.table, max_distance=args.max_distance, hash=args.hash, min_cosine=args.min_cosine
    )
    write_table(grouped, args.output)
    if args.pairs:
        write_table(pairs, args.pairs)
    hashed = grouped["dup_group"].notna()
    sizes = grouped.loc[hashed, "dup_group_size"]
    print(
        f"{int(hashed.sum()):,} images, {int((sizes > 1).sum()):,} in {grouped.loc[hashed & (sizes > 1), 'dup_group'].nunique():,} "
        f"groups of near-copies ({len(pairs):,} close pairs); {int((~hashed).sum()):,} without a hash -> {args.output}"
    )
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser("search", help="the stored images most similar to a text or an image (clip-embed files)")
    p.add_argument("embeddings", help="a Parquet file written by `imagevars run clip-embed`")
    p.add_argument("text", nargs="?", help="what to look for, in words")
    p.add_argument("--image", help="an image to find similar ones to")
    p.add_argument("--top", type=int, default=20)
    p.set_defaults(func=cmd_search)

    d = sub.add_parser("duplicates", help="groups of near-duplicate images, from `imagevars run hash` (and embeddings)")
    d.add_argument("table", help="a Parquet or CSV file written by `imagevars run hash ...`")
    d.add_argument("-o", "--output", required=True, help="the groups table: one row per image (.parquet or .csv)")
    d.add_argument("--max-distance", type=int, default=6, help="largest Hamming distance (bits of 64) of near-copies")
    d.add_argument("--hash", choices=("phash", "dhash"), default="phash", help="which hash decides (default phash)")
    d.add_argument("--min-cosine", type=float, help="also join images whose embeddings are at least this similar")
    d.add_argument("--pairs", help="also write every close pair to this file")
    d.set_defaults(func=cmd_duplicates)
