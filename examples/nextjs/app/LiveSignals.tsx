'use client';
import { SignalStreamError } from '@signalstream/client';
import { SignalStreamProvider, useSignals } from '@signalstream/react';

/** A SignalStream token from this app's exchange route; signed out ends the stream. */
async function getToken(): Promise<string> {
  const res = await fetch('/api/signalstream-token', { cache: 'no-store' });
  if (res.status === 401 || res.status === 403) throw new SignalStreamError('auth', 'Signed out of SignalStream');
  if (!res.ok) throw new SignalStreamError('http', `Token exchange failed (${res.status})`, { status: res.status });
  return ((await res.json()) as { token: string }).token;
}

export function LiveSignals({ user }: { user: string }) {
  return (
    <SignalStreamProvider
      apiUrl={process.env.NEXT_PUBLIC_API_URL}
      getToken={getToken}
      storageKey={`signalstream:last_seq:${user}`}
    >
      <SignalTable />
    </SignalStreamProvider>
  );
}

function SignalTable() {
  const { signals, isLoading, error, status, tier } = useSignals({ limit: 20 });
  return (
    <section>
      <p>
        <span data-testid="status" data-status={status}>
          {status}
        </span>
        {tier && <> · tier {tier}</>}
        {error && <> · {error.message}</>}
      </p>
      {isLoading ? (
        <p>Loading…</p>
      ) : (
        <table>
          <tbody>
            {signals.map((s) => (
              <tr key={s.seq} data-seq={s.seq} data-min-tier={s.min_tier}>
                <td>{s.symbol}</td>
                <td>{s.side}</td>
                <td>{s.entry_price}</td>
                <td>{s.min_tier}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
