import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Boundary, EmissionsData } from '../../src/types.js';

export const BOUNDARY: Boundary = {
  cpu: { component: 'cpu', source: 'cpu-tdp', kind: 'estimated', devices: ['Intel(R) Xeon(R) Gold 6248'], scope: 'machine', pueApplied: true },
  gpu: { component: 'gpu', source: 'nvml', kind: 'measured', devices: ['NVIDIA H200', 'NVIDIA H200'], scope: 'machine', pueApplied: true, note: 'whole device' },
  ram: { component: 'ram', source: 'ram-dimm', kind: 'estimated', devices: [], scope: 'machine', pueApplied: true },
  pue: 1.2,
  emissionsScope: 'operational',
};

/**
 * A result with every field set to a distinct value, so a column mapped from the wrong field
 * shows up. Energies are consistent (sum), powers are energy / duration.
 */
export function makeData(over: Partial<EmissionsData> = {}): EmissionsData {
  const durationS = 123.456789;
  const cpuEnergyKWh = 0.0012345678901234;
  const gpuEnergyKWh = 0.0234567890123;
  const ramEnergyKWh = 0.000345678;
  const energyConsumedKWh = cpuEnergyKWh + gpuEnergyKWh + ramEnergyKWh;
  const emissionsKg = energyConsumedKWh * 0.0561;
  return {
    timestamp: '2026-08-09T10:11:12',
    projectName: 'demo',
    runId: '0f8e2d36-7c1a-4b7e-9e4b-2d1c3a4b5c6d',
    experimentId: '5b0fa12a-3dd7-45bb-9766-cc326314d9f1',
    experimentName: 'base',
    durationS,
    emissionsKg,
    emissionsRateKgPerS: emissionsKg / durationS,
    cpuPowerW: (cpuEnergyKWh * 3.6e6) / durationS,
    gpuPowerW: (gpuEnergyKWh * 3.6e6) / durationS,
    ramPowerW: (ramEnergyKWh * 3.6e6) / durationS,
    cpuEnergyKWh,
    gpuEnergyKWh,
    ramEnergyKWh,
    energyConsumedKWh,
    waterConsumedL: energyConsumedKWh * 1.8,
    countryName: 'France',
    countryIsoCode: 'FRA',
    region: 'ile-de-france',
    cloudProvider: 'gcp',
    cloudRegion: 'europe-west9',
    os: 'Linux-6.1.0-x86_64-with-glibc2.36',
    nodeVersion: '20.20.2',
    trackerVersion: 'wattprint 0.1.0',
    cpuCount: 16,
    cpuModel: 'Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz',
    gpuCount: 2,
    gpuModel: '2 x NVIDIA H200',
    longitude: -1.5536,
    latitude: 47.2184,
    ramTotalSizeGB: 125.7,
    trackingMode: 'machine',
    cpuUtilizationPercent: 37.5,
    gpuUtilizationPercent: 88.25,
    ramUtilizationPercent: 41.125,
    ramUsedGB: 51.6942,
    onCloud: 'Y',
    pue: 1.2,
    wue: 1.8,
    intensityGPerKWh: 56.1,
    intensitySource: 'codecarbon:global_energy_mix (Our World in Data)',
    boundary: BOUNDARY,
    ...over,
  };
}

/** The expected CSV cell for each column of {@link makeData}'s default result. */
export function expectedCells(d: EmissionsData): Record<string, string> {
  return {
    timestamp: d.timestamp,
    project_name: d.projectName,
    run_id: d.runId,
    experiment_id: d.experimentId,
    duration: String(d.durationS),
    emissions: String(d.emissionsKg),
    emissions_rate: String(d.emissionsRateKgPerS),
    cpu_power: String(d.cpuPowerW),
    gpu_power: String(d.gpuPowerW),
    ram_power: String(d.ramPowerW),
    cpu_energy: String(d.cpuEnergyKWh),
    gpu_energy: String(d.gpuEnergyKWh),
    ram_energy: String(d.ramEnergyKWh),
    energy_consumed: String(d.energyConsumedKWh),
    water_consumed: String(d.waterConsumedL),
    country_name: d.countryName,
    country_iso_code: d.countryIsoCode,
    region: d.region,
    cloud_provider: d.cloudProvider,
    cloud_region: d.cloudRegion,
    os: d.os,
    python_version: d.nodeVersion,
    codecarbon_version: d.trackerVersion,
    cpu_count: String(d.cpuCount),
    cpu_model: d.cpuModel,
    gpu_count: String(d.gpuCount),
    gpu_model: d.gpuModel,
    longitude: d.longitude === undefined ? '' : String(d.longitude),
    latitude: d.latitude === undefined ? '' : String(d.latitude),
    ram_total_size: String(d.ramTotalSizeGB),
    tracking_mode: d.trackingMode,
    cpu_utilization_percent: String(d.cpuUtilizationPercent),
    gpu_utilization_percent: String(d.gpuUtilizationPercent),
    ram_utilization_percent: String(d.ramUtilizationPercent),
    ram_used_gb: String(d.ramUsedGB),
    on_cloud: d.onCloud,
    pue: String(d.pue),
    wue: String(d.wue),
  };
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'wattprint-reporters-'));
}
