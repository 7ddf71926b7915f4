// A map of offers and needs, used by the listings search and the monitor's activity page.
// Tiles (OpenStreetMap's unless configured otherwise) lie over a country-border layer, so the
// map stays readable when they cannot load; markers in the same place gather into clusters
// that show how many they hold and spread out when selected. The pages work without it.
(function () {
  "use strict";
  var element = document.getElementById("map");
  if (!element || !window.L) { return; }
  var data = element.dataset;
  var markers = JSON.parse(document.getElementById("map-markers").textContent);
  // The Greater Region (Lorraine, Luxembourg, Saarland, Rhineland-Palatinate, Wallonia).
  var GREATER_REGION = L.latLngBounds([47.8, 2.8], [51.0, 8.6]);
  // Half zoom steps let a wide, short map frame the region closely instead of a country more.
  var map = L.map(element, { maxZoom: 18, minZoom: 4, zoomSnap: 0.5 });
  // What the map shows, for anyone (or any test) reading the page: "west,south,east,north".
  map.on("moveend", function () { element.dataset.view = map.getBounds().toBBoxString(); });

  var near = null;
  if (data.nearLat && data.nearLon) {
    near = L.latLng(parseFloat(data.nearLat), parseFloat(data.nearLon));
    var radius = parseFloat(data.radiusKm) * 1000;
    map.fitBounds(near.toBounds(2 * radius), { padding: [10, 10] });
  } else {
    map.fitBounds(GREATER_REGION);
  }

  // Borders in a pane below the tiles' (see map.css): hidden by tiles that load, the
  // fallback when none do or none are configured.
  map.createPane("borders");
  fetch(data.borders).then(function (r) { return r.json(); }).then(function (borders) {
    L.geoJSON(borders, {
      pane: "borders", interactive: false,
      style: { color: "#777", weight: 1, fillColor: "#eef2ec", fillOpacity: 1 }
    }).addTo(map);
  });
  if (data.tiles) {
    L.tileLayer(data.tiles, { maxZoom: 18, attribution: data.attribution }).addTo(map);
  }

  if (near) {
    L.circle(near, {
      radius: parseFloat(data.radiusKm) * 1000, interactive: false, className: "search-radius",
      color: "#1a4f8b", weight: 2, dashArray: "6 4", fillColor: "#1a4f8b", fillOpacity: 0.06
    }).addTo(map);
    L.marker(near, {
      icon: L.divIcon({ className: "search-place", iconSize: [22, 22] }),
      // Beneath the listings and never in their way: a town searched for is often where they are.
      title: data.nearLabel, keyboard: false, interactive: false, zIndexOffset: -1000
    }).addTo(map);
  }

  var clusterLabel = data.clusterLabel || "%(num)s";
  var clusters = L.markerClusterGroup({
    chunkedLoading: true,
    showCoverageOnHover: false,
    maxClusterRadius: 50,
    iconCreateFunction: function (cluster) {
      var count = cluster.getChildCount();
      var kinds = {};
      cluster.getAllChildMarkers().forEach(function (m) { kinds[m.options.kind] = true; });
      var mix = Object.keys(kinds).length === 1 ? Object.keys(kinds)[0] : "mixed";
      var size = count < 10 ? 34 : count < 100 ? 40 : 46;
      var holder = document.createElement("div");
      var shown = document.createElement("span");
      shown.className = "map-cluster-count";
      shown.setAttribute("aria-hidden", "true");
      shown.textContent = String(count);
      var spoken = document.createElement("span");
      spoken.className = "visually-hidden";
      spoken.textContent = clusterLabel.replace("%(num)s", String(count));
      holder.appendChild(shown);
      holder.appendChild(spoken);
      return L.divIcon({ html: holder.innerHTML, className: "map-cluster map-cluster-" + mix, iconSize: L.point(size, size) });
    }
  });
  markers.forEach(function (m) {
    var kind = (m.kind === "need" ? data.needLabel : data.offerLabel) || m.kind;
    var label = m.label || (kind + ": " + m.title + " (" + m.quantity + " " + m.unit + ")" + (m.organisation_name ? " · " + m.organisation_name : ""));
    var marker = L.marker([m.lat, m.lon], {
      icon: L.divIcon({ className: "listing-marker listing-" + m.kind, iconSize: [16, 16] }),
      title: label, kind: m.kind
    });
    var text = document.createElement(m.url ? "a" : "div");
    text.textContent = label;
    if (m.url) { text.href = m.url; }
    marker.bindPopup(text);
    clusters.addLayer(marker);
  });
  map.addLayer(clusters);
})();
