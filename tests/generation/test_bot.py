"""The Telegram bot end to end, against a fake Bot API server on the loopback interface."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import re
import threading

import pytest

pytest.importorskip("telegram")
pytest.importorskip("diffusers")

from fake_telegram import TOKEN, FakeTelegram  # noqa: E402
from imagevars.generation import Generator, pixel_sha256, read_png_row  # noqa: E402
from imagevars.generation.bot import BotError, BotSettings, ImagineBot, token_from_env  # noqa: E402
from imagevars.testing import save_random_pipeline  # noqa: E402

pytestmark = pytest.mark.network
ALICE, BOB, CAROL, MALLORY = 111, 222, 333, 999


class Gated:
    """The real tiny generator, but each image waits until the test opens the gate."""

    def __init__(self, gen):
        self.gen, self.gate, self.started = gen, threading.Event(), threading.Event()
        self.gate.set()

    def __getattr__(self, name):
        return getattr(self.gen, name)

    def image(self, request):
        self.started.set()
        assert self.gate.wait(30), "the test never opened the gate"
        return self.gen.image(request)


class Flagging(Gated):
    """The real tiny generator, but its (imagined) safety checker flags every image."""

    def image(self, request):
        image, info = self.gen.image(request)
        return image.point(lambda _: 0), {**info, "nsfw": True}


@pytest.fixture(scope="module")
def generator(tmp_path_factory):
    return Generator(str(save_random_pipeline(tmp_path_factory.mktemp("tiny-sd"), "sd")), threads=2)


@pytest.fixture
def server():
    s = FakeTelegram()
    yield s
    s.close()


@contextlib.contextmanager
def serving(bot):
    """Run ``bot.serve`` in its own thread and event loop; stop it on exit and re-raise its errors."""
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    errors = []

    def main():
        try:
            loop.run_until_complete(bot.serve(stop))
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            errors.append(exc)

    t = threading.Thread(target=main, daemon=True)
    t.start()
    try:
        yield
    finally:
        loop.call_soon_threadsafe(stop.set)
        t.join(30)
        loop.close()
        if errors:
            raise errors[0]


def make_bot(server, generator, tmp_path, queue_size=4, tasks=None):
    from imagevars.tasks import get_task

    settings = BotSettings(
        allow=frozenset({ALICE, BOB, CAROL}),
        queue_size=queue_size,
        output=tmp_path / "drawn",
        steps=2,
        width=64,
        height=64,
        base_url=server.base_url,
        base_file_url=server.base_file_url,
        poll_timeout=1,
    )
    return ImagineBot(TOKEN, settings, generator, [get_task("quality")] if tasks is None else tasks)


def texts(server, chat):
    return [f.get("text") or f.get("caption") for _, f in server.replies(chat)]


def test_imagine_returns_the_image_and_its_seed_saved_with_its_row(server, generator, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    bot = make_bot(server, generator, tmp_path)
    with serving(bot):
        server.message(ALICE, "/imagine Lithograph of a camel eating a pear")
        replies = server.wait_for(2, ALICE)
    assert replies[0][0] == "sendMessage" and "Drawing your image now" in replies[0][1]["text"]
    method, fields = replies[1]
    assert method == "sendPhoto"
    seed = int(re.search(r"seed (\d+)", fields["caption"]).group(1))
    (png,) = (tmp_path / "drawn").glob("*.png")
    row = read_png_row(png)
    assert row["seed"] == seed and row["prompt"] == "Lithograph of a camel eating a pear"
    assert fields["photo"] == png.read_bytes()  # the file sent is the file saved
    assert pixel_sha256(png) == row["sha256"]
    assert TOKEN not in caplog.text  # the token never reaches a log line, even at DEBUG


def test_users_not_on_the_allow_list_are_refused_and_logged(server, generator, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    bot = make_bot(server, generator, tmp_path)
    with serving(bot):
        server.message(MALLORY, "/imagine a camel")
        server.photo(MALLORY, b"whatever")
        server.wait_for(2, MALLORY)
    assert all("only serves the people its owner listed" in t and str(MALLORY) in t for t in texts(server, MALLORY))
    assert f"refused user {MALLORY}" in caplog.text
    assert not (tmp_path / "drawn").exists() and not any(m == "sendPhoto" for m, _ in server.calls)
    assert not any(m == "getFile" for m, _ in server.calls)  # the stranger's photo is not even fetched


def test_one_image_at_a_time_per_user_and_a_bounded_queue(server, generator, tmp_path):
    gated = Gated(generator)
    gated.gate.clear()
    bot = make_bot(server, gated, tmp_path, queue_size=1)
    with serving(bot):
        server.message(ALICE, "/imagine a red apple")
        server.wait_for(1, ALICE)
        assert gated.started.wait(30)  # Alice's image is being drawn (held at the gate)
        server.message(ALICE, "/imagine a green apple")
        assert "one at a time" in server.wait_for(2, ALICE)[1][1]["text"]
        server.message(BOB, "/imagine a pear")
        assert "1 image(s) ahead of yours" in server.wait_for(1, BOB)[0][1]["text"]
        server.message(CAROL, "/imagine a plum")
        assert "queue is full (1 images waiting)" in server.wait_for(1, CAROL)[0][1]["text"]
        gated.gate.set()
        assert server.wait_for(3, ALICE)[2][0] == "sendPhoto"
        assert server.wait_for(2, BOB)[1][0] == "sendPhoto"
        server.message(ALICE, "/imagine a green apple")  # done: Alice may ask again
        assert server.wait_for(5, ALICE)[4][0] == "sendPhoto"
    assert [m for m, _ in server.replies()].count("sendPhoto") == 3 and len(server.replies(CAROL)) == 1


def test_a_malformed_update_is_skipped_and_the_next_one_served(server, generator, tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    bot = make_bot(server, generator, tmp_path)
    with serving(bot):
        server.push({"update_id": 50, "message": {"message_id": 1}})  # no date, no chat: unparseable
        server.push({"update_id": 51, "message": {"text": 5}})
        server.message(ALICE, "/help")
        assert "I draw pictures and measure photos" in server.wait_for(1, ALICE)[0][1]["text"]
        server.message(ALICE, "/imagine")  # a command without its words
        assert "Tell me what to draw" in server.wait_for(2, ALICE)[1][1]["text"]
    assert "skipped a malformed update 50" in caplog.text and "skipped a malformed update 51" in caplog.text
    offsets = [int(f["offset"]) for m, f in server.calls if m == "getUpdates" and f.get("offset")]
    assert max(offsets) > 52  # acknowledged: not fetched again and again


def test_an_image_the_safety_checker_flags_is_not_sent(server, generator, tmp_path):
    bot = make_bot(server, Flagging(generator), tmp_path)
    with serving(bot):
        server.message(ALICE, "/imagine a camel")
        method, fields = server.wait_for(2, ALICE)[1]
    assert method == "sendMessage" and "safety checker flagged this image" in fields["text"]
    (png,) = (tmp_path / "drawn").glob("*.png")  # kept, with its row saying so
    assert read_png_row(png)["nsfw"] is True and "safety checker" in read_png_row(png)["error"]


def test_a_very_long_prompt_is_drawn_from_its_first_77_tokens(server, generator, tmp_path):
    bot = make_bot(server, generator, tmp_path)
    with serving(bot):
        server.message(ALICE, "/imagine " + "an extremely detailed oil painting of a camel " * 40)
        method, fields = server.wait_for(2, ALICE)[1]
    assert method == "sendPhoto" and "the model read only the first 77" in fields["caption"]
    assert len(fields["caption"]) <= 1024


def test_photos_are_measured_and_a_file_that_is_not_an_image_is_answered(server, generator, tmp_path):
    import numpy as np
    from PIL import Image
    from skimage import data

    from imagevars.tasks import get_task

    pytest.importorskip("onnxruntime")
    buf = io.BytesIO()
    Image.fromarray(data.astronaut()).save(buf, "JPEG")
    bot = make_bot(server, generator, tmp_path, tasks=[get_task("quality"), get_task("detect")])
    with serving(bot):
        server.photo(ALICE, buf.getvalue())
        server.photo(ALICE, b"this is a text file, not a picture", as_document=True)
        replies = server.wait_for(2, ALICE)
    measured, refused = replies[0][1]["text"], replies[1][1]["text"]
    assert "Size: 512x512 px" in measured
    assert re.search(r"Objects: person 0\.\d\d", measured) and "P(at least one person)" in measured
    brightness = float(re.search(r"Brightness ([\d.]+)", measured).group(1))
    assert abs(brightness - np.asarray(Image.open(buf).convert("L"), float).mean() / 255) < 0.02
    assert "could not read that as an image" in refused


def test_token_comes_from_the_environment_and_bad_tokens_fail_at_start(server, generator, tmp_path, monkeypatch):
    monkeypatch.delenv("IMAGEVARS_TELEGRAM_TOKEN", raising=False)
    with pytest.raises(BotError, match="set IMAGEVARS_TELEGRAM_TOKEN"):
        token_from_env()
    monkeypatch.setenv("IMAGEVARS_TELEGRAM_TOKEN", "not-a-token")
    with pytest.raises(BotError, match="does not look like a bot token"):
        token_from_env()
    monkeypatch.setenv("IMAGEVARS_TELEGRAM_TOKEN", TOKEN)
    assert token_from_env() == TOKEN
    server.revoked.add(TOKEN)
    bot = make_bot(server, generator, tmp_path)
    with pytest.raises(BotError, match="wrong or was revoked"):
        with serving(bot):
            pass
    with pytest.raises(BotError, match="no user is allowed"):
        BotSettings(allow=frozenset())
    settings = BotSettings(allow=frozenset({ALICE}), width=500, base_url=server.base_url)
    with pytest.raises(ValueError, match="width 500 is not divisible by 8"):
        ImagineBot(TOKEN, settings, generator)


def test_cli_bot_has_no_token_option_and_needs_the_environment(monkeypatch, capsys):
    from imagevars.cli import build_parser, main

    monkeypatch.delenv("IMAGEVARS_TELEGRAM_TOKEN", raising=False)
    assert main(["bot", "--allow", "12345", "--no-draw"]) == 2
    assert "set IMAGEVARS_TELEGRAM_TOKEN" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        build_parser().parse_args(["bot", "--allow", "1", "--token", TOKEN])


def test_the_token_is_scrubbed_from_chained_and_percent_encoded_log_text(caplog):
    from urllib.parse import quote

    from imagevars.generation.bot import scrub_from_logs

    scrub_from_logs(TOKEN)
    log = logging.getLogger("imagevars.test.scrub")
    with caplog.at_level(logging.INFO, logger="imagevars.test.scrub"):
        log.info("GET https://api.telegram.org/bot%s/getMe", quote(TOKEN, safe=""))
        try:
            try:
                raise ValueError(f"POST /bot{TOKEN}/sendPhoto failed")
            except ValueError as inner:
                raise RuntimeError("sending failed") from inner  # the token is only in the cause
        except RuntimeError:
            log.exception("while answering")
    text = caplog.text
    assert TOKEN not in text and quote(TOKEN, safe="") not in text and quote(TOKEN) not in text
    assert "<token>" in text and "traceback withheld: it held the bot token" in text


def test_refusals_to_a_stranger_are_logged_once_a_minute(server, generator, tmp_path, monkeypatch, caplog):
    from types import SimpleNamespace

    import imagevars.generation.bot as bot_module

    bot = make_bot(server, generator, tmp_path)
    clock = [1000.0]
    monkeypatch.setattr("time.monotonic", lambda: clock[0])
    mallory = SimpleNamespace(id=MALLORY, username="mallory")
    with caplog.at_level(logging.WARNING, logger=bot_module.log.name):
        for _ in range(50):
            bot._log_refusal(mallory)
        clock[0] += 61
        bot._log_refusal(mallory)
    lines = [r.getMessage() for r in caplog.records if "refused user" in r.getMessage()]
    assert lines == [
        f"refused user {MALLORY} (@mallory)",
        f"refused user {MALLORY} (@mallory) (and 49 more since the last line)",
    ]


def test_telegram_unreachable_at_start_is_one_clear_error(generator, tmp_path):
    from sockets import unused_port

    port = unused_port()  # nobody listens there
    settings = BotSettings(
        allow=frozenset({ALICE}),
        output=tmp_path / "drawn",
        steps=2,
        width=64,
        height=64,
        base_url=f"http://127.0.0.1:{port}/bot",
        base_file_url=f"http://127.0.0.1:{port}/file/bot",
        poll_timeout=1,
    )
    bot = ImagineBot(TOKEN, settings, generator)
    with pytest.raises(BotError, match=rf"cannot reach Telegram at http://127.0.0.1:{port} .*check the connection"):
        with serving(bot):
            pass
