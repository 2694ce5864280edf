// The modules of dist/index.cjs that the package's other files (dist/testing.cjs, the exporters,
// the CLI, the dist/lazy-*.cjs groups) import. The build (test/build/tsup.config.mjs) points their
// imports of these modules here, so each class and module state exists once in a process, and fails
// on a module of index.cjs missing from this list.
import * as builtins from './builtins.js';
import * as clockGuard from './clock-guard.js';
import * as detect from './detect.js';
import * as editDistance from './edit-distance.js';
import * as errors from './errors.js';
import * as estimateCpuTdp from './estimate/cpu-tdp.js';
import * as exitHooks from './exit-hooks.js';
import * as inferenceAccounts from './inference/accounts.js';
import * as inferenceAttribution from './inference/attribution.js';
import * as inferenceRemote from './inference/remote.js';
import * as intensityChain from './intensity/chain.js';
import * as intensityCloud from './intensity/cloud.js';
import * as intensityEmber from './intensity/ember.js';
import * as intensityFixed from './intensity/fixed.js';
import * as intensityOffline from './intensity/offline.js';
import * as intensityPlaces from './intensity/places.js';
import * as optionTable from './option-table.js';
import * as reportersColumns from './reporters/columns.js';
import * as requireHere from './require-here.js';
import * as sourcesConstant from './sources/constant.js';
import * as sourcesNvmlApi from './sources/nvml-api.js';
import * as sourcesRaplApi from './sources/rapl-api.js';
import * as systemProcView from './system/proc-view.js';
import * as tracker from './tracker.js';
import * as types from './types.js';
import * as units from './units.js';
import * as version from './version.js';

/** Not public API: the package's own entries read it (`__wattprintCore` of dist/index.cjs). */
export const coreModules: Readonly<Record<string, object>> = {
  'src/builtins.ts': builtins,
  'src/clock-guard.ts': clockGuard,
  'src/detect.ts': detect,
  'src/edit-distance.ts': editDistance,
  'src/errors.ts': errors,
  'src/estimate/cpu-tdp.ts': estimateCpuTdp,
  'src/exit-hooks.ts': exitHooks,
  'src/inference/accounts.ts': inferenceAccounts,
  'src/inference/attribution.ts': inferenceAttribution,
  'src/inference/remote.ts': inferenceRemote,
  'src/intensity/chain.ts': intensityChain,
  'src/intensity/cloud.ts': intensityCloud,
  'src/intensity/ember.ts': intensityEmber,
  'src/intensity/fixed.ts': intensityFixed,
  'src/intensity/offline.ts': intensityOffline,
  'src/intensity/places.ts': intensityPlaces,
  'src/option-table.ts': optionTable,
  'src/reporters/columns.ts': reportersColumns,
  'src/require-here.ts': requireHere,
  'src/sources/constant.ts': sourcesConstant,
  'src/sources/nvml-api.ts': sourcesNvmlApi,
  'src/sources/rapl-api.ts': sourcesRaplApi,
  'src/system/proc-view.ts': systemProcView,
  'src/tracker.ts': tracker,
  'src/types.ts': types,
  'src/units.ts': units,
  'src/version.ts': version,
};
