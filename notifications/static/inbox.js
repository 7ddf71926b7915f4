// Live inbox. Without JavaScript the page is complete; with it, the feed (server-sent events
// from the feeds process) says when the inbox changed, and the page fetches what is new,
// rendered by the server in the reader's language.
(function () {
  "use strict";
  var list = document.getElementById("alerts");
  if (!list || !window.EventSource || !window.fetch) { return; }
  var cursors = { alerts: list.dataset.alertsAfter, notices: list.dataset.noticesAfter };
  var busy = false, again = false;

  function prepend(container, html, id) {
    if (document.getElementById(id)) { return false; }
    var holder = document.createElement("ul");
    holder.innerHTML = html;  // rendered and escaped by the server
    container.insertBefore(holder.firstElementChild, container.firstChild);
    return true;
  }

  function show(update) {
    update.alerts.forEach(function (alert) {
      if (prepend(list, alert.html, "alert-" + alert.id)) {
        var empty = document.getElementById("no-alerts");
        if (empty) { empty.remove(); }
      }
    });
    var notices = document.getElementById("exchange-notices");
    update.notices.forEach(function (notice) {
      if (prepend(notices, notice.html, "notice-" + notice.id)) {
        document.getElementById("exchanges-section").hidden = false;
      }
    });
    var badge = document.getElementById("unread-count");
    if (badge) { badge.textContent = update.unread === 0 ? "" : String(update.unread); }
    var summary = document.getElementById("unread-summary");
    if (summary) { summary.textContent = update.unread_text; }
    cursors.alerts = update.alerts_after;
    cursors.notices = update.notices_after;
  }

  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    var url = new URL(list.dataset.updates, window.location.href);
    url.searchParams.set("alerts_after", cursors.alerts);
    url.searchParams.set("notices_after", cursors.notices);
    var asked = { credentials: "same-origin", redirect: "manual", headers: { Accept: "application/json" } };
    fetch(url.toString(), asked)
      .then(function (response) {
        // Logged out, removed or demoted meanwhile: the feed has nothing more for this page.
        if (response.type === "opaqueredirect" || response.status === 401 || response.status === 403) {
          ended();
          return null;
        }
        return response.ok ? response.json() : null;
      })
      .then(function (update) { if (update) { show(update); } })
      .catch(function () { /* the next change or reconnection tries again */ })
      .finally(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
  }

  function ended() {
    source.close();
    list.dataset.live = "ended";
    document.getElementById("live-ended").hidden = false;
  }

  var source = new EventSource(list.dataset.feed);
  // On every (re)connection: whatever arrived while the page loaded or the feed was away.
  source.addEventListener("open", function () { list.dataset.live = "open"; refresh(); });
  source.addEventListener("changed", refresh);
})();
