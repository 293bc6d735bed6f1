/* django-oscar-popup loader: turns <script data-popup="slug" [data-placement="code"] [data-lang="fr"]> and <a data-popup-link> into pop-up iframes. */
(function (w, d) {
  "use strict";
  var me = d.currentScript || d.querySelector("script[src*='/popup/embed.js']");
  if (!me) return;
  var origin = new URL(me.src, location.href).origin;
  var frames = w.__popupFrames = w.__popupFrames || [];

  // The frame stays invisible until the pop-up reports its height: a site the pop-up does not allow
  // shows no browser error box, and a link form keeps its link.
  // Third-party frames often may not store anything (Safari, in-app browsers), so the frame hands
  // its basket token to us; we keep it first-party and give it back in the URL fragment.
  function saved(slug, token) {
    try {
      var k = "popup-basket:" + origin + "/" + slug;
      if (token === undefined) return localStorage.getItem(k);
      token ? localStorage.setItem(k, token) : localStorage.removeItem(k);
    } catch (e) {}
  }

  // `key` names the basket kept for this frame: the pop-up's slug, or "p/<code>" for a placement's link.
  function mount(key, path, query, title, place, link) {
    var f = d.createElement("iframe"), token = saved(key);
    f.__link = link;
    f.__slug = key;
    // This page (no query: it may hold tokens), the way back after paying: in-app browsers hide it.
    var here = (location.origin + location.pathname).slice(0, 500);
    f.src = origin + path + (query || "") + "#from=" + encodeURIComponent(here) +
      (token ? "&basket=" + encodeURIComponent(token) : "");
    f.title = title || "Pop-up shop";
    f.setAttribute("allow", "payment; web-share; clipboard-write");
    f.style.cssText = "display:block;width:100%;max-width:40rem;height:0;border:0;margin:0 auto;visibility:hidden";
    frames.push(f);
    place(f);
  }

  var slug = me.getAttribute("data-popup");
  if (slug && !me.__popup) {
    me.__popup = 1;
    var target = me.getAttribute("data-target") && d.querySelector(me.getAttribute("data-target"));
    var placement = me.getAttribute("data-placement"), lang = me.getAttribute("data-lang");
    mount(slug, "/popup/" + encodeURIComponent(slug) + "/embed/", "?" +
      (placement ? "pl=" + encodeURIComponent(placement) + "&" : "") + (lang ? "lang=" + encodeURIComponent(lang) : ""),
      me.getAttribute("data-title"), function (f) {
      if (target) target.appendChild(f);
      else me.parentNode.insertBefore(f, me.nextSibling);
    });
  }

  function upgradeLinks() {
    var links = d.querySelectorAll("a[data-popup-link]");
    for (var i = 0; i < links.length; i++) {
      var a = links[i], url = new URL(a.href, location.href);
      // A pop-up's page, /popup/<slug>/, or a placement's short link, /popup/p/<code>/.
      var match = url.pathname.match(/^\/popup\/((p\/)?[\w-]+)\/$/);
      if (url.origin !== origin || !match || a.__popup) continue;
      a.__popup = 1;
      mount(match[1], match[0] + "embed/", url.search, a.textContent.trim(), function (f) {
        a.parentNode.insertBefore(f, a);
      }, a);
    }
  }
  if (d.readyState === "loading") d.addEventListener("DOMContentLoaded", upgradeLinks);
  else upgradeLinks();

  if (w.__popupListening) return;
  w.__popupListening = 1;
  // A frame is as tall as its page, so nothing in it can stick to the screen by itself: each frame
  // learns which part of it is on screen, to keep its basket bar there.
  var queued;
  function views() {
    queued = 0;
    for (var i = 0; i < frames.length; i++) {
      var f = frames[i];
      if (f.contentWindow) f.contentWindow.postMessage({ type: "popup:view",
        top: f.getBoundingClientRect().top, height: w.innerHeight }, new URL(f.src).origin);
    }
  }
  function soon() { if (!queued) queued = requestAnimationFrame(views); }
  w.addEventListener("scroll", soon, { passive: true });
  w.addEventListener("resize", soon);
  w.addEventListener("message", function (e) {
    var m = e.data;
    if (!m) return;
    for (var i = 0; i < frames.length; i++) {
      var f = frames[i];
      // Only the frame that sent it, and only if it really is served from the frame's own origin.
      if (f.contentWindow !== e.source || new URL(f.src).origin !== e.origin) continue;
      if (m.type === "popup:basket") saved(f.__slug, String(m.token || ""));
      if (m.type === "popup:resize") {
        f.style.height = Math.min(Math.max(+m.height || 0, 120), 20000) + "px";
        f.style.visibility = "visible";
        if (f.__link) { f.__link.remove(); f.__link = null; }
        soon();
      }
      if (m.type === "popup:basket") soon();
      // The frame's keyboard focus is under its basket bar: scroll it clear.
      if (m.type === "popup:scroll") w.scrollBy(0, Math.min(Math.max(+m.by || 0, 0), 400));
    }
  });
})(window, document);
