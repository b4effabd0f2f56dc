/**
 * @module Which source kinds this build of `kjournal agent` can run. Each source module registers
 * a factory for its kind; the CLI builds the sources the configuration asks for through here, and a
 * configured kind with no factory fails with one line ("the journal source is not available in this
 * build").
 */

import { SOURCE_KINDS, type SourceKind, type SourceSections } from './sections.js';
import type { Source } from './source.js';

/** What every factory is told besides its own section. */
export interface SourceFactoryContext {
  /** `--node`: the node name sources put on their records. */
  readonly node: string | undefined;
  /** `--state-dir`, for a source that keeps more than positions. */
  readonly stateDir: string;
}

/** Builds the source(s) of one section (syslog may give one per listener). */
export type SourceFactory<K extends SourceKind = SourceKind> = (
  section: NonNullable<SourceSections[K]>,
  ctx: SourceFactoryContext,
) => Source | readonly Source[] | Promise<Source | readonly Source[]>;

const factories = new Map<SourceKind, SourceFactory<SourceKind>>();

export function registerSourceFactory<K extends SourceKind>(kind: K, factory: SourceFactory<K>): void {
  factories.set(kind, factory as unknown as SourceFactory<SourceKind>);
}

/** For tests: forgets a registration. */
export function unregisterSourceFactory(kind: SourceKind): void {
  factories.delete(kind);
}

export class SourceUnavailableError extends Error {
  override readonly name = 'SourceUnavailableError';
}

/** What `buildSources` reads of the agent's configuration. */
export interface SourcesConfig {
  readonly sources: SourceSections;
  readonly node?: string;
  readonly stateDir: string;
}

/** The sources `config` asks for, in a fixed order; throws on a kind with no factory. */
export async function buildSources(config: SourcesConfig): Promise<Source[]> {
  const out: Source[] = [];
  const ctx: SourceFactoryContext = { node: config.node, stateDir: config.stateDir };
  for (const kind of SOURCE_KINDS) {
    const section = config.sources[kind];
    if (section === undefined) continue;
    const factory = factories.get(kind);
    if (!factory) throw new SourceUnavailableError(`the ${kind} source is not available in this build`);
    const made = await factory(section as NonNullable<SourceSections[SourceKind]>, ctx);
    if (Array.isArray(made)) out.push(...(made as readonly Source[]));
    else out.push(made as Source);
  }
  return out;
}
