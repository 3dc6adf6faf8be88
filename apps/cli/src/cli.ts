import type { Logger } from '@wagw/logging';
import { parseArgs, type ParsedArgs } from './cli-args';
import { httpUrl, type CliEnv } from './cli-env';
import { CliError, EXIT, UsageError, type ExitCode } from './cli.errors';
import {
  callCommand,
  callsCommand,
  deadLettersCommand,
  emulatorCallCommand,
  hangupCommand,
  optionsCommand,
  permissionCommand,
  reloadCommand,
  testCallCommand,
  transferCommand,
  trunksCommand,
  voicemailCommand,
  cdrsCommand,
  voicemailAnnouncementCommand,
  whatsappSettingsCommand,
  type CommandContext,
} from './commands';
import { HttpClient } from './http-client';

export const USAGE = `wagw: operate a WhatsApp-to-SIP gateway

Usage: wagw <command> [arguments] [options]

Commands:
  trunks                              trunk hosts and their OPTIONS keep-alive state (GET /v1/trunks)
  options <sip-uri|host:port>         send one SIP OPTIONS; prints the status and round-trip time
        [--transport udp|tcp] [--timeout-ms 5000]
  calls [--all]                       active calls (--all: and recent ones) (GET /v1/calls)
  call <callId|waCallId>              one call's record, or its CDR once ended (GET /v1/calls/{id})
  hangup <callId|waCallId>            end a call, releasing every leg (POST /v1/calls/{id}/hangup)
  transfer <callId|waCallId> <to>     blind transfer of the desk-phone side to an extension or SIP URI
                                      (POST /v1/calls/{id}/transfer; outcome: CRM event)
  voicemail <callId|waCallId>         save the voicemail the user left after the call (Ogg Opus, fetched
        [--out file]                  from Meta by the gateway) (GET /v1/calls/{id}/voicemail)
  cdrs [--since T] [--until T]        export CDRs as CSV, oldest first, every page (GET /v1/cdrs); T: epoch
        [--out file.csv]              ms, ISO 8601 with zone or a date; to the file or standard output
  dead-letters [--limit 20]           webhooks acknowledged but not applied, newest first, with why
                                      (GET /v1/webhooks/dead-letters)
  permission <waId>                   a user's call permission, what an agent's call would do now, and the
                                      request and call quotas left (GET /v1/permissions/{waId})
  test-call <waId> --agent <ext>      the agent's phone rings, then the WhatsApp user (POST /v1/calls)
  emulator-call <waId> [--name N]     the emulator's simulated user <waId> calls the business
  reload                              re-read and apply the gateway configuration (POST /v1/admin/reload)
  whatsapp-settings [--file f.json]   the number's calling settings at Meta, with warnings (calling off, SIP
                                      mode on, voicemail settings Meta ignores, restrictions); --file
                                      changes them first (GET|POST /v1/admin/whatsapp-settings)
  voicemail-announcement <file.ogg>   upload a voicemail greeting (Ogg Opus under 60 s) to Meta; --apply
        [--apply]                     names it in the voicemail settings
                                      (POST /v1/admin/whatsapp-voicemail-announcement)

Options:
  --url <url>            signalling app (env WAGW_URL, default http://127.0.0.1:8080)
  --token <token>        API bearer token, signalling.apiToken (env WAGW_TOKEN; prefer the variable)
  --emulator-url <url>   WhatsApp emulator (env WAGW_EMULATOR_URL, default http://127.0.0.1:8090)
  --json                 print the raw JSON answer
  -h, --help             this help

Exit codes: 0 done, 1 the gateway/emulator/SIP peer refused or failed, 2 usage error, 3 nothing answered.
`;

type Command = (ctx: CommandContext) => Promise<void>;

const COMMANDS: Record<string, { run: Command; api: 'gateway' | 'emulator' | 'sip' }> = {
  trunks: { run: trunksCommand, api: 'gateway' },
  options: { run: optionsCommand, api: 'sip' },
  calls: { run: callsCommand, api: 'gateway' },
  call: { run: callCommand, api: 'gateway' },
  hangup: { run: hangupCommand, api: 'gateway' },
  transfer: { run: transferCommand, api: 'gateway' },
  voicemail: { run: voicemailCommand, api: 'gateway' },
  cdrs: { run: cdrsCommand, api: 'gateway' },
  permission: { run: permissionCommand, api: 'gateway' },
  'dead-letters': { run: deadLettersCommand, api: 'gateway' },
  'test-call': { run: testCallCommand, api: 'gateway' },
  'emulator-call': { run: emulatorCallCommand, api: 'emulator' },
  reload: { run: reloadCommand, api: 'gateway' },
  'whatsapp-settings': { run: whatsappSettingsCommand, api: 'gateway' },
  'voicemail-announcement': { run: voicemailAnnouncementCommand, api: 'gateway' },
};

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  writeFile(path: string, bytes: Buffer): Promise<void>;
  readFile(path: string): Promise<Buffer>;
  /** Logger for the SIP stack of `options` (warnings to stderr). */
  logger: Logger;
}

function contextFor(args: ParsedArgs, env: CliEnv, io: CliIo): CommandContext {
  const url = args.options.has('url') ? httpUrl(args.options.get('url') as string, '--url') : env.url;
  const emulatorUrl = args.options.has('emulator-url') ? httpUrl(args.options.get('emulator-url') as string, '--emulator-url') : env.emulatorUrl;
  const token = args.options.get('token') ?? env.token;
  return {
    args,
    operands: args.positionals.slice(1),
    gateway: () => {
      if (!token) throw new UsageError('no API token: set WAGW_TOKEN (or pass --token) to signalling.apiToken');
      return new HttpClient(url, 'gateway', token);
    },
    emulator: () => new HttpClient(emulatorUrl, 'emulator'),
    out: (text) => io.stdout(`${text}\n`),
    writeFile: io.writeFile,
    readFile: io.readFile,
    logger: io.logger,
    now: Date.now,
  };
}

/** Runs one command line; returns the exit code. Errors are written to stderr, never thrown. */
export async function runCli(argv: readonly string[], env: CliEnv, io: CliIo): Promise<ExitCode> {
  let args: ParsedArgs;
  try {
    args = parseArgs(argv);
  } catch (err) {
    io.stderr(`wagw: ${(err as Error).message}\n\n${USAGE}`);
    return EXIT.usage;
  }
  const name = args.positionals[0];
  if (args.flags.has('help') || name === 'help') {
    io.stdout(USAGE);
    return EXIT.ok;
  }
  const command = name ? COMMANDS[name] : undefined;
  if (!command) {
    io.stderr(`wagw: ${name ? `unknown command ${JSON.stringify(name)}` : 'missing command'}\n\n${USAGE}`);
    return EXIT.usage;
  }
  try {
    await command.run(contextFor(args, env, io));
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CliError) {
      io.stderr(`wagw ${name}: ${err.message}\n`);
      return err.exitCode;
    }
    io.stderr(`wagw ${name}: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return EXIT.failed;
  }
}
