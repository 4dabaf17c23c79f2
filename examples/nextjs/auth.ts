import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextAuthOptions } from 'next-auth';
import Credentials from 'next-auth/providers/credentials';
import users from './users.json';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * Sign-in for the example: a Credentials provider over users.json. Each app user maps to a SignalStream
 * username, kept as the session's `sub`; SignalStream decides the tier. Use your real provider here.
 */
export const authOptions: NextAuthOptions = {
  session: { strategy: 'jwt' },
  providers: [
    Credentials({
      name: 'the example user list',
      credentials: {
        username: { label: 'Username', type: 'text' },
        password: { label: 'Password', type: 'password' },
      },
      authorize(credentials) {
        const user = users.find((u) => u.username === credentials?.username);
        if (!user || !timingSafeEqual(digest(user.password), digest(credentials?.password ?? ''))) return null;
        return { id: user.signalstreamUser, name: user.username };
      },
    }),
  ],
};
