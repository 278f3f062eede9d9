/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** The API's origin, e.g. https://api.shop.example (default http://127.0.0.1:8000). */
  readonly VITE_API_URL?: string;
  /** Where dev tokens come from (default: `${VITE_API_URL}/dev/tokens`). */
  readonly VITE_DEV_TOKENS_URL?: string;
}

interface ImportMeta {
  readonly env: ImportMetaEnv;
}
