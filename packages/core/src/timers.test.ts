import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL(".", import.meta.url));

function sources(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith(".ts") && !entry.name.includes(".test") ? [path] : [];
  });
}

describe("the timer rule (see the package README)", () => {
  it("unrefs every timer in core, unless a comment says why it keeps the process alive", () => {
    const offenders: string[] = [];
    for (const file of sources(root)) {
      const lines = readFileSync(file, "utf8").split("\n");
      lines.forEach((line, index) => {
        if (!/\bset(Timeout|Interval)\(/.test(line)) return;
        const before = lines.slice(Math.max(0, index - 3), index).join("\n");
        const after = lines.slice(index, index + 12).join("\n");
        if (/Keeps the process alive:/.test(before) || /\.unref\(\)/.test(after)) return;
        offenders.push(`${relative(root, file)}:${index + 1}`);
      });
    }
    expect(offenders).toEqual([]);
  });
});
