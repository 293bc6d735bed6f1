// The pledge page: save another card for the pledge, or pay a pledge whose charge failed (with the
// saved card or a new one, passing 3-D Secure if the bank asks). Card data only ever goes to Stripe.
(function () {
  "use strict";
  var page = document.querySelector("[data-pledge-page]");
  var form = document.querySelector("[data-card-form]");
  if (!page || !form || !window.PopupStripeCard) return;
  var problem = page.querySelector("[data-pledge-error]");
  var paySaved = page.querySelector("[data-pay-saved]");
  var buttons = page.querySelectorAll("[data-pay-saved], [data-card-form] button");
  var texts = JSON.parse((document.getElementById("popup-text") || {}).textContent || "{}");
  var GENERIC = texts.unavailable;

  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "omit",
      headers: {
        "Content-Type": "application/json", Accept: "application/json",
        "Accept-Language": document.documentElement.lang
      },
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().catch(function () { return { error: GENERIC }; }).then(function (answer) {
        if (!response.ok && !answer.error) answer.error = GENERIC;
        return answer;
      });
    });
  }

  function busy(on) {
    for (var i = 0; i < buttons.length; i++) buttons[i].disabled = on;
  }

  var card = window.PopupStripeCard.mount({
    publishableKey: page.getAttribute("data-publishable-key"),
    container: document.getElementById("card")
  });

  // Charge the pledge's saved card now; the bank may want the backer to confirm (3-D Secure).
  function pay() {
    return post(page.getAttribute("data-pay-url")).then(function (answer) {
      if (answer.error || answer.status !== "requires_action") return answer;
      return card.confirm(answer.client_secret).then(function () {
        // Whatever the browser says, the server asks Stripe.
        return post(page.getAttribute("data-pay-complete-url"), { payment_intent: answer.payment_intent });
      });
    });
  }

  function saveCard() {
    return card.save(function () {
      return post(page.getAttribute("data-card-url"));
    }).then(function (result) {
      if (!result.ok) return { error: result.message };
      return post(page.getAttribute("data-card-saved-url"), { setup_intent: result.setupIntentId });
    });
  }

  function run(steps) {
    problem.textContent = "";
    busy(true);
    steps()
      .then(function (answer) {
        if (answer.error) throw new Error(answer.error);
        window.location.reload();
      })
      .catch(function (error) {
        problem.textContent = error.message || GENERIC;
        busy(false);
      });
  }

  if (paySaved) paySaved.addEventListener("click", function () { run(pay); });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    run(function () {
      return saveCard().then(function (answer) {
        if (answer.error || !paySaved) return answer;
        return pay();
      });
    });
  });
})();
