import type { Logger } from "@elector/core";
import { type DestinationStream, type LevelWithSilent, pino } from "pino";
import { usageError } from "./cli-error.js";
import type { Output } from "./io.js";

/** The values of `--log-level`, most to least verbose. */
export const logLevels: readonly LevelWithSilent[] = [
  "trace",
  "debug",
  "info",
  "warn",
  "error",
  "fatal",
  "silent",
];

/** The default of `--log-level`. */
export const defaultLogLevel: LevelWithSilent = "info";

/**
 * Reads `--log-level`, and `--quiet` (short for `--log-level warn`).
 *
 * @throws CliError with exit code 2 for an unknown level, or both flags at once.
 */
export function logLevelOf(
  command: string,
  values: { "log-level"?: string; quiet?: boolean },
): LevelWithSilent {
  const level = values["log-level"];
  if (level === undefined) return values.quiet === true ? "warn" : defaultLogLevel;
  if (values.quiet === true) {
    throw usageError(command, "--quiet and --log-level both set the log level; give one");
  }
  if (!(logLevels as readonly string[]).includes(level)) {
    throw usageError(
      command,
      `--log-level must be one of ${logLevels.join(", ")}, got ${JSON.stringify(level)}`,
    );
  }
  return level as LevelWithSilent;
}

/**
 * The CLI's logger: pino, one JSON object per line on `stderr` (stdout stays the commands'
 * output), with the level as its name and an ISO time. It is handed to the elector too, whose
 * lines carry `election`, `id` and `backend`.
 *
 * Credentials never reach it: the elector logs its configuration redacted, and the URL is
 * logged by nobody; the `redact` paths are a second line of defence against a field named
 * `password` in the first three levels of a line.
 */
export function createCliLogger(stderr: Output, level: LevelWithSilent): Logger {
  return pino(
    {
      name: "elector",
      level,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: {
        paths: ["password", "*.password", "*.*.password"],
        censor: "[redacted]",
      },
    },
    stderr as DestinationStream,
  );
}
