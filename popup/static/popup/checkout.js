// The checkout page: sends the shopper's details with a Stripe card token, passes 3-D Secure if the
// bank asks, then asks the server to place the order. The card number only ever goes to Stripe.
(function () {
  "use strict";
  var page = document.querySelector("[data-checkout-page]");
  var form = document.querySelector("[data-checkout-form]");
  if (!page || !form || !window.PopupStripeCard) return;
  var button = form.querySelector("button[type=submit]");
  var problem = form.querySelector("[data-checkout-error]");
  var texts = JSON.parse((document.getElementById("popup-text") || {}).textContent || "{}");
  var GENERIC = texts.unavailable;

  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "omit",
      headers: {
        "Content-Type": "application/json", Accept: "application/json",
        "Accept-Language": document.documentElement.lang
      },
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

  // Each error beside its field, the field marked invalid, and the first of them focused, so the
  // shopper hears and sees what to fix (WCAG 3.3.1, 3.3.3); what was typed stays.
  function showErrors(errors) {
    var slots = form.querySelectorAll("[data-error-for]"), first = null;
    for (var i = 0; i < slots.length; i++) {
      var name = slots[i].getAttribute("data-error-for"), list = errors && errors[name];
      var field = form.querySelector('[name="' + name + '"]');
      slots[i].textContent = list ? list.join(" ") : "";
      if (!field) continue;
      if (list) field.setAttribute("aria-invalid", "true");
      else field.removeAttribute("aria-invalid");
      if (list && !first) first = field;
    }
    if (first) first.focus();
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

  // The figures for a delivery country, from the same quote the payment will charge.
  var figures = page.querySelector("[data-figures]");
  function quote(country) {
    var url = figures.getAttribute("data-figures-url");
    return fetch(url + "?" + new URLSearchParams({ country: country }), {
      credentials: "omit",
      headers: { Accept: "application/json", "Accept-Language": document.documentElement.lang }
    }).then(function (response) {
      if (!response.ok) throw new Error(GENERIC);
      return response.json();
    });
  }

  // Apple Pay / Google Pay, with real Stripe.js only (localstripe's fake has no Payment Request).
  // The wallet gives a PaymentMethod, the payer and the address; the server goes on as for a card.
  var walletRequote = null;  // the sheet's figures for the country the form now quotes
  function offerWallets() {
    if (page.getAttribute("data-wallets") !== "1" || !figures) return;
    var stripe = window.Stripe(page.getAttribute("data-publishable-key"));
    if (typeof stripe.paymentRequest !== "function") return;
    var shipping = page.getAttribute("data-requires-shipping") === "1";
    function sheet(amount, delivery) {
      var shown = { total: { label: page.getAttribute("data-label"), amount: amount } };
      if (shipping) shown.shippingOptions = [{ id: "standard", label: texts.shipping, detail: "", amount: delivery }];
      return shown;
    }
    var request = stripe.paymentRequest(Object.assign({
      country: page.getAttribute("data-country"),
      currency: page.getAttribute("data-currency").toLowerCase(),
      requestPayerName: true, requestPayerEmail: true, requestShipping: shipping
    }, sheet(+page.getAttribute("data-amount"), +page.getAttribute("data-delivery-amount"))));
    // The server charges the delivery to the wallet's address: the sheet shows that total.
    request.on("shippingaddresschange", function (event) {
      quote((event.shippingAddress || {}).country || "").then(function (answer) {
        event.updateWith(Object.assign({ status: "success" }, sheet(answer.amount, answer.delivery_amount)));
      }).catch(function () { event.updateWith({ status: "fail" }); });
    });
    walletRequote = function (answer) { request.update(sheet(answer.amount, answer.delivery_amount)); };
    request.canMakePayment().then(function (can) {
      if (!can) return;
      stripe.elements().create("paymentRequestButton", { paymentRequest: request }).mount("#wallet-button");
      document.querySelector("[data-wallet]").hidden = false;
    });
    request.on("paymentmethod", function (event) {
      var names = (event.payerName || "").split(" "), place = event.shippingAddress || {};
      var lines = place.addressLine || [];
      var body = {
        payment_method: event.paymentMethod.id, email: event.payerEmail,
        first_name: names[0] || "", last_name: names.slice(1).join(" ") || names[0] || "",
        line1: lines[0] || "", line2: lines.slice(1).join(", "), city: place.city || "",
        postcode: place.postalCode || "", country: place.country || ""
      };
      post(page.getAttribute("data-pay-url"), body).then(function (answer) {
        if (answer.error) { event.complete("fail"); problem.textContent = answer.error; return; }
        event.complete("success");
        if (answer.redirect) return window.location.assign(answer.redirect);
        return stripe.confirmCardPayment(answer.client_secret).then(function (result) {
          if (result.error) throw new Error(result.error.message);
          return post(page.getAttribute("data-complete-url"), { payment_intent: answer.payment_intent });
        }).then(function (done) {
          if (done.error) throw new Error(done.error);
          window.location.assign(done.redirect);
        });
      }).catch(function (error) { problem.textContent = error.message || GENERIC; });
    });
  }
  offerWallets();

  // The delivery charge may depend on the country (the store's shipping methods): the figures and
  // the button follow the country chosen, from the same quote the payment will charge. Paying
  // waits for them, so nobody pays a total they were not shown.
  var country = form.querySelector("select[name=country]");
  var quoted = country ? country.value : "";
  function show(selector, text) {
    var places = page.querySelectorAll(selector);
    for (var i = 0; i < places.length; i++) places[i].textContent = text;
  }
  function requote() {
    if (!figures || country.value === quoted) return;
    var asked = country.value;
    button.disabled = true;
    quote(asked).then(function (answer) {
      if (country.value !== asked) return;  // changed again meanwhile: that answer decides
      quoted = asked;
      figures.innerHTML = answer.html;  // the server's own rendering of the figures
      show("[data-total-text]", answer.total);
      button.textContent = button.getAttribute("data-pay-label").replace("__TOTAL__", answer.total);
      page.setAttribute("data-amount", answer.amount);
      if (walletRequote) walletRequote(answer);
    }).catch(function () {
      problem.textContent = texts.offline;
    }).then(function () { button.disabled = false; });
  }
  if (country && figures) country.addEventListener("change", requote);

  // All-or-nothing pre-sale: the details are checked and the units secured, then the card is saved
  // (3-D Secure there if the bank wants it) and nothing is charged; the server makes the pledge.
  function pledge() {
    return card.save(function () {
      return post(page.getAttribute("data-pledge-url"), details()).then(function (answer) {
        showErrors(answer.errors);
        if (answer.redirect) window.location.assign(answer.redirect);
        return answer;
      });
    }).then(function (result) {
      if (!result.ok) throw new Error(result.message);
      return post(page.getAttribute("data-pledged-url"), { setup_intent: result.setupIntentId });
    });
  }

  function pay() {
    return card.pay().then(function (result) {
      if (!result.ok) throw new Error(result.message);
      return post(page.getAttribute("data-complete-url"), { payment_intent: result.paymentIntentId });
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    problem.textContent = "";
    if (figures && country && country.value !== quoted) return requote();  // the figures first
    button.disabled = true;
    (page.hasAttribute("data-pledge-url") ? pledge() : pay())
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
