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
  // region that changed (made focusable for the purpose). A region marked
  // data-focus-after-swap takes focus even when it was not lost (the page editor's settings).
  // Only the response's main target counts: out-of-band swaps and polling widgets never move it.
  // The last element focused, not document.activeElement: data-hx-disabled-elt disables the button
  // that was pressed (dropping its focus) before the answer comes back.
  var pending = null;
  var lastFocused = null;
  document.addEventListener("focusin", function (event) { lastFocused = event.target; });
  document.addEventListener("htmx:beforeSwap", function (event) {
    pending = { focused: lastFocused, target: event.detail.target, id: event.detail.target.id };
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    labelCells(document);
    if (!pending || (event.detail.target !== pending.target && !(pending.id && event.detail.target.id === pending.id))) {
      return;
    }
    var was = pending;
    pending = null;
    var target = document.contains(was.target) ? was.target : (was.id ? document.getElementById(was.id) : null);
    if (!target) { return; }
    var active = document.activeElement;
    var lost = was.focused && !document.contains(was.focused) && (!active || active === document.body);
    if (!lost && !target.closest("[data-focus-after-swap]")) { return; }
    var place = target.querySelector("[aria-invalid=true]") || target.querySelector("[data-focus-here]") || target;
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
