/**
 * Bencode (BitTorrent BEP 3), the encoding of rtpengine's ng control protocol: integers `i42e`, byte
 * strings `4:spam`, lists `l...e`, dictionaries `d...e` with keys sorted as raw bytes.
 */
export type BValue = number | string | Buffer | BValue[] | { [key: string]: BValue };

export function bencode(v: BValue): Buffer {
  const parts: Buffer[] = [];
  const put = (x: BValue): void => {
    if (typeof x === 'number') {
      if (!Number.isInteger(x)) throw new TypeError(`bencode: ${x} is not an integer`);
      parts.push(Buffer.from(`i${x}e`));
    } else if (typeof x === 'string' || Buffer.isBuffer(x)) {
      const b = typeof x === 'string' ? Buffer.from(x, 'utf8') : x;
      parts.push(Buffer.from(`${b.length}:`), b);
    } else if (Array.isArray(x)) {
      parts.push(Buffer.from('l'));
      x.forEach(put);
      parts.push(Buffer.from('e'));
    } else {
      parts.push(Buffer.from('d'));
      for (const k of Object.keys(x).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))) {
        put(k);
        put(x[k] as BValue);
      }
      parts.push(Buffer.from('e'));
    }
  };
  put(v);
  return Buffer.concat(parts);
}

/** Decodes one value; byte strings come back as UTF-8 strings (ng replies are text). */
export function bdecode(buf: Buffer): BValue {
  let i = 0;
  const next = (): BValue => {
    const c = buf[i];
    if (c === 0x69 /* i */) {
      const end = buf.indexOf(0x65, i);
      const n = Number(buf.toString('latin1', i + 1, end));
      i = end + 1;
      return n;
    }
    if (c === 0x6c /* l */) {
      i++;
      const list: BValue[] = [];
      while (buf[i] !== 0x65) list.push(next());
      i++;
      return list;
    }
    if (c === 0x64 /* d */) {
      i++;
      const dict: Record<string, BValue> = {};
      while (buf[i] !== 0x65) {
        const k = next() as string;
        dict[k] = next();
      }
      i++;
      return dict;
    }
    const colon = buf.indexOf(0x3a, i);
    if (colon < 0) throw new SyntaxError(`bencode: bad token at ${i}`);
    const len = Number(buf.toString('latin1', i, colon));
    const s = buf.toString('utf8', colon + 1, colon + 1 + len);
    i = colon + 1 + len;
    return s;
  };
  return next();
}
