// The checkout link's page: a shopper's browser holds what the link asks for at once (one pop-up,
// nothing to choose), by the page's own form; the page's GET held nothing. A reload or Back after
// the checkout opened finds a new page, never a second hold of the same press.
(function () {
  "use strict";
  var forms = document.querySelectorAll("form[data-checkout-link]");
  for (var i = 0; i < forms.length; i++) {
    forms[i].addEventListener("submit", function (event) {
      var form = event.currentTarget, button = form.querySelector("button");
      if (form.hasAttribute("data-sent")) { event.preventDefault(); return; }  // one press, one hold
      form.setAttribute("data-sent", "");
      button.disabled = true;
      form.querySelector("[data-status]").textContent = button.getAttribute("data-holding");
    });
  }
  var auto = document.querySelector("form[data-checkout-link][data-auto]");
  if (auto && window.performance && performance.getEntriesByType) {
    var entry = performance.getEntriesByType("navigation")[0];
    if (entry && entry.type !== "navigate") return;  // Back from the checkout, a reload: they choose
  }
  if (auto) {
    if (auto.requestSubmit) auto.requestSubmit(); else auto.submit();
  }
})();
