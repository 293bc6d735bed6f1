// "Notify me" on products not on sale yet (coming soon) or any more (sold out): joins Oscar's
// product alert for that product through the pop-up's JSON API. No cookies, so it works embedded.
(function () {
  "use strict";
  var root = document.querySelector("[data-popup]");
  if (!root || !window.fetch) return;
  var url = "/popup/" + root.getAttribute("data-popup") + "/waitlist/";
  var forms = root.querySelectorAll("[data-notify]");
  for (var i = 0; i < forms.length; i++) {
    forms[i].hidden = false;
    forms[i].addEventListener("submit", join);
  }

  function join(event) {
    event.preventDefault();
    var form = event.currentTarget;
    var product = +form.closest("[data-product]").getAttribute("data-product");
    var message = form.querySelector("[data-notify-message]");
    var button = form.querySelector("button");
    button.disabled = true;
    message.textContent = "";
    fetch(url, {
      method: "POST", credentials: "omit", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        product: product, email: form.elements.email.value.trim(), website: form.elements.website.value
      })
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (answer) {
        if (!response.ok) throw new Error(answer.error || "Something went wrong, please try again.");
        message.textContent = answer.message;
        form.elements.email.disabled = true;
      });
    }).catch(function (error) {
      message.textContent = error.message || "No connection, please try again.";
      button.disabled = false;
    });
  }
})();
