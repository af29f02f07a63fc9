import { test, expect } from "@playwright/test";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { newSession, reply, send, signIn, unique } from "./helpers";

/**
 * A stand-in for a Cloudflare quick tunnel: it forwards each request and holds the answer back
 * until the server has finished it, so a streamed answer (Server-Sent Events) arrives only when
 * it ends, as Cloudflare documents for quick tunnels.
 */
async function holdingProxy(target: string): Promise<{ url: string; close: () => Promise<void> }> {
  const upstream = new URL(target);
  const server = http.createServer((request, response) => {
    const forward = http.request(
      { host: upstream.hostname, port: upstream.port, method: request.method, path: request.url, headers: request.headers },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on("data", (chunk: Buffer) => chunks.push(chunk));
        answer.on("end", () => {
          const body = Buffer.concat(chunks);
          const headers = { ...answer.headers, "content-length": String(body.length) };
          delete headers["transfer-encoding"];
          response.writeHead(answer.statusCode ?? 502, headers);
          response.end(body);
        });
        answer.on("error", () => response.destroy());
      },
    );
    forward.on("error", () => {
      response.writeHead(502);
      response.end();
    });
    request.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

test.describe("through a tunnel that holds streamed answers back", () => {
  test.skip(({ isMobile }) => !isMobile, "phone project");

  test("the timeline still shows each step while the task runs", async ({ page, isMobile, baseURL }) => {
    const proxy = await holdingProxy(baseURL ?? "");
    try {
      await signIn(page, proxy.url);
      await newSession(page);
      await send(page, unique("#TOOL=6 through the tunnel"), isMobile);
      const working = page.locator(".msg.working");
      // The step shows while the tool still runs, not only once the task has ended (when an
      // event stream held back by the tunnel would finally arrive).
      await expect(working.locator(".step.tool.running")).toHaveText("Bash: sleep 6");
      await expect(reply(page, "Tool said")).toHaveCount(0);
      await expect(reply(page, "Tool said")).toBeVisible({ timeout: 20_000 });
    } finally {
      await proxy.close();
    }
  });
});
