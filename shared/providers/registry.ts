/** Every provider the system serves, by route name. Adding a provider: its folder, and one line here. */
export const PROVIDER_NAMES = ['openpoly', 'apara', 'coinme', 'gnosis-pay'] as const;
