// Website pages: the block editor (select, edit, drag or move, remove; insert after the selection
// by click or keyboard, or where a palette button is dropped), copy buttons for the Book Now
// snippets, and delete confirmations. No inline script anywhere (CSP).
(function () {
  "use strict";

  var dirty = false;
  var focusSettings = false;

  function blockList() { return document.getElementById("blocks"); }

  function selectedBlock() {
    var list = blockList();
    return list ? list.querySelector(".block.is-selected") : null;
  }

  function selectBlock(block) {
    var list = blockList();
    if (!list || !block) { return; }
    list.querySelectorAll(".block.is-selected").forEach(function (other) {
      other.classList.remove("is-selected");
      other.removeAttribute("aria-current");
    });
    block.classList.add("is-selected");
    block.setAttribute("aria-current", "true");
  }

  function settingsBlockId() {
    var form = document.querySelector("#block-settings form[data-block-id]");
    return form ? form.getAttribute("data-block-id") : null;
  }

  function clearSettings() {
    var panel = document.getElementById("block-settings");
    var empty = document.getElementById("settings-empty");
    if (panel && empty) { panel.replaceChildren(empty.content.cloneNode(true)); }
  }

  function copyFrom(button) {
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source) { return; }
    var label = button.textContent;
    function done() {
      button.textContent = "Copied";
      window.setTimeout(function () { button.textContent = label; }, 2000);
    }
    function fallback() {
      source.focus();
      source.select();
      try { document.execCommand("copy"); done(); } catch (e) { /* the text stays selected to copy by hand */ }
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(source.value).then(done, fallback);
    } else {
      fallback();
    }
  }

  document.addEventListener("click", function (event) {
    var control = event.target.closest("[data-action], [data-copy]");
    if (control && control.hasAttribute("data-copy")) { copyFrom(control); return; }
    var action = control ? control.getAttribute("data-action") : null;
    if (action === "close-settings") { clearSettings(); return; }
    var block = event.target.closest("#blocks > .block");
    if (!block) { return; }
    if (action === "remove") {
      if (settingsBlockId() === block.getAttribute("data-block-id")) { clearSettings(); }
      // Focus would fall to <body> with the block: move it to a neighbour and say what happened.
      var next = block.nextElementSibling || block.previousElementSibling ||
        document.querySelector(".editor-toolbar button");
      var name = block.getAttribute("aria-label") || "Block";
      block.remove();
      if (next) { next.focus(); }
      var status = document.getElementById("editor-status");
      if (status) { status.textContent = name + " removed. Save the page to keep the change."; }
      dirty = true;
      return;
    }
    if (action === "up" && block.previousElementSibling) {
      block.parentNode.insertBefore(block, block.previousElementSibling);
      control.focus();
      dirty = true;
    } else if (action === "down" && block.nextElementSibling) {
      block.parentNode.insertBefore(block.nextElementSibling, block);
      control.focus();
      dirty = true;
    }
    selectBlock(block);  // Edit, a move, or a click anywhere on the block selects it
  });

  document.addEventListener("keydown", function (event) {
    var block = event.target;
    if ((event.key === "Enter" || event.key === " ") && block.matches && block.matches("#blocks > .block")) {
      event.preventDefault();
      selectBlock(block);
      var edit = block.querySelector("[data-action=edit]");
      if (edit) { edit.click(); }
    }
  });

  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); }
  });

  document.addEventListener("input", function (event) {
    if (event.target.form && event.target.form.id === "page-form") { dirty = true; }
  });

  // Insert puts the new block where a palette button was dropped, else after the selected one;
  // Apply's fresh preview stays selected.
  document.addEventListener("htmx:load", function (event) {
    var elt = event.detail.elt;
    if (!elt.matches || !elt.matches("#blocks > .block")) { return; }
    if (elt.hasAttribute("data-fresh")) {
      elt.removeAttribute("data-fresh");
      var slot = blockList().querySelector(".block-slot");
      var anchor = selectedBlock();
      if (slot) {
        slot.replaceWith(elt);
      } else if (anchor && anchor !== elt) {
        anchor.after(elt);
      }
      selectBlock(elt);
      elt.scrollIntoView({ block: "nearest" });
      focusSettings = true;
      dirty = true;
    } else if (elt.getAttribute("data-block-id") === settingsBlockId()) {
      selectBlock(elt);
      dirty = true;
    }
  });

  // After Insert, the new block's settings take the focus, so the keyboard carries on from there.
  document.addEventListener("htmx:afterSettle", function () {
    if (!focusSettings) { return; }
    focusSettings = false;
    var field = document.querySelector("#block-settings form textarea, #block-settings form input:not([type=hidden]), " +
                                       "#block-settings form select");
    if (field) { field.focus(); }
  });

  document.addEventListener("htmx:responseError", function () {
    // A failed drop leaves no empty slot behind.
    var list = blockList();
    var slot = list ? list.querySelector(".block-slot") : null;
    if (slot) { slot.remove(); }
  });

  // A palette button dropped on the canvas: a slot marks the spot, and the button's own request
  // (the same as a click) fills it. The original button goes back to the palette in place of
  // SortableJS's copy, which would lack htmx's handlers.
  function insertAt(event) {
    var button = event.item;
    var url = button.getAttribute("data-hx-get");
    var slot = document.createElement("li");
    slot.className = "block-slot";
    slot.setAttribute("aria-hidden", "true");
    button.replaceWith(slot);
    if (event.clone && event.clone.parentNode) { event.clone.replaceWith(button); }
    window.htmx.ajax("GET", url, { target: "#blocks", swap: "beforeend" });
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.detail.elt.id === "page-form") { dirty = false; }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.elt.id === "page-form" && !event.detail.successful) { dirty = true; }
  });

  window.addEventListener("beforeunload", function (event) {
    if (dirty) { event.preventDefault(); event.returnValue = ""; }
  });

  function start() {
    var list = blockList();
    var palette = document.querySelector("[data-insert-palette]");
    if (list && window.Sortable) {
      window.Sortable.create(list, {
        group: { name: "blocks", pull: false, put: true },
        handle: ".block-handle",
        draggable: ".block",
        animation: 150,
        ghostClass: "block-ghost",
        onAdd: insertAt,
        onEnd: function (event) { dirty = true; selectBlock(event.item); }
      });
    }
    if (list && palette && window.Sortable && window.htmx) {
      window.Sortable.create(palette, {
        group: { name: "blocks", pull: "clone", put: false },
        sort: false,
        draggable: "[data-insert]",
        ghostClass: "block-ghost"
      });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
