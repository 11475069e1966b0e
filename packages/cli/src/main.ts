import { readFileSync } from "node:fs";
import { CliError, messageOf } from "./cli-error.js";
import { leader, observe, participants } from "./commands/read.js";
import { run } from "./commands/run.js";
import type { CliIo } from "./io.js";
import { usage, usageOf } from "./usage.js";

const commands: Readonly<Record<string, (argv: readonly string[], io: CliIo) => Promise<number>>> =
  { run, leader, observe, participants };

/**
 * Runs the `elector` command line and resolves with the exit code. It never throws: every
 * failure is one line on `io.stderr`, prefixed `elector: error:`.
 *
 * @example
 * ```ts
 * process.exitCode = await main(process.argv.slice(2), { ...process, signals: process });
 * ```
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (name === undefined || name === "-h" || name === "--help") {
      (name === undefined ? io.stderr : io.stdout).write(usage.elector);
      return name === undefined ? 2 : 0;
    }
    if (name === "--version") {
      io.stdout.write(`${version()}\n`);
      return 0;
    }
    if (name === "help") {
      const topic = rest[0] ?? "elector";
      const text = usageOf(topic);
      if (text === undefined) throw unknownCommand(topic);
      io.stdout.write(text);
      return 0;
    }
    const command = commands[name];
    if (command === undefined) throw unknownCommand(name);
    return await command(rest, io);
  } catch (error) {
    if (error instanceof CliError) {
      const hint = error.helpFor === undefined ? "" : ` (see: ${helpCommand(error.helpFor)})`;
      io.stderr.write(`elector: error: ${error.message}${hint}\n`);
      return error.exitCode;
    }
    io.stderr.write(`elector: error: ${messageOf(error)}\n`);
    return 1;
  }
}

function unknownCommand(name: string): CliError {
  return new CliError(
    name.startsWith("-")
      ? `unknown flag ${name}; flags come after the command`
      : `unknown command ${JSON.stringify(name)}; commands: ${Object.keys(commands).join(", ")}`,
    { exitCode: 2, helpFor: "elector" },
  );
}

function helpCommand(command: string): string {
  return command === "elector" ? "elector --help" : `elector ${command} --help`;
}

function version(): string {
  // ../package.json from both src/ (tests) and dist/ (installed).
  const manifest = JSON.parse(
    readFileSync(new URL("../package.json", import.meta.url), "utf8"),
  ) as { version: string };
  return manifest.version;
}
