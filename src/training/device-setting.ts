// What the `device` config key and the commands' --device accept: 'cpu', 'cuda', 'cuda:N' or 'auto'. Its own
// module, with no native code, so the config schema and the CLI's option parsing load no libtorch
// (device.ts resolves a setting against the libtorch loaded).

export type DeviceSetting = 'cpu' | 'cuda' | 'auto' | `cuda:${number}`;

const DEVICE_SETTING_PATTERN = /^(cpu|cuda|auto|cuda:\d+)$/;
export const DEVICE_SETTING_EXPECTED = "expected 'cpu', 'cuda', 'cuda:N' or 'auto'";

export function isDeviceSetting(v: string): v is DeviceSetting {
  return DEVICE_SETTING_PATTERN.test(v);
}
