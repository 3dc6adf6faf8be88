import { OpusCodec } from '@wagw/media-bridge';
function speech(n: number): Int16Array { const o = new Int16Array(n); let x = 1; for (let i = 0; i < n; i++) { const t = i / 8000; x = (x * 1103515245 + 12345) & 0x7fffffff; o[i] = Math.round((0.5 + 0.5 * Math.sin(2 * Math.PI * 3 * t)) * (6000 * Math.sin(2 * Math.PI * 220 * t) + 3000 * Math.sin(2 * Math.PI * 1230 * t)) + (x / 0x7fffffff - 0.5) * 1500); } return o; }
const pcm = speech(160 * 500);
for (const [c, fec, loss, br] of [[5, true, 10, 16000], [5, false, 0, 16000], [3, true, 10, 16000], [3, false, 0, 16000], [2, false, 0, 16000], [1, false, 0, 16000], [0, false, 0, 16000], [2, true, 10, 16000], [1, true, 10, 16000], [0, true, 10, 16000]] as const) {
  const enc = new OpusCodec(8000, { complexity: c, inbandFec: fec, packetLossPercent: loss, bitrateBps: br });
  let best = Infinity; let bytes = 0;
  for (let r = 0; r < 5; r++) { const c0 = process.cpuUsage(); for (let i = 0; i < 500; i++) bytes += enc.encode(pcm.subarray(160 * i, 160 * i + 160)).length; const u = process.cpuUsage(c0); best = Math.min(best, (u.user + u.system) / 500); }
  process.stdout.write(`c${c} fec=${fec} loss=${loss}: ${best.toFixed(1)} µs/frame, ${(bytes / 2500 * 8 * 50 / 1000).toFixed(1)} kb/s\n`);
}
const dec48 = new OpusCodec(48000, { complexity: 9, bitrateBps: 20000, inbandFec: true });
const pcm48 = new Int16Array(960 * 500); for (let i = 0; i < pcm48.length; i++) pcm48[i] = pcm[Math.floor(i / 6)] as number;
const pk = Array.from({ length: 500 }, (_, i) => dec48.encode(pcm48.subarray(960 * i, 960 * i + 960)));
const d8 = new OpusCodec(8000);
let best = Infinity; for (let r = 0; r < 5; r++) { const c0 = process.cpuUsage(); for (let i = 0; i < 500; i++) d8.decodeLe(pk[i] as Buffer); const u = process.cpuUsage(c0); best = Math.min(best, (u.user + u.system) / 500); }
process.stdout.write(`decode 48k-encoded at 8k: ${best.toFixed(1)} µs/frame (sizes ~${pk[100]?.length})\n`);
