// oO service worker: makes the app installable and shows a calm page when offline.
// Pages are always fetched from the network (a tip must be fresh); push arrives in a later issue.
const OFFLINE_HTML = '<!doctype html><meta name="viewport" content="width=device-width,initial-scale=1">' +
  '<body style="background:#000;color:#fff;font-family:system-ui;display:flex;min-height:100vh;' +
  'align-items:center;justify-content:center;margin:0"><p>You are offline. Your tip will be here.</p>';

self.addEventListener("install", (event) => { self.skipWaiting(); });
self.addEventListener("activate", (event) => { event.waitUntil(self.clients.claim()); });
self.addEventListener("fetch", (event) => {
  if (event.request.mode !== "navigate") { return; }
  event.respondWith(fetch(event.request).catch(() =>
    new Response(OFFLINE_HTML, { headers: { "Content-Type": "text/html; charset=utf-8" } })));
});
