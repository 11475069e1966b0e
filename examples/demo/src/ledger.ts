import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  fencingHeaders,
  MemoryFence,
  staleTokenErrorFromResponse,
  withFencing,
} from "@elector/fencing";

/** One write the ledger took. */
export interface LedgerEntry {
  readonly token: bigint;
  readonly text: string;
}

/** What a leader learns from one write. */
export type WriteOutcome =
  | { readonly accepted: true }
  | { readonly accepted: false; readonly presented: bigint; readonly highest: bigint };

/**
 * The shared resource of the demo: an HTTP service that appends lines to a ledger, behind a
 * fence. The fence lives with the resource, not with the leaders: it remembers the highest
 * token it has admitted and refuses lower ones, so a deposed leader's late write bounces.
 */
export class Ledger implements AsyncDisposable {
  readonly entries: LedgerEntry[] = [];
  rejected = 0;
  readonly #server: Server;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(): Promise<Ledger> {
    const fence = new MemoryFence();
    let ledger: Ledger | undefined;
    const fenced = withFencing(fence, { resource: "ledger" }, async (request, response, token) => {
      let text = "";
      for await (const chunk of request) text += chunk;
      ledger?.entries.push({ token: token ?? 0n, text });
      response.writeHead(204).end();
    });
    const server = createServer((request, response) => {
      response.once("finish", () => {
        if (response.statusCode === 409 && ledger !== undefined) ledger.rejected++;
      });
      fenced(request, response);
    });
    ledger = new Ledger(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return ledger;
  }

  /** Where leaders send their writes. */
  get url(): string {
    const { port } = this.#server.address() as AddressInfo;
    return `http://127.0.0.1:${port}/ledger`;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/**
 * A leader's write: the term's token travels in the `Fencing-Token` header, and a refusal
 * comes back as a 409 that names the presented and the highest token.
 */
export async function writeToLedger(
  url: string,
  token: bigint,
  text: string,
): Promise<WriteOutcome> {
  const response = await fetch(url, { method: "POST", headers: fencingHeaders(token), body: text });
  if (response.ok) {
    await response.body?.cancel();
    return { accepted: true };
  }
  const stale = staleTokenErrorFromResponse(
    response.status,
    await response.json().catch(() => null),
  );
  if (stale === undefined) throw new Error(`the ledger answered ${response.status}`);
  return { accepted: false, presented: stale.presented, highest: stale.highest };
}
