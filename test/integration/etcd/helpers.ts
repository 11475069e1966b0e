import type { Elector, Leadership } from "@elector/core";
import type { Etcd3 } from "etcd3";

/** A fresh election name per test, so that tests never see each other's candidates. */
export function uniqueElection(what: string): string {
  return `${what}-${process.pid}-${Date.now().toString(36)}`;
}

/** Every key of an election: its candidates (`<name>/…`) and their ids (`<name>#id/…`). */
export async function electionKeysOf(admin: Etcd3, electionKey: string): Promise<string[]> {
  return (await admin.getAll().prefix(electionKey).keys()).sort();
}

/** When `signal` aborted, in `performance.now()` milliseconds; undefined until then. */
export function abortTime(signal: AbortSignal): () => number | undefined {
  let at: number | undefined = signal.aborted ? performance.now() : undefined;
  signal.addEventListener(
    "abort",
    () => {
      at = performance.now();
    },
    { once: true },
  );
  return () => at;
}

/** A campaign with the time it was won, in `performance.now()` milliseconds. */
export async function timedCampaign(
  elector: Elector,
): Promise<{ leadership: Leadership; electedAt: number }> {
  const leadership = await elector.campaign();
  return { leadership, electedAt: performance.now() };
}

/** Resolves once `elector` sees `count` candidates in line, within `timeoutMs`. */
export async function lineOf(elector: Elector, count: number, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const seen = (await elector.participants()).length;
    if (seen === count) return;
    if (performance.now() > deadline) {
      throw new Error(`expected ${count} candidates in line within ${timeoutMs} ms, saw ${seen}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Settles with `promise`, or rejects if it has not settled within `timeoutMs`. */
export function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${what}: not within ${timeoutMs} ms`)),
      timeoutMs,
    );
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/**
 * How many `LeaseKeepAlive` streams are open on the etcd member at `endpoint`, from its
 * Prometheus metrics: started minus handled.
 */
export async function openKeepAliveStreams(endpoint: string): Promise<number> {
  const text = await (await fetch(`${endpoint}/metrics`)).text();
  let started = 0;
  let handled = 0;
  for (const line of text.split("\n")) {
    if (!line.includes('grpc_method="LeaseKeepAlive"')) continue;
    const value = Number(line.slice(line.lastIndexOf(" ") + 1));
    if (line.startsWith("grpc_server_started_total")) started += value;
    else if (line.startsWith("grpc_server_handled_total")) handled += value;
  }
  return started - handled;
}

/** How many keep-alive requests the etcd member at `endpoint` has received, from its metrics. */
export async function keepAlivesReceived(endpoint: string): Promise<number> {
  const text = await (await fetch(`${endpoint}/metrics`)).text();
  const line = text
    .split("\n")
    .find(
      (candidate) =>
        candidate.startsWith("grpc_server_msg_received_total") &&
        candidate.includes('grpc_method="LeaseKeepAlive"'),
    );
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(" ") + 1));
}

/** How many `Txn` calls the etcd member at `endpoint` has handled, from its metrics. */
export async function txnsHandled(endpoint: string): Promise<number> {
  const text = await (await fetch(`${endpoint}/metrics`)).text();
  let handled = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("grpc_server_handled_total") && line.includes('grpc_method="Txn"')) {
      handled += Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return handled;
}
