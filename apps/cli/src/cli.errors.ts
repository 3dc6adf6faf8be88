/** Exit codes of `wagw` (documented in --help). */
export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A condition that ends the command with a message on stderr and a given exit code. */
export abstract class CliError extends Error {
  abstract readonly exitCode: ExitCode;
}

/** Bad arguments or options (exit 2). */
export class UsageError extends CliError {
  readonly exitCode = EXIT.usage;
}

/** The gateway, emulator or SIP peer answered with a failure (exit 1). */
export class CommandFailedError extends CliError {
  readonly exitCode = EXIT.failed;
}

/** Nothing answered at the URL (exit 3). */
export class UnreachableError extends CliError {
  readonly exitCode = EXIT.unreachable;
}
