// Feedback from the pop-up, without cookies so it works embedded: "notify me" on products not on
// sale yet or any more (Oscar product alerts), questions for the merchant, the idea box and polls.
// Each form is hidden until this script runs, and has a "website" field that only bots fill in.
(function () {
  "use strict";
  var root = document.querySelector("[data-popup]");
  if (!root || !window.fetch) return;
  var base = "/popup/" + root.getAttribute("data-popup") + "/";
  var FAILED = "Something went wrong, please try again.";
  var OFFLINE = "No connection, please try again.";

  // POST JSON; resolves with the answer, rejects with an Error whose message is for the shopper.
  function post(path, body) {
    return fetch(base + path, {
      method: "POST", credentials: "omit", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (answer) {
        if (!response.ok) throw new Error(answer.error || FAILED);
        return answer;
      });
    }, function () { throw new Error(OFFLINE); });
  }

  function each(selector, setUp) {
    var found = document.querySelectorAll(selector);
    for (var i = 0; i < found.length; i++) {
      found[i].hidden = false;
      setUp(found[i]);
    }
  }

  // "Notify me": a waitlist sign-up, confirmed from an e-mail. Shown on what cannot be bought now
  // (live.js shows and hides it as the units left change).
  each("[data-notify]", function (form) {
    form.hidden = !(form.hasAttribute("data-notify-always") || form.closest(".product--out"));
    var message = form.querySelector("[data-notify-message]");
    var button = form.querySelector("button");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      button.disabled = true;
      message.textContent = "";
      post("waitlist/", {
        product: +form.closest("[data-product]").getAttribute("data-product"),
        email: form.elements.email.value.trim(), website: form.elements.website.value
      }).then(function (answer) {
        message.textContent = answer.message;
        form.elements.email.disabled = true;
      }).catch(function (error) {
        message.textContent = error.message;
        button.disabled = false;
      });
    });
  });

  // Questions: shown on the pop-up once the merchant has answered them.
  each("[data-ask]", function (form) {
    var message = form.querySelector("[data-ask-message]");
    var button = form.querySelector("button");
    var fields = form.elements;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      button.disabled = true;
      message.textContent = "";
      post("questions/", {
        body: fields.body.value, name: fields.name.value, email: fields.email.value.trim(),
        website: fields.website.value
      }).then(function (answer) {
        message.textContent = answer.message;
        fields.body.value = "";
      }).catch(function (error) {
        message.textContent = error.message;
      }).then(function () { button.disabled = false; });
    });
  });

  // The idea box: suggest an idea, vote for one (one vote per e-mail address, remembered here).
  each("[data-ideas]", function (box) {
    var me = box.querySelector("[data-ideas-me]");
    var voter = me.querySelector("input");
    var form = box.querySelector("[data-idea-form]");
    var message = box.querySelector("[data-ideas-message]");
    var key = "popup-voter";
    try { voter.value = localStorage.getItem(key) || ""; } catch (e) { /* storage blocked: ask again */ }
    me.hidden = false;
    form.hidden = false;

    function email() {
      var value = voter.value.trim();
      try { localStorage.setItem(key, value); } catch (e) { /* fine */ }
      return value;
    }

    box.addEventListener("click", function (event) {
      var button = event.target.closest("[data-vote]");
      if (!button) return;
      var item = button.closest("[data-idea]");
      message.textContent = "";
      if (!email()) { message.textContent = "Enter your e-mail above to vote."; voter.focus(); return; }
      button.disabled = true;
      post("ideas/" + item.getAttribute("data-idea") + "/vote/", { email: email() })
        .then(function (answer) {
          item.querySelector("[data-votes]").textContent = answer.idea.votes;
          message.textContent = answer.counted ? "Thank you for your vote!" : "You have already voted for this one.";
        })
        .catch(function (error) { message.textContent = error.message; button.disabled = false; });
    });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      message.textContent = "";
      if (!email()) { message.textContent = "Enter your e-mail above first."; voter.focus(); return; }
      var fields = form.elements;
      post("ideas/", { title: fields.title.value, body: fields.body.value, email: email(), website: fields.website.value })
        .then(function (answer) { message.textContent = answer.message; form.reset(); })
        .catch(function (error) { message.textContent = error.message; });
    });
  });

  // Polls: the vote counts once the voter confirms their address from the e-mail.
  each("[data-poll-form]", function (form) {
    var poll = form.closest("[data-poll]").getAttribute("data-poll");
    var message = form.querySelector("[data-poll-message]");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var chosen = form.querySelector("input[name=option]:checked");
      message.textContent = "";
      if (!chosen) { message.textContent = "Choose one first."; return; }
      post("polls/" + poll + "/vote/", {
        option: +chosen.value, email: form.elements.email.value.trim(), website: form.elements.website.value
      })
        .then(function (answer) { message.textContent = answer.message; })
        .catch(function (error) { message.textContent = error.message; });
    });
  });
})();
