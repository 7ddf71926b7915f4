// Progressive enhancement of the listing form: choosing a category proposes the unit it is
// usually counted in (pallets by the pallet, produce by the kilo), until the unit is chosen
// by hand. The usual units come from the page, as JSON data (#usual-units).
(function () {
  "use strict";
  var category = document.getElementById("category");
  var unit = document.getElementById("unit");
  var data = document.getElementById("usual-units");
  if (!category || !unit || !data) { return; }
  var usual = JSON.parse(data.textContent);
  var chosen = false;
  unit.addEventListener("change", function () { chosen = true; });
  category.addEventListener("change", function () {
    if (!chosen && usual[category.value]) { unit.value = usual[category.value]; }
  });
})();
