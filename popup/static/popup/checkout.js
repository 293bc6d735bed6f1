// The checkout page: sends the shopper's details with a Stripe card token, passes 3-D Secure if the
// bank asks, then asks the server to place the order. The card number only ever goes to Stripe.
(function () {
  "use strict";
  var page = document.querySelector("[data-checkout-page]");
  var form = document.querySelector("[data-checkout-form]");
  if (!page || !form || !window.PopupStripeCard) return;
  var button = form.querySelector("button[type=submit]");
  var problem = form.querySelector("[data-checkout-error]");
  var GENERIC = "Payment is unavailable right now. Nothing was charged: please try again.";

  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "omit",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return { error: GENERIC }; }).then(function (answer) {
        if (!response.ok && !answer.error) answer.error = GENERIC;
        return answer;
      });
    });
  }

  function details() {
    var data = {};
    var fields = form.querySelectorAll("input[name], select[name]");
    for (var i = 0; i < fields.length; i++) data[fields[i].name] = fields[i].value.trim();
    return data;
  }

  function showErrors(errors) {
    var slots = form.querySelectorAll("[data-error-for]");
    for (var i = 0; i < slots.length; i++) {
      var list = errors && errors[slots[i].getAttribute("data-error-for")];
      slots[i].textContent = list ? list.join(" ") : "";
    }
  }

  var card = window.PopupStripeCard.mount({
    publishableKey: page.getAttribute("data-publishable-key"),
    container: document.getElementById("card"),
    authorise: function (cardToken) {
      var body = details();
      body.card_token = cardToken;
      return post(page.getAttribute("data-pay-url"), body).then(function (answer) {
        showErrors(answer.errors);
        if (answer.redirect) window.location.assign(answer.redirect);
        return answer;
      });
    }
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    problem.textContent = "";
    button.disabled = true;
    card.pay()
      .then(function (result) {
        if (!result.ok) throw new Error(result.message);
        return post(page.getAttribute("data-complete-url"), { payment_intent: result.paymentIntentId });
      })
      .then(function (answer) {
        if (answer.error) throw new Error(answer.error);
        window.location.assign(answer.redirect);
      })
      .catch(function (error) {
        problem.textContent = error.message || GENERIC;
        button.disabled = false;
      });
  });
})();
