// Keeps countdowns ticking, runs the share buttons and, inside an iframe, tells the embedding page our height.
(function () {
  "use strict";
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function format(seconds) {
    var d = Math.floor(seconds / 86400), h = Math.floor(seconds % 86400 / 3600),
        m = Math.floor(seconds % 3600 / 60), s = seconds % 60;
    return d ? d + "d " + pad(h) + "h " + pad(m) + "m" : pad(h) + "h " + pad(m) + "m " + pad(s) + "s";
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
      function done() { status.textContent = "Link copied."; }
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
  if (window.ResizeObserver) new ResizeObserver(report).observe(document.documentElement);
  // Chrome may not tell a frame still hidden by the loader that it grew: the scripts say so too.
  document.addEventListener("popup:changed", report);
  window.addEventListener("load", report);
  report();
})();
