// One candidate of a chaos run, in a process of its own so that the nemesis can freeze it
// (SIGSTOP), kill it (SIGKILL) or block its event loop like a real app's. It contends through
// the public API: `lead()` (CHAOS_MODE=lead) or its own campaign/resign loop
// (CHAOS_MODE=campaign). While it leads it checks `isActive()` and `signal.aborted`, then
// writes its token to the fenced resource, recording each step in the ledger (and echoing it
// on stdout for the nemesis). Commands on stdin: `block <ms>`, `close`, `resign`, `oversized`.
//
// With CHAOS_BREAK=1 it is a broken app: it checks once per term and then ignores both the
// signal and isActive() for CHAOS_ZOMBIE_MS after its term ended, and writes unfenced. The
// checker must then report violations.
//
// Environment: CHAOS_URL, CHAOS_ELECTION, CHAOS_ID, CHAOS_LEDGER, CHAOS_RESOURCE,
// CHAOS_TICK_MS, CHAOS_TTL_MS, CHAOS_MODE, CHAOS_BREAK, CHAOS_ZOMBIE_MS, CHAOS_OVERSIZED_BYTES.
import { createInterface } from "node:readline";
import { setTimeout as delay } from "node:timers/promises";
import { createElector, type Elector, type Leadership, lead } from "@elector/core";
import { fencingHeaders } from "@elector/fencing";
import { entryLine, LedgerWriter } from "./ledger.js";

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined || value === "") {
    process.stderr.write(`chaos candidate: ${name} is not set\n`);
    process.exit(2);
  }
  return value;
};

const id = env("CHAOS_ID");
const url = env("CHAOS_URL");
const election = env("CHAOS_ELECTION");
const resource = env("CHAOS_RESOURCE");
const tickMs = Number(env("CHAOS_TICK_MS"));
const mode = env("CHAOS_MODE");
const broken = process.env.CHAOS_BREAK === "1";
const zombieMs = Number(process.env.CHAOS_ZOMBIE_MS ?? 0);
const oversizedBytes = Number(process.env.CHAOS_OVERSIZED_BYTES ?? 2 * 1024 * 1024);
const ttlMs = Number(env("CHAOS_TTL_MS"));
const ledger = new LedgerWriter(env("CHAOS_LEDGER"), id);

/** Records in the ledger and tells the nemesis on stdout. */
function record(event: string, fields: Record<string, unknown> = {}, t = process.hrtime.bigint()) {
  ledger.record(event, { pid: process.pid, ...fields }, t);
  process.stdout.write(`${entryLine({ t, by: id, event, pid: process.pid, ...fields })}\n`);
}

const message = (error: unknown) =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);

// A crash is a finding: record it, then die as Node would have.
process.on("uncaughtException", (error) => {
  record("crash", { message: message(error), stack: error.stack });
  process.exit(70);
});
process.on("unhandledRejection", (reason) => {
  record("crash", { message: message(reason) });
  process.exit(70);
});

const stopping = new AbortController();
process.on("SIGTERM", () => stopping.abort());
let generation = 0;
let elector: Elector | undefined;
let leadership: Leadership | undefined;
let seq = 0;
let closePending = false;

function closeNow(closing: Elector): void {
  const gen = generation;
  record("close-requested", { gen, leading: leadership?.isActive() ?? false });
  void closing.close().then(
    () => record("close-done", { gen }),
    (error: unknown) => record("close-failed", { gen, message: message(error) }),
  );
}

const commands = createInterface({ input: process.stdin });
commands.on("line", (line) => {
  const [command, argument] = line.split(" ");
  if (command === "block") {
    const ms = Number(argument);
    record("block-start", { ms });
    const end = performance.now() + ms;
    while (performance.now() < end) {
      // The event loop is blocked on purpose: no timer, no I/O, as a long synchronous task.
    }
    record("block-end", { ms });
  } else if (command === "close") {
    // Right after a restart the elector may not exist yet: close it as soon as it campaigns.
    if (elector === undefined) closePending = true;
    else closeNow(elector);
  } else if (command === "resign") {
    const term = leadership;
    void term?.resign().then(
      () => record("resigned", { token: term.token }),
      (error: unknown) => record("resign-failed", { token: term.token, message: message(error) }),
    );
  } else if (command === "oversized") {
    void oversized();
  }
});
// The nemesis gone: this candidate must not outlive it.
commands.on("close", () => stopping.abort());

