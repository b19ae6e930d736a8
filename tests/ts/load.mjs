// Loads the generated TypeScript package as compiled JavaScript for the node:test suites.
// MOLTZAP_TS_DIST: a directory with the compiled package (index.js), used as is.
// Otherwise MOLTZAP_TS_PKG (default ../../generated/ts from here) is compiled with the tsc of
// tests/ts/node_modules into a temporary directory first.
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

function distDir() {
  if (process.env.MOLTZAP_TS_DIST) return resolve(process.env.MOLTZAP_TS_DIST);
  const pkg = resolve(here, process.env.MOLTZAP_TS_PKG ?? "../../generated/ts");
  const out = mkdtempSync(join(tmpdir(), "moltzap-ts-dist-"));
  const tsc = join(here, "node_modules", "typescript", "bin", "tsc");
  execFileSync(process.execPath, [tsc, "-p", pkg, "--outDir", out, "--sourceMap", "false", "--declaration", "false"], { stdio: "inherit" });
  return out;
}

/** The generated package's exports. */
export const mz = await import(pathToFileURL(join(distDir(), "index.js")).href);

/** The repository root. */
export const root = resolve(here, "../..");
