// Records which console sources the committed bundle was built from.
// tests/hub/test_web_bundle.py recomputes the same hash and fails when they differ
// (the bundle is stale: run `make console`).
import { writeFileSync } from "node:fs";
import { sourceHash } from "./hash.mjs";

const hash = sourceHash();
writeFileSync(new URL("../../hub/web/static/SOURCE_HASH", import.meta.url), hash + "\n");
console.log(`bundle built from console sources ${hash}`);
