// Prints vitest's JSON results as one closing line, "N passed, N failed, N skipped", per
// project first, after the name of every test that failed or was skipped and of every file
// that failed to load. Exits non-zero when a test failed, was skipped, or none ran at all.
import { readFileSync } from "node:fs";

const file = process.argv[2] ?? ".cache/test-results.json";
const results = JSON.parse(readFileSync(file, "utf8"));
const byProject = new Map();
const root = `${process.cwd()}/`;
let failedSuites = 0;
for (const suite of results.testResults) {
  const file = suite.name.startsWith(root) ? suite.name.slice(root.length) : suite.name;
  if (suite.status === "failed" && suite.assertionResults.length === 0) {
    failedSuites++;
    console.log(`failed to load: ${file}: ${suite.message ?? ""}`.trimEnd());
  }
  for (const test of suite.assertionResults) {
    if (test.status !== "passed") console.log(`${test.status}: ${file} > ${test.fullName}`);
    const project =
      suite.name.includes("/test/integration/") ||
      /\/test\/conformance\/(?!memory)/.test(suite.name)
        ? "integration"
        : "unit";
    const counts = byProject.get(project) ?? { passed: 0, failed: 0, skipped: 0 };
    if (test.status === "passed") counts.passed++;
    else if (test.status === "failed") counts.failed++;
    else counts.skipped++;
    byProject.set(project, counts);
  }
}
let passed = 0;
let failed = failedSuites;
let skipped = 0;
for (const [project, counts] of byProject) {
  console.log(
    `${project}: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`,
  );
  passed += counts.passed;
  failed += counts.failed;
  skipped += counts.skipped;
}
if (failedSuites > 0) console.log(`${failedSuites} test files failed to load`);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || skipped > 0 || passed === 0 ? 1 : 0);
