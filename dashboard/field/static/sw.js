// The field app's service worker: the shell (page, modules, styles, icons, Socket.IO client) is cached so the app
// opens without network; the page is fetched fresh when possible. The API is never cached (personal data).
const CACHE = "gc-field-v4";
const SHELL = ["/m/", "/m/static/app.js", "/m/static/api.js", "/m/static/i18n.js", "/m/static/outbox.js",
               "/m/static/tasks.js", "/m/static/report.js", "/m/static/share.js", "/m/static/patrol.js",
               "/m/static/live.js",
               "/m/static/ui.js", "/m/static/field.css", "/m/static/icon.svg", "/m/static/icon-192.png",
               "/m/static/map.js", "/m/manifest.webmanifest", "/m/vendor/socket.io.min.js",
               "/m/static/vendor/leaflet/leaflet.js", "/m/static/vendor/leaflet/leaflet.css"];

self.addEventListener("install", event => {
  event.waitUntil(caches.open(CACHE).then(cache => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", event => {
  event.waitUntil(caches.keys()
    .then(keys => Promise.all(keys.filter(k => k !== CACHE).map(k => caches.delete(k))))
    .then(() => self.clients.claim()));
});

// Network first for the shell (a new deployment shows at once), the cached copy when offline.
async function fresh(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) cache.put(request, response.clone());
    return response;
  } catch (exc) {
    const cached = await cache.match(request, {ignoreSearch: true});
    if (cached) return cached;
    throw exc;
  }
}

self.addEventListener("fetch", event => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin || !url.pathname.startsWith("/m/")) return;
  event.respondWith(fresh(event.request));
});
