import * as nodeFs from 'node:fs';
import { constants as osConstants } from 'node:os';
import type { RaplBinding, RawPowercapZone } from '../native/rapl-binding.js';

/**
 * The powercap zone walk, twice: through the native addon and through `node:fs`. Both give the
 * same zones in the same order, so the RAPL source logic above them is shared.
 */

/** A zone found under the powercap root, with what its folder name says about it. */
export interface PowercapZone extends RawPowercapZone {
  /** Zone of the `intel-rapl-mmio` control type (a second interface to the same counters). */
  readonly mmio: boolean;
  /** Folder name of the parent zone (`intel-rapl:0` for `intel-rapl:0:2`); absent for top-level zones. */
  readonly parentId?: string;
  /** `<path>/energy_uj`. */
  readonly energyFile: string;
}

/** Reads powercap zones; implemented over the addon and over `node:fs`. Never throws. */
export interface ZoneReader {
  readonly kind: 'native' | 'fs';
  readonly powercapRoot: string;
  /** Every zone under the root, each realpath once, sorted by control type then zone numbers. */
  list(): PowercapZone[];
  /** The per-sample read: each file's value in µJ, or `-errno` (`-13` EACCES, `-2` ENOENT, `-22` unparsable). */
  readEnergyUj(files: readonly string[]): number[];
}

/** The `node:fs` functions the fs readers use; injectable for tests. */
export interface FsLike {
  readFileSync(path: string, encoding: 'utf8'): string;
  readdirSync(path: string): string[];
  realpathSync(path: string): string;
  statSync(path: string): { isDirectory(): boolean };
  openSync(path: string, flags: 'r'): number;
  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number;
  closeSync(fd: number): void;
}

export const defaultFs: FsLike = {
  readFileSync: (p, e) => nodeFs.readFileSync(p, e),
  readdirSync: (p) => nodeFs.readdirSync(p),
  realpathSync: (p) => nodeFs.realpathSync(p),
  statSync: (p) => nodeFs.statSync(p),
  openSync: (p, f) => nodeFs.openSync(p, f),
  readSync: (fd, b, o, l, pos) => nodeFs.readSync(fd, b, o, l, pos),
  closeSync: (fd) => nodeFs.closeSync(fd),
};

const ZONE_NAME = /^intel-rapl(-mmio)?:\d+(:\d+)*$/;
const EINVAL = osConstants.errno.EINVAL;
const EIO = osConstants.errno.EIO;

/** `-errno` for an fs error (`-EIO` when the code is unknown). */
export function negativeErrno(error: unknown): number {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const n = code ? (osConstants.errno as Record<string, number>)[code] : undefined;
  return -(n ?? EIO);
}

/** The errno name of `-errno` values from {@link ZoneReader.readEnergyUj} (`EACCES`). */
export function errnoName(negative: number): string {
  const n = -negative;
  for (const [name, value] of Object.entries(osConstants.errno)) if (value === n) return name;
  return `errno ${n}`;
}

function parseUnsigned(text: string): number | undefined {
  const t = text.trim();
  return /^\d+$/.test(t) ? Number(t) : undefined;
}

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException | undefined)?.code ?? 'EIO';
}

function finish(raw: readonly RawPowercapZone[]): PowercapZone[] {
  const zones = raw.map((z): PowercapZone => {
    const parts = z.id.split(':');
    return {
      ...z,
      mmio: z.id.startsWith('intel-rapl-mmio:'),
      ...(parts.length > 2 ? { parentId: parts.slice(0, -1).join(':') } : {}),
      energyFile: `${z.path}/energy_uj`,
    };
  });
  return zones.sort((a, b) => compareZoneIds(a.id, b.id));
}

/** Orders `intel-rapl:2` before `intel-rapl:10`, and `intel-rapl` before `intel-rapl-mmio`. */
export function compareZoneIds(a: string, b: string): number {
  const [ta, ...na] = a.split(':');
  const [tb, ...nb] = b.split(':');
  if (ta !== tb) return ta! < tb! ? -1 : 1;
  for (let i = 0; i < Math.max(na.length, nb.length); i++) {
    if (na[i] === undefined) return -1;
    if (nb[i] === undefined) return 1;
    const d = Number(na[i]) - Number(nb[i]);
    if (d !== 0) return d;
  }
  return 0;
}

/** The addon's reader: one native call lists zones, one reads all energy files of a sample. */
export function nativeZoneReader(powercapRoot: string, binding: RaplBinding): ZoneReader {
  return {
    kind: 'native',
    powercapRoot,
    list: () => {
      try {
        return finish(binding.raplReadZones(powercapRoot));
      } catch {
        return [];
      }
    },
    readEnergyUj: (files) => binding.raplReadFiles(files),
  };
}

/** The fallback reader over `node:fs`, walking the tree exactly as native/src/rapl.cc does. */
export function fsZoneReader(powercapRoot: string, fs: FsLike = defaultFs): ZoneReader {
  const readUnsigned = (file: string): number => {
    try {
      return parseUnsigned(fs.readFileSync(file, 'utf8')) ?? -EINVAL;
    } catch (e) {
      return negativeErrno(e);
    }
  };

  const list = (): PowercapZone[] => {
    const out: RawPowercapZone[] = [];
    const seen = new Set<string>();
    const isDir = (p: string) => {
      try {
        return fs.statSync(p).isDirectory();
      } catch {
        return false;
      }
    };
    const scan = (dir: string) => {
      let names: string[];
      try {
        names = fs.readdirSync(dir).filter((n) => ZONE_NAME.test(n));
      } catch {
        return;
      }
      for (const n of names) add(`${dir}/${n}`, n);
    };
    const add = (dir: string, id: string) => {
      if (!isDir(dir)) return;
      let realPath = dir;
      try {
        realPath = fs.realpathSync(dir);
      } catch {
        // Keep the path as found; dedupe then works on it.
      }
      if (seen.has(realPath)) return;
      seen.add(realPath);
      const zone: { -readonly [K in keyof RawPowercapZone]: RawPowercapZone[K] } = { path: dir, id, realPath };
      const fail = (file: string, code: string) => {
        if (zone.error === undefined) {
          zone.error = code;
          zone.errorFile = file;
        }
      };
      try {
        zone.name = fs.readFileSync(`${dir}/name`, 'utf8').trim();
      } catch (e) {
        fail('name', errorCode(e));
      }
      const energy = readUnsigned(`${dir}/energy_uj`);
      if (energy >= 0) zone.energyUj = energy;
      else fail('energy_uj', errnoName(energy));
      const range = readUnsigned(`${dir}/max_energy_range_uj`);
      if (range >= 0) zone.maxEnergyRangeUj = range;
      else fail('max_energy_range_uj', errnoName(range));
      let maxPowerUw = 0;
      for (let i = 0; i < 16; i++) {
        const p = readUnsigned(`${dir}/constraint_${i}_max_power_uw`);
        if (p === -osConstants.errno.ENOENT) {
          try {
            fs.statSync(`${dir}/constraint_${i}_name`);
            continue;
          } catch {
            break;
          }
        }
        if (p > maxPowerUw) maxPowerUw = p;
      }
      if (maxPowerUw > 0) zone.maxPowerUw = maxPowerUw;
      out.push(zone);
      scan(dir);
    };
    scan(`${powercapRoot}/intel-rapl`);
    scan(`${powercapRoot}/intel-rapl-mmio`);
    scan(powercapRoot);
    return finish(out);
  };

  return { kind: 'fs', powercapRoot, list, readEnergyUj: (files) => files.map(readUnsigned) };
}
