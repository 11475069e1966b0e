// Checks one unpacked package: what package.json points at exists, every source map's
// sources ship beside it, and nothing that should not ship does (build info, tests).
// Usage: node check-tarball.mjs <unpacked package directory>
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const root = resolve(process.argv[2] ?? ".");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const problems = [];
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else files.push(relative(root, path));
  }
})(root);

for (const required of ["LICENSE", "README.md", "package.json"]) {
  if (!files.includes(required)) problems.push(`${required} is missing`);
}
for (const file of files) {
  if (/\.tsbuildinfo$|\.test\.|\.test-support\./.test(file)) problems.push(`${file} ships`);
}

const targets = [pkg.main, pkg.types, ...Object.values(pkg.bin ?? {})];
const collect = (entry) => {
  if (typeof entry === "string") targets.push(entry);
  else if (entry !== null && typeof entry === "object") Object.values(entry).forEach(collect);
};
collect(pkg.exports);
for (const paths of Object.values(pkg.typesVersions?.["*"] ?? {})) targets.push(...paths);
for (const target of targets) {
  if (target === undefined) problems.push("main or types is not set");
  else if (!existsSync(join(root, target)))
    problems.push(`${target} (named in package.json) is missing`);
}
for (const [dependency, range] of Object.entries({
  ...pkg.dependencies,
  ...pkg.peerDependencies,
})) {
  if (/^(workspace|catalog):/.test(range)) problems.push(`${dependency} is still ${range}`);
}

let maps = 0;
for (const file of files.filter((name) => name.endsWith(".map"))) {
  maps++;
  const map = JSON.parse(readFileSync(join(root, file), "utf8"));
  for (const source of map.sources) {
    const path = join(root, dirname(file), map.sourceRoot ?? "", source);
    if (!existsSync(path))
      problems.push(`${file} points at ${relative(root, path)}, which does not ship`);
  }
}

if (problems.length > 0) {
  console.error(`${pkg.name}:\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log(`${pkg.name}@${pkg.version}: ${files.length} files, ${maps} source maps, all resolve`);
