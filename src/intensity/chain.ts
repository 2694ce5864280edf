import type { IntensityHooks, IntensityProvider, IntensityValue, Location, LocationSource, WattprintWarning } from '../types.js';
import { toError } from '../errors.js';
import { emberIntensityProvider } from './ember.js';
import { fixedIntensityProvider } from './fixed.js';
import { cloudRegionFromMetadata, geolocate } from '../lazy/index.js';
import { cloudVendor, GEOLOCATION_URL, METADATA_BASE_URL, type CloudVendor } from './cloud.js';
import { countryName, gridIntensity, offlineIntensityProvider, WORLD_AVERAGE_G_PER_KWH } from './offline.js';
import { timeZoneCountry } from './places.js';

/** The options the chain is built from (a subset of the tracker's resolved options). */
export interface IntensityChainOptions {
  /** One provider or an ordered list; the offline data is always appended as the last link. */
  readonly intensityProvider?: IntensityProvider | readonly IntensityProvider[];
  readonly forceCarbonIntensityGPerKWh?: number;
  readonly countryIsoCode?: string;
  readonly region?: string;
  readonly cloudProvider?: string;
  readonly cloudRegion?: string;
  /** Allow one IP geolocation request when no location is configured. Default false. */
  readonly geolocate?: boolean;
  /** Ask the cloud's link-local metadata service for the region, on cloud VMs only. Default true. */
  readonly cloudMetadata?: boolean;
  /** Offline country averages: CodeCarbon's data (default) or Ember's via `@tgwf/co2`. */
  readonly offlineIntensityData?: 'codecarbon' | 'ember';
  /** Root of sysfs, for the DMI strings that tell a cloud VM. Default `/sys`. */
  readonly sysfsRoot?: string;
}

/** Injection points for tests and odd hosts. */
export interface IntensityChainContext {
  /** Default `http://169.254.169.254` (link-local). */
  readonly metadataBaseUrl?: string;
  /** Default 1000 ms: a VM's metadata service answers in milliseconds. */
  readonly metadataTimeoutMs?: number;
  readonly geolocationUrl?: string;
  /** Default 3000 ms. */
  readonly geolocationTimeoutMs?: number;
  /** IANA time zone. Default: the process's (`Intl`, which follows `TZ`). */
  readonly timeZone?: string;
}

/** A provider chain: asks each link in order, the first value wins; the last link always answers. */
export interface IntensityChain extends IntensityProvider {
  readonly links: readonly IntensityProvider[];
  /** Always answers (the offline data is the last link). The chain's own location is used; the argument is ignored. */
  getIntensity(location?: Location, at?: Date): IntensityValue;
  /** The location in use and where it came from. */
  location(): { readonly location: Location; readonly source: LocationSource };
  /** Resolves when background location detection (metadata, geolocation) is over. */
  settled(): Promise<void>;
  start(hooks?: IntensityHooks): void;
  stop(): void;
}

type Warned = IntensityValue & { warning?: string };

const hasLocation = (o: IntensityChainOptions) => Boolean(o.countryIsoCode || o.region || o.cloudProvider || o.cloudRegion);

/** The location the options give, absent fields left out. */
export function locationOf(o: Pick<IntensityChainOptions, 'countryIsoCode' | 'region' | 'cloudProvider' | 'cloudRegion'>): Location {
  return {
    ...(o.countryIsoCode ? { countryIsoCode: o.countryIsoCode } : {}),
    ...(o.region ? { region: o.region } : {}),
    ...(o.cloudProvider ? { cloudProvider: o.cloudProvider } : {}),
    ...(o.cloudRegion ? { cloudRegion: o.cloudRegion } : {}),
  };
}

/** Adds the country of a known cloud region, so live providers keyed by country can answer there. */
function withCloudCountry(loc: Location): Location {
  if (loc.countryIsoCode || !loc.cloudProvider || !loc.cloudRegion) return loc;
  const v = gridIntensity({ cloudProvider: loc.cloudProvider, cloudRegion: loc.cloudRegion });
  return v.warning || !v.countryIsoCode ? loc : { ...loc, countryIsoCode: v.countryIsoCode };
}

