import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const packages = ["core", "testing", "etcd", "zookeeper", "fencing", "cli", "metrics"];

function source(name: string, file: string): string {
  return fileURLToPath(new URL(`./packages/${name}/src/${file}`, import.meta.url));
}

export default defineConfig({
  resolve: {
    // Tests run against the sources, never against dist.
    alias: [
      { find: /^@elector\/core\/backend$/, replacement: source("core", "backend.ts") },
      ...packages.map((name) => ({
        find: new RegExp(`^@elector/${name}$`),
        replacement: source(name, "index.ts"),
      })),
    ],
  },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: [
            "packages/*/src/**/*.test.ts",
            "test/conformance/memory.test.ts",
            "test/chaos/*.test.ts",
          ],
          exclude: ["test/chaos/*.run.test.ts"],
          testTimeout: 10_000,
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: [
            "test/integration/**/*.test.ts",
            "test/conformance/*.test.ts",
            "test/chaos/*.run.test.ts",
          ],
          exclude: ["test/conformance/memory.test.ts"],
          globalSetup: ["test/support/global-setup.ts"],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // Two cores: suites that start containers and time failovers must not compete.
          fileParallelism: false,
        },
      },
    ],
  },
});
