#!/usr/bin/env node
import { createLogger } from '@wagw/logging';
import { readFile, writeFile } from 'node:fs/promises';
import pino from 'pino';
import { readCliEnv, type CliEnv } from './cli-env';
import { runCli } from './cli';
import { EXIT } from './cli.errors';

/** `wagw` entry point: the one place that reads the environment and argv and sets the exit code. */
async function main(): Promise<void> {
  const logger = createLogger({ name: 'wagw', level: 'warn', destination: pino.destination({ fd: 2, sync: true }) });
  const io = {
    stdout: (t: string) => void process.stdout.write(t),
    stderr: (t: string) => void process.stderr.write(t),
    writeFile: (path: string, bytes: Buffer) => writeFile(path, bytes),
    readFile: (path: string) => readFile(path),
    logger,
  };
  let env: CliEnv;
  try {
    // eslint-disable-next-line no-process-env -- the CLI edge hands the environment to its parser
    env = readCliEnv(process.env);
  } catch (err) {
    process.stderr.write(`wagw: ${(err as Error).message}\n`);
    process.exitCode = EXIT.usage;
    return;
  }
  process.exitCode = await runCli(process.argv.slice(2), env, io);
}

void main();
