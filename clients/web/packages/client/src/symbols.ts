/** The server's rules for a symbol filter, checked before a filter reaches a connect URL. */

/** The server's symbol rule: 1-32 characters, letters, digits and - _ . / : only. */
export function isValidSymbol(symbol: string): boolean {
  return /^[A-Za-z0-9\-_./:]{1,32}$/.test(symbol);
}

/** At most this many symbols in one filter (the server refuses more). */
export const MAX_SYMBOLS = 100;

/**
 * Trims, upper-cases and de-duplicates a symbol filter. Throws a RangeError for a symbol the
 * server would refuse: in the connect URL such a filter would make every connection fail.
 */
export function normalizeSymbols(symbols: readonly string[] | undefined): string[] {
  if (!symbols) return [];
  const out: string[] = [];
  for (const s of symbols) {
    const t = s.trim().toUpperCase();
    if (!t) continue;
    if (!isValidSymbol(t)) throw new RangeError(`Invalid symbol "${s}": use 1-32 letters, digits or - _ . / :`);
    if (!out.includes(t)) out.push(t);
  }
  if (out.length > MAX_SYMBOLS) throw new RangeError(`At most ${MAX_SYMBOLS} symbols in one filter`);
  return out;
}
