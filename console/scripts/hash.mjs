// SHA-256 over the console's sources, in a fixed order: every file under src/ plus the
// build inputs below. Each entry is "<relative path>\0<bytes>\0". The same recipe is in
// tests/hub/test_web_bundle.py; change both together.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const INPUTS = ["index.html", "package.json", "package-lock.json", "tsconfig.json", "vite.config.ts"];

function walk(dir) {
  return readdirSync(dir)
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? walk(path) : [path];
    });
}

export function sourceFiles() {
  const files = [...walk(join(ROOT, "src")).map((p) => relative(ROOT, p)), ...INPUTS];
  return files.map((f) => f.split("\\").join("/")).sort();
}

export function sourceHash() {
  const h = createHash("sha256");
  for (const rel of sourceFiles()) {
    h.update(rel + "\0");
    h.update(readFileSync(join(ROOT, rel)));
    h.update("\0");
  }
  return h.digest("hex");
}