/** The links the options ask for: a forced constant, else the user's providers; then the offline data. */
function linksFor(o: IntensityChainOptions): IntensityProvider[] {
  const offline = [...(o.offlineIntensityData === 'ember' ? [emberIntensityProvider()] : []), offlineIntensityProvider()];
  if (o.forceCarbonIntensityGPerKWh !== undefined)
    return [fixedIntensityProvider(o.forceCarbonIntensityGPerKWh, { source: 'forceCarbonIntensityGPerKWh (user-provided)' }), ...offline];
  const user = o.intensityProvider === undefined ? [] : Array.isArray(o.intensityProvider) ? [...o.intensityProvider] : [o.intensityProvider as IntensityProvider];
  return [...user, ...offline];
}

/**
 * Builds the intensity provider the tracker uses: the options' providers in order, then the offline
 * data (last link, always answers). The location is the options', else found without blocking:
 * synchronously the system time zone's country (tz database), then in the background (after
 * `start`) the cloud region from instance metadata on a cloud VM (detected from DMI strings first),
 * then, only with `geolocate: true`, IP geolocation. Every answer names its provider, zone,
 * freshness and location source.
 */
export function createIntensityChain(options: IntensityChainOptions, context: IntensityChainContext = {}): IntensityChain {
  const links = linksFor(options);
  // Read only when no location is set: the first Intl call loads ICU's zone data (~25 ms).
  let timeZone: string | undefined;
  const zone = () => (timeZone ??= context.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone);
  let location: Location = withCloudCountry(locationOf(options));
  let source: LocationSource = 'options';
  if (!hasLocation(options)) {
    const country = timeZoneCountry(zone());
    location = country ? { countryIsoCode: country } : {};
    source = country ? 'timezone' : 'none';
  }
  let hooks: IntensityHooks | undefined;
  const warned = new Set<string>();
  let decorated = new WeakMap<IntensityValue, IntensityValue>();
  // Made by the first detection: AbortController is a lazily loaded Node global (~0.3 ms at start()).
  let abortsValue: AbortController | undefined;
  const aborts = {
    get signal() {
      return (abortsValue ??= new AbortController()).signal;
    },
  };
  let detection: Promise<void> = Promise.resolve();
  /** The cloud told by DMI strings, read at start (cheap file reads, no network). */
  let vendor: CloudVendor | undefined;

  const warn = (w: WattprintWarning) => {
    if (warned.has(w.code)) return;
    warned.add(w.code);
    hooks?.warn(w);
  };

  const move = (next: Location, from: LocationSource) => {
    hooks?.beforeChange();
    location = next;
    source = from;
    decorated = new WeakMap();
  };

  const decorate = (v: Warned, link: IntensityProvider): IntensityValue => {
    let out = decorated.get(v);
    if (out) return out;
    const iso = v.countryIsoCode ?? location.countryIsoCode;
    const name = v.countryName ?? (iso ? countryName(iso) : undefined);
    const noPlace =
      v.isFallback && source === 'none'
        ? `no location known yet (no countryIsoCode or cloud region set, ${vendor ? `asking the ${vendor} metadata service` : 'no cloud VM found'}, and time zone '${zone()}' has no country` +
          `${options.geolocate ? '' : '; geolocate: true allows one IP lookup'}); using the world average ${WORLD_AVERAGE_G_PER_KWH} g/kWh. ` +
          `Set countryIsoCode (ISO 3166-1 alpha-3, e.g. 'FRA')`
        : undefined;
    out = {
      ...v,
      provider: v.provider ?? link.id,
      locationSource: source,
      ...(iso ? { countryIsoCode: iso } : {}),
      ...(name ? { countryName: name } : {}),
      ...(location.cloudProvider ? { cloudProvider: location.cloudProvider } : {}),
      ...(location.cloudRegion ? { cloudRegion: location.cloudRegion } : {}),
      ...(noPlace ? { warning: noPlace } : {}),
    } as Warned;
    decorated.set(v, out);
    return out;
  };

  async function detect(): Promise<void> {
    if (vendor) {
      try {
        const region = await cloudRegionFromMetadata(vendor, context.metadataBaseUrl ?? METADATA_BASE_URL, context.metadataTimeoutMs ?? 1000, aborts.signal);
        const found = withCloudCountry({ cloudProvider: vendor, cloudRegion: region });
        if (!found.countryIsoCode)
          warn({ code: 'LOCATION_CLOUD_REGION', option: 'cloudRegion', message: `${vendor} region '${region}' (instance metadata) is not in the region tables; using the time zone's country if any` });
        return move(found.countryIsoCode || !location.countryIsoCode ? found : { ...found, countryIsoCode: location.countryIsoCode }, 'cloud-metadata');
      } catch (e) {
        if (aborts.signal.aborted) return;
        warn({
          code: 'LOCATION_CLOUD_METADATA',
          option: 'cloudRegion',
          message: `this looks like a ${vendor} VM but its metadata service gave no region (${(e as Error).message}); set cloudProvider and cloudRegion`,
        });
      }
    }
    if (!options.geolocate) return;
    try {
      const found = await geolocate(context.geolocationUrl ?? GEOLOCATION_URL, context.geolocationTimeoutMs ?? 3000, aborts.signal);
      move(found, 'geolocation');
    } catch (e) {
      if (!aborts.signal.aborted)
        warn({ code: 'LOCATION_GEOLOCATION', option: 'geolocate', message: `IP geolocation failed (${(e as Error).message}); set countryIsoCode` });
    }
  }

  return {
    id: 'chain',
    links,
    location: () => ({ location, source }),
    settled: () => detection,
    start(h?: IntensityHooks) {
      hooks = h;
      const linkHooks: IntensityHooks = { beforeChange: () => hooks?.beforeChange(), warn: (w) => hooks?.warn(w) };
      for (const link of links) {
        try {
          link.start?.(linkHooks);
        } catch (e) {
          warn({ code: 'INTENSITY_PROVIDER_START', option: 'intensityProvider', message: `intensity provider '${link.id}' failed to start: ${(e as Error).message}; it may have no value, the next provider answers then` });
        }
      }
      if (source === 'timezone')
        warn({
          code: 'LOCATION_FROM_TIMEZONE',
          option: 'countryIsoCode',
          message: `countryIsoCode not set: using ${location.countryIsoCode} from the system time zone '${zone()}'; set countryIsoCode to be sure`,
        });
      if (source === 'options') return;
      vendor = options.cloudMetadata === false ? undefined : cloudVendor(options.sysfsRoot ?? '/sys');
      detection = detect().catch(() => undefined);
    },
    stop() {
      abortsValue?.abort();
      for (const link of links) {
        try {
          link.stop?.();
        } catch {
          // A provider that fails to stop its refresh cannot lose data.
        }
      }
    },
    getIntensity(_ignored?: Location, at: Date = new Date()): IntensityValue {
      for (const link of links) {
        let v: IntensityValue | undefined;
        try {
          v = link.getIntensity(location, at);
        } catch (e) {
          warn({ code: 'INTENSITY_PROVIDER_THREW', option: 'intensityProvider', message: `intensity provider '${link.id}' threw: ${toError(e).message.replace(/\.$/, '')}; the next provider answers` });
          continue;
        }
        if (v === undefined || v === null) continue;
        if (!(typeof v.gPerKWh === 'number' && Number.isFinite(v.gPerKWh) && v.gPerKWh >= 0)) {
          warn({ code: 'INTENSITY_PROVIDER_INVALID', option: 'intensityProvider', message: `intensity provider '${link.id}' answered gPerKWh ${String(v.gPerKWh)}; the next provider answers` });
          continue;
        }
        return decorate(v, link);
      }
      // Unreachable with the offline data last; kept so a broken custom chain still answers.
      return { gPerKWh: WORLD_AVERAGE_G_PER_KWH, source: 'world average (fallback)', isFallback: true, provider: 'offline', freshness: 'offline' };
    },
  };
}
