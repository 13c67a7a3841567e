/*
 * Lets a statement file be dropped anywhere on the upload area, not only on the file input,
 * and says which file was chosen. Without scripts the plain file input still works.
 */
(function () {
  "use strict";

  function enhance(zone) {
    var input = zone.querySelector("input[type=file]");
    if (!input) { return; }
    var chosen = document.createElement("p");
    chosen.className = "dropzone-chosen";
    chosen.setAttribute("aria-live", "polite");
    zone.appendChild(chosen);

    function show() {
      chosen.textContent = input.files && input.files.length ? "Chosen: " + input.files[0].name : "";
    }

    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        event.preventDefault();
        zone.classList.add("dropzone-active");
      });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () { zone.classList.remove("dropzone-active"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        show();
      }
    });
    input.addEventListener("change", show);
  }

  document.querySelectorAll("[data-dropzone]").forEach(enhance);
})();
