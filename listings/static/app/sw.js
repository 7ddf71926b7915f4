// Boucle's service worker: shows Web Push alerts while no Boucle tab is open, and opens the
// listing when the notification is tapped. Served at /sw.js so that its scope is the site.
"use strict";

self.addEventListener("install", function () {
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});

self.addEventListener("push", function (event) {
  var alert = {};
  try {
    alert = event.data ? event.data.json() : {};
  } catch (error) {
    alert = { title: event.data ? event.data.text() : "Boucle" };
  }
  event.waitUntil(
    self.registration.showNotification(alert.title || "Boucle", {
      body: alert.body || "",
      tag: alert.tag,
      lang: alert.lang,
      icon: "/static/app/icon-192.png",
      badge: "/static/app/icon-192.png",
      data: { url: alert.url || "/inbox" },
    })
  );
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var url = new URL(event.notification.data.url, self.location.origin);
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (tabs) {
      for (var i = 0; i < tabs.length; i++) {
        if (tabs[i].url === url.href && "focus" in tabs[i]) return tabs[i].focus();
      }
      return self.clients.openWindow(url.href);
    })
  );
});

// A fetch handler makes the app installable; the network answers everything (no offline copy
// of listings that may have been taken since).
self.addEventListener("fetch", function () {});
