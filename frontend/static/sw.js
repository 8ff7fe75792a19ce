// oO service worker: makes the app installable, shows a calm page when offline, and shows a
// pushed tip as a notification with Done and Snooze (the action token it carries answers the tip
// without a session; dwell = time from the notification shown to the tap).
const OFFLINE_HTML = '<!doctype html><meta name="viewport" content="width=device-width,initial-scale=1">' +
  '<body style="background:#000;color:#fff;font-family:system-ui;display:flex;min-height:100vh;' +
  'align-items:center;justify-content:center;margin:0"><p>You are offline. Your tip will be here.</p>';
const MAX_DWELL = 24 * 3600 * 1000;

self.addEventListener("install", (event) => { self.skipWaiting(); });
self.addEventListener("activate", (event) => { event.waitUntil(self.clients.claim()); });
self.addEventListener("fetch", (event) => {
  if (event.request.mode !== "navigate") { return; }
  event.respondWith(fetch(event.request).catch(() =>
    new Response(OFFLINE_HTML, { headers: { "Content-Type": "text/html; charset=utf-8" } })));
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
