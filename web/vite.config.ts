/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import preact from "@preact/preset-vite";
import { gzipAssets } from "./scripts/gzip-assets";

// The service serves dist/ at / (service/web.py): hashed files under /assets, index.html for every
// client route. `npm run dev` proxies the API to a running `make run`.
export default defineConfig({
  plugins: [preact(), gzipAssets()],
  build: {
    outDir: "dist",
    assetsDir: "assets",
    target: "es2020",
    // No inline script or style: the page's Content-Security-Policy allows only our own files.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  server: {
    proxy: Object.fromEntries(
      ["/api", "/health", "/openapi.json", "/docs"].map((p) => [p, "http://127.0.0.1:8000"]),
    ),
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
  },
});
