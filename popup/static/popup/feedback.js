// Feedback from the pop-up, without cookies so it works embedded: "notify me" on products not on
// sale yet or any more (Oscar product alerts), and questions for the merchant.
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

(function () {
  "use strict";
  var root = document.querySelector("[data-popup]");
  var form = document.querySelector("[data-ask]");
  if (!root || !form || !window.fetch) return;
  var url = "/popup/" + root.getAttribute("data-popup") + "/questions/";
  var message = form.querySelector("[data-ask-message]");
  var button = form.querySelector("button");
  form.hidden = false;

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    button.disabled = true;
    message.textContent = "";
    var fields = form.elements;
    fetch(url, {
      method: "POST", credentials: "omit", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        body: fields.body.value, name: fields.name.value, email: fields.email.value.trim(),
        website: fields.website.value
      })
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (answer) {
        if (!response.ok) throw new Error(answer.error || "Something went wrong, please try again.");
        message.textContent = answer.message;
        fields.body.value = "";
        button.disabled = false;
      });
    }).catch(function (error) {
      message.textContent = error.message || "No connection, please try again.";
      button.disabled = false;
    });
  });
})();

// The idea box: suggest an idea, vote for one (one vote per e-mail address, remembered here).
(function () {
  "use strict";
  var root = document.querySelector("[data-popup]");
  var box = document.querySelector("[data-ideas]");
  if (!root || !box || !window.fetch) return;
  var base = "/popup/" + root.getAttribute("data-popup") + "/ideas/";
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

  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "omit", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (answer) {
        if (!response.ok) throw new Error(answer.error || "Something went wrong, please try again.");
        return answer;
      });
    });
  }

  box.addEventListener("click", function (event) {
    var button = event.target.closest("[data-vote]");
    if (!button) return;
    var item = button.closest("[data-idea]");
    message.textContent = "";
    if (!email()) { message.textContent = "Enter your e-mail above to vote."; voter.focus(); return; }
    button.disabled = true;
    post(base + item.getAttribute("data-idea") + "/vote/", { email: email() })
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
    post(base, { title: fields.title.value, body: fields.body.value, email: email(), website: fields.website.value })
      .then(function (answer) { message.textContent = answer.message; form.reset(); })
      .catch(function (error) { message.textContent = error.message; });
  });
})();

// Polls: the vote is sent with an e-mail address, and counts once the voter confirms it.
(function () {
  "use strict";
  var root = document.querySelector("[data-popup]");
  if (!root || !window.fetch) return;
  var base = "/popup/" + root.getAttribute("data-popup") + "/polls/";
  var forms = document.querySelectorAll("[data-poll-form]");
  for (var i = 0; i < forms.length; i++) {
    forms[i].hidden = false;
    forms[i].addEventListener("submit", vote);
  }

  function vote(event) {
    event.preventDefault();
    var form = event.currentTarget;
    var poll = form.closest("[data-poll]").getAttribute("data-poll");
    var message = form.querySelector("[data-poll-message]");
    var chosen = form.querySelector("input[name=option]:checked");
    message.textContent = "";
    if (!chosen) { message.textContent = "Choose one first."; return; }
    fetch(base + poll + "/vote/", {
      method: "POST", credentials: "omit", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        option: +chosen.value, email: form.elements.email.value.trim(), website: form.elements.website.value
      })
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (answer) {
        if (!response.ok) throw new Error(answer.error || "Something went wrong, please try again.");
        message.textContent = answer.message;
      });
    }).catch(function (error) { message.textContent = error.message || "No connection, please try again."; });
  }
})();
