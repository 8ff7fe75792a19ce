// "Notify me": Web Push on the tip page (button) and the settings page (switch).
// Permission is asked only inside a click (a user gesture); a refusal is explained; the browser's
// subscription (made with the server's VAPID public key) goes to subscribePush. On load, a
// subscription made with an older key (after `oo push rotate-vapid`) is renewed silently.
(function () {
  "use strict";
  var supported = "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
  var BLOCKED = "Notifications are blocked for oO in this browser. Allow them in the site " +
    "settings (the lock or tune icon by the address), then try again.";
  var REFUSED = "No notifications then. oO only asks when you tap this; you can turn them on here later.";

  function csrf() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["x-csrftoken"] || ""; }
    catch (e) { return ""; }
  }
  function gql(query, variables) {
    return fetch("/graphql", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "x-csrftoken": csrf() },
      body: JSON.stringify({ query: query, variables: variables || {} }),
    }).then(function (r) { return r.json(); }).then(function (body) {
      if (body.errors && body.errors.length) { throw new Error(body.errors[0].message); }
      return body.data;
    });
  }
  function keyBytes(b64) {
    var pad = "=".repeat((4 - (b64.length % 4)) % 4);
    var raw = atob((b64 + pad).replace(/-/g, "+").replace(/_/g, "/"));
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { out[i] = raw.charCodeAt(i); }
    return out;
  }
  function sameKey(sub, b64) {
    var current = sub && sub.options && sub.options.applicationServerKey;
    if (!current) { return true; }  // the browser does not say: assume it is the same
    var a = new Uint8Array(current), b = keyBytes(b64);
    if (a.length !== b.length) { return false; }
    for (var i = 0; i < a.length; i++) { if (a[i] !== b[i]) { return false; } }
    return true;
  }
  function deviceLabel() {
    var ua = navigator.userAgent;
    var browser = /Edg\//.test(ua) ? "Edge" : /Firefox\//.test(ua) ? "Firefox" :
      /Chrome\//.test(ua) ? "Chrome" : /Safari\//.test(ua) ? "Safari" : "Browser";
    var os = /Android/.test(ua) ? "Android" : /iPhone|iPad/.test(ua) ? "iOS" :
      /Mac OS X/.test(ua) ? "macOS" : /Windows/.test(ua) ? "Windows" : /Linux/.test(ua) ? "Linux" : "";
    return os ? browser + " on " + os : browser;
  }
  var SUBSCRIBE = "mutation($s: PushSubscriptionInput!, $label: String) {" +
    " subscribePush(subscription: $s, deviceLabel: $label) { errors { code message } } }";
  var UNSUBSCRIBE = "mutation($e: String!) { unsubscribePush(endpoint: $e) { ok } }";

  function registration() { return navigator.serviceWorker.register("/sw.js").then(function () {
    return navigator.serviceWorker.ready; }); }

  function send(sub) {
    return gql(SUBSCRIBE, { s: sub.toJSON(), label: deviceLabel() }).then(function (data) {
      var errors = data.subscribePush.errors;
      if (errors.length) { throw new Error(errors[0].message); }
    });
  }
  function subscribe() {
    return Promise.all([registration(), gql("{ pushPublicKey }")]).then(function (got) {
      var reg = got[0], key = got[1].pushPublicKey;
      return reg.pushManager.getSubscription().then(function (old) {
        if (old && sameKey(old, key)) { return old; }
        var drop = old ? old.unsubscribe() : Promise.resolve(true);
        return drop.then(function () {
          return reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) });
        });
      });
    }).then(function (sub) { return send(sub).then(function () { return sub; }); });
  }
  function unsubscribe() {
    return registration().then(function (reg) { return reg.pushManager.getSubscription(); })
      .then(function (sub) {
        if (!sub) { return null; }
        var endpoint = sub.endpoint;
        return sub.unsubscribe().then(function () {
          return gql(UNSUBSCRIBE, { e: endpoint }).catch(function () { return null; });
        });
      });
  }
  // Must run inside the click handler: browsers only show the prompt after a user gesture.
  function turnOn() {
    if (Notification.permission === "denied") { return Promise.reject(new Error(BLOCKED)); }
    return Notification.requestPermission().then(function (answer) {
      if (answer !== "granted") { throw new Error(answer === "denied" ? BLOCKED : REFUSED); }
      return subscribe();
    });
  }
  function isOn() {
    if (!supported || Notification.permission !== "granted") { return Promise.resolve(false); }
    return navigator.serviceWorker.getRegistration("/").then(function (reg) {
      return reg ? reg.pushManager.getSubscription().then(function (s) { return !!s; }) : false;
    });
  }

  function say(el, text) {
    var box = el && el.closest(".push-row, .push-offer");
    var status = box && box.querySelector("[data-push-status]");
    if (status) { status.textContent = text; status.hidden = !text; }
  }
  function setUp() {
    var button = document.querySelector("[data-push-button]");
    var toggle = document.querySelector("[data-push-switch]");
    if (!button && !toggle) { return; }
    if (!supported) {  // the tip page stays quiet; the settings page says why the switch is off
      if (toggle) { say(toggle, "This browser cannot show notifications from oO."); }
      return;
    }
    isOn().then(function (on) {
      if (button) { button.hidden = on; }
      if (toggle) { toggle.checked = on; toggle.disabled = false; }
      if (on) { subscribe().catch(function () {}); }  // renew after a key rotation, refresh the row
    });
    if (button) {
      button.addEventListener("click", function () {
        button.disabled = true;
        turnOn().then(function () {
          button.hidden = true;
          say(button, "Done: oO will nudge you here when a tip is worth it.");
        }).catch(function (err) { say(button, err.message); })
          .then(function () { button.disabled = false; });
      });
    }
    if (toggle) {
      toggle.addEventListener("change", function () {
        var want = toggle.checked;
        toggle.disabled = true;
        (want ? turnOn() : unsubscribe()).then(function () {
          say(toggle, want ? "Notifications are on in this browser." : "Notifications are off in this browser.");
        }).catch(function (err) { toggle.checked = !want; say(toggle, err.message); })
          .then(function () { toggle.disabled = false; });
      });
    }
    var test = document.querySelector("[data-push-test]");
    if (test) {
      test.addEventListener("click", function () {
        gql("mutation { sendTestPush { queued errors { message } } }").then(function (data) {
          var r = data.sendTestPush;
          say(test, r.errors.length ? r.errors[0].message : "Sent to " + r.queued + " browser(s).");
        }).catch(function (err) { say(test, err.message); });
      });
    }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", setUp); }
  else { setUp(); }
})();
