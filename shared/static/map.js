// A map of offers and needs: country borders (or tiles, if configured) and one marker each.
// Used by the monitor's activity page and the listings search; the pages work without it.
(function () {
  "use strict";
  var element = document.getElementById("map");
  if (!element || !window.L) { return; }
  var markers = JSON.parse(document.getElementById("map-markers").textContent);
  var map = L.map(element, { preferCanvas: false }).setView([49.6, 6.4], 8);
  if (element.dataset.tiles) {
    L.tileLayer(element.dataset.tiles, { maxZoom: 18, attribution: element.dataset.attribution }).addTo(map);
  } else {
    fetch(element.dataset.borders).then(function (r) { return r.json(); }).then(function (borders) {
      L.geoJSON(borders, { style: { color: "#777", weight: 1, fillColor: "#eef2ec", fillOpacity: 1 } }).addTo(map).bringToBack();
    });
  }
  var colours = { offer: "#1f6f43", need: "#b35c00" };
  var bounds = [];
  markers.forEach(function (m) {
    var marker = L.circleMarker([m.lat, m.lon], {
      radius: 7, color: colours[m.kind] || "#333", weight: 2, fillOpacity: 0.7, className: "listing-marker listing-" + m.kind
    }).addTo(map);
    var text = document.createElement(m.url ? "a" : "div");
    text.textContent = m.label || (m.kind + ": " + m.title + " (" + m.quantity + " " + m.unit + ")" + (m.organisation_name ? " · " + m.organisation_name : ""));
    if (m.url) { text.href = m.url; }
    marker.bindPopup(text);
    bounds.push([m.lat, m.lon]);
  });
  if (bounds.length > 1) { map.fitBounds(bounds, { padding: [20, 20], maxZoom: 11 }); }
})();
