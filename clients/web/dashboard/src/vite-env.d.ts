/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** API URL for the dashboard; default: the page's own origin (the server that serves it). */
  readonly VITE_API_URL?: string;
}
