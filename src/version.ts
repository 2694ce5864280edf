import { createRequire } from 'node:module';

// Read at run time rather than inlined so a version bump needs no rebuild of this module's logic;
// package.json sits one level above dist/ and src/ alike.
const pkg = createRequire(import.meta.url)('../package.json') as { version: string };

export const VERSION: string = pkg.version;
