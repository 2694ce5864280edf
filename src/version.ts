import { requireHere } from './require-here.js';

// Read at run time rather than inlined so a version bump needs no rebuild of this module's logic;
// package.json sits one level above dist/ and src/ alike.
const pkg = requireHere('../package.json') as { version: string };

export const VERSION: string = pkg.version;
