/** Unit conversions used across wattprint (docs/methodology.md, "Units"). */

/** Joules per kWh, exactly (CodeCarbon's 2.77778e-7 factor is 0.8 ppm off). */
export const J_PER_KWH = 3.6e6;

/** Bytes per GiB: memory sizes are reported in GiB, as CodeCarbon's "GB" columns are. */
export const BYTES_PER_GIB = 1024 ** 3;
