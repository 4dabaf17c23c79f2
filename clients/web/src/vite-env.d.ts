/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** API base URL for the dashboard; default: the page's origin. */
  readonly VITE_API_BASE?: string;
}
