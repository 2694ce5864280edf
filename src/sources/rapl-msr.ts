import type { RaplBinding } from '../native/rapl-binding.js';
import { defaultFs, type FsLike } from './powercap.js';
import { msrScale, type CounterScale } from './rapl-counter.js';

/**
 * Direct reads of the RAPL energy status MSRs through `<devRoot>/cpu/N/msr`, for hosts where
 * powercap is absent or unreadable. One CPU per socket; 32-bit counters in the unit the unit MSR
 * gives (with the kernel's per-model exceptions).
 */

/** Register addresses (Intel SDM vol. 4 table 2-2x; AMD PPR for family 17h). */
export const MSR = {
  RAPL_POWER_UNIT: 0x606,
  PKG_ENERGY_STATUS: 0x611,
  DRAM_ENERGY_STATUS: 0x619,
  AMD_RAPL_POWER_UNIT: 0xc0010299,
  AMD_CORE_ENERGY_STATUS: 0xc001029a,
  AMD_PKG_ENERGY_STATUS: 0xc001029b,
} as const;

/** Reads one 8-byte MSR: the value, or an errno code string (`EACCES`, `ENOENT`, `EIO`). */
export interface MsrReader {
  readonly kind: 'native' | 'fs';
  read(cpu: number, reg: number): bigint | string;
}

export function nativeMsrReader(devRoot: string, binding: RaplBinding): MsrReader {
  return {
    kind: 'native',
    read(cpu, reg) {
      try {
        return binding.msrRead(devRoot, cpu, reg);
      } catch (e) {
        return (e as NodeJS.ErrnoException).code ?? 'EIO';
      }
    },
  };
}

/** pread of 8 bytes at offset `reg`, as the msr driver expects. */
export function fsMsrReader(devRoot: string, fs: FsLike = defaultFs): MsrReader {
  return {
    kind: 'fs',
    read(cpu, reg) {
      let fd: number;
      try {
        fd = fs.openSync(`${devRoot}/cpu/${cpu}/msr`, 'r');
      } catch (e) {
        return (e as NodeJS.ErrnoException).code ?? 'EIO';
      }
      try {
        const buf = new Uint8Array(8);
        const n = fs.readSync(fd, buf, 0, 8, reg);
        if (n !== 8) return 'EIO';
        return new DataView(buf.buffer).getBigUint64(0, true);
      } catch (e) {
        return (e as NodeJS.ErrnoException).code ?? 'EIO';
      } finally {
        fs.closeSync(fd);
      }
    },
  };
}

export interface CpuIdentity {
  readonly vendor: 'intel' | 'amd' | 'hygon' | 'other';
  readonly family: number;
  readonly model: number;
}

/** Vendor, family and model of the first processor in `<procfsRoot>/cpuinfo`. */
export function readCpuIdentity(procfsRoot: string, fs: FsLike = defaultFs): CpuIdentity | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`${procfsRoot}/cpuinfo`, 'utf8');
  } catch {
    return undefined;
  }
  const field = (key: string) => new RegExp(`^${key}\\s*:\\s*(.*)$`, 'm').exec(text)?.[1]?.trim();
  const vendorId = field('vendor_id');
  if (vendorId === undefined) return undefined;
  const vendor = vendorId === 'GenuineIntel' ? 'intel' : vendorId === 'AuthenticAMD' ? 'amd' : vendorId === 'HygonGenuine' ? 'hygon' : 'other';
  return { vendor, family: Number(field('cpu family') ?? NaN), model: Number(field('model') ?? NaN) };
}

