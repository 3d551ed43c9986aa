// What every page shares: the deployment's config (from the server) and the browser's settings.
import { getConfig, type UIConfig } from './api';
import { load, type Settings } from './settings';

let configPromise: Promise<UIConfig> | undefined;

export function config(): Promise<UIConfig> {
  configPromise ??= getConfig().catch((e) => {
    configPromise = undefined; // ask again next time
    throw e;
  });
  return configPromise;
}

let current: Settings = load();
export const settings = (): Settings => current;
export const reloadSettings = (): void => {
  current = load();
};
