/**
 * @module Every subcommand, registered on the program. One file per command beside this one.
 */
import type { Command } from 'commander';
import { registerAgent } from './agent.js';
import { registerAuditPolicy } from './audit-policy.js';
import { registerConfigCheck } from './config-check.js';
import { registerGet } from './get.js';
import { registerImport } from './import.js';
import { registerKubeShortcuts } from './kube-shortcuts.js';
import { registerLabels } from './labels.js';
import { registerQuery } from './query.js';
import { registerSeries } from './series.js';
import { registerServe } from './serve.js';

export function registerCommands(program: Command): void {
  registerServe(program);
  registerImport(program);
  registerQuery(program);
  registerLabels(program);
  registerSeries(program);
  registerGet(program);
  registerKubeShortcuts(program);
  registerAgent(program);
  registerAuditPolicy(program);
  registerConfigCheck(program);
}
