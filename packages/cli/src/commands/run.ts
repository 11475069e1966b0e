import { resolveConfig } from "@elector/core";
import {
  type FlagValues,
  parseDuration,
  parseFlags,
  targetArguments,
  targetFlags,
} from "../arguments.js";
import { messageOf, usageError } from "../cli-error.js";
import { findCommand } from "../command-path.js";
import { configFromArguments, describeTarget, openElector, readWithin } from "../connect.js";
import type { CliIo } from "../io.js";
import { createCliLogger, logLevelOf } from "../log.js";
import { notElectedExitCode, RunSupervisor } from "../run-supervisor.js";
import { usage } from "../usage.js";

const flags = {
  ...targetFlags,
  id: { type: "string" },
  value: { type: "string" },
  ttl: { type: "string" },
  grace: { type: "string" },
  once: { type: "boolean" },
  "allow-memory": { type: "boolean" },
  timeout: { type: "string" },
  try: { type: "boolean" },
  quiet: { type: "boolean" },
} as const;

/** Signals that ask elector to stop: forwarded while the command runs, else stop at once. */
const stopSignals: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"];
/** Signals only forwarded to the command. */
const forwardedSignals: readonly NodeJS.Signals[] = ["SIGUSR1", "SIGUSR2"];

/**
 * `elector run`: campaigns, and runs the command while leading.
 *
 * @returns the exit code: the command's, or 128 + n when stopped by signal n before it ran.
 */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const split = argv.indexOf("--");
  const own = split === -1 ? argv : argv.slice(0, split);
  const [command, ...args] = split === -1 ? [] : argv.slice(split + 1);
  let values: FlagValues<typeof flags>;
  try {
    values = parseFlags("run", own, flags);
  } catch (error) {
    // The likeliest cause of a stray argument: the command without `--` before it.
    if (split === -1 && messageOf(error).startsWith("unexpected argument")) {
      throw usageError(
        "run",
        `${messageOf(error)}; put the command after --, as in: elector run [flags] -- <command> [args…]`,
        error,
      );
    }
    throw error;
  }
  if (values.help === true) {
    io.stdout.write(usage.run);
    return 0;
  }
  const target = targetArguments("run", values, io.env);
  if (command === undefined || command === "") {
    throw usageError("run", "no command given: elector run [flags] -- <command> [args…]");
  }
  const ttlMs =
    values.ttl === undefined
      ? undefined
      : parseDuration("run", "--ttl", values.ttl, { minMs: 1, maxMs: 3_600_000 });
  const openOptions = {
    ...target,
    command: "run",
    ...(values.id === undefined ? {} : { id: values.id }),
    ...(ttlMs === undefined ? {} : { ttlMs }),
  };
  const config = configFromArguments(openOptions);
  const configuredMarginMs = resolveConfig(config).safetyMarginMs;
  const fixedGraceMs =
    values.grace === undefined
      ? undefined
      : parseDuration("run", "--grace", values.grace, { maxMs: 3_600_000 });
  const timeoutMs =
    values.timeout === undefined
      ? undefined
      : parseDuration("run", "--timeout", values.timeout, { minMs: 1 });
  // memory:// lives in this one process: a second `elector run` elsewhere leads beside it.
  if (config.backend === "memory" && values["allow-memory"] !== true) {
    throw usageError(
      "run",
      "--url memory:// elects within this one process only, so every elector run on it leads at once; use etcd:// or zk://, or add --allow-memory to try elector out alone",
    );
  }
  // Before campaigning: a command that cannot start must not take the leadership.
  findCommand(command, io.env);
  const log = createCliLogger(io.stderr, logLevelOf("run", values));
  if (config.backend === "memory") {
    log.warn(
      "memory:// elects within this process only: any other elector run leads at the same time; never use it to guard real work",
    );
  }

  const elector = await openElector({ ...openOptions, logger: log }, io);
  const supervisor = new RunSupervisor({
    elector,
    command,
    args,
    // By default the margin in force at the loss: a ZooKeeper server that granted a shorter
    // session than requested shortens the margin, and the command must be gone before it ends.
    graceMs: fixedGraceMs ?? (() => marginInForce(elector) ?? configuredMarginMs),
    once: values.once === true,
    env: io.env,
    log,
    timeoutMs,
    tryOnce: values.try === true,
  });
  if (values.try === true) {
    // Leadership is taken: do not even join the line.
    const current = await readWithin(openOptions, (signal) => elector.leader({ signal })).catch(
      async (error: unknown) => {
        await elector.close();
        throw error;
      },
    );
    if (current !== undefined) {
      log.info(
        { leader: current.id, exitCode: notElectedExitCode },
        `${current.id} leads (--try); giving up`,
      );
      await elector.close();
      return notElectedExitCode;
    }
  }
  log.info(
    { election: elector.election, id: elector.id, target: describeTarget(config) },
    `campaigning in election ${elector.election} on ${describeTarget(config)} as ${elector.id}`,
  );
  const listeners = [
    ...stopSignals.map((signal) => listen(io, signal, () => supervisor.stopSignal(signal))),
    ...forwardedSignals.map((signal) => listen(io, signal, () => supervisor.forward(signal))),
  ];
  try {
    return await supervisor.run(values.value);
  } finally {
    for (const remove of listeners) remove();
    await elector.close();
  }
}

function listen(io: CliIo, signal: NodeJS.Signals, listener: () => void): () => void {
  io.signals.on(signal, listener);
  return () => io.signals.off(signal, listener);
}

/** The margin a backend has in force now, where it tells (ZooKeeper's follows the server). */
function marginInForce(elector: object): number | undefined {
  const margin = (elector as { readonly safetyMarginMs?: unknown }).safetyMarginMs;
  return typeof margin === "number" ? margin : undefined;
}
