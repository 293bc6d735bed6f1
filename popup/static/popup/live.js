// The pop-up's live figures (GET /popup/<slug>/live/): the page itself is the same for every shopper
// and cached; what is this shopper's own (how they arrived, their basket) and what changes by the
// second (state, units left) comes from this call, made once on arrival with the page's own query
// (which counts the view), then every POLL_SECONDS while the page is in sight, and when asked.
// Other scripts listen: window.popupLive.on(function (figures) { ... }).
// Where the store pushes them (data-stream: popup.stream), the shared figures come as they change
// through a Server-Sent Events stream, and the call is made only every STREAMED_POLL_SECONDS for
// the shopper's own part; a stream that fails or is cut leaves the page polling as before.
(function () {
  "use strict";
  var root = document.querySelector("[data-popup]");
  var me = document.currentScript;
  if (!root || !window.fetch || !window.URLSearchParams) return;
  var POLL_SECONDS = 15, STREAMED_POLL_SECONDS = 60, STREAM_RETRY_SECONDS = 60;
  var slug = root.getAttribute("data-popup");
  var embedded = root.hasAttribute("data-embedded");
  var landing = new URLSearchParams(location.search);
  // A page reached without ?lang= speaks its pop-up's default language, the same for everyone; it
  // moves to the browser's if the store offers it (from then on the address says so), before the
  // view is counted here. Matched as the server does: the same code, else the language without a
  // region, else its first variant.
  var switcher = document.querySelector("[data-languages]");
  if (switcher && !landing.has("lang")) {
    var offered = switcher.getAttribute("data-languages").split(" ");
    var wanted = (navigator.languages || [navigator.language]).map(function (asked) {
      asked = String(asked).toLowerCase().replace("_", "-");
      var primary = asked.split("-")[0];
      var same = offered.filter(function (code) { return code.split("-")[0] === primary; });
      return offered.indexOf(asked) >= 0 ? asked : same.indexOf(primary) >= 0 ? primary : same[0];
    }).filter(Boolean)[0];
    if (wanted && wanted !== document.documentElement.lang) {
      var moved = new URL(location.href);
      moved.searchParams.set("lang", wanted);
      location.replace(moved.href);
      return;
    }
  }
  var texts = {
    soldOut: me.getAttribute("data-sold-out"), add: me.getAttribute("data-add"),
    leftOne: me.getAttribute("data-left-one"), leftOther: me.getAttribute("data-left-other"),
    held: me.getAttribute("data-held"), heldSoon: me.getAttribute("data-held-soon"),
    heldShort: me.getAttribute("data-held-short"),
    dropOne: me.getAttribute("data-drop-one"), dropOther: me.getAttribute("data-drop-other")
  };
  // One or many as the page's language counts them (in French 0 is "one" too).
  var rules = window.Intl && Intl.PluralRules ? new Intl.PluralRules(document.documentElement.lang || "en") : null;
  function one(n) { return rules ? rules.select(n) === "one" : n === 1; }
  // The drop's total, its words agreeing with the number: "1 unit left", "2 units left".
  function dropTotal(n) {
    var total = root.querySelector("[data-units-left]");
    if (!total) return;
    var text = one(n) ? texts.dropOne : texts.dropOther;
    if (text) total.innerHTML = text.replace("__N__", "<strong>" + n + "</strong>");
    else total.querySelector("strong").textContent = n;
  }
  var listeners = [], first = true, etag = "", code = "", loading = null;
  var live = window.popupLive = {
    arrival: null,
    token: function () { return ""; },  // basket.js tells the basket's token
    on: function (listener) { listeners.push(listener); },
    refresh: function () { return load(); },
    units: units,
    one: one  // one or many, by the page language's plural rules
  };

  function each(selector, action) {
    var found = root.querySelectorAll(selector);
    for (var i = 0; i < found.length; i++) action(found[i]);
  }

  // Units left per product ({id: n or null}) onto the product cards; ids not given are left alone.
  // The pop-up's total follows: a hold tells only its product's figure, the total moves with it.
  // `backIn` (from the live call): for a product with none left only because baskets hold them,
  // the minutes until the first of those holds lapses, else null. A hold that takes the last units
  // says none are left: they are in baskets (this one's at least), back in an unknown time (0).
  var known = {}, backs = {}, answers = 0;
  each("[data-product][data-left]", function (card) {  // as the page was rendered, with its total
    known[card.getAttribute("data-product")] = +card.getAttribute("data-left");
  });
  function units(lefts, backIn) {
    if (!backIn) answers++;  // a basket's answer: live figures asked before it are older
    var total = root.querySelector("[data-units-left] strong"), shift = 0;
    for (var id in lefts) {
      if (known[id] != null && lefts[id] != null) shift += lefts[id] - known[id];
      known[id] = lefts[id];
      if (backIn) backs[id] = backIn[id];
      else if (lefts[id] === 0) backs[id] = backs[id] || 0;
    }
    if (total && shift) dropTotal(Math.max(0, +total.textContent + shift));
    each("[data-product]", function (card) {
      var id = card.getAttribute("data-product"), left = lefts[id];
      if (left === undefined) return;
      var out = left === 0, held = out && backs[id] != null;
      card.classList.toggle("product--out", out);
      card.classList.toggle("product--held", held);
      var stock = card.querySelector("[data-stock]");
      if (stock && left !== null) {
        stock.innerHTML = out ? "" : (one(left) ? texts.leftOne : texts.leftOther)
          .replace("__N__", "<strong>" + left + "</strong>");
        if (out) {
          stock.textContent = !held ? texts.soldOut
            : backs[id] ? texts.held.replace("__N__", backs[id]) : texts.heldSoon;
        }
      }
      var add = card.querySelector("[data-add]");
      if (add) {
        add.disabled = out;
        (add.querySelector("[data-add-label]") || add).textContent =
          !out ? texts.add : held ? texts.heldShort : texts.soldOut;
      }
      var more = card.querySelector("[data-more]");
      if (more) more.disabled = out;
      var notify = card.querySelector("[data-notify]");
      // A waiting list only when nothing will come back from baskets.
      if (notify) notify.hidden = !((out && !held) || notify.hasAttribute("data-notify-always"));
    });
  }

  function figures(data) {
    var state = root.querySelector("[data-state]");
    if (state) {
      state.className = "state state--" + data.state;
      state.textContent = data.state_label;
    }
    var lefts = {}, backIn = {};
    for (var id in data.products) {
      lefts[id] = data.products[id].units_left;
      backIn[id] = data.products[id].back_in_minutes;
    }
    units(lefts, backIn);
    var total = root.querySelector("[data-units-left]");
    if (total) {  // after units(): the server's total is the truth
      total.hidden = data.units_left === null || data.state === "closed";
      if (data.units_left !== null) dropTotal(data.units_left);
    }
    var presale = root.querySelector(".presale");
    if (presale && data.presale_html) presale.outerHTML = data.presale_html;
  }

  function arrived(arrival) {
    live.arrival = arrival;
    var notices = root.querySelector("[data-notices]");
    if (notices) {
      notices.textContent = "";
      arrival.notices.forEach(function (text) {
        var notice = document.createElement("p");
        notice.className = "notice notice--code";
        notice.textContent = text;
        notices.appendChild(notice);
      });
    }
    if (arrival.code_refused) {
      each("[data-code-refused]", function (el) { el.hidden = false; });
      var details = root.querySelector("details.code");
      if (details) details.open = true;
    }
    each("[data-arrival-link]", function (link) {
      var href = arrival.links[link.getAttribute("data-arrival-link")];
      if (href) link.href = href;
    });
    var share = document.querySelector("[data-share]");
    if (share && arrival.links.share) share.setAttribute("data-share-url", arrival.links.share);
    each("[data-landing]", function (link) { link.href = link.pathname + arrival.landing_query; });
    // An event price is given to this shopper, not announced: said as what it is, nothing struck.
    for (var id in arrival.prices) {
      var card = root.querySelector('[data-product="' + id + '"]');
      if (!card) continue;
      card.querySelector("[data-price]").textContent = arrival.prices[id].price;
      card.querySelectorAll("[data-price-was]").forEach(function (el) { el.remove(); });
      var label = card.querySelector("[data-price-label]");
      if (label) { label.textContent = arrival.prices[id].label; label.hidden = false; }
    }
    // A code typed in keeps the campaign the shopper came by.
    var form = root.querySelector("[data-code-form]");
    if (form) {
      Object.keys(arrival.utm).forEach(function (key) {
        if (form.querySelector('[name="utm_' + key + '"]')) return;
        var field = document.createElement("input");
        field.type = "hidden";
        field.name = "utm_" + key;
        field.value = arrival.utm[key];
        form.appendChild(field);
      });
    }
  }

  function load() {
    if (loading) return loading;
    var query = new URLSearchParams();
    if (first) {
      landing.forEach(function (value, key) {
        if (key === "pl" || key === "code" || key.indexOf("utm_") === 0) query.set(key, value);
      });
      query.set("view", embedded ? "embed" : "page");
    } else if (code) {
      query.set("code", code);  // an event's right code opens its figures; it is never counted
    }
    query.set("lang", document.documentElement.lang);  // a shared answer is kept per language
    var headers = { "X-Popup-Basket": live.token() || "", "Accept-Language": document.documentElement.lang };
    var asked = answers, stale = false;
    if (!first && etag) headers["If-None-Match"] = etag;
    // Not from the browser's cache: a reload must see the basket made a second ago (the ETag above
    // spares the transfer when nothing changed).
    loading = fetch("/popup/" + slug + "/live/?" + query, {
      credentials: "omit", cache: "no-store", headers: headers
    })
      .then(function (response) {
        if (response.status !== 200) return null;  // 304: nothing changed
        etag = response.headers.get("ETag") || "";
        return response.json();
      })
      .then(function (data) {
        if (!data) return;
        if (first) {
          first = false;
          if (data.arrival.unlocked) code = landing.get("code") || "";
          arrived(data.arrival);
        }
        // A basket answered while this call was on its way: these figures predate its hold and
        // would undo it. Asked again at once instead.
        if (answers !== asked) { stale = true; return; }
        if (!streaming) figures(data);  // else the stream's are as new or newer
        data.asked_with = headers["X-Popup-Basket"];  // the basket token the call was made with
        listeners.forEach(function (listener) { listener(data); });
        document.dispatchEvent(new Event("popup:changed"));  // an embedding frame may resize
      })
      .catch(function () {})  // offline a moment: the next poll tries again
      .then(function () {
        loading = null;
        if (stale) load();
      });
    return loading;
  }

  // Pushed figures: the same shared part as the call's, without the shopper's own. The browser
  // reconnects a cut stream itself, telling the last event it had (Last-Event-ID).
  var streamUrl = root.getAttribute("data-stream"), streaming = false, heard = 0;
  var STREAM_QUIET_SECONDS = 40;  // the stream pings every 15 s: quieter than this, it is stuck
  function listen() {
    if (!streamUrl || !window.EventSource) return;
    var source = new EventSource(streamUrl + "?lang=" + encodeURIComponent(document.documentElement.lang));
    source.addEventListener("figures", function (event) {
      streaming = true;  // figures came: the stream works (an open one may not carry any)
      heard = Date.now();
      if (first && loading) return;  // the first call, on its way, says how this visit arrived
      figures(JSON.parse(event.data));
      document.dispatchEvent(new Event("popup:changed"));
    });
    source.addEventListener("ping", function () { heard = Date.now(); });
    source.addEventListener("gone", function () { source.close(); streaming = false; });
    source.onerror = function () {
      streaming = false;  // polled meanwhile
      if (source.readyState === EventSource.CLOSED) setTimeout(listen, STREAM_RETRY_SECONDS * 1000);
    };
  }

  var polls = 0;
  document.addEventListener("DOMContentLoaded", function () { load(); listen(); });
  setInterval(function () {
    polls++;
    if (streaming && Date.now() - heard > STREAM_QUIET_SECONDS * 1000) streaming = false;
    if (document.visibilityState === "hidden") return;
    if (!streaming || polls % (STREAMED_POLL_SECONDS / POLL_SECONDS) === 0) load();
  }, POLL_SECONDS * 1000);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") load();
  });
})();
