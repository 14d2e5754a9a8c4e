// Oncord's only script besides htmx: say in the alert bar why an htmx request failed.
// Messages are set as text, never HTML.
(function () {
  "use strict";

  function showAlert(message) {
    var bar = document.getElementById("alerts");
    if (!bar) { return; }
    var p = document.createElement("p");
    p.className = "flash flash-error";
    p.textContent = message;
    bar.replaceChildren(p);
  }

  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var header = xhr.getResponseHeader("X-Oncord-Alert");
    var message = "Something went wrong (error " + xhr.status + "). Reload the page and try again.";
    if (header) {
      try { message = decodeURIComponent(header); } catch (e) { /* keep the generic message */ }
    }
    showAlert(message);
  });

  document.addEventListener("htmx:sendError", function () {
    showAlert("Oncord could not be reached. Check the internet connection, then try again.");
  });

  // A new page of results or a saved form makes an old error message stale.
  document.addEventListener("htmx:afterSwap", function () {
    var bar = document.getElementById("alerts");
    if (bar && bar.querySelector(".flash-error")) { bar.replaceChildren(); }
  });
})();
