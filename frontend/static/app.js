// Dwell: visible time of the current tip (Page Visibility API); the server falls back to its own
// clock when this is missing. Keys: each answer button names its own (data-key: d = done,
// h = helpful, t = true, l = later, …; they differ by kind), ? = why this tip (also a click on
// "why?" or a long press on the tip).
(function () {
  "use strict";
  var MAX_DWELL = 24 * 3600 * 1000;
  var visibleMs = 0;
  var since = document.visibilityState === "visible" ? performance.now() : null;
  var currentTip = null;

  function tipEl() { return document.getElementById("tip"); }
  function resetIfNewTip() {
    var el = tipEl();
    var id = el ? el.getAttribute("data-tip-id") : null;
    if (id !== currentTip) {
      currentTip = id;
      visibleMs = 0;
      since = document.visibilityState === "visible" ? performance.now() : null;
    }
  }
  function dwell() {
    var total = visibleMs + (since === null ? 0 : performance.now() - since);
    return Math.max(0, Math.min(MAX_DWELL, Math.round(total)));
  }
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { since = performance.now(); }
    else if (since !== null) { visibleMs += performance.now() - since; since = null; }
  });
  // Plain form posts (no htmx): fill the hidden field just before sending.
  document.addEventListener("submit", function (e) {
    var field = e.target.querySelector && e.target.querySelector("input[name=dwell_ms]");
    if (field) { field.value = String(dwell()); }
  }, true);
  document.addEventListener("htmx:configRequest", function (e) {
    if (e.detail.path && e.detail.path.indexOf("/react") !== -1) {
      e.detail.parameters["dwell_ms"] = String(dwell());
    }
  });
  document.addEventListener("htmx:afterSwap", resetIfNewTip);
  document.addEventListener("DOMContentLoaded", resetIfNewTip);
  function toggleWhy(show) {
    var line = document.getElementById("tip-why");
    if (!line) { return; }
    var open = typeof show === "boolean" ? show : line.hidden;
    line.hidden = !open;
    var button = document.querySelector("#tip .why");
    if (button) { button.setAttribute("aria-expanded", String(open)); }
  }
  document.addEventListener("click", function (e) {
    if (e.target.closest && e.target.closest("#tip .why")) { toggleWhy(); }
  });
  // Long press on the tip text (phones have no ? key); a moved finger is a scroll, not a press.
  var pressTimer = null;
  var pressed = false;
  function cancelPress() { if (pressTimer) { clearTimeout(pressTimer); pressTimer = null; } }
  document.addEventListener("pointerdown", function (e) {
    pressed = false;
    if (!e.target.closest || !e.target.closest("#tip .tip-body") || e.target.closest("button")) {
      return;
    }
    cancelPress();
    pressTimer = setTimeout(function () { pressTimer = null; pressed = true; toggleWhy(true); }, 550);
  });
  ["pointerup", "pointercancel", "pointermove"].forEach(function (type) {
    document.addEventListener(type, function (e) {
      if (type !== "pointermove" || Math.abs(e.movementX) + Math.abs(e.movementY) > 4) {
        cancelPress();
      }
    });
  });
  document.addEventListener("contextmenu", function (e) {
    if (pressed) { e.preventDefault(); }  // the long press was ours, not the menu's
  });
  document.addEventListener("keydown", function (e) {
    if (e.metaKey || e.ctrlKey || e.altKey) { return; }
    if (e.key === "?") { e.preventDefault(); toggleWhy(); return; }
    var key = e.key && e.key.length === 1 ? e.key.toLowerCase() : "";
    if (!/^[a-z]$/.test(key)) { return; }
    var button = document.querySelector('#tip .actions button[data-key="' + key + '"]');
    if (button && !button.disabled) { e.preventDefault(); button.click(); }
  });
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js").catch(function () {});
  }
})();
