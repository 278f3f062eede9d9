import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The dev server (5173) and `vite preview` (4173) run on the origins the API allows by
// default in ENV=dev (CORS and websockets); the API itself is at VITE_API_URL.
export default defineConfig({
  plugins: [react()],
  server: { host: "127.0.0.1", port: 5173, strictPort: true },
  preview: { host: "127.0.0.1", port: 4173, strictPort: true },
  build: { sourcemap: true },
});
