import { fileURLToPath, URL } from "node:url";
import vue from "@vitejs/plugin-vue";
import { defineConfig } from "vitest/config";

// The bundle is built into the hub's Python package and served by the hub at "/".
export default defineConfig({
  plugins: [vue()],
  base: "/",
  resolve: { alias: { "@": fileURLToPath(new URL("./src", import.meta.url)) } },
  build: {
    outDir: "../hub/web/static",
    emptyOutDir: true,
    chunkSizeWarningLimit: 2500,
    sourcemap: false,
  },
  server: {
    // `npm run dev`: the hub from `make demo` answers the API.
    proxy: { "/api": process.env.VPP_HUB_URL ?? "http://127.0.0.1:8080" },
  },
  test: {
    environment: "happy-dom",
    include: ["tests/**/*.test.ts"],
  },
});
