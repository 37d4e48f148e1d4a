"""A Telegram bot in front of imagevars: ``/imagine <prompt>`` draws, a photo sent gets measured.

    IMAGEVARS_TELEGRAM_TOKEN=... imagevars bot --allow 12345,67890

Rules:
- Only allow-listed Telegram user ids are served; anyone else gets a refusal (with their id, so
  the owner can add them) and is logged.
- One image at a time per user; images wait in one queue of bounded length, and a user who
  finds it full is told so. Drawing runs in a worker thread, so the bot keeps answering.
- Each image is saved with its row (prompt, seed, model, settings, pixel sha256) in the PNG's
  metadata under ``--output``, and its caption gives the seed to draw it again.
- The token comes from ``$IMAGEVARS_TELEGRAM_TOKEN`` only (never the command line, which other
  users of the machine can see) and is scrubbed from every log line. A missing, malformed,
  wrong or revoked token is a clear error at start.
- An update the Bot API library cannot parse is logged and skipped, instead of being fetched
  again and again (python-telegram-bot would otherwise retry the same batch forever).

The bot measures what is in a photo; it does not recognise or identify people.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import bot_replies as say

TOKEN_ENV = "IMAGEVARS_TELEGRAM_TOKEN"
MAX_PHOTO_BYTES = 20 * 1024 * 1024  # the Bot API's download limit
_TOKEN = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{20,}$")
log = logging.getLogger("imagevars.bot")


class BotError(RuntimeError):
    pass


def token_from_env() -> str:
    """The bot token from ``$IMAGEVARS_TELEGRAM_TOKEN``, or a BotError that says how to set it.

    Example:
        >>> import os; os.environ["IMAGEVARS_TELEGRAM_TOKEN"] = "123456:" + "A" * 30
        >>> token_from_env()[:7]
        '123456:'
    """
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise BotError(f"no bot token: set {TOKEN_ENV} to the token @BotFather gave you (it is read from the "
                       "environment only, never from the command line)")
    if not _TOKEN.match(token):
        raise BotError(f"{TOKEN_ENV} does not look like a bot token (digits, a colon, then 20+ letters, digits, "
                       "'-' or '_'): copy it again from @BotFather")
    return token


@dataclass
class BotSettings:
    """Who the bot serves and how it draws; settings left as None take the model's defaults.

    Example:
        >>> BotSettings(allow=frozenset({12345}), queue_size=2).queue_size
        2
    """

    allow: frozenset[int]  # Telegram user ids served
    queue_size: int = 4  # images that may wait (besides the one being drawn)
    output: Path = Path("imagevars-bot")  # generated PNGs, each with its row in its metadata
    steps: int | None = None  # None: the model's defaults
    guidance: float | None = None
    width: int | None = None
    height: int | None = None
    base_url: str = "https://api.telegram.org/bot"  # a local Bot API server (or a test's fake) goes here
    base_file_url: str = "https://api.telegram.org/file/bot"
    poll_timeout: float = 10.0  # seconds of long polling per getUpdates

    def __post_init__(self):
        if not self.allow:
            raise BotError("no user is allowed: pass --allow with the Telegram user ids to serve "
                           "(a user learns theirs by writing to the bot)")
        if self.queue_size < 1:
            raise ValueError(f"queue_size must be at least 1, got {self.queue_size}")


@dataclass
class _Job:
    user: int
    chat: int
    prompt: str


class ImagineBot:
    """The bot: python-telegram-bot's Application with imagevars behind it.

    ``generator`` (a :class:`~imagevars.generation.Generator`) draws; None turns ``/imagine`` off.
    ``tasks`` (loaded imagevars tasks) measure photos.

    Example:
        >>> bot = ImagineBot(token_from_env(), BotSettings(allow=frozenset({12345})), Generator())  # doctest: +SKIP
        >>> bot.run()  # doctest: +SKIP
    """

    def __init__(self, token: str, settings: BotSettings, generator=None, tasks: Sequence[Any] = ()):
        from .._extras import require

        require("telegram", "the Telegram bot")
        scrub_from_logs(token)  # first: python-telegram-bot logs its URLs, token included, at DEBUG
        if generator is not None:  # bad settings (a width not divisible by 8 ...) fail at start, not per image
            from ..models.diffusion import Request

            generator.check(Request("settings check", steps=settings.steps, guidance=settings.guidance,
                                    width=settings.width, height=settings.height))
        self.token, self.settings, self.generator, self.tasks = token, settings, generator, list(tasks)
        self.busy: set[int] = set()  # users with an image queued or being drawn (one each)
        self.refusals: dict[int, tuple[float, int]] = {}  # stranger -> (last logged, refused since)
        self.queue: asyncio.Queue[_Job] | None = None
        self.app = self._build()

    # ---- lifecycle -------------------------------------------------------------------------
    def _build(self):
        from telegram.ext import Application, CommandHandler, MessageHandler, filters

        s = self.settings
        app = (Application.builder().token(self.token).base_url(s.base_url).base_file_url(s.base_file_url)
               .get_updates_request(_updates_request(read_timeout=s.poll_timeout + 5)).build())
        app.add_handler(CommandHandler(["start", "help"], self._help))
        app.add_handler(CommandHandler("imagine", self._imagine))
        app.add_handler(MessageHandler(filters.PHOTO | filters.Document.ALL, self._photo))
        app.add_handler(MessageHandler(filters.ALL, self._other))
        app.add_error_handler(self._on_error)
        return app

    async def serve(self, stop: asyncio.Event | None = None) -> None:
        """Poll Telegram until ``stop`` is set (or the task is cancelled); the token is checked first."""
        from telegram.error import InvalidToken, NetworkError

        logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request: noise (and scrubbed anyway)
        self.queue = asyncio.Queue(self.settings.queue_size)
        try:
            try:
                await self.app.initialize()  # calls getMe: a wrong or revoked token fails here
            except InvalidToken as exc:
                raise BotError(f"Telegram refused the token in {TOKEN_ENV} ({exc.message}): it is wrong or was "
                               "revoked; get a new one from @BotFather") from None
            except NetworkError as exc:
                where = self.settings.base_url.rsplit("/bot", 1)[0]
                raise BotError(f"cannot reach Telegram at {where} ({exc.message}): check the connection "
                               "(or --base-url) and start the bot again") from None
            me = self.app.bot
            log.info("serving as @%s; allowed users: %s", me.username, sorted(self.settings.allow))
            await self.app.start()
            await self.app.updater.start_polling(poll_interval=0.0, timeout=int(self.settings.poll_timeout))
            worker = asyncio.create_task(self._worker())
            try:
                await (stop.wait() if stop is not None else asyncio.Event().wait())
            finally:
                worker.cancel()
                await self.app.updater.stop()
                await self.app.stop()
        finally:
            await self.app.shutdown()

    def run(self) -> None:
        """Serve until Ctrl-C."""
        try:
            asyncio.run(self.serve())
        except KeyboardInterrupt:
            log.info("stopped")

    # ---- handlers --------------------------------------------------------------------------
    async def _allowed(self, update) -> bool:
        user = update.effective_user
        if user is None:  # a channel post or another update without a sender: nothing to answer
            log.info("ignored an update without a user (update %s)", update.update_id)
            return False
        if user.id in self.settings.allow:
            return True
        self._log_refusal(user)
        if update.effective_chat is not None:
            await update.effective_chat.send_message(say.refused(user.id))
        return False

    def _log_refusal(self, user, every_s: float = 60.0) -> None:
        """A stranger's refusals are logged once a minute at most, with how many were not logged between."""
        import time

        now = time.monotonic()
        last, quiet = self.refusals.get(user.id, (-every_s, 0))
        if now - last < every_s:
            self.refusals[user.id] = (last, quiet + 1)
            return
        more = f" (and {quiet} more since the last line)" if quiet else ""
        log.warning("refused user %s (@%s)%s", user.id, user.username or "-", more)
        self.refusals[user.id] = (now, 0)

    async def _help(self, update, context) -> None:
        if await self._allowed(update):
            await update.effective_chat.send_message(say.HELP)

    async def _imagine(self, update, context) -> None:
        if not await self._allowed(update):
            return
        user, chat = update.effective_user.id, update.effective_chat
        if self.generator is None:
            await chat.send_message("Drawing is switched off on this bot; send a photo to have it measured.")
            return
        parts = (update.effective_message.text or "").split(maxsplit=1)  # "/imagine", "the words ..."
        prompt = parts[1].strip() if len(parts) > 1 else ""
        if not prompt:
            await chat.send_message(say.empty_prompt())
            return
        if user in self.busy:
            await chat.send_message(say.busy())
            return
        try:
            self.queue.put_nowait(_Job(user, chat.id, prompt))
        except asyncio.QueueFull:
            log.info("queue full; turned away user %s", user)
            await chat.send_message(say.queue_full(self.settings.queue_size))
            return
        ahead = len(self.busy)  # every other busy user has one image queued or being drawn
        self.busy.add(user)
        await chat.send_message(say.queued(ahead))

    async def _worker(self) -> None:
        """Draw queued images one after another, each in a thread so the bot keeps answering."""
        from ..models.diffusion import SEED_MAX, Request
        from .session import draw_to

        s, gen = self.settings, self.generator
        while True:
            job = await self.queue.get()
            try:
                request = Request(job.prompt, seed=secrets.randbelow(SEED_MAX + 1), steps=s.steps,
                                  guidance=s.guidance, width=s.width, height=s.height)
                try:
                    request = gen.check(request)
                except ValueError as exc:
                    await self.app.bot.send_message(job.chat, f"I cannot draw that: {exc}")
                    continue
                path, row = await asyncio.to_thread(draw_to, gen, request, s.output)
                if row.get("error") and not path.is_file():
                    await self.app.bot.send_message(job.chat, f"Sorry, drawing failed: {row['error']}")
                    continue
                if row.get("nsfw"):  # the pipeline blacked the image out: say so instead of sending it
                    await self.app.bot.send_message(job.chat, say.flagged(row["seed"]))
                    continue
                with open(path, "rb") as f:
                    await self.app.bot.send_photo(job.chat, f, caption=say.caption(row, gen.max_tokens))
                log.info("drew %s for user %s (seed %s)", path.name, job.user, request.seed)
            except asyncio.CancelledError:
                raise
            except Exception:  # one failed image must not stop the worker
                log.exception("drawing for user %s failed", job.user)
                await self.app.bot.send_message(job.chat, "Sorry, something went wrong while drawing. Try again.")
            finally:
                self.busy.discard(job.user)
                self.queue.task_done()

    async def _photo(self, update, context) -> None:
        from ..io.decode import DecodeError
        from ..pipeline.runner import measure_image

        if not await self._allowed(update):
            return
        msg, chat = update.effective_message, update.effective_chat
        media = msg.photo[-1] if msg.photo else msg.document  # the largest size Telegram made
        if media.file_size and media.file_size > MAX_PHOTO_BYTES:
            await chat.send_message(f"That file is {media.file_size / 1e6:.0f} MB; send one under 20 MB.")
            return
        name = getattr(media, "file_name", None) or "photo.jpg"
        data = bytes(await (await context.bot.get_file(media.file_id)).download_as_bytearray())
        try:
            row = await asyncio.to_thread(measure_image, self.tasks, data, name)
        except DecodeError as exc:
            await chat.send_message(say.not_an_image(str(exc).removeprefix(f"{name}: ")))
            return
        clip = [t for t in self.tasks if getattr(t, "name", "") == "clip"]
        await chat.send_message(say.summary(row, clip))

    async def _other(self, update, context) -> None:
        if await self._allowed(update) and update.effective_chat is not None:
            await update.effective_chat.send_message(say.HELP)

    async def _on_error(self, update, context) -> None:
        log.error("error while handling an update: %s", context.error, exc_info=context.error)
        chat = getattr(update, "effective_chat", None)
        if chat is not None:
            await chat.send_message("Sorry, something went wrong on my side. Try again.")


