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

// Web Push (the server's `push::payload`): shown whether or not the app is open. Tags match the
// app's own in-page notifications (`task-<session>`, `approval-<id>`), so one replaces the other
// instead of both showing.
self.addEventListener("push", (event) => {
  let message = {};
  try {
    message = event.data ? event.data.json() : {};
  } catch (_) {
    message = { body: event.data ? event.data.text() : "" };
  }
  event.waitUntil(showPush(message));
});

function showPush(message) {
  const kind = message.kind || "ended";
  const options = { body: message.body || "", icon: "/icons/icon-192.png", badge: "/icons/icon-192.png", data: { kind, url: message.url || "/" } };
  if (kind !== "test" && message.session_id) options.data.session_id = message.session_id;
  if (kind === "ended") {
    options.tag = `task-${message.session_id}`;
    if (message.endings > 1) options.body = `${message.endings} tasks ended. Last: ${options.body}`;
    if (typeof message.cost_usd === "number" && message.cost_usd > 0) options.body += ` ($${message.cost_usd.toFixed(2)})`;
  } else if (kind === "approval" || kind === "question") {
    options.tag = `approval-${message.approval_id}`;
    options.requireInteraction = true;
    options.renotify = true;
    Object.assign(options.data, { task_id: message.task_id, approval_id: message.approval_id, tool_name: message.tool_name, body: message.body });
    // A question needs its answers typed or chosen in the app; a tool's approval can be given here.
    // Where actions are not shown (iOS), a tap opens the app at the card.
    if (kind === "approval") {
      options.actions = [
        { action: "allow", title: "Allow" },
        { action: "deny", title: "Deny" },
      ];
    }
  } else {
    options.tag = kind;
  }
  return self.registration.showNotification(message.title || "Claude Remote", options);
}

self.addEventListener("notificationclick", (event) => event.waitUntil(clicked(event.notification, event.action)));

// A tap on a notification: an approval's Allow or Deny decides it here, anything else (the
// notification itself, or where actions are not shown, as on iOS) opens the app.
function clicked(notification, action) {
  const data = notification.data || {};
  notification.close();
  if ((action === "allow" || action === "deny") && data.approval_id) {
    return decide(notification.title, data, action);
  }
  return openApp(data);
}

// Decides an approval from the notification, without opening the app: a same-origin fetch with
// the sign-in cookie, then a notification with the outcome in place of the question.
async function decide(title, data, action) {
  const path = `/api/sessions/${encodeURIComponent(data.session_id)}/tasks/${encodeURIComponent(data.task_id)}/approvals/${encodeURIComponent(data.approval_id)}`;
  const body = action === "allow" ? { decision: "allow" } : { decision: "deny", message: "The user denied this from a notification." };
  let outcome;
  try {
    const response = await fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (response.ok) {
      outcome = `${action === "allow" ? "Allowed" : "Denied"}: ${data.tool_name || "the request"}`;
    } else {
      const answer = await response.json().catch(() => ({}));
      const reason = response.status === 401 ? "sign in again in the app" : answer.error || `the server answered ${response.status}`;
      outcome = `Not decided (${reason}). Tap to open it.`;
    }
  } catch (_) {
    outcome = "Not decided: your machine cannot be reached. Tap to open it.";
  }
  await self.registration.showNotification(title, {
    body: outcome,
    tag: `approval-${data.approval_id}`,
    icon: "/icons/icon-192.png",
    data: { kind: "decided", session_id: data.session_id, url: data.url || "/" },
  });
}

// Focuses an open window of the app (asking it to show the session), or opens one at the session.
async function openApp(data) {
  const sessionId = data.session_id;
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
}

// The browser replaced the subscription (its push service rotated it): tell the server the new one.
self.addEventListener("pushsubscriptionchange", (event) => {
  const options = event.oldSubscription && event.oldSubscription.options;
  if (!options || !options.applicationServerKey) return;
  event.waitUntil(
    self.registration.pushManager
      .subscribe({ userVisibleOnly: true, applicationServerKey: options.applicationServerKey })
      .then((subscription) =>
        fetch("/api/push/subscriptions", {
          method: "POST",
          credentials: "same-origin",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(subscription.toJSON()),
        }),
      )
      .catch(() => {}),
  );
});

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "skip-waiting") self.skipWaiting();
});
