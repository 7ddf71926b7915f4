// Behaviour every page shares. Pages carry no inline script: the Content-Security-Policy
// (shared/security_headers.py) allows scripts from our own files only.
(function () {
  "use strict";
  // A form that came back with errors: start screen readers and keyboards from what to correct.
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }
})();
