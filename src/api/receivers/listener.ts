/**
 * @module What a receiver's listener is once it listens: its bound address, and how to close it
 * (its connections dropped, its held writes let go).
 */
import type { AddressInfo } from 'node:net';

export interface Listener {
  readonly address: AddressInfo;
  close(): Promise<void>;
}
