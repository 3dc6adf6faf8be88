import { createSocket, type Socket } from 'node:dgram';

/** A UDP port that takes SIP requests and never answers, recording the first line and Call-ID of each. */
export class SilentHost {
  readonly received: { line: string; callId: string; branch: string }[] = [];
  private constructor(
    private readonly sock: Socket,
    readonly port: number,
  ) {
    sock.on('message', (msg) => {
      const text = msg.toString('utf8');
      const header = (re: RegExp): string => re.exec(text)?.[1] ?? '';
      this.received.push({ line: text.split('\r\n')[0] ?? '', callId: header(/^Call-ID:\s*(\S+)/im), branch: header(/^Via:.*;branch=([^;\s]+)/im) });
    });
  }

  static async start(port: number): Promise<SilentHost> {
    const sock = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(port, '127.0.0.1', () => resolve());
    });
    return new SilentHost(sock, port);
  }

  invites(): { line: string; callId: string; branch: string }[] {
    return this.received.filter((r) => r.line.startsWith('INVITE '));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.sock.close(() => resolve()));
  }
}
