// An HTTP service of which only the leader does the work: every instance serves /leader
// (who leads, and where), and /ready answers 200 only on the leader, so that a load balancer
// or a Kubernetes Service with a readiness probe sends traffic to the leader alone.
//
// Environment: ELECTOR_URL (default memory://), INSTANCE_ID, PORT (default 8080; 0 picks a
// free one), HOST (default 127.0.0.1).
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createElector, LeaderHealth, type LeaderInfo, lead } from "@elector/core";

const elector = await createElector(process.env.ELECTOR_URL ?? "memory://", {
  election: "leader-http",
  ...(process.env.INSTANCE_ID ? { id: process.env.INSTANCE_ID } : {}),
});
const log = (line: string) => console.log(`[${elector.id}] ${line}`);
// Liveness fails only on a leader whose renewals stopped being acknowledged (a restart cures
// a stuck connection); readiness passes on the leader alone. Renewals come every TTL/3.
const health = new LeaderHealth(elector, {
  maxRenewalAgeMs: Number(process.env.MAX_RENEWAL_AGE_MS ?? 4_000),
});
/** Who leads, as the election last said. */
let leader: LeaderInfo | undefined;

const server = createServer((request, response) => {
  const path = new URL(request.url ?? "/", "http://service").pathname;
  if (path === "/healthz") {
    const report = health.check();
    return send(response, report.healthy ? 200 : 503, { ...report, id: elector.id });
  }
  if (path === "/ready") {
    // Readiness is leadership, checked on each probe: false at once after a long pause.
    const leading = health.ready();
    return send(response, leading ? 200 : 503, { ready: leading, id: elector.id });
  }
  if (path === "/leader") {
    return send(response, 200, {
      leader: leader === undefined ? null : { ...leader, token: leader.token.toString() },
      self: elector.id,
    });
  }
  send(response, 404, { error: "not found" });
});
const host = process.env.HOST ?? "127.0.0.1";
await new Promise<void>((resolve) =>
  server.listen(Number(process.env.PORT ?? 8080), host, resolve),
);
const address = `http://${host}:${(server.address() as AddressInfo).port}`;

const shutdown = new AbortController();
process.once("SIGTERM", () => shutdown.abort());
process.once("SIGINT", () => shutdown.abort());

// Every instance follows the election, so /leader answers from memory, not from a request.
const following = (async () => {
  for await (const change of elector.observe({ signal: shutdown.signal })) leader = change;
})();

log(`serving on ${address} (on ${elector.backend})`);
// The advertised value is this instance's address: /leader tells clients where to go.
await lead(
  elector,
  async (leadership) => {
    log(`leading with fencing token ${leadership.token}`);
    await new Promise((resolve) =>
      leadership.signal.addEventListener("abort", resolve, { once: true }),
    );
    log("no longer leading");
  },
  { signal: shutdown.signal, value: address },
);
health.close();
await elector.close();
await following;
server.close();
log("stopped");

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}
