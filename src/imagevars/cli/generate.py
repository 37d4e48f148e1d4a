"""``imagevars generate`` and ``imagevars bot``: the command-line side of generation.

imagevars generate "Lithograph of a camel eating a pear" -n 4 --seed 7 -o stimuli/
imagevars generate --prompts stimuli.csv -o stimuli/      a design: prompt x seed x settings
IMAGEVARS_TELEGRAM_TOKEN=... imagevars bot --allow 12345,67890
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from ..models.diffusion import DEFAULT_GENERATOR


def _settings(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--model",
        default=DEFAULT_GENERATOR,
        help=f"registered name (stable-diffusion-1.5, sdxl-turbo), hub id[@revision] or local folder "
        f"(default {DEFAULT_GENERATOR})",
    )
    p.add_argument("--revision", help="hub revision (commit, branch or tag)")
    p.add_argument("--scheduler", help="ddim, dpm++, euler, euler-a, lms, pndm (default: the model's own)")
    p.add_argument("--steps", type=int, help="denoising steps (default: the model's)")
    p.add_argument("--guidance", type=float, help="guidance scale (default: the model's)")
    p.add_argument("--width", type=int, help="pixels, a multiple of 8 (default: the model's)")
    p.add_argument("--height", type=int, help="pixels, a multiple of 8 (default: the model's)")
    p.add_argument("--device", default="cpu", help="cpu, cuda, mps (default cpu)")
    p.add_argument("--dtype", default="float32", help="float32 (default), float16 or bfloat16 (GPU)")
    p.add_argument("--threads", type=int)


def cmd_generate(args: argparse.Namespace) -> int:
    import pandas as pd

    from ..generation.session import generate

    if bool(args.prompt) == bool(args.prompts):
        raise ValueError("give a prompt in words or --prompts FILE (not both)")
    results = generate(
        args.prompt or None,
        args.output,
        design=args.prompts,
        n=args.n,
        seed=args.seed,
        model=args.model,
        revision=args.revision,
        scheduler=args.scheduler,
        negative_prompt=args.negative,
        steps=args.steps,
        guidance=args.guidance,
        width=args.width,
        height=args.height,
        device=args.device,
        dtype=args.dtype,
        threads=args.threads,
        table=args.table,
        overwrite=args.overwrite,
        progress=not args.quiet,
    )
    df = results.to_pandas()
    show = df[["source", "generate_seed", "generate_sha256", "error"]].assign(
        generate_sha256=df["generate_sha256"].str[:12]
    )
    with pd.option_context("display.width", 200, "display.max_colwidth", 80):
        print(show.to_string(index=False))
    table = args.table or Path(args.output) / "generated.parquet"
    print(f"\n{len(df)} images in {args.output}; table: {table} ({results.n_errors} errors)")
    return 1 if results.n_errors else 0


def cmd_bot(args: argparse.Namespace) -> int:
    from ..generation.bot import BotError, BotSettings, ImagineBot, token_from_env

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    token = token_from_env()  # first: a missing token fails before any model loads
    try:
        allow = frozenset(int(u) for u in args.allow.split(",") if u.strip())
    except ValueError:
        raise BotError(f"--allow takes Telegram user ids separated by commas, got {args.allow!r}") from None
    settings = BotSettings(
        allow=allow,
        queue_size=args.queue,
        output=Path(args.output),
        steps=args.steps,
        guidance=args.guidance,
        width=args.width,
        height=args.height,
        **(
            {"base_url": args.base_url.rstrip("/") + "/bot", "base_file_url": args.base_url.rstrip("/") + "/file/bot"}
            if args.base_url
            else {}
        ),
    )
    generator = None
    if not args.no_draw:
        from ..models.diffusion import Generator

        generator = Generator(
            args.model,
            revision=args.revision,
            scheduler=args.scheduler,
            device=args.device,
            dtype=args.dtype,
            threads=args.threads,
        )
    ImagineBot(token, settings, generator, _photo_tasks(args.tasks)).run()
    return 0


def _photo_tasks(spec: str) -> list:
    """Loaded tasks for photos: ``auto`` takes quality, then detect and clip where installed and loadable."""
    import importlib.util

    from ..tasks import get_task

    if spec != "auto":
        return [get_task(t.strip()) for t in spec.split(",") if t.strip()]
    names = ["quality"]
    if importlib.util.find_spec("onnxruntime"):
        names.append("detect")
    if importlib.util.find_spec("transformers"):
        names.append("clip")
    tasks = []
    for name in names:
        try:
            tasks.append(get_task(name))
        except Exception as exc:  # noqa: BLE001 - e.g. CLIP weights not cached and no internet
            logging.getLogger("imagevars.bot").warning("photo task %s is off: %s", name, exc)
    return tasks


def add_commands(sub) -> None:
    p = sub.add_parser("generate", help="text-to-image stimuli: PNGs with their rows, one table")
    p.add_argument("prompt", nargs="?", help="what to draw, in words")
    p.add_argument(
        "--prompts", help="a design file: CSV/Parquet with a 'prompt' column (see imagevars.generation.design)"
    )
    p.add_argument("-n", type=int, default=1, help="images per prompt, seeds --seed, --seed+1, ... (default 1)")
    p.add_argument("--seed", type=int, default=0, help="first seed, 0 .. 2**32-1 (default 0)")
    p.add_argument("--negative", help="negative prompt")
    _settings(p)
    p.add_argument("-o", "--output", default="stimuli", help="folder for the images (default stimuli)")
    p.add_argument("--table", help="the table (.parquet, .csv, .dta); default OUTPUT/generated.parquet")
    p.add_argument("--overwrite", action="store_true", help="draw again images already in OUTPUT")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser(
        "bot", help="a Telegram bot: /imagine draws, photos get measured (token from $IMAGEVARS_TELEGRAM_TOKEN)"
    )
    p.add_argument("--allow", required=True, help="Telegram user ids to serve, comma-separated")
    p.add_argument("--queue", type=int, default=4, help="images that may wait for drawing (default 4)")
    p.add_argument("--output", default="imagevars-bot", help="folder for the images drawn (default imagevars-bot)")
    p.add_argument("--tasks", default="auto", help="tasks for photos, comma-separated (default: those installed)")
    p.add_argument("--no-draw", action="store_true", help="measure photos only; no text-to-image model")
    p.add_argument("--base-url", help="a self-hosted Bot API server, e.g. http://localhost:8081")
    _settings(p)
    p.set_defaults(func=cmd_bot)


__all__ = ["add_commands", "cmd_bot", "cmd_generate"]
