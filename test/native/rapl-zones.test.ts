import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fsZoneReader, nativeZoneReader, type ZoneReader } from '../../src/sources/powercap.js';
import { selectZones } from '../../src/sources/rapl-source.js';
import { EU, type FakeSystem, type TreeSpec } from '../fixtures/powercap/tree.js';
import { raplBinding, READERS, type ReaderKind, useFakeSystems } from './rapl-helpers.js';

const twoSockets: TreeSpec = {
  rapl: [
    { name: 'package-0', maxPowerUw: [125_000_000, 0], children: [{ name: 'core' }, { name: 'uncore' }, { name: 'dram', euNj: EU.serverDram }] },
    { name: 'package-1', maxPowerUw: [125_000_000], children: [{ name: 'core' }, { name: 'dram', euNj: EU.serverDram }] },
    { name: 'psys' },
  ],
  mmio: [{ name: 'package-0' }],
};

const build = useFakeSystems();

function reader(kind: ReaderKind, sys: FakeSystem): ZoneReader {
  return kind === 'native' ? nativeZoneReader(sys.powercapRoot, raplBinding()) : fsZoneReader(sys.powercapRoot);
}

it('the addon is built with the RAPL functions', () => {
  const b = raplBinding();
  expect(typeof b.raplReadZones).toBe('function');
  expect(typeof b.raplReadFiles).toBe('function');
  expect(typeof b.msrRead).toBe('function');
});

describe.each(READERS)('powercap zone walk (%s reader)', (kind) => {
  it('lists each zone once across the control-type folders and the flat symlinks, sorted', () => {
    const sys = build(twoSockets);
    const zones = reader(kind, sys).list();
    expect(zones.map((z) => z.id)).toEqual([
      'intel-rapl:0',
      'intel-rapl:0:0',
      'intel-rapl:0:1',
      'intel-rapl:0:2',
      'intel-rapl:1',
      'intel-rapl:1:0',
      'intel-rapl:1:1',
      'intel-rapl:2',
      'intel-rapl-mmio:0',
    ]);
    const byId = new Map(zones.map((z) => [z.id, z]));
    const p0 = byId.get('intel-rapl:0')!;
    expect(p0.name).toBe('package-0');
    expect(p0.path).toBe(join(sys.powercapRoot, 'intel-rapl', 'intel-rapl:0'));
    expect(p0.realPath).toBe(join(sys.sysfsRoot, 'devices/virtual/powercap/intel-rapl/intel-rapl:0'));
    expect(p0.energyUj).toBe(Number(sys.zone('intel-rapl:0').shownUj));
    expect(p0.maxEnergyRangeUj).toBe(262143328850);
    expect(p0.maxPowerUw).toBe(125_000_000);
    expect(p0.mmio).toBe(false);
    expect(p0.parentId).toBeUndefined();
    expect(byId.get('intel-rapl:0:2')).toMatchObject({ name: 'dram', parentId: 'intel-rapl:0', maxEnergyRangeUj: 65712999613 });
    expect(byId.get('intel-rapl:0:2')!.maxPowerUw).toBeUndefined();
    expect(byId.get('intel-rapl-mmio:0')).toMatchObject({ name: 'package-0', mmio: true });
    expect(zones.every((z) => z.error === undefined)).toBe(true);
  });

  it('finds every zone with only the flat class symlinks, or only the control-type folders', () => {
    const flatOnly = build({ ...twoSockets, typeLinks: false });
    expect(reader(kind, flatOnly).list()).toHaveLength(9);
    const typesOnly = build({ ...twoSockets, flatLinks: false });
    expect(reader(kind, typesOnly).list()).toHaveLength(9);
  });

  it('orders intel-rapl:10 after intel-rapl:2', () => {
    const sys = build({ rapl: Array.from({ length: 11 }, (_, i) => ({ name: `package-${i}` })) });
    expect(reader(kind, sys).list().map((z) => z.name)).toEqual(Array.from({ length: 11 }, (_, i) => `package-${i}`));
  });

  it('returns no zones for a missing root', () => {
    expect(kind === 'native' ? nativeZoneReader('/nonexistent/powercap', raplBinding()).list() : fsZoneReader('/nonexistent/powercap').list()).toEqual([]);
  });

  it('reports an unreadable or unparsable file per zone with its errno code', () => {
    const sys = build({ rapl: [{ name: 'package-0' }, { name: 'package-1' }] });
    rmSync(sys.zone('intel-rapl:0').energyFile);
    writeFileSync(join(sys.zone('intel-rapl:1').dir, 'max_energy_range_uj'), 'garbage\n');
    const zones = reader(kind, sys).list();
    expect(zones[0]).toMatchObject({ id: 'intel-rapl:0', error: 'ENOENT', errorFile: 'energy_uj', maxEnergyRangeUj: 262143328850 });
    expect(zones[0]!.energyUj).toBeUndefined();
    expect(zones[1]).toMatchObject({ id: 'intel-rapl:1', error: 'EINVAL', errorFile: 'max_energy_range_uj' });
  });

  it('reads energy files per sample, with -errno for a missing, unparsable or directory file', () => {
    const sys = build({ rapl: [{ name: 'package-0' }, { name: 'package-1' }] });
    const z0 = sys.zone('intel-rapl:0');
    const bad = join(sys.root, 'bad');
    writeFileSync(bad, '12x\n');
    const dir = join(sys.root, 'dir');
    mkdirSync(dir);
    const signed = join(sys.root, 'signed');
    writeFileSync(signed, '-5\n');
    const r = reader(kind, sys);
    z0.addRaw(1000);
    expect(r.readEnergyUj([z0.energyFile, join(sys.root, 'missing'), bad, dir, signed])).toEqual([Number(z0.shownUj), -2, -22, -21, -22]);
  });
});

