"""What the Telegram bot says: fixed replies and the short summary of a measured photo."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

CAPTION_LIMIT = 1024  # Telegram's limit on a photo caption, in characters
MESSAGE_LIMIT = 4096

HELP = (
    "I draw pictures and measure photos.\n"
    "/imagine <words> - an image of what you describe, with its seed (so it can be drawn again)\n"
    "Send a photo - its imagevars variables: objects, quality, CLIP scores (whichever are installed).\n"
    "I measure what is in a picture; I do not recognise or identify people."
)


def refused(user_id: int) -> str:
    return (
        f"Sorry, this bot only serves the people its owner listed. Your Telegram user id is {user_id}: "
        "ask the owner to add it with --allow."
    )


def empty_prompt() -> str:
    return "Tell me what to draw, e.g. /imagine Lithograph of a camel eating a pear"


def busy() -> str:
    return "You already have an image on the way: one at a time, please. I will send it as soon as it is ready."


def queue_full(size: int) -> str:
    return f"The queue is full ({size} images waiting). Please try again in a few minutes."


def queued(ahead: int) -> str:
    return "Drawing your image now ..." if ahead <= 0 else f"Queued: {ahead} image(s) ahead of yours."


def caption(row: dict[str, Any], max_tokens: int) -> str:
    """Caption of a generated image: seed and settings, enough to draw it again with ``imagevars generate``."""
    text = (
        f"seed {row['seed']} · {row['model']} · {row['steps']} steps · guidance {row['guidance']:g} · "
        f"{row['width']}x{row['height']} · {row['seconds']:.1f} s"
    )
    if row.get("prompt_truncated"):
        text += (
            f"\nYour prompt is {row['prompt_tokens']} tokens long; the model read only the first "
            f"{max_tokens}, so the end was ignored."
        )
    return text[:CAPTION_LIMIT]


def summary(row: dict[str, Any], clip_tasks: Sequence[Any] = ()) -> str:
    """A few lines from a measured photo's row: objects, person, quality, the top CLIP label per construct."""
    lines = []
    if "detect_n_objects" in row:
        top = [
            f"{row[f'detect_top{k}_label']} {row[f'detect_top{k}_score']:.2f}"
            for k in (1, 2, 3)
            if row.get(f"detect_top{k}_label")
        ]
        lines.append(f"Objects: {', '.join(top) if top else 'none found'} ({row['detect_n_objects']} in all)")
        lines.append(f"P(at least one person): {row['detect_person_any']:.2f}")
    if "quality_width" in row:
        lines.append(f"Size: {row['quality_width']}x{row['quality_height']} px")
        lines.append(
            f"Brightness {row['quality_brightness']:.2f} · contrast {row['quality_contrast']:.2f} · "
            f"colourfulness {row['quality_colorfulness']:.1f} · sharpness {row['quality_sharpness']:.0f}"
        )
    for task in clip_tasks:
        for construct, (names, is_prompt, _) in task.text.items():
            probs = {n: row.get(f"clip_prob_{construct}_{n}") for n, p in zip(names, is_prompt) if p}
            probs = {n: v for n, v in probs.items() if v is not None}
            if probs:
                best = max(probs, key=probs.get)
                lines.append(f"CLIP {construct}: {best} ({probs[best]:.2f})")
    return "\n".join(lines)[:MESSAGE_LIMIT] or "No variables: no measuring task is installed."


def flagged(seed: int) -> str:
    return f"The model's safety checker flagged this image (seed {seed}) and blacked it out. Try other words."


def not_an_image(reason: str) -> str:
    return f"I could not read that as an image ({reason}). Send a JPEG, PNG, WebP, GIF or TIFF."
