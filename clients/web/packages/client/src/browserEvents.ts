/** The browser's hints that now is a good time to reconnect: back online, or the tab visible again. */

/** Calls `wake` on `online` and when the page becomes visible; returns a function that stops listening. */
export function onBrowserWake(wake: () => void): () => void {
  const detach: Array<() => void> = [];
  if (typeof window !== 'undefined' && typeof window.addEventListener === 'function') {
    window.addEventListener('online', wake);
    detach.push(() => window.removeEventListener('online', wake));
  }
  if (typeof document !== 'undefined' && typeof document.addEventListener === 'function') {
    const onVisible = () => {
      if (document.visibilityState === 'visible') wake();
    };
    document.addEventListener('visibilitychange', onVisible);
    detach.push(() => document.removeEventListener('visibilitychange', onVisible));
  }
  return () => {
    for (const d of detach.splice(0)) d();
  };
}
