import { accessSync, constants, statSync } from "node:fs";
import { delimiter, join } from "node:path";
import { CliError } from "./cli-error.js";

/**
 * Finds `command` as a shell would (a name with a `/` as it is, else in each `PATH` entry), so
 * that `elector run` refuses a command it cannot start before it campaigns, rather than taking
 * the leadership for a command that never runs.
 *
 * @returns the path that will run.
 * @throws CliError with exit code 127 (not found) or 126 (not executable), as shells use.
 */
export function findCommand(command: string, env: NodeJS.ProcessEnv): string {
  const candidates = command.includes("/")
    ? [command]
    : (env.PATH ?? "").split(delimiter).map((directory) => join(directory || ".", command));
  let notExecutable: string | undefined;
  for (const candidate of candidates) {
    if (!isFile(candidate)) continue;
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      notExecutable ??= candidate;
    }
  }
  if (notExecutable !== undefined) {
    throw new CliError(`cannot run ${notExecutable}: it is not executable`, { exitCode: 126 });
  }
  throw new CliError(
    command.includes("/")
      ? `command not found: ${command} does not exist`
      : `command not found: ${JSON.stringify(command)} is in no directory of PATH`,
    { exitCode: 127 },
  );
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
