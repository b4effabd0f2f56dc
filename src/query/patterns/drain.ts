/**
 * @module Drain, the log template miner Loki's pattern ingester runs on every stream (He et al.,
 * "Drain: An Online Log Parsing Approach with Fixed Depth Tree", ICWS 2017; Loki v3.4
 * pkg/pattern/drain/drain.go, with Loki's defaults).
 *
 * A line's tokens walk a prefix tree: first by token count, then by its first tokens, one level
 * each (a token with a digit goes to the `<_>` branch, and a node has at most `maxChildren`
 * children, the last being `<_>`); at the leaf, the line joins the most similar cluster (the share
 * of positions where the template has the same token, at least `simTh`), whose template then gets
 * `<_>` wherever the two differ; or it starts a new cluster. Clusters live in an LRU of
 * `maxClusters`; when more than `maxEvictionRatio` of the clusters created are evicted, the miner
 * pauses for 10 minutes, as Loki's limiter does (here 10 minutes of the lines' own time, since the
 * lines are replayed from the store rather than arriving live).
 */
import { collapsePlaceholders, type LineTokenizer, PLACEHOLDER } from './tokenizers.js';

export interface DrainConfig {
  /** Loki's LogClusterDepth: the tree descends through at most depth - 3 leading tokens. */
  readonly depth: number;
  /** Loki's SimTh: the least share of equal tokens for a line to join a cluster. */
  readonly simTh: number;
  /** Loki's MaxChildren: children of one tree node. */
  readonly maxChildren: number;
  /** Loki's MaxClusters: clusters kept (least recently used evicted beyond). */
  readonly maxClusters: number;
  /** Loki's MaxEvictionRatio: evicted / created above which mining pauses. */
  readonly maxEvictionRatio: number;
  /** Lines of fewer tokens are not mined (Loki: 4). */
  readonly minTokens: number;
  /** Lines of more tokens are not mined (Loki: 80). */
  readonly maxTokens: number;
}

/** Loki v3.4's DefaultConfig (pkg/pattern/drain/drain.go) and its token bounds (Drain.train). */
export const DEFAULT_DRAIN_CONFIG: DrainConfig = Object.freeze({
  depth: 30,
  simTh: 0.3,
  maxChildren: 15,
  maxClusters: 300,
  maxEvictionRatio: 0.25,
  minTokens: 4,
  maxTokens: 80,
});

/** How long the limiter pauses mining (Loki's limiter.block: 10 minutes). */
const PAUSE_NS = 600_000_000_000n;

export interface Cluster {
  readonly id: number;
  /** Lines in the cluster. */
  size: number;
  /** The template: the first line's tokens, `<_>` where a later line differed. */
  tokens: string[];
  /** The first line's spaces (punctuation tokenizer). */
  readonly spaces: readonly number[] | undefined;
  /** Counts kept by the caller: [time, count, time, count, ...] in time order. */
  readonly samples: number[];
}

/**
 * A node of the prefix tree. Most nodes lie on one line's path: one child, kept inline (`key`,
 * `only`) until a second one needs a map, and clusters only at leaves. A 40-token line's path then
 * takes about 2 KB instead of about 7 KB (measured).
 */
interface TreeNode {
  key?: string;
  only?: TreeNode;
  children?: Map<string, TreeNode>;
  clusterIds?: number[];
}

function child(n: TreeNode, key: string): TreeNode | undefined {
  if (n.children) return n.children.get(key);
  return n.key === key ? n.only : undefined;
}

function childCount(n: TreeNode): number {
  return n.children ? n.children.size : n.only ? 1 : 0;
}

function addChild(n: TreeNode, key: string): TreeNode {
  const c: TreeNode = {};
  if (!n.children && !n.only) {
    n.key = key;
    n.only = c;
    return c;
  }
  if (!n.children) {
    n.children = new Map([[n.key!, n.only!]]);
    n.key = undefined;
    n.only = undefined;
  }
  n.children.set(key, c);
  return c;
}

const HAS_NUMBER = /\p{N}/u;

export interface DrainHooks {
  /** A new cluster is about to be created: false refuses it (the line is then not mined). */
  readonly admit?: () => boolean;
  /** A cluster was dropped from the LRU. */
  readonly evicted?: (cluster: Cluster) => void;
}

export class Drain {
  private readonly root: TreeNode = {};
  /** The LRU: insertion order is recency, oldest first. */
  private readonly clusters = new Map<number, Cluster>();
  private counter = 0;
  private added = 0;
  private evictions = 0;
  private pausedUntil: bigint | undefined;
  private readonly maxNodeDepth: number;

  constructor(
    private readonly tokenizer: LineTokenizer,
    private readonly config: DrainConfig = DEFAULT_DRAIN_CONFIG,
    private readonly hooks: DrainHooks = {},
  ) {
    if (config.depth < 3) throw new RangeError('depth must be at least 3');
    this.maxNodeDepth = config.depth - 2;
  }

  /** The clusters kept, least recently used first. */
  all(): Cluster[] {
    return [...this.clusters.values()];
  }

  /** A cluster's template as Loki prints it ('' when it cannot be printed). */
  template(cluster: Cluster): string {
    return collapsePlaceholders(this.tokenizer.join(cluster.tokens, cluster.spaces));
  }

