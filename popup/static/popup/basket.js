// The pop-up basket: holds units through the JSON API with a token kept in this frame's storage.
// No cookies: inside a third-party iframe (Safari, in-app browsers) they would not be sent.
(function () {
  "use strict";
  var root = document.querySelector("[data-popup]");
  var bar = document.querySelector("[data-basket]");
  if (!root || !bar || !window.fetch) return;
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

  // How this visit arrived (placement, campaign, unlock code), as the server read it from the URL.
  var arrival = {
    placement: root.getAttribute("data-placement") || "",
    unlock: root.getAttribute("data-unlock") || "",
    utm: JSON.parse(root.getAttribute("data-utm") || "{}")
  };
  var arrived = arrival.placement || arrival.unlock || Object.keys(arrival.utm).length;

  function token() {
    if (store.get()) return Promise.resolve();
    return fetch(base + "new/", {
      method: "POST", credentials: "omit", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        source: source(), placement: arrival.placement, unlock: arrival.unlock, utm: arrival.utm
      })
    })
      .then(function (response) { return response.json().catch(function () { return {}; }); })
      .then(function (data) {
        // Refused (too many baskets from this connection, say): the server's words, shown by change().
        if (!data.basket) throw new Error(data.error || "Something went wrong, please try again.");
        store.set(data.basket.token); handOver(data.basket.token); render(data.basket);
      });
  }

  function card(productId) { return root.querySelector('[data-product="' + productId + '"]'); }

  function quantity(productId) {
    var lines = basket ? basket.lines : [];
    for (var i = 0; i < lines.length; i++) {
      if (lines[i].product === productId && lines[i].active) return lines[i].quantity;
    }
    return 0;
  }

  function render(data) {
    basket = data;
    deadline = Date.now() + data.seconds_left * 1000;
    var cards = root.querySelectorAll("[data-product]");
    for (var i = 0; i < cards.length; i++) {
      var el = cards[i], id = +el.getAttribute("data-product"), count = quantity(id);
      var left = data.units_left[id], known = left !== undefined && left !== null;
      var buy = el.querySelector("[data-buy]");
      if (known) el.querySelector("[data-stock]").innerHTML = left ? "<strong>" + left + "</strong> left" : "Sold out";
      if (!buy) continue;
      var add = buy.querySelector("[data-add]");
      buy.hidden = false;
      add.hidden = count > 0;
      if (known) {
        add.disabled = left === 0;
        add.textContent = left === 0 ? "Sold out" : "Add";
      }
      buy.querySelector("[data-qty]").hidden = count === 0;
      buy.querySelector("[data-count]").textContent = count;
      buy.querySelector("[data-more]").disabled = known && left === 0;
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
  }

  function tick() {
    if (!basket || !basket.units) return;
    var left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    bar.querySelector("[data-basket-timer]").textContent =
      Math.floor(left / 60) + ":" + (left % 60 < 10 ? "0" : "") + (left % 60);
    if (left === 0) {
      bar.classList.add("basketbar--expired");
      basket.units = 0;
      refresh();  // the hold lapsed: the server says what is left now
    }
  }

  function send(productId, count, again) {
    return token()
      .then(function () { return call("lines/", { product: productId, quantity: count }); })
      .then(function (result) {
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
        if (result.status !== 200) error.textContent = result.data.error || "Something went wrong, please try again.";
      })
      .catch(function (failure) {
        error.textContent = (failure && failure.message && !(failure instanceof TypeError))
          ? failure.message : "No connection, please try again.";
      })
      .then(function () { busy = false; });
  }

  function refresh() {
    if (!store.get()) return render({ units: 0, lines: [], total: "0", seconds_left: 0, units_left: {} });
    // A basket from an earlier visit follows this visit's placement until its checkout starts.
    var asked = arrived ? call("attribution/", arrival) : call("");
    arrived = false;
    asked.then(function (result) {
      if (result.status === 404) { store.drop(); handOver(""); return refresh(); }
      if (result.data.basket) render(result.data.basket);
    });
  }

  root.addEventListener("click", function (event) {
    var button = event.target.closest("button");
    var el = button && button.closest("[data-product]");
    if (!el) return;
    var id = +el.getAttribute("data-product"), count = quantity(id);
    if (button.hasAttribute("data-add") || button.hasAttribute("data-more")) change(id, count + 1);
    else if (button.hasAttribute("data-less")) change(id, count - 1);
  });
  setInterval(tick, 1000);
  refresh();
})();
