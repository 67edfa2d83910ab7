// Headless Chromium for browser tests: Debian's /usr/bin/chromium (installed by `scripts/setup.sh --dev`)
// driven by playwright-core, with a fresh profile folder removed on close and no network beyond what the page
// asks for. `chromiumOrSkip()` gives the reason to skip where Chromium is missing.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Why browser tests cannot run here, or undefined when they can. */
export function chromiumMissing(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `no Chromium at ${CHROMIUM} (install it with 'bash scripts/setup.sh --dev', or set CHROMIUM_PATH)`;
}

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'ccp-chromium-'));
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ];
  try {
    // TMPDIR inside the profile: the browser's own temporary files (e.g. /tmp/mat-debug-<pid>.log) go with it.
    const env = Object.fromEntries(Object.entries({ ...process.env, TMPDIR: profile }).filter((e): e is [string, string] => e[1] !== undefined));
    const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args, env, timeout: 60_000 });
    return {
      context,
      close: async () => {
        try {
          await context.close();
        } finally {
          rmSync(profile, { recursive: true, force: true });
        }
      },
    };
  } catch (e) {
    rmSync(profile, { recursive: true, force: true });
    throw e;
  }
}
