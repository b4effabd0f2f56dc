/** @module The kjournal server client: connection flags, their resolution and the HTTP client. */
export * from './client.js';
export * from './connection.js';
export * from './options.js';
