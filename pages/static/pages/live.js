// The live room (pages/templates/pages/live.html): HLS through hls.js, the room's socket
// (docs/live-room.md: snapshot on join, chat, viewers, pins, offers, sales), the buy button through
// the API's checkout with an Idempotency-Key. On a poor network the socket reconnects with back-off
// (1 s doubling to 30 s, with jitter) and the snapshot on each join resynchronises the room.
(function () {
  "use strict";
  const room = JSON.parse(document.getElementById("room").textContent);
  const texts = document.getElementById("texts").dataset;
  const $ = (id) => document.getElementById(id);
  const offers = new Map(); // offer id -> {data, node}
  let socket = null, attempt = 0, closedForGood = false, resync = null;

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }

  // --- video -------------------------------------------------------------------------------
  function play() {
    const video = $("player");
    if (!video || room.status !== "live") return;
    $("player-box").hidden = false;
    // hls.js wherever Media Source Extensions exist (its retries suit a poor network); the browser's
    // own HLS (iOS Safari) only where they do not.
    if (!(window.Hls && window.Hls.isSupported())) {
      if (video.canPlayType("application/vnd.apple.mpegurl")) video.src = room.playback;
      return;
    }
    {
      const hls = new window.Hls({ liveSyncDurationCount: 3, manifestLoadingMaxRetry: 20 });
      window.cunboHlsErrors = [];
      hls.on(window.Hls.Events.MANIFEST_PARSED, () => video.play().catch(() => {}));
      hls.on(window.Hls.Events.ERROR, (_e, data) => {
        window.cunboHlsErrors.push(data.details);
        // The playlist appears a few seconds after the stream goes live, and a phone loses the
        // network: try again rather than give up.
        if (data.fatal && data.type === window.Hls.ErrorTypes.NETWORK_ERROR) {
          setTimeout(() => hls.loadSource(room.playback), 2000);
        } else if (data.fatal) hls.recoverMediaError();
      });
      hls.loadSource(room.playback);
      hls.attachMedia(video);
      window.cunboHls = hls;
    }
  }

  function setStatus(status) {
    room.status = status;
    $("room").dataset.status = status;
    if (status === "live" && !window.cunboHls) { $("status").textContent = texts.live; play(); }
    if (status === "ended" || status === "cancelled") {
      $("status").textContent = texts.ended;
      $("player-box").hidden = true;
      $("ended").hidden = false;
      if (window.cunboHls) window.cunboHls.destroy();
      for (const id of [...offers.keys()]) offerEnd(id);
      const form = $("chat-form");
      if (form) form.hidden = true;
    }
  }

  // --- chat --------------------------------------------------------------------------------
  function chatLine(m) {
    if (document.querySelector(`#chat [data-id="${m.id}"]`)) return;
    const li = el("li");
    li.dataset.id = m.id;
    li.append(el("strong", m.user.name + (m.user.host ? " ★" : "")), document.createTextNode(" " + m.text));
    $("chat").append(li);
    while ($("chat").children.length > 100) $("chat").firstChild.remove();
    li.scrollIntoView({ block: "nearest" });
  }

  // --- selling -----------------------------------------------------------------------------
  function pinned(p) {
    if (!p || !p.product) { $("pinned").hidden = true; return; }
    $("pinned").hidden = false;
    $("pinned-link").textContent = p.title;
    $("pinned-link").href = `/products/${p.product}/`;
    $("pinned-price").textContent = `¥${p.price} / ${p.unit}`;
  }

  function offerShow(o) {
    let entry = offers.get(o.offer);
    if (!entry) {
      const node = $("offer-template").content.firstElementChild.cloneNode(true);
      node.dataset.offer = o.offer;
      node.querySelector(".buy").addEventListener("click", () => buy(o.offer, node));
      $("offer-list").append(node);
      entry = { data: o, node };
      offers.set(o.offer, entry);
    }
    Object.assign(entry.data, o);
    const node = entry.node, d = entry.data;
    node.querySelector(".offer-title").textContent = d.title;
    node.querySelector(".offer-price").textContent = `¥${d.price}`;
    node.querySelector(".offer-left").textContent = d.remaining;
    node.querySelector(".buy").disabled = !room.buyer || d.remaining <= 0;
    if (d.remaining <= 0) node.querySelector(".offer-result").textContent = texts.soldOut;
    $("offers-title").hidden = false;
  }

  function offerEnd(id, reason) {
    const entry = offers.get(id);
    if (!entry) return;
    entry.data.ended = true;
    entry.node.querySelector(".buy").disabled = true;
    entry.node.querySelector(".offer-left").textContent = "0";
    entry.node.querySelector(".offer-result").textContent = reason === "sold_out" ? texts.soldOut : texts.endedOffer;
    entry.node.classList.add("over");
  }

  function tick() {
    const now = Date.now();
    for (const { data, node } of offers.values()) {
      if (data.ended) continue;
      const left = Math.max(0, Math.round((Date.parse(data.ends_at) - now) / 1000));
      node.querySelector(".offer-countdown").textContent =
        `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
    }
  }

  function address() {
    const v = (id) => ($(id) ? $(id).value.trim() : "");
    const a = { village: Number(v("addr-village")), recipient: v("addr-recipient"), phone: v("addr-phone"),
                detail: v("addr-detail") };
    if (!a.village || !a.recipient || !a.phone || !a.detail) return null;
    localStorage.setItem("cunbo.address", JSON.stringify(a));
    return a;
  }

  function restoreAddress() {
    try {
      const a = JSON.parse(localStorage.getItem("cunbo.address") || "null");
      if (!a) return;
      for (const [key, id] of [["village", "addr-village"], ["recipient", "addr-recipient"],
                               ["phone", "addr-phone"], ["detail", "addr-detail"]]) {
        if ($(id) && a[key]) $(id).value = a[key];
      }
    } catch (_e) { /* a bad saved address is just not restored */ }
  }

  // One Idempotency-Key per press of the button, kept while the request is in flight: a double
  // click, or a retry after a dropped answer, is the same order (core/idempotency.py).
  async function buy(offerId, node) {
    const button = node.querySelector(".buy"), result = node.querySelector(".offer-result");
    const a = address();
    if (!a) {
      result.textContent = texts.address;
      if ($("address")) { $("address").open = true; $("addr-recipient").focus(); }
      return;
    }
    if (button.dataset.key) return; // already on its way
    const key = button.dataset.key = crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random();
    button.disabled = true;
    const offer = offers.get(offerId).data;
    const body = JSON.stringify({ items: [{ product: offer.product, quantity: 1, offer: offerId }],
                                  address: a, stream: room.stream });
    try {
      let response;
      for (let tries = 0; tries < 3; tries++) {
        try {
          response = await fetch("/api/orders/", { method: "POST", body, headers: {
            "Content-Type": "application/json", "Authorization": `Bearer ${room.token}`,
            "Idempotency-Key": key, "Accept-Language": document.documentElement.lang } });
          if (response.status !== 409 || !response.headers.get("Retry-After")) break;
        } catch (_e) { response = null; }
        await new Promise((r) => setTimeout(r, 800 * (tries + 1)));
      }
      if (!response) { result.textContent = texts.failed; return; }
      const answer = await response.json();
      if (response.ok) {
        result.textContent = texts.ordered;
        result.dataset.order = answer.id;
      } else {
        result.textContent = (answer.error && answer.error.message) || texts.failed;
      }
    } finally {
      delete button.dataset.key;
      button.disabled = offer.ended || offer.remaining <= 0;
    }
  }

  function sale(s) {
    const li = el("li", `${s.buyer} ${texts.sold} ×${s.quantity}`);
    $("ticker").prepend(li);
    while ($("ticker").children.length > 8) $("ticker").lastChild.remove();
  }

  // --- the socket --------------------------------------------------------------------------
  const HANDLERS = {
    // The first frame of every join's snapshot: what follows is the room as it is now, so an offer
    // or a pin that ended while the socket was away is cleared (resync after a reconnect).
    "stream.status": (m) => {
      const shown = new Set();
      resync = shown;
      pinned(null);
      setStatus(m.status);
      setTimeout(() => {
        if (resync !== shown) return;
        for (const id of offers.keys()) if (!shown.has(id)) offerEnd(id);
        resync = null;
      }, 1500);
    },
    "stream.viewers": (m) => { $("viewers").textContent = m.count; },
    "chat.message": chatLine,
    "chat.deleted": (m) => { const li = document.querySelector(`#chat [data-id="${m.id}"]`); if (li) li.remove(); },
    "product.pinned": pinned,
    "offer.started": (m) => { if (resync) resync.add(m.offer); offerShow(m); },
    "offer.updated": (m) => { if (offers.has(m.offer)) offerShow(m); },
    "offer.ended": (m) => offerEnd(m.offer, m.reason),
    "sale.made": sale,
    "error": (m) => {
      $("chat-error").textContent = m.message;
      setTimeout(() => { if ($("chat-error").textContent === m.message) $("chat-error").textContent = ""; }, 6000);
    },
  };

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}${room.socket}`);
    socket.onopen = () => {
      attempt = 0;
      $("connection").textContent = "";
      if (room.token) socket.send(JSON.stringify({ type: "auth", token: room.token }));
    };
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      const handler = HANDLERS[message.type];
      if (handler) handler(message);
    };
    socket.onclose = (event) => {
      if (closedForGood || event.code === 4404 || event.code === 4403) return;
      $("connection").textContent = texts.reconnecting;
      const wait = Math.min(30000, 1000 * 2 ** attempt++) * (0.75 + Math.random() / 2);
      setTimeout(connect, wait);
    };
  }

  const form = $("chat-form");
  if (form) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = $("chat-text").value.trim();
      if (!text || !socket || socket.readyState !== WebSocket.OPEN) return;
      socket.send(JSON.stringify({ type: "chat.send", text }));
      $("chat-text").value = "";
    });
  }
  window.addEventListener("pagehide", () => { closedForGood = true; if (socket) socket.close(); });

  room.history.forEach(chatLine);
  pinned(room.pinned);
  room.offers.forEach(offerShow);
  restoreAddress();
  if (room.status === "live") play();
  setInterval(tick, 1000);
  tick();
  if (room.status === "live" || room.status === "scheduled") connect();
})();
