// The file reporters and CSV tools, one chunk of the build (dist/lazy-reporters.cjs) that
// src/lazy/index.ts loads when a tracker writes files (saveToFile, saveToJson) or one of them is called.
export { csvReporter, taskCsvPath } from '../reporters/csv.js';
export { jsonReporter } from '../reporters/json.js';
export { readCsv, parseCsv, formatCsvLine } from '../reporters/csv-text.js';
export { withFileLock } from '../reporters/file-lock.js';
