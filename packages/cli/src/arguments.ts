import { parseArgs } from "node:util";
import { usageError } from "./cli-error.js";

/** A flag of one command, as `node:util` `parseArgs` takes it. */
export type FlagSpec = { readonly type: "string" | "boolean"; readonly short?: string };

/** What {@link parseFlags} returns: each flag's value, if given. */
export type FlagValues<F extends Record<string, FlagSpec>> = {
  -readonly [K in keyof F]?: F[K]["type"] extends "string" ? string : boolean;
};

/** The flags every command that talks to a server takes. */
export const targetFlags = {
  url: { type: "string" },
  election: { type: "string" },
  "connect-timeout": { type: "string" },
  "log-level": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies Record<string, FlagSpec>;

/** Where to connect, from the flags every command shares. */
export interface TargetArguments {
  /** `--url`, else `ELECTOR_URL`. */
  readonly url: string;
  readonly election: string;
  /** How long to wait for the server before giving up, in milliseconds. */
  readonly connectTimeoutMs: number;
}

/** The default of `--connect-timeout`. */
export const defaultConnectTimeoutMs = 10_000;

/**
 * Parses `argv` strictly: an unknown flag, a missing value or a stray argument is a usage
 * error that names it.
 *
 * @throws CliError with exit code 2.
 */
export function parseFlags<const F extends Record<string, FlagSpec>>(
  command: string,
  argv: readonly string[],
  flags: F,
): FlagValues<F> {
  try {
    return parseArgs({
      args: attachNegativeValues(argv, flags),
      options: flags,
      strict: true,
      allowPositionals: false,
    }).values as FlagValues<F>;
  } catch (error) {
    throw usageError(command, describeParseError(error), error);
  }
}

/**
 * `--ttl -5` as `--ttl=-5`: parseArgs takes a value that starts with "-" for a flag and calls
 * it ambiguous, while a number is plainly the flag's value, whose own check names what is
 * wrong with it.
 */
function attachNegativeValues(argv: readonly string[], flags: Record<string, FlagSpec>): string[] {
  const args: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index] ?? "";
    const next = argv[index + 1];
    const name = arg.startsWith("--") ? arg.slice(2) : undefined;
    if (
      name !== undefined &&
      Object.hasOwn(flags, name) &&
      flags[name]?.type === "string" &&
      next !== undefined &&
      /^-\.?\d/.test(next)
    ) {
      args.push(`${arg}=${next}`);
      index++;
    } else {
      args.push(arg);
    }
  }
  return args;
}

function describeParseError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  // Node's messages name the flag but go on about positionals; keep the part that helps.
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    const flag = /'([^']+)'/.exec(message)?.[1];
    return `unknown flag ${flag ?? message}`;
  }
  if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") {
    const argument = /'([^']*)'/.exec(message)?.[1];
    return `unexpected argument ${JSON.stringify(argument ?? message)}`;
  }
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    const flag = /'(--?[\w-]+)/.exec(message)?.[1];
    if (flag !== undefined && message.includes("argument missing")) {
      return `${flag} needs a value`;
    }
    // `--id --once`: the value is missing, or starts with "-" and must be attached with "=".
    if (flag !== undefined && message.includes("ambiguous")) {
      return `${flag} needs a value; one that starts with "-" goes after "=", as in ${flag}=-x`;
    }
  }
  return message;
}

/**
 * Reads the shared flags: `--url` (default `ELECTOR_URL`), `--election` (required) and
 * `--connect-timeout`.
 *
 * @throws CliError with exit code 2 when one is missing or malformed.
 */
export function targetArguments(
  command: string,
  values: { url?: string; election?: string; "connect-timeout"?: string },
  env: NodeJS.ProcessEnv,
): TargetArguments {
  const url = values.url ?? env.ELECTOR_URL;
  if (url === undefined || url === "") {
    throw usageError(
      command,
      "--url is required (or set ELECTOR_URL), e.g. --url etcd://127.0.0.1:2379",
    );
  }
  const election = values.election;
  if (election === undefined || election === "") {
    throw usageError(command, "--election is required, e.g. --election billing-cron");
  }
  const connectTimeout = values["connect-timeout"];
  return {
    url,
    election,
    connectTimeoutMs:
      connectTimeout === undefined
        ? defaultConnectTimeoutMs
        : parseDuration(command, "--connect-timeout", connectTimeout, { minMs: 1 }),
  };
}

const units = { ms: 1, s: 1_000, m: 60_000 } as const;

/**
 * Parses a duration: a number of seconds (`10`, `0.5`) or a number with a unit (`500ms`,
 * `10s`, `1m`).
 *
 * @returns milliseconds, a whole number.
 * @throws CliError with exit code 2, naming the flag and the value.
 */
export function parseDuration(
  command: string,
  flag: string,
  text: string,
  bounds: { minMs?: number; maxMs?: number } = {},
): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  const ms =
    match === null
      ? Number.NaN
      : Number(match[1]) * units[(match[2] as keyof typeof units | undefined) ?? "s"];
  const minMs = bounds.minMs ?? 0;
  const maxMs = bounds.maxMs ?? 86_400_000;
  if (!Number.isInteger(ms) || ms < minMs || ms > maxMs) {
    throw usageError(
      command,
      `${flag} must be a duration from ${formatDuration(minMs)} to ${formatDuration(maxMs)} such as 10, 10s or 500ms, got ${JSON.stringify(text)}`,
    );
  }
  return ms;
}

/** `1500` → `"1.5s"`, `250` → `"250ms"`. */
export function formatDuration(ms: number): string {
  return ms < 1_000 ? `${ms}ms` : `${ms / 1_000}s`;
}
