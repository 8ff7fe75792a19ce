// oO service worker: makes the app installable, shows the offline page when a navigation finds no
// network, and shows a pushed tip as a notification with Done and Snooze (the action token it
// carries answers the tip without a session; dwell = time from the notification shown to the tap).
//
// The app shell (the offline page and what it draws with) is precached under a versioned name:
// bump SHELL_VERSION when one of SHELL changes; activating a new worker deletes older caches.
const SHELL_VERSION = 2;
const CACHE_PREFIX = "oo-shell-";
const CACHE = CACHE_PREFIX + "v" + SHELL_VERSION;
const OFFLINE_URL = "/static/offline.html";
const SHELL = [
  OFFLINE_URL,
  "/static/app.css",
  "/static/icons/icon.svg",
  "/static/icons/icon-192.png",
  "/manifest.webmanifest",
];
// Used only if the precache could not be filled (the server answered an error at install).
const OFFLINE_HTML = '<!doctype html><meta name="viewport" content="width=device-width,initial-scale=1">' +
  '<title>Offline · oO</title><body style="background:#000;color:#fff;font-family:system-ui;' +
  'display:flex;min-height:100vh;align-items:center;justify-content:center;margin:0">' +
  '<p id="offline">You are offline. Your tip will be here.</p>';
const MAX_DWELL = 24 * 3600 * 1000;

self.addEventListener("install", (event) => {
  // A failed precache must not cost the push handling below: the worker installs regardless.
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).catch(() => null)
    .then(() => self.skipWaiting()));
});
self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys().then((names) => Promise.all(names
    .filter((name) => name.startsWith(CACHE_PREFIX) && name !== CACHE)
    .map((name) => caches.delete(name))))
    .then(() => self.clients.claim()));
});

function offlinePage() {
  return caches.open(CACHE).then((cache) => cache.match(OFFLINE_URL)).then((cached) => cached ||
    new Response(OFFLINE_HTML, { headers: { "Content-Type": "text/html; charset=utf-8" } }));
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") { return; }
  if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(offlinePage));
    return;
  }
  // The shell's files: the network first (never stale while online), the cache when offline.
  const url = new URL(request.url);
  if (url.origin === self.location.origin && SHELL.includes(url.pathname)) {
    event.respondWith(fetch(request).catch(() =>
      caches.open(CACHE).then((cache) => cache.match(url.pathname)).then((cached) =>
        cached || Response.error())));
  }
});

self.addEventListener("push", (event) => {
  let message = null;
  try { message = event.data ? event.data.json() : null; } catch (e) { message = null; }
  if (!message || !message.tip) { return; }
  const tip = message.tip;
  event.waitUntil(self.registration.showNotification("oO", {
    body: tip.content,
    tag: "oo-tip",            // a newer tip replaces the one still on screen
    renotify: true,
    icon: "/static/icons/icon-192.png",
    badge: "/static/icons/icon-192.png",
    actions: [{ action: "done", title: "Done" }, { action: "snooze", title: "Snooze" }],
    data: {
      tipId: tip.id,
      url: message.url || "/tip",
      tokens: message.actions || {},
      openToken: message.open || null,
      shownAt: Date.now(),
    },
  }));
});

function openTip(url) {
  return self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
    for (const w of windows) {
      if (new URL(w.url).origin === self.location.origin && "navigate" in w) {
        return w.navigate(url).then((c) => (c || w).focus());
      }
    }
    return self.clients.openWindow(url);
  });
}

self.addEventListener("notificationclick", (event) => {
  const data = event.notification.data || {};
  event.notification.close();
  const token = data.tokens && data.tokens[event.action];
  if (!token) {  // a tap on the notification itself: tell the decider, then the tip page
    const opened = data.openToken ? fetch("/push/opened", {
      method: "POST",
      credentials: "omit",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ token: data.openToken }),
    }).catch(() => null) : Promise.resolve(null);
    event.waitUntil(Promise.all([openTip(data.url || "/tip"), opened]));
    return;
  }
  const dwellMs = Math.max(0, Math.min(MAX_DWELL, Date.now() - (data.shownAt || Date.now())));
  event.waitUntil(fetch("/push/action", {
    method: "POST",
    credentials: "omit",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ token: token, dwellMs: dwellMs }),
  }).then((r) => (r.ok ? null : openTip(data.url || "/tip")))  // refused: show the page instead
    .catch(() => openTip(data.url || "/tip")));
});
