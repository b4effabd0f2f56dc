/** @module The record model. */
export * from './attributes.js';
export * from './classify.js';
export * from './kube-meta.js';
export * from './names.js';
export * from './normalize.js';
export * from './record.js';
export * from './time.js';