_SCRUBBED: set[str] = set()


def scrub_from_logs(token: str) -> None:
    """From now on, every log record of this process shows ``<token>`` where ``token`` was.

    Done where records are made (the record factory), so it holds for every logger and for
    handlers added later. A traceback whose exception text holds the token is withheld.

    Example:
        >>> import logging
        >>> token = "123456:SECRET-abcdefghijklmnopqrst"
        >>> scrub_from_logs(token)
        >>> make = logging.getLogRecordFactory()
        >>> make("x", logging.INFO, "f.py", 1, "POST /bot%s/getMe", (token,), None).getMessage()
        'POST /bot<token>/getMe'
    """
    if token in _SCRUBBED:
        return
    _SCRUBBED.add(token)
    from urllib.parse import quote

    forms = sorted({token, quote(token), quote(token, safe="")}, key=len, reverse=True)  # as URLs write it too
    make = logging.getLogRecordFactory()

    def holds(text: str) -> bool:
        return any(f in text for f in forms)

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = make(*args, **kwargs)
        message = record.getMessage()
        if holds(message):
            for f in forms:
                message = message.replace(f, "<token>")
            record.msg, record.args = message, None
        if record.exc_info and record.exc_info[1] is not None and any(holds(t) for t in _chain_texts(record.exc_info[1])):
            record.exc_info = None
            record.msg = f"{record.msg} (traceback withheld: it held the bot token)"
        return record

    logging.setLogRecordFactory(factory)