/** The first online CPU of each physical package, from `<sysfsRoot>/devices/system/cpu/cpuN/topology`. */
export function socketLeadCpus(sysfsRoot: string, fs: FsLike = defaultFs): { socket: number; cpu: number }[] {
  const dir = `${sysfsRoot}/devices/system/cpu`;
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const cpus = names
    .map((n) => /^cpu(\d+)$/.exec(n)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
  const leads = new Map<number, number>();
  for (const cpu of cpus) {
    try {
      const socket = Number(fs.readFileSync(`${dir}/cpu${cpu}/topology/physical_package_id`, 'utf8').trim());
      if (Number.isInteger(socket) && socket >= 0 && !leads.has(socket)) leads.set(socket, cpu);
    } catch {
      // Offline CPUs have no topology folder.
    }
  }
  return [...leads].map(([socket, cpu]) => ({ socket, cpu })).sort((a, b) => a.socket - b.socket);
}

/** Intel family 6 models whose DRAM unit is fixed at 15.3 µJ (kernel `rapl_defaults_hsw_server`). */
const INTEL_DRAM_15_3_UJ = new Set([0x3f, 0x4f, 0x55, 0x6a, 0x6c, 0x57, 0x85]);
/** Intel Atom models whose unit is 2^ESU µJ instead of 2^-ESU J (kernel `rapl_check_unit_atom`). */
const INTEL_ATOM_UNIT = new Set([0x37, 0x4c, 0x4a, 0x5a]);

/** One energy status MSR to read per sample. */
export interface MsrDomain {
  readonly key: string;
  readonly kind: 'package' | 'dram';
  readonly cpu: number;
  readonly reg: number;
  readonly scale: CounterScale;
}

export type MsrPlan =
  | { readonly ok: true; readonly domains: MsrDomain[] }
  | { readonly ok: false; readonly code: string; readonly reason: string; readonly fix?: string };

function energyUnitJ(id: CpuIdentity, unitMsr: bigint, kind: 'package' | 'dram'): number {
  const esu = Number((unitMsr >> 8n) & 0x1fn);
  if (id.vendor === 'intel' && id.family === 6) {
    if (kind === 'dram' && INTEL_DRAM_15_3_UJ.has(id.model)) return 15.3e-6;
    if (INTEL_ATOM_UNIT.has(id.model)) return 2 ** esu * 1e-6;
  }
  return 2 ** -esu;
}

/**
 * Which MSRs give `component` on this CPU, checked by reading each once. A counter that reads 0
 * is treated as absent, as the kernel does (`rapl_check_domain`).
 */
export function planMsr(
  component: 'cpu' | 'ram',
  devRoot: string,
  id: CpuIdentity | undefined,
  leads: readonly { socket: number; cpu: number }[],
  reader: MsrReader,
): MsrPlan {
  if (id === undefined) return { ok: false, code: 'NOT_PRESENT', reason: 'CPU vendor unknown (no vendor_id in cpuinfo)' };
  const amd = id.vendor === 'amd' || id.vendor === 'hygon';
  if (!(id.vendor === 'intel' || (amd && id.family >= 0x17))) {
    return { ok: false, code: 'NOT_PRESENT', reason: `no RAPL MSRs on this CPU (${id.vendor}, family ${id.family})` };
  }
  if (component === 'ram' && amd) return { ok: false, code: 'NOT_PRESENT', reason: 'AMD CPUs have no DRAM energy MSR' };
  const unitReg = amd ? MSR.AMD_RAPL_POWER_UNIT : MSR.RAPL_POWER_UNIT;
  const reg = component === 'ram' ? MSR.DRAM_ENERGY_STATUS : amd ? MSR.AMD_PKG_ENERGY_STATUS : MSR.PKG_ENERGY_STATUS;
  const kind = component === 'ram' ? 'dram' : 'package';
  const sockets = leads.length > 0 ? leads : [{ socket: 0, cpu: 0 }];
  const domains: MsrDomain[] = [];
  for (const { socket, cpu } of sockets) {
    const file = `${devRoot}/cpu/${cpu}/msr`;
    const unit = reader.read(cpu, unitReg);
    if (typeof unit === 'string') return msrFailure(unit, file, unitReg);
    const value = reader.read(cpu, reg);
    if (typeof value === 'string') return msrFailure(value, file, reg);
    if ((value & 0xffffffffn) === 0n) {
      return { ok: false, code: 'NOT_PRESENT', reason: `${file} register 0x${reg.toString(16)} reads 0 (no ${kind} domain)` };
    }
    domains.push({
      key: kind === 'dram' ? `package-${socket}/dram` : `package-${socket}`,
      kind,
      cpu,
      reg,
      scale: msrScale(energyUnitJ(id, unit, kind)),
    });
  }
  return { ok: true, domains };
}

function msrFailure(code: string, file: string, reg: number): MsrPlan {
  const what = `${code} reading ${file} at 0x${reg.toString(16)}`;
  if (code === 'ENOENT' || code === 'ENXIO' || code === 'ENODEV') {
    return { ok: false, code: 'NOT_PRESENT', reason: `${what}`, fix: 'Load the msr module: `sudo modprobe msr`.' };
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return {
      ok: false,
      code: 'PERMISSION_DENIED',
      reason: what,
      fix: 'Reading MSRs needs root (CAP_SYS_RAWIO); prefer making powercap readable (see docs/measurement.md).',
    };
  }
  return { ok: false, code: 'READ_ERROR', reason: `${what} (register not implemented on this CPU?)` };
}
