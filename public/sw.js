// Claude Remote service worker: a versioned app shell.
//
// scripts/stamp-sw.sh (run after `trunk build`) replaces the two placeholders read below with a
// JSON string (a hash of the build) and a JSON array of the build's URL paths. Unstamped (dev),
// they are undefined and the defaults apply: only "/" is precached.
//
// Never intercepted: /api/ and /health (always the network; the app shows its own offline
// notice when those fail), non-GET requests and other origins.

const VERSION = self.__SHELL_VERSION__ || "dev";
const SHELL = self.__SHELL_FILES__ || ["/"];

const CACHE = `shell-${VERSION}`;
const NAVIGATION_TIMEOUT_MS = 4000;
// Trunk's content-hashed outputs, e.g. /frontend-5cd88a6816c6ae29_bg.wasm, /main-84a9….css.
const HASHED_ASSET = /-[0-9a-f]{16}(?:_bg)?\.[a-z0-9]+$/i;
// Fetched only when needed (the syntax highlighter), so not precached; a new version gets a new
// path, so once fetched it is kept like a hashed asset (and works offline from then on).
const LAZY_ASSET = /^\/vendor\//;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      // cache: "reload" skips the HTTP cache so the shell is fetched fresh from the server.
      .then((cache) => cache.addAll(SHELL.map((url) => new Request(url, { cache: "reload" }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) =>
        Promise.all(
          names.filter((name) => name.startsWith("shell-") && name !== CACHE).map((name) => caches.delete(name)),
        ),
      )
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/api/") || url.pathname === "/api" || url.pathname === "/health") return;

  if (request.mode === "navigate") {
    event.respondWith(navigate(request));
  } else {
    event.respondWith(cacheFirst(request, url));
  }
});

// Network first with a timeout; offline, on timeout or on a server error, the cached shell.
async function navigate(request) {
  const network = fetch(request);
  network.catch(() => {}); // a late failure after the timeout is not an unhandled rejection
  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(() => resolve(null), NAVIGATION_TIMEOUT_MS);
  });
  let response = null;
  try {
    response = await Promise.race([network, timeout]);
  } catch (_) {
    response = null;
  } finally {
    clearTimeout(timer);
  }
  if (response && response.status < 500) return response;
  const shell = await cachedShell();
  if (shell) return shell;
  // Nothing cached (e.g. the install failed): whatever the network eventually gives.
  return response || network;
}

async function cachedShell() {
  const cache = await caches.open(CACHE);
  const response = (await cache.match("/")) || (await cache.match("/index.html"));
  if (!response) return null;
  // A redirected response cannot answer a navigation (Safari refuses it): copy it.
  if (response.redirected) {
    return new Response(await response.blob(), { status: response.status, statusText: response.statusText, headers: response.headers });
  }
  return response;
}

async function cacheFirst(request, url) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok && response.type === "basic" && (HASHED_ASSET.test(url.pathname) || LAZY_ASSET.test(url.pathname))) {
    cache.put(request, response.clone()).catch(() => {});
  }
  return response;
}

// Task-end notifications carry { session_id } in their data.
self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const data = event.notification.data || {};
  const sessionId = data.session_id;
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
      const sameOrigin = windows.filter((client) => new URL(client.url).origin === self.location.origin);
      const client = sameOrigin.find((c) => c.focused) || sameOrigin.find((c) => c.visibilityState === "visible") || sameOrigin[0];
      if (client) {
        const focused = (await client.focus().catch(() => null)) || client;
        if (sessionId) focused.postMessage({ type: "open-session", session_id: sessionId });
        return;
      }
      const target = sessionId ? `/s/${encodeURIComponent(sessionId)}` : "/";
      await self.clients.openWindow(target);
    })(),
  );
});

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "skip-waiting") self.skipWaiting();
});
