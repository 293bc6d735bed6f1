// The pop-up basket: holds units through the JSON API with a token kept in this frame's storage.
// No cookies: inside a third-party iframe (Safari, in-app browsers) they would not be sent.
(function () {
  "use strict";
  var root = document.querySelector("[data-popup]");
  var bar = document.querySelector("[data-basket]");
  var live = window.popupLive;
  if (!root || !bar || !window.fetch || !live) return;
  var me = document.currentScript || document.querySelector("script[data-currency]");
  var money = new Intl.NumberFormat(me.getAttribute("data-locale") || undefined, {
    style: "currency", currency: me.getAttribute("data-currency") || "EUR"
  });
  var slug = root.getAttribute("data-popup");
  var base = "/popup/" + slug + "/basket/";
  var key = "popup-basket:" + slug;
  var memory = {};
  var store = {
    get: function () { try { return localStorage.getItem(key); } catch (e) { return memory[key]; } },
    set: function (value) { try { localStorage.setItem(key, value); } catch (e) { memory[key] = value; } },
    drop: function () { try { localStorage.removeItem(key); } catch (e) { delete memory[key]; } }
  };
  var basket = null, deadline = 0, busy = false;
  var framed = window.parent !== window;
  var inApp = /FBAN|FBAV|Instagram|TikTok|musical_ly|Bytedance|Line\/|Snapchat|Pinterest/i.test(navigator.userAgent);
  var given = /[#&]basket=([\w-]+)/.exec(location.hash);
  if (given) store.set(given[1]);

  // Tell the loader on the host page, which can keep it when this frame may not store anything.
  function handOver(value) {
    if (window.parent === window || !document.referrer) return;
    window.parent.postMessage({ type: "popup:basket", token: value }, new URL(document.referrer).origin);
  }

  function call(path, body) {
    var headers = { "X-Popup-Basket": store.get() || "" };
    if (body) headers["Content-Type"] = "application/json";
    return fetch(base + path, {
      method: body ? "POST" : "GET", headers: headers, credentials: "omit",
      body: body ? JSON.stringify(body) : undefined
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { status: response.status, data: data };
      });
    });
  }

  // Where this shopper came from, for the merchant's reports: a campaign, or the embedding site.
  function source() {
    var utm = /[?&]utm_source=([^&#]+)/.exec(location.search);
    if (utm) {
      try { return decodeURIComponent(utm[1].replace(/\+/g, " ")); } catch (e) { return utm[1]; }
    }
    if (framed && document.referrer) return new URL(document.referrer).host;
    return framed ? "embed" : "direct";
  }

  // How this visit arrived (placement, campaign, unlock code), as the live call read it from the URL.
  function arrival() {
    var given = live.arrival || { placement: "", utm: {}, unlocked: false };
    var code = given.unlocked ? new URLSearchParams(location.search).get("code") || "" : "";
    return { placement: given.placement, unlock: code, utm: given.utm };
  }

  function card(productId) { return root.querySelector('[data-product="' + productId + '"]'); }

  function quantity(productId) {
    var lines = basket ? basket.lines : [];
    for (var i = 0; i < lines.length; i++) {
      if (lines[i].product === productId && lines[i].active) return lines[i].quantity;
    }
    return 0;
  }

  // The basket's answer: its lines and timer, and the units left of its products (others unchanged).
  function render(data) {
    basket = data;
    deadline = Date.now() + data.seconds_left * 1000;
    live.units(data.units_left);
    var cards = root.querySelectorAll("[data-product]");
    for (var i = 0; i < cards.length; i++) {
      var el = cards[i], id = +el.getAttribute("data-product"), count = quantity(id);
      var buy = el.querySelector("[data-buy]");
      if (!buy) continue;
      buy.hidden = false;
      buy.querySelector("[data-add]").hidden = count > 0;
      buy.querySelector("[data-qty]").hidden = count === 0;
      buy.querySelector("[data-count]").textContent = count;
    }
    bar.hidden = data.units === 0;
    var checkout = bar.querySelector("[data-checkout]");
    checkout.href = "/popup/checkout/" + data.token + "/";
    // Checkout is a first-party page: a new tab from an iframe, the same tab inside in-app
    // browsers (they block new windows), and simply the next page on the full pop-up page.
    checkout.target = !framed ? "_self" : inApp ? "_top" : "_blank";
    bar.classList.remove("basketbar--expired");
    bar.querySelector("[data-basket-units]").textContent = data.units + (data.units === 1 ? " item" : " items");
    bar.querySelector("[data-basket-total]").textContent = money.format(+data.total);
    tick();
    document.dispatchEvent(new Event("popup:changed"));
  }

  function tick() {
    if (!basket || !basket.units) return;
    var left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    bar.querySelector("[data-basket-timer]").textContent =
      Math.floor(left / 60) + ":" + (left % 60 < 10 ? "0" : "") + (left % 60);
    if (left === 0) {
      bar.classList.add("basketbar--expired");
      basket.units = 0;
      live.refresh();  // the hold lapsed: the server says what is left now
    }
  }

  // The first Add makes the basket too (no token yet): the answer carries its token.
  function send(productId, count, again) {
    var body = { product: productId, quantity: count };
    if (!store.get()) {
      var from = arrival();
      body.source = source(); body.placement = from.placement; body.unlock = from.unlock; body.utm = from.utm;
    }
    return call("lines/", body)
      .then(function (result) {
        if (result.data.basket && !store.get()) {
          store.set(result.data.basket.token); handOver(result.data.basket.token);
        }
        if (result.status === 404) {
          // The basket was checked out (or pledged) meanwhile: start a new one, once.
          store.drop(); handOver("");
          if (!again && count > 0) return send(productId, count, true);
          return { status: 404, data: { error: "Your basket expired, please try again." } };
        }
        return result;
      });
  }

  function change(productId, count) {
    if (busy) return;
    busy = true;
    var error = card(productId).querySelector("[data-error]");
    error.textContent = "";
    send(productId, count)
      .then(function (result) {
        if (result.data.basket) render(result.data.basket);
        if (result.status >= 300) error.textContent = result.data.error || "Something went wrong, please try again.";
      })
      .catch(function (failure) {
        error.textContent = (failure && failure.message && !(failure instanceof TypeError))
          ? failure.message : "No connection, please try again.";
      })
      .then(function () { busy = false; });
  }

  // The live figures carry the stored basket; the first ones also say how this visit arrived.
  var first = true;
  live.token = store.get;
  live.on(function (figures) {
    if (busy && !first) return;  // an Add is on its way: its own answer is the newer
    if (store.get() && !figures.basket) { store.drop(); handOver(""); }
    var came = live.arrival && (live.arrival.placement || live.arrival.unlocked || Object.keys(live.arrival.utm).length);
    if (first && came && figures.basket) {
      // A basket from an earlier visit follows this visit's placement until its checkout starts.
      call("attribution/", arrival()).then(function (result) {
        if (result.data.basket) render(result.data.basket);
      });
    } else {
      render(figures.basket || { units: 0, lines: [], total: "0", seconds_left: 0, units_left: {} });
    }
    first = false;
  });

  root.addEventListener("click", function (event) {
    var button = event.target.closest("button");
    var el = button && button.closest("[data-product]");
    if (!el) return;
    var id = +el.getAttribute("data-product"), count = quantity(id);
    if (button.hasAttribute("data-add") || button.hasAttribute("data-more")) change(id, count + 1);
    else if (button.hasAttribute("data-less")) change(id, count - 1);
  });
  setInterval(tick, 1000);
  // No basket yet: the Add buttons show at once, not when the live figures come.
  if (!store.get()) render({ units: 0, lines: [], total: "0", seconds_left: 0, units_left: {} });
})();
