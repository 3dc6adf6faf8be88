#!/usr/bin/env node
// `npm run bench`: runs every bench suite (each `bench/<suite>/index.{mjs,js,ts}`, in its own process, one
// after the other), merges their figures into ONE bench/results/<ISO date>.json with the machine, the
// versions and the load average, and prints one report (each suite's tables, then every target's verdict).
//
//   npm run bench -- [--quick] [--only media-capacity,signalling] [--out file.json]
//
// A suite is run as `node [-r bench/support/register.cjs] <index> --out <tmp.json> [--quick]` and writes
// { suite, figures, targets, verdicts, environment, tables? } there; `verdicts` maps a name to an object
// with `met` (true / false / null for informational) and its measured and target values; `tables` is
// optional: [{ title, columns, rows }]. Load generators run in processes of their own inside the suites.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, freemem, loadavg, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = join(BENCH, '..');
const REGISTER = join(BENCH, 'support', 'register.cjs');

function parseArgs(argv) {
  const a = { quick: false, only: null, out: null };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--quick') a.quick = true;
    else if (argv[i] === '--only') a.only = argv[++i].split(',');
    else if (argv[i] === '--out') a.out = argv[++i];
  }
  return a;
}

function findSuites() {
  const suites = [];
  for (const dir of readdirSync(BENCH, { withFileTypes: true })) {
    if (!dir.isDirectory() || dir.name === 'support' || dir.name === 'results') continue;
    const index = ['index.mjs', 'index.js', 'index.ts'].map((f) => join(BENCH, dir.name, f)).find((f) => existsSync(f));
    if (index) suites.push({ name: dir.name, index });
  }
  return suites.sort((a, b) => a.name.localeCompare(b.name));
}

function quiet(cmd, args, pattern) {
  try {
    const out = execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT });
    return pattern ? (pattern.exec(out)?.[1] ?? out.trim()) : out.trim();
  } catch {
    return null;
  }
}

function pkgVersion(name) {
  try {
    return JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
}

function machine() {
  const os = quiet('sh', ['-c', '. /etc/os-release && echo "$PRETTY_NAME"']);
  return { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? null, memoryGb: +(totalmem() / 2 ** 30).toFixed(1), freeMemoryGb: +(freemem() / 2 ** 30).toFixed(1), kernel: release(), os };
}

function versions() {
  return {
    node: process.version,
    gateway: JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version,
    commit: quiet('git', ['rev-parse', '--short', 'HEAD']),
    werift: pkgVersion('werift'),
    '@evan/opus': pkgVersion('@evan/opus'),
    '@nestjs/core': pkgVersion('@nestjs/core'),
    sip: pkgVersion('sip'),
    rtpengine: quiet('rtpengine', ['--version'], /Version:\s*(\S+)/),
    'redis-server': quiet('redis-server', ['--version'], /v=(\S+)/),
    kamailio: quiet('kamailio', ['-v'], /version:\s*kamailio\s+(\S+)/),
    sipp: quiet('sipp', ['-v'], /SIPp v?(\S+)/),
  };
}

const load = () => loadavg().map((x) => +x.toFixed(2));

function runSuite(suite, quick) {
  const out = join(tmpdir(), `wagw-bench-${suite.name}-${process.pid}.json`);
  rmSync(out, { force: true });
  const args = [...(suite.index.endsWith('.ts') ? ['-r', REGISTER] : []), suite.index, '--out', out, ...(quick ? ['--quick'] : [])];
  const started = Date.now();
  return new Promise((resolve) => {
    // the suites' stdout is progress too: keep this process's stdout for the report
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.on('data', (d) => process.stderr.write(d));
    child.on('exit', (code, signal) => {
      const seconds = Math.round((Date.now() - started) / 1000);
      let result = null;
      try {
        result = JSON.parse(readFileSync(out, 'utf8'));
      } catch {
        // no result file: the suite failed before writing one
      }
      rmSync(out, { force: true });
      resolve(result ? { ...result, seconds, exitCode: code } : { suite: suite.name, error: `exited ${code ?? signal} without a result`, seconds });
    });
  });
}

function cell(v) {
  if (v === null || v === undefined) return '-';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(v < 10 ? 3 : 1);
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function printTable({ title, columns, rows }) {
  const body = rows.map((r) => r.map(cell));
  const widths = columns.map((c, i) => Math.max(c.length, ...body.map((r) => (r[i] ?? '').length)));
  const line = (cells) => cells.map((c, i) => (c ?? '').padEnd(widths[i])).join(' | ');
  process.stdout.write(`\n${title}\n${line(columns)}\n${widths.map((w) => '-'.repeat(w)).join('-|-')}\n${body.map(line).join('\n')}\n`);
}

function verdictRows(name, verdicts = {}) {
  return Object.entries(verdicts).map(([key, v]) => {
    const { met, target, ...measured } = v ?? {};
    const status = met === true ? 'MET' : met === false ? 'MISSED' : 'info';
    return [name, key, status, Object.entries(measured).map(([k, x]) => `${k}=${cell(x)}`).join(' '), cell(target)];
  });
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const started = new Date();
  const suites = findSuites().filter((s) => !args.only || args.only.includes(s.name));
  if (suites.length === 0) throw new Error(`no bench suites found (bench/*/index.*)${args.only ? ` matching ${args.only}` : ''}`);
  const report = {
    date: started.toISOString(),
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    machine: machine(),
    versions: versions(),
    loadAverage: { start: load() },
    suites: {},
  };
  process.stderr.write(`bench: ${suites.map((s) => s.name).join(', ')}; load average ${report.loadAverage.start.join(' ')} (figures are only comparable below ~0.5)\n`);
  for (const suite of suites) {
    process.stderr.write(`\n== ${suite.name} (${relative(ROOT, suite.index)})\n`);
    const before = load();
    const result = await runSuite(suite, args.quick);
    report.suites[suite.name] = { ...result, loadAverage: { start: before, end: load() } };
  }
  report.loadAverage.end = load();
  report.seconds = Math.round((Date.now() - started.getTime()) / 1000);
  const out = args.out ?? join(BENCH, 'results', `${started.toISOString().replace(/[:]/g, '-').replace(/\.\d+Z$/, 'Z')}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);

  process.stdout.write(`\nBench ${report.date} on ${report.machine.cpus} x ${report.machine.cpuModel}, Node ${report.versions.node}, load average ${report.loadAverage.start.join(' ')} -> ${report.loadAverage.end.join(' ')}\n`);
  const rows = [];
  for (const [name, r] of Object.entries(report.suites)) {
    if (r.error) rows.push([name, '(suite)', 'ERROR', r.error, '-']);
    for (const t of r.tables ?? []) printTable({ ...t, title: `[${name}] ${t.title}` });
    rows.push(...verdictRows(name, r.verdicts));
  }
  printTable({ title: 'Targets', columns: ['suite', 'figure', 'verdict', 'measured', 'target'], rows });
  process.stdout.write(`\nwritten ${relative(ROOT, out)} (${report.seconds} s)\n`);
  if (Object.values(report.suites).some((r) => r.error)) process.exitCode = 1;
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err.stack ?? err}\n`);
  process.exit(1);
});
