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
  var texts = JSON.parse((document.getElementById("popup-text") || {}).textContent || "{}");
  var store = {
    get: function () { try { return localStorage.getItem(key); } catch (e) { return memory[key]; } },
    set: function (value) { try { localStorage.setItem(key, value); } catch (e) { memory[key] = value; } },
    drop: function () { try { localStorage.removeItem(key); } catch (e) { delete memory[key]; } }
  };
  var basket = null, deadline = 0, busy = false;
  var contested = false, extensionsLeft = 0;  // as the last answer that knew said
  var framed = window.parent !== window;
  var inApp = /FBAN|FBAV|Instagram|TikTok|musical_ly|Bytedance|Line\/|Snapchat|Pinterest/i.test(navigator.userAgent);
  var given = /[#&]basket=([\w-]+)/.exec(location.hash);
  if (given) store.set(given[1]);
  var from = /[#&]from=([^&]+)/.exec(location.hash);  // the page embedding us, from the loader
  try { from = from ? decodeURIComponent(from[1]) : ""; } catch (e) { from = ""; }

  // Tell the loader on the host page, which can keep it when this frame may not store anything.
  function handOver(value) {
    if (window.parent === window || !document.referrer) return;
    window.parent.postMessage({ type: "popup:basket", token: value }, new URL(document.referrer).origin);
  }

  function call(path, body) {
    var headers = { "X-Popup-Basket": store.get() || "", "Accept-Language": document.documentElement.lang };
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
    if (data.contested != null) contested = data.contested;
    if (data.extensions_left != null) extensionsLeft = data.extensions_left;
    live.units(data.units_left);
    var cards = root.querySelectorAll("[data-product]");
    for (var i = 0; i < cards.length; i++) {
      var el = cards[i], id = +el.getAttribute("data-product"), count = quantity(id);
      var buy = el.querySelector("[data-buy]");
      if (!buy) continue;
      buy.hidden = false;
      var add = buy.querySelector("[data-add]"), qty = buy.querySelector("[data-qty]");
      var focus = document.activeElement;
      add.hidden = count > 0;
      qty.hidden = count === 0;
      // Add turns into − n +, and back: the focus moves with it, never falls to the page.
      if (add.hidden && add === focus) qty.querySelector("[data-more]").focus();
      else if (qty.hidden && qty.contains(focus)) add.focus();
      buy.querySelector("[data-count]").textContent = count;
    }
    bar.hidden = data.units === 0;
    // What the keyboard focuses is scrolled clear of the bar, never under it (WCAG 2.4.11).
    document.documentElement.style.scrollPaddingBottom = bar.hidden ? "" : bar.offsetHeight + 8 + "px";
    var checkout = bar.querySelector("[data-checkout]");
    checkout.href = "/popup/checkout/" + data.token + "/?lang=" + encodeURIComponent(document.documentElement.lang);
    // Checkout is a first-party page: a new tab from an iframe, the same tab inside in-app
    // browsers (they block new windows), and simply the next page on the full pop-up page.
    checkout.target = !framed ? "_self" : inApp ? "_top" : "_blank";
    bar.classList.remove("basketbar--expired");
    bar.querySelector("[data-basket-units]").textContent = bar.getAttribute(
      live.one(data.units) ? "data-item-one" : "data-item-other").replace("__N__", data.units);
    bar.querySelector("[data-basket-total]").textContent = money.format(+data.total);
    tick();
    document.dispatchEvent(new Event("popup:changed"));
  }

  // What a screen reader hears of the timer: each moment once per hold (WCAG 2.2.1, 4.1.3).
  var alert = bar.querySelector("[data-basket-alert]"), said = {};
  function say(moment, text) {
    if (!alert || said[moment]) return;
    said[moment] = true;
    alert.textContent = text || alert.getAttribute("data-" + moment);
  }

  // "I need more time" from 2 minutes left, while it may be given; else the plain reason why not.
  var more = bar.querySelector("[data-more-time]"), note = bar.querySelector("[data-time-note]");
  function offerTime(left) {
    if (!more || !note) return;
    var soon = left > 0 && left <= 120;
    more.hidden = !(soon && !contested && extensionsLeft > 0);
    if (soon && contested) note.textContent = note.getAttribute("data-contested");
    note.hidden = !(soon && contested) && !note.hasAttribute("data-told");
  }
  if (more) more.addEventListener("click", function () {
    var focused = document.activeElement === more;  // before disabling it takes the focus away
    more.disabled = true;
    call("time/", {}).then(function (result) {
      if (result.data.basket) render(result.data.basket);
      if (result.status >= 300) {
        if (result.data.code === "contested") contested = true;
        if (result.data.code === "extensions_used") extensionsLeft = 0;
        note.textContent = result.data.error || "";
      } else {
        note.textContent = note.getAttribute("data-more")
          .replace("__N__", Math.round(result.data.basket.seconds_left / 60));
      }
      // Told until the next change of the basket; the alert says it to screen readers too.
      note.setAttribute("data-told", "");
      note.hidden = false;
      alert.textContent = note.textContent;
      offerTime(Math.round((deadline - Date.now()) / 1000));
    }, function () {
      note.textContent = note.getAttribute("data-offline");
      note.hidden = false;
    }).then(function () {
      more.disabled = false;
      // The focus stays in the bar, never falls to the page: on the button, or on Checkout.
      if (focused) (more.hidden ? bar.querySelector("[data-checkout]") : more).focus();
    });
  });

  function tick() {
    if (!basket || !basket.units) return;
    var left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    bar.querySelector("[data-basket-timer]").textContent =
      Math.floor(left / 60) + ":" + (left % 60 < 10 ? "0" : "") + (left % 60);
    offerTime(left);
    if (left > 120) said = {};  // a new or restarted hold
    else if (left > 30) say("two-minutes", more && !more.hidden && alert.getAttribute("data-two-minutes-more"));
    else if (left > 0) say("thirty-seconds");
    if (left === 0) {
      say("lapsed");
      bar.classList.add("basketbar--expired");
      basket.units = 0;
      live.refresh();  // the hold lapsed: the server says what is left now
    }
  }

  // The first Add makes the basket too (no token yet): the answer carries its token.
  function send(productId, count, again) {
    var body = { product: productId, quantity: count };
    if (!store.get()) {
      var came = arrival();
      body.source = source(); body.placement = came.placement; body.unlock = came.unlock; body.utm = came.utm;
      body.back = from;
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
          return { status: 404, data: { error: texts.expired } };
        }
        return result;
      });
  }

  function change(productId, count) {
    if (busy) return;
    busy = true;
    var error = card(productId).querySelector("[data-error]");
    error.textContent = "";
    if (note) note.removeAttribute("data-told");  // what more time was given is told no longer
    send(productId, count)
      .then(function (result) {
        if (result.data.basket) render(result.data.basket);
        if (result.status >= 300) error.textContent = result.data.error || texts.failed;
      })
      .catch(function (failure) {
        error.textContent = (failure && failure.message && !(failure instanceof TypeError))
          ? failure.message : texts.offline;
      })
      .then(function () { busy = false; });
  }

  // The live figures carry the stored basket; the first ones also say how this visit arrived.
  var first = true;
  live.token = store.get;
  live.on(function (figures) {
    if (busy && !first) return;  // an Add is on its way: its own answer is the newer
    // Asked before the first Add made the basket: its answer knows nothing of it.
    if (figures.asked_with !== (store.get() || "")) { first = false; return; }
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
