/** @signalstream/react: `<SignalStreamProvider>` and `useSignals()` over `@signalstream/client`. */
export { SignalStreamProvider, useSignalStreamConfig } from './SignalStreamProvider';
export type { SignalStreamConfig, SignalStreamProviderProps } from './SignalStreamProvider';
export { useSignals, mergeSignals } from './useSignals';
export type { UseSignalsOptions, UseSignalsResult } from './useSignals';
