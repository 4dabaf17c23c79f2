// Server-side rendering in plain Node (no DOM, no jsdom): imports the built packages the way a
// Next.js server would, uses the hook-free API and renders the provider with a hook below it.
// Prints one JSON line for packages/react/src/ssr.test.ts to check.
import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import { listSignals, SignalSocket, toWsUrl } from '@signalstream/client';
import { SignalStreamProvider, useSignals } from '@signalstream/react';

const browserGlobals = ['window', 'document', 'localStorage', 'sessionStorage', 'location', 'WebSocket'];

const socket = new SignalSocket({ apiUrl: 'https://signals.example.com', getToken: async () => 'token' });
const fetchCalls = [];
const page = await listSignals(
  {
    apiUrl: 'https://signals.example.com',
    fetch: async (url) => {
      fetchCalls.push(url);
      return new Response(JSON.stringify({ signals: [], last_seq: 7 }), { status: 200 });
    },
  },
  'token',
  { limit: 5 },
);

function Feed() {
  const { signals, isLoading, error, status } = useSignals({ limit: 10 });
  return createElement('p', null, `${isLoading ? 'loading' : 'ready'} ${signals.length} ${status} ${error ?? ''}`);
}
const html = renderToString(
  createElement(
    SignalStreamProvider,
    { apiUrl: 'https://signals.example.com', getToken: async () => 'token' },
    createElement(Feed),
  ),
);

console.log(
  JSON.stringify({
    browserGlobals: browserGlobals.filter((g) => typeof globalThis[g] !== 'undefined'),
    socketStatus: socket.status,
    apiUrl: socket.apiUrl,
    wsUrl: toWsUrl(socket.apiUrl),
    lastSeq: page.last_seq,
    fetchCalls,
    html,
  }),
);
