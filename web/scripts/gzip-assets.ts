import { gzipSync } from "node:zlib";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Plugin } from "vite";

/** Writes a `.gz` twin of every text asset once, at build time: the service sends it to browsers
 * that accept gzip (service/web.py) instead of compressing on every request. */
export function gzipAssets(): Plugin {
  let outDir = "dist";
  return {
    name: "gzip-assets",
    apply: "build",
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    closeBundle() {
      const assets = join(outDir, "assets");
      for (const name of readdirSync(assets)) {
        if (/\.(js|css|svg|json)$/.test(name)) {
          const path = join(assets, name);
          writeFileSync(`${path}.gz`, gzipSync(readFileSync(path), { level: 9 }));
        }
      }
    },
  };
}
