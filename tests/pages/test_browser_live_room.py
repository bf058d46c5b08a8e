"""The live room in headless Chromium against the real ASGI server (Channels' live server: HTTP and
the room's socket): a buyer on a phone chats and a second browser sees it; the buyer buys from a
flash offer (a double click is one order) until it sells out in front of a third browser."""

from __future__ import annotations

import pytest
from channels.testing import ChannelsLiveServerTestCase

from orders.models import Order
from tests.factories import (
    PASSWORD,
    ConsumerFactory,
    MerchantFactory,
    OfferFactory,
    ProductFactory,
    StreamFactory,
    VillageFactory,
)

from .conftest import axe_violations, screenshot, sign_in


@pytest.mark.slow
class LiveRoomInTheBrowser(ChannelsLiveServerTestCase):
    serve_static = True

    @classmethod
    def setUpClass(cls):
        # The server process names the test database from TEST.NAME (else "test_" + NAME, which under
        # pytest-django is already the test database's name): point it at the one in use.
        from django.conf import settings
        from django.db import connection

        settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = connection.settings_dict["NAME"]
        super().setUpClass()

    @pytest.fixture(autouse=True)
    def _browsers(self, browsers):
        self.browsers = browsers

    def test_chat_reaches_another_browser_and_a_flash_offer_sells_out_in_front_of_a_third(self):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait

        from livestream.models import Stream

        village = VillageFactory()
        shop = MerchantFactory(village=village)
        product = ProductFactory(merchant=shop, title="现摘草莓", stock=10)
        stream = StreamFactory(merchant=shop, title="草莓大棚直播", status=Stream.Status.LIVE)
        stream.products.add(product)
        offer = OfferFactory(stream=stream, product=product, quantity=1, price="19.90")
        buyer, watcher = ConsumerFactory(username="buyer-zhao"), ConsumerFactory(username="watcher-qian")
        url = f"{self.live_server_url}/live/{stream.pk}/"

        phone = self.browsers(base=self.live_server_url)
        sign_in(phone, buyer, PASSWORD)
        other = self.browsers(base=self.live_server_url)
        sign_in(other, watcher, PASSWORD)
        anonymous = self.browsers(base=self.live_server_url)
        for driver in (phone, other, anonymous):
            driver.get(url)
        wait = lambda d: WebDriverWait(d, 15)  # noqa: E731
        for driver in (phone, other, anonymous):
            wait(driver).until(lambda d: d.execute_script(
                "return document.querySelector('#offer-list .offer-left')?.textContent") == "1")

        phone.find_element(By.ID, "chat-text").send_keys("草莓甜不甜？")
        phone.find_element(By.CSS_SELECTOR, "#chat-form button").click()
        wait(other).until(lambda d: "草莓甜不甜？" in d.execute_script("return document.getElementById('chat').innerText"))

        buy = phone.find_element(By.CSS_SELECTOR, "#offer-list .buy")
        buy.click()  # no address yet: the page asks for one and opens the form, nothing is ordered
        wait(phone).until(lambda d: d.find_element(By.ID, "addr-recipient").is_displayed())
        assert not Order.objects.exists()
        phone.find_element(By.ID, "addr-recipient").send_keys("赵女士")
        phone.find_element(By.ID, "addr-phone").send_keys("13800138000")
        phone.find_element(By.ID, "addr-detail").send_keys("村口第三户")
        phone.execute_script("arguments[0].click(); arguments[0].click();", buy)  # a double click
        wait(phone).until(lambda d: d.execute_script(
            "return document.querySelector('#offer-list .offer-result').dataset.order || ''"))
        assert Order.objects.filter(buyer=buyer).count() == 1
        # Sold out, in front of the third browser, which never signed in.
        wait(anonymous).until(lambda d: "已抢光" in d.execute_script(
            "return document.getElementById('offer-list').innerText"))
        offer.refresh_from_db()
        assert offer.remaining == 0
        assert axe_violations(phone) == []
        screenshot(phone, "live-room")
        screenshot(anonymous, "live-room-sold-out")
