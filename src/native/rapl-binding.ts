/**
 * The RAPL half of the native addon (native/src/rapl.cc), as TypeScript sees it. The C++ side
 * only reads files; every rule (dedupe, wraps, units, attribution) lives in src/sources/.
 */

/** One powercap zone folder as found by the walk (`intel-rapl:0`, `intel-rapl:0:1`, `intel-rapl-mmio:0`). */
export interface RawPowercapZone {
  /** The zone folder as reached by the walk, e.g. `/sys/class/powercap/intel-rapl/intel-rapl:0`. */
  readonly path: string;
  /** The folder's base name, e.g. `intel-rapl:0:1` or `intel-rapl-mmio:0`. */
  readonly id: string;
  /** realpath of the folder; the walk reports each realpath once. */
  readonly realPath: string;
  /** Content of `name`: `package-0`, `dram`, `core`, `uncore`, `psys`. */
  readonly name?: string;
  /** Content of `energy_uj` at the walk, microjoules. */
  readonly energyUj?: number;
  /** Content of `max_energy_range_uj`: the largest value `energy_uj` shows before it wraps. */
  readonly maxEnergyRangeUj?: number;
  /** Largest `constraint_N_max_power_uw` above zero, microwatts, where the kernel exposes one. */
  readonly maxPowerUw?: number;
  /** errno code of the first file that failed (`EACCES`, `ENOENT`, `ENODATA`, `EINVAL` when unparsable). */
  readonly error?: string;
  /** Which file failed: `name`, `energy_uj` or `max_energy_range_uj`. */
  readonly errorFile?: string;
}

/**
 * Functions registered by native/src/rapl.cc on the addon's exports. Like the NVML half, each
 * throws only Errors with a string `code` (`ERR_INVALID_ARG_TYPE` for bad arguments, an errno name
 * for a failed system call); `raplReadFiles` reports per-file failures in its result instead, so
 * one unreadable counter does not hide the others.
 */
export interface RaplBinding {
  /**
   * Walks `<powercapRoot>/intel-rapl`, `<powercapRoot>/intel-rapl-mmio` and the flat class entries
   * of `<powercapRoot>`, with subzones, each realpath once. Never throws for a missing root (empty array).
   */
  raplReadZones(powercapRoot: string): RawPowercapZone[];
  /**
   * The per-sample hot path: reads each file as an unsigned decimal. Each result is the value
   * (microjoules for energy_uj) or `-errno` (`-13` EACCES, `-2` ENOENT, `-22` unparsable).
   */
  raplReadFiles(paths: readonly string[]): number[];
  /**
   * Reads the 8-byte model-specific register `reg` of `cpu` through `<devRoot>/cpu/<cpu>/msr`
   * (pread at offset `reg`). Returns the value; a failed read throws as Node's fs does, an Error
   * with `code` (`EACCES`, `ENOENT`, `EIO`...), `errno`, `syscall` and `path`.
   */
  msrRead(devRoot: string, cpu: number, reg: number): bigint;
}
