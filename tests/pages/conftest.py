"""The pages' fixtures: a catalogue to show, and (for the slow browser tests) Debian's headless
Chromium driven by Selenium in a phone-sized window, saving a screenshot of each page it checks."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from catalog.models import HarvestBatch
from catalog.services import product_search_index
from livestream.models import Stream
from tests.factories import ProductFactory, StreamFactory
from tests.merchants.factories import CredentialFactory, in_days

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "pages/static/pages/vendor/axe.min.js"
SCREENSHOTS = Path(os.environ.get("CUNBO_SCREENSHOTS_DIR", ROOT / "ci-output/pages"))
PHONE = (390, 844)


@pytest.fixture
def catalogue(shop):
    """A listed tomato with an organic certificate and a passed inspection, a live and a scheduled stream."""
    cert = CredentialFactory(merchant=shop, kind="organic_cert", number="124OP2600123", issuer="南京国环有机产品认证中心")
    tomato = ProductFactory(merchant=shop, title="寿光有机西红柿", description="大棚里自然熟的西红柿",
                            claims=["organic", "pesticide_tested"])
    honey = ProductFactory(merchant=shop, title="山里土蜂蜜", unit="瓶")
    for product in (tomato, honey):
        product_search_index(product_id=product.pk)
    batch = HarvestBatch.objects.create(
        product=tomato, harvested_at=in_days(-2), plot="三元朱村3号大棚", quantity="1200.50", unit="斤",
        inspection_agency="潍坊市农产品质量检测中心", inspected_at=in_days(-1),
        inspection_result=HarvestBatch.InspectionResult.PASS)
    live = StreamFactory(merchant=shop, title="西红柿采摘直播", status=Stream.Status.LIVE)
    upcoming = StreamFactory(merchant=shop, title="明早挖红薯")
    return {"tomato": tomato, "honey": honey, "batch": batch, "cert": cert, "live": live, "upcoming": upcoming}


@pytest.fixture(scope="session")
def _chromium():
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        pytest.skip("Debian's chromium and chromium-driver are installed by scripts/system-packages.sh")
    if not AXE.exists():
        pytest.skip("the pages' browser packages are installed by scripts/frontend.sh (npm)")


@pytest.fixture
def browser(browsers, live_server):
    """``browser()`` opens another headless Chromium on the live server (a phone by default)."""
    return lambda **kwargs: browsers(base=live_server.url, **kwargs)


@pytest.fixture
def browsers(_chromium):
    """``browsers(base=url)`` opens another headless Chromium; all are closed after the test."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opened = []

    def open_browser(*, base: str, size: tuple[int, int] = PHONE, language: str = "zh-CN"):
        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium")
        for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                    "--autoplay-policy=no-user-gesture-required", f"--window-size={size[0]},{size[1]}",
                    f"--lang={language}"):
            options.add_argument(arg)
        options.add_experimental_option("prefs", {"intl.accept_languages": language})
        driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
        driver.set_page_load_timeout(30)
        driver.base = base
        opened.append(driver)
        return driver

    yield open_browser
    for driver in opened:
        driver.quit()


def screenshot(driver, name: str) -> Path:
    """Save the whole page as SCREENSHOTS/<name>.png (CI keeps the folder)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    height = driver.execute_script("return document.documentElement.scrollHeight")
    width = driver.get_window_size()["width"]
    driver.set_window_size(width, min(max(height + 120, 600), 4000))
    driver.save_screenshot(str(path))
    driver.set_window_size(width, PHONE[1] if width == PHONE[0] else 900)
    return path


def axe_violations(driver) -> list[dict]:
    """The page's accessibility violations by axe-core (served by the app from npm), serious ones and worse:
    labels, contrast, names of buttons and links, the document's language."""
    driver.execute_script(AXE.read_text())
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: ['wcag2a', 'wcag2aa']}).then(r => done(JSON.stringify(r.violations)))"
        ".catch(e => done(JSON.stringify([{id: 'axe-error', help: String(e), nodes: []}])));")
    return [{"id": v["id"], "help": v["help"], "nodes": [n.get("target") for n in v["nodes"]][:5]}
            for v in json.loads(result) if v.get("impact") in ("serious", "critical", None)]


def sign_in(driver, user, password: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{driver.base}/sign-in/")
    driver.find_element(By.NAME, "username").send_keys(user.username)
    driver.find_element(By.NAME, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "main button[type=submit]").click()
