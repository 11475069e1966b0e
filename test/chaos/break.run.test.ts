// `pnpm chaos --break` must fail: broken candidates, which ignore their signal after a loss
// and write unfenced, make the checker report overlaps and stale writes, and the run exits 1.
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));

describe("pnpm chaos --break", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it("reports overlaps and stale writes, ends with their count and exits 1", async () => {
    const dir = await mkdtemp(join(tmpdir(), "chaos-break-"));
    dirs.push(dir);
    // Seed 4 aims both faults at the leader; each deposes it, so a broken leader overlaps
    // with its successor and writes after it, whatever the timing.
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "test/chaos/main.ts",
        "--break",
        "--backend",
        "etcd",
        "--kinds",
        "pause-candidate,partition",
        "--faults",
        "2",
        "--seed",
        "4",
        "--ledger-dir",
        dir,
      ],
      {
        cwd: root,
        env: { ...process.env, TSX_TSCONFIG_PATH: join(root, "tsconfig.test.json") },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));

    const lines = output.trimEnd().split("\n");
    const count = (label: string) =>
      Number(new RegExp(`^  ${label}: (\\d+)$`, "m").exec(output)?.[1] ?? Number.NaN);
    expect(lines.at(-1), output).toMatch(/^violations: [1-9]\d*$/);
    expect(code, output).toBe(1);
    expect(count("overlap"), output).toBeGreaterThan(0);
    expect(count("stale write admitted"), output).toBeGreaterThan(0);
    expect(output).toContain("reproduce the schedule with: pnpm chaos --backend etcd --seed 4");
  }, 300_000);
});
