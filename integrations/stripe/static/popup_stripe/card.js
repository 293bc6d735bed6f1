/*
 * Card payments with Stripe.js v3, for the first-party checkout page. No dependencies.
 *
 *   <script src="{{ STRIPE_JS_URL }}"></script>          (https://js.stripe.com/v3/ in production)
 *   <script src="{% static 'popup_stripe/card.js' %}"></script>
 *   const card = PopupStripeCard.mount({
 *     publishableKey: "pk_...",
 *     container: document.querySelector("#card"),
 *     authoriseUrl: "/checkout/authorise/",   // or authorise: async (cardToken) => answer
 *     csrfToken: "...",
 *   });
 *   const result = await card.pay();   // {ok: true, paymentIntentId} or {ok: false, message}
 *   const saved = await card.save(start);   // a card saved for later (pre-sale pledges), see save()
 *   const paid = await card.confirm(clientSecret);   // 3-D Secure for a server-made PaymentIntent
 *
 * The flow uses only Stripe.js calls that both real Stripe.js and localstripe's fake implement the
 * same way (so the browser tests run this very file):
 *   1. stripe.createToken(cardElement): the card goes from the browser to Stripe, never to us.
 *   2. The server gets the token id and creates a PaymentIntent with capture_method=manual and
 *      confirm=true (integrations.stripe.facade.payment_authorise). It answers JSON:
 *      {payment_intent, status, client_secret} or, with HTTP 402, {error: "message"}.
 *   3. status "requires_action" (3-D Secure): stripe.confirmCardPayment(clientSecret), without data,
 *      shows the bank's challenge. A failed challenge comes back as {error} from Stripe and as a
 *      PaymentIntent in requires_payment_method with last_payment_error from localstripe: both are
 *      handled.
 * `ok` means authorised (requires_capture), nothing charged yet: the server checks the PaymentIntent
 * again (facade.payment_authorisation_check) before it secures the units and captures.
 * (stripe.confirmCardPayment(clientSecret, {payment_method: {card}}) is not used: localstripe's fake
 * drops the card data there.)
 */
(function () {
  "use strict";

  // The page's words (popup's base page, #popup-text), English where a store's page has none.
  var texts = JSON.parse((document.getElementById("popup-text") || {}).textContent || "{}");
  var AUTHENTICATION_FAILED = texts["not-confirmed"] ||
    "Your bank could not confirm this payment. Nothing was charged: try again, or use another card.";
  var DECLINED = texts.declined || "Your card was declined.";
  var UNAVAILABLE = texts.unavailable ||
    "Payment is unavailable right now. Nothing was charged: please try again.";

  function failure(message) {
    return { ok: false, message: message || DECLINED };
  }

  function errorMessage(error) {
    if (!error) return DECLINED;
    if (error.code === "payment_intent_authentication_failure") return AUTHENTICATION_FAILED;
    return error.message || DECLINED;
  }

  function postToken(url, csrfToken) {
    return async function (cardToken) {
      var headers = { "Content-Type": "application/json", Accept: "application/json" };
      if (csrfToken) headers["X-CSRFToken"] = csrfToken;
      var response = await fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: headers,
        body: JSON.stringify({ card_token: cardToken }),
      });
      var answer = await response.json().catch(function () {
        return {};
      });
      if (!response.ok && !answer.error) answer.error = UNAVAILABLE;
      return answer;
    };
  }

  function mount(options) {
    var stripe = window.Stripe(options.publishableKey);
    var cardElement = stripe.elements().create("card", options.elementOptions || {});
    cardElement.mount(options.container);
    if (options.onChange) {
      // Real Stripe.js passes {complete, error}; localstripe's fake passes nothing.
      cardElement.on("change", function (event) {
        options.onChange(event || {});
      });
    }
    var authorise = options.authorise || postToken(options.authoriseUrl, options.csrfToken);
    var busy = false;

    async function pay() {
      if (busy) return failure("A payment is already under way.");
      busy = true;
      try {
        var tokenResult = await stripe.createToken(cardElement);
        if (tokenResult.error) return failure(errorMessage(tokenResult.error));

        var answer;
        try {
          answer = await authorise(tokenResult.token.id);
        } catch (networkError) {
          return failure(UNAVAILABLE);
        }
        if (answer.error) return failure(answer.error);
        if (answer.status === "requires_capture" || answer.status === "succeeded") {
          return { ok: true, paymentIntentId: answer.payment_intent };
        }
        if (answer.status !== "requires_action") return failure(DECLINED);

        return await confirm(answer.client_secret);
      } finally {
        busy = false;
      }
    }

    // 3-D Secure for a PaymentIntent the server created and confirmed (status requires_action).
    async function confirm(clientSecret) {
      var confirmed = await stripe.confirmCardPayment(clientSecret);
      if (confirmed.error) return failure(errorMessage(confirmed.error));
      var intent = confirmed.paymentIntent || {};
      if (intent.status === "requires_capture" || intent.status === "succeeded") {
        return { ok: true, paymentIntentId: intent.id };
      }
      return failure(errorMessage(intent.last_payment_error || { code: "payment_intent_authentication_failure" }));
    }

    // Save the card for later charges without charging it (a SetupIntent, usage off_session).
    // `start()` answers {client_secret} from the server, or {error}. 3-D Secure, if the bank asks
    // for it, happens inside confirmCardSetup. Result: {ok: true, setupIntentId} or {ok: false, message}.
    async function save(start) {
      if (busy) return failure(texts["under-way"] || "Already under way.");
      busy = true;
      try {
        var answer;
        try {
          answer = await start();
        } catch (networkError) {
          return failure(UNAVAILABLE);
        }
        if (answer.error) return failure(answer.error);
        var result = await stripe.confirmCardSetup(answer.client_secret, {
          payment_method: { card: cardElement },
        });
        if (result.error) return failure(errorMessage(result.error));
        var setup = result.setupIntent || {};
        if (setup.status !== "succeeded") return failure(errorMessage({ code: "payment_intent_authentication_failure" }));
        return { ok: true, setupIntentId: setup.id };
      } finally {
        busy = false;
      }
    }

    return { pay: pay, save: save, confirm: confirm, element: cardElement };
  }

  window.PopupStripeCard = { mount: mount };
})();
