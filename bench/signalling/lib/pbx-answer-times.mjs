// What the PBX itself took to answer each call, as the gateway saw it: from the SIP stack's "sending INVITE"
// to its "call answered" (200 OK) log lines, by WhatsApp call id. The call setup bench subtracts it from the
// emulator's webhook-out -> accept-in time to get what the gateway adds (SIPp's `<pause/>` between its 180
// and its 200 alone takes ~5 ms here). Reads the signalling log incrementally: each read() returns the calls
// whose lines appeared since the last one. Log times have millisecond resolution.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

const INVITE = '"msg":"sending INVITE"';
const ANSWERED = '"msg":"call answered"';
const WA_CALL_ID = /"waCallId":"([^"]+)"/;
const TIME = /"time":"([^"]+)"/;

export class PbxAnswerTimes {
  #file;
  #offset = 0;
  #rest = '';
  /** waCallId -> time the INVITE went out (ms since epoch), until its 200 arrives */
  #invited = new Map();

  constructor(signallingLogFile) {
    this.#file = signallingLogFile;
  }

  /** Map waCallId -> ms from INVITE out to 200 in, for the calls answered since the last read. */
  read() {
    const answered = new Map();
    for (const line of this.#newLines()) {
      const isInvite = line.includes(INVITE);
      if (!isInvite && !line.includes(ANSWERED)) continue;
      const id = WA_CALL_ID.exec(line)?.[1];
      const at = Date.parse(TIME.exec(line)?.[1] ?? '');
      if (!id || !Number.isFinite(at)) continue;
      if (isInvite) this.#invited.set(id, at);
      else if (this.#invited.has(id)) {
        answered.set(id, at - this.#invited.get(id));
        this.#invited.delete(id);
      }
    }
    return answered;
  }

  *#newLines() {
    const fd = openSync(this.#file, 'r');
    try {
      const size = fstatSync(fd).size;
      const chunk = Buffer.allocUnsafe(1 << 20);
      while (this.#offset < size) {
        const n = readSync(fd, chunk, 0, Math.min(chunk.length, size - this.#offset), this.#offset);
        if (n <= 0) break;
        this.#offset += n;
        const lines = (this.#rest + chunk.toString('utf8', 0, n)).split('\n');
        this.#rest = lines.pop() ?? '';
        yield* lines;
      }
    } finally {
      closeSync(fd);
    }
  }
}
