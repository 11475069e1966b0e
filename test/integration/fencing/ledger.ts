import { once } from "node:events";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type Fence, withFencing } from "@elector/fencing";

/** One write the ledger applied. */
export interface LedgerEntry {
  readonly writer: string;
  readonly seq: number;
  readonly token: bigint;
}

/**
 * The shared resource of the stalled-leader scenario: an HTTP server that appends each
 * write to a log and keeps the latest as its value, behind the fencing middleware.
 */
export class Ledger {
  /** Every write applied, in order. */
  readonly entries: LedgerEntry[] = [];
  /** Every fenced request's outcome, in order of response. */
  readonly responses: { token: string | undefined; status: number }[] = [];
  /** The latest write, `writer:seq`: what a stale write would overwrite. */
  value: string | undefined;
  readonly #server: Server;

  private constructor(fence: Fence) {
    const fenced = withFencing(fence, { resource: "ledger" }, async (request, response, token) => {
      const { writer, seq } = JSON.parse(await text(request)) as { writer: string; seq: number };
      this.entries.push({ writer, seq, token: token as bigint });
      this.value = `${writer}:${seq}`;
      response.writeHead(200, { "Content-Type": "application/json" });
      response.end(JSON.stringify({ index: this.entries.length - 1 }));
    });
    this.#server = createServer((request, response) => {
      response.on("finish", () =>
        this.responses.push({
          token: request.headers["fencing-token"] as string | undefined,
          status: response.statusCode,
        }),
      );
      fenced(request, response);
    });
  }

  static async start(fence: Fence): Promise<Ledger> {
    const ledger = new Ledger(fence);
    ledger.#server.listen(0, "127.0.0.1");
    await once(ledger.#server, "listening");
    return ledger;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/ledger`;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

async function text(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}
