import { storeContract } from './contract.js';
import { storeFactories } from './factories.js';

for (const factory of storeFactories) storeContract(factory);
