// The checkout link's page: a shopper's browser holds what the link asks for at once (one pop-up,
// nothing to choose), by the page's own form; the page's GET held nothing. The form is sent by
// fetch and the page then replaced by where it leads (the checkout, or what could not be held), so
// Back goes to where the shopper came from, never to this page to hold a second time. Without
// fetch, or when the answer is no page of ours, the form is sent as a plain form.
(function () {
  "use strict";

  function plainly(form) {
    form.setAttribute("data-plain", "");
    HTMLFormElement.prototype.submit.call(form);
  }

  function send(form) {
    if (!window.fetch || !window.FormData) { plainly(form); return; }
    fetch(location.href, {method: "POST", body: new FormData(form), credentials: "same-origin"})
      .then(function (answer) {
        // A redirect means something was held: go where it leads, in this page's place. Any other
        // answer held nothing (a refusal, a choice to make): the plain form shows it.
        if (answer.redirected && answer.url.indexOf(location.origin + "/") === 0) {
          location.replace(answer.url);
        } else {
          plainly(form);
        }
      })
      .catch(function () { plainly(form); });
  }

  var forms = document.querySelectorAll("form[data-checkout-link]");
  for (var i = 0; i < forms.length; i++) {
    forms[i].addEventListener("submit", function (event) {
      var form = event.currentTarget, button = form.querySelector("button");
      if (form.hasAttribute("data-plain")) return;
      event.preventDefault();
      if (form.hasAttribute("data-sent")) return;  // one press, one hold
      form.setAttribute("data-sent", "");
      button.disabled = true;
      form.querySelector("[data-status]").textContent = button.getAttribute("data-holding");
      send(form);
    });
  }
  var auto = document.querySelector("form[data-checkout-link][data-auto]");
  if (auto && window.performance && performance.getEntriesByType) {
    var entry = performance.getEntriesByType("navigation")[0];
    if (entry && entry.type !== "navigate") return;  // a reload, or Back in an old browser: they choose
  }
  if (auto) {
    if (auto.requestSubmit) auto.requestSubmit(); else auto.dispatchEvent(new Event("submit", {cancelable: true}));
  }
})();
