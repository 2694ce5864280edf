import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export type CloudVendor = 'aws' | 'gcp' | 'azure';

/** Azure's fixed DMI chassis asset tag, which tells an Azure VM from a local Hyper-V one. */
const AZURE_ASSET_TAG = '7783-7084-3265-9085-8269-3286-77';

function dmi(sysfsRoot: string, name: string): string {
  try {
    return readFileSync(join(sysfsRoot, 'class/dmi/id', name), 'utf8').trim();
  } catch {
    return '';
  }
}

/**
 * The cloud whose VM this is, from the DMI strings the hypervisor sets (no network): AWS
 * (`sys_vendor` or `bios_vendor` "Amazon EC2", or a Xen BIOS version with "amazon"), GCP
 * (`sys_vendor` "Google" / `product_name` "Google Compute Engine"), Azure ("Microsoft Corporation"
 * with Azure's chassis asset tag). `undefined` elsewhere, so no metadata request is ever sent.
 */
export function cloudVendor(sysfsRoot: string): CloudVendor | undefined {
  const sys = dmi(sysfsRoot, 'sys_vendor');
  const bios = dmi(sysfsRoot, 'bios_vendor');
  const product = dmi(sysfsRoot, 'product_name');
  if (/amazon ec2/i.test(sys) || /amazon ec2/i.test(bios) || /amazon/i.test(dmi(sysfsRoot, 'bios_version'))) return 'aws';
  if (/^google/i.test(sys) || /google compute engine/i.test(product)) return 'gcp';
  if (/microsoft corporation/i.test(sys) && dmi(sysfsRoot, 'chassis_asset_tag') === AZURE_ASSET_TAG) return 'azure';
  return undefined;
}

/** Where instance metadata is asked: link-local only. Tests inject a local server. */
export const METADATA_BASE_URL = 'http://169.254.169.254';

/** IP geolocation service used only with `geolocate: true` (the one CodeCarbon uses). */
export const GEOLOCATION_URL = 'https://get.geojs.io/v1/ip/geo.json';