it('the native and fs walks agree field for field', () => {
  const sys = build({ ...twoSockets, mmio: [{ name: 'package-0', children: [{ name: 'dram' }] }] });
  rmSync(sys.zone('intel-rapl:1:0').energyFile);
  const a = nativeZoneReader(sys.powercapRoot, raplBinding()).list();
  const b = fsZoneReader(sys.powercapRoot).list();
  expect(a).toEqual(b);
});

describe('domain selection', () => {
  it('sums packages once per socket (MMIO copy kept), excludes core/uncore, and keeps psys out when packages exist', () => {
    const sys = build(twoSockets);
    const zones = fsZoneReader(sys.powercapRoot).list();
    const cpu = selectZones(zones, 'cpu');
    expect(cpu.map((d) => [d.key, d.zone.id])).toEqual([
      ['package-0', 'intel-rapl-mmio:0'],
      ['package-1', 'intel-rapl:1'],
    ]);
    const ram = selectZones(zones, 'ram');
    expect(ram.map((d) => [d.key, d.zone.id])).toEqual([
      ['package-0/dram', 'intel-rapl:0:2'],
      ['package-1/dram', 'intel-rapl:1:1'],
    ]);
  });

  it('uses psys only where no package domain exists', () => {
    const sys = build({ rapl: [{ name: 'psys' }] });
    expect(selectZones(fsZoneReader(sys.powercapRoot).list(), 'cpu').map((d) => d.key)).toEqual(['psys']);
  });

  it('prefers a readable copy over an unreadable MMIO copy', () => {
    const sys = build({ rapl: [{ name: 'package-0' }], mmio: [{ name: 'package-0' }] });
    rmSync(sys.zone('intel-rapl-mmio:0').energyFile);
    expect(selectZones(fsZoneReader(sys.powercapRoot).list(), 'cpu').map((d) => d.zone.id)).toEqual(['intel-rapl:0']);
  });

  it('keeps every die of a multi-die package', () => {
    const sys = build({ rapl: [{ name: 'package-0-die-0' }, { name: 'package-0-die-1' }] });
    expect(selectZones(fsZoneReader(sys.powercapRoot).list(), 'cpu').map((d) => d.key)).toEqual(['package-0-die-0', 'package-0-die-1']);
  });
});
