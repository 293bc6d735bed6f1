// The checkout's hold timer, as the basket bar shows it (m:ss). When the hold lapses nothing
// reloads: every field, the card's included, keeps what was typed; the page says so and offers to
// hold the units again. Screen readers hear it at 2 minutes, at 30 seconds and when it lapses, not
// every second (WCAG 2.2.1, 4.1.3).
(function () {
  "use strict";
  var hold = document.querySelector("[data-hold-until]");
  var lapsed = document.querySelector("[data-hold-lapsed]");
  var alert = document.querySelector("[data-hold-alert]");
  if (!hold || !lapsed || !alert || !window.fetch) return;
  var clock = hold.querySelector("time"), said = {}, ticking = null;
  var more = document.querySelector("[data-hold-more]");

  function say(name) {
    if (said[name]) return;
    said[name] = true;
    alert.textContent = alert.getAttribute("data-" + name);
  }

  function tick() {
    var left = Math.round((Date.parse(hold.getAttribute("data-hold-until")) - Date.now()) / 1000);
    if (!(left > 0)) {
      hold.hidden = true;
      if (more) more.hidden = true;
      lapsed.hidden = false;
      if (ticking) say("lapsed");
      clearInterval(ticking);
      ticking = null;
      return;
    }
    clock.textContent = Math.floor(left / 60) + ":" + (left % 60 < 10 ? "0" : "") + left % 60;
    if (left <= 30) say("thirty-seconds");
    else if (left <= 120) say("two-minutes");
  }

  function start() {
    said = {};
    hold.hidden = false;
    if (more) more.hidden = false;
    lapsed.hidden = true;
    tick();
    if (!ticking && !hold.hidden) ticking = setInterval(tick, 1000);
  }

  // Hold them again: each line as it was, through the basket's own API; all or nothing shown.
  lapsed.querySelector("[data-hold-again]").addEventListener("click", function () {
    var button = this, error = lapsed.querySelector("[data-hold-error]");
    var lines = document.querySelectorAll("[data-line-product]"), until = null, chain = Promise.resolve();
    button.disabled = true;
    error.textContent = "";
    Array.prototype.forEach.call(lines, function (line) {
      chain = chain.then(function () {
        return fetch(lapsed.getAttribute("data-lines-url"), {
          method: "POST", credentials: "omit",
          headers: {
            "Content-Type": "application/json", "X-Popup-Basket": lapsed.getAttribute("data-token"),
            "Accept-Language": document.documentElement.lang
          },
          body: JSON.stringify({ product: +line.getAttribute("data-line-product"),
                                 quantity: +line.getAttribute("data-line-quantity") })
        }).then(function (response) {
          return response.json().then(function (answer) {
            if (!response.ok) throw new Error(answer.error || answer.detail || lapsed.getAttribute("data-failed"));
            until = answer.basket.reserved_until;
          });
        });
      });
    });
    chain.then(function () {
      if (until) hold.setAttribute("data-hold-until", until);
      start();
    }, function (problem) {  // a refusal says why; no connection is said in the page's words
      error.textContent = problem instanceof TypeError ? lapsed.getAttribute("data-failed") : problem.message;
    }).then(function () { button.disabled = false; });
  });

  // "I need more time": the hold starts again, or the page says plainly why it cannot (2.2.1).
  var button = more && more.querySelector("[data-hold-more-button]");
  if (button) button.addEventListener("click", function () {
    var note = more.querySelector("[data-hold-more-note]");
    var focused = document.activeElement === button;  // disabling it takes the focus away
    button.disabled = true;
    fetch(more.getAttribute("data-url"), {
      method: "POST", credentials: "omit",
      headers: {
        "Content-Type": "application/json", "X-Popup-Basket": lapsed.getAttribute("data-token"),
        "Accept-Language": document.documentElement.lang
      },
      body: "{}"
    }).then(function (response) {
      return response.json().then(function (answer) {
        if (!response.ok) {
          note.textContent = answer.error || answer.detail || note.getAttribute("data-offline");
          if (answer.code !== "lapsed") button.hidden = true;  // the reason stays, not the offer
          return;
        }
        hold.setAttribute("data-hold-until", answer.basket.reserved_until);
        start();
        note.textContent = note.getAttribute("data-more")
          .replace("__N__", Math.round(answer.basket.seconds_left / 60));
        if (!answer.basket.extensions_left) button.hidden = true;
      });
    }).catch(function () {
      note.textContent = note.getAttribute("data-offline");
    }).then(function () {
      button.disabled = false;
      if (focused && !button.hidden) button.focus();
      else if (focused) {  // to what replaced the button, never to the body
        note.setAttribute("tabindex", "-1");
        note.focus();
      }
    });
  });

  if (hold.getAttribute("data-hold-until")) start();
  else tick();
})();
