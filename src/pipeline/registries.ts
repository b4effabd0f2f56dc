/**
 * @module Every filter and output type of this build, for loading a configuration (config.ts loads
 * this module only when the caller brings no registries of its own).
 */

import { FILTERS } from './filters/index.js';
import { OUTPUTS } from './outputs/index.js';

export { FILTERS, OUTPUTS };