def _chain_texts(exc: BaseException) -> list[str]:
    """The texts of an exception and of every exception it was raised from or while handling."""
    texts, seen = [], set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        texts += [str(exc), repr(exc.args)]
        exc = exc.__cause__ or exc.__context__
    return texts


def _updates_request(**options):
    """The getUpdates connection (built on first use: python-telegram-bot is optional)."""
    from telegram import Update
    from telegram.request import HTTPXRequest

    class SkipMalformed(HTTPXRequest):
        """getUpdates answers with each unparseable update replaced by its bare id (logged), so
        the offset moves past it and the updates after it are still served."""

        async def post(self, url, request_data=None, *args, **kwargs):
            result = await super().post(url, request_data, *args, **kwargs)
            if not url.endswith("/getUpdates") or not isinstance(result, list):
                return result
            clean = []
            for raw in result:
                try:
                    Update.de_json(raw, None)
                    clean.append(raw)
                except Exception as exc:  # noqa: BLE001 - whatever the parser choked on
                    uid = raw.get("update_id") if isinstance(raw, dict) else None
                    log.warning("skipped a malformed update %s (%s: %s)", uid, type(exc).__name__, exc)
                    if isinstance(uid, int):
                        clean.append({"update_id": uid})
            return clean

    return SkipMalformed(**options)
