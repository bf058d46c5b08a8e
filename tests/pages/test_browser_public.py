"""The public pages in Debian's headless Chromium on a 390x844 phone: home, Chinese search through
htmx, the product page, follow (a session and CSRF from the page itself), the trace page the QR opens;
each page checked by axe-core and saved as a screenshot (CUNBO_SCREENSHOTS_DIR, ci-output/pages)."""

from __future__ import annotations

import pytest

from merchants.models import Follow
from tests.factories import PASSWORD, ConsumerFactory

from .conftest import axe_violations, screenshot, sign_in

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_buyer_on_a_phone_finds_a_product_follows_its_shop_and_reads_its_trace_page(browser, catalogue):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    buyer = ConsumerFactory(username="buyer-wang")
    driver = browser()
    wait = WebDriverWait(driver, 10)
    driver.get(f"{driver.base}/")
    assert "正在直播" in driver.page_source and "西红柿采摘直播" in driver.page_source
    assert driver.execute_script("return typeof htmx") == "object"  # the app's own copy loaded
    assert axe_violations(driver) == []
    screenshot(driver, "home")

    box = driver.find_element(By.ID, "q")
    box.send_keys("蜂蜜", Keys.ENTER)  # keyboard only; htmx swaps the results in and pushes the URL
    results = "return document.getElementById('products').innerText"  # read at once: htmx swaps it
    wait.until(lambda d: "山里土蜂蜜" in d.execute_script(results) and "寿光有机西红柿" not in d.execute_script(results))
    assert "q=" in driver.current_url
    screenshot(driver, "search")

    sign_in(driver, buyer, PASSWORD)
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".who")))
    driver.get(f"{driver.base}/products/{catalogue['tomato'].pk}/")
    assert axe_violations(driver) == []
    driver.find_element(By.CSS_SELECTOR, "#follow button").click()
    wait.until(lambda d: "已关注" in d.execute_script("return document.getElementById('follow').innerText"))
    assert Follow.objects.filter(user=buyer).count() == 1
    screenshot(driver, "product")

    driver.find_element(By.PARTIAL_LINK_TEXT, "溯源").click()
    wait.until(ec.url_contains(f"/t/{catalogue['batch'].trace_code}/"))
    assert "潍坊市农产品质量检测中心" in driver.page_source
    assert axe_violations(driver) == []
    screenshot(driver, "trace")

    driver.find_element(By.CSS_SELECTOR, "form.lang button").click()  # the language switch
    wait.until(lambda d: "Where it grew" in d.page_source)
    assert axe_violations(driver) == []
    screenshot(driver, "trace-en")