/** One term's work: check, then write, every tick, while leading. */
async function work(term: Leadership, gen: number): Promise<void> {
  leadership = term;
  const token = term.token;
  record("elected", { token, gen });
  let endedAt: number | undefined;
  for (;;) {
    const t = process.hrtime.bigint();
    const active = term.isActive();
    const aborted = term.signal.aborted;
    if (broken) {
      // What a broken app acts on: the belief it formed at the start of its term.
      endedAt ??= active && !aborted ? undefined : performance.now();
      if (endedAt !== undefined && performance.now() - endedAt > zombieMs) break;
      record("check", { token, gen, active: true, aborted: false }, t);
    } else {
      record("check", { token, gen, active, aborted }, t);
      if (!active || aborted) break;
    }
    // Shutting down: a campaign/resign candidate ends its term itself (lead() resigns for us).
    if (stopping.signal.aborted) break;
    seq++;
    const outcome = await write(token, seq);
    if (outcome === "refused" && !broken) break;
    const wake = broken ? stopping.signal : AbortSignal.any([term.signal, stopping.signal]);
    await delay(tickMs, undefined, { signal: wake }).catch(() => {});
  }
  record("term-end", { token, gen, reason: (term.signal.reason as { code?: string })?.code });
  leadership = undefined;
}

async function write(token: bigint, seq: number): Promise<"ack" | "refused" | "failed"> {
  record("write", { token, seq });
  try {
    const response = await fetch(`${resource}/${broken ? "unfenced" : "fenced"}`, {
      method: "POST",
      headers: { ...fencingHeaders(token), "Content-Type": "application/json" },
      body: JSON.stringify({ cand: id, pid: process.pid, seq }),
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await response.json()) as { index?: number; highest?: string };
    if (response.ok) {
      record("ack", { token, seq, index: body.index });
      return "ack";
    }
    record("refused", { token, seq, status: response.status, highest: body.highest });
    return "refused";
  } catch (error) {
    record("write-failed", { token, seq, message: message(error) });
    return "failed";
  }
}

/** A campaign, and a proclaim if leading, with a value beyond every server's limit. */
async function oversized(): Promise<void> {
  const value = "x".repeat(oversizedBytes);
  const term = leadership;
  if (term !== undefined) {
    try {
      await term.proclaim(value, { signal: AbortSignal.timeout(ttlMs) });
      record("oversized", { call: "proclaim", outcome: "accepted", token: term.token });
    } catch (error) {
      record("oversized", { call: "proclaim", outcome: message(error), token: term.token });
    }
  }
  const probe = await createElector(url, { election, id: `${id}-oversized` });
  try {
    // A value this large must be refused at once; a campaign still pending after a TTL is one
    // that retries what can never pass.
    const won = await probe.campaign({ value, signal: AbortSignal.timeout(ttlMs) });
    record("oversized", { call: "campaign", outcome: "elected", token: won.token });
  } catch (error) {
    record("oversized", { call: "campaign", outcome: message(error) });
  } finally {
    await probe
      .close()
      .catch((error: unknown) => record("close-failed", { message: message(error) }));
  }
}

record("started", { mode, broken });
while (!stopping.signal.aborted) {
  generation++;
  const gen = generation;
  const current = await createElector(url, { election, id });
  elector = current;
  current.on("lost", ({ reason, token }) => record("lost", { reason, token, gen }));
  current.on("error", (error) => record("error", { message: message(error), gen }));
  const contending =
    mode === "lead"
      ? lead(current, (term) => work(term, gen), {
          signal: stopping.signal,
          backoff: { minDelayMs: 20, maxDelayMs: 500 },
          onError: (error) => record("retry", { message: message(error), gen }),
        })
      : (async () => {
          while (!stopping.signal.aborted) {
            const term = await current.campaign({ signal: stopping.signal });
            await work(term, gen);
            await term
              .resign()
              .catch((error: unknown) => record("resign-failed", { message: message(error) }));
          }
        })();
  if (closePending) {
    closePending = false;
    closeNow(current);
  }
  try {
    await contending;
  } catch (error) {
    record("campaign-ended", { gen, message: message(error), closed: current.closed });
    if (!current.closed && !stopping.signal.aborted) await delay(200);
  }
  await current.close();
}
record("stopped");
commands.close();
process.exit(0);
