// Oncord's own script besides htmx: say in the alert bar why an htmx request failed (messages
// are set as text, never HTML), collapse the top bar's menu on narrow screens, label the cells
// of tables that stack on a phone, and keep keyboard focus somewhere sensible after a swap.
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

  // The menu button only exists for the script: without it, the menu stays open and wraps.
  var NARROW = window.matchMedia("(max-width: 760px)");

  function setMenu(button, open) {
    button.setAttribute("aria-expanded", open ? "true" : "false");
    document.body.classList.toggle("menu-open", open);
  }

  function setUpMenu() {
    var button = document.querySelector(".menu-button");
    if (!button) { return; }
    button.hidden = false;
    document.body.classList.add("menu-collapsible");
    button.addEventListener("click", function () {
      setMenu(button, button.getAttribute("aria-expanded") !== "true");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true" && NARROW.matches) {
        setMenu(button, false);
        button.focus();
      }
    });
  }

  // A table stacks into one block per row on a phone; each cell then shows its column's name.
  function labelCells(root) {
    root.querySelectorAll("table.table").forEach(function (table) {
      var heads = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
        return th.textContent.trim();
      });
      if (!heads.length) { return; }
      table.querySelectorAll("tbody tr").forEach(function (row) {
        Array.prototype.forEach.call(row.children, function (cell, i) {
          if (heads[i] && !cell.hasAttribute("data-label")) { cell.setAttribute("data-label", heads[i]); }
        });
      });
    });
  }

  // When a swap removes the element that had focus, the browser drops focus on <body> and a
  // keyboard or screen-reader user is lost: send it to the first invalid field, else to the
  // region that changed (made focusable for the purpose), and let a screen reader hear it.
  var hadFocus = null;
  document.addEventListener("htmx:beforeSwap", function () { hadFocus = document.activeElement; });
  document.addEventListener("htmx:afterSettle", function (event) {
    labelCells(document);
    var target = event.detail.target;
    // An outerHTML swap replaces the target itself: look for its successor by id.
    if (target && !document.contains(target) && target.id) { target = document.getElementById(target.id); }
    var lost = !hadFocus || hadFocus === document.body || !document.contains(hadFocus);
    var wanted = target && target.closest && target.closest("[data-focus-after-swap]");
    hadFocus = null;
    if (!target || !document.contains(target) || (!lost && !wanted)) { return; }
    var invalid = target.querySelector("[aria-invalid=true]");
    if (invalid) { invalid.focus(); return; }
    var place = target.querySelector("[data-focus-here]") || target;
    if (!place.hasAttribute("tabindex") && !place.matches("a[href], button, input, select, textarea")) {
      place.setAttribute("tabindex", "-1");
    }
    place.focus();
  });

  document.addEventListener("DOMContentLoaded", function () {
    setUpMenu();
    labelCells(document);
  });
})();
