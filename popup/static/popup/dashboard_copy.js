// Pop-ups dashboard: a [data-copy="#id"] button copies that element's text (snippets, links, feed URLs).
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var text = document.querySelector(button.getAttribute("data-copy")).textContent;
    var done = function () {
      var label = button.innerHTML;
      button.textContent = button.getAttribute("data-copied") || "Copied";
      setTimeout(function () { button.innerHTML = label; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done);
    } else {
      var area = document.createElement("textarea");
      area.value = text;
      document.body.appendChild(area);
      area.select();
      document.execCommand("copy");
      document.body.removeChild(area);
      done();
    }
  });
})();
