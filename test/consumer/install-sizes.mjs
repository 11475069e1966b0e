// Prints, for each named package installed in an app, how many packages its install brings
// (itself excluded) and their size on disk, from npm's hidden lockfile.
// Usage: node install-sizes.mjs <app directory> <package name>...
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

const [app = ".", ...names] = process.argv.slice(2);
const { packages } = JSON.parse(
  readFileSync(join(app, "node_modules", ".package-lock.json"), "utf8"),
);

// Node's lookup: the nearest node_modules/<name> from package path `from` up to the app.
function resolve(from, name) {
  for (let dir = from; ; ) {
    const candidate = dir === "" ? `node_modules/${name}` : `${dir}/node_modules/${name}`;
    if (candidate in packages) return candidate;
    if (dir === "") return undefined;
    const cut = dir.lastIndexOf("/node_modules/");
    dir = cut === -1 ? "" : dir.slice(0, cut);
  }
}

function bytes(dir) {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules") continue;
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? bytes(path) : statSync(path).size;
  }
  return total;
}

for (const name of names) {
  const root = `node_modules/${name}`;
  const seen = new Set([root]);
  const queue = [root];
  while (queue.length > 0) {
    const path = queue.shift();
    const entry = packages[path] ?? {};
    for (const dependency of Object.keys({
      ...entry.dependencies,
      ...entry.optionalDependencies,
    })) {
      const found = resolve(path, dependency);
      if (found !== undefined && !seen.has(found)) {
        seen.add(found);
        queue.push(found);
      }
    }
  }
  const size = [...seen].reduce((sum, path) => sum + bytes(join(app, path)), 0);
  console.log(
    `${name}: ${seen.size - 1} dependencies, ${(size / 1024 / 1024).toFixed(1)} MiB installed`,
  );
}
