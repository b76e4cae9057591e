import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The app is served by the local runtime (same origin as the API) or, on AWS, by CloudFront.
export default defineConfig({
  plugins: [react()],
  // amazon-cognito-identity-js still reads Node's `global`.
  define: { global: "globalThis" },
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false },
});
