// Behaviour every page shares. Pages carry no inline script: the Content-Security-Policy
// (shared/security_headers.py) allows scripts from our own files only.
(function () {
  "use strict";
  // A form that came back with errors: start screen readers and keyboards from what to correct.
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }
})();

// The header's unread badge, on every page of every service: the notifications service
// knows the count (/inbox/unread, reached through the edge with the member's identity).
// Asked once when the page loads and again when its tab is shown after a while; no
// connection stays open. The inbox heading, where there is one, gets the same answer.
(function () {
  "use strict";
  var badge = document.getElementById("unread-count");
  if (!badge || !window.fetch) { return; }
  var asked = 0, AGAIN_AFTER_MS = 30000;

  function show(answer) {
    badge.textContent = answer.unread === 0 ? "" : String(answer.unread);
    badge.dataset.unread = String(answer.unread);
    var heading = document.getElementById("unread-summary");
    if (heading) { heading.textContent = answer.unread_text; }
  }

  function ask() {
    asked = Date.now();
    fetch("/inbox/unread", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (answer) { if (answer) { show(answer); } })
      .catch(function () { /* the badge stays as it was; the next page asks again */ });
  }

  ask();
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && Date.now() - asked > AGAIN_AFTER_MS) { ask(); }
  });
  // A page restored from the back-forward cache shows what it showed then: ask again.
  window.addEventListener("pageshow", function (event) { if (event.persisted) { ask(); } });
})();