  /** Mines one line (at `ts`, nanoseconds): the cluster it joined or started, if it was mined. */
  train(line: string, ts: bigint): Cluster | undefined {
    if (!this.allow(ts)) return undefined;
    const t = this.tokenizer.tokenize(line);
    if (!t) return undefined;
    const tokens = t.tokens;
    if (tokens.length < this.config.minTokens || tokens.length > this.config.maxTokens) return undefined;
    const match = this.search(tokens);
    if (match) {
      this.template_(tokens, match.tokens);
      match.size++;
      this.touch(match.id);
      return match;
    }
    if (this.hooks.admit && !this.hooks.admit()) return undefined;
    const cluster: Cluster = { id: ++this.counter, size: 1, tokens, spaces: t.spaces, samples: [] };
    this.add(cluster);
    this.insert(cluster);
    return cluster;
  }

  /** Loki's limiter, in the lines' time. */
  private allow(ts: bigint): boolean {
    if (this.pausedUntil !== undefined) {
      if (ts < this.pausedUntil) return false;
      this.pausedUntil = undefined;
      this.added = 0;
      this.evictions = 0;
    }
    if (this.added === 0) {
      this.added++;
      return true;
    }
    if (this.evictions / this.added > this.config.maxEvictionRatio) {
      this.pausedUntil = ts + PAUSE_NS;
      return false;
    }
    this.added++;
    return true;
  }

  /** simplelru's Get: the cluster, made the most recently used. */
  private touch(id: number): Cluster | undefined {
    const c = this.clusters.get(id);
    if (c === undefined) return undefined;
    this.clusters.delete(id);
    this.clusters.set(id, c);
    return c;
  }

  /** simplelru's Add, evicting the least recently used beyond maxClusters. */
  private add(cluster: Cluster): void {
    this.clusters.set(cluster.id, cluster);
    if (this.config.maxClusters > 0 && this.clusters.size > this.config.maxClusters) {
      const [oldestId, oldest] = this.clusters.entries().next().value as [number, Cluster];
      this.clusters.delete(oldestId);
      this.evictions++;
      this.hooks.evicted?.(oldest);
    }
  }

  /** treeSearch: the leaf for the line's first tokens, then the best cluster there. */
  private search(tokens: readonly string[]): Cluster | undefined {
    const count = tokens.length;
    let cur: TreeNode | undefined = child(this.root, String(count));
    if (!cur) return undefined;
    let depth = 1;
    for (const token of tokens) {
      if (depth >= this.maxNodeDepth || depth === count) break;
      const next: TreeNode | undefined = child(cur, token) ?? child(cur, PLACEHOLDER);
      if (!next) return undefined;
      cur = next;
      depth++;
    }
    return this.bestMatch(cur.clusterIds ?? [], tokens);
  }

  /** fastMatch: the most similar cluster (ties: the one with more placeholders), if similar enough. */
  private bestMatch(ids: readonly number[], tokens: readonly string[]): Cluster | undefined {
    let best: Cluster | undefined;
    let bestSim = -1;
    let bestParams = -1;
    for (const id of ids) {
      // Loki reads candidates through the LRU's Get, which also refreshes them.
      const c = this.touch(id);
      if (!c) continue;
      const { sim, params } = this.distance(c.tokens, tokens);
      if (params < 0) continue;
      if (sim > bestSim || (sim === bestSim && params > bestParams)) {
        bestSim = sim;
        bestParams = params;
        best = c;
      }
    }
    return bestSim >= this.config.simTh ? best : undefined;
  }

  /** getSeqDistance: equal tokens over all (placeholders not counted), and the placeholders. */
  private distance(template: readonly string[], tokens: readonly string[]): { sim: number; params: number } {
    let same = 0;
    let params = 0;
    for (let i = 0; i < template.length; i++) {
      const a = template[i]!;
      const b = tokens[i]!;
      // A token starting with a NUL byte must match exactly (Loki's marked tokens).
      if (a.length > 0 && a.charCodeAt(0) === 0 && a !== b) return { sim: 0, params: -1 };
      if (a === PLACEHOLDER) params++;
      else if (a === b) same++;
    }
    return { sim: same / template.length, params };
  }

  /** createTemplate: the template gets the placeholder where the line differs. */
  private template_(tokens: readonly string[], template: string[]): void {
    for (let i = 0; i < tokens.length; i++) if (tokens[i] !== template[i]) template[i] = PLACEHOLDER;
  }

  /** addSeqToPrefixTree. */
  private insert(cluster: Cluster): void {
    const count = cluster.tokens.length;
    const key = String(count);
    let cur = child(this.root, key) ?? addChild(this.root, key);
    if (count === 0) {
      cur.clusterIds = [...(cur.clusterIds ?? []), cluster.id];
      return;
    }
    const max = this.config.maxChildren;
    let depth = 1;
    for (const token of cluster.tokens) {
      if (depth >= this.maxNodeDepth || depth >= count) {
        // The leaf: drop the ids of evicted clusters before adding this one.
        cur.clusterIds = (cur.clusterIds ?? []).filter((id) => this.clusters.has(id));
        cur.clusterIds.push(cluster.id);
        break;
      }
      let next = child(cur, token);
      if (!next) {
        const wildcard = child(cur, PLACEHOLDER);
        const size = childCount(cur);
        if (HAS_NUMBER.test(token)) next = wildcard ?? addChild(cur, PLACEHOLDER);
        else if (wildcard) next = size < max ? addChild(cur, token) : wildcard;
        else if (size + 1 < max) next = addChild(cur, token);
        else if (size + 1 === max) next = addChild(cur, PLACEHOLDER);
        else next = addChild(cur, PLACEHOLDER); // unreachable: a full node has its `<_>` child
      }
      cur = next;
      depth++;
    }
  }
}
