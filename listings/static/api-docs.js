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
      // Plain examples: the highlighter's colours are below the contrast WCAG asks for.
      syntaxHighlight: false,
    });
    // An operation's deep link sits inside the button that opens it: a link inside a button
    // (axe-core: nested-interactive), two controls in one for keyboards and screen readers.
    // Without its href it is plain text; opening the operation still puts its deep link in
    // the address bar (deepLinking), from where it can be shared.
    // In "Try it out", a parameter's select or file input is named by the parameter's row,
    // and scrolling examples can be reached by keyboard.
    var unnest = function () {
      root.querySelectorAll(".opblock-summary-control a[href]").forEach(function (link) {
        link.removeAttribute("href");
      });
      root.querySelectorAll("tr[data-param-name] select:not([aria-label]), " +
          "tr[data-param-name] input:not([aria-label])").forEach(function (control) {
        var row = control.closest("tr[data-param-name]");
        control.setAttribute("aria-label", row.getAttribute("data-param-name"));
      });
      root.querySelectorAll("input[type=file]:not([aria-label])").forEach(function (control) {
        control.setAttribute("aria-label", "file");
      });
      root.querySelectorAll("pre:not([tabindex])").forEach(function (block) {
        block.setAttribute("tabindex", "0");
      });
    };
    new MutationObserver(unnest).observe(root, { childList: true, subtree: true });
    unnest();
  });
})();
