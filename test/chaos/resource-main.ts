// The fenced resource of a chaos run, in a process of its own: an HTTP service that appends
// each write to a log, behind `withFencing` over a MemoryFence. Candidates POST their writes
// to /fenced; in --break mode they POST to /unfenced, the same log without the fence, as an
// app that forgot to present its token would. GET /entries returns the whole log, so the
// checker can tell whether an acknowledged write was lost. It records every applied write in
// the ledger and prints `{"event":"ready","port":N}` once it listens.
//
// Environment: CHAOS_LEDGER.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { FENCING_TOKEN_HEADER, MemoryFence, withFencing } from "@elector/fencing";
import { LedgerWriter } from "./ledger.js";

/** One write the resource applied. */
export interface AppliedWrite {
  readonly cand: string;
  readonly pid: number;
  readonly seq: number;
  readonly token: string;
}

const ledgerPath = process.env.CHAOS_LEDGER;
if (ledgerPath === undefined || ledgerPath === "") {
  process.stderr.write("resource: CHAOS_LEDGER is not set\n");
  process.exit(2);
}
const ledger = new LedgerWriter(ledgerPath, "resource");
const entries: AppliedWrite[] = [];

function apply(body: string, token: bigint, fenced: boolean, response: ServerResponse): void {
  const { cand, pid, seq } = JSON.parse(body) as { cand: string; pid: number; seq: number };
  const index = entries.push({ cand, pid, seq, token: token.toString() }) - 1;
  ledger.record("applied", { cand, pid, seq, token, fenced, index });
  response.writeHead(200, { "Content-Type": "application/json" });
  response.end(JSON.stringify({ index }));
}

const fenced = withFencing(
  new MemoryFence(),
  { resource: "chaos" },
  async (request, response, token) => {
    apply(await text(request), token as bigint, true, response);
  },
);

const server = createServer((request, response) => {
  const path = new URL(request.url ?? "/", "http://resource").pathname;
  if (request.method === "GET" && path === "/entries") {
    response.writeHead(200, { "Content-Type": "application/json" });
    response.end(JSON.stringify(entries));
  } else if (request.method === "POST" && path === "/fenced") {
    response.on("finish", () => {
      if (response.statusCode === 409) {
        ledger.record("refused", { token: request.headers["fencing-token"] });
      }
    });
    fenced(request, response);
  } else if (request.method === "POST" && path === "/unfenced") {
    const token = BigInt(String(request.headers[FENCING_TOKEN_HEADER.toLowerCase()] ?? "0"));
    void text(request).then((body) => apply(body, token, false, response));
  } else {
    response.writeHead(404).end();
  }
});
server.listen(0, "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ event: "ready", at: Date.now(), port })}\n`);
});
process.on("SIGTERM", () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});

async function text(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}
