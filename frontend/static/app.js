// Dwell: visible time of the current tip (Page Visibility API); the server falls back to its own
// clock when this is missing. Keys: d = done, s = snooze, x = dismiss.
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
  document.addEventListener("keydown", function (e) {
    if (e.metaKey || e.ctrlKey || e.altKey) { return; }
    var map = { d: "done", s: "snooze", x: "dismiss" };
    var action = map[e.key && e.key.toLowerCase()];
    if (!action) { return; }
    var button = document.querySelector('#tip button[value="' + action + '"]');
    if (button && !button.disabled) { e.preventDefault(); button.click(); }
  });
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js").catch(function () {});
  }
})();
