// The pop-up's live figures (GET /popup/<slug>/live/): the page itself is the same for every shopper
// and cached; what is this shopper's own (how they arrived, their basket) and what changes by the
// second (state, units left) comes from this call, made once on arrival with the page's own query
// (which counts the view), then every POLL_SECONDS while the page is in sight, and when asked.
// Other scripts listen: window.popupLive.on(function (figures) { ... }).
(function () {
  "use strict";
  var root = document.querySelector("[data-popup]");
  var me = document.currentScript;
  if (!root || !window.fetch || !window.URLSearchParams) return;
  var POLL_SECONDS = 15;
  var slug = root.getAttribute("data-popup");
  var embedded = root.hasAttribute("data-embedded");
  var landing = new URLSearchParams(location.search);
  var texts = {
    soldOut: me.getAttribute("data-sold-out"), add: me.getAttribute("data-add"),
    leftOne: me.getAttribute("data-left-one"), leftOther: me.getAttribute("data-left-other")
  };
  var listeners = [], first = true, etag = "", code = "", loading = null;
  var live = window.popupLive = {
    arrival: null,
    token: function () { return ""; },  // basket.js tells the basket's token
    on: function (listener) { listeners.push(listener); },
    refresh: function () { return load(); },
    units: units
  };

  function each(selector, action) {
    var found = root.querySelectorAll(selector);
    for (var i = 0; i < found.length; i++) action(found[i]);
  }

  // Units left per product ({id: n or null}) onto the product cards; ids not given are left alone.
  function units(lefts) {
    each("[data-product]", function (card) {
      var left = lefts[card.getAttribute("data-product")];
      if (left === undefined) return;
      var out = left === 0;
      card.classList.toggle("product--out", out);
      var stock = card.querySelector("[data-stock]");
      if (stock && left !== null) {
        stock.innerHTML = out ? "" : (left === 1 ? texts.leftOne : texts.leftOther)
          .replace("__N__", "<strong>" + left + "</strong>");
        if (out) stock.textContent = texts.soldOut;
      }
      var add = card.querySelector("[data-add]");
      if (add) {
        add.disabled = out;
        add.textContent = out ? texts.soldOut : texts.add;
      }
      var more = card.querySelector("[data-more]");
      if (more) more.disabled = out;
      var notify = card.querySelector("[data-notify]");
      if (notify) notify.hidden = !(out || notify.hasAttribute("data-notify-always"));
    });
  }

  function figures(data) {
    var state = root.querySelector("[data-state]");
    if (state) {
      state.className = "state state--" + data.state;
      state.textContent = data.state_label;
    }
    var total = root.querySelector("[data-units-left]");
    if (total) {
      total.hidden = data.units_left === null || data.state === "closed";
      if (data.units_left !== null) total.querySelector("strong").textContent = data.units_left;
    }
    var lefts = {};
    for (var id in data.products) lefts[id] = data.products[id].units_left;
    units(lefts);
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
    for (var id in arrival.prices) {
      var price = root.querySelector('[data-product="' + id + '"] [data-price]');
      if (price) price.textContent = arrival.prices[id].price;
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
    var headers = { "X-Popup-Basket": live.token() || "" };
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
        figures(data);
        listeners.forEach(function (listener) { listener(data); });
        document.dispatchEvent(new Event("popup:changed"));  // an embedding frame may resize
      })
      .catch(function () {})  // offline a moment: the next poll tries again
      .then(function () { loading = null; });
    return loading;
  }

  document.addEventListener("DOMContentLoaded", function () { load(); });
  setInterval(function () { if (document.visibilityState !== "hidden") load(); }, POLL_SECONDS * 1000);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") load();
  });
})();
