// The API reference page: Swagger UI on the merged document. A file of its own, not an
// inline script, so the page works under a Content-Security-Policy without 'unsafe-inline'.
(function () {
  "use strict";
  var root = document.getElementById("api-reference");
  window.addEventListener("load", function () {
    window.ui = SwaggerUIBundle({
      url: root.dataset.specUrl,
      domNode: root,
      deepLinking: true,
      // The token typed into "Authorize" survives a reload of the page.
      persistAuthorization: true,
      presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
      layout: "BaseLayout",
    });
  });
})();
