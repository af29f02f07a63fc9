import { test, expect, type BrowserContext, type Page } from "@playwright/test";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { newSession, signIn, snap, toggleSessions, seriousViolations, serviceWorkerActive } from "./helpers";

// Web Push from the phone's side. Headless Chromium's pushManager.subscribe needs Google's push
// service, which is not reachable here: that one call is stubbed (with a real P-256 key made by
// WebCrypto, so the server accepts it) and its endpoint is a stand-in push service in this test.
// A push reaches the service worker through the DevTools protocol, as the push service would.

type Received = { headers: IncomingHttpHeaders; bytes: number };

async function standInPushService(status = 201) {
  const received: Received[] = [];
  const server = createServer((request, response) => {
    let bytes = 0;
    request.on("data", (chunk: Buffer) => (bytes += chunk.length));
    request.on("end", () => {
      received.push({ headers: request.headers, bytes });
      response.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/push/phone`;
  return { received, endpoint, close: () => server.close() };
}

/** Replaces PushManager.subscribe (and its friends) before the app starts. */
async function stubPushManager(page: Page, endpoint: string) {
  await page.addInitScript((endpoint) => {
    const b64url = (bytes: ArrayBuffer) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    let current: unknown = null;
    (window as any).__pushKeys = [];
    PushManager.prototype.subscribe = async function (options?: PushSubscriptionOptionsInit) {
      const key = options?.applicationServerKey as Uint8Array;
      (window as any).__pushKeys.push(b64url(key.buffer.slice(key.byteOffset, key.byteOffset + key.byteLength) as ArrayBuffer));
      const pair = await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"]);
      const p256dh = b64url(await crypto.subtle.exportKey("raw", pair.publicKey));
      const auth = b64url(crypto.getRandomValues(new Uint8Array(16)).buffer);
      const json = { endpoint, expirationTime: null, keys: { p256dh, auth } };
      const subscription = { endpoint, toJSON: () => json, unsubscribe: async () => ((current = null), true) };
      current = subscription;
      return subscription as unknown as PushSubscription;
    };
    PushManager.prototype.getSubscription = async () => current as PushSubscription | null;
  }, endpoint);
}

/** Signs in with notifications allowed and the stubbed push manager, once the worker runs. */
async function signInWithPush(page: Page, context: BrowserContext, endpoint: string) {
  await context.grantPermissions(["notifications"]);
  await stubPushManager(page, endpoint);
  await signIn(page);
  await serviceWorkerActive(page);
}

async function serviceWorkerRegistration(context: BrowserContext, page: Page) {
  const cdp = await context.newCDPSession(page);
  const registration = new Promise<string>((resolve) => {
    cdp.on("ServiceWorker.workerRegistrationUpdated", ({ registrations }) => {
      const ours = registrations.find((r: { scopeURL: string; isDeleted: boolean }) => !r.isDeleted && new URL(r.scopeURL).pathname === "/");
      if (ours) resolve(ours.registrationId);
    });
  });
  await cdp.send("ServiceWorker.enable");
  const registrationId = await registration;
  const origin = new URL(page.url()).origin;
  return (payload: object) => cdp.send("ServiceWorker.deliverPushMessage", { origin, registrationId, data: JSON.stringify(payload) });
}

async function notifications(page: Page) {
  return page.evaluate(async () =>
    (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => ({
      title: n.title,
      body: n.body,
      tag: n.tag,
      actions: (n as any).actions?.map((a: { action: string; title: string }) => `${a.action}:${a.title}`) ?? [],
    })),
  );
}

test.describe("Web Push", () => {
  test.skip(({ isMobile }) => !isMobile, "phone project");

  test("turning notifications on subscribes this phone, a test reaches it, and it can be removed", async ({ page, context }, testInfo) => {
    const service = await standInPushService();
    try {
      await signInWithPush(page, context, service.endpoint);
      await toggleSessions(page);
      const settings = page.getByRole("region", { name: "Notifications" });
      expect(await page.evaluate(() => (window as any).__pushKeys.length)).toBe(0);

      const posted = page.waitForRequest((r) => r.url().endsWith("/api/push/subscriptions") && r.method() === "POST");
      await settings.getByLabel("Notify me when a task ends").check();
      const body = (await posted).postDataJSON();
      expect(body.endpoint).toBe(service.endpoint);
      expect(body.keys.p256dh).toMatch(/^[A-Za-z0-9_-]{87}$/);
      expect(body.keys.auth).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(body.name).toBe("Chrome on Android");
      const key = (await (await page.request.get("/api/push/key")).json()).public_key;
      expect(await page.evaluate(() => (window as any).__pushKeys)).toEqual([key]);
      await expect(settings.getByRole("status").last()).toHaveText("On for this device, also while the app is closed.");
      const mine = settings.locator(".devices li", { hasText: "Chrome on Android (this device)" });
      await expect(mine).toContainText("not reached yet");

      await settings.getByRole("button", { name: "Send a test" }).click();
      await expect(settings.getByRole("status").last()).toHaveText("Test sent: it should show in a few seconds.");
      expect(service.received).toHaveLength(1);
      expect(service.received[0].headers["content-encoding"]).toBe("aes128gcm");
      expect(service.received[0].headers.authorization).toMatch(/^vapid t=.+, k=/);
      await expect(mine).toContainText("last reached just now");
      await snap(page, testInfo, "push-settings");
      expect(await seriousViolations(page)).toEqual([]);

      await mine.getByRole("button", { name: "Remove Chrome on Android" }).click();
      await expect(settings.locator(".devices li")).toHaveCount(0);
      await expect(settings.getByRole("button", { name: "Send a test" })).toHaveCount(0);
      const listed = (await (await page.request.get("/api/push/subscriptions")).json()).subscriptions;
      expect(listed).toEqual([]);
    } finally {
      service.close();
    }
  });

  test("a pushed approval shows Allow and Deny, Allow decides it without opening the app, and a tap on an ending opens its session", async ({ page, context }) => {
    const service = await standInPushService();
    try {
      await signInWithPush(page, context, service.endpoint);
      await newSession(page);
      const deliver = await serviceWorkerRegistration(context, page);

      // A task waiting on a Bash approval, started from another client.
      const started = await (await page.request.post("/api/sessions/new/chat", { data: { message: "#BASH:echo pushed" } })).json();
      let approval = "";
      await expect
        .poll(async () => {
          const task = await (await page.request.get(`/api/sessions/${started.session_id}/tasks/${started.task_id}`)).json();
          approval = task.pending_approvals?.[0]?.id ?? "";
          return approval;
        })
        .not.toBe("");

      // What the server sends (server/tests/push.rs checks that it does), as the push service delivers it.
      await deliver({
        kind: "approval",
        session_id: started.session_id,
        task_id: started.task_id,
        approval_id: approval,
        title: "Deploy",
        body: "Wants to run Bash: echo pushed",
        tool_name: "Bash",
        cost_usd: null,
        url: `/s/${started.session_id}`,
        endings: 1,
      });
      await expect.poll(() => notifications(page)).toContainEqual({
        title: "Deploy",
        body: "Wants to run Bash: echo pushed",
        tag: `approval-${approval}`,
        actions: ["allow:Allow", "deny:Deny"],
      });

      // The user taps Allow on the notification: what the service worker's notificationclick
      // does with it (Playwright cannot press a system notification's button, so the handler's
      // work is called in the worker with the shown notification and the action, and awaited).
      const worker = context.serviceWorkers()[0] ?? (await context.waitForEvent("serviceworker"));
      await worker.evaluate(async (tag) => {
        const [shown] = await (self as any).registration.getNotifications({ tag });
        if (!shown) throw new Error(`no notification tagged ${tag}`);
        await (self as any).clicked(shown, "allow");
      }, `approval-${approval}`);
      await expect.poll(() => notifications(page)).toContainEqual({ title: "Deploy", body: "Allowed: Bash", tag: `approval-${approval}`, actions: [] });
      await expect
        .poll(async () => (await (await page.request.get(`/api/sessions/${started.session_id}/tasks/${started.task_id}`)).json()).status)
        .toBe("completed");
      const done = await (await page.request.get(`/api/sessions/${started.session_id}/tasks/${started.task_id}`)).json();
      expect(JSON.stringify(done.result)).toContain("pushed");

      // An ending shows its reply and cost, in place of an earlier one of the session.
      await deliver({ kind: "ended", session_id: started.session_id, task_id: started.task_id, title: "Deploy", body: "All done.", status: "completed", cost_usd: 0.25, url: `/s/${started.session_id}`, endings: 1 });
      await expect.poll(() => notifications(page)).toContainEqual({ title: "Deploy", body: "All done. ($0.25)", tag: `task-${started.session_id}`, actions: [] });

      // A tap on it (no action) brings the open app to that session.
      await newSession(page);
      await expect(page).not.toHaveURL(new RegExp(started.session_id));
      await worker.evaluate(async (tag) => {
        const [shown] = await (self as any).registration.getNotifications({ tag });
        if (!shown) throw new Error(`no notification tagged ${tag}`);
        await (self as any).clicked(shown, "");
      }, `task-${started.session_id}`);
      await expect(page).toHaveURL(new RegExp(`/s/${started.session_id}$`));
      await expect.poll(() => notifications(page)).not.toContainEqual(expect.objectContaining({ tag: `task-${started.session_id}` }));
    } finally {
      service.close();
    }
  });
});
