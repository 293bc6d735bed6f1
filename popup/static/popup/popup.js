// Keeps the language switch's links on this address, countdowns ticking, runs the share buttons
// and, inside an iframe, tells the embedding page our height.
(function () {
  "use strict";
  var texts = JSON.parse((document.getElementById("popup-text") || {}).textContent || "{}");

  // The language switch keeps the rest of the address (the placement, the basket in the fragment).
  var switcher = document.querySelector("[data-languages]");
  if (switcher) {
    var links = switcher.querySelectorAll("a[hreflang]");
    for (var l = 0; l < links.length; l++) {
      var to = new URL(location.href);
      to.searchParams.set("lang", links[l].getAttribute("hreflang"));
      links[l].href = to.href;
    }
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function format(seconds) {
    var d = Math.floor(seconds / 86400), h = Math.floor(seconds % 86400 / 3600),
        m = Math.floor(seconds % 3600 / 60), s = seconds % 60;
    return (d ? texts["countdown-days"] || "__D__d __H__h __M__m" : texts.countdown || "__H__h __M__m __S__s")
      .replace("__D__", d).replace("__H__", pad(h)).replace("__M__", pad(m)).replace("__S__", pad(s));
  }
  var clocks = document.querySelectorAll("[data-countdown]");
  function tick() {
    for (var i = 0; i < clocks.length; i++) {
      var left = Math.round((Date.parse(clocks[i].getAttribute("data-countdown")) - Date.now()) / 1000);
      var time = clocks[i].querySelector("time");
      if (left <= 0) {
        // The state changed (opened or closed): the server says what it is now.
        setTimeout(function () { location.reload(); }, 1000 + Math.random() * 2000);
        clocks = [];
        return;
      }
      time.textContent = format(left);
    }
  }
  if (clocks.length) { tick(); setInterval(tick, 1000); }

  // Share buttons: the link they share carries the placement the shopper came by.
  var share = document.querySelector("[data-share]");
  if (share) {
    // The link carries the placement the shopper came by: live.js sets it once the server said.
    var title = share.getAttribute("data-share-title");
    var url = function () { return share.getAttribute("data-share-url"); };
    var status = share.querySelector("[data-share-status]");
    var native = share.querySelector("[data-share-native]");
    if (navigator.share) {
      native.hidden = false;
      native.addEventListener("click", function () {
        navigator.share({ title: title, url: url() }).catch(function () {});
      });
    }
    share.querySelector("[data-share-copy]").addEventListener("click", function () {
      function done() { status.textContent = share.getAttribute("data-copied"); }
      function fallback() {
        var field = document.createElement("input");
        field.value = url();
        share.appendChild(field);
        field.select();
        try { document.execCommand("copy"); done(); } catch (e) { status.textContent = url(); }
        field.remove();
      }
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(url()).then(done, fallback);
      } else fallback();
    });
  }

  var root = document.querySelector("[data-embedded]");
  if (!root || window.parent === window) return;
  var slug = root.getAttribute("data-popup"), last = 0;
  function report() {
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height !== last) {
      last = height;
      // The height is not a secret, so any embedding page may read it; the loader checks our origin.
      window.parent.postMessage({ type: "popup:resize", popup: slug, height: height }, "*");
    }
  }
  // The loader says which part of this frame is on screen ({top, height}: the frame's top and the
  // screen's height, in the embedding page's pixels); the basket bar is kept at that part's bottom.
  var bar = document.querySelector("[data-basket]"), view = null;
  function place() {
    if (!bar || !view) return;
    var page = document.documentElement.scrollHeight, tall = bar.hidden ? 0 : bar.offsetHeight;
    var bottom = Math.max(tall, Math.min(page, view.height - view.top));
    bar.classList.add("basketbar--framed");
    bar.style.top = bottom - tall + "px";
    document.body.style.paddingBottom = tall + "px";  // the page's end can come out from under it
    unhide();
  }
  // What the keyboard focuses is never left under the bar (WCAG 2.4.11): the browser scrolls the
  // embedding page to the focused element, not clear of our bar, so the loader is asked to scroll
  // on. Checked once the loader said where the frame is now, or soon if the page did not move.
  var focused = null;
  function unhide() {
    var el = focused;
    focused = null;
    if (!el || !view || !bar || bar.hidden || !el.getBoundingClientRect) return;
    var below = el.getBoundingClientRect().bottom + 8 - bar.offsetTop;
    if (below > 0) window.parent.postMessage({ type: "popup:scroll", popup: slug, by: Math.ceil(below) }, "*");
  }
  document.addEventListener("focusin", function (e) {
    if (bar && bar.contains(e.target)) return;
    focused = e.target;
    setTimeout(unhide, 150);
  });
  window.addEventListener("message", function (e) {
    if (e.source !== window.parent || !e.data || e.data.type !== "popup:view") return;
    view = { top: +e.data.top || 0, height: +e.data.height || 0 };
    place();
  });
  document.addEventListener("popup:changed", place);
  if (window.ResizeObserver) new ResizeObserver(report).observe(document.documentElement);
  // Chrome may not tell a frame still hidden by the loader that it grew: the scripts say so too.
  document.addEventListener("popup:changed", report);
  window.addEventListener("load", report);
  report();
})();
