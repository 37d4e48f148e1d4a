"""A real headless Chromium for page tests (Debian's chromium and chromium-driver, driven by selenium).

Shared by the coding page's tests (validate) and the report page's: ``make test`` installs the
browser; a machine without it fails these tests with the command that installs it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


def chromium(downloads: Path):
    """A headless Chromium that saves downloads to ``downloads`` and keeps the console log."""
    import pytest
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    if not (CHROMIUM and DRIVER):
        pytest.fail(
            "page tests need Debian's chromium and chromium-driver: `make test` installs them "
            "(apt-get install chromium chromium-driver)"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--window-size=1200,900",
        "--disable-dev-shm-usage",
    ):
        options.add_argument(flag)
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    )
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(DRIVER), options=options)


def network_requests(driver) -> list[str]:
    """Every resource the page fetched that was not inside it (http, https, file)."""
    entries = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    return [e for e in entries if not e.startswith("data:")]


def console_errors(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
