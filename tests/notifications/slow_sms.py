"""An SMS provider with latency, for the kill -9 test: each message takes a few milliseconds,
as a real gateway's would, so a kill lands in the middle of a batch being sent."""

import time

from notifications.sms import FileSmsSender


class SlowFileSmsSender(FileSmsSender):
    delay = 0.005

    def send_batch(self, messages):
        results = []
        for message in messages:
            results += super().send_batch([message])  # one line written (and fsynced) per message
            time.sleep(self.delay)
        return results
