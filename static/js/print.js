/* Print buttons (the certificate): a script file rather than an inline handler, for a strict CSP. */
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();
