import { createContext, createElement, useContext, useMemo, type ReactNode } from 'react';
import type { GetToken, SignalSocketOptions } from '@signalstream/client';

export interface SignalStreamConfig {
  /** The SignalStream API, e.g. `process.env.NEXT_PUBLIC_API_URL`; default `http://localhost:9001`. */
  apiUrl?: string;
  /** Returns a valid access token; throw a `SignalStreamError` of kind `auth` when the session is over. */
  getToken?: GetToken;
  /** Storage key for the last seen seq (e.g. one per user). */
  storageKey?: string;
  /** Anything else `SignalSocket` accepts (reconnect policy, WebSocket, fetch, storage, ...); read when a connection is created. */
  socketOptions?: Partial<SignalSocketOptions>;
}

export interface SignalStreamProviderProps extends SignalStreamConfig {
  children?: ReactNode;
}

const SignalStreamContext = createContext<SignalStreamConfig>({});

/** Supplies the API URL and the token source to every `useSignals` below it. */
export function SignalStreamProvider({
  apiUrl,
  getToken,
  storageKey,
  socketOptions,
  children,
}: SignalStreamProviderProps) {
  const value = useMemo(
    () => ({ apiUrl, getToken, storageKey, socketOptions }),
    [apiUrl, getToken, storageKey, socketOptions],
  );
  return createElement(SignalStreamContext.Provider, { value }, children);
}

/** The nearest provider's configuration (empty without one). */
export function useSignalStreamConfig(): SignalStreamConfig {
  return useContext(SignalStreamContext);
}
