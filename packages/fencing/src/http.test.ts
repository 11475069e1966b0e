import { once } from "node:events";
import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, test } from "vitest";
import { FenceStoreError, isStaleTokenError } from "./errors.js";
import type { Fence } from "./fence.js";
import {
  admittedToken,
  fencingHeaders,
  fencingMiddleware,
  staleTokenErrorFromResponse,
  withFencing,
} from "./http.js";
import { MemoryFence } from "./memory-fence.js";

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => close(server)));
});

async function serve(listener: RequestListener): Promise<string> {
  const server = createServer(listener);
  servers.push(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

async function put(
  url: string,
  token?: bigint | string,
  body = "",
): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> =
    token === undefined
      ? {}
      : typeof token === "string"
        ? { "Fencing-Token": token }
        : fencingHeaders(token);
  const response = await fetch(url, { method: "PUT", headers, body });
  const text = await response.text();
  return { status: response.status, body: text === "" ? undefined : JSON.parse(text) };
}

describe("withFencing", () => {
  test("answers a stale write with 409 and a body naming both tokens, and the handler never sees it", async () => {
    const writes: string[] = [];
    const url = await serve(
      withFencing(new MemoryFence(), { resource: "ledger" }, (_request, response, token) => {
        writes.push(`${token}`);
        response.end(JSON.stringify({ ok: true }));
      }),
    );
    expect(await put(url, 34n)).toEqual({ status: 200, body: { ok: true } });
    const refused = await put(url, 33n);
    expect(refused.status).toBe(409);
    expect(refused.body).toEqual({
      error: "stale-token",
      message: expect.stringContaining("fencing token 33 is stale"),
      resource: "ledger",
      presented: "33",
      highest: "34",
    });
    expect(writes).toEqual(["34"]);

    const error = staleTokenErrorFromResponse(refused.status, refused.body);
    expect(isStaleTokenError(error)).toBe(true);
    expect(error).toMatchObject({ presented: 33n, highest: 34n, resource: "ledger" });
    expect(staleTokenErrorFromResponse(200, refused.body)).toBeUndefined();
    expect(staleTokenErrorFromResponse(409, { error: "other" })).toBeUndefined();
  });

  test("answers a missing token with 428 and a malformed one with 400, and lets reads through", async () => {
    const url = await serve(
      withFencing(new MemoryFence(), { resource: "ledger" }, (_request, response, token) => {
        response.end(JSON.stringify({ token: token === undefined ? null : `${token}` }));
      }),
    );
    expect(await put(url)).toMatchObject({
      status: 428,
      body: {
        error: "invalid-token",
        message: "Fencing-Token header is missing: a fencing token is required",
      },
    });
    expect(await put(url, "9007199254740993.0")).toMatchObject({
      status: 400,
      body: {
        error: "invalid-token",
        message: expect.stringContaining('got "9007199254740993.0"'),
      },
    });
    const read = await fetch(url);
    expect(await read.json()).toEqual({ token: null });
  });

  test("keeps tokens above 2^53 exact on the wire", async () => {
    const url = await serve(
      withFencing(new MemoryFence(), { resource: "ledger" }, (_request, response, token) =>
        response.end(`${token}`),
      ),
    );
    const response = await fetch(url, { method: "POST", headers: fencingHeaders(2n ** 53n + 1n) });
    expect(await response.text()).toBe("9007199254740993");
  });

  test("takes no default resource: a request path would fence /accounts and /Accounts apart", () => {
    const handler = () => {};
    for (const options of [{}, { resource: undefined }]) {
      expect(() =>
        withFencing(new MemoryFence(), options as { resource: string }, handler),
      ).toThrow(
        "resource must be a non-empty string or a function of the request (required: a path would fence /accounts and /Accounts apart), got undefined",
      );
    }
    expect(() => fencingMiddleware(new MemoryFence(), undefined as never)).toThrow(
      "options must be an object with a resource, got undefined",
    );
  });

  test("refuses a stale token under every spelling of a path once the resource is named", async () => {
    const url = await serve(
      withFencing(new MemoryFence(), { resource: "accounts" }, (_request, response) =>
        response.end(),
      ),
    );
    expect((await put(`${url}/accounts`, 34n)).status).toBe(200);
    for (const path of ["/accounts/", "/Accounts", "/%61ccounts", "//accounts", "/accounts?x=1"]) {
      expect((await put(`${url}${path}`, 33n)).status, path).toBe(409);
    }
  });

  test("fences by the name a resource function gives, and answers 500 when it gives no name", async () => {
    const byRoute = (request: { url?: string | undefined }) =>
      new URL(request.url ?? "/", "http://x").pathname.toLowerCase().replace(/\/+$/, "");
    const url = await serve(
      withFencing(new MemoryFence(), { resource: byRoute }, (_request, response) => response.end()),
    );
    expect((await put(`${url}/a`, 34n)).status).toBe(200);
    expect((await put(`${url}/b`, 33n)).status).toBe(200);
    expect((await put(`${url}/A/`, 33n)).status).toBe(409);
    const nameless = await serve(
      withFencing(new MemoryFence(), { resource: () => "" }, (_request, response) =>
        response.end(),
      ),
    );
    expect(await put(nameless, 33n)).toEqual({
      status: 500,
      body: {
        error: "internal-error",
        message: 'resource must be a function that returns a non-empty string, got ""',
      },
    });
  });

  test("answers 503 with Retry-After when the fence's store fails", async () => {
    const failing: Fence = {
      admit: async () => {
        throw new FenceStoreError("etcd failed while admitting: unavailable");
      },
      highest: async () => undefined,
    };
    const url = await serve(
      withFencing(failing, { resource: "ledger" }, (_request, response) => response.end()),
    );
    const response = await fetch(url, { method: "PUT", headers: fencingHeaders(33n) });
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("1");
    expect(await response.json()).toMatchObject({ error: "store-failed" });
  });

  test("answers 500 when the handler throws", async () => {
    const url = await serve(
      withFencing(new MemoryFence(), { resource: "ledger" }, async () => {
        throw new Error("disk full");
      }),
    );
    expect(await put(url, 33n)).toEqual({
      status: 500,
      body: { error: "internal-error", message: "disk full" },
    });
  });
});

describe("fencingMiddleware", () => {
  test.each([
    { exclusive: true, order: [33n, 34n] },
    { exclusive: false, order: [34n, 33n] },
  ])(
    "with exclusive: $exclusive, a slow write admitted with 33 and a write with 34 land as $order",
    async ({ exclusive, order }) => {
      const arrived = { "33": signal(), "34": signal() };
      const firstAdmitted = signal();
      const applied: bigint[] = [];
      let finishFirst: () => void = () => {};
      const middleware = fencingMiddleware(new MemoryFence(), {
        exclusive,
        // Called for every fenced request on arrival, before it queues for the resource.
        resource: (request) => {
          arrived[String(request.headers["fencing-token"]) as "33" | "34"].resolve();
          return "ledger";
        },
      });
      const url = await serve((request, response) =>
        middleware(request, response, () => {
          const token = admittedToken(request) as bigint;
          const apply = () => {
            applied.push(token);
            response.end();
          };
          if (token !== 33n) return apply();
          finishFirst = apply; // the write admitted with 33 is slow
          firstAdmitted.resolve();
        }),
      );
      const first = put(url, 33n);
      await firstAdmitted.promise;
      const second = put(url, 34n);
      await arrived["34"].promise;
      if (!exclusive) await second; // nothing holds 34 back: it lands while 33's write is slow
      finishFirst();
      expect((await first).status).toBe(200);
      expect((await second).status).toBe(200);
      expect(applied).toEqual(order);
    },
  );

  test("validates its options eagerly, naming the option", () => {
    const fence = new MemoryFence();
    expect(() => fencingMiddleware(fence, { resource: "r", header: "bad header" })).toThrow(
      'header must be an HTTP header name, got "bad header"',
    );
    expect(() => fencingMiddleware(fence, { resource: "" })).toThrow(/^resource must be/);
    expect(() => fencingMiddleware({} as Fence, { resource: "r" })).toThrow(
      "fence must be a Fence, got an object",
    );
    expect(() =>
      fencingMiddleware(fence, { resource: "r", exclusive: "yes" as unknown as boolean }),
    ).toThrow('exclusive must be a boolean, got "yes"');
  });
});

function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => {};
  const promise = new Promise<void>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}
