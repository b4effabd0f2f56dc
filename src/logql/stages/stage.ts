/** @module A compiled stage: mutates the entry state; false drops the entry. */
import type { EntryState } from './state.js';

export type Stage = (st: EntryState) => boolean;
