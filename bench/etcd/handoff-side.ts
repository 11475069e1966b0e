// One side of an etcd handoff (bench/etcd/handoff.ts), in a process of its own: an elector,
// an etcd3 `Election` or a raw client, driven by the parent over IPC. A leader and its
// successor in production are two processes; in one process the successor's watch event
// waits while the same event loop handles the leader's answers (docs/etcd-watch-path.md).
// Times are read on the machine's monotonic clock, which every process shares
// (`process.hrtime`), so the parent subtracts one side's from the other's.
//
// Argument: the kind (elector | etcd3 | raw), the endpoints (comma-separated), the election
// or key name, this side's id.
import type { Leadership } from "@elector/core";
import { createEtcdElector } from "@elector/etcd";
import { type Campaign, Etcd3, type Watcher } from "etcd3";
import { delay } from "../stats.js";

/** A request of the parent: `op` names the handler; the answer carries the same `id`. */
export interface SideRequest {
  readonly id: number;
  readonly op: string;
  readonly mode?: "settled" | "fresh";
  readonly revision?: string;
  readonly recheck?: boolean;
}

/** The answer to one request: what the handler returned (a time, a revision), or its error. */
export interface SideAnswer {
  readonly id: number;
  readonly value?: number | string;
  readonly error?: string;
}

/** How long a settled waiter has been in line: etcd's catch-up loop runs every 100 ms. */
export const settleMs = 250;
const ttlSeconds = 10;

/** The machine's monotonic clock, in milliseconds. */
const now = () => Number(process.hrtime.bigint()) / 1e6;

type Handler = (request: SideRequest) => Promise<number | string | undefined>;

/** Polls until `count()` reaches 2 (the waiter is in line), then waits out a settled mode. */
async function inLine(count: () => Promise<number>, mode: SideRequest["mode"]): Promise<void> {
  while ((await count()) < 2) {
    // Back to back: a fresh waiter is handed over the moment its key is seen.
  }
  if (mode === "settled") await delay(settleMs);
}

/** An @elector/etcd elector: `campaign` starts one, `elected` answers when it won. */
async function electorSide(endpoints: string[], election: string, id: string) {
  const elector = await createEtcdElector({ election, id, endpoints, ttlSeconds });
  let leading: Leadership | undefined;
  let campaign: Promise<number> | undefined;
  const handlers: Record<string, Handler> = {
    campaign: async () => {
      campaign = elector.campaign().then((leadership) => {
        const at = now();
        leading = leadership;
        return at;
      });
      return undefined;
    },
    elected: () => campaign as Promise<number>,
    handoff: async ({ mode }) => {
      await inLine(async () => (await elector.participants()).length, mode);
      const started = now();
      await leading?.resign();
      leading = undefined;
      return started;
    },
    close: async () => {
      await elector.close();
      return undefined;
    },
  };
  return handlers;
}

/** The etcd3 package's `Election`, the same way. */
async function etcd3Side(endpoints: string[], name: string, id: string) {
  const client = new Etcd3({ hosts: endpoints });
  const election = client.election(name, ttlSeconds);
  let leading: Campaign | undefined;
  let campaign: Promise<number> | undefined;
  const handlers: Record<string, Handler> = {
    campaign: async () => {
      const started = election.campaign(id);
      campaign = started.wait().then(() => {
        const at = now();
        leading = started;
        return at;
      });
      return undefined;
    },
    elected: () => campaign as Promise<number>,
    handoff: async ({ mode }) => {
      await inLine(() => client.getAll().prefix(`election/${name}/`).count(), mode);
      const started = now();
      await leading?.resign();
      leading = undefined;
      return started;
    },
    close: async () => {
      await leading?.resign().catch(() => {});
      client.close();
      return undefined;
    },
  };
  return handlers;
}

/**
 * The floor: the writer puts and deletes a key, the reader watches it (a settled watch, or one
 * from the put's revision + 1) and, with `recheck`, makes one linearizable read after the
 * event, as an election that re-checks before "elected" must.
 */
async function rawSide(endpoints: string[], key: string) {
  const client = new Etcd3({ hosts: endpoints });
  const settledWatch: Watcher = await client.watch().key(key).create();
  let fresh: Watcher | undefined;
  let seen: Promise<number> | undefined;
  const handlers: Record<string, Handler> = {
    put: async () => (await client.put(key).value("x").exec()).header.revision,
    arm: async ({ mode, revision, recheck }) => {
      let watcher = settledWatch;
      if (mode === "fresh") {
        fresh = await client
          .watch()
          .key(key)
          .startRevision(String(BigInt(revision as string) + 1n))
          .create();
        watcher = fresh;
      }
      seen = new Promise<void>((resolve) => watcher.once("delete", () => resolve())).then(
        async () => {
          if (recheck) await client.get(key).exists();
          return now();
        },
      );
      return undefined;
    },
    seen: async () => {
      const at = await (seen as Promise<number>);
      await fresh?.cancel();
      fresh = undefined;
      return at;
    },
    delete: async ({ mode }) => {
      if (mode === "settled") await delay(settleMs);
      const started = now();
      await client.delete().key(key).exec();
      return started;
    },
    close: async () => {
      await settledWatch.cancel();
      client.close();
      return undefined;
    },
  };
  return handlers;
}

async function main(): Promise<void> {
  const [kind, endpoints = "", name = "", id = ""] = process.argv.slice(2);
  const hosts = endpoints.split(",");
  const handlers =
    kind === "elector"
      ? await electorSide(hosts, name, id)
      : kind === "etcd3"
        ? await etcd3Side(hosts, name, id)
        : await rawSide(hosts, name);
  process.on("message", (request: SideRequest) => {
    const handler = handlers[request.op];
    const answer = (body: Omit<SideAnswer, "id">) => process.send?.({ id: request.id, ...body });
    if (handler === undefined) {
      answer({ error: `no operation ${request.op}` });
      return;
    }
    handler(request).then(
      (value) => {
        answer(value === undefined ? {} : { value });
        if (request.op === "close") process.disconnect();
      },
      (error: unknown) => answer({ error: String(error) }),
    );
  });
  process.send?.({ id: 0 });
}

await main();
