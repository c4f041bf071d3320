"""A real headless Chromium (Debian's chromium + chromium-driver) for the browser tests.

No browser is downloaded: Selenium is pointed at the system's chromedriver, so Selenium Manager
never runs. Without the packages the tests are skipped with the command that installs them,
except where PERCHA_REQUIRE_BROWSER=1 (CI sets it) turns the skip into a failure.
"""

from __future__ import annotations

import base64
import os
import tempfile
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("CHROMIUM_BINARY", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
SCREENSHOTS_DIR = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
MAX_SCREENSHOT_HEIGHT = 1600


def require_chromium() -> None:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if not missing:
        return
    reason = f"{', '.join(missing)} missing: apt-get install chromium chromium-driver"
    if os.environ.get("PERCHA_REQUIRE_BROWSER") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def start_chromium(width: int = 1280, height: int = 900, language: str = "es"):
    """A headless Chromium session; the caller quits it."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--window-size={width},{height}",
        f"--lang={language}",
        "--hide-scrollbars",
    ):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"intl.accept_languages": language})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=str(CHROMEDRIVER), log_output=os.devnull)
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_script_timeout(120)
    driver.set_page_load_timeout(60)
    return driver


def browser_errors(driver) -> list[str]:
    """The page's console errors so far (a failing test shows them)."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def save_screenshot(driver, name: str) -> Path:
    """A PNG of the page, taken by the browser tests themselves: into docs/screenshots/ (the
    README's) with PERCHA_SCREENSHOTS=1 (`make screenshots`), else into a temporary folder, so
    that a test run leaves the committed pictures alone."""
    folder = (
        SCREENSHOTS_DIR
        if os.environ.get("PERCHA_SCREENSHOTS") == "1"
        else Path(tempfile.gettempdir()) / "percha-screenshots"
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    # the whole page (up to MAX_SCREENSHOT_HEIGHT), not only the window: a result below the fold
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    clip = {
        "x": 0,
        "y": 0,
        "width": size["width"],
        "height": min(size["height"], MAX_SCREENSHOT_HEIGHT),
        "scale": 1,
    }
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
    )
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


LOAD_RUNTIME = """
const [base, done] = arguments;
function add(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = base + src;
    script.onload = resolve;
    script.onerror = () => reject(new Error("could not load " + src));
    document.head.appendChild(script);
  });
}
(async () => {
  if (!window.tf) await add("vendor/tf.min.js");
  if (!window.tf.wasm) await add("vendor/tf-backend-wasm.min.js");
  if (!window.cv) await add("vendor/opencv.js");
  const { openCvReady } = await import(base + "js/classifier/runtime.js");  // the pages' own wait
  await openCvReady();
  done("ok");
})().catch((error) => done("error: " + error.message));
"""


def load_runtime(driver, static_url: str) -> None:
    """Put TensorFlow.js and OpenCV.js (as ``tf`` and ``cv``) into the page now open.

    ES modules of the project are then reachable with ``await import(static_url + "js/…")``.
    """
    result = driver.execute_async_script(LOAD_RUNTIME, static_url)
    assert result == "ok", f"{result}; console: {browser_errors(driver)}"
