// Turns on Web Push alerts for this browser: registers the service worker (/sw.js, scope /),
// subscribes with the exchange's VAPID public key and sends the subscription to the server
// with the page's CSRF token. Without JavaScript the page still lists and removes devices.
(function () {
  "use strict";
  var section = document.getElementById("push");
  var button = document.getElementById("push-on");
  var status = document.getElementById("push-status");
  if (!section || !button || !section.dataset.publicKey) return;
  if (!("serviceWorker" in navigator) || !("PushManager" in window)) {
    status.textContent = section.dataset.unsupported || "";
    return;
  }

  function applicationServerKey(base64url) {
    var padded = base64url + "=".repeat((4 - (base64url.length % 4)) % 4);
    var raw = atob(padded.replace(/-/g, "+").replace(/_/g, "/"));
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function turnOn() {
    button.disabled = true;
    Notification.requestPermission()
      .then(function (permission) {
        if (permission !== "granted") throw new Error("permission " + permission);
        return navigator.serviceWorker.register("/sw.js", { scope: "/" });
      })
      .then(function () { return navigator.serviceWorker.ready; })
      .then(function (registration) {
        return registration.pushManager.subscribe({
          userVisibleOnly: true,
          applicationServerKey: applicationServerKey(section.dataset.publicKey),
        });
      })
      .then(function (subscription) {
        return fetch("/settings/notifications/push", {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRFToken": section.dataset.csrf },
          body: JSON.stringify(subscription.toJSON()),
        });
      })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        window.location.reload();
      })
      .catch(function (error) {
        button.disabled = false;
        status.textContent = String(error.message || error);
      });
  }

  button.hidden = false;
  button.addEventListener("click", turnOn);
})();
