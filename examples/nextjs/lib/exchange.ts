import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { exchangeToken, type TokenResponse } from '@signalstream/client';
import { calculateJwkThumbprint, SignJWT, type JWK } from 'jose';

/** What SignalStream checks: Auth:External:Issuer (this app's URL) and Auth:External:Audience. */
export const ISSUER = process.env.NEXTAUTH_URL ?? 'http://localhost:3000';
export const AUDIENCE = 'signalstream';
const API_URL = process.env.SIGNALSTREAM_API_URL ?? process.env.NEXT_PUBLIC_API_URL ?? 'http://localhost:9001';

let appKey: Promise<{ privateKey: KeyObject; jwk: JWK }> | undefined;

/** The app's signing key (EXCHANGE_PRIVATE_KEY) and its public half as a JWK, named by its thumbprint. */
function key() {
  appKey ??= (async () => {
    const pem = process.env.EXCHANGE_PRIVATE_KEY;
    if (!pem) throw new Error('EXCHANGE_PRIVATE_KEY is not set');
    const privateKey = createPrivateKey(pem.replace(/\\n/g, '\n'));
    const jwk = createPublicKey(privateKey).export({ format: 'jwk' }) as JWK;
    return { privateKey, jwk: { ...jwk, kid: await calculateJwkThumbprint(jwk), alg: 'RS256', use: 'sig' } };
  })();
  return appKey;
}

/** The JWKS SignalStream fetches from Auth:External:JwksUrl. */
export async function jwks(): Promise<{ keys: JWK[] }> {
  return { keys: [(await key()).jwk] };
}

/** Trades the signed-in user for a SignalStream access token: a one-minute RS256 assertion, exchanged once. */
export async function signalStreamToken(username: string): Promise<TokenResponse> {
  const { privateKey, jwk } = await key();
  const assertion = await new SignJWT()
    .setProtectedHeader({ alg: 'RS256', kid: jwk.kid })
    .setSubject(username)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('1m')
    .sign(privateKey);
  return exchangeToken({ apiUrl: API_URL }, assertion);
}
