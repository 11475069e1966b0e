import type { Elector } from "@elector/core";
import { parseFlags, targetArguments, targetFlags } from "../arguments.js";
import { type OpenOptions, openElector, readWithin } from "../connect.js";
import { leaderJson, leaderText, participantJson, participantText } from "../format.js";
import type { CliIo } from "../io.js";
import { createCliLogger, logLevelOf } from "../log.js";
import { usageOf } from "../usage.js";

const flags = { ...targetFlags, json: { type: "boolean" } } as const;

/** Parses a read command's flags and opens its elector; undefined after printing help. */
async function open(
  command: string,
  argv: readonly string[],
  io: CliIo,
): Promise<{ elector: Elector; json: boolean; options: OpenOptions } | undefined> {
  const values = parseFlags(command, argv, flags);
  if (values.help === true) {
    io.stdout.write(usageOf(command) ?? "");
    return undefined;
  }
  const logger = createCliLogger(io.stderr, logLevelOf(command, values));
  const options = { ...targetArguments(command, values, io.env), command, logger };
  const elector = await openElector(options, io);
  return { elector, json: values.json === true, options };
}

/** `elector leader`: prints the current leader. */
export async function leader(argv: readonly string[], io: CliIo): Promise<number> {
  const opened = await open("leader", argv, io);
  if (opened === undefined) return 0;
  const { elector, json, options } = opened;
  try {
    const info = await readWithin(options, (signal) => elector.leader({ signal }));
    io.stdout.write(
      `${json ? JSON.stringify(info === undefined ? null : leaderJson(info)) : leaderText(info)}\n`,
    );
    return 0;
  } finally {
    await elector.close();
  }
}

/** `elector participants`: prints the line, the leader first. */
export async function participants(argv: readonly string[], io: CliIo): Promise<number> {
  const opened = await open("participants", argv, io);
  if (opened === undefined) return 0;
  const { elector, json, options } = opened;
  try {
    const line = await readWithin(options, (signal) => elector.participants({ signal }));
    if (json) io.stdout.write(`${JSON.stringify(line.map(participantJson))}\n`);
    else for (const participant of line) io.stdout.write(`${participantText(participant)}\n`);
    return 0;
  } finally {
    await elector.close();
  }
}

/** `elector observe`: the leader, then one line per change, until SIGINT or SIGTERM. */
export async function observe(argv: readonly string[], io: CliIo): Promise<number> {
  const opened = await open("observe", argv, io);
  if (opened === undefined) return 0;
  const { elector, json } = opened;
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
  for (const signal of signals) io.signals.on(signal, onSignal);
  try {
    for await (const info of elector.observe({ signal: stop.signal })) {
      const time = new Date().toISOString();
      io.stdout.write(
        json
          ? `${JSON.stringify({ time, leader: info === undefined ? null : leaderJson(info) })}\n`
          : `${time} ${leaderText(info)}\n`,
      );
    }
    return 0;
  } finally {
    for (const signal of signals) io.signals.off(signal, onSignal);
    await elector.close();
  }
}
