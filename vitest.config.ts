import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const packages = ["core", "testing", "etcd", "zookeeper", "fencing", "cli"];

export default defineConfig({
  resolve: {
    // Tests run against the sources, never against dist.
    alias: Object.fromEntries(
      packages.map((name) => [
        `@elector/${name}`,
        fileURLToPath(new URL(`./packages/${name}/src/index.ts`, import.meta.url)),
      ]),
    ),
  },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["packages/*/src/**/*.test.ts", "test/conformance/memory.test.ts"],
          testTimeout: 10_000,
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts", "test/conformance/*.test.ts"],
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
