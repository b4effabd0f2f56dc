/**
 * @module `kjournal config check FILE`: judges a configuration file as a start would and reports
 * every error at once, one a line, `FILE:LINE:COL: key: reason` (exit 1, as `check` and promtool
 * report a problem found), or prints `FILE: valid serve configuration: ...` (exit 0).
 *
 * A serve file runs through serve's own preparation (serve-prepare.ts), everything but the start:
 * unknown keys with a suggestion, each value by its flag's rule, files named that are missing, the
 * audit policy, `retentionStream`, the flows and outputs built, the auth files and combinations.
 * An agent file: unknown keys, then the agent's own reader (first error), its audit policy and
 * pipeline. `--for` says which; by default a file with keys only the agent has (`server`, `pods`,
 * `stateDir`...) and none only serve has is the agent's, any other serve's.
 */
import { Command, Option } from 'commander';
import { LineCounter, parseDocument } from 'yaml';
import { AGENT_FILE_KEYS, ConfigError as AgentConfigError, mergeConfig } from '../agent/config.js';
import { AuditPolicyError, resolveAuditPolicy } from '../audit/policy/index.js';
import { ConfigError } from '../config/options.js';
import { isObj } from '../formats/json-util.js';
import { closePipelineConfig, parsePipelineConfigAll, readConfigText } from '../pipeline/config.js';
import { KeyConfigError, locate } from '../pipeline/config-error.js';
import { didYouMean } from '../util/did-you-mean.js';
import { CliError, CliErrors, oneLineReason } from './errors.js';
import { defineServe } from './serve.js';
import { pathOfText, topLevelKeys } from './serve-file.js';
import { prepareServe } from './serve-prepare.js';

type Program = 'serve' | 'agent';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Which program's file `top` is, when `--for` does not say. */
export function detectProgram(top: unknown, serveKeys: readonly string[]): Program {
  if (!isObj(top)) return 'serve';
  const keys = Object.keys(top);
  const agentOnly = keys.some((k) => AGENT_FILE_KEYS.includes(k) && !serveKeys.includes(k));
  const serveOnly = keys.some((k) => serveKeys.includes(k) && !AGENT_FILE_KEYS.includes(k));
  return agentOnly && !serveOnly ? 'agent' : 'serve';
}

async function checkServe(file: string): Promise<string> {
  const cmd = defineServe(new Command('serve'));
  cmd.setOptionValueWithSource('config', file, 'cli');
  const { file: read } = await prepareServe(cmd, { keepPipeline: false });
  const settings = read?.values.size ?? 0;
  const rules = read?.retentionStreams.length ?? 0;
  const p = read?.pipeline;
  return (
    `${file}: valid serve configuration: ${plural(settings, 'setting')}, ` +
    `${plural(p?.outputs.length ?? 0, 'output')}, ${plural(p?.flows.length ?? 0, 'flow')}` +
    `${rules > 0 ? `, ${plural(rules, 'retention rule')}` : ''}`
  );
}

async function checkAgent(file: string, text: string, serveKeys: readonly string[]): Promise<string> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  const { FILTERS, OUTPUTS } = await import('../pipeline/registries.js');
  const built = parsePipelineConfigAll(text, file, { filters: FILTERS, outputs: OUTPUTS });
  if (doc.errors.length > 0) throw new CliErrors(built.errors.map((e) => e.message));
  const errors: string[] = [];
  const err = (path: (string | number)[], reason: string, onKey = false) =>
    errors.push(
      locate(new (onKey ? KeyConfigError : ConfigError)(path, reason), doc, lineCounter, file).message,
    );
  const top = doc.toJS({ maxAliasCount: 1000 }) ?? {};
  if (!isObj(top)) {
    err([], 'must be a mapping of settings');
  } else {
    const known: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(top)) {
      if (AGENT_FILE_KEYS.includes(k)) known[k] = v;
      else {
        const near = didYouMean(k, AGENT_FILE_KEYS);
        const hint = near
          ? ` (did you mean ${JSON.stringify(near)}?)`
          : serveKeys.includes(k)
            ? ' (a key of kjournal serve’s file, not the agent’s)'
            : ` (known: ${AGENT_FILE_KEYS.join(', ')})`;
        err([k], `unknown field ${JSON.stringify(k)}${hint}`, true);
      }
    }
    try {
      mergeConfig(known, {});
    } catch (e) {
      if (!(e instanceof AgentConfigError)) throw e;
      const m = /^(\S+?): (.*)$/s.exec(e.message);
      if (m) err([...pathOfText(m[1]!)], m[2]!);
      else errors.push(`${file}: ${e.message}`);
    }
    if (typeof known.auditPolicy === 'string') {
      try {
        await resolveAuditPolicy(known.auditPolicy);
      } catch (e) {
        if (!(e instanceof AuditPolicyError)) throw e;
        err(['auditPolicy'], e.message);
      }
    }
  }
  errors.push(...built.errors.map((e) => e.message));
  if (built.config) await closePipelineConfig(built.config);
  if (errors.length > 0) throw new CliErrors(errors);
  return (
    `${file}: valid agent configuration: ` +
    `${plural(built.config?.outputs.length ?? 0, 'output')}, ${plural(built.config?.flows.length ?? 0, 'flow')}`
  );
}

/** Checks `file` and writes its one-line summary; throws every error found (exit 1). */
export async function configCheck(
  file: string,
  write: (text: string) => void,
  options: { for?: Program } = {},
): Promise<void> {
  let text: string;
  try {
    text = await readConfigText(file);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  const serveKeys = topLevelKeys(defineServe(new Command('serve')));
  let program = options.for;
  if (program === undefined) {
    let top: unknown;
    try {
      top = parseDocument(text).toJS({ maxAliasCount: 1000 });
    } catch {
      top = undefined;
    }
    program = detectProgram(top, serveKeys);
  }
  try {
    write(`${program === 'agent' ? await checkAgent(file, text, serveKeys) : await checkServe(file)}\n`);
  } catch (err) {
    // A problem found is a failed check (1), whatever code serve would exit with.
    if (err instanceof CliErrors) throw new CliErrors(err.lines, 1);
    throw new CliError(oneLineReason(err));
  }
}

export function registerConfigCheck(program: Command): void {
  const config = program.command('config').description('Work with configuration files');
  config
    .command('check')
    .description(
      'Validate a serve or agent configuration file as a start would (every key, value, file named, flow and output), reporting every error with its line',
    )
    .argument('<file>', 'the YAML configuration file')
    .addOption(
      new Option(
        '--for <program>',
        "whose file it is (default: the agent's when it has keys only the agent has)",
      ).choices(['serve', 'agent']),
    )
    .action(async (file: string, opts: { for?: Program }) => {
      await configCheck(file, (t) => process.stdout.write(t), opts.for ? { for: opts.for } : {});
    });
}
