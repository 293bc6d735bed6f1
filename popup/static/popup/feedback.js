// Feedback from the pop-up, without cookies so it works embedded: "notify me" on products not on
// sale yet or any more (Oscar product alerts), questions for the merchant, the idea box and polls.
// Each form is hidden until this script runs, and has a "website" field that only bots fill in.
// The page is the same for every shopper (a cached shell): what is this shopper's own (their ideas
// waiting for review, their vote waiting for its confirmation) comes from the API's answers and is
// kept on this device, per pop-up, with the receipts to ask about it again. Texts come from the page.
(function () {
  "use strict";
  var root = document.querySelector("[data-popup]");
  var me = document.currentScript || document.querySelector("script[data-vote-pending]");
  if (!root || !me || !window.fetch) return;
  var slug = root.getAttribute("data-popup");
  var base = "/popup/" + slug + "/";
  var plurals = window.Intl && Intl.PluralRules ? new Intl.PluralRules(me.getAttribute("data-locale") || undefined) : null;
  var fieldCount = 0;

  function text(name) { return me.getAttribute("data-" + name) || ""; }

  // "3 votes · 60%": the page's text for one or for several, as the shopper's language counts.
  function counted(name, number) {
    var one = plurals ? plurals.select(number) === "one" : number === 1;
    return text(name + (one ? "-one" : "-other")).replace("__N__", number);
  }

  // Kept on this device like the basket's token (basket.js); in memory where storage is blocked
  // (a third-party frame): then it lasts as long as the page.
  var memory = {};
  function kept(key, fallback) {
    var value;
    try { value = localStorage.getItem(key); } catch (e) { value = memory[key]; }
    try { return value ? JSON.parse(value) : fallback; } catch (e) { return fallback; }
  }
  function keep(key, value) {
    var json = JSON.stringify(value);
    try { localStorage.setItem(key, json); } catch (e) { memory[key] = json; }
  }
  var IDEAS = "popup-ideas:" + slug, POLLS = "popup-polls:" + slug, VOTER = "popup-voter";

  // GET (no body) or POST JSON; resolves with the answer, rejects with an Error whose message is for
  // the shopper, with the API's `answer` (its `field`, its `code`) and `status`.
  function call(path, body) {
    return fetch(base + path, {
      method: body ? "POST" : "GET", credentials: "omit",
      headers: body
        ? { "Content-Type": "application/json", "Accept-Language": document.documentElement.lang }
        : { "Accept-Language": document.documentElement.lang },
      body: body ? JSON.stringify(body) : undefined
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (answer) {
        if (response.ok) return answer;
        var error = new Error(answer.error || text("failed"));
        error.answer = answer;
        error.status = response.status;
        throw error;
      });
    }, function () {
      var error = new Error(text("offline"));
      error.answer = {};
      throw error;
    });
  }

  function each(selector, setUp) {
    var found = document.querySelectorAll(selector);
    for (var i = 0; i < found.length; i++) setUp(found[i]);
  }

  // Open the folded section around `element`: something just happened there for the shopper.
  function unfold(element) {
    var fold = element.closest("details");
    if (fold) fold.open = true;
  }

  // A refused field says why right after it, in words, is marked invalid and takes the focus
  // (WCAG 3.3.1, 3.3.3); a group of choices (a fieldset) says it after the group.
  function fieldError(field, message) {
    var group = field.tagName === "FIELDSET";
    if (!field.id) field.id = "popup-field-" + (++fieldCount);
    var id = field.id + "-error";
    var error = document.getElementById(id);
    if (!error) {
      error = document.createElement("p");
      error.id = id;
      error.className = "field-error";
      error.setAttribute("data-field-error", "");
      (group ? field : field.closest("label") || field).insertAdjacentElement("afterend", error);
    }
    error.textContent = message;
    field.setAttribute("aria-describedby", id);
    if (!group) field.setAttribute("aria-invalid", "true");
    unfold(field);
    (group ? field.querySelector("input") : field).focus();
  }

  function errorsClear(scope) {
    var errors = scope.querySelectorAll("[data-field-error]");
    for (var i = 0; i < errors.length; i++) {
      var field = document.querySelector('[aria-describedby="' + errors[i].id + '"]');
      if (field) { field.removeAttribute("aria-invalid"); field.removeAttribute("aria-describedby"); }
      errors[i].parentNode.removeChild(errors[i]);
    }
  }

  // Where a refusal goes: next to the field it names, or else in the form's status line. What the
  // shopper typed stays where it is.
  function refused(error, fields, status) {
    var name = error.answer && (error.answer.field || error.answer.code);
    if (name && fields[name]) {
      fieldError(fields[name], error.message);
    } else {
      status.textContent = error.message;
      unfold(status);
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
      call("waitlist/", {
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
    form.hidden = false;
    var message = form.querySelector("[data-ask-message]");
    var button = form.querySelector("button");
    var fields = form.elements;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      errorsClear(form);
      button.disabled = true;
      message.textContent = "";
      call("questions/", {
        body: fields.body.value, name: fields.name.value, email: fields.email.value.trim(),
        website: fields.website.value
      }).then(function (answer) {
        message.textContent = answer.message;
        fields.body.value = "";
      }).catch(function (error) {
        refused(error, { body: fields.body, name: fields.name, email: fields.email }, message);
      }).then(function () { button.disabled = false; });
    });
  });

  // The idea box: suggest an idea, vote for one (one vote per e-mail address, remembered here).
  // The shopper's own ideas show at once, marked as theirs, and again on their next visit.
  each("[data-ideas]", function (box) {
    var voterLabel = box.querySelector("[data-ideas-me]");
    var voter = voterLabel.querySelector("input");
    var list = box.querySelector("[data-ideas-list]");
    var form = box.querySelector("[data-idea-form]");
    var button = form.querySelector("button[type=submit]");
    var message = box.querySelector("[data-ideas-message]");
    var mine = kept(IDEAS, []);
    try { voter.value = localStorage.getItem(VOTER) || ""; } catch (e) { /* storage blocked: ask again */ }
    voterLabel.hidden = false;
    form.hidden = false;

    function email() {
      var value = voter.value.trim();
      try { localStorage.setItem(VOTER, value); } catch (e) { /* fine */ }
      return value;
    }

    function remember(idea) {
      mine = mine.filter(function (each) { return each.id !== idea.id; });
      mine.unshift(idea);
      keep(IDEAS, mine.slice(0, 20));
    }

    function element(tag, className, content) {
      var made = document.createElement(tag);
      if (className) made.className = className;
      if (content) made.textContent = content;
      return made;
    }

    function waiting(idea) { return idea.status === "open" || idea.status === "spam"; }

    // The shopper's idea in the list, marked as theirs: the page's own item when it has one, else
    // one made from what the API said (first in the list).
    function show(idea) {
      var item = list.querySelector('[data-idea="' + idea.id + '"]');
      if (!item) {
        item = element("li", "ideas__item");
        item.setAttribute("data-idea", idea.id);
        var votes = item.appendChild(element("span", "ideas__vote ideas__vote--mine", "▲ " + idea.votes));
        votes.setAttribute("aria-hidden", "true");
        var about = item.appendChild(element("div"));
        var title = about.appendChild(element("p", "ideas__title"));
        title.appendChild(element("span", "", idea.title));
        if (!waiting(idea)) {
          title.appendChild(document.createTextNode(" "));
          title.appendChild(element("span", "ideas__status ideas__status--" + idea.status, idea.status_label));
        }
        if (idea.body) about.appendChild(element("p", "ideas__body", idea.body));
        list.insertBefore(item, list.firstChild);
        list.hidden = false;
      }
      item.classList.add("ideas__item--mine");
      var tag = item.querySelector("[data-idea-mine]");
      if (!tag) {
        var heading = item.querySelector(".ideas__title");
        heading.appendChild(document.createTextNode(" "));
        tag = heading.appendChild(element("span", "ideas__mine"));
        tag.setAttribute("data-idea-mine", "");
      }
      tag.textContent = text(waiting(idea) ? "mine-waiting" : "mine");
    }

    function drop(idea) {
      mine = mine.filter(function (each) { return each.id !== idea.id; });
      keep(IDEAS, mine);
      var item = list.querySelector('[data-idea="' + idea.id + '"]');
      if (item && !item.querySelector("[data-vote]")) list.removeChild(item);
    }

    // Ideas the page does not show (yet: held for review, or a cached page) are asked about again:
    // one the shop took off the board leaves this device's list too.
    var unseen = mine.filter(function (idea) { return !list.querySelector('[data-idea="' + idea.id + '"]'); });
    mine.slice().reverse().forEach(show);
    if (unseen.length) {
      unfold(list);
      call("ideas/?" + unseen.map(function (idea) { return "mine=" + encodeURIComponent(idea.receipt); }).join("&"))
        .then(function (answer) {
          var now = {};
          answer.ideas.forEach(function (idea) { now[idea.id] = idea; });
          unseen.forEach(function (idea) {
            var fresh = now[idea.id];
            if (!fresh || fresh.status === "hidden") { drop(idea); return; }
            remember(fresh);
            show(fresh);
          });
        })
        .catch(function () { /* shown as kept; asked again next time */ });
    }

    box.addEventListener("click", function (event) {
      var vote = event.target.closest("[data-vote]");
      if (!vote) return;
      var item = vote.closest("[data-idea]");
      errorsClear(box);
      message.textContent = "";
      if (!email()) { fieldError(voter, text("email-first")); return; }
      vote.disabled = true;
      call("ideas/" + item.getAttribute("data-idea") + "/vote/", { email: email() })
        .then(function (answer) {
          item.querySelector("[data-votes]").textContent = answer.idea.votes;
          message.textContent = text(answer.counted ? "voted" : "voted-before");
        })
        .catch(function (error) {
          refused(error, { email: voter }, message);
          vote.disabled = false;
        });
    });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      errorsClear(box);
      message.textContent = "";
      var fields = form.elements;
      if (!email()) { fieldError(voter, text("email-first")); return; }
      button.disabled = true;
      // The receipts this device kept prove which ideas are the shopper's own: the same idea sent
      // again comes back, to show as theirs, only with its receipt (an address proves nothing).
      var receipts = mine.map(function (idea) { return idea.receipt; });
      call("ideas/", { title: fields.title.value, body: fields.body.value, email: email(), website: fields.website.value, receipts: receipts })
        .then(function (answer) {
          if (answer.idea) { remember(answer.idea); show(answer.idea); }
          message.textContent = answer.message;
          form.reset();
        })
        .catch(function (error) {
          if (error.answer.idea) { remember(error.answer.idea); show(error.answer.idea); }
          refused(error, { title: fields.title, body: fields.body, email: voter }, message);
        })
        .then(function () { button.disabled = false; });
    });
  });

  // Polls: a vote counts once the voter confirms their address from the e-mail. Until then the
  // shopper reads so (not "0 votes"); once it counts, the results, their own choice marked.
  var votes = kept(POLLS, {});
  each("[data-poll]", function (section) {
    var poll = section.getAttribute("data-poll");
    var form = section.querySelector("[data-poll-form]");
    var results = section.querySelector("[data-poll-results]");
    var message = section.querySelector("[data-poll-message]");
    var again = section.querySelector("[data-poll-again]");

    // Show the poll as it stands for this shopper: no vote (the form), a vote waiting for its
    // confirmation (what to do), a vote that counts or a closed poll (the results).
    function state(vote) {
      var waiting = !!vote && !vote.confirmed;
      if (form) {
        form.hidden = !!vote;
        again.hidden = !waiting;
        results.hidden = !vote || waiting;
      }
      if (waiting && message) message.textContent = text("vote-pending").replace("__EMAIL__", vote.email);
      var rows = results.querySelectorAll("[data-option]");
      for (var i = 0; i < rows.length; i++) {
        var chosen = !!vote && !waiting && +rows[i].getAttribute("data-option") === vote.option;
        rows[i].classList.toggle("poll__option--mine", chosen);
        rows[i].querySelector("[data-poll-mine]").hidden = !chosen;
      }
    }

    // The confirmed results as the API tells them now (the page's copy may be a cached one).
    function fill(answer) {
      section.querySelector("[data-poll-total]").textContent = counted("total", answer.total);
      answer.options.forEach(function (option) {
        var row = results.querySelector('[data-option="' + option.id + '"]');
        if (!row) return;
        row.querySelector("[data-poll-votes]").textContent = counted("votes", option.votes).replace("__P__", option.percent);
        row.querySelector("[data-poll-bar]").style.width = option.percent + "%";
      });
    }

    function save(vote) {
      if (vote) votes[poll] = vote; else delete votes[poll];
      keep(POLLS, votes);
    }

    var vote = votes[poll];
    state(vote);
    if (vote && !vote.confirmed) unfold(results);
    if (vote && vote.receipt) {
      call("polls/" + poll + "/vote/?receipt=" + encodeURIComponent(vote.receipt))
        .then(function (answer) {
          var confirmedNow = answer.vote.confirmed && !vote.confirmed;
          vote.confirmed = answer.vote.confirmed;
          vote.option = answer.vote.option;
          save(vote);
          fill(answer.results);
          if (confirmedNow && message) message.textContent = "";
          state(vote);
          if (confirmedNow) unfold(results);
        })
        .catch(function (error) {
          if (error.status !== 404) return;  // a vote unknown now (deleted, a new secret key): vote again
          save(null);
          if (message) message.textContent = "";
          state(null);
        });
    }
    if (!form) return;

    var button = form.querySelector("button[type=submit]");
    var choices = form.querySelector("fieldset");
    message.setAttribute("tabindex", "-1");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      errorsClear(section);
      message.textContent = "";
      var chosen = form.querySelector("input[name=option]:checked");
      if (!chosen) { fieldError(choices, text("choose")); return; }
      var address = form.elements.email.value.trim();
      button.disabled = true;
      call("polls/" + poll + "/vote/", { option: +chosen.value, email: address, website: form.elements.website.value })
        .then(function (answer) {
          if (answer.vote) {
            save({ option: answer.vote.option, email: address, receipt: answer.vote.receipt, confirmed: answer.vote.confirmed });
            state(votes[poll]);
          }
          message.textContent = answer.message;
          message.focus();  // the form it was in is gone: what it says now is here
        })
        .catch(function (error) {
          refused(error, { email: form.elements.email, option: choices }, message);
        })
        .then(function () { button.disabled = false; });
    });

    // A mistyped address never gets the link: vote again with the right one (the form kept it all).
    again.addEventListener("click", function () {
      save(null);
      message.textContent = "";
      state(null);
      form.elements.email.focus();
    });
  });
})();
