import { SignalStreamError } from '@signalstream/client';
import { getToken } from 'next-auth/jwt';
import { type NextRequest } from 'next/server';
import { signalStreamToken } from '../../../lib/exchange';

export const dynamic = 'force-dynamic';

/** The browser's SignalStream token: the NextAuth session exchanged on the server, never a password. */
export async function GET(req: NextRequest) {
  const session = await getToken({ req });
  if (!session?.sub) return Response.json({ error: 'Signed out' }, { status: 401 });
  try {
    const { access_token, expires_in, tier } = await signalStreamToken(session.sub);
    return Response.json({ token: access_token, expires_in, tier }, { headers: { 'Cache-Control': 'no-store' } });
  } catch (e) {
    if (e instanceof SignalStreamError && e.status !== undefined && e.status < 500) {
      return Response.json({ error: e.message }, { status: e.status === 401 ? 401 : 403 });
    }
    console.error('SignalStream token exchange failed', e);
    return Response.json({ error: 'SignalStream unavailable' }, { status: 502 });
  }
}
